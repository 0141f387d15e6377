"""
## What it does
Reports a field that holds a value of the wrong type where a check reads
it: `env: {A: b}` instead of a list, `targetPort: [80]`, `spec: 1`, a label
selector given as a list. Each object and field is reported once, with the
path, the expected type and the type found. Nesting deeper than the
documented limit (100 levels) is reported here too.

Every other check reads such a field as absent and goes on, so one odd
object costs one finding, never the run. Where the `schema` rule reports
the same field, only this finding is kept.

## Why is this bad?
The API server rejects the object, so `kubectl apply` fails half-way; worse,
the other checks could not read the field, so what it should have said
(a privileged flag, a port) was not checked.

## Example
```yaml
env:
  LOG_LEVEL: info
```

## Use instead
```yaml
env:
  - name: LOG_LEVEL
    value: info
```
"""

from policycheck.model import MAX_DEPTH
from policycheck.rules.base import Problem

ID = "field-type"
FAMILY = "api"
LEVEL = "error"
SUMMARY = "fields the checks read hold the type Kubernetes expects"
# Listed last in the registry: it reports what the rules before it recorded.


def check(ctx, options):
    for obj in ctx.objects:
        if obj.too_deep and obj.too_deep not in obj.parse_problems:
            yield Problem(obj, f"{obj.too_deep}: nested deeper than {MAX_DEPTH} levels; not validated against "
                          "the schema nor passed to the Rego stage", None)
        for path, problem in {**obj.parse_problems, **obj.shape.problems}.items():
            yield Problem(obj, f"{path}: {problem}", path)
