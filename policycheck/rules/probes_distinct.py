"""
## What it does
Checks that no container's liveness probe asks the same question as its
readiness probe: the same handler (`httpGet`, `tcpSocket`, `exec`, `grpc`
with the same path, port, command or service), whatever the timing and
thresholds of each.

## Why is this bad?
Readiness takes a busy pod out of the Service; liveness restarts it. When
both ask the same question, an overloaded pod that fails readiness fails
liveness a little later (more patience only delays it): it is restarted when
it was only meant to rest, and the restarts cascade across replicas. Liveness
should ask something cheaper that only a dead process fails (a TCP connect, a
`/live` endpoint).

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
HANDLERS = ("httpGet", "tcpSocket", "exec", "grpc")


def normalized(probe: dict[str, Any]) -> dict[str, Any]:
    """The probe's question: its handler alone (timing and thresholds are only patience)."""
    return {k: probe[k] for k in HANDLERS if probe.get(k) is not None}


def check(ctx, options):
    for c in ctx.containers():
        if c.list_name != "containers":
            continue
        liveness = c.spec.map("livenessProbe")
        readiness = c.spec.map("readinessProbe")
        if not liveness.keys() or not readiness.keys():
            continue
        question = normalized(liveness.value)
        if question and question == normalized(readiness.value):
            yield Problem(c.pod.obj, f"container {c.name} asks the same question in its liveness and readiness "
                          "probes: an overloaded pod is restarted instead of taken out of the Service",
                          liveness.path, c.name)
