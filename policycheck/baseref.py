"""The overlays as they are at a git revision (``--base REF``), rendered beside the check.

    revision = resolve("origin/main")            # the commit, the repository's top level; one line if not
    with materialise(revision, timeout) as tree:  # that commit's tree in a temporary directory
        renders = BaseRenders(overlays, revision, tree, kustomize, timeout=..., memory_mib=..., allow_remote=...)
        base = renders.get(i)                     # context.Base: the objects, none (absent at REF), or an error

The user's work tree, index, refs and worktree list are never touched: the
tree is written from git's object store (``git ls-tree`` and ``git cat-file
--batch``), not checked out, so no hook, filter, attribute (``export-ignore``
would drop files from ``git archive``) or LFS smudge runs. Every entry is
written below the temporary directory or not at all: paths with ``..``,
``.git`` or an absolute start are skipped, files are created exclusively
without following links, and a symbolic link that leads out of the tree is
removed (as the ``data`` extraction filter of tarfile would refuse it).
Submodules are not written. The directory is removed when the context ends,
whatever happened.

Each overlay maps to the same path relative to the repository's top level
(``git rev-parse --show-toplevel``) and is rendered there with exactly the
head renders' safety settings (policycheck.launch: no plugins, exec or helm,
the root-only load restrictor, offline unless remote bases are allowed, the
memory cap and the timeout). Every git command is bounded by a timeout;
every failure is a PolicycheckError of one line.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from policycheck.errors import PolicycheckError
from policycheck.launch import Kustomize, kustomization_file, start_renders, trim_error
from policycheck.textsafe import escape

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

    from policycheck.context import Base

GIT_TIMEOUT = 20.0  # seconds for one quick git question (rev-parse)
_CHUNK = 1 << 20
_MODES = {"100644": 0o644, "100755": 0o755, "120000": None}  # blobs written; None: a symbolic link


def _git_env() -> dict[str, str]:
    env = dict(os.environ)
    # No prompt, no lock on the index (nothing here needs it), messages in English for one-line errors.
    env.update({"GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C", "LANGUAGE": "C"})
    return env


def _git(args: list[str], cwd: str | Path | None, timeout: float) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=max(0.1, timeout),
                              stdin=subprocess.DEVNULL, env=_git_env(), check=False)
    except FileNotFoundError:
        raise PolicycheckError("--base needs git, which is not on PATH") from None
    except subprocess.TimeoutExpired:
        raise PolicycheckError(f"--base: git {args[0]} did not answer within {timeout:g}s") from None
    except OSError as exc:
        raise PolicycheckError(f"--base: cannot run git: {exc.strerror}") from None


def _reason(out: subprocess.CompletedProcess[bytes]) -> str:
    return escape(trim_error(out.stderr.decode("utf-8", "replace"), 200))


@dataclass(frozen=True)
class Revision:
    """The commit ``--base REF`` names, in the repository around the working directory."""

    ref: str  # as the user wrote it (shown in findings and notes)
    commit: str  # the full object name (keys the result cache)
    toplevel: Path  # the repository's work tree root, resolved

    def relative(self, overlay: Path) -> PurePosixPath:
        """The overlay's path from the top level (the same path in the tree at REF)."""
        try:
            return PurePosixPath(overlay.resolve().relative_to(self.toplevel).as_posix())
        except ValueError:
            raise PolicycheckError(f"--base: {escape(overlay.as_posix())} is outside the git repository "
                                   f"{escape(self.toplevel.as_posix())}") from None


def resolve(ref: str, cwd: str | Path | None = None, timeout: float = GIT_TIMEOUT) -> Revision:
    """The commit ``ref`` names; a PolicycheckError (one line) when there is no repository or no
    such revision."""
    shown = escape(ref)
    if not ref or ref.startswith("-") or any(c in ref for c in "\0\n\r"):
        raise PolicycheckError(f"--base {shown!r}: not a git revision")
    top = _git(["rev-parse", "--show-toplevel"], cwd, timeout)
    if top.returncode != 0 or not top.stdout.strip():
        raise PolicycheckError(f"--base {shown}: not in a git repository ({_reason(top)})")
    toplevel = Path(os.fsdecode(top.stdout.rstrip(b"\n"))).resolve()
    out = _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], toplevel, timeout)
    commit = out.stdout.decode("ascii", "replace").strip()
    if out.returncode != 0 or not commit:
        raise PolicycheckError(f"--base {shown}: not a git revision of {escape(toplevel.as_posix())}")
    return Revision(ref, commit, toplevel)


# ------------------------------------------------------------------------------ the tree at REF


@contextlib.contextmanager
def materialise(revision: Revision, timeout: float) -> Iterator[Path]:
    """The tree of ``revision`` written into a new temporary directory, removed afterwards."""
    tree = Path(tempfile.mkdtemp(prefix="policycheck-base-")).resolve()
    try:
        write_tree(revision, tree, timeout)
        yield tree
    finally:
        shutil.rmtree(tree, ignore_errors=True)


def _entries(listing: bytes) -> Iterator[tuple[str, str, str]]:
    """(mode, object name, path) of every blob of ``git ls-tree -r -z`` output."""
    for record in listing.split(b"\0"):
        head, tab, path = record.partition(b"\t")
        fields = head.split(b" ")
        if not tab or len(fields) != 3 or fields[1] != b"blob":
            continue  # a submodule (commit), or nothing
        yield fields[0].decode("ascii", "replace"), fields[2].decode("ascii", "replace"), os.fsdecode(path)


def _safe(path: str) -> bool:
    parts = path.split("/")
    return bool(path) and not path.startswith("/") and all(p not in ("", ".", "..") and p.lower() != ".git"
                                                           for p in parts)


def _inside(root: Path, path: str) -> bool:
    real = os.path.realpath(path)
    return real == str(root) or real.startswith(str(root) + os.sep)


def write_tree(revision: Revision, root: Path, timeout: float) -> None:
    """Write the files of ``revision`` below ``root`` (an empty directory), within ``timeout``."""
    deadline = time.monotonic() + timeout
    listing = _git(["ls-tree", "-r", "-z", "--full-tree", revision.commit], revision.toplevel, timeout)
    if listing.returncode != 0:
        raise PolicycheckError(f"--base {escape(revision.ref)}: cannot list its tree ({_reason(listing)})")
    entries = [(mode, name, path) for mode, name, path in _entries(listing.stdout) if mode in _MODES]
    links: list[tuple[str, bytes]] = []
    try:
        proc = subprocess.Popen(["git", "cat-file", "--batch"], cwd=revision.toplevel, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_git_env())
    except OSError as exc:
        raise PolicycheckError(f"--base: cannot run git: {exc.strerror}") from None
    watchdog = threading.Timer(max(0.1, deadline - time.monotonic()), proc.kill)
    watchdog.daemon = True
    watchdog.start()

    def ask() -> None:
        try:
            for _, name, _ in entries:
                proc.stdin.write(name.encode("ascii") + b"\n")  # type: ignore[union-attr]
            proc.stdin.close()  # type: ignore[union-attr]
        except (OSError, ValueError):
            pass  # killed: the reader below says so

    asker = threading.Thread(target=ask, name="policycheck-base-ask", daemon=True)
    asker.start()
    try:
        for mode, name, path in entries:
            header = proc.stdout.readline().split()  # type: ignore[union-attr]
            if len(header) != 3 or header[0].decode("ascii", "replace") != name:
                if time.monotonic() >= deadline:
                    raise PolicycheckError(f"--base {escape(revision.ref)}: writing its tree took longer than "
                                           f"{timeout:g}s")
                raise PolicycheckError(f"--base {escape(revision.ref)}: git cat-file did not return {name}")
            size = int(header[2])
            if _MODES[mode] is None:
                links.append((path, proc.stdout.read(size)))  # type: ignore[union-attr]
            else:
                _write_blob(proc.stdout, size, root, path, _MODES[mode])  # type: ignore[arg-type]
            proc.stdout.read(1)  # type: ignore[union-attr] - the newline after each object
    finally:
        watchdog.cancel()
        proc.kill()
        proc.wait()
        asker.join(timeout=1)
    _write_links(root, links)


def _write_blob(stream, size: int, root: Path, path: str, mode: int) -> None:  # noqa: ANN001 - a binary pipe
    """Copy ``size`` bytes of ``stream`` into root/path, or skip them when the path is not safe."""
    target = None
    if _safe(path):
        parent = os.path.dirname(os.path.join(root, path))
        try:
            os.makedirs(parent, exist_ok=True)
            if _inside(root, parent):
                target = os.open(os.path.join(root, path),
                                 os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), mode)
        except OSError:
            target = None  # a malformed tree (a file where a directory goes): that entry is not written
    try:
        left = size
        while left > 0:
            chunk = stream.read(min(_CHUNK, left))
            if not chunk:
                raise PolicycheckError("--base: git cat-file stopped in the middle of a file")
            left -= len(chunk)
            if target is not None:
                os.write(target, chunk)
    finally:
        if target is not None:
            os.close(target)


def _write_links(root: Path, links: list[tuple[str, bytes]]) -> None:
    """Symbolic links that stay inside the tree; any other is not written."""
    made = []
    for path, destination in links:
        dest = os.fsdecode(destination)
        full = os.path.join(root, path)
        if not _safe(path) or not dest or os.path.isabs(dest) or "\0" in dest:
            continue
        if not _inside(root, os.path.dirname(full)) or not _inside(root, os.path.join(os.path.dirname(full), dest)):
            continue
        try:
            os.makedirs(os.path.dirname(full), exist_ok=True)
            os.symlink(dest, full)
            made.append(full)
        except OSError:
            continue
    for full in made:  # links through other links: judged once all exist
        if not _inside(root, full):
            with contextlib.suppress(OSError):
                os.unlink(full)


# ------------------------------------------------------------------------------ renders at REF


class BaseRenders:
    """Every overlay rendered in the tree at REF (started at once, ``workers`` at a time): one
    ``context.Base`` per overlay, in order."""

    def __init__(self, overlays: list[Path], revision: Revision, tree: Path, kustomize: Kustomize, *,
                 timeout: float, memory_mib: int, allow_remote: bool, workers: int) -> None:
        self.revision = revision
        self.tree = tree
        paths = [tree / revision.relative(o) for o in overlays]
        self._slot: dict[int, int] = {}
        present: list[Path] = []
        for i, path in enumerate(paths):
            if path.is_dir() and kustomization_file(path) is not None:
                self._slot[i] = len(present)
                present.append(path)
        self.renders = start_renders(present, kustomize, timeout=timeout, memory_mib=memory_mib,
                                     allow_remote=allow_remote, workers=workers)

    def exists(self, i: int) -> bool:
        """Overlay i is a kustomization at REF."""
        return i in self._slot

    def get(self, i: int) -> Base:
        """Overlay i at REF: its objects, None when it does not exist there, or the error of its render
        (never raises)."""
        from policycheck.context import Base  # noqa: PLC0415 - the model loads while kustomize runs

        ref = self.revision.ref
        if i not in self._slot:
            return Base(ref, None)
        try:
            rendered = self.renders.futures[self._slot[i]].result()
        except PolicycheckError as exc:
            return Base(ref, None, error=self._clean(str(exc)))
        except Exception as exc:  # noqa: BLE001 - recorded on the overlay, never the end of the run
            return Base(ref, None, error=f"internal error ({type(exc).__name__}); this is a policycheck bug")
        return Base(ref, rendered.objects, rendered=rendered)

    def _clean(self, message: str) -> str:
        """A render error with the temporary directory taken out of its paths."""
        for spelling in {str(self.tree), os.path.relpath(self.tree)}:
            message = message.replace(spelling + os.sep, "").replace(spelling, ".")
        return message

    def cancel(self, i: int) -> None:
        if i in self._slot:
            self.renders.cancel(self._slot[i])

    def more_workers(self) -> None:
        self.renders.more_workers()

    def shutdown(self) -> None:
        self.renders.shutdown()
