"""Strict, offline validation against the Kubernetes OpenAPI schema.

The JSON schemas come from the kubernetes-validate wheel (its "local-strict"
variants: unknown fields are errors, as with `kubectl apply --validate=strict`).
Nothing is fetched at run time.
"""

from __future__ import annotations

import functools
import importlib.util
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema_rs

from policycheck.model import DEFAULT_KUBE_VERSION, PolicycheckError
from policycheck.toolcache import cache_root, write_json


@dataclass(frozen=True)
class SchemaError:
    field: str
    message: str


@functools.cache
def _schema_root() -> Path:
    """The wheel's schema directory, found without importing the package (its
    import pulls in the pure-Python jsonschema: about 150 ms)."""
    spec = importlib.util.find_spec("kubernetes_validate")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        root = Path(location) / "kubernetes-json-schema"
        if root.is_dir():
            return root
    raise PolicycheckError("offline Kubernetes schemas missing: pip install kubernetes-validate")


@functools.cache
def supported_versions() -> list[str]:
    """Kubernetes minor versions ("1.35") with strict schemas installed."""
    versions = []
    for entry in _schema_root().iterdir():
        name = entry.name
        if name.startswith("v") and name.endswith("-local-strict"):
            major, minor = name[1:].split(".")[:2]
            versions.append((int(major), int(minor)))
    return [f"{a}.{b}" for a, b in sorted(versions)]


@functools.cache
def _definitions(version: str) -> tuple[dict[str, Any], dict[tuple[str, str], str]]:
    directory = _schema_root() / f"v{version}.0-local-strict"
    path = directory / "_definitions.json"
    if not path.is_file():
        raise PolicycheckError(
            f"no schema for Kubernetes {version} (have {', '.join(supported_versions())})"
        )
    with open(path, encoding="utf-8") as fh:
        document = json.load(fh)
    defs = document["$defs"]
    index: dict[tuple[str, str], str] = {}
    for name, definition in defs.items():
        for gvk in definition.get("x-kubernetes-group-version-kind", []):
            group, ver = gvk.get("group", ""), gvk.get("version", "")
            api_version = f"{group}/{ver}" if group else ver
            index.setdefault((api_version, gvk.get("kind", "")), name)
    return defs, index


@functools.cache
def _validator(version: str, definition: str) -> jsonschema_rs.Draft202012Validator:
    """A compiled validator of one definition (jsonschema-rs: compiled once, validates in native code).

    Only the definitions it refers to, transitively, are compiled: a
    Deployment needs about 120 of the 735, which makes compiling it 5 ms
    instead of 25 ms.
    """
    return jsonschema_rs.Draft202012Validator(_closure_schema(version, definition))


# The schema of each kind, with the definitions it reaches, is kept in the cache directory
# (schemas/<version and wheel>/): reading it back takes a millisecond, where loading every
# definition of a version to find it takes 17.
def _store(version: str) -> Path | None:
    try:
        st = (_schema_root() / f"v{version}.0-local-strict" / "_definitions.json").stat()
    except OSError:
        return None
    return cache_root() / "schemas" / f"{version}-{st.st_size}-{st.st_mtime_ns}"


def _read_json(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


@functools.cache
def _index(version: str) -> dict[tuple[str, str], str]:
    """(apiVersion, kind) -> the name of its definition."""
    store = _store(version)
    cached = _read_json(store / "index.json") if store else None
    if isinstance(cached, list) and all(isinstance(e, list) and len(e) == 3 and all(isinstance(x, str) for x in e)
                                        for e in cached):
        return {(a, k): d for a, k, d in cached}
    _, index = _definitions(version)
    if store:
        write_json(store / "index.json", [[a, k, d] for (a, k), d in index.items()])
    return index


def known_kinds(version: str) -> frozenset[tuple[str, str]]:
    """(API group, kind) of every kind the built-in schemas of ``version`` describe, any version of the
    group; empty when there are none. The schemas do not say whether a kind is namespaced."""
    try:
        return frozenset((api.rpartition("/")[0], kind) for api, kind in _index(version))
    except PolicycheckError:
        return frozenset()


def _closure_schema(version: str, definition: str) -> dict[str, Any]:
    store = _store(version)
    path = store / f"{definition}.json" if store and "/" not in definition else None
    cached = _read_json(path) if path else None
    if (isinstance(cached, dict) and cached.get("$ref") == f"#/$defs/{definition}"
            and isinstance(cached.get("$defs"), dict) and definition in cached["$defs"]):
        return cached
    defs, _ = _definitions(version)
    schema = {"$defs": {name: defs[name] for name in _closure(defs, definition)}, "$ref": f"#/$defs/{definition}"}
    if path:
        write_json(path, schema)
    return schema


def _closure(defs: dict[str, Any], root: str) -> set[str]:
    """``root`` and every definition it reaches through ``$ref`` (iterative)."""
    seen, stack = {root}, [defs[root]]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/") and ref[8:] in defs and ref[8:] not in seen:
                seen.add(ref[8:])
                stack.append(defs[ref[8:]])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return seen


# The kinds most overlays hold, most common first: compiled while kustomize renders.
COMMON = (("apps/v1", "Deployment"), ("v1", "Service"), ("v1", "ConfigMap"), ("v1", "ServiceAccount"),
          ("v1", "Secret"), ("networking.k8s.io/v1", "NetworkPolicy"), ("policy/v1", "PodDisruptionBudget"),
          ("autoscaling/v2", "HorizontalPodAutoscaler"), ("apps/v1", "StatefulSet"),
          ("networking.k8s.io/v1", "Ingress"), ("batch/v1", "CronJob"), ("batch/v1", "Job"),
          ("v1", "PersistentVolumeClaim"), ("rbac.authorization.k8s.io/v1", "Role"),
          ("rbac.authorization.k8s.io/v1", "RoleBinding"), ("apps/v1", "DaemonSet"))


def prewarm(version: str, stop: Callable[[], bool]) -> int:
    """Compile the validators of the common kinds until ``stop()`` says the render is
    done (the time would be idle otherwise); how many were compiled."""
    compiled = 0
    try:
        if stop():
            return 0
        index = _index(version)
        for key in COMMON:
            if stop():
                break
            definition = index.get(key)
            if definition is not None:
                _validator(version, definition)
                compiled += 1
    except PolicycheckError:
        pass  # validate() reports it where it matters
    return compiled


def validate(doc: dict[str, Any], version: str = DEFAULT_KUBE_VERSION) -> list[SchemaError] | None:
    """Schema errors of one object; None when the schema has no such kind."""
    definition = _index(version).get((str(doc.get("apiVersion", "")), str(doc.get("kind", ""))))
    if definition is None:
        return None
    errors = []
    try:
        found = list(_validator(version, definition).iter_errors(doc))
    except (ValueError, TypeError, OverflowError):  # a value JSON cannot hold (a huge integer, a non-string key)
        return [SchemaError("(object)", "holds a value JSON cannot represent")]
    for error in found:
        errors.append(SchemaError(_dotted(error.instance_path), _message(error)))
    errors.sort(key=lambda e: e.field)
    return errors


def _dotted(path: Any) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(object)"


def _message(error: jsonschema_rs.ValidationError) -> str:
    """What is wrong, never the value itself (it could be a secret)."""
    kind = error.kind
    name = getattr(kind, "name", "")
    if name in ("additionalProperties", "unevaluatedProperties"):
        extra = sorted(str(k) for k in getattr(kind, "unexpected", []) or [])
        return f"unknown field(s): {', '.join(extra)}"
    if name == "enum":
        return f"value is not one of {getattr(kind, 'options', '')}"
    if name == "type":
        types = getattr(kind, "types", None) or []
        return f"wrong type: expected {' or '.join(str(t) for t in types)}"
    if name == "required":
        return f"{getattr(kind, 'property', 'a field')} is required"
    if name == "oneOf":
        return "wrong type: matches none of the allowed forms"
    return f"fails schema rule {name or 'unknown'}"
