"""The JSON report (version 1): a contract read by CI tooling and tests.

    {"version": 1, "tool": {...},
     "overlays": [{"path", "profile", "objects", "error": str|null, "notes": [str]}],
     "findings": [{"rule", "severity", "overlay", "kind", "namespace", "name", "container",
                   "field", "message", "source": {"file", "line", "via"?: [{"file", "line"}]}|null,
                   "engine", "exempted", "exemption", "fingerprint", "overlays": [str]}],
     "summary": {"error", "warning", "exempted", "overlay_errors"},
     "notes": [str]}                                   (only when there are notes)

An overlay whose check failed has an ``error`` and no findings; the exit
code is then 2, whatever the other overlays found. Findings are per overlay;
``fingerprint`` identifies the defect (rule, source file, object, field: not
lines) and ``overlays`` lists every overlay that has it, so a defect in a
shared base is one defect found in several overlays.
"""

from __future__ import annotations

import json
from typing import Any

from policycheck.model import Finding
from policycheck.report import Report


def finding_dict(f: Finding, fingerprint: str | None = None, overlays: list[str] | None = None) -> dict[str, Any]:
    return {
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
        "engine": f.engine,
        "exempted": f.exempted,
        "exemption": f.exemption,
        "fingerprint": fingerprint,
        "overlays": overlays if overlays is not None else [f.obj.overlay],
    }


def _findings(report: Report) -> list[dict[str, Any]]:
    shared = {id(f): (d.fingerprint, d.overlays) for d in report.defects() for f in d.findings}
    return [finding_dict(f, *shared[id(f)]) for f in sorted(report.findings, key=Finding.sort_key)]


def render(report: Report) -> str:
    data = {
        "version": 1,
        "tool": report.tool,
        "overlays": [{"path": o.path, "profile": o.profile, "objects": o.objects, "error": o.error,
                      "notes": o.notes} for o in report.overlays],
        "findings": _findings(report),
        "summary": report.summary(),
    }
    if report.notes:
        data["notes"] = report.notes
    return json.dumps(data, indent=2) + "\n"
