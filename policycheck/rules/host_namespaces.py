"""
## What it does
Checks that no pod sets `hostNetwork`, `hostPID` or `hostIPC`.

## Why is this bad?
Sharing the node's network, process or IPC namespace lets the pod see and
talk to everything on the node, other pods' traffic and processes included.

## Example
```yaml
spec:
  hostNetwork: true
```

## Use instead
Remove the field; expose ports through a Service.

## References
Pod Security Standards, baseline profile: "Host Namespaces".
"""

from policycheck.rules.base import Problem

ID = "host-namespaces"
FAMILY = "security"
LEVEL = "error"
SUMMARY = "no hostNetwork, hostPID or hostIPC"


def check(ctx, options):
    for pod in ctx.pods:
        for key in ("hostNetwork", "hostPID", "hostIPC"):
            if pod.spec.bool(key) is True:
                yield Problem(pod.obj, f"pod shares the node's namespace: {key}", f"{pod.path}.{key}")
