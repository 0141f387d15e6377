"""
## What it does
Checks that no pod runs Windows `hostProcess` containers:
`securityContext.windowsOptions.hostProcess: true` on the pod (all its
containers) or on one container.

## Why is this bad?
A HostProcess container runs directly on the Windows node, with the node's
network and file system and the rights of a node account: it is the
Windows equivalent of a privileged container.

## Example
```yaml
securityContext:
  windowsOptions:
    hostProcess: true
```

## Use instead
An ordinary Windows container; node agents belong to the cluster's
operators, with a reasoned exemption
(`policycheck.io/exempt.host-process: "<why>"`).

## References
Pod Security Standards, baseline profile: "HostProcess".
"""

from policycheck.k8s import security_context
from policycheck.rules.base import Problem

ID = "host-process"
FAMILY = "security"
LEVEL = "error"
SUMMARY = "no Windows hostProcess containers"


def check(ctx, options):
    for pod in ctx.pods:
        windows = pod.spec.map("securityContext").map("windowsOptions")
        if windows.bool("hostProcess") is True:
            yield Problem(pod.obj, "pod runs its containers as Windows HostProcess containers",
                          f"{windows.path}.hostProcess")
    for c in ctx.containers():
        windows = security_context(c).map("windowsOptions")
        if windows.bool("hostProcess") is True:
            yield Problem(c.pod.obj, f"container {c.name} is a Windows HostProcess container",
                          f"{windows.path}.hostProcess", c.name)
