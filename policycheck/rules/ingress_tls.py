"""
## What it does
Checks that every host of every Ingress rule is listed in a `tls:` entry of
that Ingress (wildcards `*.example.com` count for one label).

## Why is this bad?
A host without TLS serves credentials and API keys in clear text.

## Example
```yaml
rules:
  - host: api.example.com
```

## Use instead
```yaml
tls:
  - hosts: [api.example.com]
    secretName: api-tls
```
"""

from policycheck.rules.base import Problem

ID = "ingress-tls"
FAMILY = "wiring"
LEVEL = "error"
SUMMARY = "every Ingress host is covered by TLS"


def _covered(host, patterns):
    for pattern in patterns:
        if pattern == host:
            return True
        if pattern.startswith("*.") and host.count(".") == pattern.count(".") and host.endswith(pattern[1:]):
            return True
    return False


def check(ctx, options):
    for ing in ctx.of_kind("Ingress"):
        spec = ing.doc.get("spec") or {}
        tls_hosts = [h for entry in spec.get("tls") or [] for h in (entry or {}).get("hosts") or []]
        for index, rule in enumerate(spec.get("rules") or []):
            host = (rule or {}).get("host")
            if not host:
                if not spec.get("tls"):
                    yield Problem(ing, f"Ingress {ing.name} serves any host without TLS", f"spec.rules[{index}]")
                continue
            if not _covered(host, tls_hosts):
                yield Problem(ing, f"Ingress {ing.name} host {host} is not covered by TLS",
                              f"spec.rules[{index}].host")
