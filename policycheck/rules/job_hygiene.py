"""
## What it does
Checks how Jobs and CronJobs restart and clean up:

- the pod template's `restartPolicy` is `OnFailure` or `Never` (error: the
  pod default, `Always`, is rejected by the API server for a Job);
- a Job that no CronJob owns sets `ttlSecondsAfterFinished` (warning);
- a CronJob sets `concurrencyPolicy` (warning): the default, `Allow`, starts a
  new run while the last one still runs. Write `Forbid` or `Replace`, or
  `Allow` when overlapping runs are meant.

## Why is this bad?
A finished Job stays in the cluster with its pods and logs until someone
deletes it; overlapping CronJob runs race on the same data and pile up when
one of them hangs.

## Example
```yaml
kind: CronJob
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers: [...]        # restartPolicy defaults to Always
```

## Use instead
```yaml
kind: CronJob
spec:
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
```
"""

from policycheck.k8s import pod_template
from policycheck.model import Severity
from policycheck.rules.base import Problem

ID = "job-hygiene"
FAMILY = "availability"
LEVEL = "error"
SUMMARY = "Jobs restart OnFailure/Never and are cleaned up; CronJobs set concurrencyPolicy"


def _owned_by_cronjob(obj) -> bool:
    return any(ref.str("kind") == "CronJob" for ref in obj.metadata.maps("ownerReferences"))


def check(ctx, options):
    for obj in ctx.of_kind("Job", "CronJob"):
        pod = pod_template(obj)
        if pod is not None:
            policy = pod.spec.str("restartPolicy")
            if policy not in ("OnFailure", "Never"):
                yield Problem(obj, f"{obj.kind} {obj.name}: restartPolicy is {policy or 'unset (Always)'}; a Job's "
                              "pods restart OnFailure or Never", f"{pod.path}.restartPolicy")
        spec = obj.root.map("spec")
        if obj.kind == "Job" and not _owned_by_cronjob(obj) and spec.int("ttlSecondsAfterFinished") is None:
            yield Problem(obj, f"Job {obj.name} sets no ttlSecondsAfterFinished: it stays in the cluster "
                          "after it finishes", "spec.ttlSecondsAfterFinished", severity=Severity.WARNING)
        if obj.kind == "CronJob" and spec.str("concurrencyPolicy") is None:
            yield Problem(obj, f"CronJob {obj.name} sets no concurrencyPolicy (default Allow: runs may overlap); "
                          "Forbid or Replace is recommended", "spec.concurrencyPolicy", severity=Severity.WARNING)
