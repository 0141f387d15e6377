"""
## What it does
Checks that every pod (Pods and the pod templates of workloads) names its
own ServiceAccount: `serviceAccountName` set, and not `default`. The
deprecated `serviceAccount` field counts when `serviceAccountName` is unset.

## Why is this bad?
Every pod of a namespace that names no account runs as its `default`
ServiceAccount: a Role bound to it for one workload is granted to all of
them, and an audit log cannot tell the workloads apart.

## Example
```yaml
spec:
  containers:
    - name: api
      image: app:1.0
```

## Use instead
```yaml
spec:
  serviceAccountName: api        # its own account, with only the rights it needs
  automountServiceAccountToken: false
```

## References
kube-linter `default-service-account`.
"""

from policycheck.rules.base import Problem

ID = "default-service-account"
FAMILY = "security"
LEVEL = "warning"
SUMMARY = "pods run as their own ServiceAccount, not default"


def check(ctx, options):
    for pod in ctx.pods:
        key = "serviceAccountName" if pod.spec.has("serviceAccountName") or not pod.spec.has("serviceAccount") \
            else "serviceAccount"
        name = pod.spec.str(key)
        if not name:
            yield Problem(pod.obj, f"{pod.obj.kind} {pod.obj.name} names no ServiceAccount: it runs as default",
                          f"{pod.path}.serviceAccountName")
        elif name == "default":
            yield Problem(pod.obj, f"{pod.obj.kind} {pod.obj.name} runs as the default ServiceAccount",
                          f"{pod.path}.{key}")
