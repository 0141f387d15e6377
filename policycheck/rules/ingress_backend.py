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
    default = spec.get("defaultBackend")
    if isinstance(default, dict):
        yield default, "spec.defaultBackend"
    for r, rule in enumerate(spec.get("rules") or []):
        paths = ((rule or {}).get("http") or {}).get("paths") or []
        for p, path in enumerate(paths):
            if isinstance(path, dict) and isinstance(path.get("backend"), dict):
                yield path["backend"], f"spec.rules[{r}].http.paths[{p}].backend"


def check(ctx, options):
    for ing in ctx.of_kind("Ingress"):
        for backend, where in _backends(ing.doc.get("spec") or {}):
            service = backend.get("service")
            if not isinstance(service, dict):
                continue  # a resource backend
            name = service.get("name")
            svc = ctx.find("Service", name, ing.namespace)
            if svc is None:
                yield Problem(ing, f"Ingress {ing.name} routes to Service {name}, which the overlay does not have",
                              f"{where}.service.name")
                continue
            port = service.get("port") or {}
            ports = [p for p in (svc.doc.get("spec") or {}).get("ports") or [] if isinstance(p, dict)]
            if "number" in port and not any(p.get("port") == port["number"] for p in ports):
                yield Problem(ing, f"Ingress {ing.name} routes to port {port['number']} of Service {name}, "
                              "which it does not expose", f"{where}.service.port.number")
            if "name" in port and not any(p.get("name") == port["name"] for p in ports):
                yield Problem(ing, f"Ingress {ing.name} routes to port {port['name']} of Service {name}, "
                              "which it does not expose", f"{where}.service.port.name")
