"""
## What it does
Checks container `env` entries for literal credential values: a variable
whose name names a credential (`*_PASSWORD`, `*_TOKEN`, `*_API_KEY`, ...)
with a literal `value`, or any literal value that looks like one (a URL with
a password, a private key, a known API key format). Flags and small numbers
(`MYSQL_ALLOW_EMPTY_PASSWORD: "true"`) are settings, not credentials. The
value is never shown.

## Why is this bad?
A literal in the manifest is a secret in git, in every rendered artifact and
in `kubectl get -o yaml` for anyone with read access to the workload.

## Example
```yaml
env:
  - name: OPENAI_API_KEY
    value: sk-...
```

## Use instead
```yaml
env:
  - name: OPENAI_API_KEY
    valueFrom:
      secretKeyRef: {name: ai-agents-app, key: OPENAI_API_KEY}
```
"""

from policycheck.credentials import is_setting_value, name_looks_secret, value_looks_secret
from policycheck.rules.base import Problem

ID = "secret-in-env"
FAMILY = "secrets"
LEVEL = "error"
SUMMARY = "no literal credential values in env"


def check(ctx, options):
    for c in ctx.containers():
        for env in c.spec.maps("env"):
            if not env.has("value"):
                continue
            name, value = env.str("name") or "", env.get("value")
            if value is None:
                continue
            named = name_looks_secret(name) and str(value).strip() and not is_setting_value(value)
            if value_looks_secret(value) or named:
                yield Problem(c.pod.obj, f"container {c.name} env {name} holds a literal credential",
                              f"{env.path}.value", c.name)
