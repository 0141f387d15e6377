"""
## What it does
Checks that every backend of an Ingress (rules and defaultBackend) names a
Service of the overlay, and a port that Service exposes (by number or name).

## Why is this bad?
The ingress controller answers 503 for a backend that does not exist; the
typo is only found after the deploy.

## Example
```yaml
backend:
  service: {name: api, port: {number: 80}}   # Service api exposes 8000
```

## Use instead
```yaml
backend:
  service: {name: api, port: {number: 8000}}
```
"""

from policycheck.rules.base import Problem

ID = "ingress-backend"
FAMILY = "wiring"
LEVEL = "error"
SUMMARY = "Ingress backends name an existing Service and port"


def _backends(spec):
    if spec.has("defaultBackend"):
        yield spec.map("defaultBackend")
    for rule in spec.maps("rules"):
        for path in rule.map("http").maps("paths"):
            if path.has("backend"):
                yield path.map("backend")


def check(ctx, options):
    for ing in ctx.of_kind("Ingress"):
        for backend in _backends(ing.root.map("spec")):
            if not backend.has("service"):
                continue  # a resource backend
            service = backend.map("service")
            name = service.str("name")
            svc = ctx.find("Service", name, ing.namespace)
            if svc is None:
                yield Problem(ing, f"Ingress {ing.name} routes to Service {name}, which the overlay does not have",
                              f"{service.path}.name")
                continue
            port = service.map("port")
            ports = svc.root.map("spec").maps("ports")
            number, port_name = port.int("number"), port.str("name")
            if number is not None and not any(p.port("port") == number for p in ports):
                yield Problem(ing, f"Ingress {ing.name} routes to port {number} of Service {name}, "
                              "which it does not expose", f"{port.path}.number")
            if port_name is not None and not any(p.str("name") == port_name for p in ports):
                yield Problem(ing, f"Ingress {ing.name} routes to port {port_name} of Service {name}, "
                              "which it does not expose", f"{port.path}.name")
