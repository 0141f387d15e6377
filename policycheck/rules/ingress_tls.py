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

from policycheck.k8s import tls_covers
from policycheck.rules.base import Problem

ID = "ingress-tls"
FAMILY = "wiring"
LEVEL = "error"
SUMMARY = "every Ingress host is covered by TLS"


def check(ctx, options):
    for ing in ctx.of_kind("Ingress"):
        spec = ing.root.map("spec")
        tls = spec.maps("tls")
        tls_hosts = [h for entry in tls for h in entry.strs("hosts")]
        for rule in spec.maps("rules"):
            host = rule.str("host")
            if not host:
                if not tls:
                    yield Problem(ing, f"Ingress {ing.name} serves any host without TLS", rule.path)
                continue
            if not tls_covers(host, tls_hosts):
                yield Problem(ing, f"Ingress {ing.name} host {host} is not covered by TLS", f"{rule.path}.host")
