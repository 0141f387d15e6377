"""
## What it does
Checks that no container sets `securityContext.procMount` to anything but
`Default` (init and ephemeral containers too).

## Why is this bad?
`Unmasked` turns off the masking of `/proc` paths (`/proc/kcore`,
`/proc/sysrq-trigger`, ...) that keeps a container from reading kernel
memory or acting on the node.

## Example
```yaml
securityContext:
  procMount: Unmasked
```

## Use instead
Leave `procMount` unset (or `Default`).

## References
Pod Security Standards, baseline profile: "/proc Mount Type".
"""

from policycheck.k8s import security_context
from policycheck.rules.base import Problem

ID = "proc-mount"
FAMILY = "security"
LEVEL = "error"
SUMMARY = "procMount is Default"


def check(ctx, options):
    for c in ctx.containers():
        sc = security_context(c)
        if not sc.has("procMount"):
            continue
        value = sc.get("procMount")
        if value != "Default":
            yield Problem(c.pod.obj, f"container {c.name} sets procMount {value if value is not None else '?'}",
                          f"{sc.path}.procMount", c.name)
