"""SARIF 2.1.0 report, for GitHub code scanning and other SARIF readers.

One run. ``tool.driver.rules`` holds every built-in rule of the catalog (its
summary, the "What it does" section of its doc, the whole doc as help, a
``helpUri`` into docs/rules.md and the default level) followed by the house
(Rego) rules that have findings, in id order.

One ``result`` per defect (``Report.defects()``), not per overlay: a problem
in a shared base found by dev and prod is one result whose message and
``properties.overlays`` name both. It carries

- ``partialFingerprints["policycheck/v1"]``: the defect's fingerprint (rule,
  file, object, field; no line, no overlay), so an alert survives an edit above it;
- the source file and line (``uriBaseId`` ``%SRCROOT%``, the directory
  policycheck ran in); a finding without a source points at the overlay's
  kustomization file when there is one, else has no physical location;
- ``logicalLocations``: ``Kind/namespace/name`` (namespace may be empty);
- exempted findings: ``suppressions`` (kind ``inSource``, the annotation's
  reason) and level ``note``, their real level kept in ``properties.severity``.
  GitHub code scanning ingests suppressed results as open alerts unless the
  repository opts in to treating them as dismissed; as notes they do not fail
  its pull-request check.

With ``--base REF`` each result also has ``baselineState``: ``unchanged`` when
the check at REF found it too (not failing), else ``new``, and
``partialFingerprints["policycheck/baseline/v1"]``, what the match is made on
(rule, kind, namespace, name without a generator's hash, field without list
positions, container; for a defect whose overlays differ in it, a hash of
them all). Findings at REF that are gone are *not* results with
``baselineState: absent``: GitHub code scanning reads no ``baselineState``
and would open an alert for each, at a line that may no longer hold it.
They are listed in ``runs[0].properties.base.absent`` instead, beside REF and
its commit.

Overlays that could not be checked are ``toolExecutionNotifications`` of
``invocations[0]``, whose ``executionSuccessful`` is then false; report notes
are notifications of level ``note``.

Kept within what GitHub accepts: one run, at most 25,000 results (the rest
are left out with a notification, errors kept first), one location per result,
relative artifact URIs, fewer than 20 tags per rule.

``docs_url`` is where the rule reference lives (``helpUri`` is
``docs_url#rule-id``); the CLI takes it from ``POLICYCHECK_DOCS_URL``,
default ``DOCS_URL``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from policycheck.model import Finding, Severity
from policycheck.render import kustomization_file
from policycheck.report import Defect, Report, sha256
from policycheck.rules import FAMILIES, REGISTRY

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/ai-agents/platform"
DOCS_URL = f"{INFORMATION_URI}/blob/main/docs/rules.md"
FINGERPRINT_KEY = "policycheck/v1"
BASELINE_KEY = "policycheck/baseline/v1"
SRCROOT = "%SRCROOT%"
# GitHub code scanning rejects a run with more results than this.
MAX_RESULTS = 25_000

_SURROGATES = re.compile("[\ud800-\udfff]")


def clean(text: object) -> str:
    """Text from the input as valid Unicode: a lone surrogate cannot be written as UTF-8."""
    return _SURROGATES.sub("\ufffd", str(text))


def where(f: Finding) -> tuple[str, int | None] | None:
    """The file (and line) a finding points at: its source, else the object's
    file, else the overlay's kustomization file, else nothing."""
    if f.source:
        return f.source.file, f.source.line
    if f.obj.origin:
        return f.obj.origin, None
    kfile = kustomization_file(Path(f.obj.overlay))
    return (kfile.as_posix(), None) if kfile else None


def object_ref(f: Finding) -> str:
    return f"{f.obj.kind}/{f.obj.name}"


def overlays_phrase(overlays: list[str]) -> str:
    return ("overlay " if len(overlays) == 1 else "overlays ") + ", ".join(overlays)


def level(defect: Defect) -> Severity:
    """The highest level the defect has in any overlay (profiles may differ)."""
    return max((f.severity for f in defect.findings), key=lambda s: s.rank)


def _artifact(path: str) -> dict[str, Any]:
    posix = PurePosixPath(Path(path).as_posix())
    if posix.is_absolute():
        return {"uri": Path(path).as_uri()}
    return {"uri": quote(clean(posix.as_posix()), safe="/"), "uriBaseId": SRCROOT}


def _physical(path: str, line: int | None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": _artifact(path)}
    if line and line > 0:
        physical["region"] = {"startLine": line}
    return physical


def _section(doc: str, heading: str) -> str:
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", doc, re.MULTILINE | re.DOTALL)
    return " ".join(match.group(1).split()) if match else ""


def _builtin_rules(docs_url: str) -> list[dict[str, Any]]:
    out = []
    for rule in REGISTRY.values():
        out.append({
            "id": rule.id,
            "name": rule.id,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": _section(rule.doc, "What it does") or rule.summary},
            "help": {"text": rule.doc, "markdown": rule.doc},
            "helpUri": f"{docs_url}#{rule.id}",
            "defaultConfiguration": {"level": rule.level.value},
            "properties": {"tags": ["kubernetes", rule.family], "family": FAMILIES[rule.family],
                           "engine": "builtin"},
        })
    return out


def _house_rule(rule_id: str, f: Finding) -> dict[str, Any]:
    text = clean(f.message) or rule_id
    return {
        "id": clean(rule_id),
        "name": clean(rule_id),
        "shortDescription": {"text": text},
        "fullDescription": {"text": f"House rule {clean(rule_id)} ({f.engine}), for example: {text}"},
        "defaultConfiguration": {"level": f.severity.value},
        "properties": {"tags": ["kubernetes", "house-rule"], "engine": f.engine},
    }


def _result(defect: Defect, rule_index: int, base: bool = False) -> dict[str, Any]:
    f = defect.first
    overlays = defect.overlays
    obj = object_ref(f)
    context = obj + (f" [{f.container}]" if f.container else "")
    if len(overlays) > 1:
        context += f" in {overlays_phrase(overlays)}"
    severity = level(defect)
    result: dict[str, Any] = {
        "ruleId": clean(f.rule),
        "ruleIndex": rule_index,
        "level": "note" if f.exempted else severity.value,
        "message": {"text": clean(f"{f.message} ({context})")},
    }
    location: dict[str, Any] = {}
    found = where(f)
    if found:
        location["physicalLocation"] = _physical(*found)
    location["logicalLocations"] = [{
        "name": clean(f.obj.name),
        "fullyQualifiedName": clean(f"{f.obj.kind}/{f.obj.namespace or ''}/{f.obj.name}"),
        "kind": "resource",
    }]
    result["locations"] = [location]
    via = getattr(f.source, "via", ()) if f.source else ()
    if via:  # the files that changed the field on its way to the render (patches)
        step = "defined or changed here, before the final change"
        result["relatedLocations"] = [
            {"id": i, "physicalLocation": _physical(s.file, s.line), "message": {"text": step}}
            for i, s in enumerate(via[:100], 1)
        ]
    result["partialFingerprints"] = {FINGERPRINT_KEY: defect.fingerprint}
    if base:  # --base REF: what matched (or not) a finding at REF
        from policycheck.baseline import fingerprint  # noqa: PLC0415 - only with --base

        prints = sorted({fingerprint(g) for g in defect.findings})
        result["partialFingerprints"][BASELINE_KEY] = (
            prints[0] if len(prints) == 1 else sha256("\n".join(prints).encode()).hexdigest()[:32])
        result["baselineState"] = "unchanged" if f.baseline else "new"
    if f.exempted:
        result["suppressions"] = [{"kind": "inSource", "justification": clean(f.exemption or "")}]
    result["properties"] = {
        "overlays": [clean(o) for o in overlays],
        "field": clean(f.field) if f.field else None,
        "engine": f.engine,
        "severity": severity.value,
        "kind": clean(f.obj.kind),
        "namespace": clean(f.obj.namespace) if f.obj.namespace else None,
        "name": clean(f.obj.name),
        "container": clean(f.container) if f.container else None,
    }
    return result


def _notification(text: str, level_: str, overlay: str | None = None) -> dict[str, Any]:
    note: dict[str, Any] = {"level": level_, "message": {"text": clean(text)}}
    if overlay is not None:
        kfile = kustomization_file(Path(overlay))
        if kfile:
            note["locations"] = [{"physicalLocation": _physical(kfile.as_posix(), None)}]
        note["properties"] = {"overlay": clean(overlay)}
    return note


def _priority(defect: Defect) -> tuple[int, int]:
    """Which results to keep first when there are too many: active errors, warnings, then exempted
    (new before baseline)."""
    return (int(defect.first.exempted), int(defect.first.baseline), -level(defect).rank)


def sarif(report: Report, docs_url: str = DOCS_URL) -> dict[str, Any]:
    rules = _builtin_rules(docs_url.rstrip("#"))
    index = {r["id"]: i for i, r in enumerate(rules)}
    defects = report.defects()
    for d in sorted(defects, key=lambda d: d.first.rule):
        if d.first.rule not in index:
            index[d.first.rule] = len(rules)
            rules.append(_house_rule(d.first.rule, d.first))
    kept = defects
    if len(defects) > MAX_RESULTS:
        keep = {id(d) for d in sorted(defects, key=_priority)[:MAX_RESULTS]}
        kept = [d for d in defects if id(d) in keep]
    notifications = [_notification(f"overlay {o.path} not checked: {o.error}", "error", o.path)
                     for o in report.errors]
    notifications += [_notification(n, "note") for n in report.all_notes()]
    if len(kept) < len(defects):
        notifications.append(_notification(f"{len(defects) - len(kept)} results left out: GitHub code scanning "
                                           f"accepts at most {MAX_RESULTS} per run", "warning"))
    invocation: dict[str, Any] = {"executionSuccessful": not report.errors}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    tool = report.tool
    driver: dict[str, Any] = {"name": "policycheck", "informationUri": INFORMATION_URI, "rules": rules}
    if tool.get("version"):
        driver["version"] = str(tool["version"])
        driver["semanticVersion"] = str(tool["version"])
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": driver},
            "invocations": [invocation],
            "results": [_result(d, index[d.first.rule], report.base is not None) for d in kept],
            "properties": _properties(report),
        }],
    }


def _properties(report: Report) -> dict[str, Any]:
    """The run's properties; with --base REF also REF and the findings at REF that are gone."""
    props = {k: report.tool.get(k) for k in ("kustomize", "kube_version", "conftest")}
    if report.base is not None:
        from policycheck.baseline import fingerprint  # noqa: PLC0415 - only with --base

        props["base"] = {**report.base, "absent": [
            {"ruleId": clean(f.rule), "overlay": clean(f.obj.overlay), "kind": clean(f.obj.kind),
             "namespace": clean(f.obj.namespace) if f.obj.namespace else None, "name": clean(f.obj.name),
             "field": clean(f.field) if f.field else None, "container": clean(f.container) if f.container else None,
             "message": clean(f.message), "file": clean(f.source.file) if f.source else None,
             "line": f.source.line if f.source else None, BASELINE_KEY: fingerprint(f)}
            for f in sorted(report.absent, key=Finding.sort_key)]}
    return props


def render(report: Report, docs_url: str = DOCS_URL) -> str:
    return json.dumps(sarif(report, docs_url), indent=2, ensure_ascii=False) + "\n"
