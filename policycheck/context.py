"""What a rule sees: the rendered objects of one overlay, and lookups on them."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from dataclasses import dataclass, field

from policycheck.k8s import Container, PodTemplate, containers, pod_template
from policycheck.model import K8sObject


@dataclass
class Context:
    overlay: str
    objects: list[K8sObject]
    kube_version: str
    today: dt.date = field(default_factory=dt.date.today)
    # Every rule id an exemption may name: the catalog plus the house rules.
    known_rules: frozenset[str] = frozenset()

    @functools.cached_property
    def pods(self) -> list[PodTemplate]:
        return [p for p in map(pod_template, self.objects) if p is not None]

    def containers(self) -> Iterator[Container]:
        for pod in self.pods:
            yield from containers(pod)

    @functools.cached_property
    def _by_kind(self) -> dict[str, list[K8sObject]]:
        index: dict[str, list[K8sObject]] = {}
        for obj in self.objects:
            index.setdefault(obj.kind, []).append(obj)
        return index

    @functools.cached_property
    def _by_name(self) -> dict[tuple[str, str], list[K8sObject]]:
        index: dict[tuple[str, str], list[K8sObject]] = {}
        for obj in self.objects:
            index.setdefault((obj.kind, obj.name), []).append(obj)
        return index

    def of_kind(self, *kinds: str) -> list[K8sObject]:
        if len(kinds) == 1:
            return list(self._by_kind.get(kinds[0], ()))
        return [o for o in self.objects if o.kind in kinds]

    def find(self, kind: object, name: object, namespace: str | None = None) -> K8sObject | None:
        """The object of that kind and name (in the namespace, or with none); by index, not a scan."""
        if not isinstance(kind, str) or not isinstance(name, str):
            return None
        for obj in self._by_name.get((kind, name), ()):
            if namespace is None or obj.namespace in (namespace, None):
                return obj
        return None
