"""Data types shared by the renderer, the rules and the reporters."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from typing import Any

# Target Kubernetes version when neither --kube-version nor the config names one.
DEFAULT_KUBE_VERSION = "1.35"


class PolicycheckError(Exception):
    """A usage, configuration, render or tool error: one line for stderr, exit code 2."""


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"

    @property
    def rank(self) -> int:
        return 2 if self is Severity.ERROR else 1


@dataclass(frozen=True)
class Source:
    """Where a rendered object (or one of its fields) was written."""

    file: str
    line: int

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line}


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

    @property
    def kind(self) -> str:
        return str(self.doc.get("kind", ""))

    @property
    def api_version(self) -> str:
        return str(self.doc.get("apiVersion", ""))

    @property
    def metadata(self) -> dict[str, Any]:
        meta = self.doc.get("metadata")
        return meta if isinstance(meta, dict) else {}

    @property
    def name(self) -> str:
        return str(self.metadata.get("name", ""))

    @property
    def namespace(self) -> str | None:
        ns = self.metadata.get("namespace")
        return str(ns) if ns is not None else None

    @property
    def annotations(self) -> dict[str, str]:
        ann = self.metadata.get("annotations")
        return ann if isinstance(ann, dict) else {}

    @property
    def labels(self) -> dict[str, str]:
        lab = self.metadata.get("labels")
        return lab if isinstance(lab, dict) else {}

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
