"""`policycheck fix`: the patches it writes, applied through the overlay's own kustomization and
rendered by the real kustomize (through policycheck), remove the findings they claim to fix and
bring no new one."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonpatch
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policycheck import check, config, fix
from policycheck.model import K8sObject
from policycheck.render import Rendered, find_kustomize
from tests.conftest import ROOT

SIX = {"privilege-escalation", "capabilities", "seccomp-profile", "service-account-token", "run-as-non-root",
       "read-only-root-fs"}

BASE = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      securityContext: {runAsUser: 1000}
      initContainers:
        - name: init
          image: busybox:1.36
      containers:
        - name: web
          image: nginx:1.27
        - name: side
          image: busybox:1.36
          securityContext: {runAsUser: 0}
          volumeMounts: [{name: tmp, mountPath: /tmp}]
      volumes: [{name: tmp, emptyDir: {}}, {name: tmp-web, emptyDir: {}}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db.main}
spec:
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
        - name: db
          image: postgres:17
          securityContext:
            runAsUser: 999
            capabilities: {drop: [NET_RAW]}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: job}
spec:
  schedule: "0 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          initContainers:
            - name: setup
              image: busybox:1.36
              securityContext: {runAsUser: 1000}
          containers:
            - name: job
              image: busybox:1.36
              securityContext: {runAsUser: 1000, seccompProfile: {type: Unconfined}}
"""


def run(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "policycheck", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env, stdin=subprocess.DEVNULL)


def make_overlay(root: Path) -> Path:
    """base/ with a Deployment, StatefulSet and CronJob violating the six rules; overlays/demo with a
    namespace and a name prefix (patches apply before both)."""
    (root / "base").mkdir(parents=True)
    (root / "base" / "workloads.yaml").write_text(BASE)
    (root / "base" / "kustomization.yaml").write_text("resources: [workloads.yaml]\n")
    overlay = root / "overlays" / "demo"
    overlay.mkdir(parents=True)
    (overlay / "kustomization.yaml").write_text("namespace: demo\nnamePrefix: x-\nresources: [../../base]\n")
    return overlay


def findings(overlay: str, cwd: Path) -> set[tuple[str, str, str, str, str]]:
    """Every finding of a real check, as (rule, kind, name, field, container)."""
    proc = run(overlay, "--profile", "dev", "--no-cache", "--format", "json", cwd=cwd)
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads(proc.stdout)
    return {(f["rule"], f["kind"], f["name"], f["field"] or "", f["container"] or "") for f in report["findings"]}


def entries(stdout: str, overlay: str) -> list[dict]:
    """The `patches:` entries printed for an overlay."""
    lines = stdout.splitlines()
    start = lines.index(f"then add to the patches: of {overlay}/kustomization.yaml:") + 1
    assert lines[start] == "patches:"
    block = [lines[start]]
    for line in lines[start + 1:]:
        if not line.startswith("  "):
            break
        block.append(line)
    return yaml.safe_load("\n".join(block))["patches"]


def apply_fix(overlay: Path, out: Path, stdout: str, cwd: Path) -> None:
    """What the printed instructions say: copy the folder next to the kustomization, add the entries."""
    rel = overlay.relative_to(cwd).as_posix()
    shutil.copytree(out / rel / fix.FOLDER, overlay / fix.FOLDER)
    kfile = overlay / "kustomization.yaml"
    data = yaml.safe_load(kfile.read_text())
    data.setdefault("patches", []).extend(entries(stdout, rel))
    kfile.write_text(yaml.safe_dump(data, sort_keys=False))


def tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file():
            h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def test_fix_removes_the_six_findings_and_adds_none(tmp_path: Path) -> None:
    overlay = make_overlay(tmp_path / "repo")
    repo = tmp_path / "repo"
    before = findings("overlays/demo", repo)
    assert {f[0] for f in before} >= SIX
    untouched = tree_digest(repo)
    proc = run("fix", "overlays/demo", "--profile", "dev", "--write", str(tmp_path / "out"), cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert tree_digest(repo) == untouched  # the user's files are never changed
    apply_fix(overlay, tmp_path / "out", proc.stdout, repo)
    after = findings("overlays/demo", repo)
    assert after <= before, f"new findings: {after - before}"
    left = {f for f in after if f[0] in SIX}
    # Only what has no safe fix is left: uid 0 (never guessed) and an explicit Unconfined profile.
    assert left == {
        ("run-as-non-root", "Deployment", "x-web", "spec.template.spec.containers[1].securityContext.runAsNonRoot",
         "side"),
        ("run-as-non-root", "Deployment", "x-web", "spec.template.spec.containers[1].securityContext.runAsUser",
         "side"),
        ("seccomp-profile", "CronJob", "x-job",
         "spec.jobTemplate.spec.template.spec.containers[0].securityContext.seccompProfile.type", "job"),
    }
    for rule, kind, name, field, container in left:
        assert f"{rule}  {kind}/{name} container {container}  {field}: " in proc.stdout
    fixed = before - after
    assert {f[0] for f in fixed} == SIX
    assert ("run-as-non-root", "StatefulSet", "x-db.main",
            "spec.template.spec.containers[0].securityContext.runAsNonRoot", "db") in fixed
    # A name with a dot is a regular expression to kustomize: written as a literal.
    assert {"path": f"{fix.FOLDER}/statefulset-db.main.yaml", "target": {"kind": "StatefulSet", "name": "db\\.main"}} \
        in entries(proc.stdout, "overlays/demo")
    # The emptyDir for /tmp does not collide with the pod's volumes (tmp, tmp-web are taken).
    deployment = yaml.safe_load((overlay / fix.FOLDER / "deployment-web.yaml").read_text())
    volumes = [op["value"] for op in deployment if op["path"] == "/spec/template/spec/volumes/-"]
    assert {v["name"] for v in volumes} == {"tmp-init", "tmp-web-2"}
    # Fixing again finds nothing more to fix.
    again = run("fix", "overlays/demo", "--profile", "dev", cwd=repo)
    assert again.returncode == 0 and "overlays/demo: nothing to fix automatically" in again.stdout


def test_patches_stop_the_build_when_containers_move(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    overlay = make_overlay(repo)
    proc = run("fix", "overlays/demo", "--profile", "dev", "--write", str(tmp_path / "out"), cwd=repo)
    assert proc.returncode == 0, proc.stderr
    apply_fix(overlay, tmp_path / "out", proc.stdout, repo)
    # A base change puts a new container where "side" was: without the `test` operations the patch
    # would apply cleanly, to the wrong container.
    base = repo / "base" / "workloads.yaml"
    text = base.read_text()
    assert "        - name: side\n" in text
    base.write_text(text.replace("        - name: side\n", "        - name: extra\n          image: x:1\n"
                                 "          securityContext: {runAsUser: 0}\n        - name: side\n", 1))
    broken = run("overlays/demo", "--profile", "dev", "--no-cache", cwd=repo)
    assert broken.returncode == 2, broken.stdout
    assert len(broken.stderr.strip().splitlines()) == 1 and "Traceback" not in broken.stderr
    assert "/spec/template/spec/containers/1/name" in broken.stderr


def _planted_copy(root: Path) -> Path:
    """The project's planted overlay, with its base and components, and a patch that strips the base
    worker's security settings (but its uid) (so the six rules fire on the project's real base)."""
    for part in ("base", "components"):
        shutil.copytree(ROOT / part, root / part)
    overlay = root / "tests" / "overlays" / "planted"
    shutil.copytree(ROOT / "tests" / "overlays" / "planted", overlay)
    (overlay / "strip.yaml").write_text(yaml.safe_dump([
        {"op": "remove", "path": "/spec/template/spec/securityContext"},
        {"op": "replace", "path": "/spec/template/spec/containers/0/securityContext", "value": {"runAsUser": 1000}},
        {"op": "add", "path": "/spec/template/spec/automountServiceAccountToken", "value": True},
    ]))
    kfile = overlay / "kustomization.yaml"
    data = yaml.safe_load(kfile.read_text())
    data["patches"].append({"path": "strip.yaml", "target": {"kind": "Deployment", "name": "worker"}})
    kfile.write_text(yaml.safe_dump(data, sort_keys=False))
    return overlay


def test_fix_on_the_project_planted_overlay(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    overlay = _planted_copy(repo)
    rel = "tests/overlays/planted"
    before = findings(rel, repo)
    worker = {f for f in before if f[0] in SIX and f[2] == "worker"}
    assert {f[0] for f in worker} >= SIX - {"service-account-token"}
    proc = run("fix", rel, "--profile", "dev", "--write", "out", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    # The overlay sets `namespace:`, so the target names no namespace (it is set after patches apply).
    assert {"path": f"{fix.FOLDER}/deployment-worker.yaml", "target": {"kind": "Deployment", "name": "worker"}} \
        in entries(proc.stdout, rel)
    # An explicit automountServiceAccountToken: true is the author's choice: listed, not changed.
    assert "service-account-token  Deployment/worker  spec.template.spec.automountServiceAccountToken: " \
           "automountServiceAccountToken is set to true explicitly" in proc.stdout
    # The privileged api container keeps its privilege: that finding has no automatic fix.
    assert "privileged-container  Deployment/api container api" in proc.stdout
    apply_fix(overlay, repo / "out", proc.stdout, repo)
    after = findings(rel, repo)
    assert after <= before, f"new findings: {after - before}"
    assert {f for f in after if f[0] in SIX and f[2] == "worker"} == {
        f for f in worker if f[0] == "service-account-token"}


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    make_overlay(repo)
    proc = run("fix", "overlays/demo", "--profile", "dev", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert f"--- {fix.FOLDER}/deployment-web.yaml" in proc.stdout and "op: test" in proc.stdout
    dry = run("fix", "overlays/demo", "--profile", "dev", "--write", "out", "--dry-run", cwd=repo)
    assert dry.returncode == 0 and "would write" in dry.stdout
    assert not (repo / "out").exists()


@pytest.mark.parametrize("case", ["git", "exists", "symlink", "force-without-write", "not-a-dir", "bad-timeout"])
def test_refusals_are_one_line_and_exit_2(case: str, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    make_overlay(repo)
    (repo / ".git").mkdir()
    args = ["fix", "overlays/demo", "--profile", "dev"]
    target = repo / "out" / "overlays" / "demo" / fix.FOLDER / "deployment-web.yaml"
    if case == "git":
        args += ["--write", ".git/fixes"]
    elif case in ("exists", "symlink"):
        target.parent.mkdir(parents=True)
        if case == "exists":
            target.write_text("mine\n")
        else:
            (repo / "victim.txt").write_text("mine\n")
            target.symlink_to(repo / "victim.txt")
        args += ["--write", "out"] + (["--force"] if case == "symlink" else [])
    elif case == "force-without-write":
        args += ["--force"]
    elif case == "not-a-dir":
        (repo / "file").write_text("x")
        args += ["--write", "file"]
    else:
        args += ["--timeout", "nan"]
    proc = run(*args, cwd=repo)
    assert proc.returncode == 2, proc.stdout
    assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith("policycheck: ")
    assert not (repo / ".git" / "fixes").exists()
    if case == "exists":
        assert target.read_text() == "mine\n"
        assert not (target.parent / "statefulset-db.main.yaml").exists()  # all or nothing
    if case == "symlink":
        assert (repo / "victim.txt").read_text() == "mine\n"


def test_force_overwrites(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    make_overlay(repo)
    target = repo / "out" / "overlays" / "demo" / fix.FOLDER / "deployment-web.yaml"
    target.parent.mkdir(parents=True)
    target.write_text("old\n")
    proc = run("fix", "overlays/demo", "--profile", "dev", "--write", "out", "--force", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert "op: test" in target.read_text()


def test_help_documents_the_fixes() -> None:
    proc = run("fix", "--help", cwd=ROOT)
    assert proc.returncode == 0
    for word in ("--write", "--dry-run", "--force", "readOnlyRootFilesystem", "test", "namePrefix"):
        assert word in proc.stdout


# -- generated pods: the planned patch applies and leaves only what has no safe fix --------------------

FLAGS = st.sampled_from([None, True, False])
MOUNTS = ["/tmp", "/tmp/", "/data"]  # noqa: S108 - mount paths in generated pods
CONTAINER_SC = st.fixed_dictionaries({}, optional={
    "allowPrivilegeEscalation": FLAGS,
    "readOnlyRootFilesystem": FLAGS,
    "runAsNonRoot": FLAGS,
    "runAsUser": st.sampled_from([None, 0, 1000]),
    "privileged": st.sampled_from([None, False, True]),
    "capabilities": st.fixed_dictionaries({}, optional={
        "drop": st.sampled_from([None, [], ["NET_RAW"], ["ALL"]]),
        "add": st.sampled_from([None, ["NET_BIND_SERVICE"], ["SYS_ADMIN"]]),
    }),
    "seccompProfile": st.sampled_from([None, {}, {"type": "RuntimeDefault"}, {"type": "Unconfined"}]),
})


@st.composite
def pods(draw: st.DrawFn) -> dict:
    def containers(prefix: str, low: int) -> list[dict]:
        out = []
        for i in range(draw(st.integers(low, 3))):
            c: dict = {"name": f"{prefix}{i}", "image": "app:1"}
            sc = draw(st.one_of(st.none(), CONTAINER_SC))
            if sc is not None:
                c["securityContext"] = sc
            if draw(st.booleans()):
                c["volumeMounts"] = [{"name": "tmp-c0", "mountPath": draw(st.sampled_from(MOUNTS))}]
            out.append(c)
        return out

    spec: dict = {"containers": containers("c", 1)}
    init = containers("i", 0)
    if init:
        spec["initContainers"] = init
    pod_sc = draw(st.fixed_dictionaries({}, optional={
        "runAsUser": st.sampled_from([None, 0, 1000]), "runAsNonRoot": FLAGS,
        "seccompProfile": st.sampled_from([None, {"type": "Unconfined"}, {}])}))
    if pod_sc or draw(st.booleans()):
        spec["securityContext"] = pod_sc
    spec["automountServiceAccountToken"] = draw(st.sampled_from([None, True, False]))
    spec["volumes"] = [{"name": "tmp-c0", "emptyDir": {}}]
    kind = draw(st.sampled_from(["Deployment", "StatefulSet", "CronJob", "Pod"]))
    if kind == "Pod":
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}
    template = {"metadata": {"labels": {"app": "p"}}, "spec": spec}
    if kind == "CronJob":
        return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "p"},
                "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": template}}}}
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": "p"},
            "spec": {"selector": {"matchLabels": {"app": "p"}}, "template": template}}


@pytest.fixture(scope="module")
def fix_settings() -> check.Settings:
    return check.Settings(kustomize=find_kustomize(), config=config.load(None), kube_version="1.35",
                          profile="dev", today=dt.date(2026, 11, 28))


def _six(rendered: Rendered, s: check.Settings) -> set[tuple]:
    result = check.check_overlay(Path(rendered.overlay), s, lambda: rendered)
    return {(f.rule, f.field, f.container) for f in result.findings if f.rule in SIX}


@settings(max_examples=int(os.environ.get("POLICYCHECK_FUZZ_EXAMPLES", "150")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(doc=pods())
def test_generated_pods_fix_what_they_can(doc: dict, fix_settings: check.Settings) -> None:
    overlay = "no-such-overlay"
    original = copy.deepcopy(doc)
    rendered = Rendered(overlay, [K8sObject(doc, overlay)])
    result = check.check_overlay(Path(overlay), fix_settings, lambda: rendered)
    assert result.error is None
    before = {(f.rule, f.field, f.container) for f in result.findings}
    plan = fix.plan_overlay(result, rendered, fix_settings)
    assert doc == original  # planning never changes the render
    unfixed = {(f.rule, f.field, f.container) for f, _ in plan.unfixed}
    assert not any(why == fix.UNVERIFIED for _, why in plan.unfixed)
    patched = copy.deepcopy(doc)
    for p in plan.patches:
        patched = jsonpatch.JsonPatch(p.ops).apply(patched)  # the patch applies (tests included)
    after_rendered = Rendered(overlay, [K8sObject(patched, overlay)])
    after_result = check.check_overlay(Path(overlay), fix_settings, lambda: after_rendered)
    after = {(f.rule, f.field, f.container) for f in after_result.findings}
    assert after <= before  # nothing new
    assert {k for k in after if k[0] in SIX} == {k for k in unfixed if k[0] in SIX}  # fixed ones are gone
    # A container with nothing explicit against the rules and a non-zero uid is fully fixed.
    for c in (doc["spec"] if doc["kind"] == "Pod" else _template(doc)["spec"])["containers"]:
        sc = c.get("securityContext") or {}
        explicit = any(sc.get(k) not in (None, v) for k, v in (
            ("allowPrivilegeEscalation", False), ("readOnlyRootFilesystem", True), ("runAsNonRoot", True)))
        pod_sc = ((doc["spec"] if doc["kind"] == "Pod" else _template(doc)["spec"]).get("securityContext") or {})
        uid = sc.get("runAsUser") if sc.get("runAsUser") is not None else pod_sc.get("runAsUser")
        if not explicit and not sc.get("privileged") and uid == 1000 and not (sc.get("capabilities") or {}).get("add") \
                and pod_sc.get("runAsNonRoot") is not False and not sc.get("seccompProfile") \
                and not pod_sc.get("seccompProfile"):
            assert not {k for k in after if k[0] in SIX and k[2] == c["name"] and k[0] != "service-account-token"}


def _template(doc: dict) -> dict:
    return doc["spec"]["jobTemplate"]["spec"]["template"] if doc["kind"] == "CronJob" else doc["spec"]["template"]
