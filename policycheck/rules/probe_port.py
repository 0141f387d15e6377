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


def _declares(port, names, numbers):
    if isinstance(port, str) and not port.isdigit():
        return port in names
    return int(port) in numbers


def check(ctx, options):
    for c in ctx.containers():
        ports = c.spec.maps("ports")
        names = {p.str("name") for p in ports} - {None}
        numbers = {p.int("containerPort") for p in ports} - {None}
        for probe_name in PROBES:
            probe = c.spec.map(probe_name)
            for handler in ("httpGet", "tcpSocket", "grpc"):
                action = probe.map(handler)
                port = action.int("port") if handler == "grpc" else action.port("port")
                if port is None or (isinstance(port, str) and len(port) > 15):
                    continue
                if not _declares(port, names, numbers):
                    yield Problem(c.pod.obj, f"container {c.name} {probe_name} uses port {port}, "
                                  "which the container does not declare", f"{action.path}.port", c.name)
