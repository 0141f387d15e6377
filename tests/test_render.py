"""Render safety that the CLI tests do not reach: the memory cap without
util-linux prlimit (the preexec fallback)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from policycheck.model import PolicycheckError
from policycheck.render import render
from tests.test_cli import BOMB


def test_memory_cap_without_prlimit(kustomize, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    (tmp_path / "kustomization.yaml").write_text("resources: [bomb.yaml]\n")
    (tmp_path / "bomb.yaml").write_text(BOMB)
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None if name == "prlimit" else real_which(name, *a, **k))
    with pytest.raises(PolicycheckError, match="render exceeded the memory limit of 1024 MiB"):
        render(tmp_path, kustomize, memory_mib=1024, timeout=60)
    # A normal overlay renders under the same cap.
    assert len(render(Path(__file__).parent.parent / "overlays/prod", kustomize, memory_mib=1024).objects) == 25
