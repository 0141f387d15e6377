"""
## What it does
For each pair configured under `pairs:` in `policycheck.yaml` (weaker, then
stronger: dev, then prod), checks that every workload and Ingress the two
overlays share (matched as in `overlay-parity`) is at least as strong in the
stronger overlay:

- `replicas`: a Deployment, StatefulSet or ReplicaSet runs at least as many
  replicas; the minimum of each is the `minReplicas` of the HPA that scales
  it (1 when unset), else its `replicas` (1 when unset);
- `requests`: each container (matched by name, init containers too) requests
  at least the quantity of every resource the weaker one requests, compared
  exactly as quantities (`500m` < `1`, `1Gi` = `1024Mi`);
- `tls`: every Ingress host the weaker overlay has TLS for has TLS in the
  stronger one; when the stronger overlay serves none of those host names
  (environments have host names of their own), every host it serves must
  have TLS;
- `security-context`: for each container, what the weaker overlay enforces
  the stronger one enforces too: `runAsNonRoot: true` and the seccomp type
  `RuntimeDefault`/`Localhost` (container or pod level),
  `readOnlyRootFilesystem: true`, `allowPrivilegeEscalation: false`,
  `privileged` not true, every dropped capability dropped (or `ALL`), no
  capability added that the weaker one does not add.

Each finding points at the stronger overlay's line that set the weaker value
(its `replicas:` entry, patch or base line; the container or object when the
field is missing). Option `checks` picks the comparisons, `ignore` skips
objects (`Kind/name` patterns). The rule runs on configured pairs only.

## Why is this bad?
A patch meant for dev that lands in prod's kustomization, or a prod patch
that replaces a whole `resources:` block, quietly gives production fewer
replicas, smaller requests, no TLS or a root container, while every rule of
one overlay still passes.

## Example
```yaml
# overlays/dev:  replicas: [{name: api, count: 2}]
# overlays/prod: replicas: [{name: api, count: 1}]
```

## Use instead
```yaml
# overlays/prod/kustomization.yaml
replicas:
  - {name: api, count: 2}
```
"""

from policycheck.k8s import containers, effective, pod_template, security_context, tls_covers
from policycheck.rules._coverage import minimum_replicas
from policycheck.rules._pairs import SCALED, WORKLOADS, key, matches, quantity
from policycheck.rules.base import Problem

ID = "prod-not-weaker"
FAMILY = "overlays"
LEVEL = "error"
SUMMARY = "the stronger overlay of a configured pair has at least the replicas, requests, TLS and security"
SCOPE = "pair"
CHECKS = ("replicas", "requests", "tls", "security-context")
OPTIONS = {"checks": list(CHECKS), "ignore": []}
OPTION_TYPES = {"checks": [CHECKS], "ignore": [str]}
SEALED = ("RuntimeDefault", "Localhost")


def check(pair, options):
    checks = set(options["checks"])
    for weak in pair.weaker.objects:
        if weak.kind not in (*WORKLOADS, "ReplicaSet", "Ingress"):
            continue
        kind, name = key(weak)
        strong = pair.stronger.find(kind, name)
        if strong is None or matches(kind, name, options["ignore"]):
            continue
        if kind == "Ingress":
            if "tls" in checks:
                yield from _tls(pair, weak, strong)
            continue
        if "replicas" in checks and kind in SCALED:
            yield from _replicas(pair, weak, strong)
        if not checks & {"requests", "security-context"}:
            continue
        weak_pod, strong_pod = pod_template(weak), pod_template(strong)
        if weak_pod is None or strong_pod is None:
            continue
        theirs = {(c.list_name, c.name): c for c in containers(weak_pod)}
        for c in containers(strong_pod):
            other = theirs.get((c.list_name, c.name))
            if other is None:
                continue
            if "requests" in checks:
                yield from _requests(pair, other, c)
            if "security-context" in checks:
                yield from _security(pair, other, c)


def _minimum(side, obj):
    """(minimum replicas, object and field that set it)."""
    return minimum_replicas(obj, side.hpa_for(obj))


def _replicas(pair, weak, strong):
    low, _, _ = _minimum(pair.weaker, weak)
    high, where, field = _minimum(pair.stronger, strong)
    if high < low:
        via = f" (HPA {where.name} minReplicas)" if where is not strong else ""
        yield Problem(where, f"{strong.kind} {strong.name} runs {high} replica(s){via} in {pair.stronger.overlay}, "
                      f"fewer than the {low} of {pair.weaker.overlay}", field)


def _resource_field(path, resource):
    plain = resource.replace("-", "").replace("_", "").isalnum()
    return f"{path}.resources.requests.{resource}" if plain else f'{path}.resources.requests["{resource}"]'


def _requests(pair, weak, strong):
    weak_requests = weak.spec.map("resources").map("requests")
    strong_requests = strong.spec.map("resources").map("requests")
    for resource, _ in weak_requests.items():
        if not isinstance(resource, str):
            continue
        low = quantity(weak_requests.get(resource, "string", "number"))
        if low is None:
            continue
        raw = strong_requests.get(resource, "string", "number")
        high = quantity(raw)
        if high is not None and high >= low:
            continue
        shown = weak_requests.value.get(resource)
        what = f"requests {resource} {raw}" if high is not None else f"requests no {resource}"
        yield Problem(strong.pod.obj, f"container {strong.name} {what} in {pair.stronger.overlay}, less than the "
                      f"{shown} of {pair.weaker.overlay}", _resource_field(strong.path, resource), strong.name)


def _security(pair, weak, strong):
    here = f"in {pair.stronger.overlay} but not in {pair.weaker.overlay}"
    sc_path = f"{strong.path}.securityContext"
    if effective(weak, "runAsNonRoot", "boolean")[0] is True:
        value, where = effective(strong, "runAsNonRoot", "boolean")
        if value is not True:
            yield Problem(strong.pod.obj, f"container {strong.name} may run as root {here}",
                          where or f"{sc_path}.runAsNonRoot", strong.name)
    weak_profile, _ = effective(weak, "seccompProfile", "mapping")
    if isinstance(weak_profile, dict) and weak_profile.get("type") in SEALED:
        profile, where = effective(strong, "seccompProfile", "mapping")
        kind = profile.get("type") if isinstance(profile, dict) else None
        if kind not in SEALED:
            shown = kind if isinstance(kind, str) and kind else "unset"
            yield Problem(strong.pod.obj, f"container {strong.name} has seccomp profile {shown} {here}",
                          f"{where}.type" if where else f"{strong.pod.path}.securityContext.seccompProfile.type",
                          strong.name)
    weak_sc, strong_sc = security_context(weak), security_context(strong)
    if weak_sc.bool("readOnlyRootFilesystem") is True and strong_sc.bool("readOnlyRootFilesystem") is not True:
        yield Problem(strong.pod.obj, f"container {strong.name} has a writable root filesystem {here}",
                      f"{sc_path}.readOnlyRootFilesystem", strong.name)
    if weak_sc.bool("allowPrivilegeEscalation") is False and strong_sc.bool("allowPrivilegeEscalation") is not False:
        yield Problem(strong.pod.obj, f"container {strong.name} may escalate privileges {here}",
                      f"{sc_path}.allowPrivilegeEscalation", strong.name)
    if weak_sc.bool("privileged") is not True and strong_sc.bool("privileged") is True:
        yield Problem(strong.pod.obj, f"container {strong.name} is privileged {here}", f"{sc_path}.privileged",
                      strong.name)
    weak_caps, strong_caps = weak_sc.map("capabilities"), strong_sc.map("capabilities")
    dropped = set(strong_caps.strs("drop"))
    if "ALL" not in dropped:
        for cap in weak_caps.strs("drop"):
            if cap not in dropped:
                yield Problem(strong.pod.obj, f"container {strong.name} keeps capability {cap} {here} (dropped "
                              f"there)", f"{strong_caps.path}.drop", strong.name)
    added = set(weak_caps.strs("add"))
    for cap in strong_caps.str_items("add"):
        if cap.value not in added:
            yield Problem(strong.pod.obj, f"container {strong.name} adds capability {cap.value} {here}", cap.path,
                          strong.name)


def _tls_hosts(spec, served):
    """The TLS host patterns of an Ingress spec (an entry without hosts covers every host it serves)."""
    hosts = []
    for entry in spec.maps("tls"):
        listed = entry.strs("hosts")
        hosts.extend(listed if entry.has("hosts") else served)
    return hosts


def _tls(pair, weak, strong):
    weak_spec, strong_spec = weak.root.map("spec"), strong.root.map("spec")
    weak_served = [h for r in weak_spec.maps("rules") if (h := r.str("host"))]
    wanted = _tls_hosts(weak_spec, weak_served)
    if not wanted:
        return
    rules = [(r.str("host"), r.path) for r in strong_spec.maps("rules")]
    served = {host: path for host, path in reversed(rules) if host}
    patterns = _tls_hosts(strong_spec, list(served))
    shared = [h for h in dict.fromkeys(wanted) if h in served]
    hosts = shared if shared else list(served)
    for host in hosts:
        if not tls_covers(host, patterns):
            reason = "has TLS there" if shared else f"has TLS on {wanted[0]}"
            yield Problem(strong, f"Ingress {strong.name} host {host} has no TLS in {pair.stronger.overlay}; "
                          f"{pair.weaker.overlay} {reason}", f"{served[host]}.host")
