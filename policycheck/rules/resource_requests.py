"""
## What it does
Checks that every container requests `cpu` and `memory`.

## Why is this bad?
The scheduler places pods by their requests. Without them a pod lands on a
full node, is the first to be evicted under pressure, and an HPA that scales
on CPU utilization has nothing to compute a percentage of.

## Example
```yaml
resources:
  limits: {cpu: 500m, memory: 1Gi}
```

## Use instead
```yaml
resources:
  requests: {cpu: 250m, memory: 512Mi}
  limits: {cpu: 500m, memory: 1Gi}
```
"""

from policycheck.k8s import requests_and_limits
from policycheck.rules.base import Problem

ID = "resource-requests"
FAMILY = "availability"
LEVEL = "error"
SUMMARY = "cpu and memory requests are set"


def check(ctx, options):
    for c in ctx.containers():
        if c.list_name == "ephemeralContainers":
            continue  # the API forbids resources on ephemeral containers
        requests, _ = requests_and_limits(c)
        for res in ("cpu", "memory"):
            if requests.get(res, "string", "number") is None:
                yield Problem(c.pod.obj, f"container {c.name} has no {res} request",
                              f"{requests.path}.{res}", c.name)
