"""
## What it does
Checks every HorizontalPodAutoscaler: its `scaleTargetRef` names a workload
of the overlay, `minReplicas` is at most `maxReplicas`, a CPU (or memory)
utilization target has a matching request on every container of the target,
and the target sets no fixed `replicas`.

## Why is this bad?
An HPA on a missing target does nothing. Utilization is a percentage of the
request: without one the HPA cannot scale. A fixed `replicas:` makes every
`kubectl apply` reset the count the HPA chose.

## Example
```yaml
# Deployment worker sets replicas: 3 and no cpu request.
metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}
```

## Use instead
Drop `replicas:` from the workload (the overlay's `replicas:` list too) and
set `resources.requests.cpu` on each container.
"""

from policycheck.k8s import containers, pod_template, requests_and_limits
from policycheck.rules.base import Problem

ID = "hpa-target"
FAMILY = "availability"
LEVEL = "error"
SUMMARY = "scaleTargetRef exists, min <= max, utilization targets have requests, target sets no replicas"


def check(ctx, options):
    for hpa in ctx.of_kind("HorizontalPodAutoscaler"):
        spec = hpa.root.map("spec")
        ref = spec.map("scaleTargetRef")
        low, high = spec.int("minReplicas"), spec.int("maxReplicas")
        low = 1 if low is None else low
        if high is not None and low > high:
            yield Problem(hpa, f"HPA {hpa.name} minReplicas {low} exceeds maxReplicas {high}", "spec.minReplicas")
        kind, name = ref.str("kind"), ref.str("name")
        target = ctx.find(kind, name, hpa.namespace)
        if target is None:
            yield Problem(hpa, f"HPA {hpa.name} scales {kind}/{name}, which the overlay does not have",
                          "spec.scaleTargetRef.name")
            continue
        if target.root.map("spec").has("replicas"):
            yield Problem(target, f"{target.kind} {target.name} sets replicas although HPA {hpa.name} owns the count",
                          "spec.replicas")
        pod = pod_template(target)
        for metric in spec.maps("metrics"):
            resource = metric.map("resource")
            if resource.map("target").str("type") != "Utilization" or pod is None:
                continue
            name = resource.str("name")
            for c in containers(pod):
                if c.list_name == "containers" and name not in requests_and_limits(c)[0].keys():
                    yield Problem(hpa, f"HPA {hpa.name} scales on {name} utilization but container {c.name} of "
                                  f"{target.kind} {target.name} requests no {name}", metric.path)
