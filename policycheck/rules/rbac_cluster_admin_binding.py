"""
## What it does
Checks RoleBindings and ClusterRoleBindings for a `roleRef` to the
ClusterRole `cluster-admin`. One finding per subject, at the subject.

## Why is this bad?
`cluster-admin` can do anything to any object in the cluster. Bound in a
RoleBinding it is still every right in that namespace: its Secrets, its
pods, its RoleBindings. A workload holding it turns any compromise of that
workload into a compromise of the cluster.

## Example
```yaml
kind: ClusterRoleBinding
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
  - kind: ServiceAccount
    name: deployer
    namespace: ci
```

## Use instead
A ClusterRole (or Role) with the rights the subject needs, bound only where
it needs them.
"""

from policycheck.rbac import bindings, role_ref, subjects
from policycheck.rules.base import Problem

ID = "rbac-cluster-admin-binding"
FAMILY = "rbac"
LEVEL = "error"
SUMMARY = "no binding to the cluster-admin ClusterRole"


def check(ctx, options):
    for binding in bindings(ctx.objects):
        if role_ref(binding) != ("ClusterRole", "cluster-admin"):
            continue
        for subject in subjects(binding):
            yield Problem(binding, f"{binding.kind} {binding.name} binds ClusterRole cluster-admin to {subject}",
                          subject.path)
