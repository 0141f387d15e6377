"""What a rule module provides, and what its check yields."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from policycheck.model import K8sObject, Severity


@dataclass(frozen=True)
class Problem:
    """A bare finding, before the engine stamps rule id, level and source."""

    obj: K8sObject
    message: str
    field: str | None = None
    container: str | None = None
    severity: Severity | None = None  # only rules that decide their own level set this


FAMILIES = {
    "security": "Pod and namespace security",
    "images": "Images",
    "availability": "Resources, probes and availability",
    "wiring": "Wiring between objects",
    "secrets": "Credentials in plain sight",
    "api": "API versions, schema and exemptions",
}


@dataclass(frozen=True)
class Rule:
    id: str
    level: Severity
    summary: str
    doc: str
    options: dict[str, Any] = field(default_factory=dict)
    check: Callable[..., Iterator[Problem]] | None = None
    family: str = "other"

    @classmethod
    def from_module(cls, module: ModuleType) -> Rule:
        return cls(
            id=module.ID,
            level=Severity(module.LEVEL),
            summary=module.SUMMARY,
            doc=(module.__doc__ or "").strip(),
            options=dict(getattr(module, "OPTIONS", {})),
            check=module.check,
            family=module.FAMILY,
        )
