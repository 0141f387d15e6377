"""Regression tests, one small fixture per class of input that used to end a
run, crash it, stall it or leak from it. Each runs the real CLI on the real
kustomize (and conftest where the class needs the Rego stage)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from policycheck import conftest as rego
from policycheck.model import K8sObject, Severity
from policycheck.render import Rendered
from tests.conftest import ROOT, require, which

MARKER = "Zq8wXr4Lm2Nv6Tb9"  # planted where secrets live; must never be printed
SUMMARY_CLEAN = "0 errors, 0 warning(s), 0 exempted"


def run(cwd: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "policycheck", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=full, stdin=subprocess.DEVNULL)


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def no_leak(out: subprocess.CompletedProcess[str], *secrets: str) -> None:
    for secret in (MARKER, *secrets):
        assert secret not in out.stdout and secret not in out.stderr, (secret, out.stdout, out.stderr)
    assert "Traceback" not in out.stderr


GOOD = {"good/kustomization.yaml": "resources: [cm.yaml]\n",
        "good/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {mode: fast}\n"}
BROKEN = {"broken/kustomization.yaml": "resources: [missing.yaml]\n"}


# -- one broken overlay hides no other --------------------------------------------------------------------------

@pytest.mark.parametrize("order", [("good", "broken"), ("broken", "good")])
def test_one_broken_overlay_hides_no_other(tmp_path: Path, order: tuple[str, str]) -> None:
    write(tmp_path, {**GOOD, **BROKEN})
    out = run(tmp_path, *order, "--format", "json")
    assert out.returncode == 2
    report = json.loads(out.stdout)
    by_path = {o["path"]: o for o in report["overlays"]}
    assert [o["path"] for o in report["overlays"]] == list(order)
    assert by_path["good"] == {"path": "good", "profile": "default", "objects": 1, "error": None, "notes": [],
                               "rego_ran": False, "checked": by_path["good"]["checked"]}
    assert ["ConfigMap", None, "settings"] in by_path["good"]["checked"]["objects"]
    assert "kustomize build failed: missing.yaml" in by_path["broken"]["error"]
    assert out.stderr.count("\n") == 1 and "broken: kustomize build failed" in out.stderr


def test_search_skips_components_and_bases_and_says_so(tmp_path: Path) -> None:
    write(tmp_path, {
        **GOOD,
        "good/kustomization.yaml": "resources: [cm.yaml, ../base]\n",
        "base/kustomization.yaml": "resources: [sa.yaml]\n",
        "base/sa.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: app}\nautomountServiceAccountToken: false\n",
        "kustomize/components/extra/kustomization.yaml":
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [x.yaml]\n",
        "kustomize/components/extra/x.yaml": "not: [valid\n",
    })
    out = run(tmp_path, ".", "--format", "json", "-v")
    assert out.returncode == 0, out.stderr
    assert [o["path"] for o in json.loads(out.stdout)["overlays"]] == ["good"]
    assert "policycheck: skipped base: included by another kustomization" in out.stderr
    assert "policycheck: skipped kustomize/components/extra: a kind: Component" in out.stderr


# -- one malformed object costs one finding ------------------------------------------------------------------------

SHAPES = {
    # (kind/name, field, problem); each object also breaks nothing else
    ("Deployment", "env-map"): ("spec.template.spec.containers[0].env", "expected list, got mapping"),
    ("Service", "port-list"): ("spec.ports[0].targetPort", "expected integer or string, got list"),
    ("HorizontalPodAutoscaler", "hpa"): ("spec.metrics[0]", "expected mapping, got string"),
    ("Ingress", "ing"): ("spec.tls[0].hosts[0]", "expected string, got integer"),
    ("ConfigMap", "cm"): ("data", "expected mapping, got string"),
    ("Service", "spec-int"): ("spec", "expected mapping, got integer"),
    ("PodDisruptionBudget", "pdb"): ("spec.selector.matchExpressions[0].key", "expected string, got list"),
    ("NetworkPolicy", "np"): ("spec.podSelector", "expected mapping, got list"),
}
SHAPES_YAML = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: env-map}
spec:
  selector: {matchLabels: {app: a}}
  template:
    metadata: {labels: {app: a}}
    spec:
      containers:
      - name: c
        image: x:1
        env: {A: b}
        livenessProbe: {httpGet: {path: /, port: null}}
        securityContext: {privileged: true}
---
apiVersion: v1
kind: Service
metadata: {name: port-list}
spec:
  selector: {app: a}
  ports: [{port: 80, targetPort: [80]}]
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: hpa}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: env-map}
  maxReplicas: 3
  metrics: [x]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: ing}
spec:
  tls: [{hosts: [0]}]
  rules: [{host: a.example.com}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
data: x
---
apiVersion: v1
kind: Service
metadata: {name: spec-int}
spec: 1
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: pdb}
spec:
  selector: {matchExpressions: [{key: [], operator: In, values: [a]}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: np}
spec:
  podSelector: [app]
"""


def test_malformed_objects_are_one_finding_each_and_the_rest_is_checked(tmp_path: Path) -> None:
    write(tmp_path, {"o/kustomization.yaml": "namespace: demo\nresources: [app.yaml]\n", "o/app.yaml": SHAPES_YAML})
    out = run(tmp_path, "o", "--format", "json")
    assert out.returncode == 1, out.stderr
    report = json.loads(out.stdout)
    assert report["overlays"][0]["error"] is None
    typed = {(f["kind"], f["name"]): (f["field"], f["message"]) for f in report["findings"] if f["rule"] == "field-type"}
    assert typed == {k: (field, f"{field}: {problem}") for k, (field, problem) in SHAPES.items()}
    lines = SHAPES_YAML.splitlines()
    for f in report["findings"]:
        if f["rule"] == "field-type":
            key = f["field"].rsplit(".", 1)[-1].split("[")[0]
            assert key in lines[f["source"]["line"] - 1], f
    # The other rules still ran on every object, the malformed ones included.
    rules = {(f["rule"], f["name"]) for f in report["findings"]}
    assert {("privileged-container", "env-map"), ("run-as-non-root", "env-map"), ("resource-limits", "env-map")} <= rules
    # A schema error on the same field as a field-type finding is not repeated.
    assert not {(f["kind"], f["name"], f["field"]) for f in report["findings"] if f["rule"] == "schema"} & {
        (*k, v[0]) for k, v in SHAPES.items()}


def test_select_runs_only_the_named_rules(tmp_path: Path) -> None:
    write(tmp_path, {"o/kustomization.yaml": "resources: [app.yaml]\n", "o/app.yaml": SHAPES_YAML})
    out = run(tmp_path, "o", "--format", "json", "--select", "field-type", "--select", "privileged-container")
    assert {f["rule"] for f in json.loads(out.stdout)["findings"]} == {"field-type", "privileged-container"}
    bad = run(tmp_path, "o", "--select", "no-such-rule")
    assert (bad.returncode, bad.stdout) == (2, "") and "--select: unknown rule no-such-rule" in bad.stderr


# -- the render is read as the API server reads it --------------------------------------------------------------------

def test_plain_scalars_stay_strings(tmp_path: Path) -> None:
    odd = {"date": "2026-02-30", "equals": "=", "stamp": "2001-12-14 21:59:43.10 -5", "switch": "on", "sexa": "1:30"}
    annotations = "".join(f"    {k}: {json.dumps(v)}\n" for k, v in odd.items())
    write(tmp_path, {"o/kustomization.yaml": "resources: [cm.yaml]\nnamespace: demo\n",
                     "o/cm.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations:\n{annotations}"
                                  "data: {a: b}\n"})
    rendered = subprocess.run([str(Path(sys.executable).parent / "kubectl"), "kustomize", "o"], cwd=tmp_path,
                              capture_output=True, text=True, check=True).stdout
    assert "date: 2026-02-30\n" in rendered  # kustomize writes it plain: the case this guards
    out = run(tmp_path, "o", "--format", "json")
    assert out.returncode == 0, out.stdout + out.stderr
    assert json.loads(out.stdout)["findings"] == []

    from policycheck.render import find_kustomize, render

    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        [obj] = render(Path("o"), find_kustomize()).objects
    finally:
        os.chdir(cwd)
    assert obj.annotations == odd


# -- hostile shapes with the Rego stage on -------------------------------------------------------------------------

def _rego_config(root: Path, policies: Path = ROOT / "policies") -> str:
    write(root, {"pc.yaml": f"conftest:\n  policies: [{policies}]\n  data: [{ROOT / 'policies/data'}]\n"})
    return str(root / "pc.yaml")


def test_secret_data_not_a_mapping_with_the_rego_stage(tmp_path: Path) -> None:
    require(which("conftest") is not None, "conftest not on PATH (make test installs it)")
    write(tmp_path, {"o/kustomization.yaml": "resources: [s.yaml]\n",
                     "o/s.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: a}\ndata: [x]\n---\n"
                                 "apiVersion: v1\nkind: Secret\nmetadata: {name: b}\nstringData: plain\n"})
    out = run(tmp_path, "o", "--format", "json", "--config", _rego_config(tmp_path))
    assert out.returncode == 1, out.stdout + out.stderr
    report = json.loads(out.stdout)
    assert report["tool"]["conftest"] and report["overlays"][0]["error"] is None
    assert {(f["rule"], f["name"], f["field"]) for f in report["findings"] if f["rule"] in ("field-type", "schema")} >= {
        ("schema", "a", "data"), ("schema", "b", "stringData")}


@pytest.mark.parametrize(("depth", "message"), [(150, "nested deeper than 100 levels"),
                                                (1000, "cannot be read: exceeded maximum nesting depth")])
def test_deep_nesting_is_a_finding_not_a_crash(tmp_path: Path, depth: int, message: str) -> None:
    require(which("conftest") is not None, "conftest not on PATH (make test installs it)")
    deep = "x"
    for _ in range(depth):
        deep = f"{{a: {deep}}}"
    write(tmp_path, {"o/kustomization.yaml": "resources: [w.yaml, cm.yaml]\n",
                     "o/w.yaml": f"apiVersion: example.com/v1\nkind: Widget\nmetadata: {{name: w}}\nspec: {deep}\n",
                     "o/cm.yaml": GOOD["good/cm.yaml"]})
    out = run(tmp_path, "o", "--format", "json", "--config", _rego_config(tmp_path))
    assert out.returncode == 1, out.stderr
    report = json.loads(out.stdout)
    [deep_finding] = [f for f in report["findings"] if f["rule"] == "field-type"]
    assert deep_finding["name"] == "w" and message in deep_finding["message"]
    assert report["tool"]["conftest"]  # the Rego stage ran on the other objects


# -- bad flags and encodings ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [["--timeout", "nan"], ["--timeout", "inf"], ["--timeout", "1e308"], ["--timeout", "-1"],
                                  ["--memory-limit", "99999999999999999999"], ["--select", ","]])
def test_absurd_flag_values_are_usage_errors(tmp_path: Path, args: list[str]) -> None:
    write(tmp_path, GOOD)
    out = run(tmp_path, "good", *args)
    assert (out.returncode, out.stdout) == (2, "") and out.stderr.startswith("policycheck: usage: ")
    assert out.stderr.count("\n") == 1


def test_ascii_terminal_gets_escapes_not_a_crash(tmp_path: Path) -> None:
    write(tmp_path, {"o/kustomization.yaml": "resources: [d.yaml]\n",
                     "o/d.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: café}\nspec:\n  containers:\n"
                                 "  - {name: naïve, image: 'x:1'}\n"})
    out = run(tmp_path, "o", env={"PYTHONIOENCODING": "ascii"})
    assert out.returncode == 1, out.stderr
    assert "caf\\xe9" in out.stdout and out.stderr == ""


def test_short_output_flag_and_zero_objects(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    out = run(tmp_path, "good", "-o", "r.json", "--format", "json", "--kustomize", "/bin/true")
    assert (out.returncode, out.stdout) == (0, "")
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["overlays"][0]["objects"] == 0 and "good renders no objects" in report["overlays"][0]["notes"]
    out = run(tmp_path, "good", "--kustomize", "/bin/true", "--require-objects")
    assert out.returncode == 2 and "the render yields no objects (--require-objects)" in out.stderr


def test_empty_policy_list_turns_the_rego_stage_off(tmp_path: Path) -> None:
    write(tmp_path, {**GOOD, "pc.yaml": "conftest:\n  policies: []\n"})
    out = run(tmp_path, "good", "--config", "pc.yaml", "--format", "json", env={"CI": "true"})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["notes"] == ["Rego stage skipped: conftest.policies is empty"]


# -- no secret value in any output ------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", ["nan-in-secret", "nan-in-configmap", "int-key", "bad-literal"])
def test_tool_errors_never_show_secret_values(tmp_path: Path, case: str) -> None:
    b64 = __import__("base64").b64encode(MARKER.encode()).decode()
    files = {
        "nan-in-secret": {"o/kustomization.yaml": "resources: [s.yaml]\n",
                          "o/s.yaml": f"apiVersion: v1\nkind: Secret\nmetadata: {{name: db}}\n"
                                      f"data: {{password: {b64}, n: .nan}}\nstringData: {{token: {MARKER}}}\n"},
        "nan-in-configmap": {"o/kustomization.yaml": "resources: [c.yaml]\n",
                             "o/c.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c}}\n"
                                         f"data: {{DB_PASSWORD: {MARKER}, ratio: .inf}}\n"},
        "int-key": {"o/kustomization.yaml": "resources: [d.yaml]\n",
                    "o/d.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
                                f"  - name: c\n    image: x:1\n    env: [{{name: API_TOKEN, value: {MARKER}}}]\n"
                                "    resources: {limits: {1: 2}}\n"},
        "bad-literal": {"o/kustomization.yaml": "secretGenerator:\n- name: creds\n  literals:\n"
                                                f"  - password={MARKER}\n  - broken-literal\n"},
    }[case]
    write(tmp_path, files)
    out = run(tmp_path, "o")
    assert out.returncode == 2 and out.stderr.count("\n") == 1, out.stdout + out.stderr
    no_leak(out, b64)
    if case.startswith("nan"):
        assert "<Secret/db>" in out.stderr or "<ConfigMap/c>" in out.stderr


def test_house_rule_messages_never_show_credentials(tmp_path: Path) -> None:
    require(which("conftest") is not None, "conftest not on PATH (make test installs it)")
    write(tmp_path, {
        "policies/echo.rego": 'package main\n\nimport rego.v1\n\n'
                              'deny contains {"msg": sprintf("env %v is %v in namespace %v", [e.name, e.value, '
                              'input[0].contents.metadata.namespace]), "rule": "echo", "kind": "Pod", "name": "p"} if {\n'
                              '  some doc in input\n  doc.contents.kind == "Pod"\n'
                              '  some e in doc.contents.spec.containers[0].env\n}\n',
        "o/kustomization.yaml": "namespace: shop-prod\nresources: [p.yaml, s.yaml]\n",
        "o/p.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: x:1\n"
                    f"    env: [{{name: SERVICE_TOKEN, value: {MARKER}}}]\n",
        # A short Secret value that is also a word of the namespace: only whole values are hidden.
        "o/s.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {user: shop}\n",
    })
    write(tmp_path, {"pc.yaml": f"conftest:\n  policies: [{tmp_path / 'policies'}]\n"})
    out = run(tmp_path, "o", "--config", "pc.yaml", "--format", "json")
    assert out.returncode == 1, out.stderr
    no_leak(out)
    [echo] = [f for f in json.loads(out.stdout)["findings"] if f["rule"] == "echo"]
    assert echo["message"] == "env SERVICE_TOKEN is <redacted> in namespace shop-prod"


# -- bounded work ------------------------------------------------------------------------------------------------------

def test_huge_values_do_not_stall_the_credential_scan(tmp_path: Path) -> None:
    value = "a://" + "b:" * 400_000  # quadratic for the old URL pattern: about a quarter of an hour
    write(tmp_path, {"o/kustomization.yaml": "resources: [c.yaml]\n",
                     "o/c.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c}}\ndata:\n  big: '{value}'\n"})
    started = time.monotonic()
    out = run(tmp_path, "o", "--format", "json")
    assert out.returncode == 0, out.stderr
    assert time.monotonic() - started < 60  # a hang guard, not a speed target


def test_rego_results_map_to_objects_in_linear_time() -> None:
    """Mapping N results onto N objects: the cost grows linearly (4x the input, well under 16x the time)."""

    def mapped(n: int) -> float:
        objects = [K8sObject({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"c{i}"}}, "o", None)
                   for i in range(n)]
        results = [{"namespace": "main", "severity": Severity.ERROR, "msg": f"m{i}",
                    "metadata": {"rule": "r", "kind": "ConfigMap", "name": f"c{i}"}} for i in range(n)]
        started = time.perf_counter()
        found = rego.to_findings(results, Rendered("o", objects))
        elapsed = time.perf_counter() - started
        assert [f.obj for f in found] == objects
        return elapsed

    mapped(500)  # warm-up
    small, large = min(mapped(1000) for _ in range(3)), min(mapped(4000) for _ in range(3))
    assert large / small < 10, (small, large)


def test_whole_check_is_bounded_by_the_timeout(tmp_path: Path) -> None:
    fake = tmp_path / "slow-conftest"
    fake.write_text("#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'Conftest: 0.0.0'; exit 0; fi\nsleep 60\n")
    fake.chmod(0o755)
    write(tmp_path, {**GOOD, "policies/x.rego": "package main\n", "pc.yaml": "conftest:\n  timeout: 600\n  policies: [policies]\n"})
    started = time.monotonic()
    out = run(tmp_path, "good", "--config", "pc.yaml", "--conftest", str(fake), "--timeout", "3")
    assert time.monotonic() - started < 30
    assert out.returncode == 2 and "conftest exceeded what the render and rules left of the overlay's --timeout" in out.stderr


# -- nothing from the input can forge a line of the text report ------------------------------------------------------

def test_control_characters_are_escaped_and_the_summary_cannot_be_forged(tmp_path: Path) -> None:
    reason = "ok\\r\\n0 errors, 0 warning(s), 0 exempted\\x1b[2K\\a"
    write(tmp_path, {"o/kustomization.yaml": "resources: [d.yaml]\n",
                     "o/d.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n"
                                 f"    policycheck.io/exempt.privileged-container: \"{reason}\"\n"
                                 "spec:\n  containers:\n  - name: \"c\\e[31m\"\n    image: x:1\n"
                                 "    securityContext: {privileged: true}\n"})
    out = run(tmp_path, "o")
    assert out.returncode == 1, out.stderr
    lines = out.stdout.splitlines()
    assert not any(ch in out.stdout for ch in "\r\x1b\x07")
    assert lines[-1] != SUMMARY_CLEAN and lines[-1].endswith("exempted")
    assert sum(line == SUMMARY_CLEAN for line in lines) == 0
    assert "ok\\x0d\\x0a0 errors" in out.stdout and "\\x1b[2K\\x07" in out.stdout


def test_source_lines_are_found_in_linear_time(tmp_path: Path) -> None:
    """Locating N findings in a file of N documents: linear (4x the input, well under 16x the time)."""
    from policycheck import provenance

    def located(n: int) -> float:
        path = tmp_path / f"cms-{n}.yaml"
        path.write_text("".join(f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-c{i}\ndata:\n  k: v\n"
                                for i in range(n)))
        objects = [K8sObject({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"prod-app-c{i}"},
                              "data": {"k": "v"}}, "o", str(path)) for i in range(n)]
        started = time.perf_counter()
        sources = [provenance.locate(o, "data.k") for o in objects]
        elapsed = time.perf_counter() - started
        assert [s.line for s in sources[:2]] == [7, 14]  # found through the renamed (prefixed) name
        return elapsed

    small, large = min(located(1000) for _ in range(2)), min(located(4000) for _ in range(2))
    assert large / small < 10, (small, large)


def test_unsupported_kube_version_names_where_it_was_set(tmp_path: Path) -> None:
    write(tmp_path, {**GOOD, "pc.yaml": 'kube-version: "1.20"\n'})
    out = run(tmp_path, "good", "--config", "pc.yaml")
    assert (out.returncode, out.stdout) == (2, "") and out.stderr.startswith("policycheck: pc.yaml: kube-version: unsupported 1.20 (have ")
    out = run(tmp_path, "good", "--kube-version", "9.99")
    assert out.returncode == 2 and out.stderr.startswith("policycheck: --kube-version unsupported 9.99 (have ")


def test_search_ignores_directories_named_like_kustomizations_and_plugin_dirs(tmp_path: Path) -> None:
    write(tmp_path, {
        **GOOD,
        "good/kustomization.yaml": "resources: [cm.yaml]\ntransformers: [../transformers]\n",
        "transformers/kustomization.yaml": "resources: [labels.yaml]\n",
        "transformers/labels.yaml": "apiVersion: builtin\nkind: LabelTransformer\nmetadata: {name: l}\n"
                                    "labels: {team: a}\nfieldSpecs: [{path: metadata/labels, create: true}]\n",
        "crds/Kustomization/.keep": "",
        "empty/kustomization.yaml": "",
    })
    out = run(tmp_path, ".", "--format", "json")
    report = json.loads(out.stdout)
    assert [o["path"] for o in report["overlays"]] == ["empty", "good"]
    assert report["overlays"][0]["error"] == "empty/kustomization.yaml: the kustomization is empty"


def test_profile_does_not_depend_on_how_the_path_is_spelt(tmp_path: Path) -> None:
    write(tmp_path, {"overlays/prod/kustomization.yaml": GOOD["good/kustomization.yaml"],
                     "overlays/prod/cm.yaml": GOOD["good/cm.yaml"],
                     "policycheck.yaml": "profiles:\n  strict:\n    extends: prod\n    overlays: [overlays/prod]\n"})
    profiles = set()
    for cwd, path in ((tmp_path, "overlays/prod"), (tmp_path / "overlays/prod", "."), (tmp_path / "overlays", "prod")):
        config = str(tmp_path / "policycheck.yaml")
        out = run(cwd, path, "--format", "json", "--config", config)
        profiles.add(json.loads(out.stdout)["overlays"][0]["profile"])
    assert profiles == {"strict"}
    out = run(tmp_path / "overlays/prod", ".", "--format", "json")  # no config: the built-in profile by directory name
    assert json.loads(out.stdout)["overlays"][0]["profile"] == "prod"


def test_time_waiting_behind_other_overlays_does_not_count(tmp_path: Path) -> None:
    files = {}
    for i in range(40):
        files[f"o{i:02}/kustomization.yaml"] = "resources: [cm.yaml]\n"
        files[f"o{i:02}/cm.yaml"] = f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}}}\ndata: {{a: b}}\n"
    write(tmp_path, files)
    started = time.monotonic()
    out = run(tmp_path, ".", "--format", "json", "--timeout", "3")
    took = time.monotonic() - started
    report = json.loads(out.stdout)
    assert len(report["overlays"]) == 40
    if took > 4:  # the run as a whole outlasted one overlay's budget: the case this guards
        assert report["summary"]["overlay_errors"] == 0, [o["error"] for o in report["overlays"] if o["error"]]
    assert out.returncode == 0, out.stderr
