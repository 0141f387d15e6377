"""docs/coverage.md (the map of peer linters' checks onto policycheck rules) and the README's
coverage summary are what hack/gen-coverage.py writes from hack/coverage-data.yaml, and every row
of the data has one valid mapping naming only rules that exist."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PEERS = ("kube-linter", "Checkov", "Polaris", "kube-score")


@pytest.fixture(scope="module")
def gen():
    spec = importlib.util.spec_from_file_location("gen_coverage", ROOT / "hack" / "gen-coverage.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tools(gen):
    return gen.load()


@pytest.fixture(scope="module")
def ids(gen):
    return gen.rule_ids()


def test_all_four_peers_are_mapped(tools):
    assert [t["tool"] for t in tools] == list(PEERS)
    assert all(t["checks"] for t in tools)


def test_every_row_has_one_valid_mapping_to_existing_rules(gen, tools, ids):
    builtin, house = ids
    assert len(builtin) >= 60 and house, "the rule ids were not found"
    assert gen.validate(tools, builtin, house) == []


def test_checkov_rows_are_its_kubernetes_checks(tools):
    checkov = next(t for t in tools if t["tool"] == "Checkov")
    assert all(re.fullmatch(r"CKV_K8S_\d+", c["id"]) for c in checkov["checks"])


@pytest.mark.parametrize("row, expected", [
    ({"id": "x", "meaning": "m", "covered_by": ["no-such-rule"]}, "no such rule 'no-such-rule'"),
    ({"id": "x", "meaning": "m"}, "needs exactly one of"),
    ({"id": "x", "meaning": "m", "covered_by": ["host-path"], "none": True}, "needs exactly one of"),
    ({"id": "x", "meaning": "m", "covered_by": []}, "non-empty list"),
    ({"id": "x", "meaning": "m", "partial": ""}, "partial needs the reason"),
    ({"id": "x", "meaning": "m", "na": None}, "na needs the reason"),
    ({"id": "x", "meaning": "m", "none": "maybe"}, "none must be true"),
    ({"id": "x", "meaning": "", "none": True}, "one-line meaning"),
    ({"id": "x", "meaning": "m", "coverd_by": ["host-path"]}, "unknown keys"),
])
def test_validate_refuses_bad_rows(gen, ids, row, expected):
    builtin, house = ids
    problems = gen.validate([{"tool": "t", "source": "s", "checks": [row]}], builtin, house)
    assert any(expected in p for p in problems), problems


def test_validate_accepts_house_rules(gen, ids):
    builtin, house = ids
    row = {"id": "x", "meaning": "m", "covered_by": ["spread-across-nodes", "host-path"]}
    assert gen.validate([{"tool": "t", "source": "s", "checks": [row]}], builtin, house) == []


def test_coverage_doc_is_current(gen, tools, ids):
    builtin, _ = ids
    doc = (ROOT / "docs" / "coverage.md").read_text(encoding="utf-8")
    assert doc == gen.render(tools, builtin), "docs/coverage.md is stale: run .venv/bin/python hack/gen-coverage.py"


def test_readme_states_the_generated_numbers(gen, tools):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert gen.readme_block(tools) in readme, "README coverage block is stale: run .venv/bin/python hack/gen-coverage.py"


def test_summary_counts_every_row_once(gen, tools):
    for line, tool in zip(gen.summary(tools).splitlines()[2:-1], tools, strict=True):
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[0] == tool["tool"]
        total, *parts = map(int, cells[1:])
        assert total == len(tool["checks"]) == sum(parts)


def test_makefile_docs_target_regenerates_it():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    docs = makefile.split("\ndocs:", 1)[1].split("\n\n", 1)[0]
    assert "hack/gen-coverage.py" in docs
