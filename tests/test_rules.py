"""Every rule has a fixture where it fires and one where it stays silent
(a meta-test enforces it), and its findings point at real lines."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from policycheck import engine
from policycheck.config import Profile
from policycheck.model import K8sObject, Severity
from policycheck.provenance import parse_field
from policycheck.render import Rendered
from policycheck.rules import REGISTRY
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures"
TODAY = dt.date(2026, 11, 28)


def load(path: Path) -> Rendered:
    rel = path.relative_to(ROOT).as_posix()
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    return Rendered("fixture", [K8sObject(d, "fixture", rel) for d in docs])


def findings(rule: str, variant: str):  # noqa: ANN201
    rendered = load(FIXTURES / rule / f"{variant}.yaml")
    return engine.run(rendered, Profile("test"), "1.35", TODAY, only={rule})


def test_every_rule_has_both_fixtures() -> None:
    missing = [f"{r}/{v}.yaml" for r in REGISTRY for v in ("fires", "passes") if not (FIXTURES / r / f"{v}.yaml").is_file()]
    assert missing == []
    assert sorted(p.name for p in FIXTURES.iterdir()) == sorted(REGISTRY)


@pytest.mark.parametrize("rule", sorted(REGISTRY))
def test_rule_fires(rule: str) -> None:
    found = findings(rule, "fires")
    assert found, f"{rule} found nothing in its fires fixture"
    assert {f.rule for f in found} == {rule}
    text = (FIXTURES / rule / "fires.yaml").read_text().splitlines()
    for f in found:
        assert f.source is not None and f.source.file == f"tests/fixtures/{rule}/fires.yaml"
        assert 1 <= f.source.line <= len(text)
        last = parse_field(f.field)[-1] if f.field else None
        if isinstance(last, str) and f.source.line > 2:
            # The finding points at the offending key when the file writes it.
            assert last in text[f.source.line - 1] or text[f.source.line - 1].startswith("apiVersion"), (
                f.field, text[f.source.line - 1])


@pytest.mark.parametrize("rule", sorted(REGISTRY))
def test_rule_passes(rule: str) -> None:
    assert findings(rule, "passes") == []


def test_rules_are_documented_with_the_same_headings() -> None:
    for rule in REGISTRY.values():
        for heading in ("## What it does", "## Why is this bad?", "## Example", "## Use instead"):
            assert heading in rule.doc, (rule.id, heading)
        assert rule.summary and rule.level in (Severity.ERROR, Severity.WARNING)


def test_field_line_is_exact() -> None:
    found = findings("privileged-container", "fires")
    lines = (FIXTURES / "privileged-container" / "fires.yaml").read_text().splitlines()
    assert [lines[f.source.line - 1].strip() for f in found] == ["privileged: true"]


def test_unknown_kinds_are_unvalidated_warnings() -> None:
    crd = K8sObject({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}, "fixture")
    found = engine.run(Rendered("fixture", [crd]), Profile("test"), "1.35", TODAY)
    assert [(f.rule, f.severity) for f in found] == [("schema", Severity.WARNING)]


def test_deprecated_api_depends_on_target_version() -> None:
    hpa = K8sObject({"apiVersion": "autoscaling/v2beta2", "kind": "HorizontalPodAutoscaler",
                     "metadata": {"name": "h"}, "spec": {}}, "fixture")
    def levels(version: str):  # noqa: ANN202
        return [f.severity for f in engine.run(Rendered("f", [hpa]), Profile("t"), version, TODAY, only={"deprecated-api"})]
    assert levels("1.25") == [Severity.WARNING]
    assert levels("1.26") == [Severity.ERROR]
    endpoints = K8sObject({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "e"}}, "fixture")
    assert [f.severity for f in engine.run(Rendered("f", [endpoints]), Profile("t"), "1.32", TODAY,
                                           only={"deprecated-api"})] == []


def test_exemption_expiry_and_reason() -> None:
    rendered = load(FIXTURES / "liveness-probe" / "fires.yaml")
    obj = rendered.objects[0]
    ann = obj.doc["metadata"].setdefault("annotations", {})
    ann["policycheck.io/exempt.liveness-probe"] = "batch job runner"
    found = engine.run(rendered, Profile("t"), "1.35", TODAY, only={"liveness-probe", "exemption-reason"})
    assert [(f.rule, f.exempted, f.exemption) for f in found] == [("liveness-probe", True, "batch job runner")]
    ann["policycheck.io/exempt-until.liveness-probe"] = "2026-11-27"
    found = engine.run(rendered, Profile("t"), "1.35", TODAY, only={"liveness-probe", "exemption-reason"})
    assert sorted((f.rule, f.exempted) for f in found) == [("exemption-reason", False), ("liveness-probe", False)]
    ann["policycheck.io/exempt-until.liveness-probe"] = "2026-11-28"
    found = engine.run(rendered, Profile("t"), "1.35", TODAY, only={"liveness-probe", "exemption-reason"})
    assert [(f.rule, f.exempted) for f in found] == [("liveness-probe", True)]
