"""
## What it does
Checks that every Service with a selector selects at least one pod template
of the overlay (same namespace, every selector label equal).

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

from policycheck.k8s import pods_selected_by
from policycheck.rules.base import Problem

ID = "service-selector"
FAMILY = "wiring"
LEVEL = "error"
SUMMARY = "each Service selects at least one pod template of the overlay"


def check(ctx, options):
    for svc in ctx.of_kind("Service"):
        spec = svc.root.map("spec")
        selector = spec.str_map("selector")
        if spec.str("type") == "ExternalName" or not selector:
            continue
        if not pods_selected_by(selector, ctx.pods, svc.namespace):
            labels = ", ".join(f"{k}={v}" for k, v in sorted(selector.items()))
            yield Problem(svc, f"Service {svc.name} selects no pod of the overlay ({labels})", "spec.selector")
