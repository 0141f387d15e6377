"""Shared fixtures: real kustomize renders of the project's overlays."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
from pathlib import Path
from types import ModuleType

import pytest

from policycheck.model import K8sObject
from policycheck.render import Kustomize, find_kustomize, render

ROOT = Path(__file__).resolve().parent.parent
OVERLAYS = ("dev", "prod")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# Every policycheck the suite starts keeps its result cache (and tool versions) in one directory
# of this session, never in the user's: runs of the suite do not answer each other.
os.environ["POLICYCHECK_CACHE"] = tempfile.mkdtemp(prefix="policycheck-test-cache-")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--existing-cluster", action="store_true",
                     help="run the cluster tier (tests/cluster) against the cluster KUBECONFIG points at, "
                          "with the kubectl on PATH, instead of a control plane built here")


def require(condition: bool, reason: str) -> None:
    """Skip on a laptop when a tool is missing; in CI a missing tool fails."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


@pytest.fixture(scope="session")
def kustomize() -> Kustomize:
    return find_kustomize()


@pytest.fixture(scope="session")
def rendered(kustomize: Kustomize) -> dict[str, list[K8sObject]]:
    """overlay name -> rendered objects (each overlay built once per session)."""
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        return {name: render(Path("overlays") / name, kustomize).objects for name in OVERLAYS}
    finally:
        os.chdir(cwd)


def find(objects: list[K8sObject], kind: str, name: str) -> K8sObject:
    matches = [o for o in objects if o.kind == kind and o.name == name]
    assert len(matches) == 1, f"expected exactly one {kind}/{name}, found {len(matches)}"
    return matches[0]


def which(tool: str) -> str | None:
    return shutil.which(tool)


def load_script(path: Path, name: str) -> ModuleType:
    """A script of the repository (bench/, hack/) imported as a module."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module
