"""Shards across CI jobs: `--shard I/N` and `policycheck merge`.

The merged report of the shards is the unsharded report, byte for byte, in
every format, with the same exit code; a set of shard reports that does not
make one whole run is refused.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policycheck import shard
from policycheck.errors import PolicycheckError
from tests.test_monorepo_generator import OFFLINE, monorepo

FORMATS = ("json", "text", "sarif", "junit", "github")


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **OFFLINE, "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "policycheck", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("monorepo")
    monorepo.generate(root, overlays=36, seed=7, broken_ratio=0.1, crd_ratio=0.3)
    return root


@pytest.fixture(scope="module")
def unsharded(repo: Path) -> tuple[int, dict[str, str], str]:
    """Exit code, every format's text and stderr of the run without shards."""
    outs = {fmt: repo / f"all.{fmt}" for fmt in FORMATS}
    out = _run(repo, ".", "--no-cache", *(a for fmt in FORMATS for a in ("--format", f"{fmt}={outs[fmt]}")))
    assert out.returncode in (0, 1, 2) and "Traceback" not in out.stderr, out.stderr
    return out.returncode, {fmt: outs[fmt].read_text(encoding="utf-8") for fmt in FORMATS}, out.stderr


@pytest.mark.parametrize("count", [2, 3, 5])
def test_sharded_and_merged_is_the_unsharded_report(repo, unsharded, count):
    code, whole, stderr = unsharded
    names = []
    sizes = []
    for index in range(1, count + 1):
        name = f"shard-{index}-of-{count}.json"
        out = _run(repo, ".", "--shard", f"{index}/{count}", "--format", f"json={name}")
        assert out.returncode in (0, 1, 2) and "Traceback" not in out.stderr, out.stderr
        sizes.append(len(json.loads((repo / name).read_text())["overlays"]))
        names.append(name)
    assert sum(sizes) == len(json.loads(whole["json"])["overlays"])
    merged = _run(repo, "merge", *reversed(names), *(a for fmt in FORMATS for a in ("--format", f"{fmt}=m.{fmt}")))
    assert merged.returncode == code, merged.stderr
    assert merged.stderr == stderr  # the same one-line summary when overlays could not be checked
    for fmt in FORMATS:
        assert (repo / f"m.{fmt}").read_text(encoding="utf-8") == whole[fmt], fmt


def test_merge_refuses_what_is_not_one_whole_run(repo, unsharded):
    for index in (1, 2, 3):
        _run(repo, ".", "--shard", f"{index}/3", "--format", f"json=p{index}.json")
    _run(repo, ".", "--shard", "1/2", "--format", "json=q1.json")
    (repo / "bad.json").write_text("{not json")
    (repo / "foreign.json").write_text('{"version": 1, "tool": {}, "overlays": [{"path": 3}], "findings": []}')
    cases = {
        ("p1.json", "p2.json"): "shard 3/3 is missing",
        ("p1.json", "p2.json", "p3.json", "p2.json"): "given twice",
        ("p1.json", "p2.json", "p3.json", "q1.json"): "another run",
        ("p1.json", "all.json"): "not a shard's report",
        ("all.json", "all.json"): "is in all.json and in all.json",
        ("bad.json",): "not JSON",
        ("foreign.json",): "wrong type",
        ("nonexistent.json",): "cannot read",
    }
    for reports, message in cases.items():
        out = _run(repo, "merge", *reports, "--format", "json")
        assert out.returncode == 2, (reports, out.stderr)
        assert out.stderr.count("\n") == 1 and message in out.stderr, (reports, out.stderr)


def test_reports_of_different_setups_are_not_merged(repo):
    _run(repo, ".", "--shard", "1/2", "--format", "json=k1.json")
    _run(repo, ".", "--shard", "2/2", "--kube-version", "1.33", "--format", "json=k2.json")
    out = _run(repo, "merge", "k1.json", "k2.json")
    assert out.returncode == 2 and "tool.kube_version differs" in out.stderr, out.stderr


@pytest.mark.parametrize("spec", ["0/2", "3/2", "1/0", "a/b", "1/2/3", "", "1/1001", " 1/2x"])
def test_a_bad_shard_spec_is_a_usage_error(repo, spec):
    out = _run(repo, ".", "--shard", spec)
    assert out.returncode == 2 and out.stderr.startswith("policycheck: usage: --shard"), out.stderr


@settings(max_examples=int(os.environ.get("POLICYCHECK_FUZZ_EXAMPLES", "250")), deadline=None)
@given(st.dictionaries(st.from_regex(r"[a-z]{1,6}(/[a-z]{1,6}){0,2}", fullmatch=True),
                       st.integers(1, 10**7), max_size=40), st.integers(1, 12))
def test_the_partition_is_whole_stable_ordered_and_balanced(weights, count):
    overlays = [Path(p) for p in sorted(weights)]
    weight = {Path(p): w for p, w in weights.items()}
    shares = shard.partition(overlays, count, weight)
    assert len(shares) == count
    assert sorted(o for s in shares for o in s) == overlays  # each overlay in exactly one shard
    assert all(s == [o for o in overlays if o in s] for s in shares)  # the run's order within a shard
    assert shard.partition(overlays, count, weight) == shares  # every job computes the same
    loads = [sum(weight[o] for o in s) for s in shares]
    if overlays:  # greedy heaviest-first: no shard exceeds the mean by more than the heaviest overlay
        assert max(loads) <= sum(loads) / count + max(weight.values())


def test_shard_spec_parsing():
    assert shard.parse("2/4") == (2, 4)
    with pytest.raises(PolicycheckError):
        shard.parse("5/4")


# --------------------------------------------------------------------------- the matrix example

EXAMPLE = Path(__file__).resolve().parent.parent / "docs/workflows/policycheck-sharded.yml"


def test_the_matrix_example_passes_actionlint():
    from tests.conftest import require, which

    binary = which("actionlint")
    require(binary is not None, "actionlint not on PATH (hack/install-actionlint.sh)")
    out = subprocess.run([binary, "-no-color", str(EXAMPLE)], capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_matrix_example_shards_every_overlay_once_and_merges_them_all():
    import yaml

    workflow = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    count = int(workflow["env"]["SHARDS"])
    check, gate = workflow["jobs"]["check"], workflow["jobs"]["gate"]
    assert check["strategy"]["matrix"]["shard"] == list(range(1, count + 1))
    assert check["strategy"]["fail-fast"] is False
    script = next(s["run"] for s in check["steps"] if "--shard" in s.get("run", ""))
    assert '--shard "$SHARD/$SHARDS"' in script and "json=shard-$SHARD.json" in script
    assert gate["needs"] == "check" and gate["if"] == "always()"
    merge = next(s["run"] for s in gate["steps"] if "policycheck merge" in s.get("run", ""))
    assert "shards/shard-*.json" in merge and "|| true" not in merge  # its exit code is the gate's


@settings(max_examples=int(os.environ.get("POLICYCHECK_FUZZ_EXAMPLES", "250")), deadline=None)
@given(st.lists(st.integers(1, 10**6), min_size=4, max_size=30), st.integers(1, 8), st.data())
def test_grouped_overlays_share_a_shard(sizes, count, data):
    overlays = [Path(f"o{i:02d}") for i in range(len(sizes))]
    weight = dict(zip(overlays, sizes, strict=True))
    picks = data.draw(st.lists(st.lists(st.sampled_from(overlays), min_size=2, max_size=4, unique=True), max_size=5))
    shares = shard.partition(overlays, count, weight, picks)
    assert sorted(o for s in shares for o in s) == overlays
    for group in picks:  # (groups that overlap are merged only by pair_groups; here each lands whole)
        if not any(set(group) & set(other) for other in picks if other is not group):
            assert sum(1 for s in shares if set(group) & set(s)) == 1, (group, shares)


def test_pairs_stay_in_one_shard_and_merge_equals_the_unsharded_run(tmp_path):
    """Two dev -> prod pairs whose prod lacks a Service of dev: sharded in 2 and merged, the report
    (overlay-parity findings included) is the unsharded one."""
    service = "apiVersion: v1\nkind: Service\nmetadata:\n  name: {n}\nspec:\n  ports:\n  - port: 80\n"
    for app in ("a", "b"):
        for env, names in (("dev", ("web", "cache")), ("prod", ("web",))):
            d = tmp_path / app / env
            d.mkdir(parents=True)
            for n in names:
                (d / f"{n}.yaml").write_text(service.format(n=n))
            extra = []
            if (app, env) == ("a", "dev"):  # the heaviest overlay: a plain partition splits both pairs
                (d / "big.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n"
                                            f"  blob: {'x' * 400_000}\n")
                extra = ["big"]
            (d / "kustomization.yaml").write_text("resources:\n" + "".join(f"- {n}.yaml\n" for n in (*names, *extra)))
    (tmp_path / "policycheck.yaml").write_text("pairs:\n  - weaker: '*/dev'\n    stronger: '*/prod'\n")
    whole = _run(tmp_path, ".", "--no-cache", "--select", "overlay-parity", "--format", "json=all.json")
    assert whole.returncode == 1, whole.stderr
    report = json.loads((tmp_path / "all.json").read_text())
    assert sorted(f["rule"] for f in report["findings"]) == ["overlay-parity", "overlay-parity"]
    names = []
    for index in (1, 2):
        out = _run(tmp_path, ".", "--no-cache", "--select", "overlay-parity", "--shard", f"{index}/2",
                   "--format", f"json=s{index}.json")
        assert out.returncode in (0, 1), out.stderr
        assert "is not part of this run" not in (tmp_path / f"s{index}.json").read_text()
        names.append(f"s{index}.json")
    merged = _run(tmp_path, "merge", *names, "--format", "json=m.json")
    assert merged.returncode == 1, merged.stderr
    assert (tmp_path / "m.json").read_text() == (tmp_path / "all.json").read_text()
