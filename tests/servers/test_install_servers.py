"""hack/install-servers.sh, on a machine that already has the servers: it touches no package and
prints the PostgreSQL bin directory that `make test` puts on PATH."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from tests.conftest import ROOT
from tests.servers.conftest import PostgresBinaries, RedisBinaries


def test_prints_the_postgres_bin_dir_quickly(postgres_bin: PostgresBinaries, redis_bin: RedisBinaries) -> None:
    started = time.monotonic()
    done = subprocess.run([str(ROOT / "hack" / "install-servers.sh")], capture_output=True, text=True,
                          timeout=60, check=False)
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", "nothing to install, so nothing to say"
    bindir = Path(done.stdout.strip())
    assert bindir.parent.parent == Path("/usr/lib/postgresql") and bindir.name == "bin"
    for tool in ("initdb", "postgres", "pg_isready"):
        assert (bindir / tool).is_file(), tool
    assert elapsed < 5, f"took {elapsed:.1f} s with everything installed"
