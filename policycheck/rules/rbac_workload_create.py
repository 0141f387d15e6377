"""
## What it does
Checks Roles and ClusterRoles for the right to `create` pods or the
workloads that create them: Deployments, StatefulSets, DaemonSets,
ReplicaSets, Jobs, CronJobs and ReplicationControllers. Wildcards count. One
finding per rule entry, at the resource item that grants the first right,
naming the rights. A rule limited by `resourceNames` grants no `create` (a
new object has no name at authorization time) and passes.

Aggregated ClusterRoles (with `aggregationRule`) are skipped.

## Why is this bad?
Whoever creates a pod chooses its image, command, ServiceAccount and
volumes: it can mount any Secret of the namespace, run as any ServiceAccount
there and, without Pod Security admission, take over the node.

## Example
```yaml
rules:
  - apiGroups: ["batch"]
    resources: ["jobs"]
    verbs: ["create"]
```

## Use instead
Deploy through a pipeline or GitOps controller that holds this right; give
people and workloads read access, or `update` on `deployments/scale`.
"""

from policycheck.rbac import Right, grant_problems
from policycheck.rules.base import Problem

ID = "rbac-workload-create"
FAMILY = "rbac"
LEVEL = "error"
SUMMARY = "no right to create pods or workloads"

RIGHTS = (
    Right("create", "pods"),
    Right("create", "replicationcontrollers"),
    *(Right("create", r, "apps") for r in ("deployments", "statefulsets", "daemonsets", "replicasets")),
    *(Right("create", r, "batch") for r in ("jobs", "cronjobs")),
)


def check(ctx, options):
    for role, message, path in grant_problems(ctx.objects, RIGHTS, skip_named=True):
        yield Problem(role, message, path)
