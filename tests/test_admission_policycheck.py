"""Admission parity, offline half: policycheck's verdict on every fixture of tests/fixtures/admission is the
one cases.yaml records, which tests/cluster/test_admission_parity.py requires of the API server too."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, load_script

FIXTURES = ROOT / "tests" / "fixtures" / "admission"
PROFILES = ("dev", "prod")
POD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob",
             "Pod")

gen = load_script(ROOT / "hack" / "gen-admission.py", "gen_admission")
RULES = tuple(gen.RULES)  # the rules admission/ enforces


@dataclass(frozen=True)
class Case:
    name: str
    path: Path
    denied: dict[str, tuple[str, ...]]  # profile -> rules that deny it, sorted
    server: str | None  # "invalid": the API server's validation refuses it before admission
    submit: str | None  # "ephemeral": its ephemeral containers go through the subresource

    @property
    def obj(self) -> dict:
        return yaml.safe_load(self.path.read_text(encoding="utf-8"))


def load_cases() -> list[Case]:
    raw = yaml.safe_load((FIXTURES / "cases.yaml").read_text(encoding="utf-8"))
    cases = []
    for name, entry in raw.items():
        assert set(entry) <= {"dev", "prod", "server", "submit"}, f"{name}: unknown keys {sorted(entry)}"
        assert entry.get("server") in (None, "invalid") and entry.get("submit") in (None, "ephemeral"), name
        denied = {p: tuple(sorted(entry[p])) for p in PROFILES}
        cases.append(Case(name, FIXTURES / f"{name}.yaml", denied, entry.get("server"), entry.get("submit")))
    return cases


CASES = load_cases()


def test_cases_list_every_fixture_once() -> None:
    files = sorted(p.stem for p in FIXTURES.glob("*.yaml") if p.name != "cases.yaml")
    assert sorted(c.name for c in CASES) == files
    for case in CASES:
        obj = case.obj
        assert obj["metadata"]["name"] == case.name and "namespace" not in obj["metadata"], case.name
        assert obj["kind"] in POD_KINDS, case.name
        for profile in PROFILES:
            assert set(case.denied[profile]) <= set(RULES), f"{case.name}: only admission/'s rules count"


def test_fixture_set_covers_every_kind_and_rule() -> None:
    """Each kind admitted and denied at least once; each rule denying alone at least once."""
    for kind in POD_KINDS:
        verdicts = {bool(c.denied["dev"]) for c in CASES if c.obj["kind"] == kind}
        assert verdicts == {True, False}, f"{kind}: needs an admitted and a denied fixture"
    alone = {c.denied[p][0] for c in CASES for p in PROFILES if len(c.denied[p]) == 1}
    assert alone == set(RULES)
    assert any(len(c.denied["dev"]) > 1 for c in CASES), "a fixture breaking several rules at once"


def _policycheck(profile: str, dirs: list[Path]) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "policycheck", *map(str, dirs), "--profile", profile, "--select", ",".join(RULES),
         "--format", "json", "--no-cache"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("profile", PROFILES)
def test_policycheck_verdicts_match_cases(profile: str, tmp_path: Path) -> None:
    """Each fixture as its own overlay, as a user would check it; the rules at error level are its verdict."""
    dirs = {}
    for case in CASES:
        overlay = tmp_path / case.name
        overlay.mkdir()
        shutil.copy(case.path, overlay / case.path.name)
        (overlay / "kustomization.yaml").write_text(f"resources: [{case.path.name}]\n", encoding="utf-8")
        dirs[overlay.resolve()] = case.name
    report = _policycheck(profile, list(dirs))
    assert [o["error"] for o in report["overlays"]] == [None] * len(CASES)
    assert {o["profile"] for o in report["overlays"]} == {profile}
    by_path = {o["path"]: dirs[(ROOT / o["path"]).resolve()] for o in report["overlays"]}
    got: dict[str, set[str]] = {name: set() for name in dirs.values()}
    for finding in report["findings"]:
        if finding["severity"] == "error" and not finding["exempted"]:
            got[by_path[finding["overlay"]]].add(finding["rule"])
    expected = {c.name: set(c.denied[profile]) for c in CASES}
    assert {n: sorted(r) for n, r in got.items()} == {n: sorted(r) for n, r in expected.items()}
