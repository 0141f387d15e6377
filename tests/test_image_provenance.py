"""Where image-tag-consistency points: the `images:` entry responsible for each container's tag
(provenance follows the image name from the file that wrote it through the entries that rename
it), on a real tree rendered by kustomize through `python -m policycheck`."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
      - name: {name}
        image: {image}
"""


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")


def _report(root: Path, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "policycheck", *args, "--format", "json", "--no-cache"], cwd=root,
                         capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, check=False)
    assert out.returncode in (0, 1), out.stderr
    return json.loads(out.stdout)


def test_image_tag_consistency_points_at_the_images_entry_of_each_container(tmp_path: Path) -> None:
    """Two containers that get one repository through two `images:` entries: each finding at its
    own entry's tag line; a tag written in the base (no entry renames it) at the base's line."""
    _write(tmp_path / "base/api.yaml", DEPLOYMENT.format(name="api", image="example/api"))
    _write(tmp_path / "base/worker.yaml", DEPLOYMENT.format(name="worker", image="example/worker"))
    _write(tmp_path / "base/cron.yaml", DEPLOYMENT.format(name="cron", image="example/app:0.9"))
    _write(tmp_path / "base/kustomization.yaml", "resources: [api.yaml, worker.yaml, cron.yaml]\n")
    _write(tmp_path / "ov/kustomization.yaml", """\
        resources:
          - ../base
        images:
          - name: example/api
            newName: example/app
            newTag: "1.1"
          - name: example/worker
            newName: example/app
            newTag: "1.0"
        """)
    _write(tmp_path / "policycheck.yaml", "kube-version: \"1.35\"\n")
    report = _report(tmp_path, "ov", "--select", "image-tag-consistency")
    got = sorted((f["name"], f["source"]["file"], f["source"]["line"]) for f in report["findings"])
    assert got == [("api", "ov/kustomization.yaml", 6), ("cron", "base/cron.yaml", 14),
                   ("worker", "ov/kustomization.yaml", 9)]
