"""Human-readable report: findings grouped by overlay and file."""

from __future__ import annotations

from itertools import groupby

from policycheck.model import Finding
from policycheck.report import Report

_COLORS = {"error": "\033[31m", "warning": "\033[33m", "exempted": "\033[2m", "path": "\033[1m"}
_RESET = "\033[0m"


def render(report: Report, color: bool = False) -> str:
    def paint(text: str, what: str) -> str:
        return f"{_COLORS[what]}{text}{_RESET}" if color else text

    lines: list[str] = []
    findings = sorted(report.findings, key=Finding.sort_key)
    for overlay in report.overlays:
        mine = [f for f in findings if f.obj.overlay == overlay.path]
        header = f"{overlay.path} (profile {overlay.profile}, {overlay.objects} objects)"
        lines.append(paint(header, "path"))
        if not mine:
            lines.append("  no findings")
        for file, group in groupby(mine, key=lambda f: f.source.file if f.source else "(unknown source)"):
            lines.append(f"  {file}")
            for f in group:
                where = f"{f.source.line}" if f.source else "-"
                state = "exempted" if f.exempted else f.severity.value
                label = paint(f"{state:8}", "exempted" if f.exempted else f.severity.value)
                obj = f"{f.obj.kind}/{f.obj.name}" + (f" [{f.container}]" if f.container else "")
                text = f.message + (f" (exempted: {f.exemption})" if f.exempted else "")
                lines.append(f"    {where:>4}  {label} {f.rule:24} {obj}: {text}")
    for note in report.notes:
        lines.append(f"note: {note}")
    s = report.summary()
    total = paint(f"{s['error']} error(s)", "error") if s["error"] else "0 errors"
    lines.append(f"{total}, {s['warning']} warning(s), {s['exempted']} exempted")
    return "\n".join(lines) + "\n"

