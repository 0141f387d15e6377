"""
## What it does
Checks the exemption annotations themselves:
`policycheck.io/exempt.<rule-id>` must give a non-empty reason and name a
known rule; `policycheck.io/exempt-until.<rule-id>` must be a `YYYY-MM-DD`
date that has not passed and belong to an exemption. An exemption that
breaks this rule does not exempt anything.

## Why is this bad?
An exemption without a reason cannot be reviewed; an expired one was meant
to end; a misspelt rule id exempts nothing while looking as if it did.

## Example
```yaml
annotations:
  policycheck.io/exempt.liveness-probe: ""
```

## Use instead
```yaml
annotations:
  policycheck.io/exempt.liveness-probe: "Celery workers serve no HTTP; see docs/deployment.md"
  policycheck.io/exempt-until.liveness-probe: "2027-06-30"
```
"""

from policycheck.exemptions import problems

ID = "exemption-reason"
FAMILY = "api"
LEVEL = "error"
SUMMARY = "exemptions have a reason, name a known rule, and have not expired"


def check(ctx, options):
    yield from problems(ctx)
