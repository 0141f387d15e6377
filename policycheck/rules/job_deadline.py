"""
## What it does
Checks that every run of a Job can be stopped: each Job sets
`spec.activeDeadlineSeconds`, and each CronJob sets it in its job template
(`spec.jobTemplate.spec.activeDeadlineSeconds`). A CronJob without
`spec.startingDeadlineSeconds` is reported too, as a warning: it is
recommended, not required.

## Why is this bad?
A Job without a deadline that hangs (a lock never released, a network call
without a timeout) runs, and holds its resources, forever. Under a CronJob it
does more harm: with `concurrencyPolicy: Forbid` no later run starts while it
hangs, and with `Allow` hung runs pile up. A starting deadline on the CronJob
does not help there: it only skips runs that cannot start in time, it never
stops one that has started.

Without `startingDeadlineSeconds`, a run that could not start on time (the
controller was down, or `Forbid` held it back) starts as soon as it can,
however late: a nightly job may run in the middle of the day. After more
than 100 missed times the controller also records a `TooManyMissedTimes`
warning event.

## Example
```yaml
kind: CronJob
spec:
  schedule: "0 3 * * *"
  startingDeadlineSeconds: 600
  jobTemplate:
    spec:
      template: {...}
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
      template: {...}
```
"""

from policycheck.model import Severity
from policycheck.rules.base import Problem

ID = "job-deadline"
FAMILY = "availability"
LEVEL = "error"
SUMMARY = "Jobs and CronJob job templates set activeDeadlineSeconds; CronJobs startingDeadlineSeconds"


def check(ctx, options):
    for obj in ctx.of_kind("Job", "CronJob"):
        spec = obj.root.map("spec")
        if obj.kind == "Job":
            if spec.int("activeDeadlineSeconds") is None:
                yield Problem(obj, f"Job {obj.name} sets no activeDeadlineSeconds: a run that hangs is never "
                              "stopped", "spec.activeDeadlineSeconds")
            continue
        if spec.map("jobTemplate").map("spec").int("activeDeadlineSeconds") is None:
            blocked = " and, with concurrencyPolicy Forbid, blocks every later run" \
                if spec.str("concurrencyPolicy") == "Forbid" else ""
            yield Problem(obj, f"CronJob {obj.name} sets no activeDeadlineSeconds in its jobTemplate: a run that "
                          f"hangs is never stopped{blocked}", "spec.jobTemplate.spec.activeDeadlineSeconds")
        if spec.int("startingDeadlineSeconds") is None:
            yield Problem(obj, f"CronJob {obj.name} sets no startingDeadlineSeconds: a run that cannot start on "
                          "time starts whenever it can, however late (recommended)", "spec.startingDeadlineSeconds",
                          severity=Severity.WARNING)
