"""Read YAML the way the Kubernetes tool chain does: the YAML 1.2 core schema.

PyYAML's own loaders follow YAML 1.1, where an unquoted ``on`` is true,
``2026-02-30`` is a date (and a crash: the day is out of range), ``=`` is a
"value" tag nobody can construct and ``1:30`` is a base-60 integer. kustomize
(go-yaml v3) writes such strings back unquoted because, for it, they are
plain strings; the API server receives them as strings too. Reading them
back with YAML 1.1 rules would invent dates, booleans and tags that no
cluster ever sees.

Here only the core schema's plain scalars are typed: ``true``/``false``
(three spellings each), ``null``/``~``/empty, decimal, ``0o`` octal and
``0x`` hexadecimal integers, and floats (with ``.inf``/``.nan``).
Everything else is a string. Parsing stays on libyaml (the C scanner and
parser) when it is installed.
"""

from __future__ import annotations

import math
import re
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

try:
    from yaml.cyaml import CParser as _CParser
except ImportError:  # pragma: no cover - PyYAML without libyaml
    _CParser = None


class CoreResolver(Resolver):
    """Implicit tags of the YAML 1.2 core schema only."""

    yaml_implicit_resolvers: dict[str | None, list[tuple[str, re.Pattern[str]]]] = {}


def _add(tag: str, pattern: str, first: str) -> None:
    CoreResolver.add_implicit_resolver(tag, re.compile(pattern, re.X), list(first))


_add("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF")
_add("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""])
_add("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789")
_add("tag:yaml.org,2002:float",
     r"""^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""", "-+0123456789.")
# Merge keys (<<) are honoured by the Go YAML libraries too.
_add("tag:yaml.org,2002:merge", r"^(?:<<)$", "<")


class CoreConstructor(SafeConstructor):
    """SafeConstructor with the core schema's integer spellings."""

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        value = str(self.construct_scalar(node))
        if value.startswith("0o"):
            return int(value[2:], 8)
        if value.startswith("0x"):
            return int(value[2:], 16)
        return int(value, 10)

    def construct_yaml_bool(self, node: yaml.ScalarNode) -> bool:
        return str(self.construct_scalar(node)).lower() == "true"


CoreConstructor.add_constructor("tag:yaml.org,2002:int", CoreConstructor.construct_yaml_int)
CoreConstructor.add_constructor("tag:yaml.org,2002:bool", CoreConstructor.construct_yaml_bool)
# Explicit !!timestamp / !!binary / !!omap / !!set stay as SafeConstructor builds them;
# an explicit tag is the author's choice, not an accident of plain scalars.

if _CParser is not None:
    class CoreLoader(_CParser, CoreConstructor, CoreResolver):  # type: ignore[misc,valid-type]
        def __init__(self, stream: Any) -> None:
            _CParser.__init__(self, stream)
            CoreConstructor.__init__(self)
            CoreResolver.__init__(self)
else:  # pragma: no cover - PyYAML without libyaml
    from yaml.composer import Composer
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class CoreLoader(Reader, Scanner, Parser, Composer, CoreConstructor, CoreResolver):  # type: ignore[no-redef]
        def __init__(self, stream: Any) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)
            Composer.__init__(self)
            CoreConstructor.__init__(self)
            CoreResolver.__init__(self)


# What reading untrusted YAML can raise besides a syntax error: a constructor's
# ValueError (`!!int abc`), a TypeError (an unhashable key), a RecursionError.
ERRORS = (yaml.YAMLError, ValueError, TypeError, RecursionError)


def load(stream: Any) -> Any:
    """One document, core schema."""
    return yaml.load(stream, Loader=CoreLoader)  # noqa: S506 - a safe constructor


def load_fast(text: str) -> Any:
    """``load`` of a text, through ``load_all_fast`` when it holds one document (else
    ``load`` itself, for its error or its None)."""
    docs = load_all_fast(text)
    return docs[0] if len(docs) == 1 else load(text)


def load_all(stream: Any) -> list[Any]:
    """Every document, core schema."""
    return list(yaml.load_all(stream, Loader=CoreLoader))  # noqa: S506 - a safe constructor


def load_all_fast(text: str, depths: list[int] | None = None) -> list[Any]:
    """``load_all``, about twice as fast: objects are built straight from libyaml's
    events instead of through PyYAML's node graph and constructors.

    Only the plain YAML that renders are made of takes this path: any explicit
    tag, merge key, complex key or alias to an unfinished node sends the whole
    stream through ``load_all`` instead, so the result (or the error) is always
    exactly what ``load_all`` gives.

    With ``depths``, the event path also appends each document's nesting depth
    (the root mapping is 0; a huge number for a document with aliases, whose
    depth only a walk can tell); it stays empty when the stream took the other path.
    """
    if _CParser is None:  # pragma: no cover - PyYAML without libyaml
        return load_all(text)
    found: list[int] = []
    try:
        docs = _from_events(_CParser(text), found)
    except _Unusual:
        return load_all(text)
    if depths is not None:
        depths.extend(found)
    return docs


def alias_free(docs: list[Any], depths: list[int]) -> bool:
    """Whether ``load_all_fast`` read ``docs`` on its event path and met no alias there: then
    no dict or list in them is shared (a walk may write each out without blowing up)."""
    return len(depths) == len(docs) and all(d < UNKNOWN_DEPTH for d in depths)


class _Unusual(Exception):
    """Something the event path leaves to PyYAML's constructors."""


_EVENTS = yaml.events


def plain_scalar(value: str) -> Any:
    """What a plain (unquoted) scalar is in the core schema: a bool, None, a number or a string."""
    try:
        return _plain(value)
    except _Unusual:
        return value


def _plain(value: str) -> Any:
    """A plain scalar as the core schema types it (CoreResolver, CoreConstructor)."""
    first = value[:1]
    if first in ("t", "T", "f", "F") and value in _BOOLS:
        return _BOOLS[value]
    if first in ("", "~", "n", "N") and value in _NULLS:
        return None
    if first in _NUMBER_START:
        if _INT.match(value):
            if value.startswith("0o"):
                return int(value[2:], 8)
            if value.startswith("0x"):
                return int(value[2:], 16)
            return int(value, 10)
        if _FLOAT.match(value):
            return _float(value)
    if value == "<<":
        raise _Unusual
    return value


_BOOLS = {v: v.lower() == "true" for v in ("true", "True", "TRUE", "false", "False", "FALSE")}
_NULLS = frozenset(("~", "null", "Null", "NULL", ""))
_NUMBER_START = frozenset("-+0123456789.")
_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(r"""^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""", re.X)


def _float(value: str) -> float:
    # As SafeConstructor.construct_yaml_float reads the core schema's spellings.
    text = value.lower()
    sign = -1.0 if text[:1] == "-" else 1.0
    if text[:1] in "+-":
        text = text[1:]
    if text == ".inf":
        return sign * math.inf
    if text == ".nan":
        return math.nan
    return sign * float(text)


def _from_events(parser: Any, depths: list[int]) -> list[Any]:
    docs: list[Any] = []
    anchors: dict[str, Any] = {}
    open_anchors: set[str] = set()
    # Open containers: (container, anchor, pending key or _NO_KEY) for mappings, (list, anchor, None) for lists.
    stack: list[list[Any]] = []
    scalar_event, mapping_start, sequence_start = _EVENTS.ScalarEvent, _EVENTS.MappingStartEvent, \
        _EVENTS.SequenceStartEvent
    mapping_end, sequence_end, alias_event = _EVENTS.MappingEndEvent, _EVENTS.SequenceEndEvent, _EVENTS.AliasEvent
    document_start = _EVENTS.DocumentStartEvent

    def put(value: Any) -> None:
        if not stack:
            docs.append(value)
            return
        top = stack[-1]
        container = top[0]
        if isinstance(container, list):
            container.append(value)
        elif top[2] is _NO_KEY:
            top[2] = value
        else:
            container[top[2]] = value
            top[2] = _NO_KEY

    while parser.check_event():
        event = parser.get_event()
        kind = type(event)
        if kind is scalar_event:
            tag = event.tag
            if tag is None:
                value = _plain(event.value) if event.implicit[0] else event.value
            elif tag == "tag:yaml.org,2002:str":
                value = event.value
            else:
                raise _Unusual  # any other tag: PyYAML's resolver and constructors decide
            if event.anchor is not None:
                if event.anchor in anchors:
                    raise _Unusual  # PyYAML refuses a duplicate anchor
                anchors[event.anchor] = value
            put(value)
        elif kind is mapping_start or kind is sequence_start:
            if event.tag not in (None, "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"):
                raise _Unusual
            if stack and isinstance(stack[-1][0], dict) and stack[-1][2] is _NO_KEY:
                raise _Unusual  # a mapping or sequence as a key (PyYAML refuses an unhashable one)
            container: Any = {} if kind is mapping_start else []
            if event.anchor is not None:
                if event.anchor in anchors:
                    raise _Unusual
                anchors[event.anchor] = container
                open_anchors.add(event.anchor)
            put(container)
            depths[-1] = max(depths[-1], len(stack))
            stack.append([container, event.anchor, _NO_KEY if kind is mapping_start else None])
        elif kind is mapping_end or kind is sequence_end:
            _, anchor, _ = stack.pop()
            if anchor is not None:
                open_anchors.discard(anchor)
        elif kind is alias_event:
            if event.anchor not in anchors or event.anchor in open_anchors:
                raise _Unusual  # undefined (PyYAML's error) or recursive
            put(anchors[event.anchor])
            depths[-1] = UNKNOWN_DEPTH  # a shared node nests as deep as it lands: let the caller walk
        elif kind is document_start:
            anchors.clear()
            depths.append(0)
    return docs


_NO_KEY = object()
UNKNOWN_DEPTH = 1 << 30


def compose_nodes(stream: Any) -> list[yaml.Node]:
    """The node trees of every document with their line marks, built straight from
    libyaml's events: tags are left unresolved (None unless the text spells one),
    which is all that finding a line needs, and takes a third of ``compose_all``'s time."""
    if _CParser is None:  # pragma: no cover - PyYAML without libyaml
        return compose_all(stream)
    parser = _CParser(stream)
    docs: list[yaml.Node] = []
    anchors: dict[str, yaml.Node] = {}
    stack: list[yaml.Node] = []
    pending_key: list[Any] = []  # per open mapping: its key node waiting for a value, or None
    scalar_event, alias_event = _EVENTS.ScalarEvent, _EVENTS.AliasEvent
    mapping_start, sequence_start = _EVENTS.MappingStartEvent, _EVENTS.SequenceStartEvent
    mapping_end, sequence_end = _EVENTS.MappingEndEvent, _EVENTS.SequenceEndEvent
    document_start = _EVENTS.DocumentStartEvent

    def put(node: yaml.Node) -> None:
        if not stack:
            docs.append(node)
            return
        top = stack[-1]
        if isinstance(top, yaml.SequenceNode):
            top.value.append(node)
        elif pending_key[-1] is None:
            pending_key[-1] = node
        else:
            top.value.append((pending_key[-1], node))
            pending_key[-1] = None

    while parser.check_event():
        event = parser.get_event()
        kind = type(event)
        if kind is scalar_event:
            node: yaml.Node = yaml.ScalarNode(event.tag, event.value, event.start_mark, event.end_mark, event.style)
        elif kind is alias_event:
            if event.anchor not in anchors:
                raise yaml.composer.ComposerError(None, None, f"found undefined alias {event.anchor!r}",
                                                  event.start_mark)
            put(anchors[event.anchor])
            continue
        elif kind is mapping_start or kind is sequence_start:
            cls = yaml.MappingNode if kind is mapping_start else yaml.SequenceNode
            node = cls(event.tag, [], event.start_mark, None, flow_style=event.flow_style)
            put(node)
            if event.anchor is not None:
                _anchor(anchors, event, node)
            stack.append(node)
            pending_key.append(None)
            continue
        elif kind is mapping_end or kind is sequence_end:
            stack.pop().end_mark = event.end_mark
            pending_key.pop()
            continue
        else:
            if kind is document_start:
                anchors.clear()
            continue
        if event.anchor is not None:
            _anchor(anchors, event, node)
        put(node)
    return docs


def _anchor(anchors: dict[str, yaml.Node], event: Any, node: yaml.Node) -> None:
    if event.anchor in anchors:  # as PyYAML's composer: an error, not a redefinition
        raise yaml.composer.ComposerError("found duplicate anchor", anchors[event.anchor].start_mark,
                                          "second occurrence", event.start_mark)
    anchors[event.anchor] = node


def compose_all(stream: Any) -> list[yaml.Node]:
    """The node trees of every document (for line numbers)."""
    return [n for n in yaml.compose_all(stream, Loader=CoreLoader) if n is not None]


# Plain scalars that a YAML 1.1 reader (PyYAML's safe_load, older tools) types
# differently from the core schema: worth a hint when a config value is wrong.
YAML11_SURPRISES = re.compile(
    r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF"
    r"|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt ].*)?"
    r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?)$"
)


# --- reading a document's identity from its lines ----------------------------------------------------------

# A document separator or end marker line, and the top-level keys and plain values the scan reads.
SEPARATOR = re.compile(r"^(?:---|\.\.\.)(?:[ \t].*)?$", re.M)
_TOP = re.compile(r"^(kind|metadata):[ \t]*(.*?)[ \t]*$", re.M)
_PLAIN_VALUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]*|'[^'\n]*'|\"[^\"\\\n]*\"")


def separators_plain(text: str) -> bool:
    """No separator line carries content of the next document (``--- {kind: X}``, ``--- !tag``)."""
    return all(not (rest := m.group()[3:].strip()) or rest.startswith("#") for m in SEPARATOR.finditer(text))


def scan_identities(text: str) -> list[tuple[str, str | None, str | None]] | None:
    """(kind, name, namespace) of every document of a resource file, read from the
    documents' lines; None when any document is not written the way the scan reads."""
    if not separators_plain(text):
        return None
    if any(m.group().startswith("...") for m in SEPARATOR.finditer(text)):
        return None  # an end marker: what follows it is read as the parser reads it
    found = []
    for chunk in SEPARATOR.split(text):
        if not chunk.strip() or all(ln.lstrip().startswith("#") for ln in chunk.splitlines() if ln.strip()):
            continue
        identity = scan_identity(chunk)
        if identity is None or identity[0] is None:
            return None
        found.append(identity)
    return found


def scan_identity(chunk: str) -> tuple[str | None, str | None, str | None] | None:
    """kind, metadata.name and metadata.namespace of a block-style document from its lines;
    None when the document is written any other way."""
    matches = list(_TOP.finditer(chunk))
    tops = {m.group(1): (m, m.group(2)) for m in matches}
    if len(matches) != 2 or set(tops) != {"kind", "metadata"} or tops["metadata"][1] != "":
        return None
    kind = _plain_value(tops["kind"][1])
    if kind is None:
        return None
    found: dict[str, str] = {}
    indent = None
    for raw in chunk[tops["metadata"][0].end():].split("\n")[1:]:
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if not raw[:1].isspace():
            break
        width = len(raw) - len(raw.lstrip(" "))
        indent = width if indent is None else indent
        if width != indent:
            continue
        key, sep, value = raw.strip().partition(":")
        if key in ("name", "namespace") and sep:
            plain = _plain_value(value.strip())
            if plain is None:
                return None
            found[key] = plain
    return kind, found.get("name"), found.get("namespace")


def _plain_value(value: str) -> str | None:
    """A scalar that is a string as the core schema reads it, else None (the caller parses)."""
    if value.startswith("#"):
        return None
    value = value.split(" #", 1)[0].strip()
    if not _PLAIN_VALUE.fullmatch(value):
        return None
    if value[:1] in ("'", '"'):
        return value[1:-1]
    return value if isinstance(plain_scalar(value), str) else None  # not true, 12, 0x1F, null
