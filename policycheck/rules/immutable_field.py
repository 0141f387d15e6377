"""
## What it does
With `--base REF`, compares every object of the overlay's render with the
object of the same identity (API group, kind, namespace, name) in the
overlay's render at the git revision REF, and flags the changes that the
Kubernetes API server refuses when the new manifest is applied over the old
one:

- **StatefulSet**: any change of `spec` other than `replicas`, `ordinals`,
  `template`, `updateStrategy`, `revisionHistoryLimit`,
  `persistentVolumeClaimRetentionPolicy` and `minReadySeconds`: its
  `volumeClaimTemplates` (a label or a size included), `selector`,
  `serviceName`, `podManagementPolicy`;
- **Deployment, ReplicaSet, DaemonSet**: `spec.selector`;
- **Job**: `spec.selector`, `spec.template` and `spec.completionMode` (a Job
  suspended at REF and still suspended may change its template's labels,
  annotations, node selector, tolerations, affinity and scheduling gates);
- **Service** (unless either revision is `ExternalName`): a `clusterIP` or
  `clusterIPs` that changes (headless `None` to an address, an address to
  `None` or to another address), `NodePort` or `LoadBalancer` on a Service
  that stays headless, a changed `loadBalancerClass` of a `LoadBalancer`, a
  changed primary `ipFamilies` entry;
- **PersistentVolumeClaim**: any change of `spec` other than a larger
  storage request and `volumeAttributesClassName` (a smaller request is
  refused too).

Objects are compared as the server compares them: a field a manifest leaves
out that the server fills in with its default (`podManagementPolicy:
OrderedReady`, `volumeMode: Filesystem`, a claim template's `apiVersion` and
`kind`, `completionMode: NonIndexed`, `type: ClusterIP`) equals that
default; quantities compare by value (`1Gi` equals `1024Mi`); an empty list
or map equals none; a Service `clusterIP` the new manifest leaves out keeps
the address the server allocated (that is no change). Two changes whose
outcome depends on the live object are warnings: an explicit `clusterIP`
where REF let the server allocate one, and a `storageClassName` where REF
had none (both are accepted only when they name what the cluster chose).

The finding points at the field of the new manifest (or, for a field it no
longer writes, at its nearest parent) and says what changed (values of
labels, selectors, addresses, types and sizes; other values are not shown).
Without `--base` the rule does nothing; an overlay that does not exist at REF
has nothing to compare with (a report note says so).

## Why is this bad?
The API server refuses the update (`spec: Forbidden: updates to statefulset
spec for fields other than ...`, `field is immutable`, `may not change once
set`): `kubectl apply` fails for that object in the middle of a rollout, and
a GitOps controller retries it forever. A label added with `labels:` and
`includeTemplates: true` reaches a StatefulSet's `volumeClaimTemplates` and
breaks every upgrade that way.

## Example
```yaml
# At REF the claim template had no labels; the change adds one:
volumeClaimTemplates:
  - metadata:
      name: data
      labels: {tier: db}
```

## Use instead
Keep the old value, or replace the object on purpose: for a StatefulSet,
`kubectl delete statefulset NAME --cascade=orphan` keeps its pods and claims
and the next apply creates it anew; other objects are deleted and created
again, or created under a new name. Keep labels out of claim templates
(`labels:` with `includeTemplates: false` for them, or a patch that removes
them).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from policycheck.access import child_path
from policycheck.context import Base
from policycheck.credentials import name_looks_secret, value_looks_secret
from policycheck.k8s import exact_quantity
from policycheck.model import MAX_DEPTH, K8sObject, Severity
from policycheck.rules.base import Problem

ID = "immutable-field"
FAMILY = "api"
LEVEL = "error"
SUMMARY = ("with --base REF: no change since REF that the API server refuses on update (selectors, claim "
           "templates, clusterIP, Jobs)")

Steps = tuple[str | int, ...]


class _Marker:
    """A value no manifest can hold: a field left out, or what the server filled in."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


ABSENT: Any = _Marker("absent")
ALLOCATED: Any = _Marker("the address the server allocated")


class Change:
    """One change the API server refuses (``certain``) or may refuse, of one object. (A plain
    class: a dataclass costs milliseconds to build at import, before the first rule runs.)"""

    __slots__ = ("kind", "namespace", "name", "path", "field", "before", "after", "more", "refusal", "remedy",
                 "certain")

    def __init__(self, kind: str, namespace: str | None, name: str, *, path: str, field: str, before: str,
                 after: str, more: int, refusal: str, remedy: str, certain: bool = True) -> None:
        self.kind, self.namespace, self.name = kind, namespace, name
        self.path = path  # the changed field
        self.field = field  # the nearest field the new object writes: where the finding points
        self.before, self.after = before, after  # shown values (never one that could be a credential)
        self.more = more  # further changed fields refused for the same reason
        self.refusal = refusal  # what the server says, in short
        self.remedy = remedy
        self.certain = certain

    def __repr__(self) -> str:
        return f"Change({self.kind}/{self.name} {self.path}: {self.before} -> {self.after})"

    def message(self, ref: str) -> str:
        more = f" and {self.more} more field(s)" if self.more else ""
        maybe = "the API server refuses this update" if self.certain else "the API server may refuse this update"
        return (f"{self.path}{more} changed since {ref} ({self.before} -> {self.after}); "
                f"{maybe} ({self.refusal}): {self.remedy}")


# ------------------------------------------------------------------------------ values as the server sees them

# Maps whose values are resource quantities.
_QUANTITY_MAPS = frozenset({"requests", "limits", "capacity", "overhead", "hard"})
# Optional strings where "" differs from unset (a pointer in the Go types).
_POINTER_STRINGS = frozenset({"storageClassName", "volumeAttributesClassName", "loadBalancerClass"})
# Mappings where {} differs from unset (it selects the kind of volume).
_PRESENCE = frozenset({"emptyDir"})

quantity = exact_quantity  # policycheck.k8s: a resource quantity's exact value, or None


class _Quantity:
    """A quantity that equals another of the same value (``1Gi`` == ``1024Mi``)."""

    __slots__ = ("raw", "value")

    def __init__(self, raw: Any) -> None:
        self.raw, self.value = raw, quantity(raw)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _Quantity):
            return False
        if self.value is not None and other.value is not None:
            return self.value == other.value
        return _same(self.raw, other.raw)

    __hash__ = None  # type: ignore[assignment]


def _same(a: Any, b: Any) -> bool:
    """Scalars equal as the server decodes them: true is not 1, 1 is 1.0, NaN is NaN."""
    if isinstance(a, _Quantity) or isinstance(b, _Quantity):
        return isinstance(a, _Quantity) and a == b
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b or (a != a and b != b)  # noqa: PLR0124 - NaN
    return type(a) is type(b) and a == b


def normal(value: Any, key: Any = None, depth: int = 0) -> Any:
    """``value`` with what the server treats as unset taken out (null, "", [], {}), quantities
    made comparable by value. ABSENT when nothing is left."""
    if depth > MAX_DEPTH:
        return value
    if value is None:
        return ABSENT
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            item = _Quantity(v) if key in _QUANTITY_MAPS and not isinstance(v, dict | list) and v is not None \
                else normal(v, k, depth + 1)
            if item is not ABSENT:
                out[k] = item
        return out if out or key in _PRESENCE else ABSENT
    if isinstance(value, list):
        items = [normal(v, None, depth + 1) for v in value]
        return [None if v is ABSENT else v for v in items] if items else ABSENT
    if value == "" and key not in _POINTER_STRINGS:
        return ABSENT
    if key == "sizeLimit":
        return _Quantity(value)
    return value


def _get(value: Any, *keys: str) -> Any:
    for key in keys:
        value = value.get(key, ABSENT) if isinstance(value, dict) else ABSENT
    return value


def _pop(mapping: Any, key: str, default: Any) -> None:
    """Leave ``key`` out of a normalised mapping when it holds the server's default."""
    if isinstance(mapping, dict) and _same(mapping.get(key, ABSENT), default):
        mapping.pop(key, None)


def diff(old: Any, new: Any, steps: Steps = (), depth: int = 0) -> list[tuple[Steps, Any, Any]]:
    """The leaves that differ between two normalised values: (steps, old, new), in the new
    value's order."""
    if isinstance(old, dict | _Marker) and isinstance(new, dict | _Marker) and old is not new and depth <= MAX_DEPTH:
        # Mappings leaf by leaf (one that is added or removed too: its labels are named one by one).
        before, after = (v if isinstance(v, dict) else {} for v in (old, new))
        out = []
        for key in [*after, *(k for k in before if k not in after)]:
            out += diff(before.get(key, ABSENT), after.get(key, ABSENT), (*steps, _key(key)), depth + 1)
        if out or (isinstance(old, dict) and isinstance(new, dict)):
            return out
        return [(steps, old, new)]  # ({} against absent: a presence that matters)
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new) and depth <= MAX_DEPTH:
        out = []
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            out += diff(a, b, (*steps, i), depth + 1)
        return out
    if isinstance(old, dict | list) or isinstance(new, dict | list):
        try:
            equal = type(old) is type(new) and old == new
        except RecursionError:
            equal = False
        return [] if equal else [(steps, old, new)]
    return [] if _same(old, new) else [(steps, old, new)]


def _key(key: Any) -> str:
    return key if isinstance(key, str) else str(key)


def path_of(steps: Steps) -> str:
    out = ""
    for step in steps:
        out = child_path(out, step)
    return out


def _written(doc: Any, steps: Steps) -> Steps:
    """The longest prefix of ``steps`` that ``doc`` writes."""
    node, depth = doc, 0
    for step in steps:
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node) or node[step] is None:
                break
            node = node[step]
        else:
            if not isinstance(node, dict) or node.get(step) is None:
                break
            node = node[step]
        depth += 1
    return steps[:depth]


# Values shown in a message: those of these fields, and of labels and selectors.
_SHOWN = frozenset({"clusterIP", "clusterIPs", "type", "serviceName", "podManagementPolicy", "storage",
                    "storageClassName", "volumeMode", "accessModes", "image", "loadBalancerClass", "ipFamilies",
                    "completionMode", "volumeName", "name", "apiVersion", "kind", "key", "operator", "values",
                    "replicas"})
_SHOWN_UNDER = frozenset({"labels", "matchLabels", "matchExpressions", "selector"})


def show(value: Any, steps: Steps) -> str:
    """A value for a message: only of fields that never hold a credential, and short."""
    if isinstance(value, _Marker):
        return value.text
    if value is None:
        return "absent"
    if isinstance(value, dict):
        return "{...}"
    if isinstance(value, list):
        return f"[{len(value)} item(s)]"
    raw = value.raw if isinstance(value, _Quantity) else value
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, int | float):
        return repr(raw)
    keys = [s for s in steps if isinstance(s, str)]
    shown = bool(keys) and (keys[-1] in _SHOWN or any(k in _SHOWN_UNDER for k in keys[:-1])
                            or (len(keys) > 1 and keys[-2] in _SHOWN_UNDER))
    if (not isinstance(raw, str) or not shown or len(raw) > 80 or not raw.isprintable()
            or value_looks_secret(raw) or any(name_looks_secret(k) for k in keys)):
        return "a value not shown"
    return f'"{raw}"'


# ------------------------------------------------------------------------------ what each kind refuses

STATEFULSET_MUTABLE = ("replicas", "ordinals", "template", "updateStrategy", "revisionHistoryLimit",
                       "persistentVolumeClaimRetentionPolicy", "minReadySeconds")
STATEFULSET_REFUSAL = ("spec: Forbidden: updates to statefulset spec for fields other than "
                       + ", ".join(f"'{f}'" for f in STATEFULSET_MUTABLE[:-1])
                       + f" and '{STATEFULSET_MUTABLE[-1]}' are forbidden")
STATEFULSET_REMEDY = ("keep the old value, or run `kubectl delete statefulset {name} --cascade=orphan` (pods and "
                      "claims stay) so that the apply creates it anew; existing claims keep their old labels and size")
SELECTOR_REMEDY = ("keep the old selector, or delete the {kind} and create it again (its pods are replaced), "
                   "or create it under a new name")
JOB_REMEDY = "a Job cannot change once created: delete it and create it again, or give it a new name"
SERVICE_REMEDY = "keep the old value, or delete the Service and create it again (its cluster IP changes)"
PVC_REMEDY = ("a claim's spec only takes a larger storage request: keep the old spec, or create a new claim "
              "(and copy the data)")
# Template fields of a suspended Job that has never run that the server lets change.
JOB_SUSPENDED_MUTABLE = (("metadata", "labels"), ("metadata", "annotations"), ("spec", "nodeSelector"),
                         ("spec", "tolerations"), ("spec", "affinity"), ("spec", "schedulingGates"))


class _Pair:
    """The same object at REF (old) and now (new), with their specs."""

    __slots__ = ("old", "new", "old_spec", "new_spec")

    def __init__(self, old: K8sObject, new: K8sObject, old_spec: dict[str, Any], new_spec: dict[str, Any]) -> None:
        self.old, self.new, self.old_spec, self.new_spec = old, new, old_spec, new_spec

    def change(self, steps: Steps, changed: list[tuple[Steps, Any, Any]], refusal: str, remedy: str,
               certain: bool = True) -> Change:
        """A Change of the fields ``changed`` (the first is named), under spec."""
        first, old, new = changed[0]
        full = ("spec", *steps, *first)
        where = _written(self.new.doc, full)
        new_obj = self.new
        return Change(new_obj.kind, new_obj.namespace, new_obj.name, path=path_of(full),
                      field=path_of(where) or "spec", before=show(old, full), after=show(new, full),
                      more=len(changed) - 1, refusal=refusal,
                      remedy=remedy.format(kind=new_obj.kind, name=new_obj.name), certain=certain)


def _statefulset(pair: _Pair) -> Iterator[Change]:
    old, new = (_statefulset_spec(s) for s in (pair.old_spec, pair.new_spec))
    for key in [*new, *(k for k in old if k not in new)]:
        changed = diff(old.get(key, ABSENT), new.get(key, ABSENT), (key,))
        if changed:
            yield pair.change((), changed, STATEFULSET_REFUSAL, STATEFULSET_REMEDY)


def _statefulset_spec(spec: dict[str, Any]) -> dict[str, Any]:
    out = normal({k: v for k, v in spec.items() if k not in STATEFULSET_MUTABLE})
    out = out if isinstance(out, dict) else {}
    _pop(out, "podManagementPolicy", "OrderedReady")
    claims = out.get("volumeClaimTemplates")
    for claim in claims if isinstance(claims, list) else ():  # (the schema rule reports a wrong type)
        if isinstance(claim, dict):
            claim.pop("status", None)  # the server's, never compared
            _pop(claim, "apiVersion", "v1")
            _pop(claim, "kind", "PersistentVolumeClaim")
            _pop(claim.get("spec"), "volumeMode", "Filesystem")
            if claim.get("spec") == {}:
                claim.pop("spec")
    return out


def _selector(pair: _Pair) -> Iterator[Change]:
    changed = diff(normal(pair.old_spec.get("selector")), normal(pair.new_spec.get("selector")), ("selector",))
    if changed:
        yield pair.change((), changed, "spec.selector: Invalid value: field is immutable", SELECTOR_REMEDY)


def _job(pair: _Pair) -> Iterator[Change]:
    yield from _selector(pair)
    old, new = normal(pair.old_spec.get("template")), normal(pair.new_spec.get("template"))
    if pair.old_spec.get("suspend") is True and pair.new_spec.get("suspend") is True:
        for template in (old, new):
            for parent, key in JOB_SUSPENDED_MUTABLE:
                if isinstance(template, dict) and isinstance(template.get(parent), dict):
                    template[parent].pop(key, None)
                    if not template[parent]:
                        template.pop(parent)
    changed = diff(old, new, ("template",))
    if changed:
        yield pair.change((), changed, "spec.template: Invalid value: field is immutable", JOB_REMEDY)
    old, new = (normal(s.get("completionMode")) for s in (pair.old_spec, pair.new_spec))
    old, new = (ABSENT if _same(v, "NonIndexed") else v for v in (old, new))
    changed = diff(old, new, ("completionMode",))
    if changed:
        yield pair.change((), changed, "spec.completionMode: Invalid value: field is immutable", JOB_REMEDY)


def _cluster_ips(spec: dict[str, Any]) -> tuple[list[Any], Steps]:
    """The addresses a Service manifest asks for (``None`` for headless), and where it writes them."""
    ips = spec.get("clusterIPs")
    if isinstance(ips, list) and ips:
        return list(ips), ("clusterIPs",)
    ip = spec.get("clusterIP")
    return ([ip], ("clusterIP",)) if ip not in (None, "") else ([], ("clusterIP",))


def _service(pair: _Pair) -> Iterator[Change]:
    old_spec, new_spec = pair.old_spec, pair.new_spec
    old_type, new_type = (s.get("type") if s.get("type") not in (None, "") else "ClusterIP"
                          for s in (old_spec, new_spec))
    if "ExternalName" in (old_type, new_type):
        return  # the server allocates or releases the address itself
    old_ips, _ = _cluster_ips(old_spec)
    new_ips, where = _cluster_ips(new_spec)
    index: Steps = (0,) if where == ("clusterIPs",) else ()
    refusal = "spec.clusterIPs[0]: Invalid value: may not change once set"
    if new_ips and not old_ips:
        # The live Service has the address the server allocated: "None" or another address differs
        # (unless it is that very address).
        certain = _same(new_ips[0], "None")
        yield pair.change(where, [(index, ALLOCATED, new_ips[0])],
                          refusal if certain else refusal + " (unless it is the address the server allocated)",
                          SERVICE_REMEDY, certain=certain)
    elif new_ips:
        changed = [((i,) if index else (), a, b)
                   for i, (a, b) in enumerate(zip(old_ips, new_ips, strict=False)) if not _same(a, b)]
        if changed:
            yield pair.change(where, changed[:1] if not index else changed, refusal, SERVICE_REMEDY)
    # An address the new manifest leaves out is the one the server holds: headless stays headless.
    old_headless = old_ips[:1] == ["None"]
    new_headless = (new_ips or old_ips)[:1] == ["None"]
    if new_headless and new_type in ("NodePort", "LoadBalancer") and old_type != new_type:
        yield pair.change(("type",), [((), old_type, new_type)],
                          f"spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for {new_type} "
                          "services", "keep it headless with type ClusterIP, or delete the Service and create it "
                          "again without clusterIP: None")
    if old_type == new_type == "LoadBalancer":
        changed = diff(normal(old_spec.get("loadBalancerClass"), "loadBalancerClass"),
                       normal(new_spec.get("loadBalancerClass"), "loadBalancerClass"), ())
        if changed:
            yield pair.change(("loadBalancerClass",), changed, "spec.loadBalancerClass: Invalid value: may not "
                              "change once set", SERVICE_REMEDY)
    old_families, new_families = (s.get("ipFamilies") for s in (old_spec, new_spec))
    if (not old_headless and not new_headless and isinstance(old_families, list) and old_families
            and isinstance(new_families, list) and new_families and not _same(old_families[0], new_families[0])):
        yield pair.change(("ipFamilies",), [((0,), old_families[0], new_families[0])],
                          "spec.ipFamilies[0]: Invalid value: may not change once set", SERVICE_REMEDY)


def _claim(pair: _Pair) -> Iterator[Change]:
    old, new = (_claim_spec(s) for s in (pair.old_spec, pair.new_spec))
    if "volumeName" not in old:
        new.pop("volumeName", None)  # set once, by the binder or the manifest
    if "storageClassName" not in old and "storageClassName" in new:
        # The live claim has the class the cluster's default gave it at creation.
        changed = diff(ABSENT, new.pop("storageClassName"), ("storageClassName",))
        yield pair.change((), changed, "spec: Forbidden: spec is immutable after creation (unless it names the "
                          "class the cluster assigned)", PVC_REMEDY, certain=False)
    refusal = ("spec: Forbidden: spec is immutable after creation except resources.requests and "
               "volumeAttributesClassName for bound claims")
    for key in [*new, *(k for k in old if k not in new)]:
        changed = diff(old.get(key, ABSENT), new.get(key, ABSENT), (key,))
        if changed:
            yield pair.change((), changed, refusal, PVC_REMEDY)
    sizes = [_get(s, "resources", "requests", "storage") for s in (pair.old_spec, pair.new_spec)]
    values = [quantity(s) for s in sizes]
    if values[0] is not None and values[1] is not None and values[1] < values[0]:
        steps = ("resources", "requests", "storage")
        yield pair.change((), [(steps, _Quantity(sizes[0]), _Quantity(sizes[1]))],
                          "spec.resources.requests.storage: Forbidden: field can not be less than status.capacity",
                          PVC_REMEDY)


def _claim_spec(spec: dict[str, Any]) -> dict[str, Any]:
    out = normal(spec)
    out = out if isinstance(out, dict) else {}
    out.pop("volumeAttributesClassName", None)
    requests = _get(out, "resources", "requests")
    if isinstance(requests, dict):
        requests.pop("storage", None)  # compared on its own: it may grow
        if not requests:
            out["resources"].pop("requests")
        if not out["resources"]:
            out.pop("resources")
    _pop(out, "volumeMode", "Filesystem")
    return out


COMPARE = {
    ("apps", "StatefulSet"): _statefulset,
    ("apps", "Deployment"): _selector,
    ("apps", "ReplicaSet"): _selector,
    ("apps", "DaemonSet"): _selector,
    ("batch", "Job"): _job,
    ("", "Service"): _service,
    ("", "PersistentVolumeClaim"): _claim,
}


def _group(obj: K8sObject) -> str:
    return obj.api_version.rpartition("/")[0] if "/" in obj.api_version else ""


def compare(old: K8sObject, new: K8sObject) -> list[Change]:
    """What the server refuses when ``new`` is applied over ``old`` (the same object)."""
    compare_kind = COMPARE.get((_group(new), new.kind))
    if compare_kind is None or old.too_deep or new.too_deep:
        return []
    old_spec, new_spec = old.doc.get("spec"), new.doc.get("spec")
    if not isinstance(old_spec, dict) or not isinstance(new_spec, dict):
        return []  # not a spec the server would take (field-type reports it)
    return list(compare_kind(_Pair(old, new, old_spec, new_spec)))


def _objects(docs: Iterable[Any]) -> list[K8sObject]:
    return [d if isinstance(d, K8sObject) else K8sObject(d, "-") for d in docs if isinstance(d, dict | K8sObject)]


def changes(before: Iterable[Any], after: Iterable[Any]) -> list[Change]:
    """The changes the API server refuses when the objects ``after`` are applied over ``before``
    (parsed manifests or K8sObjects; objects matched by API group, kind, namespace and name).
    An object of ``after`` that ``before`` lacks is created, never refused."""
    base = Base("before", _objects(before))
    out = []
    for new in _objects(after):
        old = base.find(new)
        if old is not None:
            out += compare(old, new)
    return out


def check(ctx, options):
    base = ctx.base
    if base is not None and base.error is not None:
        from policycheck.render import overlay_object  # noqa: PLC0415 - only for this rare finding

        yield Problem(overlay_object(ctx.overlay), f"cannot compare with {base.ref}: the overlay's render there "
                      f"failed ({base.error}); what changed since {base.ref} is not checked")
        return
    if base is None or base.objects is None:
        return
    for obj in ctx.objects:
        if (_group(obj), obj.kind) not in COMPARE:
            continue
        old = base.find(obj)
        if old is None:
            continue
        obj.root.map("spec")  # a typed read: a spec of another type is a field-type finding
        for change in compare(old, obj):
            yield Problem(obj, change.message(base.ref), change.field,
                          severity=None if change.certain else Severity.WARNING)
