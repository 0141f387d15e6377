"""
## What it does
Validates every object strictly against the OpenAPI schema of the target
Kubernetes version (`--kube-version`), offline: unknown fields, wrong types
and missing required fields are errors. Kinds the schema does not know
(custom resources) are reported as unvalidated at `warning`.

## Why is this bad?
`kubectl apply` rejects an invalid object half-way through an apply, or,
with client-side validation off, silently drops a misspelt field: a
`livenessprobe:` that never probes.

## Example
```yaml
containers:
  - name: api
    imagePullPolcy: Always
```

## Use instead
```yaml
    imagePullPolicy: Always
```
"""

from policycheck import schema as k8s_schema
from policycheck.model import Severity
from policycheck.rules.base import Problem

ID = "schema"
FAMILY = "api"
LEVEL = "error"
SUMMARY = "strict validation against the Kubernetes OpenAPI schema of the target version, offline"


def check(ctx, options):
    for obj in ctx.objects:
        if obj.too_deep:
            continue  # field-type reports it; the validator would exhaust the stack
        try:
            errors = k8s_schema.validate(obj.doc, ctx.kube_version)
        except RecursionError:
            yield Problem(obj, "the object nests too deeply to validate", None)
            continue
        if errors is None:
            yield Problem(obj, f"{obj.api_version} {obj.kind} is not in the Kubernetes {ctx.kube_version} schema: "
                          "unvalidated", "apiVersion", severity=Severity.WARNING)
            continue
        for error in errors:
            yield Problem(obj, f"{error.field}: {error.message}", error.field)
