"""New findings only (``--base REF``), end to end on two-commit git repositories built here.

A pull request that adds one root container gets exactly one new finding, in every format;
what REF had is baseline whatever file, order or generator hash it has now; only new findings
fail; overlays added, removed or broken at REF are handled.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import junitparser
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policycheck import baseline
from policycheck.model import Finding, K8sObject, Severity, Source
from policycheck.report import sarif as sarif_report
from tests.gitrepo import commit, git, init, write
from tests.test_report_formats import assert_valid_sarif, github_commands

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      serviceAccountName: web
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        seccompProfile: {type: RuntimeDefault}
      containers:
        - name: web
          image: example/web:latest
          imagePullPolicy: Always
          securityContext:
            allowPrivilegeEscalation: false
            capabilities: {drop: [ALL]}
            readOnlyRootFilesystem: true
          resources:
            requests: {cpu: 100m, memory: 64Mi, ephemeral-storage: 64Mi}
            limits: {cpu: 200m, memory: 128Mi, ephemeral-storage: 128Mi}
          livenessProbe:
            tcpSocket: {port: 8080}
          ports:
            - containerPort: 8080
"""
# A second container that is right in every way but one: it runs as root (line 37 of the file).
ROOT_CONTAINER = """\
        - name: debug
          image: example/debug:1.0
          imagePullPolicy: Always
          securityContext:
            runAsUser: 0
            allowPrivilegeEscalation: false
            capabilities: {drop: [ALL]}
            readOnlyRootFilesystem: true
          resources:
            requests: {cpu: 10m, memory: 16Mi, ephemeral-storage: 16Mi}
            limits: {cpu: 20m, memory: 32Mi, ephemeral-storage: 32Mi}
          livenessProbe:
            tcpSocket: {port: 9090}
          readinessProbe:
            httpGet: {path: /ready, port: 9090}
          ports:
            - containerPort: 9090
"""
# The line of ``runAsUser: 0`` in DEPLOYMENT + ROOT_CONTAINER, counted from the text (37).
ROOT_LINE = DEPLOYMENT.count("\n") + ROOT_CONTAINER.splitlines().index("            runAsUser: 0") + 1
SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
    - port: 80
      targetPort: 8080
"""
SERVICE_ACCOUNT = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: web\nautomountServiceAccountToken: false\n"
BASE = """\
resources: [deployment.yaml, service.yaml, serviceaccount.yaml]
configMapGenerator:
  - name: settings
    literals:
      - api_token=ghp_abcdefghijklmnopqrstuvwxyz0123456789
      - LOG_LEVEL=info
namespace: demo
"""
OVERLAY = "resources: [../../base]\n"
# What the check at REF finds: (rule, kind, container), each also in the working tree unless changed.
OLD = {("readiness-probe", "Deployment", "web"), ("image-tag-pinned", "Deployment", "web"),
       ("secret-in-configmap", "ConfigMap", None)}
TOKEN_VALUE = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"  # noqa: S105 - a fake, to prove it is never shown


_git = git


_write, _commit = write, commit


def make_repo(root: Path, overlays: tuple[str, ...] = ("dev",)) -> Path:
    """The first commit: a base with three findings and the overlays that use it."""
    return init(root, {"base/deployment.yaml": DEPLOYMENT, "base/service.yaml": SERVICE,
                       "base/serviceaccount.yaml": SERVICE_ACCOUNT, "base/kustomization.yaml": BASE,
                       **{f"overlays/{name}/kustomization.yaml": OVERLAY for name in overlays}})


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


def add_root_container(repo: Path) -> None:
    """The pull request: one root container, and a changed generator literal (a new hash suffix)."""
    (repo / "base" / "deployment.yaml").write_text(DEPLOYMENT + ROOT_CONTAINER)
    (repo / "base" / "kustomization.yaml").write_text(BASE.replace("LOG_LEVEL=info", "LOG_LEVEL=debug"))


def run(repo: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    tmp = repo.parent / "tmp"
    tmp.mkdir(exist_ok=True)
    env = {**os.environ, "TMPDIR": str(tmp), **(env or {})}
    env.pop("CI", None)
    if "POLICYCHECK_CACHE" not in env or "--no-cache" in args:
        args = (*args, "--no-cache") if "--no-cache" not in args else args
    out = subprocess.run([sys.executable, "-m", "policycheck", *args], cwd=repo, capture_output=True, text=True,
                         timeout=180, env=env, check=False)
    assert "Traceback" not in out.stderr, out.stderr
    assert list(tmp.iterdir()) == [], "a temporary directory was left behind"
    return out


def check_json(repo: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any], str]:
    out = run(repo, *args, "--format", "json", env=env)
    return out.returncode, json.loads(out.stdout) if out.stdout.strip() else {}, out.stderr


def states(report: dict[str, Any]) -> set[tuple[str, str, str | None, bool]]:
    return {(f["rule"], f["kind"], f["container"], f["baseline"]) for f in report["findings"]}


# ---------------------------------------------------------------------------------------------- the case


def test_a_pr_that_adds_one_root_container_has_one_new_finding_in_every_format(repo: Path, kustomize) -> None:  # noqa: ANN001
    add_root_container(repo)
    _commit(repo, "debug container")
    files = {name: repo.parent / f"report.{name}" for name in ("json", "sarif", "junit", "github")}
    out = run(repo, "--base", "HEAD~1", "overlays", "--format", "text",
              *(a for name, path in files.items() for a in ("--format", f"{name}={path}")))
    assert out.returncode == 1, out.stderr
    assert out.stderr == ""

    report = json.loads(files["json"].read_text())
    new = [f for f in report["findings"] if not f["baseline"]]
    assert [(f["rule"], f["kind"], f["name"], f["container"]) for f in new] == [
        ("run-as-non-root", "Deployment", "web", "debug")]
    assert (new[0]["source"]["file"], new[0]["source"]["line"]) == ("base/deployment.yaml", ROOT_LINE)
    assert states(report) == {(*o, True) for o in OLD} | {("run-as-non-root", "Deployment", "debug", False)}
    # The generated ConfigMap got a new hash suffix: still the same object.
    [settings_map] = [f for f in report["findings"] if f["kind"] == "ConfigMap"]
    assert settings_map["name"] != "settings" and settings_map["baseline"] is True
    assert report["summary"] == {"error": 1, "warning": 0, "exempted": 0, "overlay_errors": 0, "baseline": 3,
                                 "absent": 0}
    assert report["base"] == {"ref": "HEAD~1", "commit": _git(repo, "rev-parse", "HEAD~1").strip()}
    assert report["absent"] == []
    assert all(re.fullmatch("[0-9a-f]{32}", f["baseline_fingerprint"]) for f in report["findings"])

    sarif = json.loads(files["sarif"].read_text())
    assert_valid_sarif(sarif)
    results = sarif["runs"][0]["results"]
    assert sorted((r["ruleId"], r["baselineState"]) for r in results) == sorted(
        [("run-as-non-root", "new"), ("readiness-probe", "unchanged"), ("image-tag-pinned", "unchanged"),
         ("secret-in-configmap", "unchanged")])
    by_print = {f["baseline_fingerprint"]: f["rule"] for f in report["findings"]}
    assert {by_print[r["partialFingerprints"][sarif_report.BASELINE_KEY]] for r in results} == {r["ruleId"] for r in results}
    assert sarif["runs"][0]["properties"]["base"]["absent"] == []

    text = out.stdout.splitlines()
    assert text[-1] == "1 new error(s), 0 new warning(s), 0 exempted, 3 baseline (at HEAD~1, not failing), " \
                       "0 fixed since HEAD~1"
    apart = text.index("baseline: already at HEAD~1, not failing")
    [root] = [i for i, line in enumerate(text) if "run-as-non-root" in line]
    assert root < apart and f"{ROOT_LINE}  error    run-as-non-root" in text[root]
    for rule, _, _ in OLD:
        assert any(rule in line for line in text[apart:]), rule
        assert not any(rule in line for line in text[:apart]), rule

    junit = junitparser.JUnitXml.fromfile(str(files["junit"]))
    [suite] = list(junit)
    assert (suite.failures, suite.skipped) == (1, 3)
    cases = {c.name: c for c in suite}
    [failure] = cases["run-as-non-root Deployment/web"].result
    assert isinstance(failure, junitparser.Failure)
    skipped = {name for name, c in cases.items() if c.result and isinstance(c.result[0], junitparser.Skipped)}
    assert skipped == {"readiness-probe Deployment/web", "image-tag-pinned Deployment/web",
                       f"secret-in-configmap ConfigMap/{settings_map['name']}"}
    assert all(cases[name].result[0].message == "baseline: already at HEAD~1" for name in skipped)

    commands, summary = github_commands(files["github"].read_text())
    assert [c["cmd"] for c in commands if c.get("title", "").startswith("policycheck ")] == ["error"] + ["notice"] * 3
    assert commands[0]["title"] == "policycheck run-as-non-root" and commands[0]["line"] == str(ROOT_LINE)
    assert all(c["title"].endswith("(baseline)") for c in commands[1:4])
    assert summary == "policycheck: 1 new error(s), 0 new warning(s), 0 exempted, 3 baseline (at HEAD~1), 0 fixed " \
                      "in 1 overlay(s)"
    everything = out.stdout + "".join(p.read_text() for p in files.values())
    assert TOKEN_VALUE not in everything


def test_an_unchanged_tree_has_only_baseline_findings_and_passes(repo: Path, kustomize) -> None:  # noqa: ANN001
    code, report, err = check_json(repo, "--base", "HEAD", "overlays")
    assert code == 0, err
    assert states(report) == {(*o, True) for o in OLD}
    assert report["summary"]["error"] == 0 and report["summary"]["baseline"] == 3
    # Without --base the same findings fail, and the report has no baseline keys (its contract is unchanged).
    code, plain, _ = check_json(repo, "overlays")
    assert code == 1 and "base" not in plain and not any("baseline" in f for f in plain["findings"])
    assert "baseline" not in plain["summary"]


# ---------------------------------------------------------------------------------------------- what stays baseline


def test_moving_and_reordering_keeps_findings_baseline(repo: Path, kustomize) -> None:  # noqa: ANN001
    # The Deployment moves to another file (after the Service, in one multi-document file), the base
    # lists its files the other way round, the generator moves into a component of the overlay.
    (repo / "base" / "deployment.yaml").unlink()
    (repo / "base" / "service.yaml").unlink()
    _write(repo, {
        "base/all/objects.yaml": SERVICE + "---\n" + "# moved here\n" + DEPLOYMENT,
        "base/kustomization.yaml": "resources: [all/objects.yaml, serviceaccount.yaml]\nnamespace: demo\n",
        "overlays/dev/kustomization.yaml": OVERLAY + "namespace: demo\nconfigMapGenerator:\n  - name: settings\n    literals:\n"
        "      - LOG_LEVEL=info\n      - api_token=ghp_abcdefghijklmnopqrstuvwxyz0123456789\n",
    })
    code, report, err = check_json(repo, "--base", "HEAD", "overlays")
    assert code == 0, err
    assert states(report) == {(*o, True) for o in OLD}
    files = {f["rule"]: f["source"]["file"] for f in report["findings"]}
    assert files["image-tag-pinned"] == "base/all/objects.yaml"  # the new place, not the old one
    assert report["absent"] == []


def test_reordering_containers_keeps_findings_baseline(repo: Path, kustomize) -> None:  # noqa: ANN001
    add_root_container(repo)
    _commit(repo, "debug container")
    # The two containers swap places: every field path's index changes, nothing is new.
    head, web_part = DEPLOYMENT.split("        - name: web\n")
    (repo / "base" / "deployment.yaml").write_text(head + ROOT_CONTAINER + "        - name: web\n" + web_part)
    code, report, err = check_json(repo, "--base", "HEAD", "overlays")
    assert code == 0, err
    assert all(f["baseline"] for f in report["findings"]) and len(report["findings"]) == 4
    assert any(f["field"].startswith("spec.template.spec.containers[1].") for f in report["findings"]
               if f["container"] == "web")


def test_the_working_trees_config_applies_at_ref_too(repo: Path, kustomize) -> None:  # noqa: ANN001
    # Turning a rule on (or a profile stricter) does not make what REF already had new.
    (repo / "policycheck.yaml").write_text("profiles:\n  dev:\n    rules:\n      image-digest: {level: error}\n")
    code, report, err = check_json(repo, "--base", "HEAD", "overlays")
    assert code == 0, err
    assert ("image-digest", "Deployment", "web", True) in states(report)


# ---------------------------------------------------------------------------------------------- what is new


def test_a_renamed_object_is_new_and_the_old_findings_are_absent(repo: Path, kustomize) -> None:  # noqa: ANN001
    (repo / "base" / "deployment.yaml").write_text(DEPLOYMENT.replace("  name: web\nspec:", "  name: site\nspec:"))
    code, report, err = check_json(repo, "--base", "HEAD", "overlays")
    assert code == 1, err
    renamed = {(f["rule"], f["name"], f["baseline"]) for f in report["findings"] if f["kind"] == "Deployment"}
    assert renamed == {("readiness-probe", "site", False), ("image-tag-pinned", "site", False)}
    gone = {(f["rule"], f["name"]) for f in report["absent"]}
    assert gone == {("readiness-probe", "web"), ("image-tag-pinned", "web")}
    # Absent findings point at the file as it is named in the repository, not the temporary tree.
    assert {f["source"]["file"] for f in report["absent"]} == {"base/deployment.yaml"}
    assert {f["overlay"] for f in report["absent"]} == {"overlays/dev"}
    assert report["summary"]["absent"] == 2
    text = run(repo, "--base", "HEAD", "overlays").stdout
    assert "fixed since HEAD" in text and "policycheck-base-" not in text


def test_a_fixed_finding_is_absent_and_a_second_of_a_kind_is_the_new_one(repo: Path, kustomize) -> None:  # noqa: ANN001
    # The pull request pins the image (a fix) and adds a second unpinned container at the end.
    fixed = DEPLOYMENT.replace("example/web:latest", "example/web:1.2")
    second = ROOT_CONTAINER.replace("debug", "side").replace("example/side:1.0", "example/side:latest").replace(
        "            runAsUser: 0\n", "")
    (repo / "base" / "deployment.yaml").write_text(fixed + second)
    code, report, err = check_json(repo, "--base", "HEAD", "overlays")
    assert code == 1, err
    assert [(f["rule"], f["container"]) for f in report["absent"]] == [("image-tag-pinned", "web")]
    assert [(f["rule"], f["container"]) for f in report["findings"] if not f["baseline"]] == [
        ("image-tag-pinned", "side")]


def test_only_new_findings_fail_whatever_fail_on(repo: Path, kustomize) -> None:  # noqa: ANN001
    (repo / "policycheck.yaml").write_text("rules:\n  image-tag-pinned: {level: warning}\n"
                                           "  readiness-probe: {level: warning}\n"
                                           "  secret-in-configmap: {level: warning}\n")
    _commit(repo, "warnings")
    code, report, _ = check_json(repo, "--base", "HEAD", "overlays", "--fail-on", "warning")
    assert code == 0 and report["summary"]["warning"] == 0 and report["summary"]["baseline"] == 3
    code, _, _ = check_json(repo, "overlays", "--fail-on", "warning")
    assert code == 1  # (without --base they fail)
    (repo / "base" / "deployment.yaml").write_text(DEPLOYMENT.replace("example/web:latest", "example/web"))
    code, report, _ = check_json(repo, "--base", "HEAD", "overlays", "--fail-on", "warning")
    assert code == 0  # the same defect (an untagged image), another message: still baseline
    add_root_container(repo)
    code, report, _ = check_json(repo, "--base", "HEAD", "overlays", "--fail-on", "warning")
    assert code == 1 and report["summary"]["error"] == 1


# ---------------------------------------------------------------------------------------------- overlays on one side


def test_an_added_overlay_has_only_new_findings_and_a_removed_one_is_a_note(tmp_path: Path, kustomize) -> None:  # noqa: ANN001
    repo = make_repo(tmp_path / "repo", overlays=("dev", "qa"))
    shutil.rmtree(repo / "overlays" / "qa")
    _write(repo, {"overlays/staging/kustomization.yaml": OVERLAY})
    code, report, err = check_json(repo, "--base", "HEAD", "overlays")
    assert code == 1, err
    by_overlay: dict[str, set[bool]] = {}
    for f in report["findings"]:
        by_overlay.setdefault(f["overlay"], set()).add(f["baseline"])
    assert by_overlay == {"overlays/dev": {True}, "overlays/staging": {False}}
    staging = [f for f in report["findings"] if f["overlay"] == "overlays/staging" and f["severity"] == "error"]
    assert report["summary"]["error"] == len(staging) >= 3 and report["summary"]["baseline"] == 3
    notes = {o["path"]: o["notes"] for o in report["overlays"]}
    assert notes["overlays/staging"] == ["overlays/staging does not exist at HEAD: all its findings are new, "
                                         "immutable-field has nothing to compare with"]
    removed = [n for n in report["notes"] if "removed" in n]
    assert removed == ["overlays/qa existed at HEAD and is removed: its findings there are gone"]
    # Named explicitly, the overlay that is still there is checked; nothing is searched, nothing is listed.
    code, report, _ = check_json(repo, "--base", "HEAD", "overlays/dev")
    assert code == 0 and not any("removed" in n for n in report.get("notes", []))


def test_an_overlay_whose_render_fails_at_ref_has_only_new_findings(repo: Path, kustomize) -> None:  # noqa: ANN001
    (repo / "overlays" / "dev" / "kustomization.yaml").write_text("resources: [../../base, missing.yaml]\n")
    _commit(repo, "broken")
    (repo / "overlays" / "dev" / "kustomization.yaml").write_text(OVERLAY)
    code, report, err = check_json(repo, "--base", "HEAD", "overlays")
    assert code == 1, err
    assert not any(f["baseline"] for f in report["findings"])
    [note] = report["overlays"][0]["notes"]
    assert note.startswith("overlays/dev: its render at HEAD failed (") and note.endswith("all its findings count "
                                                                                          "as new")
    assert "policycheck-base-" not in note


# ---------------------------------------------------------------------------------------------- cache, shards, start


def test_the_cache_keeps_baseline_state_and_keys_on_the_base_commit(repo: Path, kustomize) -> None:  # noqa: ANN001
    env = {"POLICYCHECK_CACHE": str(repo.parent / "cache")}
    pinned = DEPLOYMENT.replace("example/web:latest", "example/web:1.2")
    (repo / "base" / "deployment.yaml").write_text(pinned)
    _commit(repo, "pinned")
    (repo / "base" / "deployment.yaml").write_text(pinned + ROOT_CONTAINER)
    cold = check_json(repo, "--base", "HEAD~1", "overlays", "-v", env=env)
    warm = check_json(repo, "--base", "HEAD~1", "overlays", "-v", env=env)
    assert "1 of 1 overlay(s) from the cache" in warm[2]
    assert cold[:2] == warm[:2] and cold[0] == 1
    assert [f["rule"] for f in warm[1]["absent"]] == ["image-tag-pinned"]
    other = check_json(repo, "--base", "HEAD", "overlays", "-v", env=env)
    assert "0 of 1 overlay(s) from the cache" in other[2]
    assert other[1]["absent"] == [] and other[1]["summary"]["baseline"] == 2


def test_merge_keeps_baseline_state_and_refuses_another_base(repo: Path, kustomize) -> None:  # noqa: ANN001
    add_root_container(repo)
    a, b = repo.parent / "a.json", repo.parent / "b.json"
    assert run(repo, "--base", "HEAD", "overlays", "--format", f"json={a}").returncode == 1
    merged = run(repo, "merge", str(a), "--format", "json")
    assert merged.returncode == 1
    original, again = json.loads(a.read_text()), json.loads(merged.stdout)
    assert again["findings"] == original["findings"] and again["summary"] == original["summary"]
    assert again["base"] == original["base"]
    assert run(repo, "--format", f"json={b}", "overlays").returncode == 1
    refused = run(repo, "merge", str(a), str(b))
    assert refused.returncode == 2 and "--base differs" in refused.stderr


def test_a_run_without_base_does_not_load_the_baseline_module(repo: Path, kustomize) -> None:  # noqa: ANN001
    code = ("import sys, runpy; from policycheck import cli; cli.main(['overlays', '--no-cache', '-o', 'out.txt']); "
            "print('policycheck.baseline' in sys.modules, 'policycheck.baseref' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, timeout=120,
                         check=False, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    assert out.stdout.split() == ["False", "False"], out.stderr


# ---------------------------------------------------------------------------------------------- random moves


DOCS = {"deployment": DEPLOYMENT, "service": SERVICE,
        "config": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  password: hunter2hunter2x\n"}


def _layout(files: dict[str, list[str]], order: list[str]) -> dict[str, str]:
    out = {f"base/{name}.yaml": "---\n".join(DOCS[d] for d in docs) for name, docs in files.items() if docs}
    out["base/kustomization.yaml"] = "resources: [" + ", ".join(f"{n}.yaml" for n in order if files[n]) + "]\n"
    return out


@st.composite
def layouts(draw: st.DrawFn) -> tuple[dict[str, list[str]], list[str]]:
    """The three documents spread over one to three files, in any order within and across them."""
    names = draw(st.lists(st.sampled_from(["a", "b", "c", "one", "two"]), min_size=1, max_size=3, unique=True))
    docs = draw(st.permutations(list(DOCS)))
    cuts = sorted(draw(st.lists(st.integers(0, len(docs)), min_size=len(names) - 1, max_size=len(names) - 1)))
    bounds = [0, *cuts, len(docs)]
    files = {name: list(docs[bounds[i]:bounds[i + 1]]) for i, name in enumerate(names)}
    order = draw(st.permutations(names))
    return files, list(order)


@settings(max_examples=int(os.environ.get("POLICYCHECK_BASELINE_EXAMPLES", "6")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(layouts())
def test_no_reordering_or_move_of_documents_creates_a_new_finding(kustomize, layout) -> None:  # noqa: ANN001
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        repo.mkdir()
        _write(repo, _layout({"first": list(DOCS)}, ["first"]))
        _write(repo, {"overlays/dev/kustomization.yaml": OVERLAY})
        _git(repo, "init", "-q")
        _git(repo, "config", "user.email", "t@example.com")
        _git(repo, "config", "user.name", "t")
        _commit(repo, "first")
        (repo / "base" / "first.yaml").unlink()
        _write(repo, _layout(*layout))
        code, report, err = check_json(repo, "--base", "HEAD", "overlays")
        assert code == 0, err
        assert report["findings"] and all(f["baseline"] for f in report["findings"])
        assert report["absent"] == []


# ---------------------------------------------------------------------------------------------- the matching itself


def _finding(rule: str, name: str, field: str | None = None, container: str | None = None, *, kind: str = "Deployment",
             namespace: str | None = None, file: str = "a.yaml", line: int = 1) -> Finding:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    obj = K8sObject({"kind": kind, "metadata": meta}, "overlays/x", file)
    return Finding(rule, Severity.ERROR, obj, f"{rule} on {name}", field, container, source=Source(file, line))


def test_the_fingerprint_is_the_identity_not_the_place() -> None:
    one = _finding("r", "web", "spec.containers[0].image", "web", file="a.yaml", line=3)
    assert baseline.fingerprint(one) == baseline.fingerprint(
        _finding("r", "web", "spec.containers[4].image", "web", file="b/c.yaml", line=90))
    for other in (_finding("s", "web", "spec.containers[0].image", "web"),
                  _finding("r", "site", "spec.containers[0].image", "web"),
                  _finding("r", "web", "spec.containers[0].image", "web", namespace="ns"),
                  _finding("r", "web", "spec.containers[0].command", "web"),
                  _finding("r", "web", "spec.containers[0].image", "side"),
                  _finding("r", "web", "spec.containers[0].image", "web", kind="StatefulSet")):
        assert baseline.fingerprint(other) != baseline.fingerprint(one)
    # A generator's hash suffix is not part of a ConfigMap's or Secret's name; of a Deployment's it is.
    assert baseline.fingerprint(_finding("r", "settings-fkbtb89d42", kind="ConfigMap")) == baseline.fingerprint(
        _finding("r", "settings-kfk9dkhck9", kind="ConfigMap"))
    assert baseline.fingerprint(_finding("r", "web-fkbtb89d42")) != baseline.fingerprint(_finding("r", "web-kfk9dkhck9"))
    assert baseline.fingerprint(_finding("r", "settings-app", kind="Secret")) != baseline.fingerprint(
        _finding("r", "settings-web", kind="Secret"))


FINDINGS = st.lists(st.builds(_finding, rule=st.sampled_from(["r1", "r2"]), name=st.sampled_from(["a", "b"]),
                              field=st.sampled_from([None, "spec.x[0].y", "spec.x[1].y", "spec.z"]),
                              container=st.sampled_from([None, "c"]), file=st.sampled_from(["a.yaml", "b.yaml"]),
                              line=st.integers(1, 50)), max_size=12)


@given(FINDINGS, st.randoms(use_true_random=False), st.integers(0, 11))
def test_matching_is_one_to_one_and_blind_to_order_files_and_lines(before, rnd: random.Random, drop: int) -> None:
    moved = [_finding(f.rule, f.obj.name, f.field, f.container, file=rnd.choice(["c.yaml", f.obj.origin]),
                      line=rnd.randint(1, 99)) for f in before]
    rnd.shuffle(moved)
    assert baseline.mark(moved, before) == [] and all(f.baseline for f in moved)
    if moved:  # one fixed: exactly it is absent; one added again: exactly one is new
        gone = moved.pop(drop % len(moved))
        absent = baseline.mark(moved, before)
        assert len(absent) == 1 and baseline.fingerprint(absent[0]) == baseline.fingerprint(gone)
        assert all(f.baseline for f in moved)
        twice = [*moved, gone, _finding(gone.rule, gone.obj.name, gone.field, gone.container)]
        assert baseline.mark(twice, before) == []
        assert sum(not f.baseline for f in twice) == 1
