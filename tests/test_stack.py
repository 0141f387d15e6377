"""Whole-stack properties of the rendered overlays: schema, Pod Security,
secrets, images, service accounts, resources, network policy, build hygiene."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from policycheck import pss, schema
from policycheck.k8s import containers, parse_quantity, pod_template
from policycheck.render import KUSTOMIZATION_NAMES, render
from tests.conftest import OVERLAYS, ROOT, find

SCHEMA_VERSIONS = ("1.32", "1.33", "1.34", "1.35")
WORKLOADS = {("StatefulSet", "postgresql"), ("StatefulSet", "redis"), ("Deployment", "api"), ("Deployment", "worker")}


@pytest.mark.parametrize("version", SCHEMA_VERSIONS)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_validates_strictly(rendered, overlay: str, version: str) -> None:
    problems = {}
    for obj in rendered[overlay]:
        errors = schema.validate(obj.doc, version)
        assert errors is not None, f"{obj.ref()}: no schema for {obj.api_version} in {version}"
        if errors:
            problems[obj.ref()] = errors
    assert problems == {}


def test_schema_validation_can_fail(rendered) -> None:
    deployment = find(rendered["prod"], "Deployment", "api").doc
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    broken["spec"]["template"]["spec"]["containers"][0]["terminationMessagePath"] = 17
    broken["spec"]["template"]["spec"]["containers"][0]["portz"] = []
    fields = [e.field for e in schema.validate(broken, "1.32")]
    assert fields == ["spec.template.spec.containers[0]", "spec.template.spec.containers[0].terminationMessagePath"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_is_pss_restricted(rendered, overlay: str) -> None:
    pods = [pod_template(o) for o in rendered[overlay]]
    pods = [p for p in pods if p is not None]
    assert {(p.obj.kind, p.obj.name) for p in pods} == WORKLOADS
    assert {p.obj.ref(): pss.restricted(p) for p in pods} == {p.obj.ref(): [] for p in pods}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_hardening_beyond_pss(rendered, overlay: str) -> None:
    objects = rendered[overlay]
    accounts = {o.name: o for o in objects if o.kind == "ServiceAccount"}
    for obj in objects:
        pod = pod_template(obj)
        if pod is None:
            continue
        account = pod.spec.value.get("serviceAccountName")
        assert account == obj.name, f"{obj.ref()} must run as its own ServiceAccount"
        assert accounts[account].doc.get("automountServiceAccountToken") is False
        assert pod.spec.value.get("automountServiceAccountToken") is False
        for c in containers(pod):
            assert c.spec.value["securityContext"]["readOnlyRootFilesystem"] is True, c.path
            writable = {m["name"] for m in c.spec.value.get("volumeMounts", [])}
            assert "tmp" in writable, f"{obj.ref()}: /tmp must be an emptyDir"
            for kind in ("requests", "limits"):
                assert set(c.spec.value["resources"][kind]) == {"cpu", "memory", "ephemeral-storage"}, (obj.ref(), kind)


def _resources(objects) -> dict[tuple[str, str], float]:  # noqa: ANN001
    out = {}
    for obj in objects:
        pod = pod_template(obj)
        for c in containers(pod) if pod else ():
            for kind, values in c.spec.value["resources"].items():
                for res, value in values.items():
                    out[(obj.name, f"{kind}.{res}")] = parse_quantity(value)
    return out


def test_dev_is_smaller_than_prod(rendered) -> None:
    dev, prod = _resources(rendered["dev"]), _resources(rendered["prod"])
    assert dev.keys() == prod.keys() and dev
    assert {k for k in dev if dev[k] >= prod[k]} == set()


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_requests_fit_limits(rendered, overlay: str) -> None:
    values = _resources(rendered[overlay])
    for (name, key), value in values.items():
        if key.startswith("requests."):
            assert value <= values[(name, key.replace("requests", "limits"))], (name, key)


def test_prod_images_pinned_by_tag_and_digest(rendered) -> None:
    images = {c.spec.value["image"] for o in rendered["prod"] if (p := pod_template(o)) for c in containers(p)}
    assert len(images) == 3
    for image in images:
        assert re.fullmatch(r"[^:@]+:[\w.-]+@sha256:[0-9a-f]{64}", image), image
    assert any(i.startswith("postgres:17-alpine@") for i in images)
    assert any(i.startswith("redis:7-alpine@") for i in images)


def test_dev_runs_one_replica_of_each_workload(rendered) -> None:
    replicas = {(o.kind, o.name): o.doc["spec"].get("replicas") for o in rendered["dev"] if pod_template(o)}
    assert replicas == {w: 1 for w in WORKLOADS}


def test_hpa_owns_the_prod_worker_count(rendered) -> None:
    assert "replicas" not in find(rendered["prod"], "Deployment", "worker").doc["spec"]


def test_prod_network_policy(rendered) -> None:
    policies = {o.name: o.doc["spec"] for o in rendered["prod"] if o.kind == "NetworkPolicy"}
    deny = policies.pop("default-deny-all")
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    ports = {
        (name, rule_kind, port["port"])
        for name, spec in policies.items()
        for rule_kind in ("ingress", "egress")
        for rule in spec.get(rule_kind, [])
        for port in rule.get("ports", [])
    }
    assert ports == {
        ("allow-dns", "egress", 53),
        ("api-ingress", "ingress", 8000),
        ("app-egress", "egress", 5432),
        ("app-egress", "egress", 6379),
        ("app-egress", "egress", 443),
        ("postgresql-ingress", "ingress", 5432),
        ("redis-ingress", "ingress", 6379),
    }
    assert not [o for o in rendered["dev"] if o.kind == "NetworkPolicy"]


def test_prod_holds_no_secret_values(rendered) -> None:
    prod = rendered["prod"]
    assert [o.ref() for o in prod if o.kind == "Secret"] == []
    text = yaml.safe_dump_all([o.doc for o in prod])
    for word in ("password=", "dev-only", "sk-", "BEGIN PRIVATE KEY"):
        assert word not in text
    for obj in prod:
        pod = pod_template(obj)
        for c in containers(pod) if pod else ():
            for env in c.spec.value.get("env", []):
                literal = env.get("value", "")
                assert not re.search(r"://[^/\s]*:[^@/\s]+@", literal), f"{obj.ref()} {env['name']}"
                if re.search(r"PASSWORD|TOKEN|KEY|SECRET", env["name"]) and not env["name"].endswith("_FILE"):
                    assert "valueFrom" in env, f"{obj.ref()}: {env['name']} must come from a Secret"


def test_prod_references_the_documented_external_secrets(rendered) -> None:
    names = set()
    for obj in rendered["prod"]:
        pod = pod_template(obj)
        for c in containers(pod) if pod else ():
            names |= {e["valueFrom"]["secretKeyRef"]["name"] for e in c.spec.value.get("env", [])
                      if "secretKeyRef" in e.get("valueFrom", {})}
        for volume in pod.spec.value.get("volumes", []) if pod else ():
            if "secret" in volume:
                names.add(volume["secret"]["secretName"])
    assert names == {"ai-agents-app", "postgresql-credentials", "redis-credentials"}
    example = (ROOT / "overlays/prod/secrets.env.example").read_text()
    script = (ROOT / "hack/create-secrets.sh").read_text()
    for name in names:
        assert name in script
    for var in ("POSTGRES_USER", "POSTGRES_PASSWORD", "REDIS_PASSWORD", "DATABASE_URL", "REDIS_URL", "OPENAI_API_KEY"):
        assert re.search(rf"^{var}=", example, re.M) and var in script


def test_real_secret_files_are_ignored() -> None:
    probe = ["overlays/prod/secrets/app.env", "overlays/prod/prod.secret.env", "secrets.yaml", ".env"]
    out = subprocess.run(["git", "check-ignore", *probe], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert out.stdout.split() == probe
    tracked = subprocess.run(["git", "check-ignore", "overlays/prod/secrets.env.example"], cwd=ROOT,
                             capture_output=True, text=True, timeout=30)
    assert tracked.returncode == 1


def test_dev_renders_from_a_fresh_clone(kustomize, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only tracked files: nothing ignored or hand-made is needed to render dev."""
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, capture_output=True, timeout=30, check=True).stdout.split(b"\0")
    for rel in filter(None, (f.decode() for f in files)):
        source = ROOT / rel
        if source.is_file():
            (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, tmp_path / rel)
    monkeypatch.chdir(tmp_path)
    objects = render(Path("overlays/dev"), kustomize).objects
    secrets = {o.name.rsplit("-", 1)[0] for o in objects if o.kind == "Secret"}
    assert secrets == {"ai-agents-app", "postgresql-credentials", "redis-credentials"}
    assert {o.origin for o in objects if o.kind == "Deployment"} == {"base/api/deployment.yaml", "base/worker/deployment.yaml"}


DEPRECATED_FIELDS = ("commonLabels", "patchesStrategicMerge", "patchesJson6902", "bases", "vars", "imageTags")


def test_no_deprecated_kustomize_fields() -> None:
    files = [p for name in KUSTOMIZATION_NAMES for d in ("base", "overlays") for p in (ROOT / d).rglob(name)]
    assert len(files) >= 7
    for path in files:
        data = yaml.safe_load(path.read_text())
        assert set(DEPRECATED_FIELDS) & set(data) == set(), path
        assert data["apiVersion"] == "kustomize.config.k8s.io/v1beta1"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_build_prints_no_warning(kustomize, overlay: str) -> None:
    out = subprocess.run([*kustomize.argv, f"overlays/{overlay}"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    assert out.stdout.count("\nkind: ") + out.stdout.startswith("kind: ") >= 18


def test_overlays_only_state_what_differs() -> None:
    """Both overlays share nothing but structure: the base, the label component, the generator names."""
    def lines(name: str) -> set[str]:
        text = (ROOT / f"overlays/{name}/kustomization.yaml").read_text()
        return {ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")}

    shared = lines("dev") & lines("prod")
    allowed = {
        "apiVersion: kustomize.config.k8s.io/v1beta1", "kind: Kustomization", "namespace: ai-agents",
        "resources:", "- ../../base", "labels:", "- pairs:", "includeTemplates: true", "images:",
        "- name: ai-agents/app", "replicas:", "- name: api", "configMapGenerator:",
        "- name: ai-agents-config", "literals:", "components:", "- ../../components/platform-labels",
        "generatorOptions:", "app.kubernetes.io/name: ai-agents",
    }
    assert shared - allowed == set()
