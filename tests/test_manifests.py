"""Every number the deployment promises, asserted on the real renders."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.conftest import find

_STEP = re.compile(r"([^.\[]+)|\[(\d+)\]|\[(\w+)=([^\]]+)\]|\[([^\]=]+)\]")


def get(doc: Any, path: str) -> Any:
    """Read a path like spec.template.spec.containers[name=api].ports[0].containerPort."""
    node = doc
    for plain, index, sel_key, sel_value, quoted in _STEP.findall(path):
        key = plain or quoted
        if key:
            assert isinstance(node, dict) and key in node, f"{path}: no {key!r}"
            node = node[key]
        elif index:
            node = node[int(index)]
        else:
            hits = [item for item in node if str(item.get(sel_key)) == sel_value]
            assert len(hits) == 1, f"{path}: {sel_key}={sel_value} matched {len(hits)} items"
            node = hits[0]
    return node


POD = "spec.template.spec"
PG = f"{POD}.containers[name=postgresql]"
RD = f"{POD}.containers[name=redis]"
API = f"{POD}.containers[name=api]"
WK = f"{POD}.containers[name=worker]"
BOTH = ("dev", "prod")

# (overlays, kind, name, path, expected)
EXPECTED: list[tuple[tuple[str, ...], str, str, str, Any]] = [
    # 1. Namespace
    (BOTH, "Namespace", "ai-agents", "metadata.labels.project", "ai-agents"),
    (("dev",), "Namespace", "ai-agents", "metadata.labels.environment", "dev"),
    (("prod",), "Namespace", "ai-agents", "metadata.labels.environment", "prod"),
    (BOTH, "Namespace", "ai-agents", "metadata.labels[pod-security.kubernetes.io/enforce]", "restricted"),
    (BOTH, "Namespace", "ai-agents", "metadata.labels[pod-security.kubernetes.io/enforce-version]", "v1.32"),
    (BOTH, "Namespace", "ai-agents", "metadata.labels[pod-security.kubernetes.io/warn]", "restricted"),
    (BOTH, "Namespace", "ai-agents", "metadata.labels[pod-security.kubernetes.io/warn-version]", "latest"),
    (BOTH, "Namespace", "ai-agents", "metadata.labels[pod-security.kubernetes.io/audit]", "restricted"),
    (BOTH, "Namespace", "ai-agents", "metadata.labels[pod-security.kubernetes.io/audit-version]", "latest"),
    # 2. PostgreSQL
    (BOTH, "Service", "postgresql", "spec.type", "ClusterIP"),
    (BOTH, "Service", "postgresql", "spec.ports[0].port", 5432),
    (BOTH, "Service", "postgresql", "spec.selector", {"app": "postgresql"}),
    (BOTH, "Service", "postgresql-headless", "spec.clusterIP", "None"),
    (BOTH, "StatefulSet", "postgresql", "spec.serviceName", "postgresql-headless"),
    (BOTH, "StatefulSet", "postgresql", "spec.replicas", 1),
    (("dev",), "StatefulSet", "postgresql", f"{PG}.image", "postgres:17-alpine"),
    (BOTH, "StatefulSet", "postgresql", f"{PG}.env[name=POSTGRES_DB].value", "ai_agents"),
    (BOTH, "StatefulSet", "postgresql", f"{PG}.env[name=POSTGRES_USER_FILE].value", "/run/secrets/postgresql/username"),
    (BOTH, "StatefulSet", "postgresql", f"{PG}.env[name=POSTGRES_PASSWORD_FILE].value", "/run/secrets/postgresql/password"),
    (BOTH, "StatefulSet", "postgresql", f"{PG}.env[name=PGDATA].value", "/var/lib/postgresql/data/pgdata"),
    (BOTH, "StatefulSet", "postgresql", f"{PG}.volumeMounts[name=data].mountPath", "/var/lib/postgresql/data"),
    (BOTH, "StatefulSet", "postgresql", "spec.volumeClaimTemplates[0].spec.accessModes", ["ReadWriteOnce"]),
    (("prod",), "StatefulSet", "postgresql", "spec.volumeClaimTemplates[0].spec.resources.requests.storage", "10Gi"),
    (("dev",), "StatefulSet", "postgresql", "spec.volumeClaimTemplates[0].spec.resources.requests.storage", "2Gi"),
    (BOTH, "StatefulSet", "postgresql", f"{PG}.livenessProbe.tcpSocket.port", "postgresql"),
    (BOTH, "StatefulSet", "postgresql", f"{PG}.ports[name=postgresql].containerPort", 5432),
    (BOTH, "StatefulSet", "postgresql", f"{PG}.livenessProbe.initialDelaySeconds", 30),
    (BOTH, "StatefulSet", "postgresql", f"{PG}.readinessProbe.exec.command[0]", "pg_isready"),
    (BOTH, "StatefulSet", "postgresql", f"{PG}.readinessProbe.initialDelaySeconds", 5),
    (BOTH, "StatefulSet", "postgresql", f"{POD}.securityContext.runAsUser", 70),
    (BOTH, "StatefulSet", "postgresql", f"{POD}.securityContext.fsGroup", 70),
    (("prod",), "StatefulSet", "postgresql", f"{PG}.resources", {"requests": {"cpu": "500m", "memory": "1Gi", "ephemeral-storage": "256Mi"}, "limits": {"cpu": "1", "memory": "4Gi", "ephemeral-storage": "2Gi"}}),
    # 3. Redis
    (BOTH, "Service", "redis", "spec.ports[0].port", 6379),
    (BOTH, "Service", "redis", "spec.selector", {"app": "redis"}),
    (("dev",), "StatefulSet", "redis", f"{RD}.image", "redis:7-alpine"),
    (BOTH, "StatefulSet", "redis", f"{RD}.command", ["sh", "/etc/redis/start.sh"]),
    (BOTH, "StatefulSet", "redis", f"{RD}.env[name=REDIS_MEMORY_LIMIT_MIB].valueFrom.resourceFieldRef",
     {"containerName": "redis", "resource": "limits.memory", "divisor": "1Mi"}),
    (("prod",), "StatefulSet", "redis", "spec.volumeClaimTemplates[0].spec.resources.requests.storage", "5Gi"),
    (BOTH, "StatefulSet", "redis", f"{RD}.livenessProbe.tcpSocket.port", "redis"),
    (BOTH, "StatefulSet", "redis", f"{RD}.livenessProbe.initialDelaySeconds", 10),
    (BOTH, "StatefulSet", "redis", f"{RD}.readinessProbe.exec.command[0:2]", ["sh", "-c"]),
    (BOTH, "StatefulSet", "redis", f"{RD}.readinessProbe.initialDelaySeconds", 5),
    (BOTH, "StatefulSet", "redis", f"{POD}.securityContext.runAsUser", 999),
    (("prod",), "StatefulSet", "redis", f"{RD}.resources", {"requests": {"cpu": "250m", "memory": "512Mi", "ephemeral-storage": "128Mi"}, "limits": {"cpu": "500m", "memory": "2Gi", "ephemeral-storage": "512Mi"}}),
    # 4. API
    (BOTH, "Service", "api", "spec.ports[0].port", 8000),
    (BOTH, "Service", "api", "spec.ports[0].targetPort", "http"),
    (BOTH, "Deployment", "api", f"{API}.ports[name=http].containerPort", 8000),
    (BOTH, "Deployment", "api", f"{API}.env[name=DATABASE_URL].valueFrom.secretKeyRef.key", "DATABASE_URL"),
    (BOTH, "Deployment", "api", f"{API}.env[name=REDIS_URL].valueFrom.secretKeyRef.key", "REDIS_URL"),
    (BOTH, "Deployment", "api", f"{API}.env[name=OPENAI_API_KEY].valueFrom.secretKeyRef.key", "OPENAI_API_KEY"),
    (BOTH, "Deployment", "api", f"{API}.livenessProbe.httpGet.path", "/health"),
    (BOTH, "Deployment", "api", f"{API}.livenessProbe.initialDelaySeconds", 30),
    (BOTH, "Deployment", "api", f"{API}.livenessProbe.periodSeconds", 10),
    (BOTH, "Deployment", "api", f"{API}.readinessProbe.httpGet.path", "/health/ready"),
    (BOTH, "Deployment", "api", f"{API}.readinessProbe.initialDelaySeconds", 5),
    (BOTH, "Deployment", "api", f"{API}.readinessProbe.periodSeconds", 5),
    (BOTH, "Deployment", "api", f"{API}.startupProbe.httpGet.path", "/health"),
    (BOTH, "Deployment", "api", f"{API}.startupProbe.failureThreshold", 30),
    (BOTH, "Deployment", "api", f"{API}.startupProbe.periodSeconds", 2),
    (BOTH, "Deployment", "api", f"{API}.securityContext.runAsNonRoot", True),
    (BOTH, "Deployment", "api", f"{API}.securityContext.runAsUser", 1000),
    (("dev",), "Deployment", "api", "spec.replicas", 1),
    (("prod",), "Deployment", "api", "spec.replicas", 2),
    (("prod",), "Deployment", "api", f"{API}.resources", {"requests": {"cpu": "250m", "memory": "512Mi", "ephemeral-storage": "256Mi"}, "limits": {"cpu": "500m", "memory": "1Gi", "ephemeral-storage": "1Gi"}}),
    (("prod",), "Deployment", "api", "spec.strategy.rollingUpdate.maxUnavailable", 0),
    (BOTH, "Deployment", "api", f"{POD}.topologySpreadConstraints[0].topologyKey", "kubernetes.io/hostname"),
    (("prod",), "PodDisruptionBudget", "api", "spec.selector.matchLabels", {"app": "api"}),
    # 5. Worker
    (BOTH, "Deployment", "worker", f"{WK}.command", ["celery", "-A", "src.workers.celery_app", "worker", "--loglevel=info"]),
    (BOTH, "Deployment", "worker", f"{POD}.terminationGracePeriodSeconds", 120),
    (BOTH, "Deployment", "worker", f"{POD}.topologySpreadConstraints[0].topologyKey", "kubernetes.io/hostname"),
    (("dev",), "Deployment", "worker", "spec.replicas", 1),
    (("prod",), "Deployment", "worker", f"{WK}.resources", {"requests": {"cpu": "500m", "memory": "1Gi", "ephemeral-storage": "256Mi"}, "limits": {"cpu": "1", "memory": "2Gi", "ephemeral-storage": "1Gi"}}),
    (("prod",), "HorizontalPodAutoscaler", "worker", "apiVersion", "autoscaling/v2"),
    (("prod",), "HorizontalPodAutoscaler", "worker", "spec.scaleTargetRef", {"apiVersion": "apps/v1", "kind": "Deployment", "name": "worker"}),
    (("prod",), "HorizontalPodAutoscaler", "worker", "spec.minReplicas", 1),
    (("prod",), "HorizontalPodAutoscaler", "worker", "spec.maxReplicas", 10),
    (("prod",), "HorizontalPodAutoscaler", "worker", "spec.metrics[0].resource.name", "cpu"),
    (("prod",), "HorizontalPodAutoscaler", "worker", "spec.metrics[0].resource.target.averageUtilization", 70),
    (("prod",), "HorizontalPodAutoscaler", "worker", "spec.behavior.scaleDown.stabilizationWindowSeconds", 180),
    (("prod",), "HorizontalPodAutoscaler", "worker", "spec.behavior.scaleUp.stabilizationWindowSeconds", 30),
    # 8. Ingress
    (BOTH, "Ingress", "api", "apiVersion", "networking.k8s.io/v1"),
    (BOTH, "Ingress", "api", "spec.ingressClassName", "nginx"),
    (BOTH, "Ingress", "api", "spec.rules[0].http.paths[0].path", "/"),
    (BOTH, "Ingress", "api", "spec.rules[0].http.paths[0].backend.service", {"name": "api", "port": {"number": 8000}}),
    (("dev",), "Ingress", "api", "spec.rules[0].host", "api.ai-agents.local"),
    (("prod",), "Ingress", "api", "spec.rules[0].host", "api.ai-agents.example.com"),
    (("prod",), "Ingress", "api", "spec.tls[0].hosts", ["api.ai-agents.example.com"]),
    (("prod",), "Ingress", "api", "metadata.annotations[cert-manager.io/cluster-issuer]", "letsencrypt-prod"),
    # 6. Config
    (("dev",), "ConfigMap", "ai-agents-config", "data", {"LOG_LEVEL": "DEBUG", "ENVIRONMENT": "development"}),
    (("prod",), "ConfigMap", "ai-agents-config", "data", {"LOG_LEVEL": "INFO", "ENVIRONMENT": "production"}),
]


def _slice_aware_get(doc: Any, path: str) -> Any:
    match = re.fullmatch(r"(.*)\[(\d+):(\d+)\]", path)
    if match:
        return get(doc, match.group(1))[int(match.group(2)) : int(match.group(3))]
    return get(doc, path)


def _object(objects, kind, name):  # noqa: ANN001
    if kind == "ConfigMap":  # generated: hashed name
        hits = [o for o in objects if o.kind == kind and o.name.startswith(f"{name}-")]
        assert len(hits) == 1, f"expected one generated ConfigMap {name}-<hash>"
        return hits[0]
    return find(objects, kind, name)


CASES = [
    pytest.param(overlay, kind, name, path, expected, id=f"{overlay}-{kind}-{name}-{path}")
    for overlays, kind, name, path, expected in EXPECTED
    for overlay in overlays
]


@pytest.mark.parametrize(("overlay", "kind", "name", "path", "expected"), CASES)
def test_rendered_value(rendered, overlay, kind, name, path, expected) -> None:  # noqa: PLR0917
    obj = _object(rendered[overlay], kind, name)
    assert _slice_aware_get(obj.doc, path) == expected


def test_values_are_in_the_form_the_api_server_stores(rendered) -> None:  # noqa: ANN001
    """What a client-side re-apply compares with the live object must equal it (the cluster tier
    proves the whole overlay; this catches the usual causes offline, with the reason): kustomize
    wraps a generated value whose base64 is longer than 70 characters, which the server stores on
    one line; a CPU of `1000m` comes back as `1`; the server fills in a claim template's
    apiVersion, kind, volumeMode and status; it drops a PriorityClass's `globalDefault: false`."""
    for overlay, objects in rendered.items():
        for obj in objects:
            where = f"{overlay}: {obj.kind}/{obj.name}"
            for key, value in (obj.doc.get("data") or {}).items() if obj.kind == "Secret" else ():
                assert "\n" not in value, f"{where}: data.{key} is wrapped over lines (keep it within 51 bytes)"
            text = json.dumps(obj.doc)
            assert not re.search(r'"cpu": "\d+000m"', text), f"{where}: write whole CPUs as \"1\", not 1000m"
            for claim in (obj.doc.get("spec") or {}).get("volumeClaimTemplates") or []:
                assert (claim.get("apiVersion"), claim.get("kind")) == ("v1", "PersistentVolumeClaim"), where
                assert claim["spec"].get("volumeMode") == "Filesystem", where
                assert claim.get("status") == {"phase": "Pending"}, where
            if obj.kind == "PriorityClass":
                assert obj.doc.get("globalDefault", True) is not False, f"{where}: leave globalDefault: false out"
