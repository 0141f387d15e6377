"""
## What it does
Checks Roles and ClusterRoles for a `*` in a rule's `verbs`, `resources`,
`apiGroups` or `nonResourceURLs` (`nonResourceURLs: ["*"]` reaches every
path of the API server that is not a resource: `/metrics`, `/debug/pprof`,
`/logs` and the rest). One finding per rule entry, at its first `*`, naming
every list that holds one. A path ending in `*` (`/healthz/*`) is a prefix,
not the wildcard, and passes.

Aggregated ClusterRoles (with `aggregationRule`) are skipped: the controller
manager overwrites their rules with those of the roles they select, and
those roles are checked themselves.

## Why is this bad?
A wildcard grants every right that exists today and every one added later
(new verbs, new resources, CRDs installed next year). `verbs: ["*"]` on
`resources: ["*"]` is cluster-admin under another name.

## Example
```yaml
kind: ClusterRole
rules:
  - apiGroups: ["*"]
    resources: ["*"]
    verbs: ["*"]
```

## Use instead
```yaml
kind: Role
rules:
  - apiGroups: [""]
    resources: ["configmaps"]
    verbs: ["get", "list", "watch"]
```

## References
Kubernetes docs, "Role based access control good practices": least privilege.
"""

from policycheck.rbac import ALL, describe, policy_rules, roles
from policycheck.rules.base import Problem

ID = "rbac-wildcard"
FAMILY = "rbac"
LEVEL = "error"
SUMMARY = "no * in verbs, resources, apiGroups or nonResourceURLs of Roles and ClusterRoles"

LISTS = (("verbs", "verbs"), ("resources", "resources"), ("groups", "apiGroups"), ("urls", "nonResourceURLs"))


def check(ctx, options):
    for role in roles(ctx.objects):
        for rule in policy_rules(role):
            starred = [(key, next(n for n in getattr(rule, attr) if n.value == ALL))
                       for attr, key in LISTS if any(n.value == ALL for n in getattr(rule, attr))]
            if not starred:
                continue
            names = ", ".join(key for key, _ in starred)
            yield Problem(role, f"{describe(rule)} uses * in {names}", starred[0][1].path)
