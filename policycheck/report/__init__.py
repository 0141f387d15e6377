"""Reporters: pure functions from a Report to text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from policycheck.model import Finding, Severity

try:  # the built-in SHA-256: hashlib's OpenSSL binding takes 4 ms to load
    from _sha256 import sha256
except ImportError:  # pragma: no cover - an interpreter without it
    from hashlib import sha256


@dataclass
class OverlayResult:
    """One overlay's outcome: its findings, or the error that stopped its check."""

    path: str
    profile: str
    objects: int = 0
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list, repr=False)
    # (rule, kind, namespace, name) of every built-in rule and object it looked at (JUnit's test cases).
    ran: list[tuple[str, str, str | None, str]] = field(default_factory=list, repr=False)
    rego_ran: bool = False  # the Rego stage ran on this overlay


def fingerprint(f: Finding) -> str:
    """A stable identity of a defect: rule, source file, object and field, not
    line numbers (an unrelated edit above it does not make it a new finding)
    nor the overlay (a defect in a shared base is one defect)."""
    obj = f.obj
    identity = "\x1f".join([f.rule, f.source.file if f.source else "", obj.kind, obj.source_name or obj.name,
                            f.field or "", f.container or ""])
    return sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()[:32]


@dataclass
class Defect:
    """One logical finding: the same defect found in one or more overlays."""

    fingerprint: str
    findings: list[Finding]  # one per overlay, in report order

    @property
    def first(self) -> Finding:
        return self.findings[0]

    @property
    def overlays(self) -> list[str]:
        return list(dict.fromkeys(f.obj.overlay for f in self.findings))


@dataclass
class Report:
    tool: dict[str, Any]
    overlays: list[OverlayResult]
    findings: list[Finding]
    notes: list[str] = field(default_factory=list)
    # A shard's report: {"index": I, "count": N, "overlays": [every overlay of the unsharded run]}.
    shard: dict[str, Any] | None = None

    @property
    def errors(self) -> list[OverlayResult]:
        """Overlays that could not be checked."""
        return [o for o in self.overlays if o.error]

    def defects(self) -> list[Defect]:
        """Findings grouped into defects (by fingerprint and exemption state), in sorted order."""
        groups: dict[tuple[str, bool], Defect] = {}
        for f in sorted(self.findings, key=Finding.sort_key):
            key = (fingerprint(f), f.exempted)
            if key in groups:
                groups[key].findings.append(f)
            else:
                groups[key] = Defect(key[0], [f])
        return list(groups.values())

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
