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
        spec = svc.root.map("spec")
        pods = pods_selected_by(spec.str_map("selector"), ctx.pods, svc.namespace)
        if not pods:
            continue  # service-selector reports it
        for port in spec.maps("ports"):
            target = port.port("targetPort") if port.has("targetPort") else port.port("port")
            if target is None or (isinstance(target, str) and len(target) > 15):
                continue
            for pod in pods:
                declared = [p for c in containers(pod) for p in c.spec.maps("ports")]
                if isinstance(target, str) and not target.isdigit():
                    ok = any(p.str("name") == target for p in declared)
                else:
                    ok = any(p.int("containerPort") == int(target) for p in declared)
                if not ok:
                    yield Problem(svc, f"Service {svc.name} port {port.port('port')} targets {target}, "
                                  f"which {pod.obj.kind} {pod.obj.name} does not declare",
                                  f"{port.path}.targetPort")
