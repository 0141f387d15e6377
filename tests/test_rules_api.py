"""Rules of the api family: fires/passes fixtures and family-specific cases."""

from __future__ import annotations

from policycheck.model import K8sObject, Severity
from policycheck.render import Rendered
from tests.rulekit import FIXTURES, family_tests, load, run

FAMILY = "api"
RULES, test_fires, test_passes = family_tests(FAMILY)


def test_unknown_kinds_are_unvalidated_warnings() -> None:
    crd = K8sObject({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}, "fixture")
    found = run(Rendered("fixture", [crd]))
    assert [(f.rule, f.severity) for f in found] == [("schema", Severity.WARNING)]


def test_deprecated_api_depends_on_target_version() -> None:
    hpa = K8sObject({"apiVersion": "autoscaling/v2beta2", "kind": "HorizontalPodAutoscaler",
                     "metadata": {"name": "h"}, "spec": {}}, "fixture")
    assert [f.severity for f in run(Rendered("f", [hpa]), {"deprecated-api"}, "1.25")] == [Severity.WARNING]
    assert [f.severity for f in run(Rendered("f", [hpa]), {"deprecated-api"}, "1.26")] == [Severity.ERROR]
    endpoints = K8sObject({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "e"}}, "fixture")
    assert run(Rendered("f", [endpoints]), {"deprecated-api"}, "1.32") == []
    assert [f.severity for f in run(Rendered("f", [endpoints]), {"deprecated-api"}, "1.33")] == [Severity.WARNING]


def test_exemption_expiry_and_reason() -> None:
    rendered = load(FIXTURES / "liveness-probe" / "fires.yaml")
    ann = rendered.objects[0].doc["metadata"].setdefault("annotations", {})
    rules = {"liveness-probe", "exemption-reason"}
    ann["policycheck.io/exempt.liveness-probe"] = "batch job runner"
    assert [(f.rule, f.exempted, f.exemption) for f in run(rendered, rules)] == [
        ("liveness-probe", True, "batch job runner")]
    ann["policycheck.io/exempt-until.liveness-probe"] = "2026-11-27"
    assert sorted((f.rule, f.exempted) for f in run(rendered, rules)) == [
        ("exemption-reason", False), ("liveness-probe", False)]
    ann["policycheck.io/exempt-until.liveness-probe"] = "2026-11-28"
    assert [(f.rule, f.exempted) for f in run(rendered, rules)] == [("liveness-probe", True)]
