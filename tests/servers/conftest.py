"""The servers tier: the rendered containers' command lines, environment, probes and volumes run
with the real server binaries (Debian's redis-server and PostgreSQL, put there by
hack/install-servers.sh), not in their images: what is proven is the manifests' side of the
contract, not the image's version.

A missing binary skips the tier with the reason; under CI=true it fails (tests.conftest.require).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import require
from tests.servers.procs import RunAs, find_setpriv

INSTALL_HINT = "run hack/install-servers.sh (as root it installs the Debian packages redis-server and postgresql)"

# Fake values for the Secrets overlays/prod expects to exist (hack/create-secrets.sh makes them from
# environment variables; the keys here are the ones it writes). Secret name -> key -> value.
PROD_EXTERNAL_SECRETS: dict[str, dict[str, str]] = {
    "postgresql-credentials": {"username": "ai_agents", "password": "servers-tier-password-not-real"},
    "ai-agents-app": {
        "DATABASE_URL": "postgresql://ai_agents:servers-tier-password-not-real@postgresql:5432/ai_agents",
        "REDIS_URL": "redis://:servers-tier-redis-not-real@redis:6379/0",
        "OPENAI_API_KEY": "servers-tier-key-not-real",
    },
    "redis-credentials": {"password": "servers-tier-redis-not-real"},
}


def external_secrets(overlay: str) -> dict[str, dict[str, str]]:
    """What the tests pass as ``external`` to pods.container for an overlay."""
    return PROD_EXTERNAL_SECRETS if overlay == "prod" else {}


def _postgres_dirs() -> list[Path]:
    """/usr/lib/postgresql/<major>/bin, newest major first."""
    found = []
    for bindir in Path("/usr/lib/postgresql").glob("*/bin"):
        if bindir.parent.name.isdigit():
            found.append((int(bindir.parent.name), bindir))
    return [d for _, d in sorted(found, reverse=True)]


def find_binary(name: str, extra_dirs: list[Path] | None = None) -> str | None:
    """``name`` on PATH, else in the first of ``extra_dirs`` that has it."""
    found = shutil.which(name)
    if found:
        return found
    for directory in extra_dirs or []:
        candidate = directory / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def _major(binary: str) -> str:
    done = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=20, check=False)
    match = re.search(r"(\d+)(?:\.\d+)*", done.stdout)
    return match.group(1) if match else "?"


@dataclass(frozen=True)
class PostgresBinaries:
    initdb: str
    postgres: str
    pg_isready: str
    psql: str
    major: str


@dataclass(frozen=True)
class RedisBinaries:
    redis_server: str
    redis_cli: str


@pytest.fixture(scope="session")
def setpriv() -> str:
    found = find_setpriv()
    require(found is not None, "setpriv (util-linux) is needed to run the servers as an unprivileged user")
    assert found
    return found


@pytest.fixture(scope="session")
def postgres_bin() -> PostgresBinaries:
    dirs = _postgres_dirs()
    found = {name: find_binary(name, dirs) for name in ("initdb", "postgres", "pg_isready", "psql")}
    missing = [name for name, path in found.items() if path is None]
    require(not missing, f"PostgreSQL binaries missing: {', '.join(missing)}; {INSTALL_HINT}")
    paths = {k: str(v) for k, v in found.items()}
    majors = {_major(paths["initdb"]), _major(paths["postgres"])}
    assert len(majors) == 1, f"initdb and postgres are different PostgreSQL versions: {paths}"
    return PostgresBinaries(**paths, major=majors.pop())


@pytest.fixture(scope="session")
def redis_bin() -> RedisBinaries:
    server, cli = find_binary("redis-server"), find_binary("redis-cli")
    require(server is not None and cli is not None, f"redis-server/redis-cli missing; {INSTALL_HINT}")
    assert server and cli
    return RedisBinaries(server, cli)


@pytest.fixture(scope="session")
def postgres_user(setpriv: str) -> RunAs:
    """Debian's ``postgres`` user when the tests run as root (initdb looks its uid up), else self."""
    return RunAs.user(["postgres", "nobody"], setpriv)


@pytest.fixture(scope="session")
def redis_user(setpriv: str) -> RunAs:
    """Debian's ``redis`` user (or ``nobody``) when the tests run as root, else self."""
    return RunAs.user(["redis", "nobody"], setpriv)


def make_workdir(prefix: str) -> Path:
    """A short temporary directory the unprivileged users can enter (pytest's own tmp_path lives
    under a 0700 directory of root's; unix socket paths must stay under 108 bytes)."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    path.chmod(0o755)
    return path


@pytest.fixture
def workdir() -> Iterator[Path]:
    path = make_workdir("srv-")
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
