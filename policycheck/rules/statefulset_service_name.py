"""
## What it does
Checks that the `serviceName` of each StatefulSet names a Service of the
overlay in the same namespace that is headless (`clusterIP: None`) and whose
selector selects the StatefulSet's pods. A StatefulSet without `serviceName`
is not checked (the field is optional: its pods then get no per-pod DNS name).

When the overlay holds no Service at all in the StatefulSet's namespace, the
governing Service is taken to be applied from elsewhere (another overlay or
kustomization, a Helm release, an operator) and nothing is reported. Once the
namespace has a Service, the rule is strict: a `serviceName` naming none of
them, or a Service that is not headless or selects other pods, is an error.

## Why is this bad?
The governing Service gives each replica its stable DNS name
(`postgresql-0.postgresql-headless`). If it is missing, has a cluster IP, or
selects other pods, the names do not resolve: replicas that find each other
by name (primaries, Redis sentinels, peers of a cluster) fail to start.

## Example
```yaml
kind: StatefulSet
spec:
  serviceName: postgresql        # a ClusterIP Service
```

## Use instead
```yaml
kind: Service
metadata: {name: postgresql-headless}
spec:
  clusterIP: None
  selector: {app: postgresql}
---
kind: StatefulSet
spec:
  serviceName: postgresql-headless
```
"""

from policycheck.k8s import pod_template
from policycheck.rules.base import Problem

ID = "statefulset-service-name"
FAMILY = "wiring"
LEVEL = "error"
SUMMARY = "a StatefulSet's serviceName is a headless Service that selects its pods"


def check(ctx, options):
    for sts in ctx.of_kind("StatefulSet"):
        name = sts.root.map("spec").str("serviceName")
        if not name:
            continue
        svc = ctx.find("Service", name, sts.namespace)
        if svc is None or svc.namespace != sts.namespace:
            if not any(other.namespace == sts.namespace for other in ctx.of_kind("Service")):
                continue  # no Service of the overlay in this namespace: it is applied from elsewhere
            yield Problem(sts, f"StatefulSet {sts.name}: serviceName {name} names no Service of the overlay "
                          "in its namespace", "spec.serviceName")
            continue
        spec = svc.root.map("spec")
        if spec.str("clusterIP") != "None":
            yield Problem(sts, f"StatefulSet {sts.name}: Service {name} is not headless (clusterIP: None); "
                          "its pods get no stable DNS names", "spec.serviceName")
            continue
        selector = spec.str_map("selector")
        pod = pod_template(sts)
        labels = pod.labels if pod else {}
        if not selector or any(labels.get(k) != v for k, v in selector.items()):
            yield Problem(sts, f"StatefulSet {sts.name}: headless Service {name} does not select its pods",
                          "spec.serviceName")
