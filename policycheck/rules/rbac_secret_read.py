"""
## What it does
Checks Roles and ClusterRoles for `get`, `list` or `watch` on Secrets.
Wildcards count. One finding per rule entry, at the resource item, naming
the verbs. A rule limited by `resourceNames` to named Secrets is the
least-privilege form and passes.

Aggregated ClusterRoles (with `aggregationRule`) are skipped.

## Why is this bad?
Secrets hold database passwords, TLS keys and ServiceAccount tokens of
other workloads. `list` and `watch` return every Secret's data, not just the
names. In a ClusterRole bound cluster-wide, that is every credential in the
cluster.

## Example
```yaml
rules:
  - apiGroups: [""]
    resources: ["secrets"]
    verbs: ["get", "list", "watch"]
```

## Use instead
Mount the Secret the workload needs as a volume or env var, or name it:
```yaml
rules:
  - apiGroups: [""]
    resources: ["secrets"]
    resourceNames: ["api-tls"]
    verbs: ["get"]
```
"""

from policycheck.rbac import Right, grant_problems
from policycheck.rules.base import Problem

ID = "rbac-secret-read"
FAMILY = "rbac"
LEVEL = "error"
SUMMARY = "no get, list or watch on Secrets (except named ones)"

RIGHTS = tuple(Right(verb, "secrets") for verb in ("get", "list", "watch"))


def check(ctx, options):
    for role, message, path in grant_problems(ctx.objects, RIGHTS, skip_named=True):
        yield Problem(role, message, path)
