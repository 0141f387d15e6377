"""
## What it does
Checks that every container (init containers too) requests and limits
`ephemeral-storage` (its writable layer, logs and `emptyDir` volumes on the
node's disk). A warning by default, an error in the built-in `prod` profile.
A limit alone is enough: when a container sets a limit and no request, the
API server sets the request to the limit as it creates the pod (for every
resource, init containers too; the pod template of a Deployment keeps no
request, its pods get one).

## Why is this bad?
Without a request the scheduler does not count the pod's disk; without a
limit one pod filling its `emptyDir` or logs drives the node into disk
pressure, and the kubelet evicts the neighbours as well.

## Example
```yaml
resources:
  requests: {cpu: 100m, memory: 64Mi}
  limits: {memory: 128Mi}
```

## Use instead
```yaml
resources:
  requests: {cpu: 100m, memory: 64Mi, ephemeral-storage: 100Mi}
  limits: {memory: 128Mi, ephemeral-storage: 1Gi}
```
"""

from policycheck.access import child_path
from policycheck.k8s import requests_and_limits
from policycheck.rules.base import Problem

ID = "ephemeral-storage"
FAMILY = "availability"
LEVEL = "warning"
SUMMARY = "containers request and limit ephemeral-storage"
KEY = "ephemeral-storage"


def check(ctx, options):
    for c in ctx.containers():
        if c.list_name == "ephemeralContainers":
            continue  # the API does not allow resources on them
        requests, limits = requests_and_limits(c)
        limited = limits.get(KEY, "string", "number") is not None
        for kind, node in (("request", requests), ("limit", limits)):
            if kind == "request" and limited:
                continue  # defaulted to the limit by the API server
            if node.get(KEY, "string", "number") is None:
                yield Problem(c.pod.obj, f"container {c.name} has no ephemeral-storage {kind}",
                              child_path(node.path, KEY), c.name)
