"""
## What it does
Checks that the `targetPort` of every Service port (its `port` when unset)
is a port of the selected pods: a named port must be declared by a container
of each selected pod, a number must be one of their `containerPort`s.

## Why is this bad?
Traffic to a port nothing listens on is refused; the Service looks healthy
while every request fails.

## Example
```yaml
ports: [{port: 8000, targetPort: web}]   # the container names its port http
```

## Use instead
```yaml
ports: [{port: 8000, targetPort: http}]
```
"""

from policycheck.k8s import containers, pods_selected_by
from policycheck.rules.base import Problem

ID = "service-target-port"
FAMILY = "wiring"
LEVEL = "error"
SUMMARY = "targetPort resolves to a container port of the selected pods"


def check(ctx, options):
    for svc in ctx.of_kind("Service"):
        spec = svc.doc.get("spec") or {}
        pods = pods_selected_by(spec.get("selector"), ctx.pods, svc.namespace)
        if not pods:
            continue  # service-selector reports it
        for index, port in enumerate(spec.get("ports") or []):
            if not isinstance(port, dict):
                continue
            target = port.get("targetPort", port.get("port"))
            for pod in pods:
                declared = [p for c in containers(pod) for p in c.spec.get("ports") or [] if isinstance(p, dict)]
                if isinstance(target, str) and not target.isdigit():
                    ok = any(p.get("name") == target for p in declared)
                else:
                    ok = any(p.get("containerPort") == int(target) for p in declared)
                if not ok:
                    yield Problem(svc, f"Service {svc.name} port {port.get('port')} targets {target}, "
                                  f"which {pod.obj.kind} {pod.obj.name} does not declare",
                                  f"spec.ports[{index}].targetPort")
