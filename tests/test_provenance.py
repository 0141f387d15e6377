"""Our origin index agrees with kustomize's own origin annotations."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from policycheck.render import render
from tests.conftest import ROOT


def kustomize_origins(kustomize, overlay: str, tmp_path: Path) -> dict[tuple[str, str], str]:  # noqa: ANN001
    """(kind, name) -> origin file, as kustomize's originAnnotations say."""
    target = os.path.relpath(ROOT / overlay, tmp_path)
    (tmp_path / "kustomization.yaml").write_text(
        f"buildMetadata: [originAnnotations]\nresources:\n  - {target}\n")
    out = subprocess.run([*kustomize.argv, str(tmp_path)], capture_output=True, text=True, timeout=120, check=True)
    origins = {}
    for doc in yaml.safe_load_all(out.stdout):
        origin = yaml.safe_load(doc["metadata"]["annotations"]["config.kubernetes.io/origin"])
        path = origin.get("path") or origin["configuredIn"]
        origins[(doc["kind"], doc["metadata"]["name"])] = os.path.relpath(os.path.normpath(tmp_path / path), ROOT)
    return origins


@pytest.mark.parametrize("overlay", ["overlays/dev", "overlays/prod", "tests/overlays/planted"])
def test_origin_index_matches_kustomize(kustomize, overlay: str, tmp_path: Path) -> None:  # noqa: ANN001
    ours = {(o.kind, o.name): o.origin for o in render(Path(overlay), kustomize).objects}
    assert ours == kustomize_origins(kustomize, overlay, tmp_path)
    assert None not in ours.values()


def test_user_origin_annotations_are_used_and_stripped(kustomize, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    overlay = tmp_path / "o"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text("buildMetadata: [originAnnotations]\nresources: [cm.yaml]\n")
    (overlay / "cm.yaml").write_text("# comment\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n")
    monkeypatch.chdir(tmp_path)
    [obj] = render(Path("o"), kustomize).objects
    assert obj.origin == "o/cm.yaml"
    assert "annotations" not in obj.doc["metadata"]
