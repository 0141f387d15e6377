"""
## What it does
Checks that every container drops `ALL` capabilities and adds back none but
those in the `allowed` option (default: `NET_BIND_SERVICE`).

## Why is this bad?
The runtime's default capability set includes `NET_RAW`, `CHOWN`, `SETUID`
and more; each is a step towards escaping the container.

## Example
```yaml
securityContext:
  capabilities:
    add: ["SYS_ADMIN"]
```

## Use instead
```yaml
securityContext:
  capabilities:
    drop: ["ALL"]
```

## References
Pod Security Standards, restricted profile: "Capabilities".
"""

from policycheck.k8s import security_context
from policycheck.rules.base import Problem

ID = "capabilities"
FAMILY = "security"
LEVEL = "error"
SUMMARY = "capabilities drop ALL and add only allowed ones (NET_BIND_SERVICE)"
OPTIONS = {"allowed": ["NET_BIND_SERVICE"]}


def check(ctx, options):
    allowed = set(options["allowed"])
    for c in ctx.containers():
        caps = security_context(c).map("capabilities")
        if "ALL" not in caps.strs("drop"):
            yield Problem(c.pod.obj, f"container {c.name} does not drop ALL capabilities",
                          f"{caps.path}.drop", c.name)
        for cap in caps.str_items("add"):
            if cap.value not in allowed:
                yield Problem(c.pod.obj, f"container {c.name} adds capability {cap.value}", cap.path, c.name)
