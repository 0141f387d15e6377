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
import tempfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

_BACKGROUND = ThreadPoolExecutor(max_workers=2, thread_name_prefix="policycheck-version")


class ToolVersion:
    """A tool's version, asked in the background (from the cache when the
    binary is unchanged) and waited for only when someone reads it."""

    def __init__(self, path: str, ask: Callable[[], str]) -> None:
        self._future: Future[str] = _BACKGROUND.submit(cached_version, path, ask)

    def get(self) -> str:
        try:
            return self._future.result(timeout=30)
        except (TimeoutError, OSError, ValueError, subprocess.SubprocessError):
            return "unknown"


def _cache_file() -> Path:
    base = os.environ.get("POLICYCHECK_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "policycheck")
    return Path(base) / "tool-versions.json"


def _key(path: str) -> str | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return f"{os.path.realpath(path)}:{st.st_size}:{st.st_mtime_ns}"


def cached_version(path: str, ask: Callable[[], str]) -> str:
    key = _key(path)
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
        try:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", dir=cache_file.parent, delete=False, suffix=".tmp",
                                             encoding="utf-8") as fh:
                json.dump(cache, fh)
            os.replace(fh.name, cache_file)
        except OSError:
            pass
    return version
