"""Both overlays on a real kube-apiserver: applied as documented, re-applied without change, rolled
out on kwok nodes, upgraded, admitted at Pod Security `restricted`, and cleaned up as documented.

Each overlay gets a control plane of its own (they share the `ai-agents` namespace). The fixture
runs the deployment steps in the order a user would and records what each printed; the tests then
judge one step each, so one defect fails one test and the rest still report.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cluster.conftest import NAMESPACE, get_json, new_cluster, render, wait_for
from tests.conftest import ROOT

OVERLAYS = ("dev", "prod")
ROLLOUT_TIMEOUT = 120.0
# Fake values for hack/create-secrets.sh (prod expects its Secrets to exist before the apply).
PROD_SECRETS = {
    "POSTGRES_USER": "ai_agents",
    "POSTGRES_PASSWORD": "cluster-tier-password-not-real",
    "DATABASE_URL": "postgresql://ai_agents:cluster-tier-password-not-real@postgresql:5432/ai_agents",
    "REDIS_PASSWORD": "cluster-tier-redis-password-not-real",
    "REDIS_URL": "redis://:cluster-tier-redis-password-not-real@redis:6379/0",
    "OPENAI_API_KEY": "cluster-tier-key-not-real",
}


@dataclass
class Deployed:
    overlay: str
    cluster: Any
    steps: dict[str, subprocess.CompletedProcess[str]] = field(default_factory=dict)
    versions: dict[str, dict[str, str]] = field(default_factory=dict)

    def kubectl(self, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return self.cluster.kubectl(*args, **kwargs)

    def step(self, name: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        done = self.kubectl(*args, stdin=stdin, check=False, timeout=120)
        self.steps[name] = done
        return done

    def objects(self) -> list[dict]:
        return [d for d in yaml.safe_load_all(render(ROOT / "overlays" / self.overlay)) if d]

    def snapshot(self) -> dict[str, str]:
        """kind/name -> every object of the overlay as the server holds it, without what controllers
        keep changing (status, resourceVersion, managedFields): equal snapshots mean no write."""
        found = {}
        for obj in self.objects():
            ns = ["-n", obj["metadata"]["namespace"]] if obj["metadata"].get("namespace") else []
            live = get_json(self.cluster, *ns, obj["kind"].lower(), obj["metadata"]["name"])
            live.pop("status", None)
            for key in ("resourceVersion", "managedFields"):
                live["metadata"].pop(key, None)
            found[f"{obj['kind']}/{obj['metadata']['name']}"] = json.dumps(live, sort_keys=True)
        return found


def _create_secrets(cluster: Any, namespace: str = NAMESPACE) -> subprocess.CompletedProcess[str]:
    env = {**cluster.env(), **PROD_SECRETS}
    return subprocess.run(["bash", str(ROOT / "hack" / "create-secrets.sh"), "--namespace", namespace], env=env,
                          capture_output=True, text=True, timeout=120, check=False, cwd=ROOT)


@pytest.fixture(scope="module", params=OVERLAYS)
def deployed(request: pytest.FixtureRequest) -> Any:
    overlay = request.param
    with new_cluster(request) as cluster:
        d = Deployed(overlay, cluster)
        path = str(ROOT / "overlays" / overlay)
        # docs/deployment.md: the Namespace first (a server dry-run of the rest needs it), then the dry run.
        namespace = d.kubectl("create", "namespace", NAMESPACE, "--dry-run=client", "-o", "yaml").stdout
        d.step("namespace", "apply", "--server-side", "-f", "-", stdin=namespace)
        if overlay == "prod":
            d.steps["secrets"] = _create_secrets(cluster)
        d.step("dry-run", "apply", "--server-side", "--dry-run=server", "-k", path)
        # Users who applied client-side before: apply twice that way, then switch to server-side apply.
        d.step("client-apply", "apply", "-k", path)
        wait_for("the first rollout", lambda: not _available(d) or None, timeout=ROLLOUT_TIMEOUT)
        d.versions["client-apply"] = d.snapshot()
        d.step("client-reapply", "apply", "-k", path)
        d.versions["client-reapply"] = d.snapshot()
        d.step("server-apply", "apply", "--server-side", "-k", path)
        d.versions["server-apply"] = d.snapshot()
        d.step("server-reapply", "apply", "--server-side", "-k", path)
        d.versions["server-reapply"] = d.snapshot()
        yield d
        if request.config.getoption("--existing-cluster"):
            cluster.kubectl("delete", "namespace", NAMESPACE, "--wait=true", check=False, timeout=300)


def _ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, f"exit {done.returncode}\nstdout: {done.stdout[-2000:]}\nstderr: {done.stderr[-2000:]}"
    return done.stdout


def test_server_dry_run_has_no_warnings(deployed: Deployed) -> None:
    _ok(deployed.steps["namespace"])
    out = _ok(deployed.steps["dry-run"])
    assert "Warning" not in deployed.steps["dry-run"].stderr, deployed.steps["dry-run"].stderr
    assert "(server dry run)" in out


def _written(deployed: Deployed, before: str, after: str) -> list[str]:
    old, new = deployed.versions[before], deployed.versions[after]
    return sorted(k for k in old if old[k] != new.get(k))


def test_client_side_reapply_changes_nothing(deployed: Deployed) -> None:
    _ok(deployed.steps["client-apply"])
    out = _ok(deployed.steps["client-reapply"])
    assert "Warning" not in deployed.steps["client-reapply"].stderr, deployed.steps["client-reapply"].stderr
    assert _written(deployed, "client-apply", "client-reapply") == []
    # kubectl always re-sends a PodDisruptionBudget's selector (its patch strategy is "replace") and so
    # prints "configured" although the server writes nothing (checked above); every other object must
    # print "unchanged": what the manifests say is exactly what the server stores.
    said = [line for line in out.splitlines() if not line.endswith(" unchanged")]
    assert [line for line in said if not line.startswith("poddisruptionbudget.policy/")] == [], out


def test_switch_to_server_side_apply_has_no_conflict(deployed: Deployed) -> None:
    _ok(deployed.steps["server-apply"])


def test_server_side_reapply_is_a_no_op(deployed: Deployed) -> None:
    _ok(deployed.steps["server-reapply"])
    assert _written(deployed, "server-apply", "server-reapply") == []


def test_created_secrets_keep_no_copy_of_their_values(deployed: Deployed) -> None:
    """hack/create-secrets.sh (run for prod before its apply, and here once more into a namespace of
    its own) applies server-side: no last-applied annotation holds the values, none is printed."""
    namespace = f"secrets-{deployed.overlay}"
    deployed.kubectl("create", "namespace", namespace)
    for done in filter(None, (deployed.steps.get("secrets"), _create_secrets(deployed.cluster, namespace))):
        assert done.returncode == 0, done.stderr
        for value in PROD_SECRETS.values():
            assert value not in done.stdout + done.stderr
    for name in ("postgresql-credentials", "ai-agents-app"):
        secret = get_json(deployed.cluster, "-n", namespace, "secret", name)
        annotations = secret["metadata"].get("annotations") or {}
        assert "kubectl.kubernetes.io/last-applied-configuration" not in annotations, name


def _available(deployed: Deployed) -> list[str]:
    """Workloads not yet ready (empty when all are)."""
    waiting = []
    for kind in ("deployment", "statefulset"):
        for item in get_json(deployed.cluster, "-n", NAMESPACE, kind)["items"]:
            want = item["spec"].get("replicas", 1)
            status = item.get("status", {})
            have = status.get("availableReplicas" if kind == "deployment" else "readyReplicas", 0)
            if have < want or status.get("observedGeneration") != item["metadata"]["generation"]:
                waiting.append(f"{kind}/{item['metadata']['name']} {have}/{want}")
    return waiting


def test_every_workload_becomes_ready_on_kwok_nodes(deployed: Deployed) -> None:
    wait_for("every Deployment and StatefulSet ready", lambda: not _available(deployed) or None,
             timeout=ROLLOUT_TIMEOUT)
    assert not _available(deployed)
    pods = get_json(deployed.cluster, "-n", NAMESPACE, "pods")["items"]
    assert pods, "no pods"
    for pod in pods:
        assert pod["spec"].get("nodeName", "").startswith("kwok-node-"), pod["metadata"]["name"]


def test_claims_are_bound_with_the_platform_labels(deployed: Deployed) -> None:
    def bound() -> list[dict] | None:
        claims = get_json(deployed.cluster, "-n", NAMESPACE, "pvc")["items"]
        return claims if len(claims) == 2 and all(c["status"].get("phase") == "Bound" for c in claims) else None

    claims = wait_for("both claims Bound", bound, timeout=ROLLOUT_TIMEOUT)
    for claim in claims:
        labels = claim["metadata"].get("labels") or {}
        assert labels.get("project") == "ai-agents", (claim["metadata"]["name"], labels)
        assert labels.get("app.kubernetes.io/part-of") == "ai-agents", (claim["metadata"]["name"], labels)
    sizes = {c["metadata"]["name"]: c["spec"]["resources"]["requests"]["storage"] for c in claims}
    rendered = {}
    for obj in deployed.objects():
        if obj["kind"] == "StatefulSet":
            for template in obj["spec"]["volumeClaimTemplates"]:
                name = f"{template['metadata']['name']}-{obj['metadata']['name']}-0"
                rendered[name] = template["spec"]["resources"]["requests"]["storage"]
    assert sizes == rendered


def test_every_service_has_ready_endpoints(deployed: Deployed) -> None:
    services = [s for s in get_json(deployed.cluster, "-n", NAMESPACE, "services")["items"] if s["spec"].get("selector")]
    assert services

    def missing() -> list[str]:
        slices = get_json(deployed.cluster, "-n", NAMESPACE, "endpointslices")["items"]
        ready: set[str] = set()
        for s in slices:
            owner = s["metadata"].get("labels", {}).get("kubernetes.io/service-name")
            if any(e.get("conditions", {}).get("ready") for e in s.get("endpoints") or []):
                ready.add(owner)
        return [s["metadata"]["name"] for s in services if s["metadata"]["name"] not in ready]

    wait_for("ready endpoints for every Service", lambda: not missing() or None, timeout=ROLLOUT_TIMEOUT)


def test_autoscaler_and_disruption_budgets_are_accepted(deployed: Deployed) -> None:
    rendered = {(o["kind"], o["metadata"]["name"]) for o in deployed.objects()}
    for kind, name in sorted(k for k in rendered if k[0] in ("HorizontalPodAutoscaler", "PodDisruptionBudget")):
        live = get_json(deployed.cluster, "-n", NAMESPACE, kind.lower(), name)
        assert live["metadata"]["name"] == name
    if deployed.overlay == "prod":
        assert ("HorizontalPodAutoscaler", "worker") in rendered
        assert sum(1 for k in rendered if k[0] == "PodDisruptionBudget") >= 2


def test_pods_run_at_the_priority_of_their_class(deployed: Deployed) -> None:
    """prod's PriorityClasses exist before its pods, and the server resolves each pod's class to its value
    (dev sets none: every pod at 0). A pod naming a missing class would never be created."""
    objects = deployed.objects()
    classes = {o["metadata"]["name"]: o for o in objects if o["kind"] == "PriorityClass"}
    expected = {}
    for obj in objects:
        if obj["kind"] in ("Deployment", "StatefulSet"):
            name = obj["spec"]["template"]["spec"].get("priorityClassName")
            cls = classes.get(name, {})
            expected[obj["metadata"]["name"]] = (name, cls.get("value", 0), cls.get("preemptionPolicy",
                                                                                    "PreemptLowerPriority"))
    if deployed.overlay == "prod":
        assert {n for n, _, _ in expected.values()} == set(classes) == {"ai-agents-serving", "ai-agents-workers"}
    pods = get_json(deployed.cluster, "-n", NAMESPACE, "pods")["items"]
    seen = {}
    for pod in pods:
        app = pod["metadata"]["labels"].get("app")
        seen[app] = (pod["spec"].get("priorityClassName"), pod["spec"].get("priority"),
                     pod["spec"].get("preemptionPolicy"))
    assert seen == expected


# -- upgrade ---------------------------------------------------------------------------------------------------


def _tree_copy(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    for sub in ("base", "components", "overlays"):
        shutil.copytree(ROOT / sub, root / sub)
    return root


def test_upgrade_with_a_new_label_and_new_sizes_applies(deployed: Deployed, tmp_path: Path) -> None:
    """A label added to the platform labels and changed container sizes reach a live overlay (the
    StatefulSets' volumeClaimTemplates must not change), and the current render applies back over it."""
    tree = _tree_copy(tmp_path)
    component = tree / "components" / "platform-labels"
    text = "\n".join(p.read_text() for p in sorted(component.glob("*.yaml")))
    assert "app.kubernetes.io/part-of: ai-agents" in text
    for p in sorted(component.glob("*.yaml")):
        p.write_text(p.read_text().replace("app.kubernetes.io/part-of: ai-agents",
                                           "app.kubernetes.io/part-of: ai-agents\n      team: platform"))
    for p in (tree / "base").rglob("*.yaml"):
        p.write_text(re.sub(r"memory: 256Mi", "memory: 320Mi", p.read_text()))
    upgraded = tree / "overlays" / deployed.overlay
    done = deployed.kubectl("apply", "--server-side", "-k", str(upgraded), check=False, timeout=120)
    _ok(done)
    labels = get_json(deployed.cluster, "-n", NAMESPACE, "statefulset", "postgresql")["metadata"]["labels"]
    assert labels.get("team") == "platform"
    done = deployed.kubectl("apply", "--server-side", "-k", str(ROOT / "overlays" / deployed.overlay),
                            check=False, timeout=120)
    _ok(done)


# -- Pod Security ------------------------------------------------------------------------------------------------


def _pod_templates(objects: list[dict]) -> list[tuple[str, dict]]:
    found = []
    for obj in objects:
        spec = obj.get("spec") or {}
        template = spec.get("template") or (spec.get("jobTemplate") or {}).get("spec", {}).get("template")
        if template:
            template = json.loads(json.dumps(template))
            # The StatefulSet controller adds a claim volume for each claim template, as here.
            for claim in spec.get("volumeClaimTemplates") or []:
                name = claim["metadata"]["name"]
                template["spec"].setdefault("volumes", []).append(
                    {"name": name, "persistentVolumeClaim": {"claimName": f"{name}-{obj['metadata']['name']}-0"}})
            found.append((f"{obj['kind']}/{obj['metadata']['name']}", template))
    return found


def test_every_pod_template_is_admitted_at_restricted(deployed: Deployed) -> None:
    objects = deployed.objects()
    namespace = next(o for o in objects if o["kind"] == "Namespace")
    labels = namespace["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    templates = _pod_templates(objects)
    assert templates
    for version in (labels["pod-security.kubernetes.io/enforce-version"], "latest"):
        ns = f"pss-{deployed.overlay}-{version.replace('.', '-')}"
        deployed.kubectl("create", "namespace", ns, check=False)
        deployed.kubectl("label", "--overwrite", "namespace", ns, "pod-security.kubernetes.io/enforce=restricted",
                         f"pod-security.kubernetes.io/enforce-version={version}")
        for account in sorted({t["spec"].get("serviceAccountName", "default") for _, t in templates} - {"default"}):
            deployed.kubectl("create", "serviceaccount", account, "-n", ns, check=False)
        for name, template in templates:
            pod = {"apiVersion": "v1", "kind": "Pod",
                   "metadata": {"name": "pss-probe", "labels": template.get("metadata", {}).get("labels", {})},
                   "spec": template["spec"]}
            done = deployed.kubectl("create", "--dry-run=server", "-n", ns, "-f", "-", stdin=json.dumps(pod),
                                    check=False)
            assert done.returncode == 0 and "Warning" not in done.stderr, (name, version, done.stderr)
        root_pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "root"},
                    "spec": {"containers": [{"name": "c", "image": "busybox:1.36",
                                             "securityContext": {"runAsUser": 0}}]}}
        done = deployed.kubectl("create", "--dry-run=server", "-n", ns, "-f", "-", stdin=json.dumps(root_pod),
                                check=False)
        assert done.returncode != 0 and "violates PodSecurity" in done.stderr, done.stderr


# -- cleanup (last: it removes the overlay) ------------------------------------------------------------------------


def test_documented_cleanup_keeps_volumes_then_removes_everything(deployed: Deployed) -> None:
    docs = (ROOT / "docs" / "deployment.md").read_text()
    keep = re.search(r"```bash\n# keep the data\n(.*?)\n```", docs, re.S)
    assert keep, "docs/deployment.md has a '# keep the data' cleanup block"
    env = {**deployed.cluster.env(), "OVERLAY": deployed.overlay}
    for line in keep.group(1).splitlines():
        if line.strip() and not line.startswith("#"):
            command = line.split("  #")[0].replace("overlays/dev", f"overlays/{deployed.overlay}")
            done = subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True, timeout=300,
                                  check=False, cwd=ROOT)
            assert done.returncode == 0, (command, done.stderr)
    claims = get_json(deployed.cluster, "-n", NAMESPACE, "pvc")["items"]
    assert len(claims) == 2, "the documented cleanup must keep both volumes"
    workloads = get_json(deployed.cluster, "-n", NAMESPACE, "deployments,statefulsets")["items"]
    assert workloads == []
    assert get_json(deployed.cluster, "priorityclasses", "-l", "app.kubernetes.io/part-of=ai-agents")["items"] == []
