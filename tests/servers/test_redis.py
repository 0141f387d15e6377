"""The rendered Redis container of each overlay, run with the real redis-server (issue 13).

The image is redis:7-alpine, whose ``sh`` is busybox; Debian 12 gives Redis 7.0.x and ``sh`` is dash.
So this proves the manifests' side: the command line (``sh /etc/redis/start.sh``), redis.conf and
start.sh as the ConfigMap renders them, the Secret file, the memory limit from the downward API, the
probes as rendered, the API's and the worker's REDIS_URL, and the documented password rotation. It
does not prove the image itself.

What is changed to run it here, and nothing else:

- the mount paths: the volumes are host directories (:meth:`pods.Container.materialise`), and every
  in-container mount path in the argv, the env, the ConfigMap's files (redis.conf's ``dir`` and
  ``include``, start.sh's paths), the probe command and the documented commands is rewritten to its
  host directory by exact mount-path prefix (:meth:`pods.Mounts.remap`);
- the port and the address: ``--port <free> --bind 127.0.0.1`` are appended to the rendered argv
  (start.sh passes its arguments on to redis-server), and where a rendered command names port 6379
  (``-p 6379`` of the readiness probe) or relies on it as redis-cli's default (the documented
  rotation), it gets the free port instead.

Everything runs as an unprivileged user (Debian's ``redis`` when the tests run as root).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import stat
import string
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT
from tests.servers import pods
from tests.servers.conftest import RedisBinaries, external_secrets, make_workdir
from tests.servers.procs import RunAs, Server, free_port, tcp_open, wait_until

OVERLAYS = ("dev", "prod")
RENDERED_PORT = 6379
START_ARGV = ["sh", "/etc/redis/start.sh"]
SECRET_FILE = "/run/secrets/redis/password"  # noqa: S105 - a path
RUNTIME_CONF = "/run/redis/runtime.conf"
DATA_MOUNT = "/data"
SERVICE_HOSTS = {"redis", "redis.ai-agents", "redis.ai-agents.svc", "redis.ai-agents.svc.cluster.local"}
# What start.sh lets into redis.conf and REDIS_URL unquoted.
ALLOWED = string.ascii_letters + string.digits + "._~-"
MIB = 1 << 20
EXAMPLES = 25


# --- a tiny RESP client --------------------------------------------------------------------------

@dataclass(frozen=True)
class Error:
    """An error reply (``-WRONGPASS ...``)."""

    message: str


class Resp:
    """One connection to Redis speaking RESP2: enough for AUTH, CONFIG, SET/GET and INFO."""

    def __init__(self, port: int, timeout: float = 5.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.reader = self.sock.makefile("rb")

    def __enter__(self) -> Resp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.reader.close()
        self.sock.close()

    def call(self, *args: str | int | bytes) -> Any:
        out = [f"*{len(args)}\r\n".encode()]
        for arg in args:
            data = arg if isinstance(arg, bytes) else str(arg).encode()
            out += [f"${len(data)}\r\n".encode(), data, b"\r\n"]
        self.sock.sendall(b"".join(out))
        return self._reply()

    def _reply(self) -> Any:
        line = self.reader.readline()
        if not line.endswith(b"\r\n"):
            raise ConnectionError(f"connection closed mid-reply: {line!r}")
        kind, rest = line[:1], line[1:-2].decode()
        if kind == b"+":
            return rest
        if kind == b"-":
            return Error(rest)
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            return None if size < 0 else self.reader.read(size + 2)[:-2].decode()
        if kind == b"*":
            size = int(rest)
            return None if size < 0 else [self._reply() for _ in range(size)]
        raise ConnectionError(f"not a RESP reply: {line!r}")


def auth_reply(port: int, password: str, username: str | None = None) -> Any:
    """What AUTH answers on a fresh connection."""
    with Resp(port) as r:
        return r.call("AUTH", username, password) if username else r.call("AUTH", password)


def authed(port: int, password: str) -> Resp:
    r = Resp(port)
    reply = r.call("AUTH", password)
    assert reply == "OK", reply
    return r


def pong(port: int, password: str) -> bool:
    try:
        with Resp(port, timeout=1.0) as r:
            return r.call("AUTH", password) == "OK" and r.call("PING") == "PONG"
    except OSError:
        return False


# --- the pod on this machine ---------------------------------------------------------------------

def rewrite(path: Path, text: str) -> None:
    """Replace a file's content, keeping its mode and owner (as the kubelet updates a Secret file)."""
    info = path.stat()
    path.chmod(info.st_mode | stat.S_IWUSR)
    path.write_text(text)
    path.chmod(stat.S_IMODE(info.st_mode))


def materialise(container: pods.Container, root: Path, user: RunAs) -> pods.Mounts:
    """The container's volumes under ``root``, owned by ``user``, with the ConfigMap files' in-container
    mount paths remapped (redis.conf's ``dir /data`` and ``include /run/redis/runtime.conf``, start.sh's
    Secret, runtime and config paths): nothing else in them changes."""
    mounts = container.materialise(root, owner=user.owner)
    config_volumes = [v["name"] for v in container.pod_spec.get("volumes") or [] if "configMap" in v]
    assert config_volumes, "the redis container mounts no ConfigMap"
    for name in config_volumes:
        for path in mounts.volumes[name].rglob("*"):
            if path.is_file():
                rewrite(path, mounts.remap(path.read_text()))
    return mounts


@dataclass
class RedisPod:
    """One overlay's redis container, materialised under ``root`` and (once started) on ``port``."""

    container: pods.Container
    mounts: pods.Mounts
    user: RunAs
    binaries: RedisBinaries
    port: int
    server: Server | None = None

    @classmethod
    def make(cls, container: pods.Container, root: Path, user: RunAs, binaries: RedisBinaries) -> RedisPod:
        return cls(container, materialise(container, root, user), user, binaries, free_port())

    @property
    def secret_file(self) -> Path:
        return Path(self.mounts.remap(SECRET_FILE))

    @property
    def runtime_conf(self) -> Path:
        return Path(self.mounts.remap(RUNTIME_CONF))

    @property
    def password(self) -> str:
        """The password as start.sh reads it (``$(cat file)``)."""
        return self.secret_file.read_text().rstrip("\n")

    def env(self) -> dict[str, str]:
        return self.mounts.remap_env(self.container.env)

    def argv(self) -> list[str]:
        return [*self.mounts.remap_argv(self.container.argv), "--port", str(self.port), "--bind", "127.0.0.1"]

    def start(self, wait: bool = True) -> Server:
        self.server = self.user.start(self.argv(), self.mounts.root / f"redis-{self.port}.log", env=self.env())
        if wait:
            wait_until("redis-server to accept connections", lambda: tcp_open("127.0.0.1", self.port), self.server)
            wait_until("PONG to an authenticated PING", lambda: pong(self.port, self.password), self.server)
        return self.server

    def stop(self) -> int | None:
        code = self.server.stop() if self.server is not None else None
        self.server = None
        return code

    def kill(self) -> None:
        """SIGKILL: for throwaway servers (SIGTERM waits for Redis's next cron tick)."""
        if self.server is not None:
            try:
                os.killpg(self.server.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.stop()

    def probe_argv(self, probe: pods.Probe, port: int | None = None) -> list[str]:
        """The rendered exec probe with ``-p 6379`` pointed at ``port`` (ours by default), then remapped."""
        target = f"-p {port or self.port}"
        argv = [a.replace(f"-p {RENDERED_PORT}", target) for a in probe.command or []]
        assert sum(a.count(f"-p {RENDERED_PORT}") for a in probe.command or []) == 1, probe.command
        return self.mounts.remap_argv(argv)

    def run_probe(self, probe: pods.Probe, port: int | None = None) -> bool:
        """True when the probe succeeds within its timeoutSeconds, as the kubelet judges it."""
        if probe.handler == "exec":
            try:
                done = self.user.run(self.probe_argv(probe, port), env=self.env(), timeout=probe.timeout_seconds)
            except subprocess.TimeoutExpired:
                return False
            return done.returncode == 0
        if probe.handler == "tcpSocket":
            assert probe.port == RENDERED_PORT
            return tcp_open(probe.host or "127.0.0.1", port or self.port, timeout=probe.timeout_seconds)
        raise AssertionError(f"unexpected probe handler {probe.handler}")


def limit_mib(container: pods.Container) -> int:
    """The rendered memory limit in MiB, rounded up as the downward API does."""
    limit = pods.quantity(container.resources["limits"]["memory"])
    return -(-int(limit) // MIB)


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def container(overlay: str) -> pods.Container:
    return pods.container(overlay, "StatefulSet", "redis", "redis", external=external_secrets(overlay))


@pytest.fixture(scope="module")
def redis(container: pods.Container, redis_user: RunAs, redis_bin: RedisBinaries) -> Iterator[RedisPod]:
    root = make_workdir(f"redis-{container.overlay}-")
    pod = RedisPod.make(container, root / "pod", redis_user, redis_bin)
    try:
        pod.start()
        yield pod
    finally:
        pod.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def spare(container: pods.Container, redis_user: RunAs, redis_bin: RedisBinaries) -> Iterator[RedisPod]:
    """A second, not yet started pod of the same overlay, for tests that change its password."""
    root = make_workdir(f"redis-{container.overlay}-")
    pod = RedisPod.make(container, root / "pod", redis_user, redis_bin)
    try:
        yield pod
    finally:
        pod.kill()
        shutil.rmtree(root, ignore_errors=True)


# --- the rendered pod ----------------------------------------------------------------------------

def test_the_rendered_container_runs_start_sh_with_its_volumes(container: pods.Container) -> None:
    assert container.argv == START_ARGV
    assert container.image.startswith("redis:7")
    mounts = {m["mountPath"]: m["name"] for m in container.volume_mounts}
    volumes = {v["name"]: v for v in container.pod_spec["volumes"]}
    assert "configMap" in volumes[mounts["/etc/redis"]]
    # dev generates the Secret, so its name carries kustomize's hash.
    assert re.fullmatch(r"redis-credentials(-[a-z0-9]{10})?", volumes[mounts["/run/secrets/redis"]]["secret"]["secretName"])
    assert volumes[mounts["/run/redis"]]["emptyDir"].get("medium") == "Memory"
    assert mounts[DATA_MOUNT] in {t["metadata"]["name"] for t in container.claim_templates}
    assert container.run_as_user not in (None, 0) and container.security_context.get("runAsNonRoot") is True
    assert container.env["REDIS_MEMORY_LIMIT_MIB"] == str(limit_mib(container))


def test_it_starts_and_answers_pong_to_the_secret_password(redis: RedisPod) -> None:
    assert redis.server is not None and redis.server.running()
    assert pong(redis.port, redis.password)
    # The Secret volume's password key, from the render (dev) or the fake external Secret (prod).
    volume = next(v for v in redis.container.pod_spec["volumes"] if v.get("secret"))
    data = redis.container.object_data("Secret", volume["secret"]["secretName"], optional=False)
    assert data is not None and redis.password == data["password"]


def test_an_unauthenticated_command_gets_noauth(redis: RedisPod) -> None:
    with Resp(redis.port) as r:
        reply = r.call("PING")
        assert isinstance(reply, Error) and reply.message.startswith("NOAUTH"), reply
        reply = r.call("SET", "unauthenticated", "1")
        assert isinstance(reply, Error) and reply.message.startswith("NOAUTH"), reply


def test_a_wrong_password_is_refused(redis: RedisPod) -> None:
    for wrong in ("wrong-" + redis.password, redis.password[:-1], ""):
        reply = auth_reply(redis.port, wrong)
        assert isinstance(reply, Error) and reply.message.startswith("WRONGPASS"), (wrong, reply)
    assert auth_reply(redis.port, redis.password) == "OK"


@pytest.mark.parametrize("workload", ["api", "worker"])
def test_the_apps_redis_url_authenticates(redis: RedisPod, workload: str) -> None:
    overlay = redis.container.overlay
    app = pods.container(overlay, "Deployment", workload, workload, external=external_secrets(overlay))
    service = pods.find_workload(pods.rendered(overlay), "Service", "redis")
    assert any(p["port"] == RENDERED_PORT and p.get("targetPort") in ("redis", RENDERED_PORT)
               for p in service["spec"]["ports"]), service["spec"]["ports"]
    url = urlsplit(app.env["REDIS_URL"])
    assert url.scheme == "redis"
    assert url.hostname in SERVICE_HOSTS, f"{workload}'s REDIS_URL host {url.hostname} is not the redis Service"
    assert url.port == RENDERED_PORT
    assert url.password is not None
    database = url.path.lstrip("/") or "0"
    with Resp(redis.port) as r:
        args = (unquote(url.username), unquote(url.password)) if url.username else (unquote(url.password),)
        assert r.call("AUTH", *args) == "OK"
        assert r.call("SELECT", database) == "OK"
        assert r.call("SET", f"{workload}:probe", "1") == "OK"
        assert r.call("GET", f"{workload}:probe") == "1"
        assert r.call("DEL", f"{workload}:probe") == 1


def test_the_configuration_is_the_rendered_one(redis: RedisPod) -> None:
    mib = limit_mib(redis.container)
    limit = pods.quantity(redis.container.resources["limits"]["memory"])
    expected = mib * 70 // 100 * MIB
    with authed(redis.port, redis.password) as r:
        config = {key: r.call("CONFIG", "GET", key)[1] for key in
                  ("maxmemory", "maxmemory-policy", "appendonly", "appendfsync", "protected-mode", "dir")}
    assert int(config["maxmemory"]) == expected
    assert 0 < int(config["maxmemory"]) < limit
    assert config["maxmemory-policy"] == "noeviction"
    assert config["appendonly"] == "yes"
    assert config["appendfsync"] == "everysec"
    assert config["protected-mode"] == "yes"
    assert Path(config["dir"]) == redis.mounts[DATA_MOUNT].resolve()
    # The append-only file lives on the claim.
    assert any(redis.mounts[DATA_MOUNT].iterdir()), "nothing written to the data volume"


def test_the_password_is_in_no_command_line_nor_environment(redis: RedisPod) -> None:
    assert redis.server is not None
    pid = redis.server.proc.pid  # setpriv and sh exec: this is redis-server itself
    proc = Path(f"/proc/{pid}")
    # Debian's redis-server is a link to redis-check-rdb, which acts on the name it is called by.
    assert os.path.realpath(proc / "exe") == os.path.realpath(redis.binaries.redis_server)
    uid = next(line.split()[1] for line in (proc / "status").read_text().splitlines() if line.startswith("Uid:"))
    assert int(uid) == redis.user.uid
    cmdline = (proc / "cmdline").read_bytes()
    assert cmdline.startswith(f"redis-server 127.0.0.1:{redis.port}".encode())  # Redis's process title
    # Redis writes that title over its original argv and environment, so /proc/<pid>/environ says
    # nothing here: the arguments and environment redis-server is started with are checked through
    # the stub in test_start_sh_execs_redis_server_with_the_config_and_its_arguments.
    assert redis.password.encode() not in cmdline
    runtime = redis.runtime_conf.stat()
    assert stat.S_IMODE(runtime.st_mode) == 0o600
    assert runtime.st_uid == redis.user.uid
    assert f"requirepass {redis.password}\n" in redis.runtime_conf.read_text()


def test_a_full_broker_refuses_writes_and_evicts_nothing(redis: RedisPod) -> None:
    value = "x" * 16384
    written: list[str] = []
    with authed(redis.port, redis.password) as r:
        original = r.call("CONFIG", "GET", "maxmemory")[1]
        evicted_before = _info(r, "stats")["evicted_keys"]
        keys_before = r.call("DBSIZE")
        used = int(_info(r, "memory")["used_memory"])
        assert r.call("CONFIG", "SET", "maxmemory", used + MIB) == "OK"
        try:
            refused = None
            for i in range(1000):
                reply = r.call("SET", f"task:{i}", value)
                if isinstance(reply, Error):
                    refused = reply
                    break
                written.append(f"task:{i}")
            assert refused is not None, "Redis took 16 MiB beyond a 1 MiB headroom"
            assert refused.message.startswith("OOM command not allowed"), refused
            assert len(written) >= 10
            assert r.call("DBSIZE") == keys_before + len(written)
            assert r.call("EXISTS", *written) == len(written)
            assert r.call("MGET", *written) == [value] * len(written)
            assert _info(r, "stats")["evicted_keys"] == evicted_before
        finally:
            if written:
                r.call("DEL", *written)
            assert r.call("CONFIG", "SET", "maxmemory", original) == "OK"
        assert r.call("SET", "task:after", value) == "OK"
        assert r.call("DEL", "task:after") == 1


def _info(r: Resp, section: str) -> dict[str, str]:
    text = r.call("INFO", section)
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line and not line.startswith("#"))


# --- probes --------------------------------------------------------------------------------------

def test_the_probes_target_the_server_port(container: pods.Container) -> None:
    readiness, liveness = container.probes["readiness"], container.probes["liveness"]
    assert readiness.handler == "exec"
    assert readiness.command is not None and readiness.command[:2] == ["sh", "-c"]
    assert f"redis-cli -h 127.0.0.1 -p {RENDERED_PORT} ping" in readiness.command[2]
    assert liveness.handler == "tcpSocket"
    assert liveness.raw["tcpSocket"]["port"] == "redis"
    assert container.ports["redis"] == RENDERED_PORT == liveness.port
    assert liveness.host in (None, "127.0.0.1")


@pytest.mark.parametrize("which", ["readiness", "liveness"])
def test_the_probe_passes_on_the_running_server(redis: RedisPod, which: str) -> None:
    assert redis.run_probe(redis.container.probes[which])


def test_readiness_fails_on_a_redis_without_a_password(redis: RedisPod) -> None:
    port = free_port()
    plain = redis.user.start([redis.binaries.redis_server, "--port", str(port), "--bind", "127.0.0.1",
                              "--save", "", "--appendonly", "no"], redis.mounts.root / "plain.log",
                             cwd=redis.mounts.root)
    try:
        wait_until("the passwordless redis-server", lambda: tcp_open("127.0.0.1", port), plain)
        with Resp(port) as r:
            assert r.call("PING") == "PONG"  # it really needs no password
        assert not redis.run_probe(redis.container.probes["readiness"], port=port)
        # Why: redis-cli reports that its AUTH failed, and the probe wants PONG alone.
        done = redis.user.run([redis.binaries.redis_cli, "-h", "127.0.0.1", "-p", str(port), "ping"],
                              env={"REDISCLI_AUTH": redis.password}, timeout=5)
        assert "AUTH failed" in done.stdout + done.stderr
    finally:
        plain.stop()


def test_readiness_fails_with_a_wrong_password_in_the_secret(redis: RedisPod) -> None:
    right = redis.secret_file.read_text()
    rewrite(redis.secret_file, "wrong-" + right)
    try:
        assert not redis.run_probe(redis.container.probes["readiness"])
    finally:
        rewrite(redis.secret_file, right)
    assert redis.run_probe(redis.container.probes["readiness"])


def test_the_probes_fail_while_the_server_is_stopped_and_the_queue_survives(redis: RedisPod) -> None:
    with authed(redis.port, redis.password) as r:
        assert r.call("SET", "queued", "task") == "OK"
    assert redis.stop() == 0
    try:
        for which in ("readiness", "liveness"):
            assert not redis.run_probe(redis.container.probes[which]), f"{which} passed with no server"
    finally:
        redis.start()  # the same volumes again, as a restarted container finds them
    assert redis.run_probe(redis.container.probes["readiness"])
    with authed(redis.port, redis.password) as r:
        assert r.call("GET", "queued") == "task"
        assert r.call("DEL", "queued") == 1


# --- start.sh on bad input -----------------------------------------------------------------------

STUB = """#!/bin/sh
# Stands in for redis-server: records that it ran, prints its arguments (one a line), its environment
# and the files its configuration file includes, separated by lines of ---.
: > {marker}
printf '%s\\n' "$@"
echo ---
env
echo ---
sed -n 's/^include //p' "$1" | while read -r f; do cat "$f"; done
"""


@dataclass
class Stubbed:
    """A materialised pod whose PATH finds a stub ``redis-server`` before the real one."""

    pod: RedisPod
    marker: Path
    path: str

    def run(self, password: str | None, memory: str | None = "keep") -> subprocess.CompletedProcess[str]:
        """start.sh with ``password`` in the Secret file (None: no file) and REDIS_MEMORY_LIMIT_MIB
        as rendered ("keep"), unset (None) or ``memory``."""
        self.marker.unlink(missing_ok=True)
        self.pod.runtime_conf.unlink(missing_ok=True)
        secret = self.pod.secret_file
        if password is None:
            secret.unlink(missing_ok=True)
        else:
            if not secret.exists():
                secret.write_text("")
                shutil.chown(secret, self.pod.user.uid, self.pod.user.gid)
                secret.chmod(0o440)
            secret.chmod(0o640)
            secret.write_bytes(password.encode())
            secret.chmod(0o440)
        env = self.pod.env()
        if memory is None:
            env.pop("REDIS_MEMORY_LIMIT_MIB")
        elif memory != "keep":
            env["REDIS_MEMORY_LIMIT_MIB"] = memory
        env["PATH"] = self.path
        return self.pod.user.run([*self.pod.mounts.remap_argv(self.pod.container.argv), "--port", "1"],
                                 env=env, timeout=20)


@pytest.fixture(scope="module")
def stubbed(container: pods.Container, redis_user: RunAs, redis_bin: RedisBinaries) -> Iterator[Stubbed]:
    root = make_workdir(f"redis-stub-{container.overlay}-")
    try:
        pod = RedisPod.make(container, root / "pod", redis_user, redis_bin)
        bindir = root / "bin"
        bindir.mkdir()
        marker = pod.mounts.root / "redis-server-ran"
        stub = bindir / "redis-server"
        stub.write_text(STUB.format(marker=marker))
        stub.chmod(0o755)
        shutil.chown(pod.mounts.root, redis_user.uid, redis_user.gid)
        yield Stubbed(pod, marker, f"{bindir}:{os.environ.get('PATH', '/usr/bin:/bin')}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_start_sh_execs_redis_server_with_the_config_and_its_arguments(stubbed: Stubbed) -> None:
    """The control for the refusals below: good input reaches the stub."""
    done = stubbed.run("good-password")
    assert done.returncode == 0, done.stderr
    assert stubbed.marker.exists()
    config = stubbed.pod.mounts.remap("/etc/redis/redis.conf")
    mib = limit_mib(stubbed.pod.container)
    args, env, included = done.stdout.split("---\n")
    assert args == f"{config}\n--port\n1\n"
    assert included == f"requirepass good-password\nmaxmemory {mib * 70 // 100}mb\n"
    # The environment redis-server starts with: the container's, and no password in it.
    assert f"REDIS_MEMORY_LIMIT_MIB={mib}\n" in env
    assert "good-password" not in env


REFUSALS = [
    pytest.param(None, "keep", "no Redis password in", id="no-password-file"),
    pytest.param("", "keep", "no Redis password in", id="empty-password"),
    # $(cat file) drops trailing newlines: start.sh judges what it read, not the file's size.
    pytest.param("\n", "keep", "no Redis password in", id="newline-only"),
    pytest.param("\n\n\n", "keep", "no Redis password in", id="newlines-only"),
    pytest.param("pa ss", "keep", "may hold only", id="space"),
    pytest.param("pa/ss", "keep", "may hold only", id="slash"),
    pytest.param("pa\nss", "keep", "may hold only", id="inner-newline"),
    pytest.param("pa$(id)ss", "keep", "may hold only", id="substitution"),
    pytest.param("good-password", None, "REDIS_MEMORY_LIMIT_MIB", id="memory-unset"),
    pytest.param("good-password", "", "REDIS_MEMORY_LIMIT_MIB", id="memory-empty"),
    pytest.param("good-password", "256Mi", "REDIS_MEMORY_LIMIT_MIB", id="memory-with-unit"),
    pytest.param("good-password", "-1", "REDIS_MEMORY_LIMIT_MIB", id="memory-negative"),
    pytest.param("good-password", "0256", "REDIS_MEMORY_LIMIT_MIB", id="memory-leading-zero"),
    pytest.param("good-password", "1234567890", "REDIS_MEMORY_LIMIT_MIB", id="memory-too-many-digits"),
    pytest.param("good-password", "0", "REDIS_MEMORY_LIMIT_MIB", id="memory-zero"),
    # 70 % of 1 MiB is 0 in whole megabytes: Redis would read maxmemory 0 as no bound.
    pytest.param("good-password", "1", "leaves Redis no room", id="memory-too-small"),
]


@pytest.mark.parametrize(("password", "memory", "says"), REFUSALS)
def test_start_sh_refuses_bad_input(stubbed: Stubbed, password: str | None, memory: str | None,
                                    says: str) -> None:
    done = stubbed.run(password, memory)
    _assert_refused(stubbed, done, password)
    assert says in done.stderr
    if password and password.strip():
        assert password not in done.stderr


def _assert_refused(stubbed: Stubbed, done: subprocess.CompletedProcess[str], password: str | None) -> None:
    assert done.returncode != 0
    assert done.stdout == ""
    assert done.stderr.startswith("start.sh: ") and done.stderr.count("\n") == 1, done.stderr
    assert not stubbed.marker.exists(), "redis-server was started"
    assert not stubbed.pod.runtime_conf.exists()


def _with_a_forbidden_character() -> st.SearchStrategy[str]:
    """A string holding a character start.sh must refuse. Not NUL, and not a newline as the only bad
    character: ``$(cat file)`` drops NULs and trailing newlines before start.sh can look at them."""
    anything = st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))
    forbidden = st.characters(blacklist_characters=ALLOWED + "\x00\n", blacklist_categories=("Cs",))
    return st.tuples(st.text(ALLOWED, max_size=12), forbidden, st.text(anything, max_size=12)).map("".join)


def test_start_sh_refuses_a_forbidden_character_with_one_fixed_line(stubbed: Stubbed) -> None:
    reference = stubbed.run("pa ss")
    _assert_refused(stubbed, reference, "pa ss")
    assert "pa ss" not in reference.stderr

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(_with_a_forbidden_character())
    @example("-\u00e9")
    @example("pass\r")
    @example("ok\t")
    def refused(password: str) -> None:
        done = stubbed.run(password)
        _assert_refused(stubbed, done, password)
        assert done.stderr == reference.stderr  # the same line: nothing of the password in it

    refused()


def test_any_allowed_password_works_exactly(spare: RedisPod) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(st.text(ALLOWED, min_size=1, max_size=64))
    @example(ALLOWED)
    @example("-")
    @example("--port")
    def works(password: str) -> None:
        rewrite(spare.secret_file, password)
        spare.port = free_port()
        spare.start()
        try:
            assert auth_reply(spare.port, password) == "OK"
            for wrong in (password + "x", password[:-1] or "x", "x" + password):
                reply = auth_reply(spare.port, wrong)
                assert isinstance(reply, Error) and reply.message.startswith("WRONGPASS"), (wrong, reply)
        finally:
            spare.kill()

    works()


# --- the documented rotation ---------------------------------------------------------------------

KUBECTL_EXEC = "kubectl -n ai-agents exec -i redis-0 -- "


def _rotation_block() -> list[str]:
    """The lines of docs/deployment.md's block that starts with ``# rotate the redis password``."""
    text = (ROOT / "docs" / "deployment.md").read_text()
    block = re.search(r"```bash\n# rotate the redis password\n(.*?)```", text, re.S)
    assert block, "docs/deployment.md has no block starting with '# rotate the redis password'"
    return block.group(1).splitlines()


def rotation_commands() -> list[str]:
    """The two ``printf 'ACL SETUSER ...' | kubectl ... exec ...`` lines of docs/deployment.md."""
    lines = [line for line in _rotation_block() if line.startswith("printf 'ACL SETUSER")]
    assert len(lines) == 2, lines
    assert all(f"| {KUBECTL_EXEC}sh -c '" in line for line in lines), lines
    return lines


def rotation_wait() -> str:
    """The line of docs/deployment.md that waits for the kubelet to refresh the mounted Secret."""
    [line] = [line for line in _rotation_block() if line.startswith("until ")]
    assert KUBECTL_EXEC.replace(" -i", "") in line
    return line


def test_the_documented_rotation_keeps_clients_connected(spare: RedisPod) -> None:
    old, new = spare.password, "rotated-" + spare.password[::-1]
    spare.start()
    add, forget = rotation_commands()
    assert ">%s" in add and '"$REDIS_PASSWORD"' in add
    assert "<%s" in forget and '"$OLD_REDIS_PASSWORD"' in forget

    def run(line: str) -> str:
        local = line.replace(KUBECTL_EXEC, "")
        # In the pod, redis-cli's default port is the server's 6379; here the server has its own.
        assert local.count("redis-cli'") == 1, local
        local = spare.mounts.remap(local.replace("redis-cli'", f"redis-cli -p {spare.port}'"))
        env = {**spare.env(), "REDIS_PASSWORD": new, "OLD_REDIS_PASSWORD": old}
        done = spare.user.run(["bash", "-c", local], env=env, timeout=20)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    readiness = spare.container.probes["readiness"]
    assert run(add) == "OK"
    assert auth_reply(spare.port, old) == "OK"
    assert auth_reply(spare.port, new) == "OK"
    # Step 4 waits while the pod's file still holds the old password (bounded here by a timeout)...
    wait = spare.mounts.remap(rotation_wait().replace(KUBECTL_EXEC.replace(" -i", ""), ""))
    env = {**spare.env(), "REDIS_PASSWORD": new}
    with pytest.raises(subprocess.TimeoutExpired):
        spare.user.run(["bash", "-c", wait], env=env, timeout=2)
    # ... and ends once the kubelet has written the new password into the mounted Secret (step 2 as the
    # pod sees it). The probe passes with it, before and after the old password is forgotten.
    rewrite(spare.secret_file, new)
    assert spare.user.run(["bash", "-c", wait], env=env, timeout=20).returncode == 0
    assert spare.run_probe(readiness)
    assert run(forget) == "OK"
    reply = auth_reply(spare.port, old)
    assert isinstance(reply, Error) and reply.message.startswith("WRONGPASS"), reply
    assert auth_reply(spare.port, new) == "OK"
    assert spare.run_probe(readiness)
    # The next start reads only the new password from the Secret.
    spare.kill()
    spare.start()
    assert isinstance(auth_reply(spare.port, old), Error)
    assert auth_reply(spare.port, new) == "OK"


# --- the documented watch and recovery commands of a full broker ---------------------------------


def _doc_command(start: str) -> str:
    """The inline command of docs/deployment.md ("When the broker is full") that starts with ``start``."""
    text = (ROOT / "docs" / "deployment.md").read_text()
    section = text[text.index("**When the broker is full.**"):text.index("**Probes.**")]
    found = [m.group(1) for m in re.finditer(r"`([^`]+)`", section) if m.group(1).startswith(start)]
    assert len(found) == 1, (start, found)
    return found[0]


def test_the_documented_watch_and_recovery_commands_work(spare: RedisPod) -> None:
    """Run as written, with only kubectl's exec into the pod replaced by running its command here."""
    spare.port = free_port()
    spare.start()
    try:
        env = spare.env()

        def run(command: str) -> str:
            local = re.sub(r"kubectl -n ai-agents exec (-i )?redis-0 -- ", "", command)
            assert "kubectl" not in local, local
            assert local.count("redis-cli") == 1, local
            local = spare.mounts.remap(re.sub(r"\bredis-cli\b", f"redis-cli -p {spare.port}", local))
            done = spare.user.run(["bash", "-c", local], env=env, timeout=20)
            assert done.returncode == 0, done.stderr
            return done.stdout

        watched = dict(line.rstrip("\r").split(":", 1) for line in run(_doc_command("kubectl -n ai-agents exec redis-0 "
                                                                                    "-- sh -c")).splitlines())
        assert set(watched) == {"used_memory", "maxmemory"}, watched
        assert int(watched["maxmemory"]) == limit_mib(spare.container) * 70 // 100 * 1048576
        assert 0 < int(watched["used_memory"]) < int(watched["maxmemory"])
        raised = int(watched["maxmemory"]) + 1048576
        recover = _doc_command("printf 'CONFIG SET maxmemory <bytes>")
        assert run(recover.replace("<bytes>", str(raised))).strip() == "OK"
        with Resp(spare.port) as r:
            assert r.call("AUTH", spare.password) == "OK"
            assert r.call("CONFIG", "GET", "maxmemory") == ["maxmemory", str(raised)]
    finally:
        spare.kill()
