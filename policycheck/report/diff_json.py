"""The JSON form of ``policycheck diff`` (version 1), and reading it back (pure).

    {"version": 1,
     "base": {"ref": str, "commit": str},
     "summary": {"overlays": int, "added": int, "removed": int, "changed": int,
                 "failed": int, "changes": bool},
     "overlays": [{
        "path": str,                        (from the working directory)
        "status": "compared" | "added" | "removed" | "failed",
        "objects": {"base": int|null, "head": int|null},   (null: absent or failed on that side)
        "added": int, "removed": int, "changed": int,
        "error": {"side": "base"|"head"|"both", "message": str} | null,
        "notes": [str],
        "changes": [{
            "change": "added" | "removed" | "changed" | "content-changed",
            "group": str, "kind": str, "namespace": str|null, "name": str,
            "base_name": str|null,          (content-changed: the generated name at REF)
            "fields": [{"path": str, "change": "added"|"removed"|"changed",
                        "old": any, "new": any, "hidden": bool, "truncated": bool}],
            "fields_omitted": int}],
        "changes_omitted": int}]}

An added overlay, or an added or removed object, has no fields. ``old``/``new`` are
the values (null when absent on that side, or hidden); with ``truncated`` they are
instead the first 1,000 characters of the value's compact JSON text (or a
description of a value JSON cannot spell), as a string. A ``hidden`` field never
carries a value. ``added``/``removed``/``changed`` count every object even when
only ``MAX_CHANGES`` are listed (``changes_omitted`` says how many are not).
``SCHEMA`` is the JSON Schema of this document; ``load`` reads one back.
"""

from __future__ import annotations

import json
from typing import Any

from policycheck.diff import DiffReport, FieldChange, ObjectChange, OverlayDiff
from policycheck.errors import PolicycheckError

VERSION = 1

_COUNT = {"type": "integer", "minimum": 0}
_NULL_STR = {"type": ["string", "null"]}
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "policycheck diff report",
    "type": "object",
    "additionalProperties": False,
    "required": ["version", "base", "summary", "overlays"],
    "properties": {
        "version": {"const": VERSION},
        "base": {"type": "object", "additionalProperties": False, "required": ["ref", "commit"],
                 "properties": {"ref": {"type": "string"}, "commit": {"type": "string"}}},
        "summary": {"type": "object", "additionalProperties": False,
                    "required": ["overlays", "added", "removed", "changed", "failed", "changes"],
                    "properties": {"overlays": _COUNT, "added": _COUNT, "removed": _COUNT, "changed": _COUNT,
                                   "failed": _COUNT, "changes": {"type": "boolean"}}},
        "overlays": {"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "required": ["path", "status", "objects", "added", "removed", "changed", "error", "notes", "changes",
                         "changes_omitted"],
            "properties": {
                "path": {"type": "string"},
                "status": {"enum": ["compared", "added", "removed", "failed"]},
                "objects": {"type": "object", "additionalProperties": False, "required": ["base", "head"],
                            "properties": {"base": {"type": ["integer", "null"], "minimum": 0},
                                           "head": {"type": ["integer", "null"], "minimum": 0}}},
                "added": _COUNT, "removed": _COUNT, "changed": _COUNT,
                "error": {"oneOf": [{"type": "null"}, {
                    "type": "object", "additionalProperties": False, "required": ["side", "message"],
                    "properties": {"side": {"enum": ["base", "head", "both"]}, "message": {"type": "string"}}}]},
                "notes": {"type": "array", "items": {"type": "string"}},
                "changes": {"type": "array", "items": {
                    "type": "object", "additionalProperties": False,
                    "required": ["change", "group", "kind", "namespace", "name", "base_name", "fields",
                                 "fields_omitted"],
                    "properties": {
                        "change": {"enum": ["added", "removed", "changed", "content-changed"]},
                        "group": {"type": "string"}, "kind": {"type": "string"}, "namespace": _NULL_STR,
                        "name": {"type": "string"}, "base_name": _NULL_STR, "fields_omitted": _COUNT,
                        "fields": {"type": "array", "items": {
                            "type": "object", "additionalProperties": False,
                            "required": ["path", "change", "old", "new", "hidden", "truncated"],
                            "properties": {
                                "path": {"type": "string"},
                                "change": {"enum": ["added", "removed", "changed"]},
                                "old": {}, "new": {},
                                "hidden": {"type": "boolean"}, "truncated": {"type": "boolean"}},
                            "if": {"properties": {"hidden": {"const": True}}},
                            "then": {"properties": {"old": {"type": "null"}, "new": {"type": "null"}}}}}}}},
                "changes_omitted": _COUNT}}},
    },
}


def _value(text: str | None, truncated: bool) -> Any:
    if text is None or truncated:
        return text
    return json.loads(text)


def _text(value: Any, truncated: bool, present: bool) -> str | None:
    """Back to JSON text; ``present``: the field has a value on that side (null is a value)."""
    if not present:
        return None
    if truncated:
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _field(f: FieldChange) -> dict[str, Any]:
    return {"path": f.path, "change": f.change, "old": _value(f.old, f.truncated), "new": _value(f.new, f.truncated),
            "hidden": f.hidden, "truncated": f.truncated}


def _change(c: ObjectChange) -> dict[str, Any]:
    return {"change": c.change, "group": c.group, "kind": c.kind, "namespace": c.namespace, "name": c.name,
            "base_name": c.base_name, "fields": [_field(f) for f in c.fields], "fields_omitted": c.fields_omitted}


def _overlay(o: OverlayDiff) -> dict[str, Any]:
    return {"path": o.path, "status": o.status, "objects": {"base": o.base_objects, "head": o.head_objects},
            "added": o.added, "removed": o.removed, "changed": o.changed,
            "error": {"side": o.error_side, "message": o.error} if o.error is not None else None,
            "notes": list(o.notes), "changes": [_change(c) for c in o.changes], "changes_omitted": o.changes_omitted}


def document(report: DiffReport) -> dict[str, Any]:
    totals = report.totals()
    return {"version": VERSION, "base": {"ref": report.ref, "commit": report.commit},
            "summary": {"overlays": len(report.overlays), **totals, "failed": len(report.failed),
                        "changes": report.has_changes},
            "overlays": [_overlay(o) for o in report.overlays]}


def render(report: DiffReport) -> str:
    return json.dumps(document(report), indent=2, ensure_ascii=False) + "\n"


def _load_field(f: dict[str, Any]) -> FieldChange:
    shown = not f["hidden"]
    old = _text(f["old"], f["truncated"], shown and f["change"] != "added")
    new = _text(f["new"], f["truncated"], shown and f["change"] != "removed")
    return FieldChange(f["path"], f["change"], old, new, f["hidden"], f["truncated"])


def load(data: Any) -> DiffReport:
    """A report from its JSON document; anything else is a PolicycheckError."""
    try:
        if data.get("version") != VERSION:
            raise PolicycheckError(f"diff report: version {data.get('version')!r}, expected {VERSION}")
        report = DiffReport(data["base"]["ref"], data["base"]["commit"])
        for o in data["overlays"]:
            err = o["error"]
            item = OverlayDiff(o["path"], o["status"], o["objects"]["base"], o["objects"]["head"], o["added"],
                               o["removed"], o["changed"], changes_omitted=o["changes_omitted"],
                               error=err["message"] if err else None, error_side=err["side"] if err else None,
                               notes=list(o["notes"]))
            for c in o["changes"]:
                item.changes.append(ObjectChange(
                    c["change"], c["group"], c["kind"], c["namespace"], c["name"], c["base_name"],
                    [_load_field(f) for f in c["fields"]], c["fields_omitted"]))
            report.overlays.append(item)
        return report
    except PolicycheckError:
        raise
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise PolicycheckError(f"diff report: not a policycheck diff report ({type(exc).__name__})") from None
