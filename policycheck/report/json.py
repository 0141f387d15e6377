"""The JSON report (version 1): a contract read by CI tooling and tests, and read back.

    {"version": 1, "tool": {...},
     "overlays": [{"path", "profile", "objects", "error": str|null, "notes": [str],
                   "rego_ran": bool,
                   "checked": {"objects": [[kind, namespace|null, name]],
                               "rules": {rule: [index into objects]}}}],
     "findings": [{"rule", "severity", "overlay", "kind", "namespace", "name", "container",
                   "field", "message", "source": {"file", "line", "via"?: [{"file", "line"}]}|null,
                   "origin": str|null, "source_name": str|null,
                   "engine", "exempted", "exemption", "fingerprint", "overlays": [str]}],
     "summary": {"error", "warning", "exempted", "overlay_errors"},
     "notes": [str],                                   (only when there are notes)
     "shard": {"index", "count", "overlays": [str]},   (only from --shard I/N: every overlay of the run)
     "base": {"ref", "commit"},                        (only with --base REF, and then also:)
     "absent": [finding]}                              findings at REF that are gone (files as at REF)
     With --base REF every finding also has "baseline": bool (REF had it: it does not fail the run)
     and "baseline_fingerprint" (rule, kind, namespace, name without a generator's hash suffix,
     field without list positions, container: what --base matches on), and "summary" counts only
     new findings in "error" and "warning", plus "baseline" and "absent".

An overlay whose check failed has an ``error`` and no findings; the exit
code is then 2, whatever the other overlays found. Findings are per overlay;
``fingerprint`` identifies the defect (rule, source file, object, field: not
lines; with the message too when one rule reports two problems at one field)
and ``overlays`` lists every overlay that has it, so a defect in a shared base
is one defect found in several overlays. ``checked`` says which
built-in rule looked at which object (JUnit's test cases), ``origin`` the file
that defines the object and ``source_name`` the name it has there.

``load`` reads a report back into the Report every format is written from:
``policycheck merge`` combines shard reports with it, and the result cache
keeps each overlay's entry in this shape (``overlay_entry``/``overlay_from``).
Anything that is not such a report is a PolicycheckError, never a crash.
"""

from __future__ import annotations

import json
from typing import Any

from policycheck.errors import PolicycheckError
from policycheck.model import Finding, K8sObject, Severity, Source
from policycheck.report import OverlayResult, Report

VERSION = 1


def finding_dict(f: Finding, fingerprint: str | None = None, overlays: list[str] | None = None,
                 base: bool = False) -> dict[str, Any]:
    """One finding; ``base``: the run had --base REF (the finding says whether REF had it)."""
    data = {
        "rule": f.rule,
        "severity": f.severity.value,
        "overlay": f.obj.overlay,
        "kind": f.obj.kind,
        "namespace": f.obj.namespace,
        "name": f.obj.name,
        "container": f.container,
        "field": f.field,
        "message": f.message,
        "source": f.source.as_dict() if f.source else None,
        "origin": f.obj.origin,
        "source_name": f.obj.source_name,
        "engine": f.engine,
        "exempted": f.exempted,
        "exemption": f.exemption,
        "fingerprint": fingerprint,
        "overlays": overlays if overlays is not None else [f.obj.overlay],
    }
    if base:
        from policycheck.baseline import fingerprint as baseline_fingerprint  # noqa: PLC0415 - only with --base

        data["baseline"] = f.baseline
        data["baseline_fingerprint"] = baseline_fingerprint(f)
    return data


def _findings(report: Report) -> list[dict[str, Any]]:
    shared = {id(f): (d.fingerprint, d.overlays) for d in report.defects() for f in d.findings}
    base = report.base is not None
    return [finding_dict(f, *shared[id(f)], base=base) for f in sorted(report.findings, key=Finding.sort_key)]


def overlay_entry(o: OverlayResult) -> dict[str, Any]:
    objects: dict[tuple[str, str | None, str], int] = {}
    rules: dict[str, list[int]] = {}
    for rule, kind, namespace, name in o.ran:
        index = objects.setdefault((kind, namespace, name), len(objects))
        rules.setdefault(rule, []).append(index)
    return {"path": o.path, "profile": o.profile, "objects": o.objects, "error": o.error, "notes": o.notes,
            "rego_ran": o.rego_ran, "checked": {"objects": [list(k) for k in objects], "rules": rules}}


def render(report: Report) -> str:
    data = {
        "version": VERSION,
        "tool": report.tool,
        "overlays": [overlay_entry(o) for o in report.overlays],
        "findings": _findings(report),
        "summary": report.summary(),
    }
    if report.notes:
        data["notes"] = report.notes
    if report.shard:
        data["shard"] = report.shard
    if report.base is not None:
        data["base"] = report.base
        data["absent"] = [finding_dict(f, base=True) for f in sorted(report.absent, key=Finding.sort_key)]
    return _dumps(data)


def _dumps(data: dict[str, Any]) -> str:
    """``data`` with the top level indented and each overlay and finding on a line of its own.

    json.dumps with an indent runs in pure Python (a second for 6,000 findings); this way
    every item is written by the C encoder.
    """
    lines = ["{"]
    keys = list(data)
    for i, key in enumerate(keys):
        comma = "," if i < len(keys) - 1 else ""
        value = data[key]
        if isinstance(value, list) and value:
            lines.append(f"  {json.dumps(key)}: [")
            lines.extend(f"    {json.dumps(item)}{',' if j < len(value) - 1 else ''}" for j, item in enumerate(value))
            lines.append(f"  ]{comma}")
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- reading back


class ReadError(Exception):
    """Where a report is not what render() writes."""


def _get(data: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str, optional: bool = False) -> Any:
    if key not in data:
        if optional:
            return None
        raise ReadError(f"{where}.{key} missing")
    value = data[key]
    if optional and value is None:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ReadError(f"{where}.{key} has the wrong type")
    return value


def _strs(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ReadError(f"{where} is not a list of strings")
    return value


def _source(data: Any, where: str) -> Source | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise ReadError(f"{where} is not an object")
    via = _get(data, "via", list, where, optional=True) or []
    chain = tuple(_source(v, f"{where}.via[]") for v in via)
    return Source(_get(data, "file", str, where), _get(data, "line", int, where),
                  tuple(s for s in chain if s is not None))


def finding_from(data: Any, where: str = "finding") -> Finding:
    if not isinstance(data, dict):
        raise ReadError(f"{where} is not an object")
    severity = _get(data, "severity", str, where)
    if severity not in ("error", "warning"):
        raise ReadError(f"{where}.severity is not error or warning")
    namespace = _get(data, "namespace", str, where, optional=True)
    meta: dict[str, Any] = {"name": _get(data, "name", str, where)}
    if namespace is not None:
        meta["namespace"] = namespace
    obj = K8sObject({"kind": _get(data, "kind", str, where), "metadata": meta}, _get(data, "overlay", str, where),
                    _get(data, "origin", str, where, optional=True))
    obj.source_name = _get(data, "source_name", str, where, optional=True)
    return Finding(
        _get(data, "rule", str, where), Severity(severity), obj, _get(data, "message", str, where),
        field=_get(data, "field", str, where, optional=True),
        container=_get(data, "container", str, where, optional=True),
        engine=_get(data, "engine", str, where),
        source=_source(data.get("source"), f"{where}.source"),
        exempted=_get(data, "exempted", bool, where),
        exemption=_get(data, "exemption", str, where, optional=True),
        baseline=bool(_get(data, "baseline", bool, where, optional=True)),
    )


def overlay_from(data: Any, findings: list[Finding], where: str = "overlay") -> OverlayResult:
    if not isinstance(data, dict):
        raise ReadError(f"{where} is not an object")
    result = OverlayResult(_get(data, "path", str, where), _get(data, "profile", str, where),
                           objects=_get(data, "objects", int, where),
                           error=_get(data, "error", str, where, optional=True),
                           notes=_strs(data.get("notes", []), f"{where}.notes"),
                           findings=findings, rego_ran=bool(_get(data, "rego_ran", bool, where, optional=True)))
    checked = _get(data, "checked", dict, where, optional=True) or {"objects": [], "rules": {}}
    objects = _get(checked, "objects", list, f"{where}.checked")
    keys = []
    for item in objects:
        if (not isinstance(item, list) or len(item) != 3 or not isinstance(item[0], str)
                or not isinstance(item[2], str) or not (item[1] is None or isinstance(item[1], str))):
            raise ReadError(f"{where}.checked.objects[] is not [kind, namespace, name]")
        keys.append(tuple(item))
    rules = _get(checked, "rules", dict, f"{where}.checked")
    for rule, indexes in rules.items():
        if not isinstance(indexes, list):
            raise ReadError(f"{where}.checked.rules.{rule} is not a list")
        for i in indexes:
            if not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < len(keys):
                raise ReadError(f"{where}.checked.rules.{rule} holds an index out of range")
            result.ran.append((rule, *keys[i]))
    return result


def load(data: Any, label: str = "report") -> Report:
    """The Report a JSON report (parsed) was written from."""
    try:
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise ReadError(f"not a policycheck JSON report of version {VERSION}")
        tool = _get(data, "tool", dict, "report")
        findings = [finding_from(f, f"findings[{i}]") for i, f in enumerate(_get(data, "findings", list, "report"))]
        by_overlay: dict[str, list[Finding]] = {}
        for f in findings:
            by_overlay.setdefault(f.obj.overlay, []).append(f)
        overlays = []
        for i, entry in enumerate(_get(data, "overlays", list, "report")):
            path = entry.get("path") if isinstance(entry, dict) else None
            overlays.append(overlay_from(entry, by_overlay.pop(path, []) if isinstance(path, str) else [],
                                         f"overlays[{i}]"))
        if by_overlay:
            raise ReadError(f"a finding names overlay {next(iter(by_overlay))!r}, which the report does not list")
        notes = _strs(data.get("notes", []), "notes")
        shard = _get(data, "shard", dict, "report", optional=True)
        if shard is not None:
            index, count = _get(shard, "index", int, "shard"), _get(shard, "count", int, "shard")
            if not 1 <= index <= count:
                raise ReadError("shard.index is not within 1..shard.count")
            shard = {"index": index, "count": count, "overlays": _strs(shard.get("overlays"), "shard.overlays")}
        base = _get(data, "base", dict, "report", optional=True)
        if base is not None:
            base = {"ref": _get(base, "ref", str, "base"), "commit": _get(base, "commit", str, "base")}
            known = {o.path: o for o in overlays}
            for i, item in enumerate(_get(data, "absent", list, "report", optional=True) or []):
                gone = finding_from(item, f"absent[{i}]")
                if gone.obj.overlay not in known:
                    raise ReadError(f"absent[{i}] names overlay {gone.obj.overlay!r}, which the report does not list")
                known[gone.obj.overlay].absent.append(gone)
    except ReadError as exc:
        raise PolicycheckError(f"{label}: {exc}") from None
    return Report(tool=tool, overlays=overlays, findings=findings, notes=notes, shard=shard, base=base)
