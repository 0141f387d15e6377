"""Data types shared by the renderer, the rules and the reporters."""

from __future__ import annotations

import dataclasses
import enum
import functools
from dataclasses import dataclass
from typing import Any

from policycheck.access import Node, Shape
from policycheck.errors import PolicycheckError  # noqa: F401 - its home is policycheck.errors

# Target Kubernetes version when neither --kube-version nor the config names one.
DEFAULT_KUBE_VERSION = "1.35"
# Deeper than this, an object is reported (field-type) instead of walked: no
# Kubernetes object needs it, and recursive tools (schema validators, YAML
# dumpers) would exhaust the stack.
MAX_DEPTH = 100


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"

    @property
    def rank(self) -> int:
        return 2 if self is Severity.ERROR else 1


@dataclass(frozen=True)
class Source:
    """Where a rendered object (or one of its fields) was written; ``via`` is
    the chain from the base definition to this, the final setter."""

    file: str
    line: int
    via: tuple[Source, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"file": self.file, "line": self.line}
        if self.via:
            out["via"] = [{"file": s.file, "line": s.line} for s in self.via]
        return out


@dataclass
class K8sObject:
    """One rendered object with the file it came from.

    ``origin`` is the source file relative to the working directory, or None
    when kustomize could not tell (then findings point at the kustomization).
    ``generated_by`` names the generator (ConfigMapGenerator, ...) for objects
    that no file spells out.
    """

    doc: dict[str, Any]
    overlay: str
    origin: str | None = None
    generated_by: str | None = None
    # Fields whose type a rule could not read (see access.py).
    shape: Shape = dataclasses.field(default_factory=Shape, repr=False, compare=False)
    # The kustomization tree it was rendered through (render.OriginIndex), for provenance.
    tree: Any = dataclasses.field(default=None, repr=False, compare=False)
    # The name the source file (or generator entry) wrote, before prefixes, suffixes and hashes.
    source_name: str | None = None
    # The path where the object nests deeper than MAX_DEPTH, if it does.
    too_deep: str | None = None
    # Problems found when the render was read (path -> problem), reported by field-type.
    parse_problems: dict[str, str] = dataclasses.field(default_factory=dict, repr=False, compare=False)

    @property
    def root(self) -> Node:
        """The whole object, for typed reads."""
        return Node(self.doc, "", self.shape)

    @functools.cached_property
    def kind(self) -> str:
        kind = self.root.str("kind")
        return kind if kind is not None else str(self.doc.get("kind") or "")

    @functools.cached_property
    def api_version(self) -> str:
        version = self.root.str("apiVersion")
        return version if version is not None else str(self.doc.get("apiVersion") or "")

    @property
    def metadata(self) -> Node:
        return self.root.map("metadata")

    @functools.cached_property
    def name(self) -> str:
        return self.metadata.str("name") or ""

    @functools.cached_property
    def namespace(self) -> str | None:
        return self.metadata.str("namespace")

    @property
    def annotations(self) -> dict[str, str]:
        return self.metadata.str_map("annotations")

    @property
    def labels(self) -> dict[str, str]:
        return self.metadata.str_map("labels")

    def ref(self) -> str:
        return f"{self.kind}/{self.name}"


@dataclass
class Finding:
    """One problem found on one object.

    ``field`` is a dotted path into the rendered object
    (``spec.template.spec.containers[0].securityContext.runAsNonRoot``).
    """

    rule: str
    severity: Severity
    obj: K8sObject
    message: str
    field: str | None = None
    container: str | None = None
    engine: str = "builtin"
    source: Source | None = None
    exempted: bool = False
    exemption: str | None = None
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)
    # With --base REF: the check at REF found it too (policycheck.baseline); it does not fail the run.
    baseline: bool = False

    def sort_key(self) -> tuple[Any, ...]:
        src = self.source
        return (
            self.obj.overlay,
            src.file if src else "",
            src.line if src else 0,
            self.rule,
            self.obj.kind,
            self.obj.name,
        )
