"""Human-readable report: findings grouped by overlay and file.

Everything taken from the input is escaped (textsafe): no control character
or line break from a kind, name, message or reason reaches the terminal, so
the summary line, always last, cannot be forged.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import groupby

from policycheck.model import Finding
from policycheck.report import Defect, Report
from policycheck.textsafe import escape

_COLORS = {"error": "\033[31m", "warning": "\033[33m", "exempted": "\033[2m", "path": "\033[1m"}
_RESET = "\033[0m"


def render(report: Report, color: bool = False) -> str:
    def paint(text: str, what: str) -> str:
        return f"{_COLORS[what]}{text}{_RESET}" if color else text

    lines: list[str] = []
    findings = sorted(report.findings, key=Finding.sort_key)
    by_overlay = {path: list(group) for path, group in groupby(findings, key=lambda f: f.obj.overlay)}
    # A defect found in several overlays (a shared base) is shown once, under the first, with all of them.
    defects = {id(f): d for d in report.defects() for f in d.findings}
    # With --base REF, findings REF had (baseline) are listed apart, after the new ones.
    base = report.base is not None
    for overlay in report.overlays:
        everything = by_overlay.get(overlay.path, [])
        mine = [f for f in everything if defects[id(f)].first is f and not f.baseline]
        header = f"{escape(overlay.path)} (profile {escape(overlay.profile)}, {overlay.objects} objects)"
        lines.append(paint(header, "path"))
        if overlay.error:
            lines.append(f"  {paint('error', 'error')}: not checked: {escape(overlay.error)}")
            continue
        if not mine:
            some = [f for f in everything if not f.baseline]
            lines.append(("  no new findings" if base else "  no findings") if not some
                         else "  no findings of its own")
        lines += _findings(mine, defects, paint)
    if base:
        lines += _baseline(report, by_overlay, defects, paint)
    for note in report.all_notes():
        lines.append(f"note: {escape(note)}")
    s = report.summary()
    new = "new " if base else ""
    total = paint(f"{s['error']} {new}error(s)", "error") if s["error"] else f"0 {new}errors"
    tail = f", {s['overlay_errors']} overlay(s) not checked" if s["overlay_errors"] else ""
    if report.base is not None:
        ref = escape(report.base["ref"])
        tail = f", {s['baseline']} baseline (at {ref}, not failing), {s['absent']} fixed since {ref}{tail}"
    lines.append(f"{total}, {s['warning']} {new}warning(s), {s['exempted']} exempted{tail}")
    return "\n".join(lines) + "\n"


def _findings(mine: list[Finding], defects: dict[int, Defect], paint: Callable[[str, str], str]) -> list[str]:
    """One overlay's findings, grouped by file."""
    lines = []
    for file, group in groupby(mine, key=lambda f: f.source.file if f.source else "(unknown source)"):
        lines.append(f"  {escape(file)}")
        for f in group:
            where = f"{f.source.line}" if f.source else "-"
            state = "exempted" if f.exempted else f.severity.value
            label = paint(f"{state:8}", "exempted" if f.exempted else f.severity.value)
            obj = f"{f.obj.kind}/{f.obj.name}" + (f" [{f.container}]" if f.container else "")
            text = f.message + (f" (exempted: {f.exemption})" if f.exempted else "")
            shared = defects[id(f)].overlays if id(f) in defects else []
            if len(shared) > 1:
                text += f" (in {', '.join(shared)})"
            lines.append(f"    {where:>4}  {label} {escape(f.rule):24} {escape(obj)}: {escape(text)}")
    return lines


def _baseline(report: Report, by_overlay: dict[str, list[Finding]], defects: dict[int, Defect],
              paint: Callable[[str, str], str]) -> list[str]:
    """The findings REF had too, then the ones it had that are gone, by overlay."""
    ref = escape(report.base["ref"]) if report.base else "REF"
    lines = []
    old = {o.path: [f for f in by_overlay.get(o.path, []) if f.baseline and defects[id(f)].first is f]
           for o in report.overlays}
    if any(old.values()):
        lines.append(paint(f"baseline: already at {ref}, not failing", "path"))
        for path, mine in old.items():
            if mine:
                lines.append(f"  {escape(path)}")
                lines += ["  " + line for line in _findings(mine, defects, paint)]
    gone = {o.path: sorted(o.absent, key=Finding.sort_key) for o in report.overlays}
    if any(gone.values()):
        lines.append(paint(f"fixed since {ref}", "path"))
        for path, mine in gone.items():
            if mine:
                lines.append(f"  {escape(path)}")
                lines += ["  " + line for line in _findings(mine, {}, paint)]
    return lines
