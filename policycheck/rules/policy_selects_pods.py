"""
## What it does
Checks that each NetworkPolicy and PodDisruptionBudget selects at least one
pod template of the overlay in its namespace.

- A NetworkPolicy with an empty `podSelector` (`{}`) selects every pod of its
  namespace, now and later: it passes, even in a namespace where the overlay
  has no pods (a namespace's default-deny baseline is written before its
  workloads).
- A PodDisruptionBudget without `selector` selects nothing (policy/v1); one
  with an empty selector selects every pod of its namespace, so it fires only
  when the overlay has no pod there.

## Why is this bad?
A policy that selects nothing protects nothing, and says it does: usually a
label was renamed in the workload and not in the policy, and the pods it was
written for run without isolation or without a disruption budget.

## Example
```yaml
kind: NetworkPolicy
spec:
  podSelector: {matchLabels: {app: api-server}}   # pods are labelled app: api
```

## Use instead
```yaml
spec:
  podSelector: {matchLabels: {app: api}}
```
"""

from policycheck.k8s import selector_matches
from policycheck.rules.base import Problem

ID = "policy-selects-pods"
FAMILY = "wiring"
LEVEL = "error"
SUMMARY = "each NetworkPolicy and PodDisruptionBudget selects a pod of the overlay"

_SELECTOR = {"NetworkPolicy": "podSelector", "PodDisruptionBudget": "selector"}


def check(ctx, options):
    for obj in ctx.of_kind("NetworkPolicy", "PodDisruptionBudget"):
        key = _SELECTOR[obj.kind]
        spec = obj.root.map("spec")
        selector = spec.map(key)
        if obj.kind == "NetworkPolicy" and not selector.keys():
            continue  # every pod of the namespace, including those deployed later
        if obj.kind == "PodDisruptionBudget" and not spec.has(key):
            yield Problem(obj, f"PodDisruptionBudget {obj.name} has no selector: it selects no pod", f"spec.{key}")
            continue
        pods = [p for p in ctx.pods if p.obj.namespace == obj.namespace]
        if not any(selector_matches(selector, p.labels) for p in pods):
            where = "of the overlay" if pods else "(the overlay has no pod in its namespace)"
            yield Problem(obj, f"{obj.kind} {obj.name} selects no pod {where}", f"spec.{key}")
