"""
## What it does
Checks that the `port` of every httpGet, tcpSocket and grpc probe is a port
the container declares: a named port must exist, a number must be one of
its `containerPort`s.

## Why is this bad?
A probe on a port nothing listens on fails forever: the pod never becomes
ready, or is restarted in a loop.

## Example
```yaml
ports: [{name: http, containerPort: 8000}]
livenessProbe:
  httpGet: {path: /health, port: web}
```

## Use instead
```yaml
livenessProbe:
  httpGet: {path: /health, port: http}
```
"""

from policycheck.rules.base import Problem

ID = "probe-port"
FAMILY = "availability"
LEVEL = "error"
SUMMARY = "httpGet/tcpSocket/grpc probe ports exist on the container"
PROBES = ("livenessProbe", "readinessProbe", "startupProbe")


def check(ctx, options):
    for c in ctx.containers():
        ports = [p for p in c.spec.get("ports") or [] if isinstance(p, dict)]
        names = {p.get("name") for p in ports if p.get("name")}
        numbers = {p.get("containerPort") for p in ports}
        for probe_name in PROBES:
            probe = c.spec.get(probe_name)
            if not isinstance(probe, dict):
                continue
            for handler in ("httpGet", "tcpSocket", "grpc"):
                action = probe.get(handler)
                if not isinstance(action, dict) or "port" not in action:
                    continue
                port = action["port"]
                ok = port in names if isinstance(port, str) and not port.isdigit() else int(port) in numbers
                if not ok:
                    yield Problem(c.pod.obj, f"container {c.name} {probe_name} uses port {port}, "
                                  "which the container does not declare",
                                  f"{c.path}.{probe_name}.{handler}.port", c.name)
