"""What a rule sees: the rendered objects of one overlay, and lookups on them."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from policycheck.k8s import Container, PodTemplate, containers, pod_template
from policycheck.model import K8sObject

# What identifies an object to the API server across revisions: API group (not version), kind,
# namespace, name.
Identity = tuple[str, str, str | None, str]


def identity(obj: K8sObject) -> Identity:
    group = obj.api_version.rpartition("/")[0] if "/" in obj.api_version else ""
    return (group, obj.kind, obj.namespace, obj.name)


@dataclass
class Base:
    """The overlay as rendered at the ``--base`` revision (``policycheck.baseref``).

    ``objects`` is None when the overlay does not exist at that revision (the
    change adds it: there is nothing to compare with), or when its render
    there failed (``error`` says why, in one line).
    """

    ref: str
    objects: list[K8sObject] | None
    error: str | None = None
    # The whole render (policycheck.render.Rendered) the objects come from, checked at REF too.
    rendered: Any = None

    @functools.cached_property
    def _by_identity(self) -> dict[Identity, K8sObject]:
        index: dict[Identity, K8sObject] = {}
        for obj in self.objects or ():
            index.setdefault(identity(obj), obj)
        return index

    def find(self, obj: K8sObject) -> K8sObject | None:
        """The object of the base render that the server would update with ``obj``, if any."""
        return self._by_identity.get(identity(obj))


@dataclass
class Context:
    overlay: str
    objects: list[K8sObject]
    kube_version: str
    today: dt.date = field(default_factory=dt.date.today)
    # Every rule id an exemption may name: the catalog plus the house rules.
    known_rules: frozenset[str] = frozenset()
    # The render at --base REF (None: no --base given; rules that compare do nothing).
    base: Base | None = None

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
