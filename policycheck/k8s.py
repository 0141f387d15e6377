"""Kubernetes object helpers: pod specs of every workload kind, containers,
effective security context."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

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
    spec: dict[str, Any]
    metadata: dict[str, Any]
    path: str  # dotted path of the pod spec, e.g. "spec.template.spec"

    @property
    def labels(self) -> dict[str, str]:
        labels = self.metadata.get("labels")
        return labels if isinstance(labels, dict) else {}


@dataclass(frozen=True)
class Container:
    pod: PodTemplate
    spec: dict[str, Any]
    list_name: str
    index: int

    @property
    def name(self) -> str:
        return str(self.spec.get("name", ""))

    @property
    def path(self) -> str:
        return f"{self.pod.path}.{self.list_name}[{self.index}]"


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def pod_template(obj: K8sObject) -> PodTemplate | None:
    """The pod spec of a Pod or a workload, or None for other kinds."""
    if obj.kind == "Pod":
        return PodTemplate(obj, _mapping(obj.doc.get("spec")), obj.metadata, "spec")
    keys = POD_TEMPLATE_PATHS.get(obj.kind)
    if keys is None:
        return None
    node: Any = obj.doc
    for key in keys:
        node = _mapping(node).get(key)
    template = _mapping(node)
    return PodTemplate(
        obj,
        _mapping(template.get("spec")),
        _mapping(template.get("metadata")),
        ".".join(keys) + ".spec",
    )


def containers(pod: PodTemplate) -> Iterator[Container]:
    """Every container of a pod, init and ephemeral ones included."""
    for list_name in CONTAINER_LISTS:
        items = pod.spec.get(list_name)
        if not isinstance(items, list):
            continue
        for index, spec in enumerate(items):
            if isinstance(spec, dict):
                yield Container(pod, spec, list_name, index)


def effective(container: Container, key: str) -> tuple[Any, str | None]:
    """A securityContext setting as the kubelet applies it.

    Returns the value and the dotted path where it is set: the container's
    securityContext wins over the pod's. Settings that exist at pod level only
    for the pod (capabilities, privileged, ...) are looked up on the
    container alone by the callers.
    """
    own = _mapping(container.spec.get("securityContext"))
    if key in own and own[key] is not None:
        return own[key], f"{container.path}.securityContext.{key}"
    pod = _mapping(container.pod.spec.get("securityContext"))
    if key in pod and pod[key] is not None:
        return pod[key], f"{container.pod.path}.securityContext.{key}"
    return None, None


def requests_and_limits(container: Container) -> tuple[dict[str, Any], dict[str, Any]]:
    """A container's resource requests and limits (empty when unset)."""
    resources = _mapping(container.spec.get("resources"))
    return _mapping(resources.get("requests")), _mapping(resources.get("limits"))


def security_context(container: Container) -> dict[str, Any]:
    return _mapping(container.spec.get("securityContext"))


def selector_matches(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """A LabelSelector (matchLabels and matchExpressions) against labels.

    An empty selector matches everything, as in NetworkPolicy and PDB.
    """
    selector = _mapping(selector)
    for key, value in _mapping(selector.get("matchLabels")).items():
        if labels.get(key) != value:
            return False
    for raw in selector.get("matchExpressions") or []:
        expr = _mapping(raw)
        key, op = expr.get("key"), expr.get("operator")
        values = expr.get("values") or []
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
    match = _QUANTITY.fullmatch(str(value).strip())
    if not match or match.group(2) not in _SUFFIX:
        return None
    try:
        return float(match.group(1)) * _SUFFIX[match.group(2)]
    except ValueError:
        return None


def pods_selected_by(selector: dict[str, Any] | None, pods: list[PodTemplate], namespace: str | None
                     ) -> list[PodTemplate]:
    """Pod templates whose labels a Service-style selector (plain map) matches."""
    if not selector:
        return []
    return [
        p for p in pods
        if p.obj.namespace == namespace and all(p.labels.get(k) == v for k, v in selector.items())
    ]
