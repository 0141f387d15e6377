"""
## What it does
Checks that each workload of the configured kinds (option `kinds`, default
Deployment) runs at least `minimum` replicas (default 2): its `replicas`, or
the `minReplicas` of the HPA that scales it.

## Why is this bad?
A single replica is down during every rollout that fails, every node drain
and every crash.

## Example
```yaml
kind: Deployment
spec: {replicas: 1}
```

## Use instead
```yaml
replicas:            # in the overlay's kustomization.yaml
  - {name: api, count: 2}
```
Single-instance databases are StatefulSets and are not checked unless
`kinds` says so.
"""

from policycheck.rules._coverage import hpa_targets, minimum_replicas
from policycheck.rules.base import Problem

ID = "min-replicas"
FAMILY = "availability"
LEVEL = "error"
SUMMARY = "replicas (or HPA minReplicas) reach the configured minimum"
OPTIONS = {"minimum": 2, "kinds": ["Deployment"]}
OPTION_TYPES = {"minimum": range(1, 1001)}


def check(ctx, options):
    minimum = options["minimum"]
    scaled = hpa_targets(ctx)
    for obj in ctx.of_kind(*options["kinds"]):
        hpa = scaled.get((obj.kind, obj.name, obj.namespace))
        low, source, field = minimum_replicas(obj, hpa)
        if low >= minimum:
            continue
        if hpa is not None:
            yield Problem(hpa, f"HPA {hpa.name} lets {obj.kind} {obj.name} drop to {low} replica(s); "
                          f"the minimum is {minimum}", field)
        else:
            yield Problem(obj, f"{obj.kind} {obj.name} runs {low} replica(s); the minimum is {minimum}", field)
