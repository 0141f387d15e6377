"""Temporary git repositories for the tests of --base, `policycheck diff` and the baseline."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.conftest import require


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` (bounded); its stdout. A failing command fails the test."""
    out = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, timeout=30, check=True)
    return out.stdout


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A", ".")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)


def init(root: Path, files: dict[str, str], message: str = "first") -> Path:
    """A new repository at ``root`` holding ``files`` in its first commit."""
    require(shutil.which("git") is not None, "git not on PATH")
    root.mkdir(parents=True, exist_ok=True)
    write(root, files)
    git(root, "init", "-q")
    git(root, "config", "user.email", "t@example.com")
    git(root, "config", "user.name", "t")
    git(root, "config", "commit.gpgsign", "false")
    commit(root, message)
    return root
