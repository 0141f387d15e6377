"""The result cache: an unchanged overlay is answered from it with the identical report,
and any change to what the check depends on misses it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require, which

ROOT = Path(__file__).resolve().parent.parent

FILES = {
    "base/kustomization.yaml": "resources:\n- deployment.yaml\n",
    "base/deployment.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n"
        "  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n"
        "    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n"
    ),
    "components/extra/kustomization.yaml": (
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n- sa.yaml\n"
    ),
    "components/extra/sa.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: web\n",
    "overlay/kustomization.yaml": (
        "resources:\n- ../base\ncomponents:\n- ../components/extra\npatches:\n- path: patches/replicas.yaml\n"
        "configMapGenerator:\n- name: settings\n  files:\n  - conf/app.properties\n"
    ),
    "overlay/patches/replicas.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n",
    "overlay/conf/app.properties": "mode=fast\n",
    "policies/house.rego": (
        "package main\n\nimport rego.v1\n\nwarn contains msg if {\n  some item in input\n"
        "  item.contents.kind == data.house.flagged_kind\n  msg := \"flagged\"\n}\n"
    ),
    "policies/data/house.yaml": "house:\n  flagged_kind: Nothing\n",
    "policycheck.yaml": "rules:\n  image-digest: {level: warning}\n",
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    require(which("conftest") is not None, "conftest not on PATH (hack/install-conftest.sh)")
    for name, text in FILES.items():
        path = tmp_path / "p" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path / "p"


def run(project: Path, *args: str) -> tuple[int, dict, int]:
    """(exit code, JSON report, overlays answered from the cache)."""
    env = {**os.environ, "POLICYCHECK_CACHE": str(project.parent / "cache")}
    env.pop("CI", None)
    out = subprocess.run([sys.executable, "-m", "policycheck", "overlay", "--format", "json", "-v", *args],
                         cwd=project, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode in (0, 1), out.stderr
    hits = re.search(r"(\d+) of \d+ overlay\(s\) from the cache", out.stderr)
    return out.returncode, json.loads(out.stdout), int(hits.group(1)) if hits else -1


def test_an_unchanged_overlay_comes_from_the_cache_with_the_identical_report(project):
    code, cold, hits = run(project)
    assert hits == 0 and cold["overlays"][0]["objects"] == 3 and cold["tool"]["conftest"]
    code2, warm, hits = run(project)
    assert hits == 1 and (code2, warm) == (code, cold)
    for fmt in ("text", "sarif", "junit", "github"):  # every format, written from the stored result
        env = {**os.environ, "POLICYCHECK_CACHE": str(project.parent / "cache")}
        env.pop("CI", None)
        outs = [subprocess.run([sys.executable, "-m", "policycheck", "overlay", "--format", fmt, *extra], cwd=project,
                               env=env, capture_output=True, text=True, timeout=120, check=False).stdout
                for extra in ((), ("--no-cache",))]
        assert outs[0] == outs[1], fmt


# Each kind of input the issue names, changed in a way that keeps the overlay valid.
CHANGES = {
    "resource": ("base/deployment.yaml", lambda t: t.replace("nginx:1.27", "nginx:1.28")),
    "patch": ("overlay/patches/replicas.yaml", lambda t: t.replace("replicas: 2", "replicas: 3")),
    "generator file": ("overlay/conf/app.properties", lambda t: t + "extra=1\n"),
    "component": ("components/extra/sa.yaml", lambda t: t + "automountServiceAccountToken: false\n"),
    "base": ("base/kustomization.yaml", lambda t: t + "commonLabels:\n  team: a\n"),
    "policy": ("policies/house.rego", lambda t: t.replace('"flagged"', '"flagged!"')),
    "data": ("policies/data/house.yaml", lambda t: t.replace("Nothing", "Deployment")),
    "config": ("policycheck.yaml", lambda t: t.replace("warning", "error")),
    "kustomization": ("overlay/kustomization.yaml", lambda t: t + "namePrefix: x-\n"),
}


@pytest.mark.parametrize("what", CHANGES)
def test_any_changed_input_misses_the_cache(project, what):
    run(project)
    assert run(project)[2] == 1
    name, change = CHANGES[what]
    path = project / name
    path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")
    _, changed, hits = run(project)
    assert hits == 0, f"a changed {what} was answered from the cache"
    _, fresh, _ = run(project, "--no-cache")
    assert changed == fresh
    assert run(project)[2] == 1  # and the new result is cached in turn


def test_a_different_kustomize_or_flag_misses_the_cache(project, tmp_path):
    run(project)
    assert run(project, "--select", "image-digest")[2] == 0
    assert run(project, "--kube-version", "1.33")[2] == 0
    kubectl = which("kubectl")
    copy = tmp_path / "bin" / "kubectl"
    copy.parent.mkdir()
    shutil.copy2(kubectl, copy)
    assert run(project, "--kustomize", str(copy))[2] == 0
    assert run(project)[2] == 1


def test_no_cache_neither_reads_nor_writes(project):
    run(project, "--no-cache")
    assert not (project.parent / "cache" / "results").exists()
    run(project)
    assert run(project, "--no-cache")[2] == -1  # no cache line at all


def test_a_remote_base_is_never_cached(project):
    from policycheck.inputs import Walker

    remote = project / "remote"
    remote.mkdir()
    (remote / "kustomization.yaml").write_text("resources:\n- ../base\n- https://example.com/org/repo//x?ref=v1\n")
    assert "remote" in (Walker().walk(remote).uncacheable or "")
    assert Walker().walk(project / "overlay").uncacheable is None


def test_a_corrupt_or_foreign_entry_is_a_miss(project):
    run(project)
    for entry in (project.parent / "cache" / "results").rglob("*.json"):
        entry.write_text('{"format": 1, "key": "x", "overlay": []}')
    assert run(project)[2] == 0
    for entry in (project.parent / "cache" / "results").rglob("*.json"):
        entry.write_bytes(b"\xff\xfe not json")
    assert run(project)[2] == 0
    assert run(project)[2] == 1


def test_a_fifo_or_device_among_the_policies_neither_blocks_nor_fails_the_cache(project):
    """A policy path that is a FIFO (or a link to /dev/zero) is never read: no hang, no traceback."""
    os.mkfifo(project / "policies" / "pipe.rego")
    os.symlink("/dev/zero", project / "policies" / "zero.rego")
    env = {**os.environ, "POLICYCHECK_CACHE": str(project.parent / "cache")}
    env.pop("CI", None)
    for select in (("--select", "image-digest"), ()):  # without and with the Rego stage
        out = subprocess.run([sys.executable, "-m", "policycheck", "overlay", "--format", "json", *select,
                              "--timeout", "30"], cwd=project, env=env, capture_output=True, text=True,
                             timeout=120, check=False)
        assert out.returncode in (0, 1, 2) and "Traceback" not in out.stderr, out.stderr
        assert out.stderr.count("\n") <= 1
        assert json.loads(out.stdout)["overlays"][0]["objects"] == 3
