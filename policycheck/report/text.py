"""Human-readable report: findings grouped by overlay and file.

Everything taken from the input is escaped (textsafe): no control character
or line break from a kind, name, message or reason reaches the terminal, so
the summary line, always last, cannot be forged.
"""

from __future__ import annotations

from itertools import groupby

from policycheck.model import Finding
from policycheck.report import Report
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
    for overlay in report.overlays:
        mine = [f for f in by_overlay.get(overlay.path, []) if defects[id(f)].first is f]
        header = f"{escape(overlay.path)} (profile {escape(overlay.profile)}, {overlay.objects} objects)"
        lines.append(paint(header, "path"))
        if overlay.error:
            lines.append(f"  {paint('error', 'error')}: not checked: {escape(overlay.error)}")
            continue
        if not mine:
            lines.append("  no findings" if not by_overlay.get(overlay.path) else "  no findings of its own")
        for file, group in groupby(mine, key=lambda f: f.source.file if f.source else "(unknown source)"):
            lines.append(f"  {escape(file)}")
            for f in group:
                where = f"{f.source.line}" if f.source else "-"
                state = "exempted" if f.exempted else f.severity.value
                label = paint(f"{state:8}", "exempted" if f.exempted else f.severity.value)
                obj = f"{f.obj.kind}/{f.obj.name}" + (f" [{f.container}]" if f.container else "")
                text = f.message + (f" (exempted: {f.exemption})" if f.exempted else "")
                shared = defects[id(f)].overlays
                if len(shared) > 1:
                    text += f" (in {', '.join(shared)})"
                lines.append(f"    {where:>4}  {label} {escape(f.rule):24} {escape(obj)}: {escape(text)}")
    for note in report.all_notes():
        lines.append(f"note: {escape(note)}")
    s = report.summary()
    total = paint(f"{s['error']} error(s)", "error") if s["error"] else "0 errors"
    tail = f", {s['overlay_errors']} overlay(s) not checked" if s["overlay_errors"] else ""
    lines.append(f"{total}, {s['warning']} warning(s), {s['exempted']} exempted{tail}")
    return "\n".join(lines) + "\n"
