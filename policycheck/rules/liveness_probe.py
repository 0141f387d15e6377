"""
## What it does
Checks that every long-running container (not init containers, not Jobs) has
a `livenessProbe`.

## Why is this bad?
A deadlocked process keeps its container "running" forever; only a liveness
probe lets the kubelet restart it.

## Example
```yaml
containers:
  - name: api
    image: app:1.0
```

## Use instead
```yaml
livenessProbe:
  httpGet: {path: /health, port: http}
```
A process that cannot be probed cheaply may carry a reasoned exemption
(`policycheck.io/exempt.liveness-probe: "<why>"`).
"""

from policycheck.rules.base import Problem

ID = "liveness-probe"
FAMILY = "availability"
LEVEL = "error"
SUMMARY = "long-running containers have a liveness probe"
RUN_TO_COMPLETION = ("Job", "CronJob")


def check(ctx, options):
    for c in ctx.containers():
        if c.list_name != "containers" or c.pod.obj.kind in RUN_TO_COMPLETION:
            continue
        if not c.spec.map("livenessProbe").keys():
            yield Problem(c.pod.obj, f"container {c.name} has no liveness probe",
                          f"{c.path}.livenessProbe", c.name)
