"""bench/run.py: every target runs end to end on small inputs, and its results hold together.

No timing is asserted: the figures depend on the machine and on whatever else runs on it. Only their
shape is checked, and that each verdict follows from its own figures. Targets 5 and 6 need a result cache,
`--shard` and `merge`; a stand-in policycheck (FAKE below) that has them checks the bench's side of those
targets until the real ones land, and after.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import ROOT, load_script, require

KUBECTL = Path(sys.executable).parent / "kubectl"
SMALL = ["--runs", "1", "--monorepo", "8", "--monorepo-runs", "1", "--large-runs", "1", "--configmaps", "10,40",
         "--heavy-mib", "0.02,0.05", "--no-install"]
IDS = ["1", "2", "3a", "3b", "3c", "4", "4b", "5a", "5b", "6a", "6b"]


def _load_run() -> ModuleType:
    return load_script(ROOT / "bench" / "run.py", "bench_run")


run = _load_run()
speed_table = load_script(ROOT / "bench" / "speed_table.py", "bench_speed_table")


def _bench(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess, dict]:
    results = tmp_path / "results.json"
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), *args, "--output", str(results)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False, env=env,
    )
    assert "Traceback" not in out.stderr, out.stderr
    return out, json.loads(results.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, dict]:
    require(KUBECTL.is_file(), f"no kubectl next to {sys.executable}")
    tmp = tmp_path_factory.mktemp("bench")
    return _bench(tmp, "--targets", "1,2,3,4,5,6", *SMALL, "--python", sys.executable)


def _check_verdict(target: dict) -> None:
    """PASS or FAIL follows from the target's own figures."""
    if target["status"] == "not measured":
        assert target["reason"], target
        return
    if target["unit"] == "x":
        # Both medians are rounded to 0.1 ms in the results, the ratio to 4 decimals.
        assert target["value"] == pytest.approx(target["policycheck_s"] / target["baseline_s"], rel=1e-2, abs=1e-3), target
    if target["unit"] in ("x", "MiB"):
        assert target["status"] == ("PASS" if target["value"] <= target["limit"] else "FAIL"), target
    else:
        assert target["status"] == ("PASS" if target["equal"] else "FAIL"), target
        assert (target["reason"] is None) == target["equal"], target


def test_every_target_is_reported_with_a_verdict_that_follows_from_its_figures(suite) -> None:  # noqa: ANN001
    out, data = suite
    assert out.returncode == 0, out.stdout + out.stderr
    targets = {t["id"]: t for t in data["targets"]}
    assert list(targets) == IDS
    for target in targets.values():
        assert target["status"] in ("PASS", "FAIL", "not measured") and not target["error"], target
        _check_verdict(target)
        assert f"{target['id']} " in out.stdout
    assert data["machine"]["cpus"] == os.cpu_count() and set(data["machine"]["load_1min"]) == {"before", "after"}
    assert data["settings"]["monorepo"] == 8 and data["settings"]["configmaps"] == [10, 40]
    assert "checkov" not in out.stdout


def test_rego_targets_run_with_conftest_and_the_demo_without_rego(suite) -> None:  # noqa: ANN001
    _, data = suite
    targets = {t["id"]: t for t in data["targets"]}
    for tid in ("1", "4"):
        if data["tools"]["conftest"] is None:  # no conftest here: said, not hidden
            assert targets[tid]["status"] == "not measured" and "conftest" in targets[tid]["reason"]
        else:
            assert targets[tid]["status"] in ("PASS", "FAIL")
            results = [tool["result"] for name, tool in targets[tid]["info"]["tools"].items()
                       if name.startswith("policycheck")]
            assert results and all("Rego stage with conftest" in r for r in results), results
    assert targets["4"]["limit"] == pytest.approx(4.5)  # 40 / 10 is the default's 4000 / 1000
    own = targets["4b"]  # policycheck's own time: kustomize replaced by a stand-in that prints its render
    if own["status"] != "not measured":
        tools = own["info"]["tools"]
        assert set(tools) == {"policycheck without its render, 10", "policycheck without its render, 40"}
        results = [tool["result"] for tool in tools.values()]
        assert all("Rego stage with conftest" in r for r in results), results
        assert results[0].startswith("10 objects") and results[1].startswith("40 objects"), results
    demo = targets["2"]["info"]["tools"]["policycheck"]
    assert demo["result"].startswith("35 objects") and "Rego stage skipped" in demo["result"]


def test_monorepo_targets_agree_with_the_generated_tree(suite) -> None:  # noqa: ANN001
    _, data = suite
    targets = {t["id"]: t for t in data["targets"]}
    t3a = targets["3a"]
    tree, summary = t3a["info"]["tree"], t3a["info"]["policycheck"]
    assert tree["overlays"] == 8 and tree["good"] >= 1 and tree["broken"] >= 1 and len(tree["heavy_crd_bytes"]) == 1
    assert summary["overlays_checked"] == tree["good"] + tree["broken"] == 8
    assert summary["overlays_errored"] == tree["broken"] and summary["objects"] == tree["objects"] > 0
    tools = t3a["info"]["tools"]
    assert set(tools) == {"render, sequential", "render, 2 workers", "policycheck"}
    assert t3a["info"]["policycheck_over_parallel_render"] > 0
    assert targets["3b"]["value"] == pytest.approx(max(tools["policycheck"]["maxrss_mib"]), abs=0.1)
    assert targets["3c"]["info"]["overlay"] == next(iter(tree["heavy_crd_bytes"]))
    features = data["tools"]["features"]
    for tid, needs in (("5a", "no_cache"), ("5b", "no_cache"), ("6a", "shard"), ("6b", "shard")):
        if not features[needs]:
            assert targets[tid]["status"] == "not measured" and "policycheck has no" in targets[tid]["reason"]


def test_readme_table_is_regenerated_between_its_markers(suite, tmp_path: Path) -> None:  # noqa: ANN001
    _, data = suite
    results = tmp_path / "results.json"
    results.write_text(json.dumps(data), encoding="utf-8")
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n## Speed\n\nintro\n\n{speed_table.BEGIN}\nstale table\n{speed_table.END}\n\n## Next\n",
                      encoding="utf-8")
    cmd = [sys.executable, str(ROOT / "bench" / "run.py"), "--update-readme", "--output", str(results),
           "--readme", str(readme)]
    assert subprocess.run(cmd, capture_output=True, timeout=60, check=False).returncode == 0
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("# x\n\n## Speed\n\nintro\n\n") and text.endswith(f"{speed_table.END}\n\n## Next\n")
    assert "stale table" not in text and data["date"] in text and f"commit {data['commit']}" in text
    assert f"{data['machine']['cpus']} CPUs" in text
    for target in data["targets"]:
        row = next(line for line in text.splitlines() if line.startswith(f"| {target['id']} |"))
        assert row.rstrip(" |").endswith(target["status"]), row
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert again.returncode == 0 and "already up to date" in again.stdout
    assert readme.read_text(encoding="utf-8") == text
    # Without its markers, or from --checkov results, the README is left alone.
    readme.write_text("# no markers\n", encoding="utf-8")
    assert subprocess.run(cmd, capture_output=True, timeout=60, check=False).returncode == 2
    results.write_text(json.dumps({"kind": "checkov"}), encoding="utf-8")
    readme.write_text(text, encoding="utf-8")
    assert subprocess.run(cmd, capture_output=True, timeout=60, check=False).returncode == 2
    assert readme.read_text(encoding="utf-8") == text


def test_repository_readme_has_the_speed_markers() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    speed = text[text.index("\n## Speed\n"):]
    speed = speed[: speed.find("\n## ", 1) if "\n## " in speed[1:] else len(speed)]
    assert speed.count(speed_table.BEGIN) == 1 and speed.count(speed_table.END) == 1


# --------------------------------------------------------------------------- targets 5 and 6 on a stand-in

# A policycheck that has the interface of issue 9 and reports what the tree's manifest says. FAKE_SHARD_BASE
# numbers shards from 0 instead of 1; FAKE_MERGE_LOSES makes merge drop the last overlay.
FAKE = r'''
import json, os, sys
from pathlib import Path

args = sys.argv[1:]
if args == ["--help"]:
    print("usage: policycheck [--no-cache] [--shard I/N] [--format F] [PATH ...]")
    sys.exit(0)
if args == ["--version"]:
    print("policycheck 0.0-fake")
    sys.exit(0)


def emit(overlays):
    print(json.dumps({"version": 1, "tool": {"conftest": None}, "overlays": overlays, "findings": []}))
    sys.exit(2 if any(o["error"] for o in overlays) else 0)


if args[0] == "merge":
    if "--help" in args:
        print("usage: policycheck merge [-h] [--format F] REPORT ...")
        sys.exit(0)
    overlays = [o for f in args[1:] if f.endswith(".json") for o in json.loads(Path(f).read_text())["overlays"]]
    overlays.sort(key=lambda o: o["path"])
    emit(overlays[:-1] if os.environ.get("FAKE_MERGE_LOSES") else overlays)
tree = Path(args[0])
manifest = json.loads((tree / "manifest.json").read_text())
overlays = [{"path": os.path.relpath(tree / o), "objects": manifest["objects"].get(o, 0),
             "error": manifest["broken"].get(o)} for o in sorted(manifest["good"] + list(manifest["broken"]))]
if "--shard" in args:
    i, n = map(int, args[args.index("--shard") + 1].split("/"))
    base = int(os.environ.get("FAKE_SHARD_BASE", "1"))
    if not base <= i < base + n:
        print(f"policycheck: usage: --shard {i}/{n}: out of range", file=sys.stderr)
        sys.exit(2)
    overlays = overlays[i - base::n]
if "--no-cache" not in args:
    Path(os.environ["POLICYCHECK_CACHE"]).mkdir(parents=True, exist_ok=True)
emit(overlays)
'''


@pytest.fixture
def fake_python(tmp_path: Path) -> Path:
    """An interpreter stand-in: `PYTHON -m policycheck ARGS` runs FAKE with ARGS; kubectl beside it."""
    require(KUBECTL.is_file(), f"no kubectl next to {sys.executable}")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (tmp_path / "fake_policycheck.py").write_text(FAKE, encoding="utf-8")
    python = bin_dir / "python"
    python.write_text(f'#!/bin/sh\nshift 2\nexec "{sys.executable}" "{tmp_path / "fake_policycheck.py"}" "$@"\n',
                      encoding="utf-8")
    python.chmod(0o755)
    (bin_dir / "kubectl").symlink_to(KUBECTL)
    return python


def test_cache_and_shard_targets_measure_a_policycheck_that_has_them(tmp_path: Path, fake_python: Path) -> None:
    out, data = _bench(tmp_path, "--targets", "5,6", *SMALL, "--python", str(fake_python))
    assert out.returncode == 0, out.stdout + out.stderr
    assert data["tools"]["features"] == {"no_cache": True, "shard": True, "merge": True}
    targets = {t["id"]: t for t in data["targets"]}
    assert list(targets) == ["5a", "5b", "6a", "6b"]
    for target in targets.values():
        _check_verdict(target)
    assert targets["5a"]["status"] in ("PASS", "FAIL") and targets["5a"]["baseline_s"] > 0
    assert set(targets["5a"]["info"]["tools"]) == {"render, sequential", "policycheck, warm cache",
                                                   "policycheck, filling the cache"}
    assert targets["5b"]["status"] == "PASS" and targets["5b"]["info"]["fill_equals_cold"] is True
    for tid, n in (("6a", 2), ("6b", 3)):
        info = targets[tid]["info"]
        assert targets[tid]["status"] == "PASS", targets[tid]
        assert info["numbered_from"] == 1 and info["partition"] is True and len(info["shard_s"]) == n
        assert sum(info["overlays_per_shard"]) == 8 and info["balance"] >= 1


def test_shards_numbered_from_zero_and_a_lossy_merge(tmp_path: Path, fake_python: Path) -> None:
    env = {**os.environ, "FAKE_SHARD_BASE": "0", "FAKE_MERGE_LOSES": "1"}
    out, data = _bench(tmp_path, "--targets", "6", *SMALL, "--shards", "2", "--python", str(fake_python), env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    (target,) = data["targets"]
    assert target["status"] == "FAIL" and target["equal"] is False and not target["error"]
    assert "items against" in target["reason"] and target["info"]["numbered_from"] == 0
    assert "6a failed:" in out.stdout


def test_cache_and_shards_are_not_measured_without_the_flags(tmp_path: Path, fake_python: Path) -> None:
    fake = tmp_path / "fake_policycheck.py"
    fake.write_text(fake.read_text(encoding="utf-8").replace("[--no-cache] [--shard I/N] ", "")
                    .replace('"usage: policycheck merge [-h]', '"usage: policycheck [-h]'), encoding="utf-8")
    out, data = _bench(tmp_path, "--targets", "5,6", *SMALL, "--python", str(fake_python))
    assert out.returncode == 0, out.stdout + out.stderr
    reasons = {t["id"]: (t["status"], t["reason"]) for t in data["targets"]}
    assert reasons["5a"] == reasons["5b"] == ("not measured", "policycheck has no --no-cache (no result cache yet)")
    assert reasons["6a"] == reasons["6b"] == ("not measured", "policycheck has no --shard and no merge")


# --------------------------------------------------------------------------- pieces


def test_options() -> None:
    assert run.parse_args([]).targets == run.ALL_TARGETS
    alone = run.parse_args(["--monorepo", "300"])
    assert alone.targets == ("3", "5", "6") and alone.monorepo_size == 300
    assert run.parse_args(["--targets", "4,1"]).targets == ("1", "4")
    assert run.parse_args(["--targets", "3", "--monorepo", "20"]).targets == ("3",)
    assert run.parse_args([]).monorepo_size == 150 and run.parse_args([]).overlay_arg == "overlays/prod"
    for bad in (["--targets", "7"], ["--checkov", "--monorepo", "5"], ["--configmaps", "4000,1000"],
                ["--shards", "1"], ["--heavy-mib", "4"], ["--runs", "0"]):
        with pytest.raises(SystemExit):
            run.parse_args(bad)


def test_first_difference_names_the_path() -> None:
    a = {"overlays": [{"path": "x", "objects": 3}], "findings": []}
    assert run.first_difference(a, json.loads(json.dumps(a))) is None
    assert run.first_difference(a, {**a, "findings": [1]}) == "report.findings: 0 items against 1"
    b = {"overlays": [{"path": "x", "objects": 4}], "findings": []}
    assert run.first_difference(a, b) == "report.overlays[0].objects: 3 against 4"
    assert run.first_difference(a, {"overlays": []}) == "report.findings: only in the first"


def test_checkov_mode_still_times_kustomize_and_policycheck(tmp_path: Path) -> None:
    require(KUBECTL.is_file(), f"no kubectl next to {sys.executable}")
    out, data = _bench(tmp_path, "--checkov", "--runs", "1", "--no-install", "--python", sys.executable)
    assert out.returncode == 0, out.stdout + out.stderr
    assert data["kind"] == "checkov" and set(data["tools"]) >= {"kustomize", "policycheck"}
    assert all(t["error"] is None and len(t["samples_s"]) == 1 for t in data["tools"].values())


def _tree(tmp_path: Path) -> object:
    expected = {"apps/a/overlays/dev": 3, "apps/a/overlays/prod": None}
    return run.Tree(tmp_path, 2, expected, heavy={}, components=0, bases=1, files=5, generate_s=0.0)


def _policycheck_run(tmp_path: Path, overlays: list[dict], stderr: bytes = b"") -> object:
    tool = run.Tool("policycheck", ["python", "-m", "policycheck"], tmp_path, (2,), json_output=True)
    tool.last_output = json.dumps({"tool": {"conftest": None}, "overlays": overlays, "findings": []}).encode()
    tool.last_stderr = stderr
    return tool


def test_report_that_matches_the_manifest_is_summed_up(tmp_path: Path) -> None:
    tool = _policycheck_run(tmp_path, [{"path": "apps/a/overlays/dev", "objects": 3, "error": None},
                                       {"path": "apps/a/overlays/prod", "objects": 0, "error": "refused"}])
    summary = run.check_report(tool, _tree(tmp_path))
    assert tool.error is None
    assert summary["overlays_checked"] == 2 and summary["overlays_errored"] == 1 and summary["objects"] == 3
    assert summary["rego_stage"]["ran"] is False


def test_report_that_disagrees_with_the_manifest_is_an_error(tmp_path: Path) -> None:
    cases = {
        "not reported": [{"path": "apps/a/overlays/dev", "objects": 3, "error": None}],
        "without an error": [{"path": "apps/a/overlays/dev", "objects": 3, "error": None},
                             {"path": "apps/a/overlays/prod", "objects": 0, "error": None}],
        "the manifest says 3": [{"path": "apps/a/overlays/dev", "objects": 2, "error": None},
                                {"path": "apps/a/overlays/prod", "objects": 0, "error": "x"}],
        "not an overlay": [{"path": "apps/a/overlays/dev", "objects": 3, "error": None},
                           {"path": "apps/a/overlays/prod", "objects": 0, "error": "x"},
                           {"path": "apps/a/base", "objects": 3, "error": None}],
    }
    for says, overlays in cases.items():
        tool = _policycheck_run(tmp_path, overlays)
        assert run.check_report(tool, _tree(tmp_path)) is None
        assert says in tool.error, (says, tool.error)
    tool = _policycheck_run(tmp_path, cases["not reported"], stderr=b"Traceback (most recent call last):\n")
    assert run.check_report(tool, _tree(tmp_path)) is None and "traceback" in tool.error
