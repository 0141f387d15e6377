"""Every rule, fed every wrong-typed variant of every field it reads.

The fields are not listed by hand: each rule runs once on a realistic app
(the project's rendered overlays and every rule fixture) with access.TRACE
on, which records each typed read (object, path, expected types). Then, for
each field read, each value of another type is planted at that path and the
rule runs again. It must not raise, and the object must carry a field-type
problem at exactly that path (null reads as absent and is no problem).
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest

from policycheck import access
from policycheck.access import type_name
from policycheck.config import Profile
from policycheck.context import Base, Context
from policycheck.model import K8sObject
from policycheck.rules import REGISTRY
from tests.rulekit import FIXTURES, load

TODAY = dt.date(2026, 11, 28)
# Rules that read no fields through access.Node (jsonschema reads any type).
NOT_READERS = {"schema", "field-type"}
VARIANTS: tuple[Any, ...] = (None, 7, 1.5, True, "text", [], ["x"], [{"a": 1}], {}, {"k": "v"})
_STEP = re.compile(r'\.?([^.\[\]"]+)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]')


def _steps(path: str) -> list[str | int]:
    out: list[str | int] = []
    for key, index, quoted in _STEP.findall(path):
        out.append(int(index) if index else (key or quoted.replace('\\"', '"').replace("\\\\", "\\")))
    return out


def _plant(doc: dict[str, Any], path: str, value: Any) -> bool:
    """Set ``path`` in ``doc`` (creating missing mappings); False where a list item is missing."""
    node: Any = doc
    steps = _steps(path)
    for step in steps[:-1]:
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                return False
            node = node[step]
        else:
            if not isinstance(node, dict):
                return False
            if not isinstance(node.get(step), dict | list):
                node[step] = {}
            node = node[step]
    last = steps[-1]
    if isinstance(last, int):
        if not isinstance(node, list) or last >= len(node):
            return False
        node[last] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        return False
    return True


def _accepts(value: Any, expected: tuple[str, ...]) -> bool:
    return access._is(value, expected)  # noqa: SLF001 - the same test the accessors use


def _apps(rendered: dict[str, list[K8sObject]]) -> Iterator[tuple[str, list[K8sObject]]]:
    for name, objects in rendered.items():
        yield f"overlays/{name}", objects
    for rule in sorted(REGISTRY):
        for variant in ("fires", "passes"):
            path = FIXTURES / rule / f"{variant}.yaml"
            yield f"{rule}/{variant}", load(path).objects


def _run(rule_id: str, objects: list[K8sObject]) -> None:
    rule = REGISTRY[rule_id]
    if rule.scope == "pair":  # the objects are both overlays of the pair: every field compared is read
        from policycheck.crossrules import Pair, Side

        list(rule.check(Pair(Side("a", objects), Side("b", objects)), Profile("test").rule_options(rule_id)))
        return
    # The objects are their own render at --base: a rule that compares reads every field it compares.
    ctx = Context("test", objects, "1.35", TODAY, frozenset(REGISTRY), base=Base("test", objects))
    list(rule.check(ctx, Profile("test").rule_options(rule_id)))


Read = tuple[list[K8sObject], int, str, set[tuple[str, ...]]]


def _reads(rule_id: str, rendered: dict[str, list[K8sObject]]) -> dict[tuple[str, str], Read]:
    """(kind, path with indexes generalised) -> one concrete read: (objects, object index, path, expected types)."""
    found: dict[tuple[str, str], Read] = {}
    for _, objects in _apps(rendered):
        fresh = [K8sObject(copy.deepcopy(o.doc), o.overlay, o.origin, o.generated_by) for o in objects]
        owner = {id(o.shape): i for i, o in enumerate(fresh)}
        access.TRACE = []
        try:
            _run(rule_id, fresh)
            trace = access.TRACE
        finally:
            access.TRACE = None
        for shape_id, path, expected in trace:
            index = owner.get(shape_id)
            if index is None:
                continue
            key = (fresh[index].kind, re.sub(r"\[\d+\]", "[*]", path))
            read = found.setdefault(key, (objects, index, path, set()))
            if read[0] is objects and read[1] == index and read[2] == path:
                read[3].add(expected)
    return found


READERS = sorted(set(REGISTRY) - NOT_READERS)


@pytest.mark.parametrize("rule_id", READERS)
def test_rule_survives_every_wrong_type_of_every_field_it_reads(rule_id: str, rendered) -> None:  # noqa: ANN001
    reads = _reads(rule_id, rendered)
    assert reads, f"{rule_id} read no field of any app: the trace is broken"
    planted = recorded = 0
    for (kind, _), (objects, index, path, expected) in sorted(reads.items(), key=lambda kv: kv[0]):
        for value in VARIANTS:
            doc = copy.deepcopy(objects[index].doc)
            if not _plant(doc, path, copy.deepcopy(value)):
                continue
            mutated = [K8sObject(copy.deepcopy(o.doc), o.overlay, o.origin, o.generated_by) for o in objects]
            target = K8sObject(doc, objects[index].overlay, objects[index].origin, objects[index].generated_by)
            mutated[index] = target
            _run(rule_id, mutated)  # must not raise
            planted += 1
            if value is None or all(_accepts(value, e) for e in expected):
                continue
            # Wrong for a read of this path: recorded there, unless the rule no longer
            # reaches the path on the mutated object (an earlier read decided otherwise).
            if path in target.shape.problems:
                assert target.shape.problems[path].endswith(f"got {type_name(value)}"), target.shape.problems[path]
                recorded += 1
                continue
            access.TRACE = []
            try:
                again = K8sObject(copy.deepcopy(doc), target.overlay, target.origin, target.generated_by)
                _run(rule_id, [*mutated[:index], again, *mutated[index + 1:]])
                reached = {p for _, p, _ in access.TRACE}
            finally:
                access.TRACE = None
            assert path not in reached, (rule_id, kind, path, value, target.shape.problems)
    assert planted and recorded, f"{rule_id}: {planted} variants planted, {recorded} recorded as field-type"
