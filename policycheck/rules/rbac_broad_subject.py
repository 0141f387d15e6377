"""
## What it does
Checks RoleBindings and ClusterRoleBindings for subjects that stand for
everyone, or for any pod of a namespace:

- the user `system:anonymous` and the group `system:unauthenticated`
  (anyone who reaches the API server);
- the group `system:authenticated` (anyone with any credential: with some
  cloud providers, any account of the provider);
- a namespace's `default` ServiceAccount (kind ServiceAccount, or the user
  `system:serviceaccount:<namespace>:default`), which every pod without a
  `serviceAccountName` runs as; and the groups `system:serviceaccounts` and
  `system:serviceaccounts:<namespace>`, which contain it.

A ServiceAccount subject of a RoleBinding without a namespace is in the
binding's namespace. One finding per subject, at the subject.

A binding to a ClusterRole of option `allowed-roles` passes, whoever its
subjects are. By default these are the built-in roles that Kubernetes binds
to everyone itself, or whose binding to everyone its docs recommend:
`system:public-info-viewer` (version and health endpoints; bound to
`system:authenticated` and `system:unauthenticated`), `system:discovery`
and `system:basic-user` (API discovery, and what one may do oneself; bound
to `system:authenticated`), and `system:service-account-issuer-discovery`
(the OIDC discovery documents of ServiceAccount tokens, which the docs
suggest binding to `system:unauthenticated` for external token validators).
A role you add there should grant nothing more than these; a cluster that
does not publish its issuer discovery to anonymous callers narrows the list:

```yaml
rules:
  rbac-broad-subject:
    options:
      allowed-roles: [system:public-info-viewer, system:discovery, system:basic-user]
```

## Why is this bad?
The rights go to principals nobody chose: every pod that was not given its
own ServiceAccount, or every caller of the API.

## Example
```yaml
kind: RoleBinding
subjects:
  - kind: ServiceAccount
    name: default
```

## Use instead
A ServiceAccount of its own for the workload that needs the rights
(`serviceAccountName: api`), bound by name.
"""

from policycheck.rbac import bindings, role_ref, subjects
from policycheck.rules.base import Problem

ID = "rbac-broad-subject"
FAMILY = "rbac"
LEVEL = "error"
SUMMARY = "bindings grant nothing to anonymous, all authenticated users, or default ServiceAccounts"

EVERYONE = {
    ("User", "system:anonymous"): "every anonymous request",
    ("Group", "system:unauthenticated"): "every unauthenticated request",
    ("Group", "system:authenticated"): "every authenticated user",
    ("Group", "system:serviceaccounts"): "every ServiceAccount of the cluster",
}
OPTIONS = {"allowed-roles": ["system:service-account-issuer-discovery", "system:public-info-viewer",
                             "system:discovery", "system:basic-user"]}
SA_USER = "system:serviceaccount:"
SA_GROUP = "system:serviceaccounts:"


def why(kind: str, name: str) -> str | None:
    if (kind, name) in EVERYONE:
        return EVERYONE[(kind, name)]
    if kind == "ServiceAccount" and name == "default":
        return "every pod of the namespace without a serviceAccountName"
    if kind == "User" and name.startswith(SA_USER) and name.endswith(":default") and name.count(":") == 3:
        return "every pod of the namespace without a serviceAccountName"
    if kind == "Group" and name.startswith(SA_GROUP) and len(name) > len(SA_GROUP):
        return "every ServiceAccount of the namespace"
    return None


def check(ctx, options):
    allowed = set(options.get("allowed-roles", ()))
    for binding in bindings(ctx.objects):
        kind, name = role_ref(binding)
        if kind == "ClusterRole" and name in allowed:
            continue
        role = f"{kind or 'role'} {name or '(unnamed)'}"
        for subject in subjects(binding):
            reason = why(subject.kind, subject.name)
            if reason is not None:
                yield Problem(binding, f"{binding.kind} {binding.name} grants {role} to {subject} ({reason})",
                              subject.path)
