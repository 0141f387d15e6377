"""policycheck on a synthetic monorepo (bench/monorepo.py): good, broken and
component-only kustomizations side by side. Every good overlay is reported
in full, every broken one is named with its own error, components and bases
are not taken for overlays, and the run exits 2 (it could not check all)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_monorepo_generator import OFFLINE, monorepo

# What each class of breakage must say in its overlay's error.
EXPECTED_ERROR = {
    "missing-file": "kustomize build failed",
    "remote-base": "remote resource refused",
    "bad-yaml": "kustomize build failed",
    "not-a-mapping": "not a kustomization",
    "patch-target-missing": "kustomize build failed",
    "load-outside-root": "kustomize build failed",
}


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    root = tmp_path_factory.mktemp("monorepo")
    return root, monorepo.generate(root, overlays=40, seed=5, broken_ratio=0.2, crd_ratio=0.3)


def _policycheck(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **OFFLINE, "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "policycheck", ".", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=600, check=False)


def test_every_good_overlay_is_reported_and_every_broken_one_named(repo) -> None:  # noqa: ANN001
    root, manifest = repo
    assert set(manifest.broken.values()) == set(EXPECTED_ERROR)
    out = _policycheck(root, "--format", "json", "-v")
    assert out.returncode == 2, out.stderr
    report = json.loads(out.stdout)
    overlays = {o["path"]: o for o in report["overlays"]}
    assert set(overlays) == set(manifest.good) | set(manifest.broken)
    for path in manifest.good:
        assert overlays[path]["error"] is None, overlays[path]
        assert overlays[path]["objects"] == manifest.objects[path], path
    for path, breakage in manifest.broken.items():
        assert EXPECTED_ERROR[breakage] in overlays[path]["error"], (breakage, overlays[path]["error"])
        assert not any(f["overlay"] == path for f in report["findings"])
    assert report["summary"]["overlay_errors"] == len(manifest.broken)
    # Findings of good overlays are all there: every good overlay has some (the bases are not hardened).
    assert {f["overlay"] for f in report["findings"]} == set(manifest.good)
    # A defect in a shared base (platform/base, an app's base) is one defect found in several overlays.
    by_fingerprint: dict[str, set[str]] = {}
    for f in report["findings"]:
        by_fingerprint.setdefault(f["fingerprint"], set()).add(f["overlay"])
        assert f["overlay"] in f["overlays"]
    assert len(by_fingerprint) < len(report["findings"])
    assert all(set(f["overlays"]) == by_fingerprint[f["fingerprint"]] for f in report["findings"])
    # Components and bases are parts, never overlays; -v says why each was skipped.
    stderr = out.stderr.splitlines()
    for component in manifest.components:
        assert component not in overlays
        assert f"policycheck: skipped {component}: a kind: Component (checked where an overlay lists it)" in stderr
    for base in manifest.bases:
        assert base not in overlays
    errors = [line for line in stderr if not line.startswith("policycheck: skipped ") and "rendered with" not in line
              and "from the cache" not in line]
    assert len(errors) == 1 and errors[0].startswith(f"policycheck: {len(manifest.broken)} of "), errors


def test_text_report_has_one_line_per_broken_overlay(repo) -> None:  # noqa: ANN001
    root, manifest = repo
    out = _policycheck(root)
    assert out.returncode == 2
    lines = out.stdout.splitlines()
    not_checked = [line for line in lines if "not checked:" in line]
    assert len(not_checked) == len(manifest.broken)
    assert lines[-1].endswith(f", {len(manifest.broken)} overlay(s) not checked")
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
