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
    assert lines("safe-sysctls") == ["- name: kernel.msgmax", "- name: net.core.somaxconn"]


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
    assert lines("probes-distinct") == ["livenessProbe:", "livenessProbe:"]
    assert [f.container for f in fixture_findings("probes-distinct", "fires")] == ["redis", "api"]


@given(st.integers(min_value=1, max_value=20), st.integers(min_value=1, max_value=20))
def test_probes_distinct_thresholds(live: int, ready: int) -> None:
    probe = {"httpGet": {"path": "/", "port": 80}}
    doc = deployment({"containers": [{"name": "a", "image": "x:1",
                                      "livenessProbe": {**probe, "failureThreshold": live},
                                      "readinessProbe": {**probe, "failureThreshold": ready}}]})
    assert bool(findings("probes-distinct", doc)) == (live == ready)


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
