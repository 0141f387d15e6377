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
- Pods come from the built-in workloads and from custom resources that make
  pods: any custom resource whose `spec.template` is a pod template (an Argo
  Rollout), and the Prometheus Operator's Prometheus, PrometheusAgent,
  Alertmanager and ThanosRuler (`spec.podMetadata.labels` plus the labels the
  operator sets: `app.kubernetes.io/name: alertmanager`,
  `app.kubernetes.io/instance: <name>`, `alertmanager: <name>`, ...).
- When the namespace holds a custom resource whose pods' labels cannot be
  read from the manifest (an operator's resource of another kind), a policy
  that selects none of the pods the rule knows is not reported: the pods may
  be that resource's. Kinds known to make no pods (ServiceMonitor,
  Certificate, ExternalSecret, ...) do not count.

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

from policycheck.rules._pod_sources import pod_sources
from policycheck.rules.base import Problem

ID = "policy-selects-pods"
FAMILY = "wiring"
LEVEL = "error"
SUMMARY = "each NetworkPolicy and PodDisruptionBudget selects a pod of the overlay"

_SELECTOR = {"NetworkPolicy": "podSelector", "PodDisruptionBudget": "selector"}


def check(ctx, options):
    sources = pod_sources(ctx)
    for obj in ctx.of_kind("NetworkPolicy", "PodDisruptionBudget"):
        key = _SELECTOR[obj.kind]
        spec = obj.root.map("spec")
        selector = spec.map(key)
        if obj.kind == "NetworkPolicy" and not selector.keys():
            continue  # every pod of the namespace, including those deployed later
        if obj.kind == "PodDisruptionBudget" and not spec.has(key):
            yield Problem(obj, f"PodDisruptionBudget {obj.name} has no selector: it selects no pod", f"spec.{key}")
            continue
        pods = sources.in_namespace(obj.namespace)
        if not any(p.matches(selector) for p in pods):
            if sources.unknown_in(obj.namespace):
                continue  # its pods may be those of a custom resource whose labels an operator decides
            where = "of the overlay" if pods else "(the overlay has no pod in its namespace)"
            yield Problem(obj, f"{obj.kind} {obj.name} selects no pod {where}", f"spec.{key}")
