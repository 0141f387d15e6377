"""
## What it does
Checks that no Deployment whose pods a Service selects (same namespace,
every selector label equal) uses `strategy.type: Recreate`.

## Why is this bad?
Recreate stops every old pod before it starts a new one: each rollout is an
outage of the Service, however many replicas there are.

## Example
```yaml
kind: Deployment
spec:
  strategy:
    type: Recreate
```

## Use instead
```yaml
spec:
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxUnavailable: 0, maxSurge: 1}
```
Where two versions must never run at once (a singleton writer), keep
Recreate and exempt the Deployment with the reason.
"""

from policycheck.k8s import pods_selected_by
from policycheck.rules.base import Problem

ID = "recreate-behind-service"
FAMILY = "availability"
LEVEL = "warning"
SUMMARY = "Deployments behind a Service roll, not Recreate"


def check(ctx, options):
    deployments = [p for p in ctx.pods if p.obj.kind == "Deployment"]
    if not deployments:
        return
    behind: dict[int, str] = {}
    for svc in ctx.of_kind("Service"):
        spec = svc.root.map("spec")
        if spec.str("type") == "ExternalName":
            continue
        for pod in pods_selected_by(spec.str_map("selector"), deployments, svc.namespace):
            behind.setdefault(id(pod.obj), svc.name)
    for pod in deployments:
        service = behind.get(id(pod.obj))
        if service is None:
            continue
        if pod.obj.root.map("spec").map("strategy").str("type") == "Recreate":
            yield Problem(pod.obj, f"Deployment {pod.obj.name} is behind Service {service} and uses the Recreate "
                          "strategy: every rollout is an outage", "spec.strategy.type")
