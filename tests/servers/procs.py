"""Running the real server binaries: as an unprivileged user, bounded in time, never outliving the
test run.

When the tests run as root, every command goes through ``setpriv --reuid U --regid G --clear-groups``
to an existing unprivileged system user (PostgreSQL refuses to run as root, and a manifest's
non-root promise means nothing if the test runs the binary as root). Otherwise the commands run as
the current user. Either way ``setpriv --pdeathsig KILL`` makes the process die with the process
that started it, so a killed pytest leaves no server behind, and each server is started in a
process group of its own that :meth:`Server.stop` ends as a whole.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

RUN_TIMEOUT = 60.0


@dataclass(frozen=True)
class RunAs:
    """The host user a server process runs as (uid, gid), and how to get there."""

    uid: int
    gid: int
    name: str
    setpriv: str

    @classmethod
    def user(cls, names: Sequence[str], setpriv: str) -> RunAs:
        """As root: the first of ``names`` that exists (a Debian system user such as ``postgres``,
        ``redis`` or ``nobody``). Not root: the current user, whatever ``names`` says."""
        if os.geteuid() != 0:
            entry = pwd.getpwuid(os.geteuid())
            return cls(entry.pw_uid, os.getegid(), entry.pw_name, setpriv)
        for name in names:
            try:
                entry = pwd.getpwnam(name)
            except KeyError:
                continue
            if entry.pw_uid != 0:
                return cls(entry.pw_uid, entry.pw_gid, name, setpriv)
        raise LookupError(f"none of these unprivileged users exists: {', '.join(names)}")

    @property
    def owner(self) -> tuple[int, int]:
        return self.uid, self.gid

    def wrap(self, argv: Sequence[str]) -> list[str]:
        """``argv`` run as this user, killed when its starter dies."""
        prefix = [self.setpriv, "--pdeathsig", "KILL"]
        if os.geteuid() == 0:
            prefix += ["--reuid", str(self.uid), "--regid", str(self.gid), "--clear-groups"]
        return [*prefix, "--", *argv]

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """A small environment for the user: PATH kept, HOME and USER its own, locale C."""
        home = pwd.getpwuid(self.uid).pw_dir
        base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "USER": self.name,
                "LOGNAME": self.name, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
        return {**base, **(extra or {})}

    def run(self, argv: Sequence[str], *, env: dict[str, str] | None = None, timeout: float = RUN_TIMEOUT,
            cwd: Path | None = None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run to completion (never longer than ``timeout`` seconds) and return what it printed."""
        return subprocess.run(self.wrap(argv), env=self.env(env), cwd=cwd, input=stdin, capture_output=True,
                              text=True, timeout=timeout, check=False, start_new_session=True)

    def start(self, argv: Sequence[str], log: Path, *, env: dict[str, str] | None = None,
              cwd: Path | None = None) -> Server:
        """Start a long-running process, its output going to ``log``."""
        with log.open("wb") as out:
            proc = subprocess.Popen(self.wrap(argv), env=self.env(env), cwd=cwd, stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        return Server(proc, log)


@dataclass
class Server:
    """A started process and its log; :meth:`stop` ends its whole process group."""

    proc: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def running(self) -> bool:
        return self.proc.poll() is None

    def stop(self, grace: float = 10.0) -> int:
        """SIGTERM to the group (PostgreSQL: smart shutdown... fast enough for an idle server), then
        SIGKILL after ``grace`` seconds; returns the exit code."""
        if self.proc.poll() is None:
            _signal_group(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                _signal_group(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=grace)
        # Children that outlived the leader (none expected) go too.
        _signal_group(self.proc.pid, signal.SIGKILL)
        return self.proc.returncode


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tcp_open(host: str, port: int, timeout: float = 1.0) -> bool:
    """What a kubelet tcpSocket probe asks: does a connection to host:port open?"""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(what: str, ready, server: Server | None = None, timeout: float = 30.0) -> None:
    """Poll ``ready()`` until true; raise with ``what`` (and the server's log) after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        if server is not None and not server.running():
            raise RuntimeError(f"{what}: the server exited ({server.proc.returncode}):\n{server.output()[-3000:]}")
        time.sleep(0.05)
    log = f"\n{server.output()[-3000:]}" if server is not None else ""
    raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}{log}")


def find_setpriv() -> str | None:
    return shutil.which("setpriv")
