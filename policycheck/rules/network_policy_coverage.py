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
    policies = ctx.of_kind("NetworkPolicy")
    for pod in ctx.pods:
        if not any(
            p.namespace == pod.obj.namespace
            and selector_matches((p.doc.get("spec") or {}).get("podSelector"), pod.labels)
            for p in policies
        ):
            yield Problem(pod.obj, f"no NetworkPolicy selects the pods of {pod.obj.kind} {pod.obj.name}",
                          f"{pod.path[: -len('.spec')]}.metadata.labels")
