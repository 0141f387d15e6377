"""policycheck diff --base REF: real git repositories built here, the real kustomize, policycheck as a
subprocess; the comparison itself and the reporters as functions (hypothesis where it fits)."""

from __future__ import annotations

import base64
import copy
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policycheck import diff
from policycheck.diff import ABSENT, DiffReport, FieldChange, ObjectChange, OverlayDiff, field_changes
from policycheck.model import K8sObject
from policycheck.report import diff_json, diff_markdown
from policycheck.scrub import SecretValues
from tests.gitrepo import git, init

EXAMPLES = int(os.environ.get("POLICYCHECK_FUZZ_EXAMPLES", "250"))

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 1
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
        - name: api
          image: example/api:1.0
          envFrom:
            - configMapRef: {name: app-config}
            - secretRef: {name: app-secret}
          env:
            - name: DB_PASSWORD
              value: PlantedEnvValue-0ld
        - name: sidecar
          image: example/sidecar:2.0
"""
SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: api
spec:
  selector: {app: api}
  ports:
    - name: http
      port: 80
"""
OVERLAY = """\
resources: [../../base]
namespace: shop
configMapGenerator:
  - name: app-config
    literals: [LOG_LEVEL=info, REGION=eu]
secretGenerator:
  - name: app-secret
    literals: [password=PlantedSecretValue-0ld]
"""
OLD_SECRET = "PlantedSecretValue-0ld"  # noqa: S105 - planted, must never be printed
NEW_SECRET = "PlantedSecretValue-N3w"  # noqa: S105


_git = git


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return init(tmp_path / "repo", {
        "base/deployment.yaml": DEPLOYMENT, "base/service.yaml": SERVICE,
        "base/kustomization.yaml": "resources: [deployment.yaml, service.yaml]\n",
        "overlays/dev/kustomization.yaml": OVERLAY})


def _state(repo: Path) -> tuple[str, str, str]:
    return (_git(repo, "status", "--porcelain=v1", "--untracked-files=all"), _git(repo, "for-each-ref"),
            (repo / ".git" / "index").read_bytes().hex())


def _diff(repo: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    tmp = repo.parent / "tmp"
    tmp.mkdir(exist_ok=True)
    env = {**os.environ, "TMPDIR": str(tmp)}
    before = _state(repo)
    out = subprocess.run([sys.executable, "-m", "policycheck", "diff", *args], cwd=cwd or repo,
                         capture_output=True, text=True, timeout=120, env=env, check=False)
    assert "Traceback" not in out.stderr, out.stderr
    assert list(tmp.iterdir()) == [], "the tree at REF was not removed"
    assert _state(repo) == before
    return out


def _json(repo: Path, *args: str) -> dict[str, Any]:
    out = _diff(repo, "--base", "HEAD", "--format", "json", *args)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    jsonschema.Draft202012Validator(diff_json.SCHEMA).validate(doc)
    return doc


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


# ---------------------------------------------------------------------------------------------- end to end


def test_no_change_is_an_empty_diff(repo: Path, kustomize) -> None:  # noqa: ANN001
    out = _diff(repo, "--base", "HEAD", "--exit-code")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[1] == "overlays/dev: no changes (4 objects)"
    doc = _json(repo)
    assert doc["summary"] == {"overlays": 1, "added": 0, "removed": 0, "changed": 0, "failed": 0, "changes": False}


def test_image_and_replicas(repo: Path, kustomize) -> None:  # noqa: ANN001
    _edit(repo / "base" / "deployment.yaml", "example/api:1.0", "example/api:1.1")
    _edit(repo / "base" / "deployment.yaml", "replicas: 1", "replicas: 3")
    doc = _json(repo)
    [overlay] = doc["overlays"]
    assert (overlay["status"], overlay["added"], overlay["removed"], overlay["changed"]) == ("compared", 0, 0, 1)
    [change] = overlay["changes"]
    assert (change["change"], change["group"], change["kind"], change["namespace"], change["name"]) == \
        ("changed", "apps", "Deployment", "shop", "api")
    fields = {f["path"]: (f["change"], f["old"], f["new"], f["hidden"]) for f in change["fields"]}
    assert fields == {"spec.replicas": ("changed", 1, 3, False),
                      "spec.template.spec.containers[name=api].image":
                          ("changed", "example/api:1.0", "example/api:1.1", False)}
    out = _diff(repo, "--base", "HEAD")
    assert out.returncode == 0
    assert '      spec.template.spec.containers[name=api].image: "example/api:1.0" -> "example/api:1.1"' in \
        out.stdout.splitlines()
    assert "      spec.replicas: 1 -> 3" in out.stdout.splitlines()
    assert _diff(repo, "--base", "HEAD", "--exit-code").returncode == 1


def test_added_and_removed_objects(repo: Path, kustomize) -> None:  # noqa: ANN001
    (repo / "base" / "extra.yaml").write_text("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: api}\n")
    (repo / "base" / "kustomization.yaml").write_text("resources: [deployment.yaml, extra.yaml]\n")
    doc = _json(repo)
    [overlay] = doc["overlays"]
    got = {(c["change"], c["kind"], c["name"]) for c in overlay["changes"]}
    assert got == {("added", "ServiceAccount", "api"), ("removed", "Service", "api")}
    assert all(c["fields"] == [] for c in overlay["changes"])
    assert (overlay["added"], overlay["removed"], overlay["changed"]) == (1, 0 + 1, 0)
    lines = _diff(repo, "--base", "HEAD").stdout.splitlines()
    assert "  + ServiceAccount shop/api" in lines and "  - Service shop/api" in lines


def test_a_generated_configmap_change_is_one_line(repo: Path, kustomize) -> None:  # noqa: ANN001
    _edit(repo / "overlays" / "dev" / "kustomization.yaml", "LOG_LEVEL=info", "LOG_LEVEL=debug")
    doc = _json(repo)
    [overlay] = doc["overlays"]
    # The Deployment's envFrom now names the new hash: not a change.
    [change] = overlay["changes"]
    assert (change["change"], change["kind"], overlay["added"], overlay["removed"], overlay["changed"]) == \
        ("content-changed", "ConfigMap", 0, 0, 1)
    assert change["base_name"].startswith("app-config-") and change["name"].startswith("app-config-")
    assert change["base_name"] != change["name"]
    assert [(f["path"], f["old"], f["new"]) for f in change["fields"]] == [("data.LOG_LEVEL", "info", "debug")]
    text = _diff(repo, "--base", "HEAD").stdout.splitlines()
    assert len(text) == 3, text
    assert text[1] == "overlays/dev: 0 added, 0 removed, 1 changed"
    assert text[2] == (f'  ~ ConfigMap shop/{change["base_name"]} -> {change["name"]}: content changed: '
                       'data.LOG_LEVEL "info" -> "debug"')


def _leaks(text: str, *values: str) -> list[str]:
    spellings = [v for value in values for v in (value, base64.b64encode(value.encode()).decode())]
    return [s for s in spellings if s in text]


def test_secret_values_are_never_shown(repo: Path, kustomize) -> None:  # noqa: ANN001
    _edit(repo / "overlays" / "dev" / "kustomization.yaml", OLD_SECRET, NEW_SECRET)
    _edit(repo / "base" / "deployment.yaml", "PlantedEnvValue-0ld", "PlantedEnvValue-N3w")
    for fmt in ("text", "markdown", "json"):
        out = _diff(repo, "--base", "HEAD", "--format", fmt)
        assert out.returncode == 0, out.stderr
        assert _leaks(out.stdout + out.stderr, OLD_SECRET, NEW_SECRET, "PlantedEnvValue-0ld",
                      "PlantedEnvValue-N3w") == []
        assert "hidden" in out.stdout
    [overlay] = _json(repo)["overlays"]
    by_kind = {c["kind"]: c for c in overlay["changes"]}
    assert set(by_kind) == {"Secret", "Deployment"}
    assert by_kind["Secret"]["change"] == "content-changed"
    assert by_kind["Secret"]["fields"] == [{"path": "data.password", "change": "changed", "old": None, "new": None,
                                            "hidden": True, "truncated": False}]
    [env] = by_kind["Deployment"]["fields"]
    assert (env["path"], env["hidden"], env["old"], env["new"]) == \
        ("spec.template.spec.containers[name=api].env[name=DB_PASSWORD].value", True, None, None)


def test_an_added_secret_shows_no_value_either(repo: Path, kustomize) -> None:  # noqa: ANN001
    (repo / "base" / "secret.yaml").write_text(
        f"apiVersion: v1\nkind: Secret\nmetadata: {{name: token}}\nstringData: {{token: {NEW_SECRET}}}\n")
    (repo / "base" / "kustomization.yaml").write_text("resources: [deployment.yaml, service.yaml, secret.yaml]\n")
    for fmt in ("text", "markdown", "json"):
        out = _diff(repo, "--base", "HEAD", "--format", fmt)
        assert "token" in out.stdout and _leaks(out.stdout + out.stderr, NEW_SECRET) == []


def test_added_and_removed_overlays(repo: Path, kustomize) -> None:  # noqa: ANN001
    (repo / "overlays" / "stage").mkdir()
    (repo / "overlays" / "stage" / "kustomization.yaml").write_text("resources: [../../base]\n")
    shutil.rmtree(repo / "overlays" / "dev")
    doc = _json(repo)
    got = {o["path"]: (o["status"], o["objects"]) for o in doc["overlays"]}
    assert got == {"overlays/stage": ("added", {"base": None, "head": 2}),
                   "overlays/dev": ("removed", {"base": 4, "head": None})}
    lines = _diff(repo, "--base", "HEAD").stdout.splitlines()
    assert "overlays/stage: added overlay (2 objects)" in lines
    assert "overlays/dev: removed overlay (4 objects)" in lines
    # A removed overlay named on the command line.
    doc = _json(repo, "overlays/dev")
    assert [(o["path"], o["status"]) for o in doc["overlays"]] == [("overlays/dev", "removed")]


def test_a_failed_render_is_reported_and_the_others_compared(repo: Path, kustomize) -> None:  # noqa: ANN001
    shutil.copytree(repo / "overlays" / "dev", repo / "overlays" / "prod")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "prod")
    (repo / "overlays" / "prod" / "kustomization.yaml").write_text("resources: [../../base, missing.yaml]\n")
    out = _diff(repo, "--base", "HEAD", "--format", "json")
    assert out.returncode == 0 and len(out.stderr.splitlines()) == 1, out.stderr
    assert "1 of 2 overlays could not be compared" in out.stderr
    doc = json.loads(out.stdout)
    jsonschema.Draft202012Validator(diff_json.SCHEMA).validate(doc)
    got = {o["path"]: (o["status"], (o["error"] or {}).get("side")) for o in doc["overlays"]}
    assert got == {"overlays/dev": ("compared", None), "overlays/prod": ("failed", "head")}
    assert _diff(repo, "--base", "HEAD", "--exit-code").returncode == 1  # not known to be equal
    # Every overlay failed: exit 2, one line.
    (repo / "overlays" / "dev" / "kustomization.yaml").write_text("resources: [../../base, missing.yaml]\n")
    out = _diff(repo, "--base", "HEAD")
    assert out.returncode == 2 and len(out.stderr.splitlines()) == 1, out.stderr
    assert "render failed in the working tree" in out.stdout


def test_a_render_that_fails_at_ref_names_no_temporary_path(repo: Path, kustomize) -> None:  # noqa: ANN001
    (repo / "overlays" / "dev" / "kustomization.yaml").write_text("resources: [../../base, missing.yaml]\n")
    _git(repo, "commit", "-q", "-am", "broken")
    (repo / "overlays" / "dev" / "kustomization.yaml").write_text(OVERLAY)
    out = _diff(repo, "--base", "HEAD")
    assert out.returncode == 2 and "render failed at HEAD" in out.stdout
    assert "policycheck-base-" not in out.stdout + out.stderr


@pytest.mark.parametrize("ref", ["no-such-branch", "HEAD~5", "-x", ""])
def test_a_bad_ref_is_one_line_and_exit_2(repo: Path, ref: str) -> None:
    out = _diff(repo, f"--base={ref}")
    assert (out.returncode, out.stdout) == (2, "")
    assert len(out.stderr.splitlines()) == 1 and "not a git revision" in out.stderr


def test_no_repository_and_bad_usage_are_one_line_and_exit_2(tmp_path: Path, repo: Path) -> None:
    plain = tmp_path / "plain"
    (plain / "o").mkdir(parents=True)
    (plain / "o" / "kustomization.yaml").write_text("resources: []\n")
    env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "policycheck", "diff", "--base", "HEAD", "o"], cwd=plain,
                         capture_output=True, text=True, timeout=60, env=env, check=False)
    assert out.returncode == 2 and len(out.stderr.splitlines()) == 1 and "not in a git repository" in out.stderr
    for args in (["overlays"], ["--base", "HEAD", "--max-length", "10"], ["--base", "HEAD", "--format", "xml"],
                 ["--base", "HEAD", "nowhere"], ["--base", "HEAD", "--timeout", "nan"]):
        out = _diff(repo, *args)
        assert out.returncode == 2 and len(out.stderr.splitlines()) == 1, (args, out.stderr)
        assert "Traceback" not in out.stderr


def test_output_file_and_markdown(repo: Path, kustomize, tmp_path: Path) -> None:  # noqa: ANN001
    _edit(repo / "base" / "deployment.yaml", "example/api:1.0", "example/api:`1.1`</details>@someone")
    target = tmp_path / "diff.md"
    out = _diff(repo, "--base", "HEAD", "--format", "markdown", "--output", str(target))
    assert (out.returncode, out.stdout) == (0, "")
    text = target.read_text()
    assert "<summary><code>overlays/dev</code>: 0 added, 0 removed, 1 changed</summary>" in text
    # Only the section's own tags start a line (an HTML block): the value's is inside a code span.
    tags = [line for line in text.splitlines() if line.startswith(("<details", "</details"))]
    assert tags == ["<details>", "</details>"]
    assert "``\"example/api:`1.1`</details>@someone\"``" in text
    assert "``" in text  # the backticks of the value are fenced by a longer run


def test_help_documents_formats_and_exit_codes() -> None:
    out = subprocess.run([sys.executable, "-m", "policycheck", "diff", "--help"], capture_output=True, text=True,
                         timeout=60, check=False)
    assert out.returncode == 0
    for word in ("--base REF", "markdown", "--max-length", "--exit-code", "exit codes", "content changed"):
        assert word in out.stdout


# ---------------------------------------------------------------------------------------------- the comparison


def _obj(doc: dict[str, Any], generated_by: str | None = None) -> K8sObject:
    return K8sObject(doc, "o", None, generated_by)


def _compare(base: list[K8sObject], head: list[K8sObject]) -> OverlayDiff:
    out = OverlayDiff("o", "compared")
    secrets = [SecretValues(), SecretValues()]
    for values, objects in zip(secrets, (base, head), strict=True):
        for obj in objects:
            values.add_object(obj.doc)
    diff.compare(base, head, secrets, out)
    return out


def test_lists_of_named_items_are_matched_by_name() -> None:
    old = {"c": [{"name": "a", "v": 1}, {"name": "b", "v": 2}]}
    new = {"c": [{"name": "b", "v": 3}, {"name": "a", "v": 1}, {"name": "z", "v": 0}]}
    assert list(field_changes(old, new)) == [("c[name=b].v", "changed", 2, 3),
                                             ("c[name=z]", "added", ABSENT, {"name": "z", "v": 0})]
    # Not all named: item by item.
    assert list(field_changes({"args": ["a", "b"]}, {"args": ["a", "c", "d"]})) == [
        ("args[1]", "changed", "b", "c"), ("args[2]", "added", ABSENT, "d")]
    assert list(field_changes({"a": {"x.y/z": 1}}, {"a": {"x.y/z": 2}})) == [('a["x.y/z"]', "changed", 1, 2)]
    assert list(field_changes({"a": 1}, {"a": True})) == [("a", "changed", 1, True)]  # YAML 1 is not true
    assert list(field_changes({"a": float("nan")}, {"a": float("nan")})) == []


def test_a_renamed_generated_object_and_its_references() -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg-aaaaaaaaaa"}, "data": {"k": "1"}}
    dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
           "spec": {"volumes": [{"name": "v", "configMap": {"name": "cfg-aaaaaaaaaa"}}]}}
    cm2 = copy.deepcopy(cm) | {"metadata": {"name": "cfg-bbbbbbbbbb"}, "data": {"k": "2"}}
    dep2 = copy.deepcopy(dep)
    dep2["spec"]["volumes"][0]["configMap"]["name"] = "cfg-bbbbbbbbbb"
    out = _compare([_obj(cm, "ConfigMapGenerator"), _obj(dep)], [_obj(cm2, "ConfigMapGenerator"), _obj(dep2)])
    assert [(c.change, c.kind, c.base_name, c.name) for c in out.changes] == [
        ("content-changed", "ConfigMap", "cfg-aaaaaaaaaa", "cfg-bbbbbbbbbb")]
    assert out.changes[0].fields == [FieldChange("data.k", "changed", '"1"', '"2"')]
    # Not generated: a delete and an add, and the reference is a change.
    out = _compare([_obj(cm), _obj(dep)], [_obj(cm2), _obj(dep2)])
    assert sorted((c.change, c.kind) for c in out.changes) == [
        ("added", "ConfigMap"), ("changed", "Deployment"), ("removed", "ConfigMap")]


def test_a_credential_in_any_value_is_hidden() -> None:
    url = "postgresql://app:Hunter2Planted@db/app"
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"DSN": "x", "plain": "a"}}
    cm2 = copy.deepcopy(cm)
    cm2["data"] = {"DSN": url, "plain": "b"}
    out = _compare([_obj(cm)], [_obj(cm2)])
    fields = {f.path: f for f in out.changes[0].fields}
    assert fields["data.DSN"].hidden and fields["data.DSN"].new is None
    assert fields["data.plain"] == FieldChange("data.plain", "changed", '"a"', '"b"')


def _configmaps(n: int, keys: int, tag: str) -> list[K8sObject]:
    return [_obj({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"c{i:05d}"},
                  "data": {f"k{j}": tag for j in range(keys)}}) for i in range(n)]


def test_a_huge_render_is_bounded() -> None:
    many = _compare(_configmaps(diff.MAX_CHANGES + 100, 1, "a"), _configmaps(diff.MAX_CHANGES + 100, 1, "b"))
    assert many.changed == diff.MAX_CHANGES + 100
    assert (len(many.changes), many.changes_omitted) == (diff.MAX_CHANGES, 100)
    [wide] = _compare(_configmaps(1, diff.MAX_FIELDS + 50, "a"), _configmaps(1, diff.MAX_FIELDS + 50, "b")).changes
    assert (len(wide.fields), wide.fields_omitted) == (diff.MAX_FIELDS, 50)
    long = _compare(_configmaps(1, 1, "a" * 100_000), _configmaps(1, 1, "b" * 100_000)).changes[0].fields[0]
    assert long.truncated and len(long.old or "") == len(long.new or "") == diff.VALUE_LIMIT
    more = _compare(_configmaps(diff.MAX_CHANGES + 900, 1, "a"), _configmaps(diff.MAX_CHANGES + 900, 1, "b"))
    for fmt in ("text", "json", "markdown"):  # past the cap, a bigger render is not a longer report
        assert abs(len(diff.render(DiffReport("HEAD", "0" * 40, [more]), fmt))
                   - len(diff.render(DiffReport("HEAD", "0" * 40, [many]), fmt))) < 20
    report = DiffReport("HEAD", "0" * 40, [many, many])
    text = diff_markdown.render(report, max_length=diff.DEFAULT_MAX_LENGTH)
    assert len(text) <= diff.DEFAULT_MAX_LENGTH and "Cut at 60,000 characters" in text


def test_the_work_is_linear_in_the_render() -> None:
    def timed(n: int) -> float:
        base, head = _configmaps(n, 40, "a"), _configmaps(n, 40, "b")
        started = time.monotonic()
        _compare(base, head)
        return time.monotonic() - started

    small, big = min(timed(100) for _ in range(3)), min(timed(800) for _ in range(3))
    assert big < 24 * max(small, 0.01)  # 8 times the input: not 64 times the work


# ---------------------------------------------------------------------------------------------- properties

_KEYS = st.sampled_from(["a", "b", "name", "spec", "x.y/z", "k-1", "0", "", "é\n"])
_SCALARS = st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False, width=16) | \
    st.sampled_from(["", "a", "b", "`", "]"])


def _named_list(children: st.SearchStrategy[Any]) -> st.SearchStrategy[list[Any]]:
    item = st.fixed_dictionaries({"name": st.sampled_from(["api", "b", "x y", "]"])},
                                 optional={"v": children, "w": children})
    return st.lists(item, max_size=4, unique_by=lambda d: d["name"])


_VALUES = st.recursive(_SCALARS, lambda children: st.lists(children, max_size=4)
                       | st.dictionaries(_KEYS, children, max_size=4) | _named_list(children), max_leaves=12)
_DOCS = st.dictionaries(_KEYS, _VALUES, max_size=5)


def _segments(path: str) -> list[tuple[str, Any]]:
    """A field path read back: ("key", k), ("index", i) or ("name", n)."""
    out: list[tuple[str, Any]] = []
    decoder = json.JSONDecoder()
    i = 0
    while i < len(path):
        if path[i] == "[":
            if path.startswith("[name=", i):
                j = i + 6
                if path[j] == '"':
                    name, j = decoder.raw_decode(path, j)
                else:
                    end = path.index("]", j)
                    name, j = path[j:end], end
                out.append(("name", name))
            elif path[i + 1] == '"':
                key, j = decoder.raw_decode(path, i + 1)
                out.append(("key", key))
            else:
                end = path.index("]", i)
                out.append(("index", int(path[i + 1:end])))
                j = end
            assert path[j] == "]"
            i = j + 1
        else:
            i += path[i] == "."
            j = i
            while j < len(path) and path[j] not in ".[":
                j += 1
            out.append(("key", path[i:j]))
            i = j
    return out


def _parent_and_slot(doc: Any, segments: list[tuple[str, Any]]) -> tuple[Any, tuple[str, Any]]:
    node = doc
    for kind, arg in segments[:-1]:
        if kind == "name":
            node = next(item for item in node if item["name"] == arg)
        else:
            node = node[arg]
    return node, segments[-1]


def _apply(doc: Any, changes: list[tuple[str, str, Any, Any]]) -> Any:
    """``doc`` with every reported change made (removals of list items last, from the end)."""
    out = copy.deepcopy(doc)
    drops = []
    for path, change, old, new in changes:
        parent, (kind, arg) = _parent_and_slot(out, _segments(path))
        if kind == "name":
            at = next((i for i, item in enumerate(parent) if item["name"] == arg), None)
            if change == "removed":
                assert parent[at] == old
                drops.append((parent, at))
            elif at is None:
                parent.append(copy.deepcopy(new))
            else:
                parent[at] = copy.deepcopy(new)
        elif change == "removed":
            assert _canon(parent[arg]) == _canon(old)
            drops.append((parent, arg))
        elif kind == "index" and arg == len(parent):
            parent.append(copy.deepcopy(new))
        else:
            if change == "changed":
                assert _canon(parent[arg]) == _canon(old)
            parent[arg] = copy.deepcopy(new)
    for parent, slot in sorted(drops, key=lambda d: d[1] if isinstance(d[1], int) else -1, reverse=True):
        del parent[slot]
    return out


def _canon(value: Any) -> str:
    """Equality as the diff sees it: types kept (1 is not true), named lists in any order."""
    def walk(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, list):
            items = [walk(x) for x in v]
            if diff._named(v) is not None:
                items.sort(key=lambda x: x["name"])
            return items
        return [type(v).__name__, v]

    return json.dumps(walk(value), sort_keys=True)


@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(_DOCS)
def test_a_document_against_itself_is_no_change(doc: dict[str, Any]) -> None:
    assert list(field_changes(doc, copy.deepcopy(doc))) == []


@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(_DOCS, _DOCS)
def test_exactly_the_paths_that_differ(old: dict[str, Any], new: dict[str, Any]) -> None:
    changes = list(field_changes(old, new))
    paths = [c[0] for c in changes]
    assert len(paths) == len(set(paths))
    for _, change, a, b in changes:  # each one a real difference
        assert (change == "added") == (a is ABSENT) and (change == "removed") == (b is ABSENT)
        assert change != "changed" or _canon(a) != _canon(b)
    # ... and together all of them: making them on the old document gives the new one.
    assert _canon(_apply(old, changes)) == _canon(new)


_FIELDS = st.builds(FieldChange, st.text(max_size=30), st.sampled_from(["added", "removed", "changed"]),
                    st.none() | st.text(max_size=50).map(json.dumps), st.none() | st.integers().map(json.dumps),
                    st.booleans(), st.just(False))
_CHANGES = st.builds(ObjectChange, st.sampled_from(["added", "removed", "changed", "content-changed"]),
                     st.text(max_size=10), st.text(min_size=1, max_size=20), st.none() | st.text(max_size=10),
                     st.text(min_size=1, max_size=40), st.none() | st.text(max_size=40),
                     st.lists(_FIELDS, max_size=6), st.integers(0, 5))
_OVERLAYS = st.builds(OverlayDiff, st.text(min_size=1, max_size=40),
                      st.sampled_from(["compared", "added", "removed", "failed"]), st.none() | st.integers(0, 99),
                      st.none() | st.integers(0, 99), st.integers(0, 9), st.integers(0, 9), st.integers(0, 9),
                      st.lists(_CHANGES, max_size=8), st.integers(0, 3), st.none() | st.text(max_size=80),
                      st.none() | st.sampled_from(["base", "head", "both"]), st.lists(st.text(max_size=30), max_size=2))
_REPORTS = st.builds(DiffReport, st.text(min_size=1, max_size=120), st.text(min_size=40, max_size=40),
                     st.lists(_OVERLAYS, max_size=12))


def _consistent(report: DiffReport) -> None:
    """The model's invariants on a generated report: a failed overlay has an error (and only it), a
    hidden field no value, an added field no old value, a removed one no new value."""
    for o in report.overlays:
        if o.status == "failed":
            o.error, o.error_side = o.error or "boom", o.error_side or "head"
        else:
            o.error = o.error_side = None
        for c in o.changes:
            c.fields = [FieldChange(f.path, f.change, None if f.hidden or f.change == "added" else f.old or "null",
                                    None if f.hidden or f.change == "removed" else f.new or "null", f.hidden)
                        for f in c.fields]


@settings(max_examples=min(EXAMPLES, 100), derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(_REPORTS, st.integers(diff.MIN_MAX_LENGTH, 6000))
def test_markdown_is_capped_and_its_sections_stay_closed(report: DiffReport, cap: int) -> None:
    _consistent(report)
    text = diff_markdown.render(report, max_length=cap)
    assert len(text) <= cap
    tags = [line for line in text.splitlines() if line.startswith(("<details", "</details"))]
    assert tags == ["<details>", "</details>"] * (len(tags) // 2)
    full = diff_markdown.render(report, max_length=diff.MAX_MAX_LENGTH)
    assert ("Cut at" in text) == (text != full)


@settings(max_examples=min(EXAMPLES, 100), derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(_REPORTS)
def test_json_round_trip_and_schema(report: DiffReport) -> None:
    _consistent(report)
    doc = json.loads(diff_json.render(report))
    jsonschema.Draft202012Validator(diff_json.SCHEMA).validate(doc)
    assert diff_json.document(diff_json.load(doc)) == doc
