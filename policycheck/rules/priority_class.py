"""
## What it does
Checks that every pod (Pods and the pod templates of workloads) sets a
`priorityClassName`, and, when option `allowed` lists classes, one of them.
**Off by default** in every built-in profile: the classes must exist in the
cluster, so turn it on where they do, in `policycheck.yaml`:
```yaml
profiles:
  prod:
    rules:
      priority-class: {level: error, options: {allowed: [business-critical, batch]}}
```

## Why is this bad?
Without a priority class every pod has priority 0 (or the cluster's global
default): under resource pressure the scheduler cannot tell a critical API
from a batch job, and preemption evicts the wrong one.

## Example
```yaml
spec:
  containers: [...]
```

## Use instead
```yaml
spec:
  priorityClassName: business-critical
  containers: [...]
```

## References
Polaris `priorityClassNotSet`.
"""

from policycheck.rules.base import Problem

ID = "priority-class"
FAMILY = "availability"
LEVEL = "warning"
SUMMARY = "pods set a priorityClassName (from the allowed classes)"
ENABLED = False  # off in every built-in profile: a user turns it on
OPTIONS = {"allowed": []}
OPTION_TYPES = {"allowed": [str]}


def check(ctx, options):
    allowed = list(options.get("allowed", ()))
    for pod in ctx.pods:
        name = pod.spec.str("priorityClassName")
        if not name:
            yield Problem(pod.obj, f"{pod.obj.kind} {pod.obj.name} sets no priorityClassName",
                          f"{pod.path}.priorityClassName")
        elif allowed and name not in allowed:
            yield Problem(pod.obj, f"{pod.obj.kind} {pod.obj.name} uses priority class {name}, not one of "
                          f"{', '.join(allowed)}", f"{pod.path}.priorityClassName")
