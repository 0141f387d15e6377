"""Workload hygiene rules (issue 12): the exact line of every finding on the fires fixtures, and
the cases the fixtures do not show. The fires/passes pair of each rule runs in its family's module."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from policycheck.config import Profile
from policycheck.model import K8sObject
from policycheck.render import Rendered
from tests.rulekit import FIXTURES, check_fires, check_passes, fixture_findings, run


def lines(rule: str, variant: str = "fires") -> list[str]:
    """The stripped source line of each finding of ``rule`` on its fixture, in order."""
    text = (FIXTURES / rule / f"{variant}.yaml").read_text().splitlines()
    found = fixture_findings(rule, variant)
    return [text[f.source.line - 1].strip() for f in found]


def findings(rule: str, *docs: dict) -> list:
    return run(Rendered("t", [K8sObject(d, "t", "t.yaml") for d in docs]), {rule})


def deployment(pod_spec: dict, labels: dict | None = None, selector: dict | None = None) -> dict:
    labels = labels if labels is not None else {"app": "web"}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "demo"},
        "spec": {"selector": selector if selector is not None else {"matchLabels": dict(labels)},
                 "template": {"metadata": {"labels": labels}, "spec": pod_spec}},
    }


# -- host-port ------------------------------------------------------------------------------------------------


def test_host_port_lines() -> None:
    check_fires("host-port")
    check_passes("host-port")
    assert lines("host-port") == ["hostPort: 9000", "hostPort: 80"]


@given(st.integers(min_value=1, max_value=65535))
def test_host_port_any_nonzero_fires_unless_allowed(port: int) -> None:
    doc = deployment({"containers": [{"name": "a", "image": "x:1", "ports": [{"containerPort": 80,
                                                                               "hostPort": port}]}]})
    found = findings("host-port", doc)
    assert [f.field for f in found] == ["spec.template.spec.containers[0].ports[0].hostPort"]


def test_host_port_allowed_option() -> None:
    doc = deployment({"containers": [{"name": "a", "image": "x:1", "ports": [{"containerPort": 80, "hostPort": 80},
                                                                              {"containerPort": 81, "hostPort": 81}]}]})
    found = run(Rendered("t", [K8sObject(doc, "t", "t.yaml")]), {"host-port"},
                profile=Profile("test", options={"host-port": {"allowed": [80]}}))
    assert [f.field for f in found] == ["spec.template.spec.containers[0].ports[1].hostPort"]


# -- safe-sysctls ---------------------------------------------------------------------------------------------


def test_safe_sysctls_lines() -> None:
    check_fires("safe-sysctls")
    check_passes("safe-sysctls")
    assert lines("safe-sysctls") == ["- name: kernel.msgmax", "- name: net.core.somaxconn",
                                     "- name: net/ipv4/tcp_syncookies", "- name: kernel/sem"]
    found = fixture_findings("safe-sysctls", "fires")
    assert [f.severity.value for f in found] == ["error", "error", "warning", "error"]
    assert "write net.ipv4.tcp_syncookies" in found[2].message


@given(st.sampled_from(["net.ipv4.ip_local_port_range", "kernel.shm_rmid_forced", "net.ipv4.tcp_keepalive_time",
                        "kernel.msgmax", "net.core.somaxconn", "net.ipv4.conf.eth0.rp_filter"]),
       st.booleans())
def test_safe_sysctls_compare_names_as_the_kubelet_reads_them(dotted: str, allow_slashed: bool) -> None:
    """A slash-separated name is its dotted name (dots and slashes swapped), in the pod and in `allowed`."""
    from policycheck.pss import SAFE_SYSCTLS
    from policycheck.rules.safe_sysctls import normalize

    slashed = dotted.replace(".", "/")
    assert normalize(slashed) == dotted and normalize(dotted) == dotted
    safe = dotted in SAFE_SYSCTLS
    for name in (dotted, slashed):
        found = findings("safe-sysctls", sysctl_pod(name))
        if safe:
            # Safe either way; only the slash spelling is reported, as a warning naming the dotted one.
            assert [f.severity.value for f in found] == ([] if name == dotted else ["warning"])
        else:
            assert [f.message for f in found] == [f"sysctl {name} is not in the safe set"]
        allowed = [slashed if allow_slashed else dotted]
        on = Profile("test", options={"safe-sysctls": {"allowed": allowed}})
        assert run(Rendered("t", [K8sObject(sysctl_pod(name), "t", "t.yaml")]), {"safe-sysctls"}, profile=on) == []


def test_safe_sysctls_allowed_prefixes() -> None:
    """`allowed` takes the kubelet's patterns: a prefix ending in `*`."""
    on = Profile("test", options={"safe-sysctls": {"allowed": ["kernel/msg*"]}})
    doc = sysctl_pod("kernel.msgmax", "kernel/msgmnb", "kernel.sem")
    found = run(Rendered("t", [K8sObject(doc, "t", "t.yaml")]), {"safe-sysctls"}, profile=on)
    assert [f.message for f in found] == ["sysctl kernel.sem is not in the safe set"]


def sysctl_pod(*names: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "demo"},
            "spec": {"securityContext": {"sysctls": [{"name": n, "value": "1"} for n in names]},
                     "containers": [{"name": "a", "image": "x:1"}]}}


def test_safe_sysctls_depend_on_the_target_version() -> None:
    doc = sysctl_pod("net.ipv4.tcp_wmem")
    assert run(Rendered("t", [K8sObject(doc, "t", "t.yaml")]), {"safe-sysctls"}, version="1.31")
    assert not run(Rendered("t", [K8sObject(doc, "t", "t.yaml")]), {"safe-sysctls"}, version="1.32")


@given(st.from_regex(r"(kernel|net|vm|fs)\.[a-z_]{1,12}(\.[a-z_]{1,8})?", fullmatch=True))
def test_safe_sysctls_fire_exactly_outside_the_safe_set(name: str) -> None:
    from policycheck.rules.safe_sysctls import SAFE_SINCE, SAFE_SYSCTLS

    found = findings("safe-sysctls", sysctl_pod(name))
    assert bool(found) == (name not in SAFE_SYSCTLS and name not in SAFE_SINCE)
    allowed = run(Rendered("t", [K8sObject(sysctl_pod(name), "t", "t.yaml")]), {"safe-sysctls"},
                  profile=Profile("test", options={"safe-sysctls": {"allowed": [name]}}))
    assert allowed == []


# -- proc-mount, host-process ---------------------------------------------------------------------------------


def test_proc_mount_lines() -> None:
    check_fires("proc-mount")
    check_passes("proc-mount")
    assert lines("proc-mount") == ["procMount: Unmasked", "procMount: Unmasked"]
    assert [f.container for f in fixture_findings("proc-mount", "fires")] == ["init", "sidecar"]


def test_host_process_lines() -> None:
    check_fires("host-process")
    check_passes("host-process")
    assert lines("host-process") == ["hostProcess: true", "hostProcess: true"]
    assert [f.obj.ref() for f in fixture_findings("host-process", "fires")] == ["DaemonSet/win-agent", "Pod/win-tool"]


# -- env-unique -----------------------------------------------------------------------------------------------


def test_env_unique_lines() -> None:
    check_fires("env-unique")
    check_passes("env-unique")
    assert lines("env-unique") == ["- name: LOG_LEVEL"]
    assert [f.field for f in fixture_findings("env-unique", "fires")] == ["spec.containers[0].env[2].name"]


@given(st.lists(st.sampled_from(["A", "B", "C", "D"]), max_size=8))
def test_env_unique_one_finding_per_repeat(names: list[str]) -> None:
    doc = deployment({"containers": [{"name": "a", "image": "x:1", "env": [{"name": n, "value": "v"} for n in names]}]})
    assert len(findings("env-unique", doc)) == len(names) - len(set(names))


# -- selector-matches-template --------------------------------------------------------------------------------


def test_selector_matches_template_lines() -> None:
    check_fires("selector-matches-template")
    check_passes("selector-matches-template")
    assert lines("selector-matches-template") == ["app: api", "- key: role"]


@given(st.dictionaries(st.sampled_from(["app", "tier", "role"]), st.sampled_from(["a", "b"]), min_size=1),
       st.dictionaries(st.sampled_from(["app", "tier", "role"]), st.sampled_from(["a", "b"])))
def test_selector_matches_template_is_label_subset(selector: dict, labels: dict) -> None:
    doc = deployment({"containers": [{"name": "a", "image": "x:1"}]}, labels=labels,
                     selector={"matchLabels": selector})
    expected = {k for k, v in selector.items() if labels.get(k) != v}
    assert {f.field.rsplit(".", 1)[1] for f in findings("selector-matches-template", doc)} == expected


# -- probes-distinct ------------------------------------------------------------------------------------------


def test_probes_distinct_lines() -> None:
    check_fires("probes-distinct")
    check_passes("probes-distinct")
    # Omitted settings count as their defaults (periodSeconds: 10); key order does not matter.
    # A named port is its containerPort (httpGet, tcpSocket); an httpGet without scheme asks over HTTP.
    assert lines("probes-distinct") == ["livenessProbe:"] * 3
    assert [f.container for f in fixture_findings("probes-distinct", "fires")] == ["redis", "api", "worker"]


@given(st.sampled_from(["httpGet", "tcpSocket", "grpc"]), st.sampled_from(["http", "8080", 8080, "admin", 9090]),
       st.sampled_from(["http", 8080, "admin", 9090]))
def test_probes_distinct_resolves_named_ports(handler: str, live: object, ready: object) -> None:
    """Two probes on the same port, one by name and one by number, ask the same question."""
    number = {"http": 8080, "8080": 8080, "admin": 9090}
    if handler == "grpc":  # a grpc port is always a number in the API
        live, ready = number.get(live, live), number.get(ready, ready)  # type: ignore[call-overload]

    def probe(port: object) -> dict:
        return {handler: {"port": port, **({"path": "/health"} if handler == "httpGet" else {})}}

    doc = deployment({"containers": [{"name": "a", "image": "x:1",
                                      "ports": [{"name": "http", "containerPort": 8080},
                                                {"name": "admin", "containerPort": 9090}],
                                      "livenessProbe": probe(live), "readinessProbe": probe(ready)}]})
    same = number.get(live, live) == number.get(ready, ready)  # type: ignore[call-overload]
    assert bool(findings("probes-distinct", doc)) == same


def test_probes_distinct_http_defaults_and_unknown_names() -> None:
    """httpGet's path defaults to / and its scheme to HTTP; a name no port declares stays a name."""
    def doc(live: dict, ready: dict) -> dict:
        return deployment({"containers": [{"name": "a", "image": "x:1", "ports": [{"name": "http", "containerPort": 80}],
                                           "livenessProbe": {"httpGet": live}, "readinessProbe": {"httpGet": ready}}]})

    assert findings("probes-distinct", doc({"port": 80}, {"port": "http", "path": "/", "scheme": "HTTP"}))
    assert not findings("probes-distinct", doc({"port": 80}, {"port": 80, "scheme": "HTTPS"}))
    assert not findings("probes-distinct", doc({"port": "web"}, {"port": 80}))


@given(st.integers(min_value=1, max_value=20), st.integers(min_value=1, max_value=20), st.booleans())
def test_probes_distinct_asks_about_the_question_not_the_patience(live: int, ready: int, same: bool) -> None:
    """The same handler is the same question whatever the thresholds; another path is another one."""
    probe = {"httpGet": {"path": "/", "port": 80}}
    other = probe if same else {"httpGet": {"path": "/live", "port": 80}}
    doc = deployment({"containers": [{"name": "a", "image": "x:1",
                                      "livenessProbe": {**other, "failureThreshold": live},
                                      "readinessProbe": {**probe, "failureThreshold": ready}}]})
    assert bool(findings("probes-distinct", doc)) == same


# -- ephemeral-storage ----------------------------------------------------------------------------------------


def test_ephemeral_storage_lines_and_levels() -> None:
    check_fires("ephemeral-storage")
    check_passes("ephemeral-storage")
    found = fixture_findings("ephemeral-storage", "fires")
    assert [(f.container, f.field.rsplit(".", 2)[1]) for f in found] == [
        ("migrate", "requests"), ("migrate", "limits"), ("app", "limits")]
    assert lines("ephemeral-storage") == ["- name: migrate", "- name: migrate", "limits:"]
    from policycheck.config import BUILTIN
    from policycheck.model import Severity

    assert {f.severity for f in found} == {Severity.WARNING}
    assert BUILTIN["prod"]["ephemeral-storage"] == {"level": "error"}
    assert "ephemeral-storage" not in BUILTIN["dev"]


@given(st.sampled_from([None, "100Mi"]), st.sampled_from([None, "1Gi"]),
       st.sampled_from(["containers", "initContainers"]))
def test_ephemeral_storage_request_defaults_to_the_limit(request: str | None, limit: str | None, where: str) -> None:
    """A limit without a request is enough (the API server copies it into the request); a request
    without a limit is not."""
    resources: dict = {}
    if request:
        resources["requests"] = {"ephemeral-storage": request}
    if limit:
        resources["limits"] = {"ephemeral-storage": limit}
    spec: dict = {"containers": [{"name": "main", "image": "x:1", "resources": {
        "requests": {"ephemeral-storage": "1Mi"}, "limits": {"ephemeral-storage": "1Mi"}}}]}
    spec.setdefault(where, []).insert(0, {"name": "a", "image": "x:1", "resources": resources})
    found = {f.field.rsplit(".", 2)[1] for f in findings("ephemeral-storage", deployment(spec))}
    assert found == ({"limits"} if not limit else set()) | ({"requests"} if not request and not limit else set())


# -- ssh-port -------------------------------------------------------------------------------------------------


def test_ssh_port_lines() -> None:
    check_fires("ssh-port")
    check_passes("ssh-port")
    assert lines("ssh-port") == ["containerPort: 22", "targetPort: 22"]


# -- image-pull-policy ----------------------------------------------------------------------------------------


def test_image_pull_policy_lines() -> None:
    check_fires("image-pull-policy")
    check_passes("image-pull-policy")
    assert lines("image-pull-policy") == ["imagePullPolicy: IfNotPresent", "image: example/sidecar:2.1"]


@given(st.sampled_from(["IfNotPresent", "Never", "Always", None]), st.booleans())
def test_image_pull_policy_digest_never_fires(policy: str | None, digest: bool) -> None:
    image = "x/y:1.0" + ("@sha256:" + "a" * 64 if digest else "")
    spec = {"name": "a", "image": image, **({"imagePullPolicy": policy} if policy else {})}
    found = findings("image-pull-policy", deployment({"containers": [spec]}))
    assert bool(found) == (not digest and policy != "Always")


# -- default-service-account ----------------------------------------------------------------------------------


def test_default_service_account_lines() -> None:
    check_fires("default-service-account")
    check_passes("default-service-account")
    # No account (the pod spec's key), serviceAccountName: default, deprecated serviceAccount: default.
    assert lines("default-service-account") == ["spec:",
                                                "serviceAccountName: default", "serviceAccount: default"]
    assert [f.obj.ref() for f in fixture_findings("default-service-account", "fires")] == [
        "Deployment/web", "Pod/debug", "CronJob/report"]


@given(st.sampled_from([None, "", "default", "web"]), st.sampled_from([None, "default", "web"]))
def test_default_service_account_name_wins_over_deprecated_field(name: str | None, old: str | None) -> None:
    spec: dict = {"containers": [{"name": "a", "image": "x:1"}]}
    if name is not None:
        spec["serviceAccountName"] = name
    if old is not None:
        spec["serviceAccount"] = old
    effective = name if name is not None else old
    assert bool(findings("default-service-account", deployment(spec))) == (effective in (None, "", "default"))


# -- recreate-behind-service ----------------------------------------------------------------------------------


def test_recreate_behind_service_lines() -> None:
    check_fires("recreate-behind-service")
    check_passes("recreate-behind-service")
    assert lines("recreate-behind-service") == ["type: Recreate", "strategy: {type: Recreate}",
                                                "strategy: {type: Recreate}"]


def test_recreate_without_service_or_other_kinds_passes() -> None:
    doc = deployment({"containers": [{"name": "a", "image": "x:1"}]})
    doc["spec"]["strategy"] = {"type": "Recreate"}
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "demo"},
           "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}
    assert [f.field for f in findings("recreate-behind-service", doc, svc)] == ["spec.strategy.type"]
    assert findings("recreate-behind-service", doc) == []
    external = {**svc, "spec": {"type": "ExternalName", "externalName": "x.example.com", "selector": {"app": "web"}}}
    assert findings("recreate-behind-service", doc, external) == []


# -- priority-class -------------------------------------------------------------------------------------------


def test_priority_class_lines() -> None:
    check_fires("priority-class")
    check_passes("priority-class")
    assert lines("priority-class") == ["spec:", 'priorityClassName: ""']


def test_priority_class_allowed_option() -> None:
    doc = deployment({"priorityClassName": "batch", "containers": [{"name": "a", "image": "x:1"}]})
    on = Profile("test", options={"priority-class": {"allowed": ["business-critical"]}})
    found = run(Rendered("t", [K8sObject(doc, "t", "t.yaml")]), {"priority-class"}, profile=on)
    assert [f.field for f in found] == ["spec.template.spec.priorityClassName"]
    on.options["priority-class"]["allowed"].append("batch")
    assert run(Rendered("t", [K8sObject(doc, "t", "t.yaml")]), {"priority-class"}, profile=on) == []


def test_priority_class_is_on_in_prod_only(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    from policycheck import config

    monkeypatch.chdir(tmp_path)
    loaded = config.load()
    assert {name: p.level("priority-class") for name, p in loaded.profiles.items()} == {
        "default": None, "dev": None, "prod": "warning"}
    (tmp_path / "policycheck.yaml").write_text(
        "profiles:\n  prod:\n    rules:\n      priority-class: {level: error, options: {allowed: [critical]}}\n"
        "  staging:\n    extends: default\n")
    loaded = config.load()
    assert loaded.profiles["prod"].level("priority-class") == "error"
    assert loaded.profiles["prod"].rule_options("priority-class") == {"allowed": ["critical"]}
    assert loaded.profiles["default"].level("priority-class") is None
    assert loaded.profiles["staging"].level("priority-class") is None


# -- namespace-set --------------------------------------------------------------------------------------------


def test_namespace_set_lines() -> None:
    check_fires("namespace-set")
    check_passes("namespace-set")
    assert [f.obj.ref() for f in fixture_findings("namespace-set", "fires")] == [
        "ConfigMap/settings", "Role/reader", "Widget/blue", "PriorityClass/business-critical"]
    assert lines("namespace-set") == ["metadata:"] * 3 + ["namespace: demo"]
    assert [f.source.line for f in fixture_findings("namespace-set", "fires")] == [5, 12, 36, 43]
    assert "cluster-scoped" in fixture_findings("namespace-set", "fires")[3].message


# The namespaced kinds of every schema version (kube-apiserver 1.35.4 with every API version enabled,
# `kubectl api-resources --namespaced=true`; the kinds of other versions from their k8s.io/api sources).
NAMESPACED = {
    ("", "Binding"), ("", "ConfigMap"), ("", "Endpoints"), ("", "Event"), ("", "LimitRange"),
    ("", "PersistentVolumeClaim"), ("", "Pod"), ("", "PodTemplate"), ("", "ReplicationController"),
    ("", "ResourceQuota"), ("", "Secret"), ("", "Service"), ("", "ServiceAccount"),
    ("apps", "ControllerRevision"), ("apps", "DaemonSet"), ("apps", "Deployment"), ("apps", "ReplicaSet"),
    ("apps", "StatefulSet"), ("authorization.k8s.io", "LocalSubjectAccessReview"),
    ("autoscaling", "HorizontalPodAutoscaler"), ("batch", "CronJob"), ("batch", "Job"),
    ("certificates.k8s.io", "PodCertificateRequest"), ("coordination.k8s.io", "Lease"),
    ("coordination.k8s.io", "LeaseCandidate"), ("discovery.k8s.io", "EndpointSlice"), ("events.k8s.io", "Event"),
    ("networking.k8s.io", "Ingress"), ("networking.k8s.io", "NetworkPolicy"), ("policy", "PodDisruptionBudget"),
    ("rbac.authorization.k8s.io", "Role"), ("rbac.authorization.k8s.io", "RoleBinding"),
    ("resource.k8s.io", "ResourceClaim"), ("resource.k8s.io", "ResourceClaimTemplate"),
    ("scheduling.k8s.io", "Workload"), ("storage.k8s.io", "CSIStorageCapacity"),
    # Not served by 1.35: earlier DRA alphas, and the alphas of 1.36 and 1.37.
    ("resource.k8s.io", "PodScheduling"), ("resource.k8s.io", "PodSchedulingContext"),
    ("resource.k8s.io", "ResourceClaimParameters"), ("resource.k8s.io", "ResourceClassParameters"),
    ("scheduling.k8s.io", "PodGroup"), ("scheduling.k8s.io", "CompositePodGroup"),
    ("lifecycle.k8s.io", "EvictionRequest"),
}


def test_namespace_set_every_schema_kind_has_a_known_scope() -> None:
    """Each kind the offline schemas describe (any supported version) is cluster-scoped or namespaced by
    the lists: a new schema version with a new kind fails here until the kind is placed."""
    from policycheck.rules.namespace_set import CLUSTER_SCOPED, NOT_OBJECTS
    from policycheck.schema import known_kinds, supported_versions

    kinds = set().union(*(known_kinds(v) for v in supported_versions()))
    objects = {(g, k) for g, k in kinds if k not in NOT_OBJECTS and not k.endswith("List")}
    assert not CLUSTER_SCOPED & NAMESPACED
    assert objects - CLUSTER_SCOPED - NAMESPACED == set()
    # Every entry is a kind of some schema version, but PodSecurityPolicy (gone before the oldest, 1.25).
    assert CLUSTER_SCOPED - kinds == {("policy", "PodSecurityPolicy")}


@given(st.sampled_from(sorted(NAMESPACED - {("", "Binding"), ("authorization.k8s.io", "LocalSubjectAccessReview")})))
def test_namespace_set_namespaced_kinds_of_the_schemas_fire(group_kind: tuple[str, str]) -> None:
    from policycheck.schema import known_kinds, supported_versions

    group, kind = group_kind
    version = next(v for v in reversed(supported_versions()) if group_kind in known_kinds(v))
    doc = {"apiVersion": f"{group}/v1" if group else "v1", "kind": kind, "metadata": {"name": "x"}}
    found = run(Rendered("t", [K8sObject(doc, "t", "t.yaml")]), {"namespace-set"}, version=version)
    assert [f.field for f in found] == ["metadata.namespace"]


def test_namespace_set_device_taint_rule_is_cluster_scoped() -> None:
    doc = {"apiVersion": "resource.k8s.io/v1alpha3", "kind": "DeviceTaintRule", "metadata": {"name": "x"}}
    assert findings("namespace-set", doc) == []
    # A custom resource of another group with the same kind is judged by its own CRD.
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "devicetaintrules.example.com"},
           "spec": {"group": "example.com", "scope": "Namespaced", "names": {"kind": "DeviceTaintRule"}}}
    other = {"apiVersion": "example.com/v1", "kind": "DeviceTaintRule", "metadata": {"name": "x"}}
    assert [f.obj.api_version for f in findings("namespace-set", crd, other)] == ["example.com/v1"]


def test_namespace_set_cluster_scoped_with_a_namespace() -> None:
    """Reported when the manifest wrote it; not when the kustomization's `namespace:` set it (kustomize
    does so on cluster-scoped kinds it does not know)."""
    from pathlib import Path

    from policycheck.render import OriginIndex

    doc = {"apiVersion": "resource.k8s.io/v1beta2", "kind": "DeviceTaintRule",
           "metadata": {"name": "x", "namespace": "demo"}}
    assert [f.field for f in findings("namespace-set", doc)] == ["metadata.namespace"]
    tree = OriginIndex()
    tree.kustomizations[Path("app")] = ("app/kustomization.yaml", {"namespace": "demo", "resources": ["r.yaml"]})
    tree.owner["app/r.yaml"] = Path("app")
    obj = K8sObject(doc, "t", "app/r.yaml")
    obj.tree = tree
    assert run(Rendered("t", [obj]), {"namespace-set"}) == []
    tree.kustomizations[Path("app")][1]["namespace"] = "other"
    assert [f.field for f in run(Rendered("t", [obj]), {"namespace-set"})] == ["metadata.namespace"]


@given(st.sampled_from(["Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume", "StorageClass",
                        "PriorityClass", "IngressClass", "RuntimeClass", "CustomResourceDefinition",
                        "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "APIService",
                        "CSIDriver", "CSINode", "VolumeAttachment", "CertificateSigningRequest", "Node"]))
def test_namespace_set_cluster_scoped_built_ins_pass(kind: str) -> None:
    from policycheck.schema import known_kinds

    # Every kind of the list is a kind of the schemas (the list is not stale), and needs no namespace.
    assert kind in {k for _, k in known_kinds("1.35")}
    group = next(g for g, k in sorted(known_kinds("1.35")) if k == kind)
    doc = {"apiVersion": f"{group}/v1" if group else "v1", "kind": kind, "metadata": {"name": "x"}}
    assert findings("namespace-set", doc) == []


@given(st.sampled_from(["Deployment", "Service", "Secret", "ServiceAccount", "Job", "NetworkPolicy",
                        "PodDisruptionBudget", "HorizontalPodAutoscaler", "Role", "RoleBinding", "Ingress"]))
def test_namespace_set_namespaced_built_ins_fire(kind: str) -> None:
    from policycheck.schema import known_kinds

    group = next(g for g, k in sorted(known_kinds("1.35")) if k == kind)
    doc = {"apiVersion": f"{group}/v1" if group else "v1", "kind": kind, "metadata": {"name": "x"}}
    assert [f.field for f in findings("namespace-set", doc)] == ["metadata.namespace"]
    doc["metadata"]["namespace"] = "demo"
    assert findings("namespace-set", doc) == []


# -- service-target-port: port names --------------------------------------------------------------------------


def service(target: object) -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "demo"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": target}]}}


def named_port_pod(name: str) -> dict:
    return deployment({"containers": [{"name": "a", "image": "x:1",
                                       "ports": [{"name": name, "containerPort": 8080}]}]})


def test_service_target_port_names() -> None:
    for bad in ("HTTP", "http_alt", "-http", "http-", "my--port", "1234-5678", "a-very-long-port-name", "héllo"):
        found = findings("service-target-port", service(bad), named_port_pod(bad))
        assert [(f.field, "not a valid port name" in f.message) for f in found] == [
            ("spec.ports[0].targetPort", True)], bad
    for good in ("http", "h", "web-8080", "a1", "x" * 15, "p-2-p"):
        assert findings("service-target-port", service(good), named_port_pod(good)) == [], good
    # Without a selector (endpoints managed elsewhere) a bad name is still reported.
    headless = service("Bad")
    del headless["spec"]["selector"]
    assert len(findings("service-target-port", headless)) == 1


@given(st.from_regex(r"[a-z0-9-]{1,16}", fullmatch=True))
def test_service_target_port_name_rule_is_iana_svc_name(name: str) -> None:
    from policycheck.rules.service_target_port import valid_port_name

    expected = (len(name) <= 15 and any(c.isalpha() for c in name) and not name.startswith("-")
                and not name.endswith("-") and "--" not in name)
    assert valid_port_name(name) == expected


# -- run-as-non-root: min-uid / min-gid -----------------------------------------------------------------------


def run_as(user: int | None, group: int | None, **options: int) -> list:
    ctx = {"runAsNonRoot": True}
    if user is not None:
        ctx["runAsUser"] = user
    if group is not None:
        ctx["runAsGroup"] = group
    doc = deployment({"securityContext": ctx, "containers": [{"name": "a", "image": "x:1"}]})
    return run(Rendered("t", [K8sObject(doc, "t", "t.yaml")]), {"run-as-non-root"},
               profile=Profile("test", options={"run-as-non-root": options}))


def test_run_as_non_root_thresholds_are_off_by_default() -> None:
    assert run_as(1, 1) == []


@given(st.integers(min_value=0, max_value=70000), st.integers(min_value=0, max_value=70000))
def test_run_as_non_root_thresholds(user: int, group: int) -> None:
    found = run_as(user, group, **{"min-uid": 10000, "min-gid": 10000})
    fields = [f.field for f in found]
    assert fields.count("spec.template.spec.securityContext.runAsUser") == (1 if user < 10000 else 0)
    assert fields.count("spec.template.spec.securityContext.runAsGroup") == (1 if group < 10000 else 0)


def test_run_as_non_root_thresholds_skip_unset_ids() -> None:
    assert run_as(None, None, **{"min-uid": 10000, "min-gid": 10000}) == []
