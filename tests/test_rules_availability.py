"""Rules of the availability family: fires/passes fixtures and family-specific cases."""

from __future__ import annotations

from tests.rulekit import family_tests, fixture_findings

FAMILY = "availability"
RULES, test_fires, test_passes = family_tests(FAMILY)


def test_hpa_owned_workload_must_not_set_replicas() -> None:
    found = fixture_findings("hpa-target", "fires")
    assert {(f.obj.kind, f.field) for f in found} == {("HorizontalPodAutoscaler", "spec.minReplicas"),
                                                      ("Deployment", "spec.replicas")}


def test_quantities() -> None:
    from policycheck.k8s import parse_quantity

    assert parse_quantity("500m") == 0.5
    assert parse_quantity("1Gi") == 2**30
    assert parse_quantity(2) == 2.0
    assert parse_quantity("lots") is None
