"""
## What it does
Checks that every pod (Pods and the pod templates of workloads) sets a
`priorityClassName`, and, when option `allowed` lists classes, one of them.
On in the built-in `prod` profile (a warning, any class) and off in the others:
only production needs the scheduler to rank pods. The classes must exist in the
cluster, so name them with option `allowed` in `policycheck.yaml`:
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
SUMMARY = "pods set a priorityClassName from the allowed classes (profile-controlled, on in prod)"
ENABLED = False  # off in every built-in profile but prod (config.BUILTIN)
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
