"""
## What it does
Checks that every Namespace of the overlay enforces a Pod Security Standards
level at least as strict as the `level` option (default `restricted`)
through the `pod-security.kubernetes.io/enforce` label.

## Why is this bad?
Without an enforce label the API server admits privileged pods into the
namespace; the gate's checks are then the only line of defence.

## Example
```yaml
kind: Namespace
metadata:
  labels:
    pod-security.kubernetes.io/warn: restricted
```

## Use instead
```yaml
labels:
  pod-security.kubernetes.io/enforce: restricted
  pod-security.kubernetes.io/enforce-version: v1.32
```
"""

from policycheck.rules.base import Problem

ID = "namespace-pod-security"
FAMILY = "security"
LEVEL = "error"
SUMMARY = "Namespaces enforce Pod Security Standards (level configurable, default restricted)"
OPTIONS = {"level": "restricted"}
OPTION_TYPES = {"level": ("privileged", "baseline", "restricted")}
LEVELS = {"privileged": 0, "baseline": 1, "restricted": 2}
LABEL = "pod-security.kubernetes.io/enforce"


def check(ctx, options):
    wanted = options["level"]
    for ns in ctx.of_kind("Namespace"):
        level = ns.labels.get(LABEL)
        if LEVELS.get(level or "", -1) < LEVELS.get(wanted, 2):
            yield Problem(ns, f"Namespace {ns.name} enforces {level or 'no'} Pod Security level; "
                          f"{wanted} is required", f'metadata.labels["{LABEL}"]')
