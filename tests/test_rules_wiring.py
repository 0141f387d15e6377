"""Rules of the wiring family: fires/passes fixtures and family-specific cases."""

from __future__ import annotations

from tests.rulekit import family_tests

FAMILY = "wiring"
RULES, test_fires, test_passes = family_tests(FAMILY)


def test_ingress_tls_wildcards() -> None:
    from policycheck.k8s import tls_covers as _covered

    assert _covered("api.example.com", ["*.example.com"])
    assert not _covered("a.b.example.com", ["*.example.com"])
    assert not _covered("example.com", ["*.example.com"])
