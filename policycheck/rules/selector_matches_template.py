"""
## What it does
Checks that the `spec.selector` of a workload (Deployment, StatefulSet,
DaemonSet, ReplicaSet, ReplicationController, and a Job that sets one)
selects its own pod template: every `matchLabels` entry and every
`matchExpressions` requirement holds for the template's labels.

## Why is this bad?
The API server rejects the workload (`selector does not match template
labels`), so the apply fails; for a Job with `manualSelector` the controller
never sees the pods it creates.

## Example
```yaml
selector:
  matchLabels: {app: api}
template:
  metadata:
    labels: {app: web}
```

## Use instead
```yaml
selector:
  matchLabels: {app: api}
template:
  metadata:
    labels: {app: api}
```
Selectors are immutable: write them by hand in the base.
"""

from policycheck.access import Node, Shape, child_path
from policycheck.k8s import selector_matches
from policycheck.rules.base import Problem

ID = "selector-matches-template"
FAMILY = "wiring"
LEVEL = "error"
SUMMARY = "a workload's selector matches its pod template labels"
KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job")


def check(ctx, options):
    for pod in ctx.pods:
        kind = pod.obj.kind
        spec = pod.obj.root.map("spec")
        labels = pod.labels
        if kind == "ReplicationController":
            selector = spec.str_map("selector")
            for key, value in selector.items():
                if labels.get(key) != value:
                    yield _problem(pod, f"selector {key}={value}", child_path(f"{spec.path}.selector", key))
            continue
        if kind not in KINDS or not spec.has("selector"):
            continue
        selector = spec.map("selector")
        matching = selector.map("matchLabels")
        for key, value in selector.str_map("matchLabels").items():
            if labels.get(key) != value:
                yield _problem(pod, f"selector {key}={value}", child_path(matching.path, key))
        for expr in selector.maps("matchExpressions"):
            single = Node({"matchExpressions": [expr.value]}, expr.path, Shape())  # this requirement alone
            if not selector_matches(single, labels):
                yield _problem(pod, f"selector requirement {expr.str('key')} {expr.str('operator')} "
                               f"{expr.strs('values')}", expr.path)


def _problem(pod, what, field):
    return Problem(pod.obj, f"{pod.obj.kind} {pod.obj.name}: {what} does not match its pod template labels", field)
