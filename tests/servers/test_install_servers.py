"""hack/install-servers.sh, on a machine that already has the servers: it touches no package and
prints the PostgreSQL bin directory that `make test` puts on PATH."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.conftest import ROOT
from tests.servers.conftest import PostgresBinaries, RedisBinaries


def test_with_everything_installed_it_runs_no_package_tool(postgres_bin: PostgresBinaries, redis_bin: RedisBinaries,
                                                          tmp_path: Path) -> None:
    # Package tools that record being run: none may be, when nothing is missing.
    calls = tmp_path / "calls"
    stubs = tmp_path / "bin"
    stubs.mkdir()
    for tool in ("apt-get", "apt", "dpkg"):
        (stubs / tool).write_text(f'#!/bin/sh\necho "{tool} $*" >>"{calls}"\nexit 1\n')
        (stubs / tool).chmod(0o755)
    env = {**os.environ, "PATH": f"{stubs}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run([str(ROOT / "hack" / "install-servers.sh")], capture_output=True, text=True,
                          timeout=60, check=False, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", "nothing to install, so nothing to say"
    assert not calls.exists(), calls.read_text()
    bindir = Path(done.stdout.strip())
    assert bindir.parent.parent == Path("/usr/lib/postgresql") and bindir.name == "bin"
    for tool in ("initdb", "postgres", "pg_isready"):
        assert (bindir / tool).is_file(), tool
