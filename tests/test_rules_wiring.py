"""Rules of the wiring family: fires/passes fixtures and family-specific cases."""

from __future__ import annotations

import pytest

from tests.rulekit import check_fires, check_passes, family

FAMILY = "wiring"
RULES = family(FAMILY)


@pytest.mark.parametrize("rule", RULES)
def test_fires(rule: str) -> None:
    check_fires(rule)


@pytest.mark.parametrize("rule", RULES)
def test_passes(rule: str) -> None:
    check_passes(rule)


def test_ingress_tls_wildcards() -> None:
    from policycheck.rules.ingress_tls import _covered

    assert _covered("api.example.com", ["*.example.com"])
    assert not _covered("a.b.example.com", ["*.example.com"])
    assert not _covered("example.com", ["*.example.com"])
