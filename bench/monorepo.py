#!/usr/bin/env python3
"""A synthetic Kustomize monorepo, the same for the same seed.

    python3 bench/monorepo.py OUT_DIR [--overlays 150] [--seed 1] [--broken-ratio 0.1] [--crd-ratio 0.25]
                                      [--heavy-ratio 0.025] [--heavy-mib 1,4]

Importable: `generate(root, overlays, seed, *, broken_ratio, crd_ratio, heavy_ratio, heavy_mib) -> Manifest`.
150 overlays make about 2,500 objects.

Layout (paths relative to OUT_DIR):

    apps/<team>/<app>/base/                Deployment, Service, ServiceAccount, ConfigMap; sometimes a
                                           worker Deployment, a StatefulSet (+ headless Service), CronJob,
                                           HPA, PDB, NetworkPolicy, Ingress, Role + RoleBinding;
                                           many include ../../../../platform/base
    apps/<team>/<app>/overlays/<env>/      env in dev, staging, prod: resources [../../base], namespace,
                                           labels, images, replicas (not under an HPA), patches (files in
                                           patches/ and inline JSON 6902), configMapGenerator, sometimes a
                                           secretGenerator with fake literals, components; for crd_ratio of
                                           the overlays also crd.yaml + <plural>.yaml (a made-up CRD and
                                           4 to 29 objects of it); for heavy_ratio of them (at least one)
                                           an operator from operators/ and a few objects of its first CRD
    platform/base/                         shared objects: ConfigMap, LimitRange, ResourceQuota,
                                           NetworkPolicy, PriorityClass
    operators/<name>/                      an operator's install: CRDs whose openAPIV3Schema makes the file
                                           1 to 4 MiB (heavy_mib; several CRDs of at most ~1 MiB each, three
                                           versions, long descriptions, as real operators ship them), its
                                           controller Deployment, ServiceAccount, ClusterRole and binding
    components/<feature>/                  kind: Component; the ones no kustomization includes are orphans
    apps/outside.yaml                      target of the load-outside-root breakage
    manifest.json                          the Manifest below

Broken overlays are ordinary overlays with one defect each, the classes in turn (see BREAKAGES). Each
app keeps at least one overlay whose kustomization is a mapping, so its base is always included.
Some good overlays carry shapes that kustomize renders fine but that are unusual (see UNUSUAL).

Every file is written by this script's own small YAML emitter: standard library only.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ENVS = ("dev", "staging", "prod")
TEAMS = ("payments", "search", "identity", "checkout", "catalog", "billing", "growth", "data", "ml", "infra",
         "mobile", "ads", "risk", "support", "media", "maps", "fraud", "logistics", "partners", "platform-tools")
APP_HEADS = ("order", "user", "cart", "price", "stock", "email", "report", "image", "event", "audit", "ledger",
             "token", "session", "ranking", "feed", "quote", "invoice", "profile", "notify", "geo")
APP_TAILS = ("api", "worker", "gateway", "sync", "indexer", "scheduler", "service", "store", "proxy", "exporter")

BREAKAGES = ("missing-file", "remote-base", "bad-yaml", "not-a-mapping", "patch-target-missing",
             "load-outside-root")
REMOTE_BASE = "https://example.com/org/repo//deploy?ref=v1"
OUTSIDE = "../../../../outside.yaml"

# Shapes kustomize renders fine but that readers may trip on (YAML 1.1 booleans, impossible dates, size).
UNUSUAL = ("annotation-date-2026-02-30", "annotation-equals", "annotation-on", "annotation-null",
           "annotation-octal", "label-yes", "label-empty", "configmap-20kb", "env-50")

# Components overlays may include: objects each one adds to a render.
FEATURES = {"tracing": 0, "metrics": 1, "default-deny": 1, "debug-tools": 0, "priority": 0}
ORPHANS = ("legacy-logging", "canary-rollout", "istio-sidecar", "blue-green", "chaos-testing", "gpu-nodes",
           "spot-instances", "old-monitoring", "vault-agent", "java-agent")
CRD_KINDS = (("Widget", "widgets"), ("Gadget", "gadgets"), ("Sprocket", "sprockets"), ("Gizmo", "gizmos"))
# Made-up operators that ship multi-megabyte CRDs: directory name, group, kind stem.
OPERATORS = (("clusterdb", "db.example.io", "Database"), ("streamer", "streams.example.io", "Stream"),
             ("observer", "observe.example.io", "Metrics"), ("meshctl", "mesh.example.io", "Mesh"),
             ("keeper", "secrets.example.io", "Vault"), ("batchflow", "batch.example.io", "Workflow"))
CRD_SUFFIXES = ("Cluster", "Backup", "Pool", "Policy", "Restore", "User", "Route", "Schedule")
MAX_CRD_BYTES = 900_000  # one CRD object stays below the API server's 1.5 MiB request limit

KUSTOMIZATION = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"}
COMPONENT = {"apiVersion": "kustomize.config.k8s.io/v1alpha1", "kind": "Component"}
TO_ROOT = "../../../../../"  # from apps/<team>/<app>/overlays/<env>/


@dataclass
class Manifest:
    """What generate() made; paths are relative to its root, in POSIX form."""

    good: list[str] = field(default_factory=list)  # overlays that render
    broken: dict[str, str] = field(default_factory=dict)  # overlay -> one of BREAKAGES
    components: list[str] = field(default_factory=list)  # kind: Component dirs no kustomization includes
    bases: list[str] = field(default_factory=list)  # kustomizations included by overlays (apps, platform)
    objects: dict[str, int] = field(default_factory=dict)  # good overlay -> rendered object count
    unusual: dict[str, list[str]] = field(default_factory=dict)  # good overlay -> UNUSUAL shapes it renders
    heavy: dict[str, int] = field(default_factory=dict)  # good overlay -> bytes of the operator CRDs it reads

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def load(cls, path: Path) -> Manifest:
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))


# --- a small YAML emitter (block style, k8s list indentation) -------------------------------------------

_PLAIN = re.compile(r"[A-Za-z_./][A-Za-z0-9_./@=-]*(?::[A-Za-z0-9_./@=-]+)*")
_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", ".inf", ".nan"}


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if _PLAIN.fullmatch(text) and text.lower() not in _RESERVED:
        return text
    return json.dumps(text)  # a JSON string is a valid YAML double-quoted scalar


def _literal_ok(text: str) -> bool:
    lines = text.rstrip("\n").split("\n")
    return ("\n" in text.rstrip("\n") and text[:1] not in (" ", "\n") and not text.endswith("\n\n")
            and all(line == line.rstrip() and line.isascii() and line.isprintable() for line in lines))


def _entry(head: str, value: Any, indent: int) -> list[str]:
    if isinstance(value, dict) and value:
        return [head, *_block(value, indent + 2)]
    if isinstance(value, list) and value:
        return [head, *_block(value, indent)]
    if isinstance(value, dict | list):
        return [f"{head} {'{}' if isinstance(value, dict) else '[]'}"]
    if isinstance(value, str) and _literal_ok(value):
        chomp = "" if value.endswith("\n") else "-"
        body = value.rstrip("\n").split("\n")
        return [f"{head} |{chomp}", *((" " * (indent + 2) + line) if line else "" for line in body)]
    return [f"{head} {_scalar(value)}"]


def _block(value: dict | list, indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            lines += _entry(f"{pad}{_scalar(key)}:", item, indent)
        return lines
    for item in value:
        if isinstance(item, dict | list) and item:
            sub = _block(item, indent + 2)
            sub[0] = f"{pad}- {sub[0][indent + 2:]}"
            lines += sub
        else:
            lines += _entry(f"{pad}-", item, indent)
    return lines


def dump(*docs: dict | list) -> str:
    """YAML text of one or more documents."""
    return "---\n".join("\n".join(_block(doc, 0)) + "\n" for doc in docs)


# --- the plan -------------------------------------------------------------------------------------------

@dataclass
class _App:
    team: str
    name: str
    extras: list[str]  # optional kinds in the base
    platform: bool
    unusual: list[str]
    overlays: list[_Overlay] = field(default_factory=list)

    @property
    def path(self) -> str:
        return f"apps/{self.team}/{self.name}"

    @property
    def image(self) -> str:
        return f"registry.example.com/{self.team}/{self.name}"


@dataclass
class _Overlay:
    app: _App
    env: str
    broken: str | None = None
    crd: bool = False
    operator: str | None = None  # directory under operators/ whose multi-megabyte CRDs it includes
    components: list[str] = field(default_factory=list)

    @property
    def path(self) -> str:
        return f"{self.app.path}/overlays/{self.env}"


def _plan_apps(rng: random.Random, overlays: int) -> list[_App]:
    teams = sorted(rng.sample(TEAMS, max(1, min(len(TEAMS), round(overlays / 20)))))
    taken: set[str] = set()
    apps: list[_App] = []
    remaining = overlays
    while remaining:
        team = rng.choice(teams)
        name = f"{rng.choice(APP_HEADS)}-{rng.choice(APP_TAILS)}"
        stem, suffix = name, 2
        while f"{team}/{name}" in taken:
            name, suffix = f"{stem}-{suffix}", suffix + 1
        taken.add(f"{team}/{name}")
        extras = [kind for kind, p in (("statefulset", 0.15), ("cronjob", 0.3), ("hpa", 0.4), ("pdb", 0.5),
                                       ("networkpolicy", 0.5), ("ingress", 0.35), ("worker", 0.45),
                                       ("rbac", 0.5)) if rng.random() < p]
        app = _App(team, name, extras, platform=rng.random() < 0.7,
                   unusual=[shape for shape in UNUSUAL if rng.random() < 0.08])
        count = min(remaining, rng.choice((1, 2, 3, 3, 3)))
        app.overlays = [_Overlay(app, env) for env in sorted(rng.sample(ENVS, count), key=ENVS.index)]
        remaining -= count
        apps.append(app)
    return apps


def _assign_breakages(rng: random.Random, every: list[_Overlay], count: int) -> None:
    """BREAKAGES in turn; a not-a-mapping kustomization includes nothing, so its app keeps another overlay."""
    classes = [BREAKAGES[i % len(BREAKAGES)] for i in range(count)]
    order = every[:]
    rng.shuffle(order)
    for cls in sorted(classes, key=lambda c: c != "not-a-mapping"):
        for overlay in order:
            if overlay.broken:
                continue
            if cls == "not-a-mapping" and (
                len(overlay.app.overlays) < 2 or any(o.broken == cls for o in overlay.app.overlays)
            ):
                continue
            overlay.broken = cls
            break
        else:
            raise ValueError(f"cannot place a {cls} overlay: too few apps with two overlays")


# --- objects --------------------------------------------------------------------------------------------

def _meta(name: str, labels: dict | None = None, annotations: dict | None = None) -> dict:
    meta: dict[str, Any] = {"name": name}
    if labels:
        meta["labels"] = labels
    if annotations:
        meta["annotations"] = annotations
    return meta


def _container(app: _App, rng: random.Random) -> dict:
    env = [{"name": "PORT", "value": "8080"}, {"name": "TEAM", "value": app.team}]
    if "env-50" in app.unusual:
        env = [{"name": f"SETTING_{i:02d}", "value": f"value-{i:02d}"} for i in range(50)]
    return {
        "name": "app",
        "image": f"{app.image}:1.0.0",
        "ports": [{"name": "http", "containerPort": 8080}],
        "env": env,
        "envFrom": [{"configMapRef": {"name": f"{app.name}-config"}}, {"configMapRef": {"name": f"{app.name}-env"}}],
        "resources": {"requests": {"cpu": f"{rng.choice((50, 100, 250))}m", "memory": "128Mi"},
                      "limits": {"memory": f"{rng.choice((256, 512))}Mi"}},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}, "periodSeconds": 10},
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 20},
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]}},
    }


def _pod_security() -> dict:
    return {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}}


def _base(app: _App, rng: random.Random) -> tuple[dict[str, str], int]:
    """Files of apps/<team>/<app>/base and the number of objects it renders."""
    labels = {"app.kubernetes.io/name": app.name}
    annotations: dict[str, str] = {}
    extra_labels: dict[str, str] = {}
    for shape, key, value in (("annotation-date-2026-02-30", "example.com/expires", "2026-02-30"),
                              ("annotation-equals", "example.com/separator", "="),
                              ("annotation-on", "example.com/feature-x", "on"),
                              ("annotation-null", "example.com/owner", "null"),
                              ("annotation-octal", "example.com/file-mode", "0755")):
        if shape in app.unusual:
            annotations[key] = value
    if "label-yes" in app.unusual:
        extra_labels["example.com/enabled"] = "yes"
    if "label-empty" in app.unusual:
        extra_labels["example.com/tier"] = ""
    spec: dict[str, Any] = {} if "hpa" in app.extras else {"replicas": 2}
    spec |= {
        "revisionHistoryLimit": 10,
        "selector": {"matchLabels": labels},
        "template": {
            "metadata": {"labels": labels, "annotations": {"kubectl.kubernetes.io/default-container": "app"}},
            "spec": {"serviceAccountName": app.name, "securityContext": _pod_security(),
                     "containers": [_container(app, rng)]},
        },
    }
    deployments = [{"apiVersion": "apps/v1", "kind": "Deployment",
                    "metadata": _meta(app.name, labels | extra_labels, annotations), "spec": spec}]
    if "worker" in app.extras:  # a queue consumer next to the API: same image, no Service, no probes on HTTP
        worker = f"{app.name}-worker"
        worker_labels = {"app.kubernetes.io/name": worker}
        container = _container(app, rng) | {"args": ["worker", "--concurrency=4"]}
        del container["ports"], container["readinessProbe"]
        container["livenessProbe"] = {"exec": {"command": ["/bin/healthcheck", "--worker"]}, "periodSeconds": 30}
        deployments.append({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta(worker, worker_labels),
                            "spec": {"replicas": 1, "selector": {"matchLabels": worker_labels}, "template": {
                                "metadata": {"labels": worker_labels, "annotations": {
                                    "kubectl.kubernetes.io/default-container": "app"}},
                                "spec": {"serviceAccountName": app.name, "securityContext": _pod_security(),
                                         "terminationGracePeriodSeconds": 120, "containers": [container]}}}})
    files: dict[str, dict | list[dict]] = {
        "deployment.yaml": deployments,
        "serviceaccount.yaml": {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(app.name, labels),
                                "automountServiceAccountToken": "rbac" in app.extras},
        "service.yaml": [{"apiVersion": "v1", "kind": "Service", "metadata": _meta(app.name, labels),
                          "spec": {"selector": labels, "ports": [{"name": "http", "port": 80,
                                                                  "targetPort": "http"}]}}],
    }
    data = {"LOG_LEVEL": "info", "FEATURE_FLAGS": "search,checkout-v2", "UPSTREAM_URL": f"http://{app.name}-upstream"}
    if "configmap-20kb" in app.unusual:
        data["large.txt"] = "".join(f"line {i:04d}: {'lorem ipsum dolor sit amet ' * 2}"[:63] + "\n"
                                    for i in range(320))  # 320 x 64 bytes = 20 KiB
    files["configmap.yaml"] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(f"{app.name}-config"),
                               "data": data}
    if "statefulset" in app.extras:
        store = f"{app.name}-store"
        store_labels = {"app.kubernetes.io/name": store}
        files["service.yaml"].append(  # type: ignore[union-attr]
            {"apiVersion": "v1", "kind": "Service", "metadata": _meta(store, store_labels),
             "spec": {"clusterIP": "None", "selector": store_labels, "ports": [{"name": "kv", "port": 6379}]}})
        files["statefulset.yaml"] = {
            "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": _meta(store, store_labels),
            "spec": {"serviceName": store, "replicas": 1, "selector": {"matchLabels": store_labels},
                     "template": {"metadata": {"labels": store_labels},
                                  "spec": {"securityContext": _pod_security(), "containers": [{
                                      "name": "kv", "image": "registry.example.com/platform/keyvalue:7.2.4",
                                      "ports": [{"name": "kv", "containerPort": 6379}],
                                      "resources": {"requests": {"cpu": "100m", "memory": "256Mi"},
                                                    "limits": {"memory": "256Mi"}},
                                      "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]}},
                     "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                         "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "5Gi"}}}}]}}
    if "cronjob" in app.extras:
        files["cronjob.yaml"] = {
            "apiVersion": "batch/v1", "kind": "CronJob", "metadata": _meta(f"{app.name}-cleanup", labels),
            "spec": {"schedule": f"{rng.randrange(60)} {rng.randrange(24)} * * *", "concurrencyPolicy": "Forbid",
                     "jobTemplate": {"spec": {"template": {"spec": {
                         "restartPolicy": "Never", "securityContext": _pod_security(),
                         "containers": [{"name": "cleanup", "image": f"{app.image}:1.0.0",
                                         "args": ["cleanup", "--older-than=720h"],
                                         "resources": {"requests": {"cpu": "50m", "memory": "64Mi"},
                                                       "limits": {"memory": "128Mi"}}}]}}}}}}
    if "hpa" in app.extras:
        files["hpa.yaml"] = {
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": _meta(app.name, labels),
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": app.name},
                     "minReplicas": 2, "maxReplicas": rng.choice((4, 6, 10)),
                     "metrics": [{"type": "Resource", "resource": {
                         "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]}}
    if "pdb" in app.extras:
        files["pdb.yaml"] = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": _meta(app.name),
                             "spec": {"maxUnavailable": 1, "selector": {"matchLabels": labels}}}
    if "networkpolicy" in app.extras:
        files["networkpolicy.yaml"] = {
            "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": _meta(app.name),
            "spec": {"podSelector": {"matchLabels": labels}, "policyTypes": ["Ingress"],
                     "ingress": [{"ports": [{"port": 8080, "protocol": "TCP"}]}]}}
    if "rbac" in app.extras:  # the app reads its own ConfigMaps through the API
        files["rbac.yaml"] = [
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": _meta(f"{app.name}-reader"),
             "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]}]},
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
             "metadata": _meta(f"{app.name}-reader"),
             "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": f"{app.name}-reader"},
             "subjects": [{"kind": "ServiceAccount", "name": app.name}]}]
    if "ingress" in app.extras:
        host = f"{app.name}.{app.team}.example.com"
        files["ingress.yaml"] = {
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": _meta(app.name, labels),
            "spec": {"ingressClassName": "nginx", "tls": [{"hosts": [host], "secretName": f"{app.name}-tls"}],
                     "rules": [{"host": host, "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {
                         "service": {"name": app.name, "port": {"name": "http"}}}}]}}]}}
    resources = list(files)
    if app.platform:
        resources.append("../../../../platform/base")
    out = {name: dump(*(docs if isinstance(docs, list) else [docs])) for name, docs in files.items()}
    out["kustomization.yaml"] = dump(KUSTOMIZATION | {"resources": resources})
    count = sum(len(docs) if isinstance(docs, list) else 1 for docs in files.values())
    return out, count + (len(PLATFORM) if app.platform else 0)


PLATFORM = [
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta("platform-defaults"),
     "data": {"CLUSTER_DOMAIN": "cluster.local", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel-collector:4317"}},
    {"apiVersion": "v1", "kind": "LimitRange", "metadata": _meta("platform-limits"),
     "spec": {"limits": [{"type": "Container", "defaultRequest": {"cpu": "50m", "memory": "64Mi"},
                          "default": {"memory": "256Mi"}}]}},
    {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": _meta("platform-quota"),
     "spec": {"hard": {"requests.cpu": "20", "requests.memory": "40Gi", "limits.memory": "80Gi", "pods": "200"}}},
    {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": _meta("platform-allow-dns"),
     "spec": {"podSelector": {}, "policyTypes": ["Egress"],
              "egress": [{"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]}]}},
    {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": _meta("business-critical"),
     "value": 100000, "globalDefault": False, "description": "Serves customers; preempts batch work."},
]


def _deployment_smp(body: dict, name: str = "any") -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name}, "spec": body}


def _component(name: str) -> dict[str, str]:
    """Files of components/<name>/ (features and orphans alike)."""
    deployments = {"kind": "Deployment"}
    annotate = "- op: add\n  path: /spec/template/metadata/annotations/{key}\n  value: \"{value}\"\n"
    patches: list[dict] = []
    resources: dict[str, dict] = {}
    if name == "tracing":
        patches.append({"target": deployments, "patch": dump(_deployment_smp({"template": {"spec": {"containers": [
            {"name": "app", "env": [{"name": "OTEL_SERVICE_NAME", "value": "from-component"},
                                    {"name": "OTEL_TRACES_SAMPLER", "value": "parentbased_traceidratio"}]}]}}}))})
    elif name == "metrics":
        patches.append({"target": deployments, "patch": annotate.format(key="prometheus.io~1scrape", value="true")})
        resources["configmap.yaml"] = {"apiVersion": "v1", "kind": "ConfigMap",
                                       "metadata": _meta("metrics-scrape-config"),
                                       "data": {"scrape_interval": "30s", "path": "/metrics"}}
    elif name == "default-deny":
        resources["networkpolicy.yaml"] = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                                           "metadata": _meta("default-deny-ingress"),
                                           "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}
    elif name == "debug-tools":
        patches.append({"target": deployments,
                        "patch": annotate.format(key="debug.example.com~1enabled", value="true")})
    elif name == "priority":
        patches.append({"target": deployments, "patch": dump(_deployment_smp(
            {"template": {"spec": {"priorityClassName": "business-critical"}}}))})
    else:  # an orphan: a feature someone wrote and no overlay uses any more
        patches.append({"target": deployments, "patch": annotate.format(key=f"{name}.example.com~1enabled",
                                                                        value="true")})
    kustomization = COMPONENT | ({"resources": list(resources)} if resources else {}) | {"patches": patches}
    return {"kustomization.yaml": dump(kustomization), **{f: dump(doc) for f, doc in resources.items()}}


def _crd_files(overlay: _Overlay, rng: random.Random) -> tuple[dict[str, str], int]:
    kind, plural = rng.choice(CRD_KINDS)
    group = rng.choice(("example.com", f"{overlay.app.team}.example.com"))
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": _meta(f"{plural}.{group}"),
           "spec": {"group": group, "scope": "Namespaced",
                    "names": {"kind": kind, "listKind": f"{kind}List", "plural": plural, "singular": kind.lower()},
                    "versions": [{"name": "v1alpha1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                        "type": "object", "properties": {"spec": {"type": "object", "properties": {
                            "size": {"type": "integer"}, "color": {"type": "string"},
                            "enabled": {"type": "boolean"}, "tags": {"type": "array", "items": {"type": "string"}},
                        }}}}}}]}}
    items = [{"apiVersion": f"{group}/v1alpha1", "kind": kind,
              "metadata": _meta(f"{overlay.app.name}-{kind.lower()}-{i:02d}"),
              "spec": {"size": rng.randrange(1, 100), "color": rng.choice(("red", "green", "blue")),
                       "enabled": rng.random() < 0.5, "tags": [overlay.env, overlay.app.team]}}
             for i in range(rng.randint(4, 29))]
    return {"crd.yaml": dump(crd), f"{plural}.yaml": dump(*items)}, 1 + len(items)


# --- operators: multi-megabyte CRDs ---------------------------------------------------------------------

_WORDS = ("replica", "volume", "storage", "backup", "schedule", "retention", "tls", "certificate", "endpoint",
          "port", "resource", "limit", "request", "selector", "affinity", "toleration", "priority", "timeout",
          "interval", "threshold", "policy", "template", "annotation", "label", "secret", "config", "image",
          "probe", "sidecar", "metric", "log", "trace", "shard", "partition", "topic", "consumer", "producer",
          "gateway", "route", "listener", "filter", "header", "weight", "mirror", "retry", "budget", "window",
          "quota", "zone", "region", "node", "pool", "class", "mode", "strategy", "version", "channel", "source",
          "target", "sink", "replication", "snapshot", "encryption", "key", "rotation", "cache", "buffer")


def _description(rng: random.Random) -> str:
    """One to four sentences, as controller-gen copies them from Go doc comments."""
    w = rng.sample(_WORDS, 6)
    text = f"{w[0].capitalize()} {w[1]} of the {w[2]} {w[3]}, as the controller applies it to every {w[4]}."
    if rng.random() < 0.6:
        text += f" Defaults to the {w[5]} of the parent {w[2]} when unset; an empty value disables it."
    if rng.random() < 0.4:
        text += (f" Changing it restarts every {w[4]} that uses this {w[1]}, one at a time, and waits for each "
                 f"to report Ready before it moves on.")
    if rng.random() < 0.3:
        text += f" More info: https://docs.example.io/reference/{w[0]}-{w[1]}#{w[3]}"
    return text


def _leaf(rng: random.Random) -> dict:
    roll = rng.random()
    prop: dict[str, Any] = {"description": _description(rng)}
    if roll < 0.3:
        prop["type"] = "string"
        extra = rng.random()
        if extra < 0.3:
            prop["enum"] = [w.capitalize() for w in rng.sample(_WORDS, rng.randint(2, 5))]
        elif extra < 0.5:
            prop["pattern"] = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
            prop["maxLength"] = 63
        elif extra < 0.6:
            prop["format"] = "date-time"
    elif roll < 0.5:
        prop |= {"type": "integer", "format": rng.choice(("int32", "int64")), "minimum": 0}
        if rng.random() < 0.5:
            prop["default"] = rng.choice((1, 3, 30, 300))
    elif roll < 0.62:
        prop |= {"type": "boolean", "default": False}
    elif roll < 0.72:
        prop |= {"anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": True}
    elif roll < 0.82:
        prop |= {"type": "object", "additionalProperties": {"type": "string"}}
    elif roll < 0.92:
        prop |= {"type": "array", "items": {"type": "string"}}
    else:
        prop |= {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    return prop


def _properties(rng: random.Random, depth: int) -> dict[str, dict]:
    """An object's properties: leaves, nested objects and lists of named objects, thinner with depth."""
    props: dict[str, dict] = {}
    nested = 0.3 * 0.65 ** (depth - 1)
    for _ in range(rng.randint(3, 10)):
        words = rng.sample(_WORDS, rng.randint(1, 3))
        name = words[0] + "".join(word.capitalize() for word in words[1:])
        roll = rng.random()
        if depth < 6 and roll < nested * 0.7:
            props[name] = {"description": _description(rng), "type": "object",
                           "properties": _properties(rng, depth + 1)}
        elif depth < 6 and roll < nested:
            item = {"type": "object", "required": ["name"],
                    "properties": {"name": {"description": "Name of the entry, unique in the list.",
                                            "type": "string"}} | _properties(rng, depth + 1)}
            props[name] = {"description": _description(rng), "type": "array", "items": item,
                           "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]}
        else:
            props[name] = _leaf(rng)
    return props


def _schema(rng: random.Random, budget: int) -> dict:
    """An openAPIV3Schema whose YAML, where it sits in a CRD, takes about `budget` bytes."""
    spec: dict[str, dict] = {}
    size = 2500  # the version's other fields and the status schema
    while size < budget:
        words = rng.sample(_WORDS, 2)
        name = words[0] + words[1].capitalize()
        if name in spec:
            continue
        prop = {"description": _description(rng), "type": "object", "properties": _properties(rng, 2)}
        text = dump(prop)
        grown = size + len(text) + 16 * text.count("\n") + len(name) + 16  # 16 columns of indent in the CRD
        if spec and grown - budget > budget - size:  # closer to the budget without it
            break
        spec[name] = prop
        size = grown
    status = {"conditions": {"description": "Latest observations of the object's state.", "type": "array",
                             "items": {"type": "object", "required": ["type", "status"], "properties": {
                                 "type": {"type": "string"}, "status": {"type": "string", "enum": [
                                     "True", "False", "Unknown"]},
                                 "reason": {"type": "string"}, "message": {"type": "string"},
                                 "lastTransitionTime": {"type": "string", "format": "date-time"}}},
                             "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
              "observedGeneration": {"type": "integer", "format": "int64"}}
    return {"description": _description(rng), "type": "object", "properties": {
        "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"},
        "spec": {"description": _description(rng), "type": "object", "properties": spec},
        "status": {"type": "object", "properties": status}}}


def _operator(name: str, group: str, stem: str, size: int, rng: random.Random) -> tuple[dict[str, str], int, str]:
    """Files of operators/<name>/, the objects it renders, and the first CRD's kind.

    crds.yaml holds ceil(size / MAX_CRD_BYTES) CRDs of three versions each and comes out at about `size` bytes.
    """
    count = max(1, -(-size // MAX_CRD_BYTES))
    crds = []
    for i in range(count):
        kind = f"{stem}{CRD_SUFFIXES[i % len(CRD_SUFFIXES)]}" + (str(i // len(CRD_SUFFIXES) + 1)
                                                                  if i >= len(CRD_SUFFIXES) else "")
        plural = kind.lower() + "s"
        versions = []
        for version, served, storage in (("v1alpha1", True, False), ("v1beta1", True, False), ("v1", True, True)):
            entry: dict[str, Any] = {"name": version, "served": served, "storage": storage}
            if version == "v1alpha1":
                entry["deprecated"] = True
            entry |= {"schema": {"openAPIV3Schema": _schema(rng, size // count // 3)},
                      "subresources": {"status": {}},
                      "additionalPrinterColumns": [
                          {"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")]"
                                                                         ".status"},
                          {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]}
            versions.append(entry)
        crds.append({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                     "metadata": _meta(f"{plural}.{group}", {"app.kubernetes.io/part-of": name}),
                     "spec": {"group": group, "scope": "Namespaced",
                              "names": {"kind": kind, "listKind": f"{kind}List", "plural": plural,
                                        "singular": kind.lower(), "categories": [name]},
                              "versions": versions}})
    controller = f"{name}-controller"
    labels = {"app.kubernetes.io/name": controller}
    objects = [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(controller, labels)},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": _meta(controller, labels),
         "rules": [{"apiGroups": [group], "resources": ["*"], "verbs": ["*"]},
                   {"apiGroups": ["", "apps"], "resources": ["pods", "services", "statefulsets", "configmaps"],
                    "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": _meta(controller, labels),
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": controller},
         "subjects": [{"kind": "ServiceAccount", "name": controller, "namespace": "operators"}]},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta(controller, labels),
         "spec": {"replicas": 1, "selector": {"matchLabels": labels}, "template": {
             "metadata": {"labels": labels, "annotations": {"kubectl.kubernetes.io/default-container": "manager"}},
             "spec": {"serviceAccountName": controller, "securityContext": _pod_security(), "containers": [{
                 "name": "manager", "image": f"registry.example.com/operators/{controller}:v2.{rng.randrange(9)}.0",
                 "args": ["--leader-elect", "--metrics-bind-address=:8443"],
                 "ports": [{"name": "metrics", "containerPort": 8443}],
                 "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
                 "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8081}, "periodSeconds": 20},
                 "readinessProbe": {"httpGet": {"path": "/readyz", "port": 8081}, "periodSeconds": 10},
                 "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                     "capabilities": {"drop": ["ALL"]}}}]}}}},
    ]
    files = {"crds.yaml": dump(*crds), "controller.yaml": dump(*objects),
             "kustomization.yaml": dump(KUSTOMIZATION | {"resources": ["crds.yaml", "controller.yaml"]})}
    return files, len(crds) + len(objects), crds[0]["spec"]["names"]["kind"]


def _overlay(overlay: _Overlay, rng: random.Random, operators: dict[str, tuple[str, str, int]]
             ) -> tuple[dict[str, str], int]:
    """Files of one overlay and the number of objects it renders on top of its base."""
    app, env = overlay.app, overlay.env
    files: dict[str, str] = {}
    added = 0
    resources = ["../../base"]
    if overlay.crd:
        crd_files, count = _crd_files(overlay, rng)
        files |= crd_files
        resources += list(crd_files)
        added += count
    if overlay.operator:
        group, kind, count = operators[overlay.operator]
        instances = [{"apiVersion": f"{group}/v1", "kind": kind,
                      "metadata": _meta(f"{app.name}-{kind.lower()}-{i}"),
                      "spec": {"replicas": rng.choice((1, 3)), "version": f"1.{rng.randrange(8)}"}}
                     for i in range(rng.randint(2, 4))]
        files["operator-objects.yaml"] = dump(*instances)
        resources += [f"{TO_ROOT}operators/{overlay.operator}", "operator-objects.yaml"]
        added += count + len(instances)
    k: dict[str, Any] = KUSTOMIZATION | {"namespace": f"{app.team}-{env}", "resources": resources}
    if overlay.components:
        k["components"] = [f"{TO_ROOT}components/{name}" for name in overlay.components]
        added += sum(FEATURES[name] for name in overlay.components)
    label_rule: dict[str, Any] = {"pairs": {"app.kubernetes.io/part-of": app.team, "environment": env}}
    if rng.random() < 0.5:
        label_rule["includeTemplates"] = True
    k["labels"] = [label_rule]
    image: dict[str, Any] = {"name": app.image}
    if env == "prod":
        image["digest"] = f"sha256:{rng.getrandbits(256):064x}"
    else:
        image["newTag"] = f"1.{rng.randrange(20)}.{rng.randrange(10)}"
    k["images"] = [image]
    if "hpa" not in app.extras:  # an HPA owns the replica count
        k["replicas"] = [{"name": app.name, "count": {"dev": 1, "staging": 2, "prod": 3}[env]}]
    k["configMapGenerator"] = [{"name": f"{app.name}-env", "literals": [
        f"ENVIRONMENT={env}", f"RELEASE_CHANNEL={rng.choice(('stable', 'beta'))}"]}]
    added += 1
    if rng.random() < 0.5:
        k["secretGenerator"] = [{"name": f"{app.name}-credentials", "type": "Opaque", "literals": [
            "username=fake-user", f"password=not-a-real-password-{rng.getrandbits(32):08x}"]}]
        added += 1
    patches: list[dict] = []
    files["patches/resources.yaml"] = dump(_deployment_smp({"template": {"spec": {"containers": [
        {"name": "app", "resources": {"requests": {"cpu": f"{rng.choice((100, 200, 500))}m", "memory": "256Mi"},
                                      "limits": {"memory": "512Mi"}}}]}}}, app.name))
    patches.append({"path": "patches/resources.yaml"})
    if rng.random() < 0.5:
        files["patches/settings.yaml"] = dump({"apiVersion": "v1", "kind": "ConfigMap",
                                               "metadata": {"name": f"{app.name}-config"},
                                               "data": {"LOG_LEVEL": "debug" if env == "dev" else "warn"}})
        patches.append({"path": "patches/settings.yaml"})
    patches.append({"target": {"kind": "Deployment", "name": app.name},
                    "patch": f"- op: add\n  path: /spec/minReadySeconds\n  value: {rng.choice((5, 10, 30))}\n"})
    k["patches"] = patches

    match overlay.broken:
        case "missing-file":
            k["resources"].append("servicemonitor.yaml")
        case "remote-base":
            k["resources"].append(REMOTE_BASE)
        case "bad-yaml":
            files["extra-config.yaml"] = (f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {app.name}-extra\n"
                                          "data:\n  ports: [80, 443\n  motd: unclosed flow sequence above\n")
            k["resources"].append("extra-config.yaml")
        case "patch-target-missing":
            files["patches/legacy.yaml"] = dump(_deployment_smp({"paused": True}, f"{app.name}-legacy"))
            k["patches"].append({"path": "patches/legacy.yaml"})
        case "load-outside-root":
            k["resources"].append(OUTSIDE)
    if overlay.broken == "not-a-mapping":
        files["kustomization.yaml"] = ("# The mapping below was turned into a list by mistake.\n"
                                       + dump([{key: value} for key, value in k.items()]))
    else:
        files["kustomization.yaml"] = dump(k)
    return files, added


# --- generate -------------------------------------------------------------------------------------------

def generate(root: Path, overlays: int = 150, seed: int = 1, *, broken_ratio: float = 0.1,
             crd_ratio: float = 0.25, heavy_ratio: float = 0.025,
             heavy_mib: tuple[float, float] = (1.0, 4.0)) -> Manifest:
    """Write the monorepo under root (absent or empty) and manifest.json; return the Manifest.

    heavy_ratio of the overlays (at least one unless it is 0) include an operator with multi-megabyte CRDs;
    there are up to three operators, their crds.yaml sized evenly from heavy_mib[0] to heavy_mib[1] MiB.
    """
    if overlays < 1:
        raise ValueError("overlays must be at least 1")
    if not (0 <= broken_ratio <= 1 and 0 <= crd_ratio <= 1 and 0 <= heavy_ratio <= 1):
        raise ValueError("ratios must be between 0 and 1")
    if not 0 < heavy_mib[0] <= heavy_mib[1]:
        raise ValueError("heavy_mib must be a range of sizes above 0, smallest first")
    root = Path(root)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise FileExistsError(f"{root}: exists and is not an empty directory")
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not cryptography

    apps = _plan_apps(rng, overlays)
    every = [o for app in apps for o in app.overlays]
    _assign_breakages(rng, every, round(overlays * broken_ratio))
    good = [o for o in every if not o.broken]
    for overlay in rng.sample(good, min(len(good), round(overlays * crd_ratio))):
        overlay.crd = True
    plain = [o for o in good if not o.crd]
    heavy = rng.sample(plain, min(len(plain), max(1, round(overlays * heavy_ratio)))) if heavy_ratio else []
    chosen_operators = OPERATORS[:min(len(heavy), 3)]
    for i, overlay in enumerate(heavy):
        overlay.operator = chosen_operators[i % len(chosen_operators)][0]
    features = list(FEATURES)
    for i, overlay in enumerate(every):
        chosen = {name for name in features if rng.random() < 0.15}
        if i < len(features):  # the first overlays use every feature once
            chosen.add(features[i])
        if overlay.operator:  # tracing patches a container named app, which an operator's controller lacks
            chosen.discard("tracing")
        overlay.components = [name for name in features if name in chosen]
    # Every unusual shape reaches at least one good overlay.
    with_good = [app for app in apps if any(not o.broken for o in app.overlays)]
    for shape in UNUSUAL:
        if with_good and not any(shape in app.unusual for app in with_good):
            rng.choice(with_good).unusual.append(shape)

    files: dict[str, str] = {}
    manifest = Manifest()
    operators: dict[str, tuple[str, str, int]] = {}  # name -> group, first kind, objects
    operator_bytes: dict[str, int] = {}
    for i, (name, group, stem) in enumerate(chosen_operators):
        step = (heavy_mib[1] - heavy_mib[0]) / (len(chosen_operators) - 1) if len(chosen_operators) > 1 else 0
        size = round((heavy_mib[0] + i * step) * 1024 * 1024)
        op_files, count, kind = _operator(name, group, stem, size, random.Random(rng.getrandbits(64)))  # noqa: S311
        files |= {f"operators/{name}/{f}": text for f, text in op_files.items()}
        operators[name] = (group, kind, count)
        operator_bytes[name] = len(op_files["crds.yaml"].encode("utf-8"))
    for app in apps:
        base_files, base_count = _base(app, rng)
        files |= {f"{app.path}/base/{name}": text for name, text in base_files.items()}
        for overlay in app.overlays:
            overlay_files, added = _overlay(overlay, rng, operators)
            files |= {f"{overlay.path}/{name}": text for name, text in overlay_files.items()}
            if overlay.broken:
                manifest.broken[overlay.path] = overlay.broken
            else:
                manifest.good.append(overlay.path)
                manifest.objects[overlay.path] = base_count + added
                if app.unusual:
                    manifest.unusual[overlay.path] = sorted(app.unusual, key=UNUSUAL.index)
                if overlay.operator:
                    manifest.heavy[overlay.path] = operator_bytes[overlay.operator]
    included_bases = {f"{app.path}/base" for app in apps} | {f"operators/{name}" for name in operators}
    if any(app.platform for app in apps):
        files["platform/base/kustomization.yaml"] = dump(KUSTOMIZATION | {"resources": ["objects.yaml"]})
        files["platform/base/objects.yaml"] = dump(*PLATFORM)
        included_bases.add("platform/base")
    wanted = {name for o in every for name in o.components}
    # A component listed only by a not-a-mapping kustomization is, in fact, included by nobody.
    included = {name for o in every if o.broken != "not-a-mapping" for name in o.components}
    orphans = [ORPHANS[i % len(ORPHANS)] + (f"-{i // len(ORPHANS) + 1}" if i >= len(ORPHANS) else "")
               for i in range(max(1, round(overlays / 50)))]
    for name in sorted(wanted) + orphans:
        files |= {f"components/{name}/{f}": text for f, text in _component(name).items()}
    if any(o.broken == "load-outside-root" for o in every):
        files["apps/outside.yaml"] = dump({"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta("outside"),
                                           "data": {"note": "outside every overlay's root"}})
    manifest.components = sorted(f"components/{name}" for name in (wanted - included) | set(orphans))
    manifest.bases = sorted(included_bases)
    manifest.good.sort()
    manifest.broken = dict(sorted(manifest.broken.items()))
    manifest.objects = dict(sorted(manifest.objects.items()))
    manifest.unusual = dict(sorted(manifest.unusual.items()))
    manifest.heavy = dict(sorted(manifest.heavy.items()))
    files["manifest.json"] = manifest.to_json()

    made: set[Path] = set()
    for rel in sorted(files):
        path = root / rel
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        path.write_text(files[rel], encoding="utf-8")
    return manifest


def mib_range(text: str) -> tuple[float, float]:
    """`1,4` -> (1.0, 4.0): an argparse type."""
    try:
        low, high = (float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected MIN,MAX in MiB, e.g. 1,4") from None
    return low, high


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, metavar="OUT_DIR", help="absent or empty directory to write")
    parser.add_argument("--overlays", type=int, default=150, help="overlays to make (default 150)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--broken-ratio", type=float, default=0.1, help="share of broken overlays (default 0.1)")
    parser.add_argument("--crd-ratio", type=float, default=0.25,
                        help="share of overlays with a small made-up CRD and objects of it (default 0.25)")
    parser.add_argument("--heavy-ratio", type=float, default=0.025,
                        help="share of overlays that include an operator's multi-megabyte CRDs (default 0.025, "
                             "at least one unless 0)")
    parser.add_argument("--heavy-mib", type=mib_range, default=(1.0, 4.0), metavar="MIN,MAX",
                        help="size range of the operators' CRD files in MiB (default 1,4)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        manifest = generate(args.out, args.overlays, args.seed, broken_ratio=args.broken_ratio,
                            crd_ratio=args.crd_ratio, heavy_ratio=args.heavy_ratio, heavy_mib=args.heavy_mib)
    except (ValueError, OSError) as exc:
        print(f"monorepo: {exc}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - start
    files = sum(1 for p in args.out.rglob("*") if p.is_file())
    print(f"{args.out}: {len(manifest.good)} good and {len(manifest.broken)} broken overlays, "
          f"{len(manifest.components)} orphan components, {len(manifest.bases)} bases, "
          f"{sum(manifest.objects.values())} objects ({len(manifest.heavy)} overlays with multi-megabyte CRDs), "
          f"{files} files in {elapsed:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
