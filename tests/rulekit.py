"""Helpers of the rule tests: run one rule on its fires/passes fixtures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from policycheck import engine
from policycheck.config import Profile
from policycheck.context import Base
from policycheck.model import Finding, K8sObject
from policycheck.provenance import parse_field
from policycheck.render import Rendered
from policycheck.rules import REGISTRY
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures"
TODAY = dt.date(2026, 11, 28)


def family(name: str) -> list[str]:
    return sorted(r.id for r in REGISTRY.values() if r.family == name)


def load(path: Path) -> Rendered:
    rel = path.relative_to(ROOT).as_posix()
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    return Rendered("fixture", [K8sObject(d, "fixture", rel) for d in docs])


def run(rendered: Rendered, rules: set[str] | None = None, version: str = "1.35",
        profile: Profile | None = None, base: Base | None = None) -> list[Finding]:
    return engine.run(rendered, profile or Profile("test"), version, TODAY, only=rules, base=base)


def pair_findings(rule: str, weaker: Rendered, stronger: Rendered, options: dict | None = None) -> list[Finding]:
    """A rule across overlays (scope "pair") on two renders, the stronger one second."""
    from policycheck.crossrules import Pair, Side, compare

    profile = Profile("test", options={rule: options} if options else {})
    pair = Pair(Side(weaker.overlay, weaker.objects), Side(stronger.overlay, stronger.objects))
    return compare(pair, profile, TODAY, only=frozenset({rule}))


def fixture_findings(rule: str, variant: str) -> list[Finding]:
    """A rule's findings on its fixture; ``<variant>.base.yaml``, where there is one, is the render
    at --base REF that the fixture is compared with. A rule across overlays compares
    ``<variant>.weaker.yaml`` (the first overlay of the pair) with the fixture (the second)."""
    if REGISTRY[rule].scope == "pair":
        weaker = load(FIXTURES / rule / f"{variant}.weaker.yaml")
        weaker = Rendered("fixture-weaker", [K8sObject(o.doc, "fixture-weaker", o.origin) for o in weaker.objects])
        return pair_findings(rule, weaker, load(FIXTURES / rule / f"{variant}.yaml"))
    base = FIXTURES / rule / f"{variant}.base.yaml"
    at_base = Base("base", load(base).objects) if base.is_file() else None
    return run(load(FIXTURES / rule / f"{variant}.yaml"), {rule}, base=at_base)


def check_fires(rule: str) -> None:
    """The rule fires, only it, and each finding points at a real line, at the
    offending key when the fixture writes that key."""
    found = fixture_findings(rule, "fires")
    assert found, f"{rule} found nothing in its fires fixture"
    assert {f.rule for f in found} == {rule}
    text = (FIXTURES / rule / "fires.yaml").read_text().splitlines()
    for f in found:
        assert f.source is not None and f.source.file == f"tests/fixtures/{rule}/fires.yaml"
        assert 1 <= f.source.line <= len(text)
        line = text[f.source.line - 1]
        steps = parse_field(f.field) if f.field else []
        last = steps[-1] if steps else None
        if isinstance(last, str) and not line.startswith("apiVersion"):
            # The key itself, or (for a missing field) the nearest parent that exists: a key
            # of the path or the list item (container) that lacks it.
            assert last in line or any(isinstance(s, str) and f"{s}:" in line for s in steps) or "- name:" in line, (
                f.field, line)


def check_passes(rule: str) -> None:
    assert fixture_findings(rule, "passes") == []


def family_tests(name: str) -> tuple[list[str], Callable[[str], None], Callable[[str], None]]:
    """The rules of a family and its two fixture tests, parametrized over them."""
    rules = family(name)

    @pytest.mark.parametrize("rule", rules)
    def test_fires(rule: str) -> None:
        check_fires(rule)

    @pytest.mark.parametrize("rule", rules)
    def test_passes(rule: str) -> None:
        check_passes(rule)

    return rules, test_fires, test_passes
