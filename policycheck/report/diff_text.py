"""The text form of ``policycheck diff``: one block per overlay (pure: DiffReport -> str).

    policycheck diff: HEAD (0123abc) -> working tree
    overlays/dev: 1 added, 0 removed, 2 changed
      + Service ai-agents/metrics
      ~ Deployment ai-agents/api
          spec.template.spec.containers[name=api].image: "app:1.0" -> "app:1.1"
      ~ ConfigMap ai-agents/app-config-5fk8bk2h9m -> app-config-7c6bcg8h4t: content changed: data.LOG_LEVEL
          "INFO" -> "DEBUG" (on one line)
    overlays/prod: no changes (25 objects)
"""

from __future__ import annotations

from policycheck.diff import DiffReport, FieldChange, ObjectChange, OverlayDiff
from policycheck.textsafe import escape

SHOWN = 120  # characters of a value on a line
MARKS = {"added": "+", "removed": "-", "changed": "~", "content-changed": "~"}
INLINE_FIELDS = 10  # fields on a "content changed" line


def value(text: str | None, truncated: bool, limit: int = SHOWN) -> str:
    """A value's JSON text as shown: on one line, cut at ``limit`` characters."""
    if text is None:
        return "(absent)"
    text = escape(text)
    if len(text) > limit:
        return text[:limit] + "..."
    return text + ("..." if truncated else "")


def field_line(f: FieldChange, limit: int = SHOWN) -> str:
    path = escape(f.path)
    if f.hidden:
        return f"{path}: {f.change} (value hidden)"
    if f.change == "added":
        return f"{path}: added {value(f.new, f.truncated, limit)}"
    if f.change == "removed":
        return f"{path}: removed (was {value(f.old, f.truncated, limit)})"
    return f"{path}: {value(f.old, f.truncated, limit)} -> {value(f.new, f.truncated, limit)}"


def identity(c: ObjectChange) -> str:
    where = f"{c.namespace}/{c.name}" if c.namespace else c.name
    return escape(f"{c.kind} {where}")


def summary(o: OverlayDiff) -> str:
    if o.status == "failed":
        return f"not compared: {escape(o.error or '')}"
    if o.status == "added":
        return f"added overlay ({o.head_objects} objects)"
    if o.status == "removed":
        return f"removed overlay ({o.base_objects} objects)"
    if not o.has_changes:
        return f"no changes ({o.head_objects} objects)"
    return f"{o.added} added, {o.removed} removed, {o.changed} changed"


def content_line(c: ObjectChange) -> str:
    """A generated ConfigMap/Secret whose hash changed: one line."""
    parts = []
    for f in c.fields[:INLINE_FIELDS]:
        if f.hidden:
            parts.append(f"{escape(f.path)} {f.change} (value hidden)")
        elif f.change == "added":
            parts.append(f"{escape(f.path)} added {value(f.new, f.truncated, 60)}")
        elif f.change == "removed":
            parts.append(f"{escape(f.path)} removed")
        else:
            parts.append(f"{escape(f.path)} {value(f.old, f.truncated, 60)} -> {value(f.new, f.truncated, 60)}")
    more = len(c.fields) - INLINE_FIELDS + c.fields_omitted
    if more > 0:
        parts.append(f"and {more} more")
    where = f"{c.namespace}/" if c.namespace else ""
    names = escape(f"{c.kind} {where}{c.base_name} -> {c.name}")
    return f"{names}: content changed: {'; '.join(parts)}"


def object_lines(c: ObjectChange) -> list[str]:
    if c.change == "content-changed":
        return [f"  ~ {content_line(c)}"]
    lines = [f"  {MARKS[c.change]} {identity(c)}"]
    lines += [f"      {field_line(f)}" for f in c.fields]
    if c.fields_omitted:
        lines.append(f"      ... and {c.fields_omitted} more changed fields")
    return lines


def render(report: DiffReport) -> str:
    lines = [f"policycheck diff: {escape(report.ref)} ({report.commit[:7]}) -> working tree"]
    for o in report.overlays:
        lines.append(f"{escape(o.path)}: {summary(o)}")
        for c in o.changes:
            lines += object_lines(c)
        if o.changes_omitted:
            lines.append(f"  ... and {o.changes_omitted} more changed objects")
        lines += [f"  note: {escape(n)}" for n in o.notes]
    if not report.overlays:
        lines.append("no overlays")
    return "\n".join(lines) + "\n"
