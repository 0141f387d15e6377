"""The catalog as a whole: every rule has fixtures, docs and a family module."""

from __future__ import annotations

import importlib

from policycheck.model import Severity
from policycheck.rules import FAMILIES, REGISTRY
from tests.rulekit import FIXTURES

# Fixture sets that a real API server judges as well, not one rule's: admission parity
# (tests/cluster) and the before/after pairs of immutable-field (tests/test_immutable_field.py).
SHARED = {"admission", "immutable"}


def test_every_rule_has_both_fixtures() -> None:
    missing = [f"{r}/{v}.yaml" for r in REGISTRY for v in ("fires", "passes") if not (FIXTURES / r / f"{v}.yaml").is_file()]
    assert missing == []
    assert sorted(p.name for p in FIXTURES.iterdir() if p.name not in SHARED) == sorted(REGISTRY)


def test_every_family_has_a_test_module() -> None:
    for family in FAMILIES:
        module = importlib.import_module(f"tests.test_rules_{family}")
        assert module.FAMILY == family and module.RULES
    assert sum(len(importlib.import_module(f"tests.test_rules_{f}").RULES) for f in FAMILIES) == len(REGISTRY)


def test_rules_are_documented_with_the_same_headings() -> None:
    for rule in REGISTRY.values():
        for heading in ("## What it does", "## Why is this bad?", "## Example", "## Use instead"):
            assert heading in rule.doc, (rule.id, heading)
        assert rule.summary and rule.level in (Severity.ERROR, Severity.WARNING)
