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


@dataclass(frozen=True)
class Rule:
    id: str
    level: Severity
    summary: str
    doc: str
    options: dict[str, Any] = field(default_factory=dict)
    check: Callable[..., Iterator[Problem]] | None = None
    scope: str = "object"

    @classmethod
    def from_module(cls, module: ModuleType) -> Rule:
        return cls(
            id=module.ID,
            level=Severity(module.LEVEL),
            summary=module.SUMMARY,
            doc=(module.__doc__ or "").strip(),
            options=dict(getattr(module, "OPTIONS", {})),
            check=module.check,
            scope=getattr(module, "SCOPE", "object"),
        )
