"""
## What it does
Checks that each Service is of a type the profile allows: option
`allowed-types`, default `ClusterIP` and `ExternalName` (a Service without
`type` is a ClusterIP). A profile that exposes Services on purpose widens it,
e.g. a dev profile for a local cluster:

```yaml
profiles:
  dev:
    rules:
      service-exposure:
        options: {allowed-types: [ClusterIP, ExternalName, NodePort]}
```

## Why is this bad?
A NodePort opens the port on every node of the cluster; a LoadBalancer puts
the Service on a cloud load balancer, often on the internet. Either way the
traffic skips the Ingress with its TLS, authentication and rate limits.

## Example
```yaml
kind: Service
spec:
  type: LoadBalancer
```

## Use instead
```yaml
kind: Service
spec:
  type: ClusterIP       # reached through the Ingress
```
"""

from policycheck.rules.base import Problem

ID = "service-exposure"
FAMILY = "security"
LEVEL = "error"
SUMMARY = "Services are of a type the profile allows (no NodePort/LoadBalancer by default)"
OPTIONS = {"allowed-types": ["ClusterIP", "ExternalName"]}
OPTION_TYPES = {"allowed-types": [("ClusterIP", "ExternalName", "NodePort", "LoadBalancer")]}


def check(ctx, options):
    allowed = options["allowed-types"]
    for svc in ctx.of_kind("Service"):
        kind = svc.root.map("spec").str("type") or "ClusterIP"
        if kind not in allowed:
            yield Problem(svc, f"Service {svc.name} is of type {kind}, which exposes it outside the cluster "
                          f"network; allowed: {', '.join(allowed) or 'none'}", "spec.type")
