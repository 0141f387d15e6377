"""Kubernetes object helpers: pod specs of every workload kind, containers,
effective security context, selectors. Every read goes through access.Node,
so a wrong type reads as absent (and is recorded), never as a crash."""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from policycheck.access import Node
from policycheck.model import K8sObject

# kind -> path (list of keys) from the object to its pod template.
POD_TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


@dataclass(frozen=True)
class PodTemplate:
    """The pod spec of a workload and the dotted path it sits at."""

    obj: K8sObject
    spec: Node
    metadata: Node
    path: str  # dotted path of the pod spec, e.g. "spec.template.spec"

    @property
    def labels(self) -> dict[str, str]:
        return self.metadata.str_map("labels")

    @property
    def meta_path(self) -> str:
        """Dotted path of the pod's metadata ("metadata" for a Pod)."""
        return "metadata" if self.path == "spec" else self.path[: -len(".spec")] + ".metadata"


@dataclass(frozen=True)
class Container:
    pod: PodTemplate
    spec: Node
    list_name: str
    index: int

    @property
    def name(self) -> str:
        return self.spec.str("name") or ""

    @property
    def path(self) -> str:
        return self.spec.path


def pod_template(obj: K8sObject) -> PodTemplate | None:
    """The pod spec of a Pod or a workload, or None for other kinds."""
    if obj.kind == "Pod":
        return PodTemplate(obj, obj.root.map("spec"), obj.metadata, "spec")
    keys = POD_TEMPLATE_PATHS.get(obj.kind)
    if keys is None:
        return None
    node = obj.root
    for key in keys:
        node = node.map(key)
    spec = node.map("spec")
    return PodTemplate(obj, spec, node.map("metadata"), spec.path)


def containers(pod: PodTemplate) -> Iterator[Container]:
    """Every container of a pod, init and ephemeral ones included."""
    for list_name in CONTAINER_LISTS:
        for index, spec in enumerate(pod.spec.list(list_name)):
            if spec.is_map:
                yield Container(pod, spec, list_name, index)
            elif spec.value is not None:
                spec.shape.wrong(spec.path, ("mapping",), spec.value)


def effective(container: Container, key: str, *expected: str) -> tuple[Any, str | None]:
    """A securityContext setting as the kubelet applies it.

    Returns the value and the dotted path where it is set: the container's
    securityContext wins over the pod's. Settings that exist at pod level only
    for the pod (capabilities, privileged, ...) are looked up on the
    container alone by the callers.
    """
    own = container.spec.map("securityContext")
    value = own.get(key, *expected)
    if value is not None:
        return value, f"{own.path}.{key}"
    pod = container.pod.spec.map("securityContext")
    value = pod.get(key, *expected)
    if value is not None:
        return value, f"{pod.path}.{key}"
    return None, None


def requests_and_limits(container: Container) -> tuple[Node, Node]:
    """A container's resource requests and limits (empty when unset)."""
    resources = container.spec.map("resources")
    return resources.map("requests"), resources.map("limits")


def security_context(container: Container) -> Node:
    return container.spec.map("securityContext")


def selector_matches(selector: Node, labels: dict[str, str]) -> bool:
    """A LabelSelector (matchLabels and matchExpressions) against labels.

    An empty selector matches everything, as in NetworkPolicy and PDB.
    """
    for key, value in selector.str_map("matchLabels").items():
        if labels.get(key) != value:
            return False
    for expr in selector.maps("matchExpressions"):
        key, op = expr.str("key"), expr.str("operator")
        values = expr.strs("values")
        if key is None:
            continue
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


_SUFFIX = {
    "n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1.0, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
    "Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40, "Pi": 2.0**50, "Ei": 2.0**60,
}
_QUANTITY = re.compile(r"([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)")


def parse_quantity(value: Any) -> float | None:
    """A Kubernetes resource quantity ("500m", "1Gi", 2) as a number; None if invalid."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str) or len(value) > 64:
        return None
    match = _QUANTITY.fullmatch(value.strip())
    if not match or match.group(2) not in _SUFFIX:
        return None
    try:
        return float(match.group(1)) * _SUFFIX[match.group(2)]
    except ValueError:
        return None


def pods_selected_by(selector: dict[str, str], pods: list[PodTemplate], namespace: str | None
                     ) -> list[PodTemplate]:
    """Pod templates whose labels a Service-style selector (plain map) matches."""
    if not selector:
        return []
    return [
        p for p in pods
        if p.obj.namespace == namespace and all(p.labels.get(k) == v for k, v in selector.items())
    ]


# Exact quantities (fractions.Fraction), for comparing sizes across renders.
_EXACT_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_EXACT_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
# A Kubernetes quantity: a signed decimal number, then a binary or decimal suffix or a decimal
# exponent. The exponent has at most 3 digits: "1e999999999" must not become a huge integer.
_EXACT_QUANTITY = re.compile(r"([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(?:([eE][+-]?[0-9]{1,3})|([a-zA-Z]{0,2}))")


def exact_quantity(value: Any) -> Any:
    """A resource quantity ("250m", "1Gi", "1e3", 2, 0.5) as an exact fractions.Fraction; None when
    it is none (a wrong type or spelling is reported by the rules of one overlay)."""
    from fractions import Fraction  # noqa: PLC0415 - (it loads decimal: only when quantities are compared)

    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        return Fraction(value) if math.isfinite(value) else None
    if not isinstance(value, str) or len(value) > 64:
        return None
    match = _EXACT_QUANTITY.fullmatch(value.strip())
    if not match:
        return None
    number, exponent, suffix = match.group(1), match.group(2), match.group(3) or ""
    amount = Fraction(number)
    if exponent:
        return amount * Fraction(10) ** int(exponent[1:])
    if suffix in _EXACT_BINARY:
        return amount * 2 ** _EXACT_BINARY[suffix]
    if suffix in _EXACT_DECIMAL:
        return amount * Fraction(10) ** _EXACT_DECIMAL[suffix]
    return None


def tls_covers(host: str, patterns: list[str]) -> bool:
    """Whether one of an Ingress's TLS host patterns covers ``host`` (``*.example.com`` covers one label)."""
    for pattern in patterns:
        if pattern == host:
            return True
        if pattern.startswith("*.") and host.count(".") == pattern.count(".") and host.endswith(pattern[1:]):
            return True
    return False


def secret_text(value: str) -> str | None:
    """A Secret's `data` value as text, or None when it is not base64 of UTF-8. kustomize wraps a
    long value's base64 over several lines, so whitespace is dropped before decoding."""
    try:
        return base64.b64decode("".join(value.split()), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):  # (UnicodeDecodeError is a ValueError)
        return None
