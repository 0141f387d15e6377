"""
## What it does
Checks that every container sets `cpu` and `memory` limits, and that each
request is not larger than its limit.

## Why is this bad?
A container without a memory limit can take the node's memory and get other
pods killed; one without a CPU limit can starve its neighbours. A request
above its limit is rejected by the API server at apply time.

## Example
```yaml
resources:
  requests: {cpu: "2", memory: 1Gi}
  limits: {cpu: 500m}
```

## Use instead
```yaml
resources:
  requests: {cpu: 250m, memory: 512Mi}
  limits: {cpu: 500m, memory: 1Gi}
```
"""

from policycheck.k8s import parse_quantity, requests_and_limits
from policycheck.rules.base import Problem

ID = "resource-limits"
FAMILY = "availability"
LEVEL = "error"
SUMMARY = "cpu and memory limits are set, and each request is at most its limit"


def check(ctx, options):
    for c in ctx.containers():
        if c.list_name == "ephemeralContainers":
            continue
        requests, limits = requests_and_limits(c)
        for res in ("cpu", "memory"):
            limit_text = limits.get(res, "string", "number")
            if limit_text is None:
                yield Problem(c.pod.obj, f"container {c.name} has no {res} limit",
                              f"{limits.path}.{res}", c.name)
                continue
            request_text = requests.get(res, "string", "number")
            request, limit = parse_quantity(request_text), parse_quantity(limit_text)
            if request is not None and limit is not None and request > limit:
                yield Problem(c.pod.obj, f"container {c.name} requests more {res} ({request_text}) "
                              f"than its limit ({limit_text})", f"{requests.path}.{res}", c.name)
