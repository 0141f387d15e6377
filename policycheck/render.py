"""Render overlays with the real kustomize, safely, and keep provenance.

Safety on untrusted input:
* never pass --enable-alpha-plugins, --enable-exec or --enable-helm, and keep
  the root-only load restrictor (passed explicitly, so a kustomize whose
  default changes cannot loosen it);
* refuse remote resources/components unless the caller allows them:
  kustomize starts at once but offline (policycheck.launch), and the walk
  of the tree that runs beside it stops it with a clear message;
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

import os
import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from policycheck import launch, yamlio
from policycheck.access import type_name

# The light part lives in policycheck.launch; these names are used from here too.
from policycheck.launch import (  # noqa: F401 - re-exported
    DEFAULT_MEMORY_MIB,
    DEFAULT_TIMEOUT,
    KUSTOMIZATION_NAMES,
    Kustomize,
    _entries,
    _is_remote,
    discover,
    find_kustomize,
    kustomization_file,
    start_renders,
    trim_error,
)
from policycheck.model import MAX_DEPTH, K8sObject, PolicycheckError
from policycheck.names import source_names
from policycheck.scrub import SecretValues

ORIGIN_ANNOTATION = "config.kubernetes.io/origin"



def overlay_object(overlay: str) -> K8sObject:
    """A stand-in object for findings about an overlay as a whole (its kustomization file)."""
    kfile = kustomization_file(Path(overlay))
    origin = Path(os.path.relpath(kfile)).as_posix() if kfile else None
    return K8sObject({"kind": "Kustomization", "metadata": {"name": overlay}}, overlay, origin)


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
        self.provenance_undone = 0  # JSON 6902 operations undone so far (provenance.UNDO_BUDGET)

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
    """A regular file's text, up to READ_LIMIT (a FIFO or device is never opened: it could block)."""
    try:
        if not path.is_file():
            return None
        with open(path, encoding="utf-8") as fh:
            return fh.read(READ_LIMIT)
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def _index_resource_file(path: Path, index: OriginIndex, secrets: SecretValues | None = None) -> None:
    text = _read_text(path)
    if text is None:
        return
    rel = Path(os.path.relpath(path)).as_posix()
    # Only kind, name and namespace are needed: read from the documents' lines when they are
    # written plainly (most are), parsed otherwise.
    scanned = yamlio.scan_identities(text)
    if scanned is not None:
        for kind, name, namespace in scanned:
            index.add(kind, name or "", rel, namespace=namespace)
    else:
        try:
            docs = yamlio.load_all_fast(text)
        except yamlio.ERRORS:
            docs = []  # kustomize reports it
        for doc in docs:
            if isinstance(doc, dict) and isinstance(doc.get("metadata"), dict):
                ns = doc["metadata"].get("namespace")
                index.add(str(doc.get("kind", "")), str(doc["metadata"].get("name", "")), rel,
                          namespace=ns if isinstance(ns, str) else None)
    if secrets is not None:
        # Read again if something is ever scrubbed, rather than kept in memory until then.
        secrets.defer(lambda: _scan_file(path, secrets), source=True)


def _scan_file(path: Path, secrets: SecretValues) -> None:
    """Every value of a resource or patch file that no output may show."""
    text = _read_text(path)
    depths: list[int] = []
    try:
        docs = yamlio.load_all_fast(text, depths) if text is not None else []
    except yamlio.ERRORS:
        return
    tree = yamlio.alias_free(docs, depths)
    for doc in docs:
        if isinstance(doc, dict):
            secrets.add_object(doc, tree=tree)


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
            secrets.defer(lambda path=directory / patch["path"]: _scan_file(path, secrets), source=True)
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
    """Refuse what the render must not do, and index where each object comes from.

    Runs while kustomize renders (offline, see policycheck.launch); a refusal
    stops that render. Walks the overlay's kustomization and every local
    base/component it includes: remote resources, exec/container functions,
    helm charts. With ``secrets``, also collects (or defers collecting) every
    value a tool error must not show.
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
            data = launch.read_kustomization(kfile)
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
    # What the render thread started right after parsing (the Rego stage's conftest),
    # or the error that stopped it: ("started", job) / ("failed", exception).
    started: tuple[str, Any] | None = None


def render(
    overlay: Path,
    kustomize: Kustomize,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    memory_mib: int = DEFAULT_MEMORY_MIB,
    allow_remote: bool = False,
    cancel: launch.Cancel | None = None,
    proc: subprocess.Popen[str] | None = None,
    started: float | None = None,
    after_parse: Callable[[], Callable[[Rendered], Any] | None] | None = None,
) -> Rendered:
    """Build one overlay and return its objects with their origins.

    kustomize starts first (offline unless remote bases are allowed); the
    walk of the kustomization tree runs while it renders, and a tree the
    walk refuses stops it. Every error message has passed the secret
    scrubber: kustomize prints whole objects (Secret data included) when it
    cannot encode one.
    """
    started = time.monotonic() if started is None else started
    name = overlay.as_posix()
    if proc is None and not overlay.is_dir():
        raise PolicycheckError(f"{name}: not a directory")
    if proc is None and kustomization_file(overlay) is None:
        raise PolicycheckError(f"{name}: no kustomization.yaml")
    cancel = cancel or launch.Cancel()
    if cancel.is_set:
        if proc is not None:
            launch.kill(proc)
        raise PolicycheckError(f"{name}: render cancelled")
    if proc is None:  # (the launcher starts it before this module is even imported)
        proc = launch.spawn(overlay, kustomize, memory_mib=memory_mib, allow_remote=allow_remote)
        cancel.attach(proc)
    secrets = SecretValues()
    try:
        index = preflight(overlay, allow_remote, secrets)
    except BaseException:
        launch.kill(proc)
        raise
    try:
        stdout = launch.finish(proc, name, timeout, memory_mib, left=timeout - (time.monotonic() - started))
        if cancel.is_set:
            raise PolicycheckError(f"{name}: render cancelled")
        objects, tree = _parse(stdout, name, overlay, index)
    except PolicycheckError as exc:
        raise PolicycheckError(secrets.scrub(str(exc))) from None
    # Rendered: what can still be scrubbed is about the objects (collected when first needed).
    secrets.forget_sources()
    out = Rendered(name, objects, secrets, time.monotonic() - started)
    hook = after_parse() if after_parse else None
    if hook is not None:
        # Straight from here: the thread that waits for this render may be busy.
        try:
            out.started = ("started", hook(out))
        except Exception as exc:  # noqa: BLE001 - the overlay's own error, raised where it is checked
            out.started = ("failed", exc)
    secrets.defer(lambda: [secrets.add_object(obj.doc, tree=tree) for obj in objects])
    return out


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


def _documents(stdout: str, depths: list[int] | None = None) -> list[Any]:
    """The rendered documents; one that cannot be read (libyaml's nesting
    limit, say) becomes a stand-in object with a parse problem, the others
    are still checked. ``depths`` gets each document's nesting depth when the
    reader could tell it."""
    try:
        return yamlio.load_all_fast(stdout, depths)
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


def _parse(stdout: str, name: str, root: Path, index: OriginIndex) -> tuple[list[K8sObject], bool]:
    """The objects, and whether the reader saw that no node of them is shared (no alias)."""
    objects: list[K8sObject] = []
    depths: list[int] = []
    docs = _documents(stdout, depths)
    tree = yamlio.alias_free(docs, depths)
    if len(depths) != len(docs):
        depths = []
    for number, doc in enumerate(docs, start=1):
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
        # (the reader measured the depth: the walk only runs to find the path of one too deep)
        obj.too_deep = depth_exceeded(doc) if not depths or depths[number - 1] > MAX_DEPTH else None
        if unreadable:
            obj.parse_problems["(object)"] = unreadable
            obj.too_deep = "(object)"  # nothing to validate or pass on: only the stand-in is known
        objects.append(obj)
    return objects, tree


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
