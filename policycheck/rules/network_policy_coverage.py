"""
## What it does
Checks that every pod template of the overlay is selected by at least one
NetworkPolicy in its namespace.

## Why is this bad?
A pod no NetworkPolicy selects accepts connections from every pod of the
cluster and may connect anywhere: one compromised pod reaches the database.

## Example
```yaml
# NetworkPolicies select app=api and app=postgresql; the worker has none.
```

## Use instead
A default-deny policy for the namespace (`podSelector: {}`) plus the allows
each component needs.
"""

from policycheck.k8s import selector_matches
from policycheck.rules.base import Problem

ID = "network-policy-coverage"
FAMILY = "wiring"
LEVEL = "error"
SUMMARY = "every pod is selected by a NetworkPolicy"


def check(ctx, options):
    policies = [(p.namespace, p.root.map("spec").map("podSelector")) for p in ctx.of_kind("NetworkPolicy")]
    for pod in ctx.pods:
        if not any(ns == pod.obj.namespace and selector_matches(sel, pod.labels) for ns, sel in policies):
            yield Problem(pod.obj, f"no NetworkPolicy selects the pods of {pod.obj.kind} {pod.obj.name}",
                          f"{pod.meta_path}.labels")
