"""
## What it does
Checks that every container sets `allowPrivilegeEscalation: false`
explicitly. Kubernetes defaults it to true.

## Why is this bad?
With privilege escalation allowed, a setuid binary or file capability in the
image gives the process more privileges than it started with.

## Example
```yaml
securityContext:
  runAsNonRoot: true
```

## Use instead
```yaml
securityContext:
  allowPrivilegeEscalation: false
```

## References
Pod Security Standards, restricted profile: "Privilege Escalation".
"""

from policycheck.k8s import security_context
from policycheck.rules.base import Problem

ID = "privilege-escalation"
FAMILY = "security"
LEVEL = "error"
SUMMARY = "allowPrivilegeEscalation is explicitly false"


def check(ctx, options):
    for c in ctx.containers():
        if security_context(c).bool("allowPrivilegeEscalation") is not False:
            yield Problem(c.pod.obj, f"container {c.name} does not set allowPrivilegeEscalation: false",
                          f"{c.path}.securityContext.allowPrivilegeEscalation", c.name)
