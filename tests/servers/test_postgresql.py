"""The rendered PostgreSQL container of each overlay, run with the real PostgreSQL server.

The image is postgres:17-alpine; Debian 12 gives PostgreSQL 15. So this proves the manifests' side:
the data layout on the claim (PGDATA below the mount root, which a fresh ext4 volume fills with
lost+found), the credential files the Secret provides at the paths the env names, the probes as
rendered, and the app's DATABASE_URL against that Secret. It does not prove anything that depends on
PostgreSQL 17 itself.

What the image's entrypoint does is done here by hand, with the same inputs: initdb with PGDATA from
the env, the user from POSTGRES_USER_FILE and the password from POSTGRES_PASSWORD_FILE (through a
--pwfile of mode 600), host connections with scram-sha-256; then the POSTGRES_DB database.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest

from tests.servers import pods
from tests.servers.conftest import PostgresBinaries, external_secrets, make_workdir
from tests.servers.procs import RunAs, Server, free_port, tcp_open, wait_until

OVERLAYS = ("dev", "prod")
RENDERED_PORT = 5432
SOCKET_DIR = "/var/run/postgresql"
SERVICE_HOSTS = {"postgresql", "postgresql.ai-agents", "postgresql.ai-agents.svc",
                 "postgresql.ai-agents.svc.cluster.local"}


@dataclass
class Postgres:
    """One overlay's PostgreSQL, initialised and running on a free port of 127.0.0.1."""

    overlay: str
    container: pods.Container
    app: pods.Container
    mounts: pods.Mounts
    binaries: PostgresBinaries
    user: RunAs
    port: int
    pgdata: Path
    socket_dir: Path
    initdb: subprocess.CompletedProcess[str]
    server: Server | None = None

    def env(self) -> dict[str, str]:
        """The container's environment with its mount paths moved to the host."""
        return self.mounts.remap_env(self.container.env)

    def start(self) -> None:
        self.server = self.user.start(
            [self.binaries.postgres, "-c", "listen_addresses=127.0.0.1", "-c", f"port={self.port}",
             "-c", f"unix_socket_directories={self.socket_dir}"],
            self.pgdata.parent / f"postgres-{self.port}.log", env=self.env())
        wait_until("postgres to accept connections", lambda: tcp_open("127.0.0.1", self.port), self.server)
        # The port opens before PostgreSQL takes connections ("the database system is starting up"):
        # wait for that too, so a probe run right after start() judges a started server.
        ready = [self.binaries.pg_isready, "--host=127.0.0.1", f"--port={self.port}", "--timeout=2"]
        wait_until("postgres to finish starting",
                   lambda: self.user.run(ready, env=self.env(), timeout=10).returncode == 0, self.server)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def probe_argv(self, probe: pods.Probe) -> list[str]:
        """The rendered exec probe with its port moved to ours and pg_isready found here."""
        argv = []
        for arg in probe.command or []:
            argv.append(f"--port={self.port}" if arg == f"--port={RENDERED_PORT}" else arg)
        if argv and argv[0] == "pg_isready":
            argv[0] = self.binaries.pg_isready
        return self.mounts.remap_argv(argv)

    def run_probe(self, probe: pods.Probe) -> bool:
        """True when the probe succeeds within its timeoutSeconds, as the kubelet judges it."""
        if probe.handler == "exec":
            try:
                done = self.user.run(self.probe_argv(probe), env=self.env(), timeout=probe.timeout_seconds)
            except subprocess.TimeoutExpired:
                return False
            return done.returncode == 0
        if probe.handler == "tcpSocket":
            assert probe.port == RENDERED_PORT
            return tcp_open(probe.host or "127.0.0.1", self.port, timeout=probe.timeout_seconds)
        raise AssertionError(f"unexpected probe handler {probe.handler}")

    def psql(self, url: str, sql: str) -> subprocess.CompletedProcess[str]:
        return self.user.run([self.binaries.psql, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
                             env={"PGCONNECT_TIMEOUT": "5", "PGPASSFILE": "/nonexistent/pgpass"}, timeout=30)


def _credential(mounts: pods.Mounts, env: dict[str, str], variable: str) -> str:
    """What the image's entrypoint reads for POSTGRES_USER / POSTGRES_PASSWORD: the file *_FILE names."""
    path = Path(mounts.remap(env[f"{variable}_FILE"]))
    assert path.is_file(), f"{variable}_FILE={env[f'{variable}_FILE']} is no file of a mounted volume"
    return path.read_text()


def _initdb(user: RunAs, binaries: PostgresBinaries, env: dict[str, str], username: str, pwfile: Path,
            ) -> subprocess.CompletedProcess[str]:
    return user.run([binaries.initdb, f"--username={username}", f"--pwfile={pwfile}",
                     "--auth-local=trust", "--auth-host=scram-sha-256", "--encoding=UTF8", "--no-sync"],
                    env=env, timeout=120)


def _fresh_volume(mounts: pods.Mounts, mount_path: str) -> Path:
    """The claim's mount root as a fresh ext4 volume leaves it: holding a root-owned lost+found."""
    root = mounts[mount_path]
    (root / "lost+found").mkdir(mode=0o700)
    return root


def _data_mount(container: pods.Container) -> str:
    pgdata = container.env["PGDATA"]
    under = [m["mountPath"] for m in container.volume_mounts
             if pgdata == m["mountPath"] or pgdata.startswith(m["mountPath"].rstrip("/") + "/")]
    assert under, f"PGDATA={pgdata} is on no volume: the data would die with the container"
    return max(under, key=len)


def _pwfile(workdir: Path, user: RunAs, password: str) -> Path:
    pwfile = workdir / "pwfile"
    pwfile.write_text(password + "\n")
    pwfile.chmod(0o600)
    if user.owner != (pwfile.stat().st_uid, pwfile.stat().st_gid):
        shutil.chown(pwfile, user.uid, user.gid)
    return pwfile


@pytest.fixture(scope="module", params=OVERLAYS)
def postgres(request: pytest.FixtureRequest, postgres_bin: PostgresBinaries, postgres_user: RunAs,
             ) -> Iterator[Postgres]:
    overlay = request.param
    external = external_secrets(overlay)
    container = pods.container(overlay, "StatefulSet", "postgresql", "postgresql", external=external)
    app = pods.container(overlay, "Deployment", "api", "api", external=external)
    workdir = make_workdir(f"pg-{overlay}-")
    try:
        mounts = container.materialise(workdir / "pod", owner=postgres_user.owner)
        _fresh_volume(mounts, _data_mount(container))
        env = mounts.remap_env(container.env)
        pwfile = _pwfile(workdir, postgres_user, _credential(mounts, container.env, "POSTGRES_PASSWORD"))
        username = _credential(mounts, container.env, "POSTGRES_USER")
        done = _initdb(postgres_user, postgres_bin, env, username, pwfile)
        # The image's socket and lock directory: a volume, since the root filesystem is read-only.
        socket_dir = mounts[SOCKET_DIR]
        pg = Postgres(overlay, container, app, mounts, postgres_bin, postgres_user, free_port(),
                      Path(env["PGDATA"]), socket_dir, done)
        if done.returncode == 0:
            pg.start()
            database = container.env["POSTGRES_DB"]
            created = pg.user.run([postgres_bin.psql, "-X", "-v", "ON_ERROR_STOP=1", "-h", str(pg.socket_dir),
                                   "-p", str(pg.port), "-U", username, "-d", "postgres",
                                   "-c", f'CREATE DATABASE "{database}"'], timeout=30)
            assert created.returncode == 0, created.stderr
        try:
            yield pg
        finally:
            pg.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def test_pgdata_is_below_the_claims_mount_root(postgres: Postgres) -> None:
    c = postgres.container
    mount_path = _data_mount(c)
    claims = {t["metadata"]["name"] for t in c.claim_templates}
    mount = next(m for m in c.volume_mounts if m["mountPath"] == mount_path)
    assert mount["name"] in claims, f"PGDATA's volume {mount['name']} is not a claim template ({claims})"
    assert c.env["PGDATA"] != mount_path, "PGDATA is the mount root: initdb refuses it once lost+found is there"
    assert c.run_as_user not in (None, 0) and c.security_context.get("runAsNonRoot") is True


def test_initdb_accepts_the_rendered_pgdata_on_a_fresh_volume(postgres: Postgres) -> None:
    assert postgres.initdb.returncode == 0, postgres.initdb.stdout + postgres.initdb.stderr
    assert (postgres.pgdata / "PG_VERSION").read_text().strip() == postgres.binaries.major
    mount_root = postgres.mounts[_data_mount(postgres.container)]
    assert (mount_root / "lost+found").is_dir()


def test_initdb_refuses_the_mount_root_with_lost_found(postgres: Postgres, workdir: Path) -> None:
    """The negative control: the layout the PGDATA subdirectory avoids."""
    c = postgres.container
    mounts = c.materialise(workdir / "pod", owner=postgres.user.owner)
    root = _fresh_volume(mounts, _data_mount(c))
    env = {**mounts.remap_env(c.env), "PGDATA": str(root)}
    pwfile = _pwfile(workdir, postgres.user, "unused")
    done = _initdb(postgres.user, postgres.binaries, env, "ai_agents", pwfile)
    assert done.returncode != 0
    assert "exists but is not empty" in done.stderr, done.stderr
    assert sorted(p.name for p in root.iterdir()) == ["lost+found"]


def test_probes_target_the_server_port(postgres: Postgres) -> None:
    probes = postgres.container.probes
    assert set(probes) >= {"readiness", "liveness"}
    readiness = probes["readiness"]
    assert readiness.handler == "exec"
    assert readiness.command is not None and readiness.command[0] == "pg_isready"
    assert "--host=127.0.0.1" in readiness.command and f"--port={RENDERED_PORT}" in readiness.command
    assert postgres.container.ports.get("postgresql") == RENDERED_PORT
    liveness = probes["liveness"]
    assert liveness.handler in ("exec", "tcpSocket")
    if liveness.handler == "tcpSocket":
        assert liveness.port == RENDERED_PORT and liveness.host in (None, "127.0.0.1")


@pytest.mark.parametrize("which", ["readiness", "liveness"])
def test_probe_passes_on_the_running_server(postgres: Postgres, which: str) -> None:
    assert postgres.server is not None, postgres.initdb.stderr
    assert postgres.run_probe(postgres.container.probes[which])


def test_probes_fail_while_the_server_is_stopped(postgres: Postgres) -> None:
    assert postgres.server is not None, postgres.initdb.stderr
    postgres.stop()
    try:
        for which in ("readiness", "liveness"):
            assert not postgres.run_probe(postgres.container.probes[which]), f"{which} passed with no server"
    finally:
        postgres.start()  # the same PGDATA again, as a restarted pod would find it
    assert postgres.run_probe(postgres.container.probes["readiness"])


def _app_url(postgres: Postgres, password: str | None = None) -> str:
    """The api's DATABASE_URL (asserted to name the postgresql Service) moved to our port."""
    url = urlsplit(postgres.app.env["DATABASE_URL"])
    assert url.scheme in ("postgresql", "postgres")
    assert url.hostname in SERVICE_HOSTS, f"DATABASE_URL host {url.hostname} is not the postgresql Service"
    assert url.port in (None, RENDERED_PORT)
    assert url.username and url.password is not None
    secret = quote(password, safe="") if password is not None else url.password
    netloc = f"{url.username}:{secret}@127.0.0.1:{postgres.port}"
    return urlunsplit((url.scheme, netloc, url.path, url.query, url.fragment))


def test_app_database_url_connects(postgres: Postgres) -> None:
    assert postgres.server is not None, postgres.initdb.stderr
    done = postgres.psql(_app_url(postgres), "select 1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"


def test_wrong_password_is_refused(postgres: Postgres) -> None:
    assert postgres.server is not None, postgres.initdb.stderr
    wrong = "wrong-" + (urlsplit(postgres.app.env["DATABASE_URL"]).password or "")
    done = postgres.psql(_app_url(postgres, password=wrong), "select 1")
    assert done.returncode != 0
    assert "password authentication failed" in done.stderr, done.stderr
