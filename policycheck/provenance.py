"""file:line of a rendered object, and of one of its fields, in the file that
wrote it.

The object comes from kustomize's origin annotation (see render.py). The
field line is found by walking the source document's YAML nodes along the
finding's field path; list items that have a ``name`` (containers, env,
ports, volumes) are matched by name, not position, so a patch that reorders
or prepends items does not shift the answer. A field that the origin file
does not write (set by a patch or a transformer) points at the object's
first line: never at a guessed line.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import yaml

from policycheck.model import K8sObject, Source
from policycheck.names import source_names

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STEP = re.compile(r'\.?([^.\[\]"]+)|\[(\d+)\]|\["([^"]*)"\]')
GENERATOR_KEYS = {"ConfigMapGenerator": "configMapGenerator", "SecretGenerator": "secretGenerator"}


def parse_field(path: str) -> list[str | int]:
    steps: list[str | int] = []
    for key, index, quoted in _STEP.findall(path):
        if index:
            steps.append(int(index))
        else:
            steps.append(key or quoted)
    return steps


@functools.lru_cache(maxsize=256)
def _documents(path: str) -> tuple[yaml.Node, ...]:
    try:
        with open(path, encoding="utf-8") as fh:
            return tuple(node for node in yaml.compose_all(fh, Loader=_Loader) if node is not None)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return ()


def _get(node: yaml.Node, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return k, v
    return None


def _scalar(node: yaml.Node | None) -> str | None:
    return node.value if isinstance(node, yaml.ScalarNode) else None


@functools.lru_cache(maxsize=256)
def _document_index(path: str) -> tuple[dict[tuple[str, str], list[tuple[str | None, yaml.Node]]],
                                        dict[str, list[yaml.Node]]]:
    """(kind, name) -> [(namespace, document node)], and kind -> its documents, of one file."""
    by_name: dict[tuple[str, str], list[tuple[str | None, yaml.Node]]] = {}
    by_kind: dict[str, list[yaml.Node]] = {}
    for doc in _documents(path):
        kind = _get(doc, "kind")
        kind_text = _scalar(kind[1]) if kind else None
        if kind_text is None:
            continue
        by_kind.setdefault(kind_text, []).append(doc)
        meta = _get(doc, "metadata")
        name = _get(meta[1], "name") if meta else None
        namespace = _get(meta[1], "namespace") if meta else None
        name_text = _scalar(name[1]) if name else None
        if name_text is not None:
            by_name.setdefault((kind_text, name_text), []).append((_scalar(namespace[1]) if namespace else None, doc))
    return by_name, by_kind


def _find_document(path: str, obj: K8sObject) -> yaml.Node | None:
    """The document of ``path`` that wrote ``obj``: by its source name and namespace, by index."""
    by_name, by_kind = _document_index(path)
    names = source_names(obj.name) if obj.source_name is None else iter([obj.source_name, *source_names(obj.name)])
    for name in names:
        docs = by_name.get((obj.kind, name))
        if docs:
            same = [d for ns, d in docs if ns == obj.namespace] or [d for ns, d in docs if ns is None]
            return (same or [docs[0][1]])[0]
    candidates = by_kind.get(obj.kind, [])
    return candidates[0] if len(candidates) == 1 else None


def _walk(doc: yaml.Node, rendered: Any, steps: list[str | int]) -> yaml.Node | None:
    node, value = doc, rendered
    target: yaml.Node | None = None
    for step in steps:
        if isinstance(step, int):
            if not isinstance(node, yaml.SequenceNode) or not isinstance(value, list) or step >= len(value):
                return None
            item = value[step]
            name = item.get("name") if isinstance(item, dict) else None
            match = None
            if name is not None:
                for candidate in node.value:
                    hit = _get(candidate, "name")
                    if hit and _scalar(hit[1]) == str(name):
                        match = candidate
                        break
            elif step < len(node.value):
                match = node.value[step]
            if match is None:
                return None
            node, value, target = match, item, match
        else:
            hit = _get(node, step)
            if hit is None:
                return None
            target, node = hit
            value = value.get(step) if isinstance(value, dict) else None
    return target


def _generator_source(obj: K8sObject, field: str | None) -> Source:
    path = obj.origin or ""
    docs = _documents(path)
    line = 1
    key = GENERATOR_KEYS.get(obj.generated_by or "")
    if docs and key:
        generators = _get(docs[0], key)
        if generators and isinstance(generators[1], yaml.SequenceNode):
            for entry in generators[1].value:
                name = _get(entry, "name")
                entry_name = _scalar(name[1]) if name else None
                if entry_name is not None and (entry_name == obj.source_name or (
                        obj.source_name is None and obj.name.startswith(f"{entry_name}-"))):
                    line = entry.start_mark.line + 1
                    data_key = parse_field(field)[-1] if field and field.startswith("data") else None
                    literals = _get(entry, "literals")
                    if data_key and literals and isinstance(literals[1], yaml.SequenceNode):
                        for literal in literals[1].value:
                            if str(_scalar(literal) or "").startswith(f"{data_key}="):
                                line = literal.start_mark.line + 1
                    break
        elif docs:
            line = docs[0].start_mark.line + 1
    return Source(path, line)


def locate(obj: K8sObject, field: str | None) -> Source | None:
    """Where a finding on ``obj`` (at ``field``) was written, if known."""
    if not obj.origin:
        return None
    if "//" in obj.origin or not Path(obj.origin).is_file():
        return Source(obj.origin, 1)
    if obj.generated_by:
        return _generator_source(obj, field)
    doc = _find_document(obj.origin, obj)
    if doc is None:
        return Source(obj.origin, 1)
    if field:
        node = _walk(doc, obj.doc, parse_field(field))
        if node is not None:
            return Source(obj.origin, node.start_mark.line + 1)
    return Source(obj.origin, doc.start_mark.line + 1)
