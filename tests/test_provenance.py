"""Our origin index agrees with kustomize's own origin annotations."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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


def _tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


DEPLOY = ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {n}\nspec:\n  selector: {{matchLabels: {{app: {n}}}}}\n"
          "  template:\n    metadata: {{labels: {{app: {n}}}}}\n    spec:\n      containers:\n      - name: c\n"
          "        image: x:1\n")


def test_renamed_generated_and_namespaced_objects_point_at_their_own_lines(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """namePrefix equal to another object's name, generator entries sharing a
    prefix, a generator without hash, one name in two namespaces."""
    _tree(tmp_path, {
        "base/kustomization.yaml": "resources: [web.yaml, api.yaml]\n",
        "base/web.yaml": DEPLOY.format(n="web"), "base/api.yaml": DEPLOY.format(n="api"),
        "prod/kustomization.yaml": "namePrefix: web-\nresources: [../base]\n",
        "gen/kustomization.yaml": "namePrefix: team-\nconfigMapGenerator:\n- {name: app, literals: [MODE=fast]}\n"
                                  "- name: app-db\n  literals:\n  - LOG=info\n  - DB_PASSWORD=hunter22\n"
                                  "- {name: plain, options: {disableNameSuffixHash: true}, literals: [API_TOKEN=abc]}\n",
        "ns/kustomization.yaml": "resources: [a.yaml, b.yaml]\n",
        "ns/a.yaml": 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  namespace: a\ndata:\n  x: "1"\n',
        "ns/b.yaml": 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  namespace: b\ndata:\n  x: "1"\n'
                     '  DB_PASSWORD: "zz"\n',
    })
    monkeypatch.chdir(tmp_path)
    out = subprocess.run([sys.executable, "-m", "policycheck", "prod", "gen", "ns", "--profile", "prod", "--format",
                          "json", "--select", "image-digest,secret-in-configmap"], capture_output=True, text=True,
                         timeout=120, check=False)
    got = {(f["name"], f["source"]["file"], f["source"]["line"]) for f in json.loads(out.stdout)["findings"]}
    generated = next(name for name, _, _ in got if name.startswith("team-app-db-"))
    assert got == {("web-api", "base/api.yaml", 12), ("web-web", "base/web.yaml", 12),
                   (generated, "gen/kustomization.yaml", 7), ("team-plain", "gen/kustomization.yaml", 8),
                   ("cfg", "ns/b.yaml", 8)}
