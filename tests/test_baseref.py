"""--base REF end to end: a real git repository, the real kustomize, policycheck as a subprocess.

The user's work tree, index, refs and worktree list must be exactly as they were; every failure of
REF or of the repository is one stderr line and exit code 2.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from policycheck import baseref
from policycheck.model import PolicycheckError
from tests.conftest import require
from tests.gitrepo import git, init

STATEFULSET = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  serviceName: db
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      containers:
        - name: db
          image: postgres:17.2
  volumeClaimTemplates:
    - metadata:
        name: data
      spec:
        accessModes: [ReadWriteOnce]
        resources:
          requests:
            storage: 1Gi
"""
SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: db
spec:
  clusterIP: None
  selector: {app: db}
  ports:
    - port: 5432
"""
LABELS = """\
resources: [../../base]
labels:
  - pairs:
      tier: db
    includeTemplates: true
"""


_git = git


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return init(tmp_path / "repo", {
        "base/statefulset.yaml": STATEFULSET, "base/service.yaml": SERVICE,
        "base/kustomization.yaml": "resources: [statefulset.yaml, service.yaml]\n",
        "overlays/prod/kustomization.yaml": "resources: [../../base]\n"})


def _state(repo: Path) -> tuple[str, str, str, str]:
    """What --base must never change: status (index and work tree), worktrees, refs, the index file."""
    index = (repo / ".git" / "index").read_bytes()
    return (_git(repo, "status", "--porcelain=v1", "--untracked-files=all"), _git(repo, "worktree", "list"),
            _git(repo, "for-each-ref"), index.hex())


def _run(repo: Path, *args: str, cwd: Path | None = None) -> tuple[int, dict[str, Any] | None, str]:
    tmp = repo.parent / "tmp"
    tmp.mkdir(exist_ok=True)
    env = {**os.environ, "TMPDIR": str(tmp)}
    out = subprocess.run([sys.executable, "-m", "policycheck", *args, "--format", "json", "--no-cache"],
                         cwd=cwd or repo, capture_output=True, text=True, timeout=120, env=env, check=False)
    assert "Traceback" not in out.stderr, out.stderr
    assert list(tmp.iterdir()) == [], "the tree at REF was not removed"
    report = json.loads(out.stdout) if out.stdout.strip() else None
    return out.returncode, report, out.stderr


def test_a_refused_change_is_found_at_its_line(repo: Path, kustomize) -> None:  # noqa: ANN001
    (repo / "overlays" / "prod" / "kustomization.yaml").write_text(LABELS)
    (repo / "base" / "service.yaml").write_text(SERVICE.replace("clusterIP: None", "clusterIP: 10.0.0.10"))
    before = _state(repo)
    code, report, err = _run(repo, "--base", "HEAD", "overlays/prod", "--select", "immutable-field")
    assert _state(repo) == before
    assert code == 1, err
    found = {(f["kind"], f["field"]): f for f in report["findings"]}
    assert set(found) == {("StatefulSet", "spec.volumeClaimTemplates[0].metadata.labels.tier"),
                          ("Service", "spec.clusterIP")}
    label = found[("StatefulSet", "spec.volumeClaimTemplates[0].metadata.labels.tier")]
    assert (label["source"]["file"], label["source"]["line"]) == ("overlays/prod/kustomization.yaml", 4)
    assert 'since HEAD (absent -> "db")' in label["message"]
    address = found[("Service", "spec.clusterIP")]
    assert (address["source"]["file"], address["source"]["line"]) == ("base/service.yaml", 6)
    assert '("None" -> "10.0.0.10")' in address["message"]


def test_unchanged_and_accepted_changes_find_nothing(repo: Path, kustomize) -> None:  # noqa: ANN001
    code, report, err = _run(repo, "--base", "HEAD", "overlays/prod", "--select", "immutable-field")
    assert (code, report["findings"]) == (0, []), err
    accepted = LABELS.replace("    includeTemplates: true\n", "")  # labels on the objects, not in templates
    (repo / "overlays" / "prod" / "kustomization.yaml").write_text(accepted)
    code, report, err = _run(repo, "--base", "HEAD", "overlays/prod", "--select", "immutable-field")
    assert (code, report["findings"]) == (0, []), err


def test_the_base_is_the_commit_not_the_work_tree(repo: Path, kustomize) -> None:  # noqa: ANN001
    (repo / "overlays" / "prod" / "kustomization.yaml").write_text(LABELS)
    _git(repo, "commit", "-q", "-am", "labels")
    code, report, _ = _run(repo, "--base", "HEAD", "overlays/prod", "--select", "immutable-field")
    assert (code, report["findings"]) == (0, [])
    code, report, _ = _run(repo, "--base", "HEAD~1", "overlays/prod", "--select", "immutable-field")
    assert code == 1 and len(report["findings"]) == 1
    # An untracked file of the work tree is not part of the tree at REF.
    (repo / "overlays" / "prod" / "extra.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    (repo / "overlays" / "prod" / "kustomization.yaml").write_text(LABELS.replace("[../../base]", "[../../base, extra.yaml]"))
    code, report, _ = _run(repo, "--base", "HEAD", "overlays/prod", "--select", "immutable-field")
    assert (code, report["findings"]) == (0, [])


def test_an_overlay_added_since_ref_has_a_note(repo: Path, kustomize) -> None:  # noqa: ANN001
    (repo / "overlays" / "dev").mkdir()
    (repo / "overlays" / "dev" / "kustomization.yaml").write_text(LABELS)
    before = _state(repo)
    code, report, err = _run(repo, "--base", "HEAD", "overlays", "--select", "immutable-field")
    assert _state(repo) == before
    assert (code, report["findings"]) == (0, []), err
    notes = {o["path"]: o["notes"] for o in report["overlays"]}
    assert notes["overlays/prod"] == []
    assert notes["overlays/dev"] == ["overlays/dev does not exist at HEAD: all its findings are new, "
                                     "immutable-field has nothing to compare with"]


def test_a_render_that_fails_at_ref_is_an_error_finding(repo: Path, kustomize) -> None:  # noqa: ANN001
    (repo / "overlays" / "prod" / "kustomization.yaml").write_text("resources: [../../base, missing.yaml]\n")
    _git(repo, "commit", "-q", "-am", "broken")
    (repo / "overlays" / "prod" / "kustomization.yaml").write_text("resources: [../../base]\n")
    code, report, err = _run(repo, "--base", "HEAD", "overlays/prod", "--select", "immutable-field")
    assert code == 1, err
    [finding] = report["findings"]
    assert finding["kind"] == "Kustomization" and "cannot compare with HEAD" in finding["message"]
    assert "policycheck-base-" not in finding["message"]  # no temporary path


@pytest.mark.parametrize("ref", ["no-such-branch", "HEAD~5", "-x", "HEAD:base", ""])
def test_a_ref_that_is_no_revision_is_one_line_and_exit_2(repo: Path, ref: str) -> None:
    before = _state(repo)
    code, report, err = _run(repo, f"--base={ref}", "overlays/prod")
    assert (code, report) == (2, None)
    assert len(err.splitlines()) == 1 and err.startswith("policycheck: --base") and "not a git revision" in err
    assert _state(repo) == before


def test_no_repository_is_one_line_and_exit_2(tmp_path: Path) -> None:
    require(shutil.which("git") is not None, "git not on PATH")
    plain = tmp_path / "plain"
    (plain / "o").mkdir(parents=True)
    (plain / "o" / "kustomization.yaml").write_text("resources: []\n")
    env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "policycheck", "--base", "HEAD", "o"], cwd=plain,
                         capture_output=True, text=True, timeout=60, env=env, check=False)
    assert out.returncode == 2 and len(out.stderr.splitlines()) == 1, out.stderr
    assert "not in a git repository" in out.stderr


def test_an_overlay_outside_the_repository_is_a_usage_error(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "kustomization.yaml").write_text("resources: []\n")
    code, _, err = _run(repo, "--base", "HEAD", str(outside))
    assert code == 2 and "outside the git repository" in err and len(err.splitlines()) == 1


def test_without_the_rule_selected_nothing_is_compared(repo: Path, kustomize) -> None:  # noqa: ANN001
    (repo / "overlays" / "prod" / "kustomization.yaml").write_text(LABELS)
    code, report, err = _run(repo, "--base", "HEAD", "overlays/prod", "--select", "image-tag-pinned")
    assert (code, report["findings"]) == (0, []), err


def test_the_result_cache_keys_on_the_base_commit(repo: Path, kustomize, tmp_path: Path) -> None:  # noqa: ANN001
    (repo / "overlays" / "prod" / "kustomization.yaml").write_text(LABELS)
    env = {**os.environ, "POLICYCHECK_CACHE": str(tmp_path / "cache")}

    def cached(ref: str) -> int:
        args = [sys.executable, "-m", "policycheck", "--base", ref, "overlays/prod", "--select", "immutable-field"]
        return subprocess.run(args, cwd=repo, capture_output=True, text=True, timeout=120, env=env,
                              check=False).returncode

    assert cached("HEAD") == 1 and cached("HEAD") == 1
    _git(repo, "commit", "-q", "-am", "labels")  # the same work tree, another base
    assert cached("HEAD") == 0 and cached("HEAD~1") == 1


# ---------------------------------------------------------------------------------------------- the tree at REF


def test_the_tree_is_written_from_the_object_store_and_safely(repo: Path) -> None:
    (repo / ".gitattributes").write_text("base/*.yaml export-ignore\n")
    script = repo / "run.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    os.symlink("base/statefulset.yaml", repo / "inside-link")
    os.symlink("/etc/passwd", repo / "outside-link")
    os.symlink("../../..", repo / "base" / "up-link")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "links")
    (repo / "base" / "statefulset.yaml").write_text("changed in the work tree\n")
    revision = baseref.resolve("HEAD", cwd=repo)
    before = _state(repo)
    with baseref.materialise(revision, timeout=60) as tree:
        assert (tree / "base" / "statefulset.yaml").read_text() == STATEFULSET  # export-ignore does not apply
        assert os.access(tree / "run.sh", os.X_OK)
        assert (tree / "inside-link").is_symlink() and (tree / "inside-link").read_text() == STATEFULSET
        assert not (tree / "outside-link").exists() and not (tree / "outside-link").is_symlink()
        assert not (tree / "base" / "up-link").is_symlink()
        assert not (tree / ".git").exists()
        kept = tree
    assert not kept.exists()
    assert _state(repo) == before


def test_a_failure_while_materialising_removes_the_directory(repo: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path / "t"))
    (tmp_path / "t").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    revision = baseref.resolve("HEAD", cwd=repo)
    broken = baseref.Revision("HEAD", "0" * 40, revision.toplevel)
    with pytest.raises(PolicycheckError, match="cannot list its tree"), baseref.materialise(broken, timeout=30):
        pass
    assert list((tmp_path / "t").iterdir()) == []
