"""
## What it does
Checks ConfigMaps for keys that name a credential (`password`, `token`,
`api_key`, ...) with a non-empty value, and for values that look like one (a
URL with a password, a private key, a known API key format). Flags and
small numbers are settings, not credentials. The value is never shown.

## Why is this bad?
ConfigMaps are readable by anyone who can read the namespace, appear in
`kubectl describe` and in logs of deployment tools, and are not encrypted at
rest.

## Example
```yaml
kind: ConfigMap
data:
  DATABASE_URL: postgresql://app:hunter2@db:5432/app
```

## Use instead
Put the value in a Secret (created outside git in production) and reference
it with `secretKeyRef`.
"""

from policycheck.access import child_path
from policycheck.credentials import is_setting_value, name_looks_secret, value_looks_secret
from policycheck.rules.base import Problem

ID = "secret-in-configmap"
FAMILY = "secrets"
LEVEL = "error"
SUMMARY = "ConfigMap keys or values that look like credentials"


def data_field(key):
    return child_path("data", str(key))


def check(ctx, options):
    for cm in ctx.of_kind("ConfigMap"):
        data = cm.root.map("data")
        for key, value in sorted(data.items(), key=lambda kv: str(kv[0])):
            if not isinstance(value, str):
                if value is not None:
                    data.shape.wrong(data_field(key), ("string",), value)
                continue
            if value_looks_secret(value):
                yield Problem(cm, f"ConfigMap {cm.name} key {key} holds a value that looks like a credential",
                              data_field(key))
            elif name_looks_secret(str(key)) and value.strip() and not is_setting_value(value):
                yield Problem(cm, f"ConfigMap {cm.name} key {key} names a credential", data_field(key))
