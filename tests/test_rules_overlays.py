"""Rules across overlays (family "overlays"): fires/passes fixtures, each a pair of renders
(``<variant>.weaker.yaml`` then ``<variant>.yaml``), and properties that hold for any pair.
Real two-overlay trees rendered by kustomize: tests/test_cross_rules.py."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policycheck.model import K8sObject
from policycheck.render import Rendered
from policycheck.rules._pairs import quantity
from tests.rulekit import FIXTURES, family_tests, load, pair_findings

FAMILY = "overlays"
RULES, test_fires, test_passes = family_tests(FAMILY)


def _rendered(name: str, docs: list[dict[str, Any]]) -> Rendered:
    return Rendered(name, [K8sObject(copy.deepcopy(d), name, None) for d in docs])


def _fixture_docs() -> list[list[dict[str, Any]]]:
    """The documents of every fixture of the family (both sides of each pair)."""
    out = []
    for rule in RULES:
        for path in sorted((FIXTURES / rule).glob("*.yaml")):
            out.append([o.doc for o in load(path).objects])
    return out


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_fixture_docs()), st.sampled_from(RULES))
def test_an_overlay_compared_with_itself_never_fires(docs: list[dict[str, Any]], rule: str) -> None:
    assert pair_findings(rule, _rendered("a", docs), _rendered("b", docs)) == []


_QUANTITIES = st.one_of(
    st.integers(0, 64).map(lambda n: f"{n * 50}m"),
    st.integers(1, 8).map(lambda n: f"{n * 128}Mi"),
    st.integers(1, 4).map(lambda n: f"{n}Gi"),
    st.integers(1, 4).map(str),
    st.integers(1, 40).map(lambda n: f"{n / 10}"),
)
_FACTORS = st.sampled_from([1, 2, 3, 10, 1024])


def _workload(requests: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api"},
            "spec": {"template": {"spec": {"containers": [{"name": "api", "image": "app:1",
                                                           "resources": {"requests": requests}}]}}}}


def _raised(value: str, factor: int) -> str:
    """``value`` times ``factor``, spelled in another unit where that is exact."""
    amount = quantity(value) * factor
    if amount.denominator == 1:
        return str(amount.numerator)
    assert (amount * 1000).denominator == 1  # (every generated value is a whole number of millis)
    return f"{amount * 1000}m"


@settings(max_examples=60)
@given(st.dictionaries(st.sampled_from(["cpu", "memory", "ephemeral-storage"]), _QUANTITIES, min_size=1),
       st.data())
def test_raising_the_stronger_requests_never_fires(weak: dict[str, str], data: st.DataObject) -> None:
    strong = {resource: _raised(value, data.draw(_FACTORS)) for resource, value in weak.items()}
    extra = data.draw(st.dictionaries(st.sampled_from(["nvidia.com/gpu", "hugepages-2Mi"]), _QUANTITIES))
    found = pair_findings("prod-not-weaker", _rendered("dev", [_workload(weak)]),
                          _rendered("prod", [_workload({**strong, **extra})]))
    assert found == []
    # ... and lowering one of them below the weaker value does fire, at that request.
    resource = data.draw(st.sampled_from(sorted(weak)))
    if quantity(weak[resource]) > 0:
        lowered = {**strong, resource: "0"}
        found = pair_findings("prod-not-weaker", _rendered("dev", [_workload(weak)]),
                              _rendered("prod", [_workload(lowered)]))
        assert [f.field.rsplit(".", 1)[-1] for f in found] == [resource]


def test_quantities_compare_exactly() -> None:
    assert quantity("100m") == quantity("0.1") and quantity("1500m") == quantity("1.5") == quantity(1.5)
    assert quantity("1Gi") == quantity("1024Mi") and quantity("1e3") == quantity("1k")
    assert quantity("1E") == 10**18 and quantity("1e999999") is None and quantity(True) is None
    assert quantity("12Zi") is None and quantity("1.5.5") is None and quantity("x" * 100) is None
