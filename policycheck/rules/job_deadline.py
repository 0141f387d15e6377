"""
## What it does
Checks that each Job sets `spec.activeDeadlineSeconds` and each CronJob sets
`spec.startingDeadlineSeconds`.

## Why is this bad?
A Job without a deadline that hangs (a lock never released, a network call
without a timeout) runs, and holds its resources, forever. A CronJob without
a starting deadline that misses its schedule (controller down, Forbid while a
run hangs) counts missed runs from the last one; after 100 it stops
scheduling for good, and a late run may start hours after it was meant to.

## Example
```yaml
kind: CronJob
spec:
  schedule: "0 3 * * *"
  jobTemplate: {...}
```

## Use instead
```yaml
kind: CronJob
spec:
  schedule: "0 3 * * *"
  startingDeadlineSeconds: 600
  jobTemplate:
    spec:
      activeDeadlineSeconds: 3600
```
"""

from policycheck.rules.base import Problem

ID = "job-deadline"
FAMILY = "availability"
LEVEL = "error"
SUMMARY = "Jobs set activeDeadlineSeconds, CronJobs startingDeadlineSeconds"

_FIELD = {"Job": "activeDeadlineSeconds", "CronJob": "startingDeadlineSeconds"}


def check(ctx, options):
    for obj in ctx.of_kind("Job", "CronJob"):
        key = _FIELD[obj.kind]
        if obj.root.map("spec").int(key) is None:
            yield Problem(obj, f"{obj.kind} {obj.name} sets no {key}: a run that hangs or starts late is "
                          "never stopped", f"spec.{key}")
