"""Reporters: pure functions from a Report to text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from policycheck.model import Finding, Severity


@dataclass
class OverlayResult:
    """One overlay's outcome: its findings, or the error that stopped its check."""

    path: str
    profile: str
    objects: int = 0
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list, repr=False)


@dataclass
class Report:
    tool: dict[str, Any]
    overlays: list[OverlayResult]
    findings: list[Finding]
    notes: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[OverlayResult]:
        """Overlays that could not be checked."""
        return [o for o in self.overlays if o.error]

    def all_notes(self) -> list[str]:
        return [*self.notes, *(n for o in self.overlays for n in o.notes)]

    def summary(self) -> dict[str, int]:
        active = [f for f in self.findings if not f.exempted]
        return {
            "error": sum(f.severity is Severity.ERROR for f in active),
            "warning": sum(f.severity is Severity.WARNING for f in active),
            "exempted": sum(f.exempted for f in self.findings),
            "overlay_errors": len(self.errors),
        }
