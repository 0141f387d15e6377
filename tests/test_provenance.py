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


OVERLAY = ROOT / "tests/overlays/provenance"
C0 = "spec.template.spec.containers[0]"
# field of Deployment/prod-web (or kind/name, field) -> (file, line) that set it, per way of setting a value.
SETTERS = {
    ("Deployment", f"{C0}.image"): ("overlay/kustomization.yaml", 15),  # images: newTag
    ("Deployment", "spec.replicas"): ("overlay/kustomization.yaml", 18),  # replicas: count
    ("Deployment", f"{C0}.securityContext.privileged"): ("overlay/patches/privileged.yaml", 11),  # strategic merge
    ("Deployment", "spec.template.spec.hostNetwork"): ("overlay/kustomization.yaml", 33),  # inline JSON 6902
    ("Deployment", f"{C0}.securityContext.readOnlyRootFilesystem"): ("overlay/patches/writable.yaml", 1),  # 6902 file
    ("Deployment", "metadata.namespace"): ("overlay/kustomization.yaml", 2),  # namespace:
    ("Deployment", "metadata.labels.team"): ("overlay/kustomization.yaml", 11),  # labels: pairs
    ("Deployment", "spec.template.spec.securityContext.seccompProfile.type"): ("component/seccomp.yaml", 10),
    ("Deployment", f"{C0}.livenessProbe"): ("base/web.yaml", 18),  # missing: the container that lacks it
    ("Deployment", f"{C0}.securityContext.allowPrivilegeEscalation"): ("base/web.yaml", 22),  # only the base
    ("Ingress", "spec.rules[0].host"): ("overlay/kustomization.yaml", 46),  # replacements: fieldPaths
    ("ConfigMap", "data.MODE"): ("overlay/kustomization.yaml", 22),  # generator literal
}


@pytest.fixture(scope="module")
def provenance_objects(kustomize):  # noqa: ANN001, ANN201
    cwd = os.getcwd()
    os.chdir(OVERLAY)
    try:
        yield {o.kind: o for o in render(Path("overlay"), kustomize).objects if o.name != "prod-settings"}
    finally:
        os.chdir(cwd)


@pytest.mark.parametrize(("kind", "field"), sorted(SETTERS), ids=[f"{k}:{f}" for k, f in sorted(SETTERS)])
def test_each_way_of_setting_a_value_points_at_its_line(provenance_objects, kind: str, field: str,  # noqa: ANN001
                                                        monkeypatch) -> None:  # noqa: ANN001
    from policycheck.provenance import locate

    monkeypatch.chdir(OVERLAY)
    obj = provenance_objects[kind]
    source = locate(obj, field)
    assert (source.file, source.line) == SETTERS[(kind, field)]
    assert source.file in obj.tree.files(), "a file the kustomization tree does not read"
    lines = (OVERLAY / source.file).read_text().splitlines()
    last = field.rsplit(".", 1)[-1]
    set_by_overlay = source.file.endswith("kustomization.yaml") or "patches" in source.file or "component" in source.file
    if set_by_overlay and not obj.generated_by:
        assert source.via, "an overlay's setter carries the chain from the base"
        assert source.via[0].file.startswith(("base/", "overlay/kustomization.yaml"))
    assert lines[source.line - 1].strip(), (source, last)


def test_every_reported_file_is_one_the_tree_reads(kustomize) -> None:  # noqa: ANN001
    """On every overlay of the project and its fixtures: findings point into files the tree reads."""
    from policycheck import config, engine

    for overlay in ("overlays/dev", "overlays/prod", "tests/overlays/planted"):
        rendered = render(Path(overlay), kustomize)
        profile = config.load().profile_for(overlay, "prod")
        files = rendered.objects[0].tree.files()
        for finding in engine.run(rendered, profile, "1.35"):
            if finding.source is not None:
                assert finding.source.file in files, (overlay, finding.rule, finding.source)
                assert all(v.file in files for v in finding.source.via)


@pytest.mark.parametrize(("pattern", "name", "expected"), [
    ("web", "web", True), ("web", "web2", False), (".*", "anything", True), ("web-.*", "web-api", True),
    ("web-.*", "api", False), ("^web$", "web", True), (".*-api", "prod-api", True), ("a.*b.*c", "axxbyyc", True),
    ("a.*b.*c", "acb", False), ("ab.*ba", "aba", False), ("web\\.x", "web.x", True),
    # Beyond plain names and `.*`: matches nothing (the base line stands), never a backtracking regex.
    ("web.x", "webax", False), ("we[b]", "web", False), ("(a|aa)*b", "a" * 250, False),
])
def test_patch_target_names_match_in_linear_time(pattern: str, name: str, expected: bool) -> None:
    from policycheck.provenance import _name_matches

    assert _name_matches(pattern, name) is expected


def test_a_crafted_target_name_does_not_stall_the_check(tmp_path: Path) -> None:
    """`(a|aa)*` failing against a long name takes Python's `re` hours; the check must not."""
    name = "a" * 60 + "b"
    _tree(tmp_path, {
        "o/kustomization.yaml": "resources: [d.yaml]\npatches:\n- target: {kind: Deployment, name: '(a|aa)*'}\n"
                                "  patch: |-\n    - op: add\n      path: /metadata/labels/x\n      value: y\n",
        "o/d.yaml": DEPLOY.format(n=name).replace("    spec:\n", "    spec:\n      hostNetwork: true\n"),
    })
    out = subprocess.run([sys.executable, "-m", "policycheck", "o", "--format", "json", "--select", "host-namespaces"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 1, out.stderr
    [finding] = json.loads(out.stdout)["findings"]
    assert (finding["rule"], finding["source"]["file"], finding["source"]["line"]) == ("host-namespaces", "o/d.yaml", 10)


# --- big resource files: indexed by a scan, composed one document at a time -----------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_names = st.sampled_from(["web", "'web'", '"web"', "a.b-c", "x y", "'it''s'", '"q\\"x"', "!t z", "&a n", "{}",
                          "web # note", "", "~"])


@settings(max_examples=500, deadline=None)
@given(kind=_names, name=_names, namespace=st.none() | _names, extra=st.booleans(), indent=st.sampled_from([2, 4]))
def test_the_scan_of_a_document_finds_what_composing_it_finds(kind, name, namespace, extra, indent):
    from policycheck import provenance, yamlio

    pad = " " * indent
    lines = ["apiVersion: v1", f"kind: {kind}", "metadata:"]
    if extra:
        lines += [f"{pad}labels:", f"{pad}{pad}name: label-not-name"]
    lines.append(f"{pad}name: {name}")
    if namespace is not None:
        lines.append(f"{pad}namespace: {namespace}")
    lines.append("spec: {}")
    text = "\n".join(lines) + "\n"
    scanned = yamlio.scan_identity(text)
    if scanned is None:
        return  # the file's other documents are still scanned; this one is composed instead
    try:
        nodes = yamlio.compose_nodes(text)
    except yamlio.ERRORS:
        return
    assert scanned == provenance._node_identity(nodes[0]), text


def test_findings_in_a_big_resource_file_point_at_the_same_lines(tmp_path, monkeypatch):
    """A file over LAZY_BYTES is indexed by a scan; the lines are the ones composing it all gives."""
    import subprocess
    import sys

    from policycheck import provenance

    overlay = tmp_path / "big"
    overlay.mkdir()
    docs = []
    for i in range(40):
        lines = 800 if i % 10 else 3000  # every tenth document alone is bigger than LAZY_BYTES / 4
        pad = "\n".join(f"    line {j} of a long embedded configuration file" for j in range(lines))
        docs.append(f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\n  labels:\n    app: x\n"
                    f"data:\n  blob: |\n{pad}\n")
    docs.insert(7, "# a comment-only document\n")
    docs.append("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: flow-style}\nspec:\n  selector: {}\n"
                "  template:\n    spec:\n      containers:\n      - name: c\n        image: nginx\n")
    (overlay / "all.yaml").write_text("---\n".join(docs), encoding="utf-8")
    (overlay / "kustomization.yaml").write_text("resources:\n- all.yaml\n", encoding="utf-8")
    assert (overlay / "all.yaml").stat().st_size > provenance.LAZY_BYTES

    def report(lazy_bytes: int) -> list:
        out = subprocess.run([sys.executable, "-c", "import sys; from policycheck import provenance, cli; "
                              f"provenance.LAZY_BYTES = {lazy_bytes}; sys.exit(cli.main(sys.argv[1:]))",
                              str(overlay), "--format", "json", "--no-cache"], capture_output=True, text=True,
                             timeout=120, check=False)
        assert out.returncode in (0, 1), out.stderr
        return [(f["rule"], f["name"], f["source"]) for f in json.loads(out.stdout)["findings"]]

    from policycheck.provenance import LAZY_DOCUMENT_BYTES

    assert (overlay / "all.yaml").stat().st_size > LAZY_DOCUMENT_BYTES * 42  # documents big enough on average
    lazy, composed = report(provenance.LAZY_BYTES), report(1 << 40)
    assert lazy == composed and len({json.dumps(source) for _, _, source in lazy}) > 10
