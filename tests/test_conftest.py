"""The Rego stage: real conftest only. House rules on the project's overlays
and on overlays that break each of them, exemptions, and every failure."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, require

CONFTEST = shutil.which("conftest")


@pytest.fixture(autouse=True)
def _needs_conftest() -> None:
    require(CONFTEST is not None, "conftest not on PATH (hack/install-conftest.sh builds it; make test does)")


def run(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "policycheck", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env=environ, stdin=subprocess.DEVNULL)


def report(*args: str, **kw) -> tuple[int, dict]:  # noqa: ANN003
    out = run(*args, "--format", "json", **kw)
    assert out.returncode in (0, 1), out.stderr
    return out.returncode, json.loads(out.stdout)


def test_policies_verify() -> None:
    out = subprocess.run([CONFTEST, "verify", "-p", "policies", "--no-color"], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert " 0 failures" in out.stdout and "passed" in out.stdout


def test_every_policy_has_a_test_file() -> None:
    rego = [p for p in (ROOT / "policies").rglob("*.rego") if not p.name.endswith("_test.rego")]
    assert len(rego) >= 7
    assert [p for p in rego if not p.with_name(p.stem + "_test.rego").is_file()] == []


def test_project_overlays_pass_the_house_rules() -> None:
    code, data = report("--require-conftest")
    assert code == 0
    assert data["tool"]["conftest"] == "0.71.1"
    assert [f for f in data["findings"] if f["engine"] == "conftest"] == []
    assert "notes" not in data


def _overlay(tmp_path: Path, extra: dict | None = None, files: dict[str, str] | None = None,
             without_issuer: bool = False) -> Path:
    """A prod-like overlay of the repository's base, clean of house-rule
    findings, plus ``extra`` kustomization entries (lists are appended)."""
    overlay = tmp_path / "overlay"
    overlay.mkdir(parents=True)
    kustomization = {
        "namespace": "ai-agents",
        "resources": [os.path.relpath(ROOT / "base", overlay)],
        "components": [os.path.relpath(ROOT / "components/platform-labels", overlay)],
        "labels": [{"pairs": {"environment": "prod"}, "includeTemplates": True}],
        "generatorOptions": {"labels": {"app.kubernetes.io/name": "ai-agents"}},
        "configMapGenerator": [{"name": "ai-agents-config", "literals": ["LOG_LEVEL=INFO"]}],
        "secretGenerator": [
            {"name": "postgresql-credentials", "literals": ["username=test", "password=test-only"]},
            {"name": "redis-credentials", "literals": ["password=test-only"]},
            {"name": "ai-agents-app", "literals": ["DATABASE_URL=postgresql://postgresql/x",
                                                   "REDIS_URL=redis://:test-only@redis",
                                                   "OPENAI_API_KEY=test-only"]},
        ],
        "replicas": [{"name": "api", "count": 2}, {"name": "worker", "count": 1}],
        "images": [{"name": "ai-agents/app", "newTag": "0.1.0"}],
        "patches": [] if without_issuer else [{"target": {"kind": "Ingress", "name": "api"}, "patch": (
            "- {op: add, path: /metadata/annotations, value: {cert-manager.io/cluster-issuer: letsencrypt}}")}],
    }
    for key, value in (extra or {}).items():
        kustomization[key] = kustomization.get(key, []) + value if isinstance(value, list) else value
    (overlay / "kustomization.yaml").write_text(yaml.safe_dump(kustomization, sort_keys=False))
    for name, content in (files or {}).items():
        (overlay / name).write_text(content)
    return overlay


def _base_line(path: str, text: str, root: Path = ROOT) -> int:
    lines = (root / path).read_text().splitlines()
    hits = [i + 1 for i, line in enumerate(lines) if line.strip().startswith(text)]
    assert len(hits) == 1, (path, text, hits)
    return hits[0]


# rule -> (extra kustomization entries, extra files, (kind, name), source file, line or the text starting it)
HOUSE_CASES = {
    "required-labels": ({"resources": ["extra.yaml"]}, {"extra.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
                        "  name: extra\n  labels: {team: platform}\ndata: {a: b}\n"},
                        ("ConfigMap", "extra"), "overlay/extra.yaml", 5),
    # Set by the overlay: the finding points at the overlay's line that set it.
    "allowed-images": ({"images": [{"name": "redis", "newName": "registry.invalid/redis", "newTag": "7"}]}, {},
                       ("StatefulSet", "redis"), "overlay/kustomization.yaml", "newTag: '7'"),
    "service-port-names": ({"resources": ["p.yaml"]}, {"p.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n"
                           "  name: metrics\n  labels: {app.kubernetes.io/name: api}\nspec:\n"
                           "  selector: {app: api}\n  ports:\n    - port: 8000\n"},
                           ("Service", "metrics"), "overlay/p.yaml", 9),
    "rollout-max-unavailable": ({"patches": [{"path": "r.yaml"}]}, {"r.yaml": "apiVersion: apps/v1\n"
                                "kind: Deployment\nmetadata:\n  name: api\nspec:\n  strategy:\n"
                                "    rollingUpdate:\n      maxUnavailable: 1\n"}, ("Deployment", "api"),
                                "overlay/r.yaml", "maxUnavailable: 1"),
    "pvc-size-bounds": ({"patches": [{"path": "s.yaml"}]}, {"s.yaml": "apiVersion: apps/v1\nkind: StatefulSet\n"
                        "metadata:\n  name: redis\nspec:\n  volumeClaimTemplates:\n    - metadata: {name: data}\n"
                        "      spec:\n        accessModes: [ReadWriteOnce]\n        resources:\n"
                        "          requests: {storage: 500Gi}\n"}, ("StatefulSet", "redis"),
                        "overlay/s.yaml", "requests: {storage: 500Gi}"),
    # Missing: the line of the nearest parent that exists (metadata, which lacks annotations).
    "ingress-cert-issuer": (None, {}, ("Ingress", "api"), "base/api/ingress.yaml", "metadata:"),
}


@pytest.mark.parametrize("rule", sorted(HOUSE_CASES))
def test_each_house_rule_fires_with_file_and_line(rule: str, tmp_path: Path) -> None:
    extra, files, (kind, name), file, line = HOUSE_CASES[rule]
    overlay = _overlay(tmp_path, extra, files, without_issuer=extra is None)
    in_overlay = file.startswith("overlay/")
    args = [str(overlay), "--profile", "dev"]
    if in_overlay:  # run from the overlay's parent: paths are relative to it
        (tmp_path / "pc.yaml").write_text(yaml.safe_dump({"conftest": {
            "policies": [str(ROOT / "policies")], "data": [str(ROOT / "policies/data")]}}))
        args += ["--config", str(tmp_path / "pc.yaml")]
    code, data = report(*args, cwd=tmp_path if in_overlay else ROOT)
    hits = [f for f in data["findings"] if f["engine"] == "conftest"]
    assert code == 1
    assert {(f["rule"], f["kind"], f["name"], f["severity"]) for f in hits} == {(rule, kind, name, "error")}
    assert {f["source"]["file"] for f in hits} == {file}
    expected = line if isinstance(line, int) else _base_line(file, line, tmp_path if in_overlay else ROOT)
    assert {f["source"]["line"] for f in hits} == {expected}


def test_clean_overlay_has_no_rego_finding(tmp_path: Path) -> None:
    code, data = report(str(_overlay(tmp_path)), "--profile", "dev")
    assert [f for f in data["findings"] if f["engine"] == "conftest"] == []
    assert code == 0


def test_warning_from_warn_rule(tmp_path: Path) -> None:
    patch = {"patches": [{"target": {"kind": "Deployment", "name": "api"},
                          "patch": "- {op: remove, path: /spec/template/spec/topologySpreadConstraints}"}]}
    code, data = report(str(_overlay(tmp_path, patch)), "--profile", "dev")
    hits = [f for f in data["findings"] if f["engine"] == "conftest"]
    assert [(f["rule"], f["severity"], f["name"]) for f in hits] == [("spread-across-nodes", "warning", "api")]
    assert code == 0
    assert run(str(_overlay(tmp_path / "x", patch)), "--profile", "dev", "--fail-on", "warning").returncode == 1


def test_exemption_annotation_suppresses_a_rego_finding(tmp_path: Path) -> None:
    extra, files, _, _, _ = HOUSE_CASES["service-port-names"]
    files = {"p.yaml": files["p.yaml"].replace("  name: metrics\n", "  name: metrics\n  annotations:\n"
             "    policycheck.io/exempt.service-port-names: \"scraped by number, legacy agent\"\n")}
    code, data = report(str(_overlay(tmp_path, extra, files)), "--profile", "dev")
    [hit] = [f for f in data["findings"] if f["rule"] == "service-port-names"]
    assert (hit["exempted"], hit["exemption"]) == (True, "scraped by number, legacy agent")
    assert [f for f in data["findings"] if f["rule"] == "exemption-reason"] == []
    assert code == 0


def test_skipped_when_missing_and_not_required(tmp_path: Path) -> None:
    env = {"PATH": str(Path(sys.executable).parent) + os.pathsep + "/usr/bin:/bin", "CI": ""}
    code, data = report("overlays/dev", env=env)
    assert code == 0 and data["tool"]["conftest"] is None
    # (besides the note that the dev -> prod pair of policycheck.yaml is not compared without prod)
    assert [n for n in data["notes"] if not n.startswith("pair ")] == [
        "Rego stage skipped: conftest not found on PATH (hack/install-conftest.sh builds it)"]
    out = run("overlays/dev", env=env)
    assert "note: Rego stage skipped" in out.stdout


def _fake(tmp_path: Path, body: str) -> Path:
    fake = tmp_path / "fake-conftest"
    fake.write_text("#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'Conftest: 0.0.0'; exit 0; fi\n" + body)
    fake.chmod(0o755)
    return fake


def _one_line_exit_2(out: subprocess.CompletedProcess[str], expected: str, *, overlay: bool = False) -> None:
    """Exit 2 and one line on stderr; a usage error prints no report, an overlay's
    failure is also in the report, as that overlay's error."""
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert expected in out.stderr, out.stderr
    if overlay:
        [line] = [ln for ln in out.stdout.splitlines() if "not checked:" in ln]
        assert expected in line
        assert out.stdout.splitlines()[-1].endswith("1 overlay(s) not checked")
    else:
        assert out.stdout == ""


def test_missing_conftest_is_an_error_when_required() -> None:
    env = {"PATH": str(Path(sys.executable).parent) + os.pathsep + "/usr/bin:/bin", "CI": ""}
    _one_line_exit_2(run("overlays/dev", "--require-conftest", env=env), "conftest not found")
    _one_line_exit_2(run("overlays/dev", env={**env, "CI": "true"}), "conftest not found")
    _one_line_exit_2(run("overlays/dev", "--conftest", "/nonexistent/conftest"), "conftest not found")


def test_rego_that_does_not_compile(tmp_path: Path) -> None:
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad/broken.rego").write_text("package main\n\ndeny contains msg if {\n  input.kind ==\n}\n")
    (tmp_path / "pc.yaml").write_text(f"conftest:\n  policies: [{tmp_path / 'bad'}]\n")
    out = run("overlays/dev", "--config", str(tmp_path / "pc.yaml"))
    _one_line_exit_2(out, "overlays/dev: conftest failed", overlay=True)
    assert "broken.rego" in out.stderr


@pytest.mark.parametrize(("body", "expected"), [
    ("sleep 30\n", "conftest exceeded the timeout of 1s"),
    ("echo 'panic: runtime error' >&2; exit 3\n", "conftest failed (exit 3): panic: runtime error"),
    ("echo 'this is not json'; exit 0\n", "its output is not JSON"),
])
def test_conftest_crash_timeout_and_garbage(tmp_path: Path, body: str, expected: str) -> None:
    fake = _fake(tmp_path, body)
    (tmp_path / "pc.yaml").write_text(f"conftest:\n  timeout: 1\n  policies: [{ROOT / 'policies'}]\n")
    _one_line_exit_2(run("overlays/dev", "--conftest", str(fake), "--config", str(tmp_path / "pc.yaml")), expected, overlay=True)


def test_secret_values_are_redacted_from_rego_messages(tmp_path: Path) -> None:
    policy = tmp_path / "leaky"
    policy.mkdir()
    (policy / "leak.rego").write_text(
        'package main\n\ndeny contains {"msg": sprintf("value %s", [base64.decode(obj.data.password)]), '
        '"rule": "leak", "kind": obj.kind, "name": obj.metadata.name} if {\n'
        "  some item in input\n  obj := item.contents\n  obj.kind == \"Secret\"\n  obj.data.password\n}\n")
    (tmp_path / "pc.yaml").write_text(f"conftest:\n  policies: [{policy}]\n")
    out = run("overlays/dev", "--config", str(tmp_path / "pc.yaml"), "--format", "json")
    assert out.returncode == 1
    hits = [f for f in json.loads(out.stdout)["findings"] if f["rule"] == "leak"]
    # PostgreSQL's and Redis's password
    assert sorted(h["name"].rsplit("-", 1)[0] for h in hits) == ["postgresql-credentials", "redis-credentials"]
    assert {h["message"] for h in hits} == {"value <redacted>"}
    assert "devonly" not in out.stdout
