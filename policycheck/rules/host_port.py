"""
## What it does
Checks that no container port sets a `hostPort` (other than 0, which means
unset), in containers, init containers and ephemeral containers alike.
Option `allowed`: host ports that are accepted (for a node agent that must
listen on the node).

## Why is this bad?
A hostPort binds the port on the node's address: it bypasses NetworkPolicies
on many network plugins, exposes the pod outside the cluster, and lets only
one such pod run per node, so a rollout or a reschedule can hang on a port
conflict.

## Example
```yaml
ports:
  - containerPort: 8080
    hostPort: 8080
```

## Use instead
```yaml
ports:
  - name: http
    containerPort: 8080     # reached through a Service
```

## References
Pod Security Standards, baseline profile: "Host Ports".
"""

from policycheck.rules.base import Problem

ID = "host-port"
FAMILY = "security"
LEVEL = "error"
SUMMARY = "no hostPort on container ports"
OPTIONS = {"allowed": []}
OPTION_TYPES = {"allowed": [int]}


def check(ctx, options):
    allowed = set(options.get("allowed", ()))
    for c in ctx.containers():
        for port in c.spec.maps("ports"):
            if not port.has("hostPort"):
                continue
            host = port.get("hostPort", "integer", "string")
            if host in (0, "0") or host in allowed:
                continue
            yield Problem(c.pod.obj, f"container {c.name} binds host port {host if host is not None else '?'}",
                          f"{port.path}.hostPort", c.name)
