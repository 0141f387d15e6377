"""
## What it does
Checks that no Deployment whose pods a Service selects (same namespace,
every selector label equal) uses `strategy.type: Recreate`.

Not reported, because Recreate is required or harmless there:

- a Deployment of at most 1 replica (`spec.replicas`, 1 when unset) that no
  HorizontalPodAutoscaler of the overlay may scale above 1, and that mounts a
  ReadWriteOnce volume: a `persistentVolumeClaim` whose claim in the overlay
  asks only for `ReadWriteOnce` or `ReadWriteOncePod`. A claim the overlay
  does not hold (or one without `accessModes`) counts as ReadWriteOnce, the
  mode of most storage classes: a rolling update would start the new pod
  while the old one holds the volume, and it would hang. Generic ephemeral
  volumes are per pod and do not count.
- a Deployment that only Services of metrics ports select: every port of
  every such Service is named `metrics` or ends in `-metrics`
  (`http-metrics`). A scrape that misses a rollout is no outage. An unnamed
  port is not a metrics port.

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


_RWO = {"ReadWriteOnce", "ReadWriteOncePod"}


def _metrics_only(svc) -> bool:
    """Every port of the Service is named metrics or *-metrics (and it has one)."""
    names = [port.value.get("name") for port in svc.root.map("spec").maps("ports")]
    return bool(names) and all(isinstance(n, str) and (n == "metrics" or n.endswith("-metrics")) for n in names)


def _may_scale_above_one(ctx, deployment) -> bool:
    for hpa in ctx.of_kind("HorizontalPodAutoscaler"):
        spec = hpa.doc.get("spec") if isinstance(hpa.doc, dict) else None
        if not isinstance(spec, dict) or hpa.namespace != deployment.namespace:
            continue
        target = spec.get("scaleTargetRef")
        if isinstance(target, dict) and target.get("kind") == "Deployment" and target.get("name") == deployment.name:
            highest = spec.get("maxReplicas")
            if not isinstance(highest, int) or isinstance(highest, bool) or highest > 1:
                return True
    return False


def _mounts_rwo_claim(ctx, pod) -> bool:
    for volume in pod.spec.maps("volumes"):
        claim = volume.value.get("persistentVolumeClaim")
        name = claim.get("claimName") if isinstance(claim, dict) else None
        if not isinstance(name, str):
            continue
        pvc = ctx.find("PersistentVolumeClaim", name, pod.obj.namespace)
        spec = pvc.doc.get("spec") if pvc is not None and isinstance(pvc.doc, dict) else None
        modes = spec.get("accessModes") if isinstance(spec, dict) else None
        if not isinstance(modes, list) or not modes or all(m in _RWO for m in modes):
            return True  # the overlay's claim is ReadWriteOnce, or the claim is unknown: taken as ReadWriteOnce
    return False


def _singleton_with_rwo_volume(ctx, pod) -> bool:
    spec = pod.obj.doc.get("spec")
    replicas = spec.get("replicas") if isinstance(spec, dict) else None
    replicas = 1 if replicas is None else replicas
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas > 1:
        return False
    return not _may_scale_above_one(ctx, pod.obj) and _mounts_rwo_claim(ctx, pod)


def check(ctx, options):
    deployments = [p for p in ctx.pods if p.obj.kind == "Deployment"]
    if not deployments:
        return
    behind: dict[int, list] = {}
    for svc in ctx.of_kind("Service"):
        spec = svc.root.map("spec")
        if spec.str("type") == "ExternalName":
            continue
        for pod in pods_selected_by(spec.str_map("selector"), deployments, svc.namespace):
            behind.setdefault(id(pod.obj), []).append(svc)
    for pod in deployments:
        services = behind.get(id(pod.obj))
        if not services or all(_metrics_only(svc) for svc in services):
            continue
        service = next(svc.name for svc in services if not _metrics_only(svc))
        if pod.obj.root.map("spec").map("strategy").str("type") == "Recreate":
            if _singleton_with_rwo_volume(ctx, pod):
                continue  # a second pod could not mount the volume: Recreate is required
            yield Problem(pod.obj, f"Deployment {pod.obj.name} is behind Service {service} and uses the Recreate "
                          "strategy: every rollout is an outage", "spec.strategy.type")
