"""
## What it does
Checks that no container's liveness probe asks the same question as its
readiness probe: the same handler (`httpGet`, `tcpSocket`, `exec`, `grpc`
with the same path, port, command or service), whatever the timing and
thresholds of each. Handlers are compared as the kubelet runs them: a named
port (`port: http`) is the `containerPort` the container names so, whatever
the handler (`httpGet` and `tcpSocket`; a `grpc` port is always a number),
and an `httpGet` without `path` or `scheme` asks `/` over `HTTP`.

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


def _port(port: Any, named: dict[str, Any]) -> Any:
    """A probe's port as the kubelet resolves it: a name of the container's ports, else a number
    (a digit string too)."""
    if isinstance(port, str):
        if port in named:
            return named[port]
        if port.isdigit():
            return int(port)
    return port


def normalized(probe: dict[str, Any], ports: list[Any] | None = None) -> dict[str, Any]:
    """The probe's question: its handler alone (timing and thresholds are only patience), with named
    ports resolved against ``ports`` (the container's) and httpGet's defaults filled in."""
    named = {p.get("name"): p.get("containerPort") for p in ports or () if isinstance(p, dict) and p.get("name")}
    question: dict[str, Any] = {}
    for key in HANDLERS:
        handler = probe.get(key)
        if handler is None:
            continue
        if isinstance(handler, dict) and key != "exec":
            handler = dict(handler)
            if "port" in handler:
                handler["port"] = _port(handler["port"], named)
            if key == "httpGet":
                handler["path"] = handler.get("path") or "/"
                handler["scheme"] = handler.get("scheme") or "HTTP"
            if key == "grpc" and handler.get("service") == "":
                del handler["service"]  # unset and empty ask the server's overall health
        question[key] = handler
    return question


def check(ctx, options):
    for c in ctx.containers():
        if c.list_name != "containers":
            continue
        liveness = c.spec.map("livenessProbe")
        readiness = c.spec.map("readinessProbe")
        if not liveness.keys() or not readiness.keys():
            continue
        ports = c.spec.value.get("ports") if isinstance(c.spec.value, dict) else None
        ports = ports if isinstance(ports, list) else []
        question = normalized(liveness.value, ports)
        if question and question == normalized(readiness.value, ports):
            yield Problem(c.pod.obj, f"container {c.name} asks the same question in its liveness and readiness "
                          "probes: an overloaded pod is restarted instead of taken out of the Service",
                          liveness.path, c.name)
