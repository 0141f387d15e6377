"""Which pod labels an overlay makes, for the rules that check that a selector selects something
(service-selector, policy-selects-pods).

Besides the built-in workloads (``ctx.pods``), custom resources make pods too:

- any custom resource whose ``spec.template`` is shaped like a pod template (a mapping with a
  ``spec.containers`` list), e.g. an Argo Rollout: its pods carry ``spec.template.metadata.labels``;
- the Prometheus Operator's Prometheus, PrometheusAgent, Alertmanager and ThanosRuler: their pods
  carry ``spec.podMetadata.labels`` and the labels the operator sets itself (its
  ``makeSelectorLabels``: ``app.kubernetes.io/name``, ``app.kubernetes.io/managed-by:
  prometheus-operator``, ``app.kubernetes.io/instance: <name>``, ``<kind>: <name>`` and, for
  Prometheus, ``operator.prometheus.io/name: <name>``; older operator versions also set
  ``app: <kind>``). A label whose value the operator decides at run time
  (``app.kubernetes.io/version``, ``operator.prometheus.io/shard`` and ``/mode``) may be absent
  or have whatever value a selector asks for.

Other custom resources may make pods whose labels cannot be read from the manifest (an operator
decides them): such a resource in a namespace makes "selects no pod" uncertain there
(``Sources.unknown``). Custom resources of kinds known to make no pods (ServiceMonitor,
Certificate, ExternalSecret, ...) and resources of the Kubernetes API groups (``*.k8s.io`` and
groups without a dot) are not counted.

Custom resources are read as plain data: nothing here records a shape problem for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from policycheck.access import Node
from policycheck.model import K8sObject

# kind -> (app.kubernetes.io/name the operator sets, the label that carries the resource's name).
OPERATOR_KINDS: dict[str, tuple[str, str]] = {
    "Prometheus": ("prometheus", "prometheus"),
    "PrometheusAgent": ("prometheus-agent", "operator.prometheus.io/name"),
    "Alertmanager": ("alertmanager", "alertmanager"),
    "ThanosRuler": ("thanos-ruler", "thanos-ruler"),
}
_OPERATOR_GROUP = "monitoring.coreos.com"
# Labels whose value the operator decides when it runs (its version, a Prometheus's shard and
# mode): a selector may ask for any value of them.
_ANY_VALUE = frozenset({"app.kubernetes.io/version", "operator.prometheus.io/shard", "operator.prometheus.io/mode"})

# Custom resource kinds that configure something and make no pods of their own.
NO_POD_KINDS = frozenset({
    # Prometheus Operator
    "ServiceMonitor", "PodMonitor", "Probe", "PrometheusRule", "AlertmanagerConfig", "ScrapeConfig",
    # cert-manager
    "Certificate", "CertificateRequest", "Issuer", "ClusterIssuer",
    # External Secrets, Sealed Secrets
    "ExternalSecret", "ClusterExternalSecret", "SecretStore", "ClusterSecretStore", "PushSecret", "SealedSecret",
    # Istio
    "VirtualService", "DestinationRule", "Gateway", "ServiceEntry", "Sidecar", "PeerAuthentication",
    "AuthorizationPolicy", "RequestAuthentication", "Telemetry", "EnvoyFilter", "WorkloadEntry",
    # Traefik, Contour
    "IngressRoute", "IngressRouteTCP", "IngressRouteUDP", "Middleware", "MiddlewareTCP", "TLSOption",
    "ServersTransport", "TraefikService", "HTTPProxy",
    # KEDA (ScaledJob makes Jobs: not listed), Argo
    "ScaledObject", "TriggerAuthentication", "ClusterTriggerAuthentication",
    "AnalysisTemplate", "ClusterAnalysisTemplate", "Application", "ApplicationSet", "AppProject",
    # Grafana Operator
    "GrafanaDashboard", "GrafanaDatasource", "GrafanaFolder",
})


@dataclass(frozen=True)
class PodLabels:
    """The labels the pods of one object carry; keys in ``any_value`` match every value."""

    obj: K8sObject
    labels: dict[str, str]
    any_value: frozenset[str] = frozenset()

    def matches_map(self, selector: dict[str, str]) -> bool:
        """A Service-style selector (a plain map): every entry equal."""
        return all(k in self.any_value or self.labels.get(k) == v for k, v in selector.items())

    def matches(self, selector: Node) -> bool:
        """A LabelSelector (matchLabels, matchExpressions). A key of ``any_value`` may be unset or
        set to whatever the selector asks for: the selector matches if either way does."""
        from policycheck.k8s import selector_matches  # noqa: PLC0415 - k8s imports nothing of the rules

        if selector_matches(selector, self.labels):
            return True
        if not self.any_value:
            return False
        labels = dict(self.labels)
        wanted = selector.str_map("matchLabels")
        for key in self.any_value:
            value = wanted.get(key)
            for expr in selector.maps("matchExpressions"):
                values = expr.strs("values")
                if value is None and expr.str("key") == key and expr.str("operator") == "In" and values:
                    value = values[0]
            labels[key] = value if value is not None else "\0any"
        if selector_matches(selector, labels):
            return True
        return selector_matches(selector, {k: v for k, v in self.labels.items() if k not in self.any_value})


@dataclass(frozen=True)
class Sources:
    """Every pod label source of an overlay, and the custom resources whose pods' labels are unknown."""

    pods: list[PodLabels]
    unknown: list[K8sObject]

    def in_namespace(self, namespace: str | None) -> list[PodLabels]:
        return [p for p in self.pods if p.obj.namespace == namespace]

    def unknown_in(self, namespace: str | None) -> list[K8sObject]:
        return [o for o in self.unknown if o.namespace == namespace]


def _group(obj: K8sObject) -> str:
    return obj.api_version.rpartition("/")[0] if "/" in obj.api_version else ""


def is_custom(obj: K8sObject) -> bool:
    """A resource of a group outside the Kubernetes API (a dot in it, not ``*.k8s.io``)."""
    group = _group(obj)
    return "." in group and not group.endswith(".k8s.io") and group != "k8s.io"


def _str_map(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}


def _custom_pod_labels(obj: K8sObject) -> PodLabels | None:
    """The pod labels of a custom resource, or None when they cannot be read."""
    spec = obj.doc.get("spec") if isinstance(obj.doc, dict) else None
    if not isinstance(spec, dict):
        return None
    if obj.kind in OPERATOR_KINDS and _group(obj) == _OPERATOR_GROUP:
        app_name, name_label = OPERATOR_KINDS[obj.kind]
        meta = spec.get("podMetadata")
        labels = _str_map(meta.get("labels")) if isinstance(meta, dict) else {}
        # The operator's labels win over podMetadata's (it copies them last).
        labels.update({"app": app_name, "app.kubernetes.io/name": app_name,
                       "app.kubernetes.io/managed-by": "prometheus-operator",
                       "app.kubernetes.io/instance": obj.name, name_label: obj.name})
        if obj.kind == "Prometheus":
            labels["operator.prometheus.io/name"] = obj.name
        return PodLabels(obj, labels, _ANY_VALUE)
    template = spec.get("template")
    if isinstance(template, dict) and isinstance(template.get("spec"), dict) \
            and isinstance(template["spec"].get("containers"), list):
        meta = template.get("metadata")
        return PodLabels(obj, _str_map(meta.get("labels")) if isinstance(meta, dict) else {})
    return None


def pod_sources(ctx: Any) -> Sources:
    """The pod label sources of the overlay of ``ctx``."""
    pods = [PodLabels(p.obj, p.labels) for p in ctx.pods]
    unknown = []
    for obj in ctx.objects:
        if not is_custom(obj) or obj.kind in NO_POD_KINDS:
            continue
        labels = _custom_pod_labels(obj)
        if labels is not None:
            pods.append(labels)
        else:
            unknown.append(obj)
    return Sources(pods, unknown)
