"""Reporters: pure functions from a Report to text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from policycheck.model import Finding, Severity


@dataclass
class OverlayResult:
    path: str
    profile: str
    objects: int


@dataclass
class Report:
    tool: dict[str, Any]
    overlays: list[OverlayResult]
    findings: list[Finding]
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        active = [f for f in self.findings if not f.exempted]
        return {
            "error": sum(f.severity is Severity.ERROR for f in active),
            "warning": sum(f.severity is Severity.WARNING for f in active),
            "exempted": sum(f.exempted for f in self.findings),
        }
