"""Remember what an external tool says its version is.

Asking `kubectl version` costs as much CPU as a render; on a 2-core runner
it slows the render it runs beside. The answer only changes when the binary
does, so it is kept per binary path, size and mtime in
$XDG_CACHE_HOME/policycheck/tool-versions.json (POLICYCHECK_CACHE overrides
the directory). A cache that cannot be read or written is ignored.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any


class ToolVersion:
    """A tool's version, asked in a background thread (from the cache when the
    binary is unchanged) and waited for only when someone reads it."""

    def __init__(self, path: str, ask: Callable[[], str]) -> None:
        self._done = threading.Event()
        self._value = "unknown"

        def run() -> None:
            try:
                self._value = cached_version(path, ask)
            except (OSError, ValueError, subprocess.SubprocessError):
                pass
            finally:
                self._done.set()

        threading.Thread(target=run, name="policycheck-version", daemon=True).start()

    def get(self) -> str:
        self._done.wait(timeout=30)
        return self._value


def cache_root() -> Path:
    """$POLICYCHECK_CACHE, else $XDG_CACHE_HOME/policycheck, else ~/.cache/policycheck."""
    base = os.environ.get("POLICYCHECK_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "policycheck")
    return Path(base)


def _cache_file() -> Path:
    return cache_root() / "tool-versions.json"


def binary_identity(path: str) -> str | None:
    """A binary by what changes when it is rebuilt: real path, size and mtime (None when missing)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return f"{os.path.realpath(path)}:{st.st_size}:{st.st_mtime_ns}"


def write_json(path: Path, data: Any, *, errors: str = "strict") -> bool:
    """``data`` into ``path`` atomically (a temporary file, then a rename), the directory
    private to the user; False when it cannot be written (a cache is only slower then)."""
    import tempfile  # noqa: PLC0415 - only when something is stored

    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp", encoding="utf-8",
                                         errors=errors) as fh:
            tmp = fh.name
            json.dump(data, fh, separators=(",", ":"))
        os.replace(tmp, path)
    except (OSError, ValueError):
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        return False
    return True


def cached_version(path: str, ask: Callable[[], str]) -> str:
    key = binary_identity(path)
    cache_file = _cache_file()
    try:
        cache = json.loads(cache_file.read_text(encoding="utf-8"))
        if not isinstance(cache, dict):
            cache = {}
    except (OSError, ValueError):
        cache = {}
    if key and isinstance(cache.get(key), str):
        return cache[key]
    version = ask()
    if key and version != "unknown":
        cache[key] = version
        write_json(cache_file, cache)
    return version
