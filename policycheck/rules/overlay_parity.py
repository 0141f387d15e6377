"""
## What it does
Compares the two overlays of each pair configured under `pairs:` in
`policycheck.yaml` (see below): every object of the kinds in `kinds`
(workloads, Services and PodDisruptionBudgets by default) that one overlay
renders must be rendered by the other too. Objects match by kind and name;
the namespace, a generator's hash suffix and the name prefix/suffix an
overlay declares are ignored.

An object the stronger (second) overlay lacks is reported at the stronger
overlay's kustomization (its `resources:` line), one the weaker (first)
overlay lacks at the weaker overlay's kustomization; the message says which
overlay has it and at which file:line. Both findings belong to the stronger
overlay of the pair.

Options: `ignore` (patterns `Kind/name`, `*` wildcards) are compared in
neither direction; `only-in-stronger` may exist in the stronger overlay alone
(the PodDisruptionBudgets only production has), `only-in-weaker` in the
weaker alone (a debug tool of dev).

The rule runs on configured pairs only: without `pairs:` it checks nothing
and costs nothing. A pair whose other overlay is not part of the run (not
given on the command line, another `--shard`) is not compared; a note says
so.

## Why is this bad?
Staging and production drift apart one forgotten `resources:` entry at a
time: a worker that dev runs and prod never deploys is found in production,
by the users.

## Example
```yaml
# policycheck.yaml
pairs:
  - weaker: overlays/dev
    stronger: overlays/prod
# overlays/dev renders Deployment/worker, overlays/prod does not.
```

## Use instead
Add the component to the overlay that lacks it, or say that the difference
is meant:
```yaml
pairs:
  - weaker: overlays/dev
    stronger: overlays/prod
    rules:
      overlay-parity:
        options:
          only-in-stronger: ["PodDisruptionBudget/*"]
          only-in-weaker: ["Deployment/mailcatcher"]
```
"""

from policycheck.rules._pairs import WORKLOADS, key, matches
from policycheck.rules.base import Problem

ID = "overlay-parity"
FAMILY = "overlays"
LEVEL = "error"
SUMMARY = "workloads, Services and PDBs of one overlay of a configured pair exist in the other"
SCOPE = "pair"
OPTIONS = {
    "kinds": [*WORKLOADS, "Service", "PodDisruptionBudget"],
    "ignore": [],
    "only-in-stronger": [],
    "only-in-weaker": [],
}
OPTION_TYPES = {"ignore": [str], "only-in-stronger": [str], "only-in-weaker": [str]}


def check(pair, options):
    kinds = set(options["kinds"])
    ignore = options["ignore"]
    for present, lacking, allowed in ((pair.weaker, pair.stronger, options["only-in-weaker"]),
                                      (pair.stronger, pair.weaker, options["only-in-stronger"])):
        for obj in present.objects:
            if obj.kind not in kinds:
                continue
            kind, name = key(obj)
            if lacking.find(kind, name) is not None or matches(kind, name, ignore) or matches(kind, name, allowed):
                continue
            yield Problem(pair.absent(obj, lacking), f"{kind} {name} of {present.overlay} ({pair.where(obj)}) is "
                          f"missing from {lacking.overlay}", "resources")
