"""redis-broker-safety (issue 13): the exact line of each finding on the fires fixture, the options,
the exemption of a cache, and the Redis size parser. The fires/passes pair runs in
tests/test_rules_availability.py with the rest of its family."""

from __future__ import annotations

import base64
from typing import Any

import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from policycheck.config import Profile
from policycheck.model import K8sObject
from policycheck.render import Rendered, render
from policycheck.rules.redis_broker_safety import redis_size
from tests.rulekit import FIXTURES, fixture_findings, run

RULE = "redis-broker-safety"


def test_each_case_at_its_line() -> None:
    text = (FIXTURES / RULE / "fires.yaml").read_text().splitlines()
    found = fixture_findings(RULE, "fires")
    assert [(f.obj.ref(), text[f.source.line - 1].strip()) for f in found] == [
        ("Deployment/open", 'args: ["redis-server", "--maxmemory", "100mb"]'),
        ("Deployment/cmdline", "- --requirepass"),
        ("StatefulSet/unbounded", "limits: {memory: 256Mi}"),
        ("Deployment/toolarge", "- exec redis-server /etc/redis/redis.conf"),
        ("CronJob/evicting", "name: evicting-config"),
        ("StatefulSet/copied", "- /data/conf/redis.conf"),
        ("Deployment/bitnami", "value: --maxmemory 256mb"),
        ("Deployment/sidecar", "command:"),
        ("Deployment/allowempty", 'value: "yes"'),
        ("Deployment/included", "name: included-config"),
    ]
    concerns = ["requires no password", "password on a command line", "sets no maxmemory",
                "above 90 % of its memory limit 256Mi", "maxmemory-policy allkeys-lru",
                "runs redis-server with /data/conf/redis.conf, which no ConfigMap or Secret of the overlay mounts",
                "maxmemory 256mb (in REDIS_EXTRA_FLAGS), above 90 %", "container cache requires no password",
                "ALLOW_EMPTY_PASSWORD lets clients in without a password",
                "includes /run/redis/auth.conf (ConfigMap included-config, key redis.conf), which no ConfigMap or "
                "Secret of the overlay mounts: its password cannot be checked"]
    assert all(c in f.message for c, f in zip(concerns, found, strict=True))
    # No message repeats a password, nor what came from a Secret or an ACL line.
    assert not any("not-shown" in f.message or "VALKEY_PASSWORD" in f.message for f in found)


def redis(container: dict[str, Any], volumes: list | None = None, annotations: dict | None = None) -> dict:
    spec: dict[str, Any] = {"containers": [{"name": "redis", "image": "redis:7",
                                            "resources": {"limits": {"memory": "256Mi"}}, **container}]}
    if volumes:
        spec["volumes"] = volumes
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "r", "namespace": "demo", "annotations": annotations or {}},
            "spec": {"selector": {"matchLabels": {"app": "r"}},
                     "template": {"metadata": {"labels": {"app": "r"}}, "spec": spec}}}


def findings(*docs: dict, options: dict | None = None) -> list:
    profile = Profile("test", options={RULE: options}) if options else None
    return run(Rendered("t", [K8sObject(d, "t", "t.yaml") for d in docs]), {RULE}, profile=profile)


def messages(*docs: dict, options: dict | None = None) -> list[str]:
    return [f.message for f in findings(*docs, options=options)]


SAFE = ["redis-server", "--aclfile", "/etc/redis/users.acl"]


def test_maxmemory_against_the_limit_and_the_percent() -> None:
    assert messages(redis({"args": [*SAFE, "--maxmemory", "230mb"]})) == []  # 89.8 % of 256Mi
    assert len(messages(redis({"args": [*SAFE, "--maxmemory", "240mb"]}))) == 1
    assert messages(redis({"args": [*SAFE, "--maxmemory", "240mb"]}), options={"max-percent": 95}) == []
    # At the limit always fails: the highest percent is 99.
    assert len(messages(redis({"args": [*SAFE, "--maxmemory", "256MB"]}), options={"max-percent": 99})) == 1
    # k/m/g count in 1000s: 260m is 248 MiB, below the limit but above 90 % of it.
    assert len(messages(redis({"args": [*SAFE, "--maxmemory", "260m"]}))) == 1
    # Without a memory limit there is nothing to compare with (resource-limits reports the limit).
    assert messages(redis({"args": [*SAFE, "--maxmemory", "64gb"], "resources": {}})) == []


def test_maxmemory_zero_is_no_bound() -> None:
    [message] = messages(redis({"args": [*SAFE, "--maxmemory", "0"]}))
    assert "maxmemory 0" in message and "no bound" in message


def test_maxmemory_policy_is_not_maxmemory() -> None:
    found = messages(redis({"args": [*SAFE, "--maxmemory-policy", "noeviction", "--maxmemory-samples", "5"]}))
    assert found == ["Redis container redis sets no maxmemory: it grows until the kernel kills it and queued "
                     "tasks are lost"]


def test_acl_users() -> None:
    bounded = ["--maxmemory", "100mb"]
    assert messages(redis({"args": ["redis-server", "--user", "app", "on", ">x", "~*", "+@all", *bounded]})) == []
    # A user that is off, or one without a password, protects nothing.
    assert len(messages(redis({"args": ["redis-server", "--user", "app", "off", ">x", *bounded]}))) == 1
    [open_default] = messages(redis({"args": [*SAFE, "--user", "default", "on", "nopass", *bounded]}))
    assert "ACL user default is on with nopass" in open_default
    # requirepass with no value sets no password, and puts none on the command line.
    [empty] = messages(redis({"args": ["redis-server", "--requirepass", "", *bounded]}))
    assert "requires no password" in empty


def test_a_cache_is_exempted_or_its_policy_allowed() -> None:
    args = {"args": [*SAFE, "--maxmemory", "100mb", "--maxmemory-policy", "allkeys-lru"]}
    assert len(messages(redis(args))) == 1
    assert messages(redis(args), options={"policies": ["noeviction", "allkeys-lru"]}) == []
    exempt = {"policycheck.io/exempt.redis-broker-safety": "a cache: evicting keys is its job"}
    [finding] = findings(redis(args, annotations=exempt))
    assert finding.exempted
    # An unknown policy is not repeated in the message.
    [message] = messages(redis({"args": [*SAFE, "--maxmemory", "100mb", "--maxmemory-policy", "s3cr3t"]}))
    assert "s3cr3t" not in message and "an unknown policy" in message


def test_images_option_and_what_is_redis() -> None:
    bare = {"image": "myorg/keydb:6", "args": ["keydb-server"]}
    assert messages(redis(bare)) == []
    assert len(messages(redis(bare), options={"images": ["keydb"]})) == 2
    assert len(messages(redis(bare), options={"images": ["myorg/keydb"]})) == 2
    for image in ("redis", "REDIS:7", "ghcr.io/x/valkey@sha256:" + "ab" * 32, "localhost:5000/redis-stack-server"):
        assert len(messages(redis({"image": image}))) == 2, image
    for image in ("myorg/redis-exporter:1", "redis-operator", "bitnami/redis-sentinel:7", ""):
        assert messages(redis({"image": image})) == [], image


def config_map(name: str, data: dict[str, str]) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "demo"}, "data": data}


def test_mounted_files_count_when_named() -> None:
    conf = config_map("conf", {"redis.conf": "requirepass x\nmaxmemory 100mb\n", "other.conf": "maxmemory 0\n"})
    volumes = [{"name": "c", "configMap": {"name": "conf"}}]
    mount = {"volumeMounts": [{"name": "c", "mountPath": "/etc/redis/"}]}
    # Named by the command: read (other.conf is not).
    assert messages(redis({"command": ["redis-server", "/etc/redis/redis.conf"], **mount}, volumes), conf) == []
    # Mounted but unused by the command Redis runs: not its configuration.
    assert len(messages(redis({"command": ["redis-server"], **mount}, volumes), conf)) == 2
    # No command nor args: the image's entrypoint may read any mounted file.
    assert len(messages(redis(dict(mount), volumes), conf)) == 1  # other.conf's maxmemory 0
    # items and subPath choose the keys that are files.
    only = [{"name": "c", "configMap": {"name": "conf", "items": [{"key": "redis.conf", "path": "r.conf"}]}}]
    assert messages(redis(dict(mount), only), conf) == []
    sub = {"volumeMounts": [{"name": "c", "mountPath": "/r.conf", "subPath": "redis.conf"}]}
    assert messages(redis({"args": ["/r.conf"], **sub}, volumes), conf) == []


def test_secret_data_is_read_and_never_shown() -> None:
    text = "requirepass hunter2-very-secret\nmaxmemory 100mb\n"
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "demo"},
              "data": {"redis.conf": base64.b64encode(text.encode()).decode(), "junk": "%%%not base64"}}
    doc = redis({"args": ["/etc/redis/redis.conf"], "volumeMounts": [{"name": "s", "mountPath": "/etc/redis"}]},
                [{"name": "s", "secret": {"secretName": "s"}}])
    assert messages(doc, secret) == []
    # A script in a ConfigMap that passes the password as an argument: reported at the volume.
    script = config_map("run", {"run.sh": "exec redis-server --requirepass \"$(cat /p)\" --maxmemory 1mb\n"})
    doc = redis({"command": ["sh", "/run/run.sh"], "volumeMounts": [{"name": "r", "mountPath": "/run"}]},
                [{"name": "r", "projected": {"sources": [{"configMap": {"name": "run"}}]}}])
    [finding] = findings(doc, script)
    assert finding.field == "spec.template.spec.volumes[0].projected.sources[0].configMap.name"
    assert "(ConfigMap run, key run.sh)" in finding.message


def test_wrong_types_do_not_crash() -> None:
    doc = redis({"command": "redis-server", "args": [1, None, {"a": 1}], "volumeMounts": {"x": 1}},
                [{"name": 3, "configMap": "x"}])
    assert len(messages(doc, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": 5})) == 2


@given(st.text(max_size=40))
@example("18446744073709551616gb")
@example("1\n")
@example("٣mb")
def test_redis_size_never_raises(text: str) -> None:
    size = redis_size(text)
    assert size is None or (isinstance(size, int) and size >= 0)


@given(st.integers(min_value=0, max_value=10**12), st.sampled_from(["", "b", "k", "kb", "m", "mb", "g", "gb"]),
       st.booleans())
def test_redis_size_units(number: int, unit: str, upper: bool) -> None:
    factor = {"": 1, "b": 1, "k": 10**3, "kb": 2**10, "m": 10**6, "mb": 2**20, "g": 10**9, "gb": 2**30}[unit]
    assert redis_size(f"{number}{unit.upper() if upper else unit}") == number * factor


def test_redis_size_refuses_what_redis_refuses() -> None:
    for text in ("", "mb", "1.5mb", "-1", "1tb", "1 mb", "1Mi", "$(X)mb", "%smb", None, 3):
        assert redis_size(text) is None, text


def where(*docs: dict, options: dict | None = None) -> list[tuple[str, str]]:
    """(field, start of the message) of each finding."""
    return [(f.field, f.message.split(":")[0]) for f in findings(*docs, options=options)]


C = "spec.template.spec.containers[0]"


def test_each_finding_on_its_own_field() -> None:
    # No password at the command, else the args, else the image; no maxmemory at the memory limit.
    both = ["Redis container redis requires no password (no requirepass, aclfile or ACL user is set)",
            "Redis container redis sets no maxmemory"]
    assert where(redis({"command": ["redis-server"], "args": ["--port", "6380"]})) == [
        (f"{C}.command", both[0]), (f"{C}.resources.limits.memory", both[1])]
    assert where(redis({"args": ["--port", "6380"]})) == [
        (f"{C}.args", both[0]), (f"{C}.resources.limits.memory", both[1])]
    assert where(redis({})) == [(f"{C}.image", both[0]), (f"{C}.resources.limits.memory", both[1])]
    # Without a limit, no maxmemory is at the command too.
    assert [f for f, _ in where(redis({"command": ["redis-server"], "resources": {}}))] == [f"{C}.command"] * 2
    # Settings at the argument that sets them.
    found = where(redis({"args": ["redis-server", "--requirepass", "$(P)", "--maxmemory", "1gb",
                                  "--maxmemory-policy", "allkeys-lru"]}))
    assert [f for f, _ in found] == [f"{C}.args[1]", f"{C}.args[3]", f"{C}.args[5]"]


def test_only_a_server_is_checked() -> None:
    unsafe = "--maxmemory-policy allkeys-lru"
    # A client, a shell or a script that never starts the server: not a Redis.
    for container in ({"command": ["redis-cli", "-h", "x", "ping"]},
                      {"command": ["/usr/local/bin/valkey-cli"], "args": ["--rdb", "/b/dump.rdb"]},
                      {"command": ["sh", "-c", f"redis-cli config set {unsafe}"]},
                      {"command": ["/scripts/backup.sh"]},
                      {"command": ["bash"], "args": ["-c", "sleep infinity"]}):
        assert messages(redis(container)) == [], container
    # A shell that starts it is one, and so is the image's entrypoint given options or a .conf file.
    for container in ({"command": ["/bin/sh", "-c", f"exec $(which redis-server) {unsafe}"]},
                      {"command": ["docker-entrypoint.sh"], "args": ["redis-server"]},
                      {"command": ["/usr/local/bin/docker-entrypoint.sh", "--port", "6380"]},
                      {"args": ["--port", "6380"]}):
        assert messages(redis(container)), container
    # A mounted script that starts it makes the container a server.
    script = config_map("s", {"start.sh": "exec redis-server --maxmemory 1mb\n"})
    doc = redis({"command": ["sh", "/s/start.sh"], "volumeMounts": [{"name": "s", "mountPath": "/s"}]},
                [{"name": "s", "configMap": {"name": "s"}}])
    assert ["requires no password" in m for m in messages(doc, script)] == [True]


def test_sentinels_are_not_checked() -> None:
    for container in ({"command": ["valkey-sentinel", "/s.conf"]},
                      {"command": ["redis-server"], "args": ["/etc/redis/sentinel.conf"]},
                      {"command": ["sh", "-c", "exec redis-server /etc/sentinel.conf --sentinel"]},
                      {"env": [{"name": "SENTINEL", "value": "true"}]},
                      {"ports": [{"containerPort": 26379}, {"containerPort": 26379, "protocol": "UDP"}]}):
        assert messages(redis(container)) == [], container
    # A Redis that also serves 6379 is a server.
    assert messages(redis({"ports": [{"containerPort": 26379}, {"containerPort": 6379}]}))


def test_an_unmounted_configuration_file_is_one_finding() -> None:
    args = {"command": ["redis-server"], "args": ["/data/conf/redis.conf"]}
    [finding] = findings(redis(args))
    assert finding.field == f"{C}.args[0]"
    assert finding.message == (
        "Redis container redis runs redis-server with /data/conf/redis.conf, which no ConfigMap or Secret of "
        "the overlay mounts: its password and memory bound cannot be checked (exempt the workload with the "
        "reason once checked)")
    # Given to the official entrypoint.
    [given] = findings(redis({"command": ["docker-entrypoint.sh"], "args": ["/data/r.conf"]}))
    assert given.field == f"{C}.args[0]" and "runs redis-server with /data/r.conf" in given.message
    # What the command line sets after it still counts.
    found = where(redis({"command": ["valkey-server", "/etc/valkey.conf", "--requirepass", "$(P)",
                                     "--maxmemory-policy", "allkeys-lru"]}))
    assert [f for f, _ in found] == [f"{C}.command[2]", f"{C}.command[1]", f"{C}.command[4]"]
    assert "runs valkey-server with /etc/valkey.conf" in found[1][1]
    # Nothing missing on the command line: nothing to say about the file.
    assert messages(redis({"command": ["redis-server", "/x.conf", "--aclfile", "/a", "--maxmemory", "1mb"]})) == []
    # A computed path, or an option where the file would be, names no file.
    assert len(messages(redis({"command": ["sh", "-c", "exec redis-server \"$CONF\""]}))) == 2
    assert len(messages(redis({"command": ["redis-server", "--port", "1"]}))) == 2
    # A word after the server's name in a script that is no path: not a file.
    assert len(messages(redis({"command": ["sh", "-c", "until pgrep redis-server; do sleep 1; done"]}))) == 2


def test_bitnami_environment() -> None:
    secret = {"valueFrom": {"secretKeyRef": {"name": "r", "key": "p"}}}
    bounded = {"name": "REDIS_EXTRA_FLAGS", "value": "--maxmemory 100mb"}
    for image in ("bitnami/redis:7", "docker.io/bitnami/valkey:8", "r.example.com/bitnami/redis:7"):
        for name in ("REDIS_PASSWORD", "REDIS_PASSWORD_FILE", "VALKEY_PASSWORD", "VALKEY_PASSWORD_FILE"):
            assert messages(redis({"image": image, "env": [{"name": name, **secret}, bounded]})) == [], (image, name)
    # ALLOW_EMPTY_PASSWORD only lets the password be empty: Bitnami's scripts set requirepass whenever it
    # is not, so a literal password or any valueFrom still counts.
    for allowed in ("yes", "true", True, "no"):
        allow = {"name": "ALLOW_EMPTY_PASSWORD", "value": allowed}
        for password in (secret, {"value": "hunter2"}, {"value": "/run/secrets/p"}):
            env = [{"name": "REDIS_PASSWORD", **password}, allow, bounded]
            assert messages(redis({"image": "bitnami/redis:7", "env": env})) == [], (allowed, password)
    # An empty or absent password with ALLOW_EMPTY_PASSWORD yes/true: no password, at that entry's value.
    for password in ([], [{"name": "REDIS_PASSWORD", "value": ""}]):
        for allowed in ("yes", "TRUE", True):
            env = [*password, {"name": "ALLOW_EMPTY_PASSWORD", "value": allowed}, bounded]
            [open_] = findings(redis({"image": "bitnami/redis:7", "env": env}))
            assert open_.field == f"{C}.env[{len(password)}].value"
            assert "requires no password (ALLOW_EMPTY_PASSWORD lets clients in without a password" in open_.message
    # Without ALLOW_EMPTY_PASSWORD, at the image (Bitnami refuses to start; a requirepass may be elsewhere).
    [none] = findings(redis({"image": "bitnami/redis:7", "env": [{"name": "REDIS_PASSWORD", "value": ""}, bounded]}))
    assert none.field == f"{C}.image"
    assert "(no requirepass, aclfile, ACL user or password variable is set)" in none.message
    # --requirepass among the extra flags is on the command line.
    flags = {"name": "REDIS_EXTRA_FLAGS", "value": "--requirepass hunter2 --maxmemory 100mb"}
    [finding] = findings(redis({"image": "bitnami/redis:7", "env": [flags]}))
    assert finding.field == f"{C}.env[0].value" and "(in REDIS_EXTRA_FLAGS)" in finding.message
    assert "hunter2" not in finding.message
    # Another image: the environment is not read, and the message says so.
    env = [{"name": "REDIS_PASSWORD", **secret}, bounded]
    [plain] = messages(redis({"image": "redis:7", "env": env, "args": ["--maxmemory", "100mb"]}))
    assert "settings from environment variables are not read" in plain
    assert "REDIS_PASSWORD" not in plain


def test_images_option_normalises_docker_hub() -> None:
    store = {"image": "index.docker.io/sourcegraph/redis-store@sha256:" + "ab" * 32}
    assert messages(redis(store)) == []
    for option in ("redis-store", "sourcegraph/redis-store", "docker.io/sourcegraph/redis-store:5"):
        assert len(messages(redis(store), options={"images": [option]})) == 2, option
    # Only at a path component boundary.
    assert messages(redis(store), options={"images": ["store"]}) == []
    assert messages(redis(store), options={"images": ["graph/redis-store"]}) == []
    # Official images with or without docker.io/library/, on either side; redis-stack is built in.
    assert len(messages(redis({"image": "keydb"}), options={"images": ["docker.io/library/keydb"]})) == 2
    assert len(messages(redis({"image": "registry-1.docker.io/library/keydb:6"}), options={"images": ["keydb"]})) == 2
    assert len(messages(redis({"image": "redis/redis-stack:7.2.0-v10"}))) == 2


def test_generated_names_without_their_hash() -> None:
    conf = K8sObject(config_map("conf-5f8g9k2m4h", {"redis.conf": "aclfile /a\nmaxmemory 0\n"}), "t", "t.yaml",
                     "ConfigMapGenerator")
    conf.source_name = "conf"
    doc = redis({"args": ["/etc/redis/redis.conf"], "volumeMounts": [{"name": "c", "mountPath": "/etc/redis"}]},
                [{"name": "c", "configMap": {"name": "conf-5f8g9k2m4h"}}])
    found = run(Rendered("t", [K8sObject(doc, "t", "t.yaml"), conf]), {RULE})
    assert [f.message.split(",")[0] for f in found] == ["Redis container redis sets maxmemory 0 (ConfigMap conf"]


def test_a_generated_secret_with_wrapped_base64_is_read(tmp_path, kustomize) -> None:  # noqa: ANN001
    """kustomize wraps a long base64 value over lines of 70 characters: the Secret is still read."""
    conf = "requirepass a-long-password-that-makes-the-value-wrap\nmaxmemory 100mb\n"
    assert len(conf.encode()) > 51  # more than one line of base64
    (tmp_path / "redis.conf").write_text(conf)
    (tmp_path / "redis.yaml").write_text(yaml.safe_dump(redis(
        {"args": ["/etc/redis/redis.conf"], "volumeMounts": [{"name": "c", "mountPath": "/etc/redis"}]},
        [{"name": "c", "secret": {"secretName": "redis-conf"}}])))
    (tmp_path / "kustomization.yaml").write_text(
        "namespace: demo\nresources: [redis.yaml]\nsecretGenerator:\n  - name: redis-conf\n    files: [redis.conf]\n")
    rendered = render(tmp_path, kustomize)
    [secret] = [o for o in rendered.objects if o.kind == "Secret"]
    assert "\n" in secret.doc["data"]["redis.conf"].strip()  # really wrapped
    assert run(rendered, {RULE}) == []
    # The same render without the password: the Secret's maxmemory is still read, only the password is missing.
    (tmp_path / "redis.conf").write_text("# " + "x" * 60 + "\nmaxmemory 100mb\n")
    [finding] = run(render(tmp_path, kustomize), {RULE})
    assert "requires no password" in finding.message


def test_an_unreadable_file_names_only_what_is_missing() -> None:
    [finding] = findings(redis({"command": ["redis-server", "/data/redis.conf", "--maxmemory", "100mb"]}))
    assert finding.field == f"{C}.command[1]"
    assert finding.message == (
        "Redis container redis runs redis-server with /data/redis.conf, which no ConfigMap or Secret of the overlay "
        "mounts: its password cannot be checked (exempt the workload with the reason once checked)")
    [finding] = findings(redis({"command": ["redis-server", "/data/redis.conf", "--aclfile", "/a"]}))
    assert "its memory bound cannot be checked" in finding.message


INCLUDE_MOUNT = {"volumeMounts": [{"name": "c", "mountPath": "/etc/redis"}, {"name": "run", "mountPath": "/run/redis"}]}
INCLUDE_VOLUMES = [{"name": "c", "configMap": {"name": "conf"}}, {"name": "run", "emptyDir": {}}]


def test_an_include_no_mount_provides_cannot_be_checked() -> None:
    conf = config_map("conf", {"redis.conf": "maxmemory-policy noeviction\ninclude /run/redis/auth.conf\n"})
    doc = redis({"command": ["redis-server", "/etc/redis/redis.conf"], **INCLUDE_MOUNT}, INCLUDE_VOLUMES)
    [finding] = findings(doc, conf)
    assert finding.field == "spec.template.spec.volumes[0].configMap.name"
    assert finding.message == (
        "Redis container redis includes /run/redis/auth.conf (ConfigMap conf, key redis.conf), which no ConfigMap "
        "or Secret of the overlay mounts: its password and memory bound cannot be checked (exempt the workload "
        "with the reason once checked)")
    # Only what is still missing: here the memory bound is set in redis.conf.
    bounded = config_map("conf", {"redis.conf": "maxmemory 100mb\ninclude /run/redis/auth.conf\n"})
    [finding] = findings(doc, bounded)
    assert "its password cannot be checked" in finding.message
    # Nothing missing: nothing to say about the include.
    full = config_map("conf", {"redis.conf": "requirepass x\nmaxmemory 100mb\ninclude /run/redis/auth.conf\n"})
    assert findings(doc, full) == []
    # An include a mounted file provides is read (a glob or a relative path too), and what it lacks is reported.
    for include in ("/etc/redis/auth.conf", "/etc/redis/*.conf", "redis/auth.conf"):
        provided = config_map("conf", {"redis.conf": f"include {include}\n", "auth.conf": "requirepass x\n"})
        assert [f.message.split(":")[0] for f in findings(doc, provided)] == [
            "Redis container redis sets no maxmemory"], include
    # On the command line, at its argument; a computed path names nothing.
    [finding] = findings(redis({"args": ["--include", "/run/x.conf"]}))
    assert finding.field == f"{C}.args[0]" and "includes /run/x.conf, which" in finding.message
    assert len(findings(redis({"args": ["--include", "$(CONF)"]}))) == 2


def test_an_include_a_counted_script_writes_is_accounted_for() -> None:
    """Like base/redis: start.sh, from the same ConfigMap, writes requirepass and maxmemory into the include."""
    script = ("printf 'requirepass %s\\nmaxmemory %smb\\n' \"$auth\" \"$m\" > /run/redis/runtime.conf\n"
              "exec redis-server /etc/redis/redis.conf\n")
    conf = config_map("conf", {"redis.conf": "include /run/redis/runtime.conf\n", "start.sh": script})
    doc = redis({"command": ["sh", "/etc/redis/start.sh"], **INCLUDE_MOUNT}, INCLUDE_VOLUMES)
    assert findings(doc, conf) == []
    # A script that writes only the password: the memory bound still cannot be checked.
    partial = config_map("conf", {"redis.conf": "include /run/redis/runtime.conf\n",
                                  "start.sh": script.replace("\\nmaxmemory %smb", "")})
    [finding] = findings(doc, partial)
    assert "includes /run/redis/runtime.conf (ConfigMap conf, key redis.conf)" in finding.message
    assert "its memory bound cannot be checked" in finding.message


def test_a_sentinel_started_by_a_mounted_script_is_not_checked() -> None:
    mount = {"command": ["sh", "/s/start.sh"], "volumeMounts": [{"name": "s", "mountPath": "/s"}]}
    volumes = [{"name": "s", "configMap": {"name": "s"}}]
    for line in ("exec redis-server --port 26379 --sentinel", "exec redis-server /s/sentinel.conf --sentinel",
                 "exec redis-sentinel /s/sentinel.conf", "cp /s/s.conf /d; exec /usr/bin/valkey-sentinel /d"):
        script = config_map("s", {"start.sh": f"set -e\n{line}\n"})
        assert messages(redis(mount, volumes), script) == [], line
    # A server whose script asks a Sentinel (by its host name) where the primary is: still a server.
    script = config_map("s", {"start.sh": "redis-cli -h redis-sentinel -p 26379 sentinel masters\n"
                                          "exec redis-server --maxmemory 1mb\n"})
    assert ["requires no password" in m for m in messages(redis(mount, volumes), script)] == [True]
