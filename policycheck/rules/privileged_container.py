"""
## What it does
Checks that no container sets `privileged: true`.

## Why is this bad?
A privileged container has every capability and every device of the node: it
is the node.

## Example
```yaml
securityContext:
  privileged: true
```

## Use instead
Remove `privileged`, and add the single capability the process needs, if any.

## References
Pod Security Standards, baseline profile: "Privileged Containers".
"""

from policycheck.k8s import security_context
from policycheck.rules.base import Problem

ID = "privileged-container"
FAMILY = "security"
LEVEL = "error"
SUMMARY = "privileged is not true"


def check(ctx, options):
    for c in ctx.containers():
        if security_context(c).bool("privileged") is True:
            yield Problem(c.pod.obj, f"container {c.name} is privileged",
                          f"{c.path}.securityContext.privileged", c.name)
