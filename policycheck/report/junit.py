"""JUnit XML report, for CI systems that show test results.

    <testsuites name="policycheck" tests failures errors skipped>
      <testsuite name="OVERLAY" tests failures errors skipped>      one per overlay
        <properties> profile, objects </properties>
        <testcase classname="OVERLAY" name="RULE Kind/name" file line>   one per (object, rule) that ran
          <failure message type="RULE">file:line: ... one line per finding</failure>
          | <skipped message="exemption reason"/>    (every finding of the pair exempted)
          | <system-out>findings below --fail-on</system-out>   (passes)
          | (nothing: the rule ran on the object and found nothing)
        <testcase classname="OVERLAY" name="house rules (Rego) on N objects"/>   when the Rego stage ran
        <system-out>the overlay's notes</system-out>

With ``--base REF`` only new findings fail: a pair whose findings at or
above ``fail_on`` were all there at REF (baseline) is ``<skipped>`` with
"baseline: already at REF" and the findings as its text.

An overlay that could not be checked has one testcase, "check", with an
``<error>``: its render or check failed.

A built-in rule "ran on" an object when it read the object (the engine
records which, OverlayResult.ran); schema, field-type and deprecated-api
look at every object. conftest does not say which objects a Rego policy
looked at, so house rules have a test case per (object, rule) with a
finding and one passing case for the stage. A pair fails when it has a
finding at or above ``fail_on`` (the gate's ``--fail-on``): the suite fails
exactly when the exit code does; findings below it are passing testcases
with the findings as output.

Text from the input is escaped as in the text report (textsafe): no control
character can make the XML invalid or forge a line.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter

from policycheck.model import Finding, Severity
from policycheck.report import OverlayResult, Report
from policycheck.report.sarif import clean, where
from policycheck.textsafe import escape

# Characters XML 1.0 cannot hold at all, past the control characters textsafe escapes.
_NOT_XML = {0xFFFE: "\\ufffe", 0xFFFF: "\\uffff"}


def _text(value: object) -> str:
    return clean(escape(value)).translate(_NOT_XML)


def _line(f: Finding) -> str:
    found = where(f)
    place = (f"{found[0]}:{found[1]}" if found[1] else found[0]) if found else "(unknown source)"
    state = "exempted" if f.exempted else f.severity.value
    obj = f"{f.obj.kind}/{f.obj.name}" + (f" [{f.container}]" if f.container else "")
    tail = f" (exempted: {f.exemption})" if f.exempted else ""
    tail += " (baseline: already at the --base revision)" if f.baseline else ""
    return _text(f"{place}: {state} {f.rule} {obj}: {f.message}{tail}")


def _case_name(f: Finding, ambiguous: set[tuple[str, str]]) -> str:
    name = f"{f.rule} {f.obj.kind}/{f.obj.name}"
    if (f.obj.kind, f.obj.name) in ambiguous:
        name += f" (namespace {f.obj.namespace or '-'})"
    return _text(name)


def _suite(overlay: OverlayResult, findings: list[Finding], fail_on: Severity, base_ref: str = "REF") -> ET.Element:
    suite = ET.Element("testsuite", name=_text(overlay.path))
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="profile", value=_text(overlay.profile))
    ET.SubElement(props, "property", name="objects", value=str(overlay.objects))
    counts = Counter[str]()
    if overlay.error:
        case = ET.SubElement(suite, "testcase", classname=_text(overlay.path), name="check")
        error = ET.SubElement(case, "error", message=_text(f"not checked: {overlay.error}"), type="not-checked")
        error.text = _text(overlay.error)
        counts.update(tests=1, errors=1)
    else:
        namespaces: dict[tuple[str, str], set[str | None]] = {}
        pairs: dict[tuple[str, str, str | None, str], list[Finding]] = {}
        for f in findings:
            namespaces.setdefault((f.obj.kind, f.obj.name), set()).add(f.obj.namespace)
            pairs.setdefault((f.rule, f.obj.kind, f.obj.namespace, f.obj.name), []).append(f)
        for _rule, kind, namespace, name in overlay.ran:
            namespaces.setdefault((kind, name), set()).add(namespace)
        ambiguous = {key for key, spaces in namespaces.items() if len(spaces) > 1}
        cases = {key: pairs.get(key, []) for key in dict.fromkeys([*overlay.ran, *pairs])}
        for (rule, kind, namespace, name), group in cases.items():
            counts["tests"] += 1
            if not group:
                label = f"{rule} {kind}/{name}" + (f" (namespace {namespace or '-'})" if (kind, name) in ambiguous
                                                   else "")
                ET.SubElement(suite, "testcase", classname=_text(overlay.path), name=_text(label))
                continue
            first = group[0]
            case = ET.SubElement(suite, "testcase", classname=_text(overlay.path), name=_case_name(first, ambiguous))
            found = where(first)
            if found:
                case.set("file", _text(found[0]))
                if found[1]:
                    case.set("line", str(found[1]))
            failing = [f for f in group if not f.exempted and not f.baseline and f.severity.rank >= fail_on.rank]
            body = "\n".join(_line(f) for f in group)
            if failing:
                more = f" (and {len(failing) - 1} more)" if len(failing) > 1 else ""
                failure = ET.SubElement(case, "failure", message=_text(failing[0].message + more), type=first.rule)
                failure.text = body
                counts["failures"] += 1
            elif all(f.exempted for f in group):
                ET.SubElement(case, "skipped", message=_text(first.exemption or "exempted"))
                counts["skipped"] += 1
            elif all(f.exempted or f.baseline for f in group) and any(f.severity.rank >= fail_on.rank for f in group):
                # --base REF: it was there at REF; skipped, not failed, not passed
                skipped = ET.SubElement(case, "skipped", message=_text(f"baseline: already at {base_ref}"))
                skipped.text = body
                counts["skipped"] += 1
            else:
                ET.SubElement(case, "system-out").text = body
        if overlay.rego_ran:
            stage = f"house rules (Rego) on {overlay.objects} objects"
            ET.SubElement(suite, "testcase", classname=_text(overlay.path), name=stage)
            counts["tests"] += 1
    if overlay.notes:
        ET.SubElement(suite, "system-out").text = "\n".join(_text(n) for n in overlay.notes)
    for key in ("tests", "failures", "errors", "skipped"):
        suite.set(key, str(counts[key]))
    return suite


def render(report: Report, fail_on: Severity = Severity.ERROR) -> str:
    root = ET.Element("testsuites", name="policycheck")
    by_overlay: dict[str, list[Finding]] = {}
    for f in sorted(report.findings, key=Finding.sort_key):
        by_overlay.setdefault(f.obj.overlay, []).append(f)
    totals = Counter[str]()
    for overlay in report.overlays:
        suite = _suite(overlay, by_overlay.get(overlay.path, []), fail_on,
                       report.base["ref"] if report.base else "REF")
        root.append(suite)
        for key in ("tests", "failures", "errors", "skipped"):
            totals[key] += int(suite.get(key, "0"))
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(totals[key]))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
