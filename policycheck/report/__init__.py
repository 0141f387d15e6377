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
    # With --base REF: findings of the check at REF that the change fixed (policycheck.baseline).
    absent: list[Finding] = field(default_factory=list, repr=False)


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
    # With --base REF: {"ref": REF as given, "commit": its object name}; findings are then new or baseline.
    base: dict[str, Any] | None = None

    @property
    def errors(self) -> list[OverlayResult]:
        """Overlays that could not be checked."""
        return [o for o in self.overlays if o.error]

    def defects(self) -> list[Defect]:
        """Findings grouped into defects (by fingerprint, exemption and baseline state), in sorted order.

        A defect holds at most one finding per overlay: two findings of one rule on the same field of
        the same object (two different problems a rule reports there) are two defects, paired across
        overlays by their message. The first problem at a field keeps the field's fingerprint, so an
        alert already raised keeps its identity; each further one gets a fingerprint made from it and
        its message. Siblings are counted across exemption and baseline states, so no two defects
        share a fingerprint."""
        groups: dict[tuple[str, bool, bool], list[tuple[Defect, set[str]]]] = {}
        siblings: dict[str, list[Defect]] = {}
        order: list[Defect] = []
        for f in sorted(self.findings, key=Finding.sort_key):
            plain = fingerprint(f)
            overlay = f.obj.overlay
            candidates = [(d, seen) for d, seen in groups.setdefault((plain, f.exempted, f.baseline), [])
                          if overlay not in seen]
            home = next((c for c in candidates if c[0].first.message == f.message),
                        candidates[0] if candidates else None)
            if home is not None:
                home[0].findings.append(f)
                home[1].add(overlay)
                continue
            defect = Defect(plain, [f])
            groups[(plain, f.exempted, f.baseline)].append((defect, {overlay}))
            siblings.setdefault(plain, []).append(defect)
            order.append(defect)
        for same in siblings.values():
            for defect in same[1:]:
                text = f"{defect.fingerprint}\x1f{defect.first.message}"
                defect.fingerprint = sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return order

    def all_notes(self) -> list[str]:
        return [*self.notes, *(n for o in self.overlays for n in o.notes)]

    @property
    def absent(self) -> list[Finding]:
        """With --base REF: the findings at REF that are gone."""
        return [f for o in self.overlays for f in o.absent]

    def summary(self) -> dict[str, int]:
        """Counts of the findings; with --base, ``error`` and ``warning`` count only new ones."""
        active = [f for f in self.findings if not f.exempted and not f.baseline]
        counts = {
            "error": sum(f.severity is Severity.ERROR for f in active),
            "warning": sum(f.severity is Severity.WARNING for f in active),
            "exempted": sum(f.exempted for f in self.findings),
            "overlay_errors": len(self.errors),
        }
        if self.base is not None:
            counts["baseline"] = sum(f.baseline and not f.exempted for f in self.findings)
            counts["absent"] = len(self.absent)
        return counts
