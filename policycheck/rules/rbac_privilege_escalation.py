"""
## What it does
Checks Roles and ClusterRoles for rights that lead to more rights:

- `escalate` or `bind` on `roles` or `clusterroles`: write or bind a role
  with rights the holder does not have;
- `impersonate` on `users`, `groups`, `serviceaccounts` or `uids`: act as
  anyone, `system:masters` included; and on `userextras/<key>` (any key),
  the extra information that goes with an impersonated user;
- `create` on `serviceaccounts/token`: mint tokens of other
  ServiceAccounts of the namespace (of every namespace, in a ClusterRole)
  and act as them;
- `create`, `update`, `patch` or `delete` on
  `validatingwebhookconfigurations` or `mutatingwebhookconfigurations`: see
  or rewrite every object sent to the API server, or switch its checks off;
- `update` or `patch` on `certificatesigningrequests/approval`, and
  `approve` on `signers`: issue client certificates for any identity.

Wildcards count. One finding per rule entry, at the verb item (escalate,
bind, impersonate, approve) or the resource item that grants the first
right, naming the rights. An entry limited by `resourceNames` (a webhook
controller allowed to update its own webhook configuration, a role that
may bind only named roles) is still reported, and the message names the
objects it is limited to; `create` on a resource (not a subresource) is not
counted in such an entry, as the API server cannot limit it by name and so
never grants it.

Aggregated ClusterRoles (with `aggregationRule`) are skipped.

## Why is this bad?
Each of these rights is a path to cluster-admin: the usual guard against
privilege escalation in RBAC (you cannot grant what you do not hold) does
not apply to them.

## Example
```yaml
rules:
  - apiGroups: ["rbac.authorization.k8s.io"]
    resources: ["clusterroles"]
    verbs: ["bind", "escalate"]
```

## Use instead
Keep these rights with cluster administrators and the controllers that need
them (cert-manager's approver, a policy engine installing its webhooks),
and bind them only to those.

## References
Kubernetes docs, "Role based access control good practices": privilege
escalation risks.
"""

from policycheck.rbac import RBAC_GROUP, Right, grant_problems
from policycheck.rules.base import Problem

ID = "rbac-privilege-escalation"
FAMILY = "rbac"
LEVEL = "error"
SUMMARY = "no escalate, bind, impersonate, token-minting, webhook-configuration or CSR-approval rights"

ADMISSION = "admissionregistration.k8s.io"
AUTHENTICATION = "authentication.k8s.io"
CERTIFICATES = "certificates.k8s.io"
RIGHTS = (
    *(Right(verb, r, RBAC_GROUP, "verb") for verb in ("escalate", "bind") for r in ("roles", "clusterroles")),
    *(Right("impersonate", r, "", "verb") for r in ("users", "groups", "serviceaccounts")),
    Right("impersonate", "uids", AUTHENTICATION, "verb"),
    Right("impersonate", "userextras/*", AUTHENTICATION, "verb"),  # any subresource: one per extra key
    Right("create", "serviceaccounts/token"),
    *(Right(verb, r, ADMISSION) for r in ("validatingwebhookconfigurations", "mutatingwebhookconfigurations")
      for verb in ("create", "update", "patch", "delete")),
    *(Right(verb, "certificatesigningrequests/approval", CERTIFICATES) for verb in ("update", "patch")),
    Right("approve", "signers", CERTIFICATES, "verb"),
)


def check(ctx, options):
    for role, message, path in grant_problems(ctx.objects, RIGHTS):
        yield Problem(role, message, path)
