"""
## What it does
Recommends `unhealthyPodEvictionPolicy: AlwaysAllow` on each
PodDisruptionBudget (a warning).

## Why is this bad?
With the default, `IfHealthyBudget`, a pod that is running but not ready
(crash-looping, stuck on a dependency) may be evicted only while the budget
is met. When enough pods are broken the budget is never met, so the broken
pods cannot be evicted and the node drain hangs, though evicting them would
hurt nobody.

## Example
```yaml
kind: PodDisruptionBudget
spec:
  minAvailable: 1
```

## Use instead
```yaml
kind: PodDisruptionBudget
spec:
  minAvailable: 1
  unhealthyPodEvictionPolicy: AlwaysAllow
```

## References
- https://kubernetes.io/docs/tasks/run-application/configure-pdb/#unhealthy-pod-eviction-policy
"""

from policycheck.rules.base import Problem

ID = "pdb-unhealthy-pod-eviction"
FAMILY = "availability"
LEVEL = "warning"
SUMMARY = "PodDisruptionBudgets set unhealthyPodEvictionPolicy: AlwaysAllow"


def check(ctx, options):
    for pdb in ctx.of_kind("PodDisruptionBudget"):
        policy = pdb.root.map("spec").str("unhealthyPodEvictionPolicy")
        if policy != "AlwaysAllow":
            yield Problem(pdb, f"PodDisruptionBudget {pdb.name}: unhealthyPodEvictionPolicy is "
                          f"{policy or 'unset (IfHealthyBudget)'}; AlwaysAllow lets drains evict pods that "
                          "are not ready", "spec.unhealthyPodEvictionPolicy")
