"""bench/run.py --monorepo: it runs end to end and its results hold together.

No timing is asserted: the figures depend on the machine and on whatever
else runs on it. Only their shape is checked.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from tests.conftest import ROOT, load_script, require

KUBECTL = Path(sys.executable).parent / "kubectl"


def _load_run() -> ModuleType:
    return load_script(ROOT / "bench" / "run.py", "bench_run")


run = _load_run()


def test_monorepo_bench_reports_every_overlay_and_both_ratios(tmp_path: Path) -> None:
    require(KUBECTL.is_file(), f"no kubectl next to {sys.executable}")
    results = tmp_path / "results.json"
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--monorepo", "12", "--runs", "1", "--no-install",
         "--python", sys.executable, "--output", str(results)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    mono = json.loads(results.read_text(encoding="utf-8"))["monorepo"]
    assert mono["overlays"] == 12 and mono["good"] >= 1 and mono["broken"] >= 1
    tools = mono["tools"]
    assert set(tools) == {"render_sequential", "render_parallel", "policycheck"}
    assert "checkov" not in out.stdout
    for name, tool in tools.items():
        assert tool["error"] is None, (name, tool["error"])
        assert len(tool["samples_s"]) == 1 and tool["median_s"] > 0 and tool["peak_rss_mib"] > 0, name
    assert (tools["render_sequential"]["workers"], tools["render_parallel"]["workers"]) == (1, 2)
    pc = tools["policycheck"]
    assert pc["overlays_checked"] == mono["good"] + mono["broken"]
    assert pc["overlays_errored"] == mono["broken"]
    assert pc["objects"] == mono["objects"] > 0
    assert pc["findings"] > 0
    assert isinstance(pc["rego_stage"]["ran"], bool) and pc["rego_stage"]["note"].startswith("Rego stage")
    ratios = mono["ratios"]
    for key, den in (("policycheck_over_parallel_render", "render_parallel"),
                     ("policycheck_over_sequential_render", "render_sequential")):
        value = ratios[key]["value"]
        assert value is not None and value > 0
        assert abs(value - pc["median_s"] / tools[den]["median_s"]) < 0.01, key
    assert ratios["policycheck_over_parallel_render"]["met"] is (ratios["policycheck_over_parallel_render"]["value"] < 1)
    assert "policycheck / render, 2 workers" in out.stdout


def _tree(tmp_path: Path) -> object:
    expected = {"apps/a/overlays/dev": 3, "apps/a/overlays/prod": None}
    return run.Tree(tmp_path, 2, expected, components=0, bases=1, files=5, generate_s=0.0)


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
