"""
## What it does
Checks that no container declares port 22 (`containerPort: 22`) and no
Service exposes port 22 or targets it.

## Why is this bad?
An SSH server in a container is a second way in, outside the audit trail of
`kubectl exec`, with its own keys to rotate; it usually means the image is a
VM image in disguise.

## Example
```yaml
ports:
  - {name: ssh, containerPort: 22}
```

## Use instead
`kubectl exec` or `kubectl debug` for access; drop the SSH server from the
image.
"""

from policycheck.rules.base import Problem

ID = "ssh-port"
FAMILY = "security"
LEVEL = "warning"
SUMMARY = "no port 22 on containers or Services"
SSH = 22


def check(ctx, options):
    for c in ctx.containers():
        for port in c.spec.maps("ports"):
            if port.get("containerPort", "integer") == SSH:
                yield Problem(c.pod.obj, f"container {c.name} exposes port 22 (SSH)",
                              f"{port.path}.containerPort", c.name)
    for svc in ctx.of_kind("Service"):
        for port in svc.root.map("spec").maps("ports"):
            for key in ("port", "targetPort"):
                if port.get(key, "integer", "string") in (SSH, "22"):
                    yield Problem(svc, f"Service {svc.name} {key} is 22 (SSH)", f"{port.path}.{key}")
                    break
