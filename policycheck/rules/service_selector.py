"""
## What it does
Checks that every Service with a selector selects at least one pod template
of the overlay (same namespace, every selector label equal).

Pods come from the built-in workloads and from custom resources that make
pods: any custom resource whose `spec.template` is a pod template (an Argo
Rollout), and the Prometheus Operator's Prometheus, PrometheusAgent,
Alertmanager and ThanosRuler (`spec.podMetadata.labels` plus the labels the
operator sets: `app.kubernetes.io/name: alertmanager`,
`app.kubernetes.io/instance: <name>`, `alertmanager: <name>`, ...). When the
namespace holds a custom resource whose pods' labels cannot be read from the
manifest (an operator's resource of another kind), a Service that selects
none of the pods the rule knows is not reported: its pods may be that
resource's. Kinds known to make no pods (ServiceMonitor, Certificate,
ExternalSecret, ...) do not count.

## Why is this bad?
A Service that selects nothing has no endpoints: clients get connection
refused, usually because a label was renamed in one place only.

## Example
```yaml
selector: {app: api-server}   # pods are labelled app: api
```

## Use instead
```yaml
selector: {app: api}
```
"""

from policycheck.rules._pod_sources import pod_sources
from policycheck.rules.base import Problem

ID = "service-selector"
FAMILY = "wiring"
LEVEL = "error"
SUMMARY = "each Service selects at least one pod template of the overlay"


def check(ctx, options):
    sources = pod_sources(ctx)
    for svc in ctx.of_kind("Service"):
        spec = svc.root.map("spec")
        selector = spec.str_map("selector")
        if spec.str("type") == "ExternalName" or not selector:
            continue
        if not any(p.matches_map(selector) for p in sources.in_namespace(svc.namespace)):
            if sources.unknown_in(svc.namespace):
                continue  # its pods may be those of a custom resource whose labels an operator decides
            labels = ", ".join(f"{k}={v}" for k, v in sorted(selector.items()))
            yield Problem(svc, f"Service {svc.name} selects no pod of the overlay ({labels})", "spec.selector")
