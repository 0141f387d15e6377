"""
## What it does
Checks that every container sets `readOnlyRootFilesystem: true`.

## Why is this bad?
A writable root filesystem lets an intruder drop tools and modify the
application in place; it also hides state that should live in a volume.

## Example
```yaml
securityContext:
  allowPrivilegeEscalation: false
```

## Use instead
```yaml
securityContext:
  readOnlyRootFilesystem: true
volumeMounts:
  - {name: tmp, mountPath: /tmp}   # an emptyDir where the process writes
```
"""

from policycheck.k8s import security_context
from policycheck.rules.base import Problem

ID = "read-only-root-fs"
FAMILY = "security"
LEVEL = "error"
SUMMARY = "readOnlyRootFilesystem is true"


def check(ctx, options):
    for c in ctx.containers():
        if security_context(c).bool("readOnlyRootFilesystem") is not True:
            yield Problem(c.pod.obj, f"container {c.name} has a writable root filesystem",
                          f"{c.path}.securityContext.readOnlyRootFilesystem", c.name)
