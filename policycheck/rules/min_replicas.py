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

from policycheck.rules._coverage import hpa_targets
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
        if hpa is not None:
            low = hpa.root.map("spec").int("minReplicas")
            low = 1 if low is None else low
            if low < minimum:
                yield Problem(hpa, f"HPA {hpa.name} lets {obj.kind} {obj.name} drop to {low} replica(s); "
                              f"the minimum is {minimum}", "spec.minReplicas")
            continue
        replicas = obj.root.map("spec").int("replicas")
        replicas = 1 if replicas is None else replicas
        if replicas < minimum:
            yield Problem(obj, f"{obj.kind} {obj.name} runs {replicas} replica(s); the minimum is {minimum}",
                          "spec.replicas")
