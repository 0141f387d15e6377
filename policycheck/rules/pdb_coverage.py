"""
## What it does
Checks that every Deployment, StatefulSet or ReplicaSet that runs more than
one replica, or that an HPA scales, is selected by a PodDisruptionBudget of
the overlay.

## Why is this bad?
Without a PDB a node drain or cluster upgrade may evict every replica at
once: the redundancy you pay for does not survive maintenance.

## Example
```yaml
kind: Deployment
spec: {replicas: 2}      # and no PodDisruptionBudget selects its pods
```

## Use instead
```yaml
kind: PodDisruptionBudget
spec:
  minAvailable: 1
  selector: {matchLabels: {app: api}}
```
"""

from policycheck.k8s import pod_template, selector_matches
from policycheck.rules._coverage import SCALABLE, hpa_targets
from policycheck.rules.base import Problem

ID = "pdb-coverage"
FAMILY = "availability"
LEVEL = "error"
SUMMARY = "workloads with more than one replica (or an HPA) are covered by a PDB"


def check(ctx, options):
    scaled = hpa_targets(ctx)
    pdbs = [(p.namespace, p.root.map("spec")) for p in ctx.of_kind("PodDisruptionBudget")]
    for obj in ctx.of_kind(*SCALABLE):
        replicas = obj.root.map("spec").int("replicas")
        replicas = 1 if replicas is None else replicas
        hpa = scaled.get((obj.kind, obj.name, obj.namespace))
        if hpa is None and replicas <= 1:
            continue
        pod = pod_template(obj)
        labels = pod.labels if pod else {}
        covered = any(
            ns == obj.namespace and spec.has("selector") and selector_matches(spec.map("selector"), labels)
            for ns, spec in pdbs
        )
        if not covered:
            why = f"is scaled by HPA {hpa.name}" if hpa is not None else f"runs {replicas} replicas"
            yield Problem(obj, f"{obj.kind} {obj.name} {why} but no PodDisruptionBudget covers it", "spec.selector")
