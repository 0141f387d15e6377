"""
## What it does
Checks that no pod mounts a `hostPath` volume.

## Why is this bad?
A hostPath volume exposes the node's filesystem; writable, it is a direct way
to take over the node.

## Example
```yaml
volumes:
  - name: docker
    hostPath: {path: /var/run/docker.sock}
```

## Use instead
An `emptyDir`, a `persistentVolumeClaim`, or a projected ConfigMap/Secret.

## References
Pod Security Standards, baseline profile: "HostPath Volumes".
"""

from policycheck.rules.base import Problem

ID = "host-path"
FAMILY = "security"
LEVEL = "error"
SUMMARY = "no hostPath volumes"


def check(ctx, options):
    for pod in ctx.pods:
        for volume in pod.spec.maps("volumes"):
            if volume.has("hostPath") or "hostPath" in volume.keys():
                yield Problem(pod.obj, f"volume {volume.str('name')} mounts the node path "
                              f"{volume.map('hostPath').str('path')}", f"{volume.path}.hostPath")
