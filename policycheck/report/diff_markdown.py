"""The markdown form of ``policycheck diff``, for a pull request comment (pure: DiffReport -> str).

One collapsible ``<details>`` section per overlay, its summary line "N added, M removed,
K changed" (or "added overlay", "removed overlay", "no changes", "not compared"). The
whole text is at most ``max_length`` characters: every overlay's summary line is kept
first (as many as fit), then the sections' lines in order while they fit, and a last
line says how much was left out. Everything taken from the input (paths, names, values)
is written in code spans or escaped HTML, so it can neither format the comment, close a
section early, nor mention anyone.
"""

from __future__ import annotations

import html
import re

from policycheck.diff import DiffReport, FieldChange, ObjectChange, OverlayDiff
from policycheck.report.diff_text import INLINE_FIELDS, summary, value
from policycheck.textsafe import escape

NOTE_RESERVE = 400  # characters kept for the last line about what was left out
SHOWN_PATH = 300  # characters of a field path on a line
_TICKS = re.compile("`+")


def code(text: str) -> str:
    """``text`` (one line) as a code span that nothing in it can end."""
    text = escape(text)
    longest = max((len(m) for m in _TICKS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _path(path: str) -> str:
    return code(path if len(path) <= SHOWN_PATH else path[:SHOWN_PATH] + "...")


def _value(text: str | None, truncated: bool, limit: int = 120) -> str:
    return "*absent*" if text is None else code(value(text, truncated, limit))


def _field(f: FieldChange, limit: int = 120) -> str:
    if f.hidden:
        return f"{_path(f.path)} {f.change} *(value hidden)*"
    if f.change == "added":
        return f"{_path(f.path)} added: {_value(f.new, f.truncated, limit)}"
    if f.change == "removed":
        return f"{_path(f.path)} removed (was {_value(f.old, f.truncated, limit)})"
    return f"{_path(f.path)}: {_value(f.old, f.truncated, limit)} → {_value(f.new, f.truncated, limit)}"


def _identity(c: ObjectChange) -> str:
    where = f"{c.namespace}/{c.name}" if c.namespace else c.name
    return code(f"{c.kind} {where}")


def _object(c: ObjectChange) -> list[str]:
    if c.change == "content-changed":
        parts = [_field(f, 60) for f in c.fields[:INLINE_FIELDS]]
        more = len(c.fields) - INLINE_FIELDS + c.fields_omitted
        if more > 0:
            parts.append(f"and {more} more")
        where = f"{c.namespace}/" if c.namespace else ""
        return [f"- content changed {code(f'{c.kind} {where}{c.base_name}')} → {code(c.name)}: " + "; ".join(parts)]
    lines = [f"- {c.change} {_identity(c)}"]
    lines += [f"  - {_field(f)}" for f in c.fields]
    if c.fields_omitted:
        lines.append(f"  - ... and {c.fields_omitted} more changed fields")
    return lines


def _body(o: OverlayDiff) -> list[tuple[str, bool]]:
    """The section's lines, each with whether it starts an object."""
    if o.status != "compared" or not o.has_changes:
        lines: list[tuple[str, bool]] = [("No objects to compare." if o.status != "compared" else "No changes.", False)]
    else:
        lines = [(line, i == 0) for c in o.changes for i, line in enumerate(_object(c))]
    if o.changes_omitted:
        lines.append((f"- ... and {o.changes_omitted} more changed objects", False))
    lines += [(f"*Note: {html.escape(escape(n))}*", False) for n in o.notes]
    return lines


def _open(o: OverlayDiff) -> str:
    return (f"<details>\n<summary><code>{html.escape(escape(o.path))}</code>: "
            f"{html.escape(summary(o))}</summary>\n\n")


CLOSE = "\n</details>\n\n"


def render(report: DiffReport, *, max_length: int) -> str:
    ref = escape(report.ref)
    ref = ref if len(ref) <= 100 else ref[:100] + "..."
    totals = report.totals()
    counts = (f"{len(report.overlays)} overlay(s): {totals['added']} added, {totals['removed']} removed, "
              f"{totals['changed']} changed objects")
    if report.failed:
        counts += f"; {len(report.failed)} overlay(s) not compared"
    header = f"### Rendered diff against {code(ref)} ({code(report.commit[:7])})\n\n{counts}\n\n"
    budget = max_length - len(header) - NOTE_RESERVE
    sections: list[OverlayDiff] = []
    for o in report.overlays:
        size = len(_open(o)) + len(CLOSE)
        if size > budget:
            break
        budget -= size
        sections.append(o)
    out = [header]
    lines_left = objects_left = 0
    cut_overlays = 0
    full = True
    for o in sections:
        out.append(_open(o))
        lines = _body(o)
        shown = 0
        for line, starts_object in lines:
            if full and len(line) + 1 <= budget:
                out.append(line + "\n")
                budget -= len(line) + 1
                shown += 1
                continue
            full = False
            lines_left += 1
            objects_left += starts_object
        cut_overlays += shown < len(lines)
        out.append(CLOSE)
    hidden_overlays = len(report.overlays) - len(sections)
    for o in report.overlays[len(sections):]:
        objects_left += len(o.changes)
    if lines_left or hidden_overlays:
        what = [f"{lines_left} more line(s) ({objects_left} object(s)) in {cut_overlays} overlay(s)"
                for _ in range(bool(lines_left))]
        if hidden_overlays:
            what.append(f"{hidden_overlays} more overlay(s)")
        note = (f"*Cut at {max_length:,} characters: {' and '.join(what)} not shown; "
                f"`policycheck diff --base REF` prints the whole diff.*\n")
        out.append(note)
    return "".join(out)
