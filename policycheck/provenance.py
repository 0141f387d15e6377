"""file:line of a rendered object, and of one of its fields, in the file that
wrote it.

The object comes from kustomize's origin annotation (see render.py). The
field line is found by walking the source document's YAML nodes along the
finding's field path; list items that have a ``name`` (containers, env,
ports, volumes) are matched by name, not position, so a patch that reorders
or prepends items does not shift the answer. A field that the origin file
does not write (set by a patch or a transformer) points at the object's
first line: never at a guessed line.

A JSON 6902 patch addresses list items by position, and its operations move
the items after the one they insert (`add` at an index or `-`, `copy`,
`move`) or take out (`remove`, `move`'s `from`). The finding's field is
followed back through every operation, last applied first (see _Pointer):
an operation that writes the field or one of its parents is its setter (the
line in its `value:` that holds the field, else the operation's entry); an
operation elsewhere in the same list only shifts the position the field had
before it, so a field no operation writes keeps its base file's line. An
item a patch inserted has no line in the files before that patch.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Any

import yaml

from policycheck import yamlio
from policycheck.model import K8sObject, Source
from policycheck.names import source_names
from policycheck.rules._images import parse as parse_image

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


def _documents(path: str) -> tuple[yaml.Node, ...]:
    """The YAML node trees of a file, read once per process (keyed by absolute path)."""
    return _documents_at(os.path.abspath(path))


@functools.lru_cache(maxsize=4096)
def _documents_at(path: str) -> tuple[yaml.Node, ...]:
    try:
        with open(path, encoding="utf-8") as fh:
            return _compose_text(fh)
    except (OSError, UnicodeDecodeError):
        return ()


def _get(node: yaml.Node, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return k, v
    return None


def _scalar(node: yaml.Node | None) -> str | None:
    return node.value if isinstance(node, yaml.ScalarNode) else None


def _is_file(path: str) -> bool:
    return _is_file_at(os.path.abspath(path))


@functools.lru_cache(maxsize=4096)
def _is_file_at(path: str) -> bool:
    return Path(path).is_file()


def _document_index(path: str) -> tuple[dict[tuple[str, str], list[tuple[str | None, _Doc]]],
                                        dict[str, list[_Doc]]]:
    return _document_index_at(os.path.abspath(path))


class _Doc:
    """One document of a resource file; its node tree is composed when first asked for, and
    of a big document only the top-level entry a finding's field is under. ``text`` is the
    document alone and ``line`` the file line it starts on: node lines are shifted by it."""

    __slots__ = ("_text", "_line", "_node", "_heads")

    def __init__(self, text: str | None = None, node: yaml.Node | None = None, line: int = 0) -> None:
        self._text, self._line, self._node = text, line, node
        self._heads: dict[str, yaml.Node | None] = {}

    def _compose(self, text: str, line: int) -> yaml.Node | None:
        nodes = _compose_text(text)
        return _shift(nodes[0], line) if nodes else None

    @property
    def node(self) -> yaml.Node | None:
        if self._node is None and self._text is not None:
            self._node, self._text = self._compose(self._text, self._line), None
        return self._node

    def head(self, key: str) -> yaml.Node | None:
        """A tree with only the top-level entry ``key`` (at its own lines), else the whole document."""
        if self._text is None or len(self._text) < LAZY_BYTES // 4:
            return self.node
        if key not in self._heads:
            self._heads[key] = self._compose_entry(key)
        return self._heads[key] or self.node

    def _compose_entry(self, key: str) -> yaml.Node | None:
        text = self._text or ""
        starts = [m.start() for m in re.finditer(rf"^{re.escape(key)}:(?=[ \t]|$)", text, re.M)]
        if len(starts) != 1:
            return None
        nxt = re.compile(r"^[^\s#]", re.M).search(text, text.find("\n", starts[0]) + 1 or len(text))
        node = self._compose(text[starts[0]:nxt.start() if nxt else len(text)],
                             self._line + text.count("\n", 0, starts[0]))
        return node if isinstance(node, yaml.MappingNode) else None

    def start_line(self) -> int:
        """The line (0-based) the document's root starts on."""
        if self._node is None and self._text is not None:
            first = re.compile(r"^[^\s#%]", re.M).search(self._text)
            directive = re.compile(r"^%", re.M).search(self._text)
            if first and not directive:
                return self._line + self._text.count("\n", 0, first.start())
        node = self.node
        return node.start_mark.line if node is not None else 0


# Files larger than this are indexed by a scan of their documents' top lines, and only the
# documents a finding points into are composed (composing 4 MB of CRDs takes about a second).
LAZY_BYTES = 256 * 1024
LAZY_DOCUMENT_BYTES = 32 * 1024  # (on average)


@functools.lru_cache(maxsize=4096)
def _document_index_at(path: str) -> tuple[dict[tuple[str, str], list[tuple[str | None, _Doc]]],
                                           dict[str, list[_Doc]]]:
    """(kind, name) -> [(namespace, document)], and kind -> its documents, of one file."""
    by_name: dict[tuple[str, str], list[tuple[str | None, _Doc]]] = {}
    by_kind: dict[str, list[_Doc]] = {}
    for kind_text, name_text, namespace, doc in _index_entries(path):
        if kind_text is None:
            continue
        by_kind.setdefault(kind_text, []).append(doc)
        if name_text is not None:
            by_name.setdefault((kind_text, name_text), []).append((namespace, doc))
    return by_name, by_kind


def _index_entries(path: str) -> list[tuple[str | None, str | None, str | None, _Doc]]:
    try:
        big = os.path.getsize(path) > LAZY_BYTES
    except OSError:
        big = False
    text = None
    if big:
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except (OSError, UnicodeDecodeError):
            return []
        # Only big documents are worth composing one by one: a file of many small ones (4,000
        # ConfigMaps) is composed in one go.
        separators = list(yamlio.SEPARATOR.finditer(text))
        if len(text) < LAZY_DOCUMENT_BYTES * (1 + len(separators)) or not yamlio.separators_plain(text):
            text = None
    if text is None:
        return [(*_node_identity(doc), _Doc(node=doc)) for doc in _documents(path)]
    entries = []
    starts = [0, *(m.end() + 1 for m in separators)]
    ends = [m.start() for m in separators] + [len(text)]
    line = 0
    for start, end in zip(starts, ends, strict=False):
        chunk = text[start:end] if start <= end else ""
        first_line = line
        line += text.count("\n", start, end) + 1
        if not chunk.strip() or all(ln.lstrip().startswith("#") for ln in chunk.splitlines() if ln.strip()):
            continue
        identity = yamlio.scan_identity(chunk)
        doc = _Doc(text=chunk, line=first_line)
        if identity is None:  # not the plain block style the scan reads: compose it now
            node = doc.node
            if node is None:
                continue
            identity = _node_identity(node)
        entries.append((*identity, doc))
    return entries


def _node_identity(doc: yaml.Node) -> tuple[str | None, str | None, str | None]:
    kind = _get(doc, "kind")
    kind_text = _scalar(kind[1]) if kind else None
    meta = _get(doc, "metadata")
    name = _get(meta[1], "name") if meta else None
    namespace = _get(meta[1], "namespace") if meta else None
    return kind_text, _scalar(name[1]) if name else None, _scalar(namespace[1]) if namespace else None


def _find_document(path: str, obj: K8sObject) -> _Doc | None:
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


def _walk(doc: yaml.Node, rendered: Any, steps: list[str | int], partial: bool = False,
          positions: list[str | int] | None = None) -> yaml.Node | None:
    """The node at ``steps``; with ``partial``, the deepest one that exists on the way.
    ``positions``: the list positions the items had in ``doc`` (``steps`` as a _Pointer
    followed them back through JSON 6902 operations), where they differ from the rendered ones."""
    node, value = doc, rendered
    target: yaml.Node | None = None
    for i, step in enumerate(steps):
        if isinstance(step, int):
            if not isinstance(node, yaml.SequenceNode) or not isinstance(value, list) or step >= len(value):
                return target if partial else None
            item = value[step]
            at = positions[i] if positions is not None and i < len(positions) else step
            at = at if isinstance(at, int) else step
            name = item.get("name") if isinstance(item, dict) else None
            match = None
            if name is not None:
                named = [c for c in node.value if (hit := _get(c, "name")) and _scalar(hit[1]) == str(name)]
                if len(named) > 1 and at < len(node.value) and node.value[at] in named:
                    match = node.value[at]  # items that share a name (a duplicate env var): by position
                elif named:
                    match = named[0]
            elif at < len(node.value):
                match = node.value[at]
            if match is None:
                return target if partial else None
            node, value, target = match, item, match
        else:
            hit = _get(node, step)
            if hit is None:
                return target if partial else None
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
    """Where a finding on ``obj`` (at ``field``) was written, if known: the
    line that set the field last (an overlay's patch, `images:` entry, ...),
    with ``via`` the chain from the base; else the base's line of the field;
    for a missing field, the line of its nearest parent (the container or
    object that lacks it)."""
    try:
        later, pointer = _setters(obj, field)
    except (yaml.YAMLError, ValueError, TypeError, AttributeError, RecursionError):
        later, pointer = [], None  # provenance is best effort; the base line stands
    if pointer is not None and pointer.lost and later:
        # (positions were not followed back: the base file's line would be a guess)
        final, *outer_to_inner = later
        return Source(final.file, final.line, tuple(reversed(outer_to_inner)))
    base = _base_source(obj, field, pointer)
    if base is None:
        return None
    if not later:
        return base
    final, *outer_to_inner = later
    chain = tuple([base, *reversed(outer_to_inner)])
    return Source(final.file, final.line, chain)


def _base_source(obj: K8sObject, field: str | None, pointer: _Pointer | None = None) -> Source | None:
    """The origin file's line of ``field``; ``pointer``: the field followed back to the origin file's
    list positions (an item a JSON 6902 patch inserted: the list it went into)."""
    if not obj.origin:
        return None
    if "//" in obj.origin or not _is_file(obj.origin):
        return Source(obj.origin, 1)
    if obj.generated_by:
        return _generator_source(obj, field)
    doc = _find_document(obj.origin, obj)
    if doc is None:
        return Source(obj.origin, 1)
    if field:
        steps, positions = parse_field(field), None
        if pointer is not None:
            steps = steps[:pointer.created] if pointer.created is not None else steps
            positions = pointer.at[:len(steps)]
        root = doc.head(steps[0]) if steps and isinstance(steps[0], str) else doc.node
        node = _walk(root, obj.doc, steps, partial=True, positions=positions) if root is not None and steps else None
        if node is not None:
            return Source(obj.origin, node.start_mark.line + 1)
    return Source(obj.origin, doc.start_line() + 1)


# -- provenance through overlays ----------------------------------------------------------------------------------
#
# An object is written in a base file and then changed by the kustomizations
# it passes through on its way to the overlay: patches (strategic merge or
# JSON 6902, in files or inline, in the kustomization or in a component),
# `images:`, `replicas:`, `namespace:`, `labels:`/`commonLabels:`. The setter
# of a field is the outermost of those that writes it (it is applied last).


def _compose_text(text: Any) -> tuple[yaml.Node, ...]:
    """The node trees of YAML text or a stream (none if it does not parse)."""
    try:
        return tuple(yamlio.compose_nodes(text))
    except yamlio.ERRORS:
        return ()


def _items(node: yaml.Node | None, key: str) -> list[yaml.Node]:
    """The item nodes of the list under ``key`` of a mapping node (none if it is not a list)."""
    hit = _get(node, key) if node is not None else None
    return list(hit[1].value) if hit and isinstance(hit[1], yaml.SequenceNode) else []


def _patch_documents(directory: Path, entry_node: yaml.Node | None, entry: Any, kfile: str
                     ) -> list[tuple[str, yaml.Node]]:
    """(file, document node) of one `patches:` entry, inline patches with their real lines."""
    if isinstance(entry, str):  # patchesStrategicMerge: a file
        path = Path(os.path.relpath(directory / entry)).as_posix()
        return [(path, d) for d in _documents(path)]
    if not isinstance(entry, dict):
        return []
    if isinstance(entry.get("path"), str):
        path = Path(os.path.relpath(directory / entry["path"])).as_posix()
        return [(path, d) for d in _documents(path)]
    if isinstance(entry.get("patch"), str) and entry_node is not None:
        hit = _get(entry_node, "patch")
        if hit is None:
            return []
        value = hit[1]
        docs = _compose_text(entry["patch"])
        if getattr(value, "style", None) == "|":  # a literal block: its lines are the patch's lines, one below
            return [(kfile, _shift(d, value.start_mark.line + 1)) for d in docs]
        # Folded, quoted or plain text joins and splits lines: every line of it is the `patch:` key's.
        return [(kfile, _pin(d, hit[0].start_mark.line)) for d in docs]
    return []


def _pin(node: yaml.Node, line: int) -> yaml.Node:
    """``node`` with every line mark at ``line`` (0-based)."""
    return _shift(node, 0, pin=line)


def _shift(node: yaml.Node, offset: int, pin: int | None = None) -> yaml.Node:
    """``node`` with every line mark moved down by ``offset`` (or set to ``pin``), each node
    once (an alias shares one), however many nodes it has."""
    seen: set[int] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        mark = n.start_mark
        n.start_mark = yaml.Mark(mark.name, mark.index, mark.line + offset if pin is None else pin, mark.column,
                                 None, None)
        if isinstance(n, yaml.MappingNode):
            stack.extend(item for pair in n.value for item in pair)
        elif isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)
    return node


def _targets(target: Any, obj: K8sObject, names: set[str]) -> bool:
    """A patch `target:` selector against the object (kind, name regex, namespace, simple label selector)."""
    if not isinstance(target, dict):
        return True
    if isinstance(target.get("kind"), str) and target["kind"] != obj.kind:
        return False
    name = target.get("name")
    if isinstance(name, str) and not any(_name_matches(name, n) for n in names):
        return False
    ns = target.get("namespace")
    if isinstance(ns, str) and obj.namespace not in (ns, None):
        return False
    selector = target.get("labelSelector")
    if isinstance(selector, str):
        for term in selector.split(","):
            key, _, value = term.partition("=")
            if obj.labels.get(key.strip()) != value.strip():
                return False
    return True


_REGEX_META = set(".^$*+?{}[]()|\\")


def _name_matches(pattern: str, name: str) -> bool:
    r"""A patch target's name (kustomize reads it as a regular expression) against a name, in linear time.

    Python's backtracking `re` would hang on a crafted pattern such as
    `(a|aa)*b` from an untrusted pull request, so only what targets use in
    practice is matched: a plain name, and literals joined by `.*` (with
    optional `^`/`$` and escaped `\.`/`\-`). Any other pattern matches
    nothing here: the finding then points at the base's line, never at a
    guessed patch.
    """
    if not _REGEX_META & set(pattern):
        return pattern == name
    body = pattern.removeprefix("^").removesuffix("$")
    parts = [p.replace("\\.", ".").replace("\\-", "-") for p in body.split(".*")]
    if any(_REGEX_META & set(p.replace(".", "")) or "\\" in p for p in parts) or any(
            "." in raw.replace("\\.", "") for raw in body.split(".*")):
        return False
    if len(parts) == 1:
        return parts[0] == name
    first, *middle, last = parts
    if not name.startswith(first) or not name.endswith(last) or len(name) < len(first) + len(last):
        return False
    at, end = len(first), len(name) - len(last)
    for part in middle:
        found = name.find(part, at, end)
        if found < 0:
            return False
        at = found + len(part)
    return True


class _Op:
    """One JSON 6902 operation: its verb, `path` and `from` as pointer segments, `value` node and line."""

    __slots__ = ("verb", "path", "source", "value", "line")

    def __init__(self, verb: str, path: tuple[str, ...], source: tuple[str, ...] | None, value: yaml.Node | None,
                 line: int) -> None:
        self.verb, self.path, self.source, self.value, self.line = verb, path, source, value, line


_VERBS = ("add", "remove", "replace", "move", "copy")
# A list index as a JSON pointer writes it (no leading zero), short enough for int() on any input.
_INDEX = re.compile(r"0|[1-9][0-9]{0,17}")


def _segments(node: yaml.Node | None) -> tuple[str, ...] | None:
    """A JSON pointer (`/rules/0/verbs`, `~1` for `/`, `~0` for `~`) as its segments; None if it is not one."""
    text = _scalar(node)
    if text is None or (text and not text.startswith("/")):
        return None
    return tuple(s.replace("~1", "/").replace("~0", "~") for s in text[1:].split("/")) if text else ()


def _json6902_ops(doc: yaml.Node) -> list[_Op]:
    """The operations of a JSON 6902 patch, in the order they apply (`test`, and an operation
    kustomize would refuse, change nothing)."""
    ops = []
    for node in doc.value if isinstance(doc, yaml.SequenceNode) else []:
        verb = _get(node, "op")
        verb_text = _scalar(verb[1]) if verb else None
        path = _get(node, "path")
        segments = _segments(path[1]) if path else None
        if verb_text not in _VERBS or segments is None:
            continue
        source = None
        if verb_text in ("move", "copy"):
            source_hit = _get(node, "from")
            source = _segments(source_hit[1]) if source_hit else None
            if source is None:
                continue
        value = _get(node, "value") if verb_text in ("add", "replace") else None
        ops.append(_Op(verb_text, segments, source, value[1] if value else None, node.start_mark.line + 1))
    return ops


# JSON 6902 operations undone per kustomization tree, all findings together (about a second of work):
# a hostile patch of thousands of operations, each adding an item with a finding, would otherwise
# cost findings x operations. Past it, a finding on the patched object points at the patch.
UNDO_BUDGET = 2_000_000


class _Pointer:
    """A finding's field followed back through JSON 6902 operations, the last applied first.

    ``steps`` are the field's steps in the rendered object; ``at`` the same steps with the list
    positions the items had before the operations undone so far; ``lengths`` (by step index) the
    length each of those lists had then (an `add` at `-` appends at that length); ``created`` the
    step index of a list item an operation inserted: before that operation the field did not
    exist, so nothing earlier sets it. Each operation costs one pass over the field's steps.
    ``lost``: the operations were not followed (UNDO_BUDGET); the patch stands for the field.
    """

    __slots__ = ("steps", "at", "lengths", "created", "lost")

    def __init__(self, steps: list[str | int], rendered: Any) -> None:
        self.steps, self.at = steps, list(steps)
        self.lengths: dict[int, int | None] = {}
        self.created: int | None = None
        self.lost = False  # the tree's budget of undone operations ran out (UNDO_BUDGET)
        node = rendered
        for i, step in enumerate(steps):
            if isinstance(step, int):
                self.lengths[i] = len(node) if isinstance(node, list) else None
                node = node[step] if isinstance(node, list) and step < len(node) else None
            else:
                node = node.get(step) if isinstance(node, dict) else None

    def _prefix(self, path: tuple[str, ...]) -> bool:
        return len(path) <= len(self.at) and all(str(a) == p for a, p in zip(self.at, path, strict=False))

    def _item(self, path: tuple[str, ...]) -> int | None:
        """The step index of the list ``path`` names an item of, if that list is one the field is in."""
        depth = len(path) - 1
        if depth < 0 or depth >= len(self.at) or not isinstance(self.at[depth], int) or not self._prefix(path[:-1]):
            return None
        return depth

    def undo(self, op: _Op) -> bool:
        """Go back to before ``op``; whether ``op`` wrote the field or one of its parents."""
        if self.created is not None:
            return False
        if op.verb == "remove":
            self._undo_remove(op.path)
            return False
        if op.verb == "replace":
            return self._prefix(op.path)
        if self._undo_insert(op.path):  # add, copy, move: a value lands at the path
            return True
        if op.verb == "move" and op.source is not None:  # (taken out first, then put at the path)
            self._undo_remove(op.source)
        return False

    def _undo_insert(self, path: tuple[str, ...]) -> bool:
        depth = self._item(path)
        if depth is None:  # a mapping's member (which `add` sets whether or not it was there), or elsewhere
            return self._prefix(path)
        length = self.lengths.get(depth)
        if path[-1] == "-":
            index = length - 1 if length else None
        else:
            index = int(path[-1]) if _INDEX.fullmatch(path[-1]) else None
        current = self.at[depth]
        if index is None or not isinstance(current, int):
            return False
        if current == index:
            self.created = depth
            return True
        if current > index:
            self.at[depth] = current - 1
        if length:
            self.lengths[depth] = length - 1
        return False

    def _undo_remove(self, path: tuple[str, ...]) -> None:
        depth = self._item(path)
        current = self.at[depth] if depth is not None else None
        if depth is None or not isinstance(current, int) or not _INDEX.fullmatch(path[-1]):
            return
        if current >= int(path[-1]):
            self.at[depth] = current + 1
        length = self.lengths.get(depth)
        if length is not None:
            self.lengths[depth] = length + 1

    def line_in(self, op: _Op, rendered: Any) -> int:
        """The line of ``op`` (which writes the field) that holds the field: in its `value:` when
        the field is under the path, else the operation's first line."""
        depth = len(op.path)
        if op.value is not None and depth < len(self.at):
            node = _walk(op.value, _value_at(rendered, self.steps[:depth]), self.steps[depth:], partial=True,
                         positions=self.at[depth:])
            if node is not None:
                return node.start_mark.line + 1
        return op.line


def _patch_setter(file: str, doc: yaml.Node, ops: list[_Op] | None, want: tuple[K8sObject, _Pointer, set[str]],
                  target: Any, *, follow_only: bool = False) -> Source | None:
    """The line of one patch document that writes the field, if it does. A JSON 6902 patch's
    operations are all undone on ``pointer`` (also with ``follow_only``: a later patch set the field)."""
    obj, pointer, names = want
    if ops is not None:  # JSON 6902 operations
        if target is None or not _targets(target, obj, names):
            return None
        tree = obj.tree
        if tree.provenance_undone + len(ops) > UNDO_BUDGET:
            # Following every finding through every operation costs findings x operations: past the
            # tree's budget the patch itself stands for the field, and nothing further in is searched.
            pointer.lost = True
            return None if follow_only else Source(file, ops[0].line if ops else 1)
        tree.provenance_undone += len(ops)
        found = None
        for op in reversed(ops):
            if pointer.undo(op) and found is None and not follow_only:
                found = Source(file, pointer.line_in(op, obj.doc))
            if pointer.created is not None:
                break
        return found
    if follow_only:
        return None
    kind = _get(doc, "kind")
    meta = _get(doc, "metadata")
    name = _get(meta[1], "name") if meta else None
    if target is not None and not _targets(target, obj, names):
        return None
    if target is None and ((_scalar(kind[1]) if kind else None) != obj.kind
                           or (_scalar(name[1]) if name else None) not in names):
        return None
    node = _walk(doc, obj.doc, pointer.steps, positions=pointer.at)
    return Source(file, node.start_mark.line + 1) if node is not None else None


def _entry_line(node: yaml.Node | None, *keys: str) -> int | None:
    if node is None:
        return None
    for key in keys:
        hit = _get(node, key)
        if hit:
            return hit[0].start_mark.line + 1
    return node.start_mark.line + 1


_Patches = list[tuple[Any, list[tuple[str, yaml.Node, list[_Op] | None]]]]


def _level(tree: Any, directory: Path) -> tuple[str, yaml.Node | None, dict[str, Any], _Patches]:
    """One kustomization of the tree, read once per render: its file, node, data and patches
    (target, [(file, document, its JSON 6902 operations or None)]) in the order they apply, last first."""
    cache = tree.provenance_cache
    if directory in cache:
        return cache[directory]
    kfile, data = tree.kustomizations.get(directory, ("", {}))
    docs = _documents(kfile) if kfile else ()
    root = docs[0] if docs else None
    patches: _Patches = []
    for key in ("patches", "patchesJson6902", "patchesStrategicMerge"):
        entries = data.get(key) if isinstance(data.get(key), list) else []
        nodes = _items(root, key)
        for i, entry in enumerate(entries):
            target = entry.get("target") if isinstance(entry, dict) else None
            documents = _patch_documents(directory, nodes[i] if i < len(nodes) else None, entry, kfile)
            patches.append((target, [(file, doc, _json6902_ops(doc) if isinstance(doc, yaml.SequenceNode) else None)
                                     for file, doc in reversed(documents)]))
    cache[directory] = (kfile, root, data, list(reversed(patches)))
    return cache[directory]


def _level_setter(directory: Path, obj: K8sObject, pointer: _Pointer, names: set[str],
                  images: dict[Path, yaml.Node] | None = None) -> Source | None:
    """The line of this kustomization that sets ``field`` of ``obj``, if it does; ``pointer`` is
    followed back through all its JSON 6902 operations. ``images``: the `images:` entry of each
    kustomization that renamed or retagged this image (see _image_entries), when the image the
    source file wrote is known."""
    kfile, root, data, patches = _level(obj.tree, directory)
    steps, entry = pointer.steps, list(pointer.at)
    found = None
    for target, documents in patches:  # the last listed applied last
        for file, doc, ops in documents:
            hit = _patch_setter(file, doc, ops, (obj, pointer, names), target, follow_only=found is not None)
            found = found or hit
    if found or root is None:
        return found
    found = _replacement_setter(root, data, (obj, entry, names), kfile)
    if found:
        return found
    last = steps[-1] if steps else None
    if last == "image" and images is not None:
        node = images.get(directory)
        return Source(kfile, _entry_line(node, "digest", "newTag", "newName") or 1) if node is not None else None
    if last == "image" and isinstance(data.get("images"), list):
        repo = parse_image(str(_value_at(obj.doc, steps) or "")).repository
        for entry, node in zip(data["images"], _items(root, "images"), strict=False):
            if isinstance(entry, dict) and repo in (entry.get("name"), entry.get("newName")):
                return Source(kfile, _entry_line(node, "digest", "newTag", "newName") or 1)
    if steps == ["spec", "replicas"] and isinstance(data.get("replicas"), list):
        for entry, node in zip(data["replicas"], _items(root, "replicas"), strict=False):
            if isinstance(entry, dict) and entry.get("name") in names:
                return Source(kfile, _entry_line(node, "count") or 1)
    if steps == ["metadata", "namespace"] and _get(root, "namespace"):
        return Source(kfile, _get(root, "namespace")[0].start_mark.line + 1)  # type: ignore[index]
    if len(steps) >= 2 and steps[-2] == "labels" and isinstance(last, str):
        for key in ("labels", "commonLabels"):
            hit = _get(root, key)
            if hit is None:
                continue
            blocks = hit[1].value if isinstance(hit[1], yaml.SequenceNode) else [hit[1]]
            for block in blocks:
                pairs = _get(block, "pairs") if key == "labels" else (None, block)
                found = _get(pairs[1], last) if pairs and pairs[1] is not None else None
                if found:
                    return Source(kfile, found[0].start_mark.line + 1)
    return None


def _field_path_steps(path: str, doc: Any) -> list[str | int] | None:
    """A kustomize fieldPath (`spec.rules.0.host`, `spec.containers.[name=web].image`) as steps into ``doc``."""
    steps: list[str | int] = []
    node = doc
    for part in re.findall(r"\[[^\]]*\]|[^.]+", path):
        if part.startswith("[") and "=" in part:
            key, _, value = part[1:-1].partition("=")
            items = node if isinstance(node, list) else []
            index = next((i for i, item in enumerate(items) if isinstance(item, dict) and str(item.get(key)) == value),
                         None)
            if index is None:
                return None
            steps.append(index)
            node = items[index]
        elif part.isdigit():
            steps.append(int(part))
            node = node[int(part)] if isinstance(node, list) and int(part) < len(node) else None
        else:
            steps.append(part)
            node = node.get(part) if isinstance(node, dict) else None
    return steps


def _replacement_setter(root: yaml.Node, data: dict[str, Any], want: tuple[K8sObject, list[str | int], set[str]],
                        kfile: str) -> Source | None:
    obj, steps, names = want
    replacements = data.get("replacements") if isinstance(data.get("replacements"), list) else []
    for replacement, node in zip(replacements, _items(root, "replacements"), strict=False):
        targets = replacement.get("targets") if isinstance(replacement, dict) else None
        for target, target_node in zip(targets if isinstance(targets, list) else [], _items(node, "targets"),
                                       strict=False):
            if not isinstance(target, dict) or not _targets(target.get("select"), obj, names):
                continue
            paths = target.get("fieldPaths") if isinstance(target.get("fieldPaths"), list) else []
            for path, path_node in zip(paths, _items(target_node, "fieldPaths"), strict=False):
                if isinstance(path, str) and _field_path_steps(path, obj.doc) == steps:
                    return Source(kfile, path_node.start_mark.line + 1)
    return None


def _value_at(doc: Any, steps: list[str | int]) -> Any:
    node = doc
    for step in steps:
        if isinstance(step, int):
            node = node[step] if isinstance(node, list) and step < len(node) else None
        else:
            node = node.get(step) if isinstance(node, dict) else None
    return node


def setters(obj: K8sObject, field: str | None) -> list[Source]:
    """Lines of the overlays and components that set ``field`` of ``obj``, outermost (final) first."""
    return _setters(obj, field)[0]


def _setters(obj: K8sObject, field: str | None) -> tuple[list[Source], _Pointer | None]:
    """setters(), and the field followed back to the origin file (None without overlays)."""
    tree = obj.tree
    if tree is None or not field or not obj.origin:
        return [], None
    steps = parse_field(field)
    if not steps:
        return [], None
    names = set(source_names(obj.name, tree.prefixes, tree.suffixes))
    if obj.source_name:
        names.add(obj.source_name)
    images = _image_entries(obj, steps) if steps[-1:] == ["image"] else None
    pointer = _Pointer(steps, obj.doc)
    found: list[Source] = []
    for directory in reversed(tree.chain(obj.origin)):  # outermost first
        levels = [directory, *reversed(tree.components.get(directory, []))]
        here = False
        for level in levels:  # (all of them: each one's JSON 6902 operations move list items)
            hit = _level_setter(level, obj, pointer, names, images)
            if hit and not here:
                found.append(hit)
                here = True
            if pointer.created is not None or pointer.lost:  # inserted here (or not followed): no
                return found, pointer  # kustomization further in has it
    return found, pointer


def _image_entries(obj: K8sObject, steps: list[str | int]) -> dict[Path, yaml.Node] | None:
    """The `images:` entry of each kustomization (and component) that changed the image at ``steps``,
    followed from the name the source file wrote, innermost first, the way kustomize applies them:
    each entry whose `name` is the image's name at that point retags it, and its `newName` renames
    it for the entries after it. Two containers that end up with one repository through different
    entries point at their own entries. None when the source file's image is unknown."""
    if not obj.origin or obj.generated_by or "//" in obj.origin or not _is_file(obj.origin):
        return None
    doc = _find_document(obj.origin, obj)
    root = doc.head(steps[0]) if doc is not None and isinstance(steps[0], str) else None
    parent = _walk(root, obj.doc, steps[:-1]) if root is not None else None  # (the container's node)
    hit = _get(parent, "image") if isinstance(parent, yaml.MappingNode) else None
    written = _scalar(hit[1]) if hit else None
    if written is None:
        return None
    current = parse_image(written).repository
    entries: dict[Path, yaml.Node] = {}
    for directory in obj.tree.chain(obj.origin):  # innermost first
        for level in [*obj.tree.components.get(directory, []), directory]:
            _, root_node, data, _ = _level(obj.tree, level)
            listed = data.get("images") if isinstance(data.get("images"), list) else []
            for entry, node in zip(listed, _items(root_node, "images"), strict=False):
                if isinstance(entry, dict) and entry.get("name") == current:
                    entries[level] = node
                    if isinstance(entry.get("newName"), str) and entry["newName"]:
                        current = entry["newName"]
    return entries
