"""Every file an overlay's render reads, found without rendering.

The result cache keys an overlay by the bytes of these files, and sharding
weighs overlays by their size, so the walk must over-approximate: it hashes
every regular file directly inside each kustomization directory (whatever
the kustomization names there, and whichever of `kustomization.yaml`,
`.yml` or `Kustomization` kustomize picks), plus every file the
kustomization names elsewhere: resources, patches of every form, generator
`files`/`envs`, replacements, configurations, crds, openapi, and the files
that builtin plugin configurations (`generators:`/`transformers:`/
`validators:`) point at. Directories it lists are walked the same way.

What the walk cannot follow makes the overlay uncacheable instead of
risking a stale answer: a remote base, a plugin directory, a file too big
to hash, a tree too large, a kustomization that does not parse (its render
fails anyway, and failures are never cached).

Bounded: at most MAX_FILES files and MAX_FILE_BYTES per file; only regular
files are read (a FIFO or a device is never opened).
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policycheck import yamlio
from policycheck.launch import _entries, _is_remote, kustomization_file, read_kustomization

MAX_FILES = 20_000
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_DIRECTORIES = 5_000
# Keys of builtin plugin configurations that name files (PatchTransformer.path,
# PatchStrategicMergeTransformer.paths, ConfigMap/SecretGenerator files and envs, ...).
_FILE_KEYS = ("path", "paths", "files", "envs", "env")


@dataclass
class Inputs:
    """What one overlay's render reads."""

    files: dict[str, str] = field(default_factory=dict)  # absolute path -> sha256 of its bytes
    sizes: dict[str, int] = field(default_factory=dict)  # absolute path -> bytes
    uncacheable: str | None = None  # why a result must not be cached, if it must not

    @property
    def size(self) -> int:
        """Bytes the render reads: the weight of the overlay when shards are balanced."""
        return sum(self.sizes.values())

    def digest(self) -> str:
        h = hashlib.sha256()
        for path in sorted(self.files):
            h.update(path.encode("utf-8", "surrogateescape") + b"\0" + self.files[path].encode() + b"\n")
        return h.hexdigest()


class Walker:
    """Walks overlays; kustomization directories and files shared by several overlays
    (bases, components) are read and hashed once per walker."""

    def __init__(self, sizes_only: bool = False) -> None:
        # sizes_only: weigh overlays (sharding) without reading file contents.
        self.sizes_only = sizes_only
        self._hashes: dict[str, tuple[str, int] | str] = {}  # path -> (sha256, size), or why not
        self._dirs: dict[Path, tuple[list[Path], list[Path], str | None]] = {}

    def walk(self, overlay: Path) -> Inputs:
        inputs = Inputs()
        seen: set[Path] = set()
        stack = [Path(os.path.abspath(overlay))]
        while stack and inputs.uncacheable is None:
            directory = stack.pop()
            if directory in seen:
                continue
            seen.add(directory)
            if len(seen) > MAX_DIRECTORIES:
                inputs.uncacheable = f"more than {MAX_DIRECTORIES} kustomization directories"
                break
            files, subdirs, why = self._directory(directory)
            if why:
                inputs.uncacheable = why
                break
            for path in files:
                self._add(inputs, path)
            stack.extend(d for d in subdirs if d not in seen)
        return inputs

    def file(self, path: Path) -> str:
        """The sha256 of one file (or why it cannot be read), remembered for this walker."""
        found = self._found(path)
        return found if isinstance(found, str) else found[0]

    def _found(self, path: Path) -> tuple[str, int] | str:
        """(digest, size) of a file, or why it cannot be read: worked out once per walker."""
        key = str(path)
        if key not in self._hashes:
            self._hashes[key] = _size(path) if self.sizes_only else _hash(path)
        return self._hashes[key]

    def _add(self, inputs: Inputs, path: Path) -> None:
        key = str(path)
        if key in inputs.files:
            return
        if len(inputs.files) >= MAX_FILES:
            inputs.uncacheable = f"reads more than {MAX_FILES} files"
            return
        found = self._found(path)
        if isinstance(found, str):
            inputs.uncacheable = found
            return
        inputs.files[key], inputs.sizes[key] = found

    def _directory(self, directory: Path) -> tuple[list[Path], list[Path], str | None]:
        """(files to hash, directories to walk, why not cacheable) of one kustomization directory."""
        if directory not in self._dirs:
            self._dirs[directory] = _read_directory(directory)
        return self._dirs[directory]


def _size(path: Path) -> tuple[str, int] | str:
    try:
        return ("size", os.stat(path).st_size)
    except OSError:
        return ("missing", 0)


def _hash(path: Path) -> tuple[str, int] | str:
    """(sha256, size) of a regular file; a missing file hashes as such (kustomize will say
    what is wrong); anything else is a reason not to cache."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return ("missing", 0)
    except OSError as exc:
        return f"cannot read {path.name}: {exc.strerror}"
    if stat.S_ISDIR(st.st_mode):
        return ("directory", 0)
    if not stat.S_ISREG(st.st_mode):
        return f"{path.name} is not a regular file"
    if st.st_size > MAX_FILE_BYTES:
        return f"{path.name} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB"
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
    except OSError as exc:
        return f"cannot read {path.name}: {exc.strerror}"
    return h.hexdigest(), st.st_size


def _read_directory(directory: Path) -> tuple[list[Path], list[Path], str | None]:
    files: list[Path] = []
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.is_file():
                    files.append(Path(entry.path))
    except OSError as exc:
        return [], [], f"cannot list {directory.name}: {exc.strerror}"
    kfile = kustomization_file(directory)
    if kfile is None:
        return files, [], None  # kustomize says what is wrong
    try:
        data = read_kustomization(kfile)
    except (OSError, UnicodeDecodeError, *yamlio.ERRORS):
        return files, [], "a kustomization does not parse"
    if not isinstance(data, dict):
        return files, [], "a kustomization is not a mapping"
    subdirs: list[Path] = []
    why = _references(directory, data, files, subdirs)
    return files, subdirs, why


def _strings(value: Any) -> list[str]:
    """A string, or the string items of a list (a generator's ``env`` is one file, ``envs`` a list)."""
    return [value] if isinstance(value, str) else _entries(value)


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _references(directory: Path, data: dict[str, Any], files: list[Path], subdirs: list[Path]) -> str | None:
    """Collect what a kustomization reads besides its own directory; a reason when it cannot."""

    def local(entry: str) -> Path:
        return Path(os.path.normpath(directory / entry))

    for key in ("resources", "components", "bases"):
        for entry in _strings(data.get(key)):
            if _is_remote(directory, entry):
                return f"{key} lists a remote base (never cached)"
            target = local(entry)
            (subdirs if target.is_dir() else files).append(target)
    for key in ("generators", "transformers", "validators"):
        for entry in _strings(data.get(key)):
            target = local(entry)
            if target.is_dir():
                return f"{key} lists a directory (plugin configurations are not followed there)"
            files.append(target)
            why = _plugin_config_files(directory, target, files)
            if why:
                return why
        for entry in _dicts(data.get(key)):  # an inline plugin configuration
            _file_values(directory, entry, files)
    for key in ("patchesStrategicMerge",):
        for entry in _strings(data.get(key)):
            if "\n" not in entry:  # else an inline patch
                files.append(local(entry))
    for key in ("patches", "patchesJson6902", "replacements"):
        for entry in _dicts(data.get(key)):
            if isinstance(entry.get("path"), str):
                files.append(local(entry["path"]))
    for key in ("configMapGenerator", "secretGenerator"):
        for entry in _dicts(data.get(key)):
            _file_values(directory, entry, files)
    for key in ("configurations", "crds"):
        files.extend(local(entry) for entry in _strings(data.get(key)))
    openapi = data.get("openapi")
    if isinstance(openapi, dict) and isinstance(openapi.get("path"), str):
        files.append(local(openapi["path"]))
    if data.get("helmCharts") or data.get("helmGlobals") or data.get("helmChartInflationGenerator"):
        return "helm charts (refused by the render)"
    return None


def _file_values(directory: Path, config: dict[str, Any], files: list[Path]) -> None:
    """Files a generator entry or plugin configuration names (``key=path`` or ``path``)."""
    stack: list[Any] = [config]
    budget = 10_000
    while stack and budget > 0:
        budget -= 1
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key in _FILE_KEYS:
                    for entry in _strings(value):
                        files.append(Path(os.path.normpath(directory / entry.split("=", 1)[-1])))
                elif isinstance(value, dict | list):
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, dict | list))


def _plugin_config_files(directory: Path, config: Path, files: list[Path]) -> str | None:
    """Files that a builtin plugin configuration file names (paths relative to the kustomization)."""
    found = _hash(config)
    if isinstance(found, str):
        return found
    if found[0] in ("missing", "directory"):
        return None
    try:
        with open(config, encoding="utf-8") as fh:
            docs = yamlio.load_all(fh)
    except (OSError, UnicodeDecodeError, *yamlio.ERRORS):
        return "a plugin configuration does not parse"
    for doc in docs:
        if isinstance(doc, dict):
            _file_values(directory, doc, files)
    return None
