"""bench/monorepo.py: its manifest says what the real kustomize does with the tree it writes."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from tests.conftest import ROOT, load_script, require

KUBECTL = Path(sys.executable).parent / "kubectl"
# A remote base must fail fast and offline: every fetch goes to a closed local port.
OFFLINE = {name: "http://127.0.0.1:9" for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy")}


def _load() -> ModuleType:
    return load_script(ROOT / "bench" / "monorepo.py", "bench_monorepo")


monorepo = _load()


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    root = tmp_path_factory.mktemp("monorepo")
    # Small operator CRDs (50 to 100 KiB) keep the renders quick; test_defaults_... checks the real sizes.
    return root, monorepo.generate(root, overlays=40, seed=3, broken_ratio=0.2, crd_ratio=0.2, heavy_mib=(0.05, 0.1))


def _render(root: Path, overlay: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **OFFLINE, "NO_PROXY": "", "no_proxy": "", "GIT_TERMINAL_PROMPT": "0"}
    return subprocess.run([str(KUBECTL), "kustomize", overlay], cwd=root, env=env, capture_output=True, text=True,
                          timeout=60, check=False)


def _documents(text: str) -> int:
    return sum(line == "---" for line in text.splitlines()) + 1 if text.strip() else 0


def test_manifest_matches_what_kustomize_renders(repo: tuple[Path, object]) -> None:
    require(KUBECTL.is_file(), f"no kubectl next to {sys.executable}")
    root, manifest = repo
    assert set(manifest.broken.values()) == set(monorepo.BREAKAGES)
    assert len(manifest.good) == 32 and manifest.objects.keys() == set(manifest.good)
    with ThreadPoolExecutor(2) as pool:
        results = dict(zip(manifest.good + list(manifest.broken),
                           pool.map(lambda d: _render(root, d), manifest.good + list(manifest.broken)), strict=True))
    for overlay in manifest.good:
        out = results[overlay]
        assert out.returncode == 0, f"{overlay}: {out.stderr}"
        assert _documents(out.stdout) == manifest.objects[overlay], overlay
    for overlay, cls in manifest.broken.items():
        assert results[overlay].returncode != 0, f"{overlay} ({cls}) rendered"
    crd_overlays = [d for d in manifest.good if "kind: CustomResourceDefinition" in results[d].stdout]
    assert len(crd_overlays) == round(40 * 0.2) + len(manifest.heavy)
    # An overlay with an operator renders its CRDs: the bytes the manifest says it reads, and more.
    assert len(manifest.heavy) == 1 and set(manifest.heavy) < set(crd_overlays)
    for overlay, size in manifest.heavy.items():
        kustomization = (root / overlay / "kustomization.yaml").read_text(encoding="utf-8")
        name = next(line.split("operators/")[1] for line in kustomization.splitlines() if "operators/" in line)
        assert (root / "operators" / name / "crds.yaml").stat().st_size == size
        assert len(results[overlay].stdout.encode()) > size
    shapes = {shape for found in manifest.unusual.values() for shape in found}
    assert shapes == set(monorepo.UNUSUAL) and set(manifest.unusual) <= set(manifest.good)
    dated = next(d for d, found in manifest.unusual.items() if "annotation-date-2026-02-30" in found)
    assert "example.com/expires: 2026-02-30" in results[dated].stdout  # kustomize writes it unquoted


def _includes(root: Path) -> tuple[dict[str, dict | None], set[str]]:
    """Every kustomization dir -> its parsed mapping (None if not a mapping), and the dirs they include."""
    found: dict[str, dict | None] = {}
    included: set[str] = set()
    for kfile in sorted(root.rglob("kustomization.yaml")):
        rel = kfile.parent.relative_to(root).as_posix()
        try:
            data = yaml.safe_load(kfile.read_text(encoding="utf-8"))
        except yaml.YAMLError:
            data = None
        found[rel] = data if isinstance(data, dict) else None
        entries = [*data.get("resources", []), *data.get("components", [])] if isinstance(data, dict) else []
        for entry in entries:
            target = (kfile.parent / entry).resolve()
            if target.is_dir():
                included.add(target.relative_to(root.resolve()).as_posix())
    return found, included


def test_orphans_bases_and_overlays_cover_every_kustomization(repo: tuple[Path, object]) -> None:
    root, manifest = repo
    found, included = _includes(root)
    overlays = set(manifest.good) | set(manifest.broken)
    assert not set(manifest.components) & included
    assert set(manifest.bases) <= included
    assert not overlays & included
    for orphan in manifest.components:
        assert found[orphan] and found[orphan]["kind"] == "Component"
    # Everything else is a base or a component some overlay includes.
    for rel, data in found.items():
        if rel not in overlays | set(manifest.components) | set(manifest.bases):
            assert rel in included and data and data["kind"] == "Component", rel
    assert {rel for rel, data in found.items() if data is None} == {
        d for d, cls in manifest.broken.items() if cls == "not-a-mapping"}
    assert monorepo.Manifest.load(root / "manifest.json") == manifest


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_other_seed_other_tree(tmp_path: Path) -> None:
    monorepo.generate(tmp_path / "api", overlays=25, seed=5)
    cli = subprocess.run([sys.executable, ROOT / "bench" / "monorepo.py", tmp_path / "cli", "--overlays", "25",
                          "--seed", "5"], capture_output=True, text=True, timeout=60, check=False)
    assert cli.returncode == 0, cli.stderr
    monorepo.generate(tmp_path / "other", overlays=25, seed=6)
    assert _tree(tmp_path / "api") == _tree(tmp_path / "cli")
    assert _tree(tmp_path / "api") != _tree(tmp_path / "other")


def test_refuses_a_directory_with_files(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("x", encoding="utf-8")
    with pytest.raises(FileExistsError):
        monorepo.generate(tmp_path, overlays=3)


def test_defaults_make_the_tree_of_issue_9(tmp_path: Path) -> None:
    """150 overlays: about 2,500 objects, a few broken overlays, and several overlays with 1-4 MiB of CRDs."""
    manifest = monorepo.generate(tmp_path, overlays=150)
    assert len(manifest.good) + len(manifest.broken) == 150 and len(manifest.broken) >= 6
    assert 2300 <= sum(manifest.objects.values()) <= 2700
    assert manifest.components and any(b.startswith("platform/") for b in manifest.bases)
    assert len(manifest.heavy) >= 3 and set(manifest.heavy) <= set(manifest.good)
    files = sorted(tmp_path.glob("operators/*/crds.yaml"))
    sizes = sorted(f.stat().st_size / 2**20 for f in files)
    assert len(files) == 3 and sizes[0] >= 0.95 and 3.5 <= sizes[-1] <= 4.2, sizes
    assert set(manifest.heavy.values()) == {f.stat().st_size for f in files}
    for crds in files:  # each CRD stays under the API server's 1.5 MiB request limit, as real ones must
        documents = crds.read_text(encoding="utf-8").split("\n---\n")
        assert all(len(doc) < 1.5 * 2**20 and "kind: CustomResourceDefinition" in doc for doc in documents)
        assert all(doc.count("openAPIV3Schema:") == 3 for doc in documents)
