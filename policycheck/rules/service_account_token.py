"""
## What it does
Checks that a pod does not get a Kubernetes API token mounted: the pod sets
`automountServiceAccountToken: false`, or leaves it unset and its
ServiceAccount (in the same overlay) sets it to false.

## Why is this bad?
Every process in the pod can read the mounted token and call the API server
with the ServiceAccount's permissions. Most applications never need it.

## Example
```yaml
spec:
  serviceAccountName: api
```

## Use instead
```yaml
spec:
  serviceAccountName: api
  automountServiceAccountToken: false
```
"""

from policycheck.rules.base import Problem

ID = "service-account-token"
FAMILY = "security"
LEVEL = "error"
SUMMARY = "automountServiceAccountToken is false (pod or its ServiceAccount)"


def check(ctx, options):
    for pod in ctx.pods:
        own = pod.spec.bool("automountServiceAccountToken")
        if own is False:
            continue
        name = pod.spec.str("serviceAccountName") or "default"
        account = ctx.find("ServiceAccount", name, pod.obj.namespace)
        if own is None and account is not None and account.root.bool("automountServiceAccountToken") is False:
            continue
        yield Problem(pod.obj, f"pod mounts an API token of ServiceAccount {name}",
                      f"{pod.path}.automountServiceAccountToken")
