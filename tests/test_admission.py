"""admission/: generated from policycheck's rule registry, fresh, cluster-scoped, one Deny binding per policy."""

from __future__ import annotations

import subprocess
import sys

import yaml

from policycheck.render import find_kustomize
from tests.conftest import ROOT, load_script

gen = load_script(ROOT / "hack" / "gen-admission.py", "gen_admission")
ADMISSION = ROOT / "admission"


def test_admission_is_fresh() -> None:
    files = gen.render()
    assert sorted(p.name for p in ADMISSION.iterdir()) == sorted(files), "run python3 hack/gen-admission.py"
    for name, text in files.items():
        assert (ADMISSION / name).read_text(encoding="utf-8") == text, f"admission/{name} is stale: run " \
            "python3 hack/gen-admission.py"
    done = subprocess.run([sys.executable, str(ROOT / "hack" / "gen-admission.py"), "--check"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert (done.returncode, done.stderr) == (0, "")


def _build() -> list[dict]:
    kustomize = find_kustomize()
    done = subprocess.run([*kustomize.argv, str(ADMISSION)], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def test_admission_render_is_cluster_scoped() -> None:
    kustomization = yaml.safe_load((ADMISSION / "kustomization.yaml").read_text(encoding="utf-8"))
    assert "namespace" not in kustomization and "components" not in kustomization
    objects = _build()
    assert all(o["apiVersion"] == "admissionregistration.k8s.io/v1" for o in objects)
    assert all("namespace" not in o["metadata"] for o in objects)
    policies = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ValidatingAdmissionPolicy"}
    bindings = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ValidatingAdmissionPolicyBinding"}
    assert len(policies) + len(bindings) == len(objects)
    assert {b["spec"]["policyName"] for b in bindings.values()} == set(policies)
    for binding in bindings.values():
        spec = binding["spec"]
        assert spec["validationActions"] == ["Deny"]
        selector = spec["matchResources"]["namespaceSelector"]
        assert selector["matchLabels"] == {"kubernetes.io/metadata.name": "ai-agents"}


def test_policies_enforce_the_profiles_rules() -> None:
    """dev: the pod rules at error in dev; prod adds image-digest. Every message names its rule id."""
    objects = _build()
    rules = {o["metadata"]["name"]: o["metadata"]["annotations"]["policycheck.io/rules"].split(",")
             for o in objects if o["kind"] == "ValidatingAdmissionPolicy"}
    dev = ["run-as-non-root", "image-tag-pinned", "resource-limits"]
    prod = ["run-as-non-root", "image-tag-pinned", "image-digest", "resource-limits"]
    assert rules == {f"policycheck-{p}-{shape}": expected for p, expected in (("dev", dev), ("prod", prod))
                     for shape in ("pods", "workloads", "cronjobs")}
    for policy in (o for o in objects if o["kind"] == "ValidatingAdmissionPolicy"):
        variables = {v["name"]: v["expression"] for v in policy["spec"]["variables"]}
        for rule in policy["metadata"]["annotations"]["policycheck.io/rules"].split(","):
            assert f"'{rule}: container '" in variables[gen.camel(rule)]
        assert policy["spec"]["failurePolicy"] == "Fail"


def test_every_admission_rule_is_a_registered_rule() -> None:
    from policycheck.rules import REGISTRY

    assert set(gen.RULES) <= set(REGISTRY)
    assert set(gen.VIEWS) == {rule.view for rule in gen.RULES.values()}


def test_each_overlay_labels_its_namespace_with_its_profile(rendered: dict) -> None:
    """The bindings tell prod by the `environment: prod` label of the ai-agents Namespace, which the
    overlay itself stamps: applying overlays/prod turns the digest rule on, overlays/dev leaves it off."""
    selectors = {b["metadata"]["name"]: b["spec"]["matchResources"]["namespaceSelector"]
                 for b in _build() if b["kind"] == "ValidatingAdmissionPolicyBinding"}
    for overlay in ("dev", "prod"):
        (namespace,) = [o.doc for o in rendered[overlay] if o.kind == "Namespace"]
        labels = {**namespace["metadata"]["labels"], "kubernetes.io/metadata.name": namespace["metadata"]["name"]}
        selected = {name.split("-")[1] for name, selector in selectors.items() if _selects(selector, labels)}
        assert selected == {overlay}, f"overlays/{overlay}: its Namespace falls under the {selected} bindings"


def _selects(selector: dict, labels: dict[str, str]) -> bool:
    """A LabelSelector of the forms the generator writes (matchLabels, In, NotIn)."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expr in selector.get("matchExpressions", []):
        assert expr["operator"] in ("In", "NotIn"), expr
        value = labels.get(expr["key"])
        if (expr["operator"] == "In") != (value in expr["values"]):
            return False
    return True
