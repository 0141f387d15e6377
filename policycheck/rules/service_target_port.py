"""
## What it does
Checks that the `targetPort` of every Service port (its `port` when unset)
is a port of the selected pods. A named `targetPort` must be a valid port
name (IANA_SVC_NAME: 1-15 characters, lowercase letters, digits and `-`, at
least one letter, no `-` at either end or twice in a row), with or without a
selector, and a container of each selected pod must declare it: traffic to a
name no container declares goes nowhere.

A number is judged only where it is likely a mistake. Declaring a container
port is informational: traffic reaches any port the process listens on. So a
numeric `targetPort` is reported only when the selected pod declares ports
and none of them is this number (a pod that declares `http: 8080` and is sent
traffic on 8000), and not when:

- the pod declares no ports at all (nothing to compare with);
- the Service is headless (`clusterIP: None`): it proxies nothing, its ports
  only name the endpoints (often a placeholder such as `port: 80`).

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

import re

from policycheck.k8s import containers, pods_selected_by
from policycheck.rules.base import Problem

ID = "service-target-port"
FAMILY = "wiring"
LEVEL = "error"
SUMMARY = "targetPort is a valid port name and resolves to a container port of the selected pods"
# IANA_SVC_NAME (RFC 6335), as the API server validates it.
_SVC_NAME = re.compile(r"(?!.*--)[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?")
_LETTER = re.compile(r"[a-z]")


def valid_port_name(name: str) -> bool:
    return bool(_SVC_NAME.fullmatch(name) and _LETTER.search(name))


def _invalid_names(svc):
    for port in svc.root.map("spec").maps("ports"):
        target = port.port("targetPort")
        if isinstance(target, str) and not target.isdigit() and not valid_port_name(target):
            yield Problem(svc, f"Service {svc.name} port {port.port('port')} targets {target!r}, which is not a "
                          "valid port name (1-15 lowercase letters, digits and '-', at least one letter)",
                          f"{port.path}.targetPort")


def check(ctx, options):
    for svc in ctx.of_kind("Service"):
        yield from _invalid_names(svc)
        spec = svc.root.map("spec")
        pods = pods_selected_by(spec.str_map("selector"), ctx.pods, svc.namespace)
        if not pods:
            continue  # service-selector reports it
        headless = spec.get("clusterIP") == "None"
        for port in spec.maps("ports"):
            target = port.port("targetPort") if port.has("targetPort") else port.port("port")
            if target is None or (isinstance(target, str) and not target.isdigit() and not valid_port_name(target)):
                continue  # reported above
            for pod in pods:
                declared = [p for c in containers(pod) for p in c.spec.maps("ports")]
                if isinstance(target, str) and not target.isdigit():
                    ok = any(p.str("name") == target for p in declared)
                elif headless or not declared:
                    continue  # nothing proxied / nothing declared: any port may be the one listening
                else:
                    ok = any(p.int("containerPort") == int(target) for p in declared)
                if not ok:
                    yield Problem(svc, f"Service {svc.name} port {port.port('port')} targets {target}, "
                                  f"which {pod.obj.kind} {pod.obj.name} does not declare",
                                  f"{port.path}.targetPort")
