"""
## What it does
Checks that each PodDisruptionBudget allows at least one eviction when every
pod it selects is healthy: it fires on `maxUnavailable: 0` (or `"0%"`), on
`minAvailable: "100%"`, and on a `minAvailable` that reaches the replicas of
the workloads of the overlay it selects (their `replicas`, or the
`minReplicas` of the HPA that scales them; a percentage is rounded up, as the
disruption controller does).

## Why is this bad?
A budget that allows no disruption blocks every node drain: cluster upgrades
hang until someone deletes the PDB by hand, which defeats it.

## Example
```yaml
kind: PodDisruptionBudget
spec:
  minAvailable: 2          # the Deployment runs 2 replicas
  selector: {matchLabels: {app: api}}
```

## Use instead
```yaml
spec:
  maxUnavailable: 1
  selector: {matchLabels: {app: api}}
```
"""

from __future__ import annotations

import re

from policycheck.k8s import pod_template, selector_matches
from policycheck.rules._coverage import hpa_targets, minimum_replicas
from policycheck.rules.base import Problem

ID = "pdb-blocks-eviction"
FAMILY = "availability"
LEVEL = "error"
SUMMARY = "a PodDisruptionBudget allows at least one eviction"

WORKLOADS = ("Deployment", "StatefulSet", "ReplicaSet", "ReplicationController")
_PERCENT = re.compile(r"([0-9]{1,4})%")


def _amount(value: int | str | None, expected: int | None) -> int | None:
    """An IntOrString budget as a number of pods (a percentage of ``expected``, rounded up)."""
    if isinstance(value, int):
        return value
    match = _PERCENT.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return None
    percent = int(match.group(1))
    if expected is None:
        return 0 if percent == 0 else None
    return -(-percent * expected // 100)


def expected_pods(ctx, pdb, scaled) -> int | None:
    """The replicas of the workloads the PDB selects (HPA minReplicas where an HPA scales one);
    ``scaled`` is hpa_targets(ctx)."""
    spec = pdb.root.map("spec")
    if not spec.has("selector"):
        return None
    total, found = 0, False
    for obj in ctx.of_kind(*WORKLOADS):
        pod = pod_template(obj)
        if obj.namespace != pdb.namespace or pod is None or not selector_matches(spec.map("selector"), pod.labels):
            continue
        found = True
        total += minimum_replicas(obj, scaled.get((obj.kind, obj.name, obj.namespace)))[0]
    return total if found else None


def check(ctx, options):
    scaled = hpa_targets(ctx)  # once, not once per PDB
    for pdb in ctx.of_kind("PodDisruptionBudget"):
        spec = pdb.root.map("spec")
        expected = expected_pods(ctx, pdb, scaled)
        if spec.has("maxUnavailable"):
            raw = spec.port("maxUnavailable")
            if _amount(raw, expected) == 0 and (expected is None or expected > 0):
                yield Problem(pdb, f"PodDisruptionBudget {pdb.name}: maxUnavailable {raw} allows no eviction; "
                              "every node drain is blocked", "spec.maxUnavailable")
        elif spec.has("minAvailable"):
            raw = spec.port("minAvailable")
            full = isinstance(raw, str) and (match := _PERCENT.fullmatch(raw)) is not None \
                and int(match.group(1)) >= 100
            need = _amount(raw, expected)
            if full or (expected is not None and need is not None and need >= expected):
                of = f" of {expected} replica(s)" if expected is not None else ""
                yield Problem(pdb, f"PodDisruptionBudget {pdb.name}: minAvailable {raw}{of} allows no eviction; "
                              "every node drain is blocked", "spec.minAvailable")
