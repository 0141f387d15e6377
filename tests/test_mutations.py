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
     {("image-tag-pinned", "Deployment", "worker"), ("image-digest", "Deployment", "worker"),
      ("image-tag-consistency", "Deployment", "worker"), ("image-tag-consistency", "Deployment", "api")}),
    ("StatefulSet/redis", [{"op": "replace", "path": f"{C0}/image", "value": "redis:7-alpine"}],
     {("image-digest", "StatefulSet", "redis")}),
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
     {("pdb-coverage", "Deployment", "api")}),
    ("NetworkPolicy/*", [{"op": "replace", "path": "/spec/podSelector", "value": {"matchLabels": {"app": "none"}}}],
     {("network-policy-coverage", k, n) for k, n in (("Deployment", "api"), ("Deployment", "worker"),
                                                    ("StatefulSet", "postgresql"), ("StatefulSet", "redis"))}),
    ("Deployment/api", [{"op": "replace", "path": "/spec/replicas", "value": 1}],
     {("min-replicas", "Deployment", "api")}),
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


@pytest.mark.parametrize(("target", "patch", "expected"), MUTATIONS,
                         ids=[f"{m[0]}:{sorted(m[2])[0][0]}" for m in MUTATIONS])
def test_planted_violation(prod, target: str, patch, expected) -> None:  # noqa: ANN001
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


def test_every_rule_is_planted_at_least_once() -> None:
    planted = {rule for _, _, expected in MUTATIONS for rule, _, _ in expected}
    # (the rules across overlays compare two renders: tests/test_rules_overlays.py, tests/test_cross_rules.py)
    assert planted == {rule for rule, r in engine.REGISTRY.items() if r.scope == "overlay"}
