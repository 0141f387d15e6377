"""A content-addressed cache of overlay results: unchanged means instant.

An overlay's result is stored under a key that hashes everything that can
change it:

- every file its render reads (``policycheck.inputs``: the bytes, found by
  walking the kustomization tree, never by rendering);
- the tools: kustomize and conftest, each by its path, size and mtime (a
  different build is a different tool), and policycheck's own code (every
  module's size and mtime, so an edited checkout misses too) and version;
- the Rego policies and data (the bytes of every file under them), the
  effective configuration, the profile, the Kubernetes version, the
  selected rules, --require-objects, the working directory and the
  overlay's path as given (reports show paths relative to it), the commit
  of ``--base REF`` (findings are new or baseline against it, and
  ``immutable-field`` compares with it), and the date (exemptions expire by
  date).

A hit skips render, rules and Rego and returns the stored result; the
report is written from it exactly as from a fresh check. Only overlays that
were checked without error are stored; an overlay with a remote base, or
one whose inputs the walk cannot fully follow, is never stored or looked
up. Entries are JSON (never pickle: a cache directory restored by CI must
not be able to run code), validated when read; anything unreadable is a
miss. Each write prunes its bucket of entries unused for ``MAX_AGE_DAYS``.

The directory is $POLICYCHECK_CACHE, else $XDG_CACHE_HOME/policycheck, else
~/.cache/policycheck; results live in its ``results/``. ``--no-cache``
turns all of it off.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from policycheck import __version__
from policycheck.inputs import Walker
from policycheck.report import OverlayResult
from policycheck.report import json as json_report
from policycheck.toolcache import binary_identity, cache_root, write_json

FORMAT = 1
MAX_AGE_DAYS = 30
MAX_ENTRY_BYTES = 256 * 1024 * 1024


def directory() -> Path:
    return cache_root() / "results"


def _identity(path: str | None) -> str:
    """A tool by its binary (a different build is a different tool)."""
    if not path:
        return "-"
    return binary_identity(path) or f"{path}:missing"


def _code_identity() -> str:
    """policycheck's own modules by size and mtime: an edited checkout is another checker."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256(__version__.encode())
    for path in sorted(root.rglob("*.py")):
        try:
            st = path.stat()
        except OSError:
            continue
        h.update(f"{path.relative_to(root)}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _tree_digest(paths: list[str], walker: Walker) -> str:
    """The bytes of every file under the given files or directories (policies, data)."""
    h = hashlib.sha256()
    for raw in paths:
        root = Path(raw)
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in files:
            inputs = walker.file(path)
            h.update(f"{path}\0{inputs}\n".encode("utf-8", "surrogateescape"))
    return h.hexdigest()


class Cache:
    """Lookups and stores of one run: ``context`` is the key part every overlay shares."""

    def __init__(self, context: dict[str, Any], root: Path | None = None, walker: Walker | None = None) -> None:
        self.root = root or directory()
        self.walker = walker or Walker()
        context = {**context, "format": FORMAT, "policycheck": __version__, "code": _code_identity(),
                   "python": list(sys.version_info[:2]), "cwd": os.getcwd()}
        self.context = hashlib.sha256(json.dumps(context, sort_keys=True, default=str).encode()).hexdigest()
        self.hits = 0
        self.stored = 0

    @classmethod
    def for_settings(cls, settings: Any, root: Path | None = None) -> Cache:
        """The cache of a check with these Settings (policycheck.check.Settings)."""
        walker = Walker()
        rego = settings.rego
        rego_settings = settings.rego_settings
        context = {
            "kustomize": [settings.kustomize.argv, _identity(settings.kustomize.argv[0])],
            "conftest": _identity(rego.path) if rego else None,
            "rego": [repr(rego_settings), _tree_digest(rego_settings.policies + rego_settings.data, walker)]
            if rego else None,
            "config": repr(settings.config),
            "profile": settings.profile,
            "kube_version": settings.kube_version,
            "select": sorted(settings.select) if settings.select is not None else None,
            "house_rules": sorted(settings.house_rules),
            "require_objects": settings.require_objects,
            "allow_remote": settings.allow_remote,
            "today": settings.today.isoformat(),
            # --base REF: the commit fixes the tree compared with; messages name REF as given.
            "base": [settings.base.ref, settings.base.commit, str(settings.base.toplevel)]
            if getattr(settings, "base", None) else None,
        }
        return cls(context, root, walker)

    def key(self, overlay: Path) -> str | None:
        """The key of an overlay, or None when it is not cached (Inputs.uncacheable says why)."""
        inputs = self.walker.walk(overlay)
        if inputs.uncacheable:
            return None
        h = hashlib.sha256(f"{self.context}\n{overlay.as_posix()}\n{inputs.digest()}".encode("utf-8",
                                                                                          "surrogateescape"))
        return h.hexdigest()

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str, overlay: str) -> OverlayResult | None:
        path = self._path(key)
        try:
            with open(path, "rb") as fh:
                raw = fh.read(MAX_ENTRY_BYTES + 1)
                modified = os.fstat(fh.fileno()).st_mtime
            if len(raw) > MAX_ENTRY_BYTES:
                return None
            data = json.loads(raw)
            if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("key") != key:
                return None
            findings = [json_report.finding_from(f) for f in data.get("findings", [])]
            result = json_report.overlay_from(data.get("overlay"), findings)
            result.absent = [json_report.finding_from(f) for f in data.get("absent", [])]  # (--base REF)
        except (OSError, ValueError, RecursionError, json_report.ReadError):
            return None
        if result.path != overlay or result.error or any(f.obj.overlay != overlay for f in findings):
            return None
        if modified < time.time() - 86400:
            try:
                os.utime(path)  # in use: not pruned (marked once a day: a write costs more than a read)
            except OSError:
                pass
        self.hits += 1
        return result

    def put(self, key: str, result: OverlayResult) -> None:
        """Store a result checked without error (a failure to write is no failure of the check)."""
        if result.error:
            return
        data = {"format": FORMAT, "key": key, "overlay": json_report.overlay_entry(result),
                "findings": [_entry(f) for f in result.findings]}
        if result.absent:
            data["absent"] = [_entry(f) for f in result.absent]
        path = self._path(key)
        if write_json(path, data, errors="surrogateescape"):
            self.stored += 1
            _prune(path.parent)


def _entry(f: Any) -> dict[str, Any]:
    """A finding as stored: its JSON form, with its --base REF state when it has one."""
    data = json_report.finding_dict(f)
    if f.baseline:
        data["baseline"] = True
    return data


def _prune(bucket: Path) -> None:
    """Entries of one bucket unused for MAX_AGE_DAYS, and stale temporary files, removed."""
    limit = time.time() - MAX_AGE_DAYS * 86400
    try:
        with os.scandir(bucket) as entries:
            for entry in entries:
                try:
                    if entry.stat().st_mtime < limit or (entry.name.endswith(".tmp")
                                                         and entry.stat().st_mtime < time.time() - 3600):
                        os.unlink(entry.path)
                except OSError:
                    continue
    except OSError:
        return
