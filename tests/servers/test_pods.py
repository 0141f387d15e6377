"""tests/servers/pods.py reads a container as the kubelet would: checked on small hand-written pods
whose answers are known, so the server tests can trust what it hands them."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest

from tests.servers import pods


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _objects() -> list[dict]:
    return [
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds", "namespace": "ns"},
         "data": {"user": _b64("alice"), "pass": _b64("s3cret")}, "stringData": {"pass": "plain-wins"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "ns"},
         "data": {"LEVEL": "INFO", "app.conf": "port 1\n"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "elsewhere"},
         "data": {"LEVEL": "WRONG-NAMESPACE"}},
        {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db", "namespace": "ns"},
         "spec": {
             "template": {"metadata": {"labels": {"tier": "data"}}, "spec": {
                 "securityContext": {"runAsUser": 70, "runAsGroup": 70, "fsGroup": 70, "runAsNonRoot": True},
                 "volumes": [
                     {"name": "conf", "configMap": {"name": "cfg", "items": [{"key": "app.conf", "path": "etc/app.conf"}]}},
                     {"name": "secret", "secret": {"secretName": "creds", "defaultMode": 0o440}},
                     {"name": "scratch", "emptyDir": {}},
                 ],
                 "containers": [{
                     "name": "main", "image": "x",
                     "command": ["/bin/server", "--user=$(USER)"],
                     "args": ["--mem=$(MEM_MI)", "$$(USER)", "$(UNKNOWN)", "--data=/data/sub"],
                     "ports": [{"name": "db", "containerPort": 5432}],
                     "envFrom": [{"configMapRef": {"name": "cfg"}, "prefix": "CFG_"},
                                 {"secretRef": {"name": "ext"}}],
                     "env": [
                         {"name": "USER", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "user"}}},
                         {"name": "PASS", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "pass"}}},
                         {"name": "GREETING", "value": "hi $(USER) $(LATER)"},
                         {"name": "LATER", "value": "later"},
                         {"name": "MEM_MI", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory",
                                                                              "divisor": "1Mi"}}},
                         {"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "requests.cpu"}}},
                         {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                         {"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
                         {"name": "TIER", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['tier']"}}},
                         {"name": "GONE", "valueFrom": {"secretKeyRef": {"name": "nope", "key": "k",
                                                                        "optional": True}}},
                     ],
                     "resources": {"limits": {"memory": "300M", "cpu": "250m"}},
                     "securityContext": {"runAsUser": 1000},
                     "readinessProbe": {"exec": {"command": ["check", "--dir=/data", "$(GREETING)", "$(USER)", "$$x",
                                                          "$(cat /x)"]}, "timeoutSeconds": 3},
                     "livenessProbe": {"tcpSocket": {"port": "db"}},
                     "volumeMounts": [
                         {"name": "data", "mountPath": "/data"},
                         {"name": "conf", "mountPath": "/etc/conf"},
                         {"name": "secret", "mountPath": "/run/secrets/db", "readOnly": True},
                         {"name": "scratch", "mountPath": "/scratch", "subPath": "one"},
                     ],
                 }],
             }},
             "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {}}],
         }},
    ]


@pytest.fixture
def c() -> pods.Container:
    return pods.from_objects(_objects(), "StatefulSet", "db", "main", external={"ext": {"TOKEN": "t0k"}})


def test_env_as_the_kubelet_resolves_it(c: pods.Container) -> None:
    assert c.env == {
        "CFG_LEVEL": "INFO", "CFG_app.conf": "port 1\n", "TOKEN": "t0k",
        "USER": "alice", "PASS": "plain-wins", "GREETING": "hi alice $(LATER)", "LATER": "later",
        "MEM_MI": "287",  # 300,000,000 / 1,048,576 = 286.1, rounded up
        "CPU": "1",       # requests.cpu unset: defaulted from the 250m limit, in whole cores rounded up
        "POD": "db-0", "NS": "ns", "TIER": "data",
    }


def test_argv_expands_from_the_final_env(c: pods.Container) -> None:
    assert c.argv == ["/bin/server", "--user=alice", "--mem=287", "$(USER)", "$(UNKNOWN)", "--data=/data/sub"]
    assert not c.uses_image_entrypoint


def test_probes_security_context_and_ports(c: pods.Container) -> None:
    # As the kubelet expands a probe: env values as written (GREETING's own references stay), a valueFrom
    # entry (USER) as "", $$ as $, and what names no variable as written.
    assert c.probes["readiness"].command == ["check", "--dir=/data", "hi $(USER) $(LATER)", "", "$x", "$(cat /x)"]
    assert c.probes["readiness"].timeout_seconds == 3
    assert c.probes["liveness"].handler == "tcpSocket" and c.probes["liveness"].port == 5432
    assert (c.run_as_user, c.run_as_group, c.fs_group) == (1000, 70, 70)
    assert c.security_context["runAsNonRoot"] is True


def test_a_missing_secret_is_an_error_unless_external() -> None:
    with pytest.raises(pods.Unresolvable, match="Secret ns/ext"):
        pods.from_objects(_objects(), "StatefulSet", "db", "main")


def test_unset_limit_is_not_guessed() -> None:
    with pytest.raises(pods.Unresolvable, match="allocatable"):
        pods.resource_field({}, "limits.cpu")
    assert pods.resource_field({"limits": {"cpu": "1500m"}}, "limits.cpu", "1m") == "1500"
    assert pods.resource_field({"requests": {"memory": "1Gi"}}, "requests.memory", "1Mi") == "1024"


def test_materialise_and_remap(c: pods.Container, tmp_path: Path) -> None:
    mounts = c.materialise(tmp_path)
    assert sorted(p.name for p in mounts["/data"].iterdir()) == []
    assert (mounts["/etc/conf"] / "etc" / "app.conf").read_text() == "port 1\n"
    assert not (mounts["/etc/conf"] / "LEVEL").exists(), "items picks keys"
    secret = mounts["/run/secrets/db"]
    assert (secret / "user").read_text() == "alice"
    assert stat.S_IMODE((secret / "pass").stat().st_mode) == 0o440
    assert mounts["/scratch"] == mounts.volumes["scratch"] / "one" and mounts["/scratch"].is_dir()
    assert mounts.remap_argv(c.argv)[-1] == f"--data={mounts['/data']}/sub"
    assert mounts.remap("/database /data x:/data/y '/data'") == \
        f"/database {mounts['/data']} x:{mounts['/data']}/y '{mounts['/data']}'"
    assert mounts.remap("/run/secrets/db/user") == f"{secret}/user"


def test_expand_edge_cases() -> None:
    assert pods.expand("$(A)$$(A)$(B)$(A", {"A": "1"}) == "1$(A)$(B)$(A"
    assert pods.expand("cost $5 $", {}) == "cost $5 $"
