"""Plant one violation into the project's own rendered prod overlay with an
RFC 6902 patch and check that exactly the expected rule fires on exactly
that object."""

from __future__ import annotations

import copy
import datetime as dt

import jsonpatch
import pytest

from policycheck import config, engine
from policycheck.context import Base
from policycheck.model import K8sObject
from policycheck.render import Rendered

TODAY = dt.date(2026, 11, 28)
POD = "/spec/template/spec"
C0 = f"{POD}/containers/0"

# Objects the prod render does not have, planted whole (targets "+Kind/name", the patch applied to the
# object before it is added): clean as written here (test_planted_objects_are_clean), so the patch alone
# makes the finding.
DIGEST = "ai-agents/app:0.1.0@sha256:4b6f0e7c1a9d3e2f5a8b7c6d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b"
_META = {"namespace": "ai-agents", "labels": {"app.kubernetes.io/part-of": "ai-agents", "project": "ai-agents"}}
_JOB_POD = {
    "metadata": {"labels": {"app": "cleanup", "project": "ai-agents"}},
    "spec": {
        "restartPolicy": "OnFailure",
        "automountServiceAccountToken": False,
        "serviceAccountName": "worker",
        "priorityClassName": "ai-agents-workers",
        "securityContext": {"runAsNonRoot": True, "runAsUser": 1000, "runAsGroup": 1000,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{
            "name": "cleanup",
            "image": DIGEST,
            "imagePullPolicy": "IfNotPresent",
            "command": ["python", "-m", "src.cleanup"],
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi", "ephemeral-storage": "64Mi"},
                          "limits": {"cpu": "500m", "memory": "256Mi", "ephemeral-storage": "256Mi"}},
            "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                                "readOnlyRootFilesystem": True, "runAsNonRoot": True, "runAsUser": 1000},
        }],
    },
}
_RBAC = "rbac.authorization.k8s.io"
PLANTED = {
    "CronJob/cleanup": {
        "apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "cleanup", **_META},
        "spec": {"schedule": "0 3 * * *", "startingDeadlineSeconds": 600, "concurrencyPolicy": "Forbid",
                 "jobTemplate": {"spec": {"activeDeadlineSeconds": 3600, "template": _JOB_POD}}},
    },
    "Job/migrate": {
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate", **_META},
        "spec": {"activeDeadlineSeconds": 600, "ttlSecondsAfterFinished": 3600, "backoffLimit": 2,
                 "template": _JOB_POD},
    },
    "Role/reader": {
        "apiVersion": f"{_RBAC}/v1", "kind": "Role", "metadata": {"name": "reader", **_META},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]}],
    },
    "ClusterRole/reader": {
        "apiVersion": f"{_RBAC}/v1", "kind": "ClusterRole", "metadata": {"name": "reader"},
        "rules": [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "list"]}],
    },
    "RoleBinding/reader": {
        "apiVersion": f"{_RBAC}/v1", "kind": "RoleBinding", "metadata": {"name": "reader", **_META},
        "roleRef": {"apiGroup": _RBAC, "kind": "Role", "name": "reader"},
        "subjects": [{"kind": "ServiceAccount", "name": "api", "namespace": "ai-agents"}],
    },
}
JOB_POD = "/spec/jobTemplate/spec/template/spec"
RULE0 = "/rules/0"

# (target kind/name, patch, expected {(rule, kind, name)})
MUTATIONS = [
    ("Deployment/api", [{"op": "replace", "path": f"{C0}/securityContext/runAsUser", "value": 0}],
     {("run-as-non-root", "Deployment", "api")}),
    ("Deployment/api", [{"op": "replace", "path": f"{C0}/securityContext/allowPrivilegeEscalation", "value": True}],
     {("privilege-escalation", "Deployment", "api")}),
    ("StatefulSet/redis", [{"op": "add", "path": f"{C0}/securityContext/privileged", "value": True}],
     {("privileged-container", "StatefulSet", "redis")}),
    ("Deployment/worker", [{"op": "add", "path": f"{C0}/securityContext/capabilities/add", "value": ["NET_ADMIN"]}],
     {("capabilities", "Deployment", "worker")}),
    ("StatefulSet/postgresql", [{"op": "remove", "path": f"{POD}/securityContext/seccompProfile"}],
     {("seccomp-profile", "StatefulSet", "postgresql")}),
    ("Deployment/api", [{"op": "replace", "path": f"{C0}/securityContext/readOnlyRootFilesystem", "value": False}],
     {("read-only-root-fs", "Deployment", "api")}),
    ("Deployment/api", [{"op": "add", "path": f"{POD}/hostIPC", "value": True}],
     {("host-namespaces", "Deployment", "api")}),
    ("Deployment/worker", [{"op": "add", "path": f"{POD}/volumes/-", "value": {"name": "h", "hostPath": {"path": "/var"}}}],
     {("host-path", "Deployment", "worker")}),
    ("Deployment/api", [{"op": "replace", "path": f"{POD}/automountServiceAccountToken", "value": True}],
     {("service-account-token", "Deployment", "api")}),
    ("Deployment/worker", [{"op": "replace", "path": f"{C0}/image", "value": "ai-agents/app:latest"}],
     # The container keeps imagePullPolicy: IfNotPresent, wrong for an image no longer pinned by digest.
     {("image-tag-pinned", "Deployment", "worker"), ("image-digest", "Deployment", "worker"),
      ("image-tag-consistency", "Deployment", "worker"), ("image-tag-consistency", "Deployment", "api"),
      ("image-pull-policy", "Deployment", "worker")}),
    ("StatefulSet/redis", [{"op": "replace", "path": f"{C0}/image", "value": "redis:7-alpine"}],
     # Pinned by tag only, still pulled IfNotPresent: a re-pushed 7-alpine differs from node to node.
     {("image-digest", "StatefulSet", "redis"), ("image-pull-policy", "StatefulSet", "redis")}),
    ("Deployment/api", [{"op": "remove", "path": f"{C0}/resources/requests/memory"}],
     {("resource-requests", "Deployment", "api")}),
    ("Deployment/api", [{"op": "replace", "path": f"{C0}/resources/limits/cpu", "value": "100m"}],
     {("resource-limits", "Deployment", "api")}),
    ("StatefulSet/postgresql", [{"op": "remove", "path": f"{C0}/livenessProbe"}],
     {("liveness-probe", "StatefulSet", "postgresql")}),
    ("StatefulSet/redis", [{"op": "remove", "path": f"{C0}/readinessProbe"}],
     {("readiness-probe", "StatefulSet", "redis")}),
    ("Deployment/api", [{"op": "replace", "path": f"{C0}/readinessProbe/httpGet/port", "value": 9000}],
     {("probe-port", "Deployment", "api")}),
    ("Service/redis", [{"op": "replace", "path": "/spec/selector/app", "value": "redis-cache"}],
     {("service-selector", "Service", "redis")}),
    ("Service/api", [{"op": "replace", "path": "/spec/ports/0/targetPort", "value": "web"}],
     {("service-target-port", "Service", "api")}),
    ("Ingress/api", [{"op": "replace", "path": "/spec/rules/0/http/paths/0/backend/service/port/number", "value": 80}],
     {("ingress-backend", "Ingress", "api")}),
    ("HorizontalPodAutoscaler/worker", [{"op": "replace", "path": "/spec/minReplicas", "value": 12}],
     {("hpa-target", "HorizontalPodAutoscaler", "worker")}),
    ("Deployment/worker", [{"op": "add", "path": "/spec/replicas", "value": 3}],
     {("hpa-target", "Deployment", "worker")}),
    ("Deployment/api", [{"op": "replace", "path": f"{C0}/env/0/valueFrom/secretKeyRef/name", "value": "api-secret"}],
     {("config-reference", "Deployment", "api")}),
    ("PodDisruptionBudget/api", [{"op": "replace", "path": "/spec/selector/matchLabels/app", "value": "apiserver"}],
     # The budget now selects no pod of the overlay (nothing is labelled app=apiserver).
     {("pdb-coverage", "Deployment", "api"), ("policy-selects-pods", "PodDisruptionBudget", "api")}),
    ("NetworkPolicy/*", [{"op": "replace", "path": "/spec/podSelector", "value": {"matchLabels": {"app": "none"}}}],
     {("network-policy-coverage", k, n) for k, n in (("Deployment", "api"), ("Deployment", "worker"),
                                                    ("StatefulSet", "postgresql"), ("StatefulSet", "redis"))}
     # and every NetworkPolicy (default-deny-all's {} included) now selects no pod at all.
     | {("policy-selects-pods", "NetworkPolicy", n) for n in ("allow-dns", "api-ingress", "app-egress",
                                                              "default-deny-all", "postgresql-ingress",
                                                              "redis-ingress")}),
    ("Deployment/api", [{"op": "replace", "path": "/spec/replicas", "value": 1}],
     # The api PDB's minAvailable: 1 now equals the replicas: it allows no eviction, a drain hangs.
     {("min-replicas", "Deployment", "api"), ("pdb-blocks-eviction", "PodDisruptionBudget", "api")}),
    ("Ingress/api", [{"op": "replace", "path": "/spec/tls/0/hosts/0", "value": "www.ai-agents.example.com"}],
     {("ingress-tls", "Ingress", "api")}),
    ("ConfigMap/ai-agents-config", [{"op": "add", "path": "/data/OPENAI_API_KEY", "value": "sk-" + "x" * 40}],
     {("secret-in-configmap", "ConfigMap", "ai-agents-config")}),
    ("Deployment/worker", [{"op": "add", "path": f"{C0}/env/-", "value": {"name": "SENTRY_TOKEN", "value": "abc123"}}],
     {("secret-in-env", "Deployment", "worker")}),
    ("Namespace/ai-agents", [{"op": "replace", "path": "/metadata/labels/pod-security.kubernetes.io~1enforce", "value": "baseline"}],
     {("namespace-pod-security", "Namespace", "ai-agents")}),
    ("PodDisruptionBudget/worker", [{"op": "replace", "path": "/apiVersion", "value": "policy/v1beta1"}],
     {("deprecated-api", "PodDisruptionBudget", "worker"), ("schema", "PodDisruptionBudget", "worker")}),
    ("StatefulSet/postgresql", [{"op": "add", "path": "/spec/template/spec/containers/0/resource", "value": {}}],
     {("schema", "StatefulSet", "postgresql")}),
    ("Deployment/worker", [{"op": "replace", "path": "/metadata/annotations/policycheck.io~1exempt.liveness-probe", "value": " "}],
     {("exemption-reason", "Deployment", "worker"), ("liveness-probe", "Deployment", "worker")}),
    # Compared with the unmutated render as the one at --base: a claim template the server will not update.
    ("StatefulSet/postgresql", [{"op": "replace", "path": "/spec/volumeClaimTemplates/0/spec/resources/requests/storage",
                                 "value": "20Gi"}],
     {("immutable-field", "StatefulSet", "postgresql")}),
    # Shapes kustomize renders but no rule can read: one field-type finding, the schema duplicate dropped.
    ("Service/api", [{"op": "replace", "path": "/spec/ports/0/targetPort", "value": [8000]}],
     {("field-type", "Service", "api")}),
    ("Deployment/worker", [{"op": "replace", "path": f"{C0}/env", "value": {"LOG_LEVEL": "info"}}],
     {("field-type", "Deployment", "worker")}),
    # Workload hygiene.
    ("Deployment/api", [{"op": "remove", "path": f"{C0}/resources/limits/ephemeral-storage"}],
     {("ephemeral-storage", "Deployment", "api")}),
    ("StatefulSet/postgresql", [{"op": "replace", "path": f"{C0}/image", "value": "postgres:17-alpine"},
                                {"op": "remove", "path": f"{C0}/imagePullPolicy"}],
     # A tag only, pulled by the default for a tag that is not latest (IfNotPresent); image-digest is the
     # same fact seen from the pinning side.
     {("image-pull-policy", "StatefulSet", "postgresql"), ("image-digest", "StatefulSet", "postgresql")}),
    ("StatefulSet/redis", [{"op": "copy", "from": f"{C0}/readinessProbe/exec", "path": f"{C0}/livenessProbe/exec"},
                           {"op": "remove", "path": f"{C0}/livenessProbe/tcpSocket"}],
     {("probes-distinct", "StatefulSet", "redis")}),
    # Redis started bare: start.sh and redis.conf stay mounted but nothing names them, so no password and no
    # memory bound (two findings of the one rule).
    ("StatefulSet/redis", [{"op": "replace", "path": f"{C0}/command", "value": ["redis-server", "--appendonly", "yes"]}],
     {("redis-broker-safety", "StatefulSet", "redis")}),
    ("Deployment/api", [{"op": "add", "path": f"{C0}/ports/0/hostPort", "value": 8000}],
     {("host-port", "Deployment", "api")}),
    ("Deployment/api", [{"op": "add", "path": f"{POD}/securityContext/sysctls",
                         "value": [{"name": "kernel.msgmax", "value": "65536"}]}],
     {("safe-sysctls", "Deployment", "api")}),
    ("StatefulSet/postgresql", [{"op": "add", "path": f"{C0}/securityContext/procMount", "value": "Unmasked"}],
     {("proc-mount", "StatefulSet", "postgresql")}),
    ("Deployment/worker", [{"op": "add", "path": f"{POD}/securityContext/windowsOptions",
                            "value": {"hostProcess": True}}],
     {("host-process", "Deployment", "worker")}),
    ("Deployment/worker", [{"op": "add", "path": f"{C0}/env/-", "value": {
        "name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "ai-agents-app", "key": "DATABASE_URL"}}}}],
     {("env-unique", "Deployment", "worker")}),
    ("Deployment/worker", [{"op": "replace", "path": "/spec/selector/matchLabels/app", "value": "celery"}],
     # A Deployment's selector is immutable: against the unmutated render at --base, immutable-field too.
     {("selector-matches-template", "Deployment", "worker"), ("immutable-field", "Deployment", "worker")}),
    ("Deployment/worker", [{"op": "add", "path": f"{C0}/ports", "value": [{"name": "ssh", "containerPort": 22}]}],
     {("ssh-port", "Deployment", "worker")}),
    # Controllers.
    ("StatefulSet/redis", [{"op": "replace", "path": "/spec/serviceName", "value": "redis"}],
     # serviceName is immutable as well: immutable-field against the unmutated render at --base.
     {("statefulset-service-name", "StatefulSet", "redis"), ("immutable-field", "StatefulSet", "redis")}),
    ("+CronJob/cleanup", [{"op": "remove", "path": "/spec/startingDeadlineSeconds"}],
     {("job-deadline", "CronJob", "cleanup")}),
    # The starting deadline stays: a run that hangs is still never stopped.
    ("+CronJob/cleanup", [{"op": "remove", "path": "/spec/jobTemplate/spec/activeDeadlineSeconds"}],
     {("job-deadline", "CronJob", "cleanup")}),
    ("+Job/migrate", [{"op": "remove", "path": "/spec/activeDeadlineSeconds"}],
     {("job-deadline", "Job", "migrate")}),
    ("+CronJob/cleanup", [{"op": "replace", "path": f"{JOB_POD}/restartPolicy", "value": "Always"}],
     {("job-hygiene", "CronJob", "cleanup")}),
    ("+CronJob/cleanup", [{"op": "remove", "path": "/spec/concurrencyPolicy"}],
     {("job-hygiene", "CronJob", "cleanup")}),
    ("+Job/migrate", [{"op": "remove", "path": "/spec/ttlSecondsAfterFinished"}],
     {("job-hygiene", "Job", "migrate")}),
    ("PodDisruptionBudget/worker", [{"op": "replace", "path": "/spec/maxUnavailable", "value": 0}],
     {("pdb-blocks-eviction", "PodDisruptionBudget", "worker")}),
    ("PodDisruptionBudget/worker", [{"op": "remove", "path": "/spec/unhealthyPodEvictionPolicy"}],
     {("pdb-unhealthy-pod-eviction", "PodDisruptionBudget", "worker")}),
    ("NetworkPolicy/redis-ingress", [{"op": "replace", "path": "/spec/podSelector/matchLabels/app", "value": "cache"}],
     # redis stays covered by default-deny-all: only the policy that selects nothing is reported.
     {("policy-selects-pods", "NetworkPolicy", "redis-ingress")}),
    # Exposure.
    ("Service/api", [{"op": "replace", "path": "/spec/type", "value": "LoadBalancer"}],
     {("service-exposure", "Service", "api")}),
    # RBAC.
    ("+Role/reader", [{"op": "replace", "path": f"{RULE0}/verbs", "value": ["*"]}],
     {("rbac-wildcard", "Role", "reader")}),
    ("+Role/reader", [{"op": "add", "path": "/rules/-",
                       "value": {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]}}],
     {("rbac-pod-exec", "Role", "reader")}),
    ("+Role/reader", [{"op": "add", "path": "/rules/-",
                       "value": {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["create"]}}],
     {("rbac-workload-create", "Role", "reader")}),
    ("+Role/reader", [{"op": "add", "path": f"{RULE0}/resources/-", "value": "secrets"}],
     {("rbac-secret-read", "Role", "reader")}),
    ("+ClusterRole/reader", [{"op": "add", "path": "/rules/-", "value": {
        "apiGroups": [_RBAC], "resources": ["clusterroles"], "verbs": ["bind"]}}],
     {("rbac-privilege-escalation", "ClusterRole", "reader")}),
    ("+RoleBinding/reader", [{"op": "replace", "path": "/roleRef",
                              "value": {"apiGroup": _RBAC, "kind": "ClusterRole", "name": "cluster-admin"}}],
     {("rbac-cluster-admin-binding", "RoleBinding", "reader")}),
    ("+RoleBinding/reader", [{"op": "replace", "path": "/subjects/0/name", "value": "default"}],
     {("rbac-broad-subject", "RoleBinding", "reader")}),
    # Workload hygiene, the rest of issue 12.
    ("Deployment/api", [{"op": "remove", "path": f"{POD}/serviceAccountName"}],
     {("default-service-account", "Deployment", "api")}),
    ("Deployment/worker", [{"op": "replace", "path": f"{POD}/serviceAccountName", "value": "default"}],
     {("default-service-account", "Deployment", "worker")}),
    ("Deployment/api", [{"op": "replace", "path": "/spec/strategy", "value": {"type": "Recreate"}}],
     {("recreate-behind-service", "Deployment", "api")}),
    ("+Role/reader", [{"op": "remove", "path": "/metadata/namespace"}],
     {("namespace-set", "Role", "reader")}),
    # A cluster-scoped object that says a namespace other than the kustomization's: the server drops it.
    ("+ClusterRole/reader", [{"op": "add", "path": "/metadata/namespace", "value": "default"}],
     {("namespace-set", "ClusterRole", "reader")}),
    ("Service/api", [{"op": "replace", "path": "/spec/ports/0/targetPort", "value": "HTTP"}],
     {("service-target-port", "Service", "api")}),
    # prod allows its own two classes (policycheck.yaml).
    ("Deployment/api", [{"op": "remove", "path": f"{POD}/priorityClassName"}],
     {("priority-class", "Deployment", "api")}),
    ("StatefulSet/redis", [{"op": "replace", "path": f"{POD}/priorityClassName", "value": "system-node-critical"}],
     {("priority-class", "StatefulSet", "redis")}),
]

# Rules and options that are off in the built-in profiles, planted with the policycheck.yaml entry that turns
# them on: (target, patch, {rule: {level, options}}, expected).
OPT_IN = [
    # postgres runs as 70 (the image's user): the lowest ids of our render.
    ("Deployment/api", [{"op": "replace", "path": f"{C0}/securityContext/runAsUser", "value": 69}],
     {"run-as-non-root": {"options": {"min-uid": 70, "min-gid": 70}}},
     {("run-as-non-root", "Deployment", "api")}),
    ("Deployment/worker", [{"op": "replace", "path": f"{POD}/securityContext/runAsGroup", "value": 0}],
     {"run-as-non-root": {"options": {"min-uid": 70, "min-gid": 70}}},
     {("run-as-non-root", "Deployment", "worker")}),
]


@pytest.fixture(scope="module")
def prod(rendered) -> list[K8sObject]:  # noqa: ANN001
    return rendered["prod"]


def _failing(objects: list[K8sObject], base: list[K8sObject]) -> set[tuple[str, str, str]]:
    """What fails on ``objects``, with ``base`` as the render at --base REF."""
    profile = config.load().profile_for("overlays/prod", None)
    found = engine.run(Rendered("overlays/prod", objects), profile, "1.35", TODAY, base=Base("HEAD", base))
    return {(f.rule, f.obj.kind, f.obj.name) for f in found if not f.exempted}


def test_prod_is_clean(prod) -> None:  # noqa: ANN001
    assert _failing(prod, prod) == set()


def _with(prod: list[K8sObject], planted: dict) -> list[K8sObject]:
    """``prod`` and the ``planted`` objects (kind/name -> doc) added to it, none already in the render."""
    present = {f"{o.kind}/{o.name}" for o in prod}
    assert not present & planted.keys()
    return [*prod, *(K8sObject(copy.deepcopy(doc), "overlays/prod") for doc in planted.values())]


def test_planted_objects_are_clean(prod) -> None:  # noqa: ANN001
    assert _failing(_with(prod, PLANTED), prod) == set()


@pytest.mark.parametrize(("target", "patch", "expected"), MUTATIONS,
                         ids=[f"{m[0]}:{sorted(m[2])[0][0]}" for m in MUTATIONS])
def test_planted_violation(prod, target: str, patch, expected) -> None:  # noqa: ANN001
    if target.startswith("+"):
        target = target[1:]
        prod_with = _with(prod, {target: jsonpatch.apply_patch(copy.deepcopy(PLANTED[target]), patch)})
        got = _failing(prod_with, prod)
        assert got == expected
        return
    kind, name = target.split("/")
    objects = []
    hits = 0
    for original in prod:
        obj = original
        generated = kind == "ConfigMap" and obj.name.startswith(f"{name}-")
        if obj.kind == kind and (name in ("*", obj.name) or generated):
            obj = K8sObject(jsonpatch.apply_patch(copy.deepcopy(obj.doc), patch), obj.overlay, obj.origin,
                            obj.generated_by)
            hits += 1
        objects.append(obj)
    assert hits == 1 or (name == "*" and hits > 1)
    got = {(r, k, n.rsplit("-", 1)[0] if k == "ConfigMap" else n) for r, k, n in _failing(objects, prod)}
    assert got == expected


def _opt_in(prod: list[K8sObject], rules: dict, tmp_path) -> tuple[list[K8sObject], config.Profile]:  # noqa: ANN001
    """prod's profile of policycheck.yaml with ``rules`` added to it, and the prod render."""
    import yaml

    from tests.conftest import ROOT

    data = yaml.safe_load((ROOT / "policycheck.yaml").read_text()) or {}
    profile = data.setdefault("profiles", {}).setdefault("prod", None) or {}
    profile["rules"] = {**(profile.get("rules") or {}), **rules}
    data["profiles"]["prod"] = profile
    (tmp_path / "policycheck.yaml").write_text(yaml.safe_dump(data))
    return list(prod), config.load(str(tmp_path / "policycheck.yaml")).profiles["prod"]


@pytest.mark.parametrize(("target", "patch", "rules", "expected"), OPT_IN,
                         ids=[f"{m[0]}:{sorted(m[3])[0][0]}" for m in OPT_IN])
def test_planted_opt_in_violation(prod, tmp_path, target: str, patch, rules, expected) -> None:  # noqa: ANN001, PLR0917
    objects, profile = _opt_in(prod, rules, tmp_path)

    def failing(objs: list[K8sObject]) -> set[tuple[str, str, str]]:
        found = engine.run(Rendered("overlays/prod", objs), profile, "1.35", TODAY, base=Base("HEAD", objects))
        return {(f.rule, f.obj.kind, f.obj.name) for f in found if not f.exempted}

    assert failing(objects) == set()
    kind, name = target.split("/")
    mutated = [K8sObject(jsonpatch.apply_patch(copy.deepcopy(o.doc), patch), o.overlay, o.origin, o.generated_by)
               if (o.kind, o.name) == (kind, name) else o for o in objects]
    assert sum((o.kind, o.name) == (kind, name) for o in objects) == 1
    assert failing(mutated) == expected


def test_every_rule_is_planted_at_least_once() -> None:
    planted = {rule for _, _, expected in [*MUTATIONS, *((t, p, e) for t, p, _, e in OPT_IN)] for rule, _, _ in expected}
    # (the rules across overlays compare two renders: tests/test_rules_overlays.py, tests/test_cross_rules.py)
    assert planted == {rule for rule, r in engine.REGISTRY.items() if r.scope == "overlay"}
