"""
## What it does
Checks Roles and ClusterRoles for rights to run commands in, or connect to,
running pods: `create` or `get` on `pods/exec`, `pods/attach` or
`pods/portforward` (the API server accepted `get` for WebSocket connections
before Kubernetes 1.31). Wildcards count: `*` verbs, `*` resources and
`*/exec` grant these rights too. One finding per rule entry, at the resource
item that grants the first right, naming the rights.

Aggregated ClusterRoles (with `aggregationRule`) are skipped.

## Why is this bad?
Exec and attach give a shell in the container with its ServiceAccount token,
mounted Secrets and network position; port-forward reaches ports that no
Service or NetworkPolicy exposes.

## Example
```yaml
rules:
  - apiGroups: [""]
    resources: ["pods", "pods/exec"]
    verbs: ["get", "create"]
```

## Use instead
Grant exec to people through a break-glass role bound for a limited time,
not to workloads; read logs with `pods/log`.
"""

from policycheck.rbac import Right, grant_problems
from policycheck.rules.base import Problem

ID = "rbac-pod-exec"
FAMILY = "rbac"
LEVEL = "error"
SUMMARY = "no rights to exec into, attach to or port-forward to pods"

RIGHTS = tuple(Right(verb, f"pods/{sub}") for sub in ("exec", "attach", "portforward") for verb in ("create", "get"))


def check(ctx, options):
    for role, message, path in grant_problems(ctx.objects, RIGHTS):
        yield Problem(role, message, path)
