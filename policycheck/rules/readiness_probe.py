"""
## What it does
Checks that every container of a pod selected by a Service of the overlay
has a `readinessProbe`.

## Why is this bad?
Without a readiness probe a pod receives traffic as soon as its process
starts, before it can answer, and keeps receiving it while it is overloaded.

## Example
```yaml
# Service api selects app=api; the api container has no readinessProbe.
```

## Use instead
```yaml
readinessProbe:
  httpGet: {path: /health/ready, port: http}
```
"""

from policycheck.k8s import pods_selected_by
from policycheck.rules.base import Problem

ID = "readiness-probe"
FAMILY = "availability"
LEVEL = "error"
SUMMARY = "containers behind a Service have a readiness probe"


def check(ctx, options):
    served = {}
    for svc in ctx.of_kind("Service"):
        selector = svc.root.map("spec").str_map("selector")
        for pod in pods_selected_by(selector, ctx.pods, svc.namespace):
            served.setdefault(id(pod), svc.name)
    for c in ctx.containers():
        if c.list_name != "containers" or id(c.pod) not in served:
            continue
        if not c.spec.map("readinessProbe").keys():
            yield Problem(c.pod.obj, f"container {c.name} is behind Service {served[id(c.pod)]} "
                          "but has no readiness probe", f"{c.path}.readinessProbe", c.name)
