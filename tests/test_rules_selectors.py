"""Selectors that must find their pods, Services wired to their pods and their ports, Recreate behind a
Service: the exact object, field and line of each finding, and the cases that must stay silent."""

from __future__ import annotations

from policycheck.model import K8sObject
from policycheck.render import Rendered
from tests.rulekit import FIXTURES, fixture_findings, load, run


def hits(rule: str) -> set[tuple[str, str, str | None, int]]:
    return {(f.obj.kind, f.obj.name, f.field, f.source.line if f.source else 0)
            for f in fixture_findings(rule, "fires")}


def findings(rule: str, *docs: dict) -> list:
    return run(Rendered("t", [K8sObject(d, "t", "t.yaml") for d in docs]), {rule})


def obj(api_version: str, kind: str, name: str, spec: dict, namespace: str = "demo") -> dict:
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "namespace": namespace}, "spec": spec}


# -- service-selector and policy-selects-pods: pods of custom resources -------------------------------------


def test_service_selector_lines() -> None:
    assert hits("service-selector") == {
        ("Service", "web", "spec.selector", 58),
        ("Service", "alertmanager-ops", "spec.selector", 85),
    }


def test_policy_selects_pods_custom_resource_lines() -> None:
    assert ("NetworkPolicy", "prometheus-main", "spec.podSelector", 59) in hits("policy-selects-pods")
    text = (FIXTURES / "policy-selects-pods" / "fires.yaml").read_text().splitlines()
    assert text[59 - 1].strip() == "podSelector:"


def test_kube_prometheus_alertmanager_and_prometheus_are_pod_sources() -> None:
    found = run(load(FIXTURES / "policy-selects-pods" / "passes.yaml"), {"policy-selects-pods", "service-selector"})
    assert found == []
    found = run(load(FIXTURES / "service-selector" / "passes.yaml"), {"service-selector"})
    assert found == []


def test_every_operator_kind_carries_its_labels() -> None:
    for kind, name_label, app in (("Prometheus", "prometheus", "prometheus"),
                                  ("PrometheusAgent", "operator.prometheus.io/name", "prometheus-agent"),
                                  ("Alertmanager", "alertmanager", "alertmanager"),
                                  ("ThanosRuler", "thanos-ruler", "thanos-ruler")):
        cr = obj("monitoring.coreos.com/v1", kind, "main", {})
        good = obj("v1", "Service", "s", {"selector": {name_label: "main", "app.kubernetes.io/name": app,
                                                       "app.kubernetes.io/managed-by": "prometheus-operator"}})
        bad = obj("v1", "Service", "s", {"selector": {name_label: "other"}})
        assert findings("service-selector", cr, good) == [], kind
        assert [f.obj.name for f in findings("service-selector", cr, bad)] == ["s"], kind
        # The same kind in another group is not the operator's: it is an unknown custom resource.
        stranger = obj("example.com/v1", kind, "main", {})
        assert findings("service-selector", stranger, bad) == [], kind


def test_unknown_custom_resources_make_the_rules_uncertain_in_their_namespace_only() -> None:
    cluster = obj("postgresql.cnpg.io/v1", "Cluster", "db", {"instances": 3}, namespace="data")
    svc = obj("v1", "Service", "db", {"selector": {"cnpg.io/cluster": "db"}}, namespace="data")
    pdb = obj("policy/v1", "PodDisruptionBudget", "db", {"selector": {"matchLabels": {"cnpg.io/cluster": "db"}}},
              namespace="data")
    assert findings("service-selector", cluster, svc) == []
    assert findings("policy-selects-pods", cluster, pdb) == []
    # Elsewhere, or with only kinds that make no pods, the rules stay certain.
    assert len(findings("service-selector", {**cluster, "metadata": {"name": "db", "namespace": "other"}}, svc)) == 1
    monitor = obj("monitoring.coreos.com/v1", "ServiceMonitor", "db", {}, namespace="data")
    assert len(findings("service-selector", monitor, svc)) == 1
    assert len(findings("policy-selects-pods", monitor, pdb)) == 1
    # A resource of a Kubernetes API group (a Gateway API route) is not an operator's.
    route = obj("gateway.networking.k8s.io/v1", "HTTPRoute", "db", {}, namespace="data")
    assert len(findings("service-selector", route, svc)) == 1


def test_a_pod_template_shaped_custom_resource_is_read_like_a_deployment() -> None:
    rollout = obj("argoproj.io/v1alpha1", "Rollout", "shop", {
        "template": {"metadata": {"labels": {"app": "shop"}}, "spec": {"containers": [{"name": "c", "image": "x:1"}]}}})
    svc = obj("v1", "Service", "shop", {"selector": {"app": "shop"}})
    assert findings("service-selector", rollout, svc) == []
    wrong = obj("v1", "Service", "shop", {"selector": {"app": "shop-v2"}})
    assert len(findings("service-selector", rollout, wrong)) == 1
    # A spec.template that is no pod template (no containers list) tells nothing: uncertain.
    odd = obj("example.com/v1", "Thing", "shop", {"template": "x"})
    assert findings("service-selector", odd, wrong) == []


# -- recreate-behind-service: singletons on a ReadWriteOnce volume, metrics-only Services ---------------------


def test_recreate_behind_service_lines_and_services() -> None:
    found = fixture_findings("recreate-behind-service", "fires")
    assert {(f.obj.name, f.field, f.source.line if f.source else 0) for f in found} == {
        ("web", "spec.strategy.type", 10), ("shared", "spec.strategy.type", 42), ("scaled", "spec.strategy.type", 70)}
    # The Service named is one whose clients see the outage, not the metrics one.
    assert "Service scaled-web" in next(f.message for f in found if f.obj.name == "scaled")


def _singleton(replicas: object = 1, volume: dict | None = None) -> dict:
    spec: dict = {"strategy": {"type": "Recreate"}, "selector": {"matchLabels": {"app": "db"}},
                  "template": {"metadata": {"labels": {"app": "db"}},
                               "spec": {"containers": [{"name": "c", "image": "x:1"}],
                                        "volumes": [volume or {"name": "d", "persistentVolumeClaim": {"claimName": "d"}}]}}}
    if replicas is not None:
        spec["replicas"] = replicas
    return obj("apps/v1", "Deployment", "db", spec)


def _service(*ports: dict) -> dict:
    return obj("v1", "Service", "db", {"selector": {"app": "db"}, "ports": list(ports) or [{"port": 80}]})


def _claim(*modes: str) -> dict:
    return obj("v1", "PersistentVolumeClaim", "d", {"accessModes": list(modes)} if modes else {})


def test_recreate_is_required_for_a_singleton_on_a_read_write_once_claim() -> None:
    for replicas in (None, 0, 1):
        assert findings("recreate-behind-service", _singleton(replicas), _service(), _claim("ReadWriteOnce")) == []
    assert findings("recreate-behind-service", _singleton(), _service()) == []  # unknown claim: ReadWriteOnce
    assert findings("recreate-behind-service", _singleton(), _service(), _claim()) == []  # no modes: the same
    for wrong in ((2, _claim("ReadWriteOnce")), (1, _claim("ReadWriteOnce", "ReadWriteMany")), (1, _claim("ReadOnlyMany"))):
        assert len(findings("recreate-behind-service", _singleton(wrong[0]), _service(), wrong[1])) == 1, wrong
    # A generic ephemeral volume is per pod: no reason for Recreate.
    ephemeral = {"name": "d", "ephemeral": {"volumeClaimTemplate": {"spec": {"accessModes": ["ReadWriteOnce"]}}}}
    assert len(findings("recreate-behind-service", _singleton(volume=ephemeral), _service())) == 1
    # An HPA of another Deployment, or one that keeps it at 1, changes nothing.
    hpa = obj("autoscaling/v2", "HorizontalPodAutoscaler", "h",
              {"scaleTargetRef": {"kind": "Deployment", "name": "other"}, "maxReplicas": 5})
    assert findings("recreate-behind-service", _singleton(), _service(), hpa) == []
    hpa["spec"]["scaleTargetRef"]["name"] = "db"
    assert len(findings("recreate-behind-service", _singleton(), _service(), hpa)) == 1
    hpa["spec"]["maxReplicas"] = 1
    assert findings("recreate-behind-service", _singleton(), _service(), hpa) == []


def test_recreate_behind_metrics_only_services_passes() -> None:
    two = _singleton(2, {"name": "tmp", "emptyDir": {}})
    assert findings("recreate-behind-service", two, _service({"name": "metrics", "port": 9100})) == []
    assert findings("recreate-behind-service", two, _service({"name": "http-metrics", "port": 9100},
                                                             {"name": "grpc-metrics", "port": 9101})) == []
    for ports in ([{"port": 9100}], [{"name": "metrics", "port": 9100}, {"name": "http", "port": 80}],
                  [{"name": "metricsx", "port": 9100}]):
        assert len(findings("recreate-behind-service", two, _service(*ports))) == 1, ports


# -- service-target-port: numbers judged only against declared ports ------------------------------------------


def test_service_target_port_lines() -> None:
    assert hits("service-target-port") == {
        ("Service", "web", "spec.ports[0].targetPort", 63),
        ("Service", "web-typo", "spec.ports[0].targetPort", 71),
        ("Service", "web-headless", "spec.ports[0].targetPort", 79),
    }


def _pod(*ports: dict) -> dict:
    container: dict = {"name": "c", "image": "x:1"}
    if ports:
        container["ports"] = list(ports)
    return obj("apps/v1", "Deployment", "web", {"selector": {"matchLabels": {"app": "web"}},
                                                "template": {"metadata": {"labels": {"app": "web"}},
                                                             "spec": {"containers": [container]}}})


def _svc(port: dict, headless: bool = False) -> dict:
    spec: dict = {"selector": {"app": "web"}, "ports": [port]}
    if headless:
        spec["clusterIP"] = "None"
    return obj("v1", "Service", "web", spec)


def test_service_target_port_numbers() -> None:
    declared = _pod({"name": "http", "containerPort": 8080})
    # Declared ports and none is the number: reported; the port itself when targetPort is unset.
    assert len(findings("service-target-port", _svc({"port": 80, "targetPort": 8000}), declared)) == 1
    assert len(findings("service-target-port", _svc({"port": 80}), declared)) == 1
    assert len(findings("service-target-port", _svc({"port": 80, "targetPort": "8000"}), declared)) == 1
    assert findings("service-target-port", _svc({"port": 80, "targetPort": 8080}), declared) == []
    # No port declared: any may be listening.
    assert findings("service-target-port", _svc({"port": 80, "targetPort": 8000}), _pod()) == []
    assert findings("service-target-port", _svc({"port": 80}), _pod()) == []
    # Headless: numbers are not judged; an undeclared name still is, with or without declared ports.
    assert findings("service-target-port", _svc({"port": 80, "targetPort": 8000}, True), declared) == []
    assert len(findings("service-target-port", _svc({"port": 80, "targetPort": "www"}, True), declared)) == 1
    assert len(findings("service-target-port", _svc({"port": 80, "targetPort": "www"}), _pod())) == 1


# -- statefulset-service-name: a namespace without any Service of the overlay ---------------------------------


def test_statefulset_service_name_without_services_in_the_namespace() -> None:
    sts = obj("apps/v1", "StatefulSet", "db", {"serviceName": "db-headless", "selector": {"matchLabels": {"app": "db"}},
                                               "template": {"metadata": {"labels": {"app": "db"}}, "spec": {}}})
    assert findings("statefulset-service-name", sts) == []
    # A Service in another namespace does not make this one's absence certain...
    elsewhere = obj("v1", "Service", "db-headless", {"clusterIP": "None", "selector": {"app": "db"}}, namespace="other")
    assert findings("statefulset-service-name", sts, elsewhere) == []
    # ...a Service of the same namespace does: serviceName names none of the overlay's Services.
    other = obj("v1", "Service", "web", {"selector": {"app": "web"}})
    assert [f.field for f in findings("statefulset-service-name", sts, other)] == ["spec.serviceName"]
    # The named Service exists but is not headless: still reported.
    clustered = obj("v1", "Service", "db-headless", {"selector": {"app": "db"}})
    assert "not headless" in findings("statefulset-service-name", sts, clustered)[0].message
