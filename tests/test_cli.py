"""End to end: the CLI on real overlays, on fixture overlays with planted
problems, and on every kind of bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from policycheck.cli import rules_markdown
from tests.conftest import ROOT, require, which

SECRET_VALUES = ("devonly", "dev-only-no-real-key", "planted-password-value", "planted-redis-value",
                 "planted-key-value", "planted-token-value")


def run(*args: str, cwd: Path = ROOT, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    return subprocess.run([sys.executable, "-m", "policycheck", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env, stdin=subprocess.DEVNULL)


def test_project_overlays_pass() -> None:
    out = run("--format", "json")
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(out.stdout)
    assert report["version"] == 1
    assert report["tool"]["name"] == "policycheck" and report["tool"]["kustomize"]
    assert [(o["path"], o["profile"]) for o in report["overlays"]] == [("overlays/dev", "dev"), ("overlays/prod", "prod")]
    assert report["summary"]["error"] == 0
    assert {(f["rule"], f["name"], f["exempted"]) for f in report["findings"]} == {
        ("liveness-probe", "worker", True), ("min-replicas", "worker", True)}
    assert all(v not in out.stdout for v in SECRET_VALUES)


def test_json_contract_on_planted_overlay() -> None:
    """Built-in and Rego findings side by side in one report, one exit code."""
    require(which("conftest") is not None, "conftest not on PATH (make test installs it)")
    out = run("tests/overlays/planted", "--profile", "dev", "--format", "json")
    assert out.returncode == 1, out.stderr
    report = json.loads(out.stdout)
    assert report["tool"]["conftest"] == "0.71.1"
    failing = {(f["rule"], f["kind"], f["name"]): f for f in report["findings"] if not f["exempted"]}
    assert set(failing) == {("privileged-container", "Deployment", "api"), ("host-namespaces", "Pod", "debug"),
                            ("secret-in-env", "Pod", "debug"), ("allowed-images", "Pod", "debug")}
    rego = failing[("allowed-images", "Pod", "debug")]
    assert (rego["engine"], rego["severity"], rego["field"]) == ("conftest", "error", "spec.containers[0].image")
    assert rego["source"] == {"file": "tests/overlays/planted/debug-pod.yaml", "line": 17}
    f = failing[("host-namespaces", "Pod", "debug")]
    assert f == {"rule": "host-namespaces", "severity": "error", "overlay": "tests/overlays/planted", "kind": "Pod",
                 "namespace": "ai-agents", "name": "debug", "container": None, "field": "spec.hostNetwork",
                 "message": f["message"], "source": {"file": "tests/overlays/planted/debug-pod.yaml", "line": 14},
                 "origin": "tests/overlays/planted/debug-pod.yaml", "source_name": "debug", "engine": "builtin", "exempted": False, "exemption": None, "fingerprint": f["fingerprint"],
                 "overlays": ["tests/overlays/planted"]}
    assert len(f["fingerprint"]) == 32
    lines = (ROOT / "tests/overlays/planted/debug-pod.yaml").read_text().splitlines()
    assert lines[13].strip() == "hostNetwork: true"
    assert lines[16].strip() == "image: busybox:1.36"
    # Set by a patch: the finding points at the patch's line, via the base's securityContext.
    assert failing[("privileged-container", "Deployment", "api")]["source"] == {
        "file": "tests/overlays/planted/privileged.yaml", "line": 11,
        "via": [{"file": "base/api/deployment.yaml", "line": 99}]}
    assert (ROOT / "tests/overlays/planted/privileged.yaml").read_text().splitlines()[10].strip() == "privileged: true"
    assert (ROOT / "base/api/deployment.yaml").read_text().splitlines()[98].strip() == "securityContext:"
    assert report["summary"] == {"error": 4, "warning": 0, "exempted": 1, "overlay_errors": 0}
    assert all(v not in out.stdout + out.stderr for v in SECRET_VALUES)


def test_a_defect_in_a_shared_base_is_one_defect() -> None:
    """dev and prod share base/worker: its exempted liveness-probe finding is one defect in both."""
    report = json.loads(run("--format", "json").stdout)
    shared = [f for f in report["findings"] if f["rule"] == "liveness-probe"]
    assert [f["overlay"] for f in shared] == ["overlays/dev", "overlays/prod"]
    assert len({f["fingerprint"] for f in shared}) == 1
    assert all(f["overlays"] == ["overlays/dev", "overlays/prod"] for f in shared)
    text = run().stdout
    assert text.count("liveness-probe") == 1 and "(in overlays/dev, overlays/prod)" in text


def test_text_report_groups_by_file_and_honours_no_color(tmp_path: Path) -> None:
    out = run("tests/overlays/planted", "--profile", "dev")
    assert out.returncode == 1
    assert "\033[" not in out.stdout  # not a TTY
    assert "  tests/overlays/planted/debug-pod.yaml\n      14  error    host-namespaces" in out.stdout
    assert "error(s), 0 warning(s), 1 exempted" in out.stdout.splitlines()[-1]
    target = tmp_path / "report.txt"
    assert run("tests/overlays/planted", "--profile", "dev", "--output", str(target)).stdout == ""
    assert "host-namespaces" in target.read_text()


def test_fail_on_warning_and_profiles(tmp_path: Path) -> None:
    # dev under the prod profile: digests, TLS, network policies, PDBs are required.
    out = run("overlays/dev", "--profile", "prod", "--format", "json")
    rules = {f["rule"] for f in json.loads(out.stdout)["findings"] if not f["exempted"]}
    assert out.returncode == 1
    assert {"image-digest", "ingress-tls", "network-policy-coverage", "min-replicas"} <= rules
    config = tmp_path / "pc.yaml"
    config.write_text("rules:\n  liveness-probe: {level: warning}\nconftest:\n  profiles: {default: false}\n")
    crd = tmp_path / "crd"
    crd.mkdir()
    (crd / "kustomization.yaml").write_text("resources: [w.yaml]\n")
    (crd / "w.yaml").write_text("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n")
    assert run(str(crd), "--config", str(config)).returncode == 0
    out = run(str(crd), "--config", str(config), "--fail-on", "warning", "--format", "json")
    assert out.returncode == 1
    assert [(f["rule"], f["severity"]) for f in json.loads(out.stdout)["findings"]] == [("schema", "warning")]


def test_rules_and_explain() -> None:
    out = run("rules")
    from policycheck.rules import REGISTRY

    assert out.returncode == 0 and len(out.stdout.splitlines()) == len(REGISTRY) == 65
    out = run("explain", "probe-port")
    assert out.returncode == 0 and "## Why is this bad?" in out.stdout
    bad = run("explain", "no-such-rule")
    assert (bad.returncode, bad.stderr) == (2, "policycheck: unknown rule: no-such-rule\n")


def test_rule_reference_is_fresh() -> None:
    assert (ROOT / "docs/rules.md").read_text() == rules_markdown(), "run `make docs`"


def test_readme_report_samples_are_fresh() -> None:
    """The README's sample of every format is what a real run prints today."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("readme_samples", ROOT / "hack/readme_samples.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    readme = (ROOT / "README.md").read_text()
    assert module.block() in readme, "run `make docs`"


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


FAKE_KUSTOMIZE = """#!/bin/sh
if [ "$1" = version ]; then echo v5.0.0; exit 0; fi
sleep 30
"""
BOMB = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n  a0: &a0 [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"  a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]\n" for i in range(1, 9))

BAD_INPUTS = {
    "not-a-directory": ({"file.txt": "x"}, ["file.txt"], "not a directory"),
    "no-kustomization": ({"empty/.keep": ""}, ["empty"], "no kustomization.yaml"),
    "kustomize-missing": ({"o/kustomization.yaml": "resources: []\n"}, ["o", "--kustomize", "/nonexistent/kustomize"],
                          "kustomize not found"),
    "kustomize-fails": ({"o/kustomization.yaml": "resources: [nope.yaml]\n"}, ["o"], "kustomize build failed: nope.yaml"),
    # The component that failed, and the object kustomize names (a Go dump of its id) as <Kind/name>.
    "component-merges-a-missing-object": (
        {"o/kustomization.yaml": "components: [../c]\n",
         "c/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
                                 "configMapGenerator:\n  - {name: settings, behavior: merge, literals: [a=b]}\n"},
        ["o"], "kustomize build failed: c: merging from generator"),
    "base-misses-a-file": ({"o/kustomization.yaml": "resources: [../b]\n", "b/kustomization.yaml": "resources: [x.yaml]\n"},
                           ["o"], "kustomize build failed: b: x.yaml: evalsymlink failure"),
    "yaml-does-not-parse": ({"o/kustomization.yaml": "resources: [\n"}, ["o"], "YAML does not parse"),
    "resource-yaml-does-not-parse": ({"o/kustomization.yaml": "resources: [r.yaml]\n", "o/r.yaml": "a: [\n"}, ["o"],
                                     "kustomize build failed"),
    "not-a-mapping": ({"o/kustomization.yaml": "resources: [r.yaml]\n", "o/r.yaml": "- a\n- b\n"}, ["o"],
                      "missing Resource metadata"),
    "no-kind": ({"o/kustomization.yaml": "resources: [r.yaml]\n", "o/r.yaml": "apiVersion: v1\nmetadata: {name: x}\n"},
                ["o"], "missing kind"),
    "exec-generator": ({"o/kustomization.yaml": "generators: [gen.yaml]\n",
                        "o/gen.yaml": "apiVersion: x/v1\nkind: G\nmetadata:\n  name: g\n  annotations:\n"
                                      "    config.kubernetes.io/function: |\n      exec:\n        path: ./run.sh\n"},
                       ["o"], "runs an exec or container function"),
    "remote-base": ({"o/kustomization.yaml": "resources:\n  - https://example.com/org/repo//deploy?ref=v1\n"}, ["o"],
                    "remote resource refused"),
    "load-outside-root": ({"o/kustomization.yaml": "resources: [../x.yaml]\n", "x.yaml": "apiVersion: v1\n"}, ["o"],
                          "is not in or below"),
    "timeout": ({"o/kustomization.yaml": "resources: []\n", "k/kustomize": FAKE_KUSTOMIZE},
                ["o", "--kustomize", "k/kustomize", "--timeout", "1"], "render exceeded the timeout of 1s"),
    "memory": ({"o/kustomization.yaml": "resources: [bomb.yaml]\n", "o/bomb.yaml": BOMB}, ["o", "--memory-limit", "1024"],
               "render exceeded the memory limit of 1024 MiB"),
    "unknown-rule-in-config": ({"o/kustomization.yaml": "resources: []\n", "pc.yaml": "rules:\n  no-such-rule: off\n"},
                               ["o", "--config", "pc.yaml"], "unknown rule: no-such-rule"),
    "unknown-option": ({"o/kustomization.yaml": "resources: []\n",
                        "pc.yaml": "rules:\n  min-replicas: {options: {minimun: 3}}\n"},
                       ["o", "--config", "pc.yaml"], "unknown option: minimun"),
    "unknown-profile": ({"o/kustomization.yaml": "resources: []\n"}, ["o", "--profile", "staging"],
                        "unknown profile: staging"),
    "bad-flag": ({}, ["--format", "xml"], "usage:"),
}


# Failures of one overlay (as opposed to usage and configuration errors, which end the run).
OVERLAY_ERRORS = {"kustomize-fails", "component-merges-a-missing-object", "base-misses-a-file", "yaml-does-not-parse", "resource-yaml-does-not-parse", "not-a-mapping", "no-kind",
                  "exec-generator", "remote-base", "load-outside-root", "timeout", "memory"}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_one_line_and_exit_2(case: str, tmp_path: Path) -> None:
    files, args, expected = BAD_INPUTS[case]
    _write(tmp_path, files)
    if (tmp_path / "k/kustomize").exists():
        (tmp_path / "k/kustomize").chmod(0o755)
    out = run(*args, cwd=tmp_path, timeout=60)
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("policycheck: "), out.stderr
    assert expected in out.stderr
    assert "Traceback" not in out.stderr
    if case in OVERLAY_ERRORS:
        # The overlay is still in the report, with its error instead of findings.
        [line] = [ln for ln in out.stdout.splitlines() if "not checked:" in ln]
        assert expected in line
        assert out.stdout.splitlines()[-1] == "0 errors, 0 warning(s), 0 exempted, 1 overlay(s) not checked"
    else:
        assert out.stdout == ""


def test_a_failure_deep_in_components_reads_as_one_plain_line(tmp_path: Path) -> None:
    """kustomize quotes each nested error once more and prints a generator's address and the id of the
    object it misses as Go dumps: the line names the innermost directory and <Kind/name>, without
    the address (it changes on every run) or the quotes left over from the nesting."""
    component = "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
    _write(tmp_path, {
        "o/kustomization.yaml": "components: [../outer]\n",
        "outer/kustomization.yaml": component + "components: [../inner]\n",
        "inner/kustomization.yaml": component + "configMapGenerator:\n  - {name: settings, behavior: merge, literals: [a=b]}\n",
    })
    out = run("o", cwd=tmp_path, timeout=60)
    assert out.returncode == 2
    assert out.stderr == ("policycheck: o: kustomize build failed: inner: merging from generator: id <ConfigMap/settings> "
                          "does not exist; cannot merge or replace\n")


def test_searching_a_tree_finds_overlays_not_bases() -> None:
    out = run(".", "--format", "json")
    paths = [o["path"] for o in json.loads(out.stdout)["overlays"]]
    # admission/ is a top-level kustomization too (cluster-scoped admission policies).
    assert paths == ["admission", "overlays/dev", "overlays/prod", "tests/overlays/planted", "tests/overlays/provenance/overlay",
                     "tests/overlays/sample"]
    assert out.returncode == 1  # the planted overlay


def test_color_only_on_a_terminal_and_never_with_no_color() -> None:
    import pty

    def on_tty(env: dict[str, str]) -> str:
        primary, secondary = pty.openpty()
        proc = subprocess.Popen([sys.executable, "-m", "policycheck", "tests/overlays/planted", "--profile", "dev"],
                                cwd=ROOT, stdout=secondary, stderr=subprocess.DEVNULL, env=env)
        os.close(secondary)
        chunks = []
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        proc.wait(timeout=120)
        os.close(primary)
        return b"".join(chunks).decode()

    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    assert "\033[31m" in on_tty(env)
    assert "\033[" not in on_tty({**env, "NO_COLOR": "1"})
