"""
## What it does
Checks that every container runs under a seccomp profile of type
`RuntimeDefault` or `Localhost`, set on the container or the pod.

## Why is this bad?
Without seccomp a container can call every system call of the kernel,
including the rarely used ones where kernel exploits live.

## Example
```yaml
securityContext:
  seccompProfile:
    type: Unconfined
```

## Use instead
```yaml
securityContext:       # pod level
  seccompProfile:
    type: RuntimeDefault
```

## References
Pod Security Standards, restricted profile: "Seccomp".
"""

from policycheck.k8s import effective
from policycheck.rules.base import Problem

ID = "seccomp-profile"
FAMILY = "security"
LEVEL = "error"
SUMMARY = "seccomp profile is RuntimeDefault or Localhost"


def check(ctx, options):
    for c in ctx.containers():
        profile, where = effective(c, "seccompProfile", "mapping")
        kind = profile.get("type") if profile is not None else None
        if kind not in ("RuntimeDefault", "Localhost"):
            field = f"{where}.type" if where else f"{c.pod.path}.securityContext.seccompProfile.type"
            shown = kind if isinstance(kind, str) and kind else "unset"
            yield Problem(c.pod.obj, f"container {c.name} has seccomp profile {shown}", field, c.name)
