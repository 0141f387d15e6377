"""
## What it does
Checks that no container has a liveness probe identical to its readiness
probe: the same handler (`httpGet`, `tcpSocket`, `exec`, `grpc`) with the same
timing and thresholds, counting an omitted setting as its default.

## Why is this bad?
Readiness takes a busy pod out of the Service; liveness restarts it. When
both ask the same question with the same patience, an overloaded pod is
restarted at the moment it was only meant to rest, and the restarts cascade
across replicas.

## Example
```yaml
livenessProbe:
  httpGet: {path: /ready, port: http}
readinessProbe:
  httpGet: {path: /ready, port: http}
```

## Use instead
```yaml
livenessProbe:            # is the process alive at all?
  httpGet: {path: /live, port: http}
  failureThreshold: 6
readinessProbe:           # can it take traffic now?
  httpGet: {path: /ready, port: http}
```
"""

from typing import Any

from policycheck.rules.base import Problem

ID = "probes-distinct"
FAMILY = "availability"
LEVEL = "warning"
SUMMARY = "liveness and readiness probes differ"
# The kubelet's defaults for an omitted setting of a probe.
DEFAULTS = {"initialDelaySeconds": 0, "periodSeconds": 10, "timeoutSeconds": 1, "successThreshold": 1,
            "failureThreshold": 3}


def normalized(probe: dict[str, Any]) -> dict[str, Any]:
    return {**DEFAULTS, **{k: v for k, v in probe.items() if v is not None}}


def check(ctx, options):
    for c in ctx.containers():
        if c.list_name != "containers":
            continue
        liveness = c.spec.map("livenessProbe")
        readiness = c.spec.map("readinessProbe")
        if not liveness.keys() or not readiness.keys():
            continue
        if normalized(liveness.value) == normalized(readiness.value):
            yield Problem(c.pod.obj, f"container {c.name} has the same liveness and readiness probe: an "
                          "overloaded pod is restarted instead of taken out of the Service",
                          liveness.path, c.name)
