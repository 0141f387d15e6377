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

    def of_kind(self, *kinds: str) -> list[K8sObject]:
        return [o for o in self.objects if o.kind in kinds]

    def find(self, kind: str, name: str, namespace: str | None = None) -> K8sObject | None:
        for obj in self.objects:
            if obj.kind == kind and obj.name == name and (namespace is None or obj.namespace in (namespace, None)):
                return obj
        return None
