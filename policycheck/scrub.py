"""Nothing secret reaches any output, whatever failed.

Outputs (findings, tool errors, kustomize's stderr) can quote what a pull
request wrote. Before any of it is shown it goes through ``scrub``:

1. Go value dumps are replaced whole. When kustomize cannot encode an object
   it prints it with ``%#v``, e.g.
   ``map[string]interface {}{"apiVersion":"v1", "data":map[string]interface {}{"password":"c2VjcmV0"}, ...}``.
   Such a dump (``map[K]V{...}``, ``[]T{...}``, ``&pkg.Type{...}``, and the
   ``%v`` form ``map[key:value ...]``) becomes ``<Kind/name>`` when its
   top-level ``kind`` and ``metadata.name`` can be read from it, else
   ``<object>``. Braces are matched by a bounded scan that skips quoted
   strings; a dump never spans lines (Go quotes newlines), so one that does
   not close on its line is cut to the end of the line.
2. Every collected value (``SecretValues``) becomes ``<redacted>``: values of
   ``LONG_VALUE`` characters or more wherever they occur, shorter ones only
   as whole tokens, so a Secret value ``shop`` hides ``password: shop`` but
   not the namespace ``shop-prod``. Where occurrences overlap, the union is
   hidden.
3. Whatever looks like a credential (``credentials.VALUE_PATTERNS``)
   becomes ``<redacted>``: the password of a URL, a PEM private key block,
   API keys and tokens.

Costs are bounded for inputs of megabytes (about a second for 1 MB in the
worst case measured, most of it Python's per-match overhead):

- All values are matched by one compiled regex, a prefix tree of the values
  (``_trie``): an attempt at one position costs at most the longest value
  (``CHUNK``), not the number of values. N ``str.replace`` passes or a flat
  alternation would cost N per position (10,000 values: about 60 s per MB).
- Every repeated part of every regex here is possessive or bounded, or cannot
  match what follows it, so no attempt backtracks over what it read.
- The dump scan reads one token at a time (a quoted string is one token, to
  its closing quote or its line end) and stops after ``DUMP_STEPS`` tokens
  per call; past that, a dump is cut to its line end unread.
- A value can be spelled across a placeholder and its neighbour (``d>xxx``
  after ``<redacted>``); up to ``MAX_PASSES`` more passes look for that,
  only within ``CHUNK`` characters of a placeholder.

Limits (documented, not silent):

- ``MAX_VALUES`` (10,000) distinct strings are kept; later ones are dropped
  and ``SecretValues.overflowed`` is set, so a caller can refuse to show raw
  tool output at all.
- A value longer than ``CHUNK`` (64) characters is kept as consecutive
  chunks of ``CHUNK`` characters, the last one aligned to its end: every
  whole occurrence is still hidden, and a cut-off occurrence leaks at most
  ``CHUNK - 1`` characters at each end. Shorter values have the same limit
  by nature: a value cut off in the output is not that value any more.
- A string found only because it contains a credential is kept whole up to
  ``WHOLE_LIMIT`` characters; a longer one by its credential parts.
- Besides the value itself, its JSON- and Go-quoted spellings (for values
  with quotes, backslashes, control or non-ASCII characters) are kept, and
  the base64 spelling of generator and ``stringData`` values (kustomize
  encodes them). Multi-line values are also kept line by line (lines with a
  letter or digit), since an error may quote one line.
"""

from __future__ import annotations

import base64
import json
import math
import re
import threading
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from policycheck.credentials import (
    NEEDS,
    PRIVATE_KEY_HEADER,
    VALUE_PATTERNS,
    name_looks_secret,
    scanned_parts,
    value_looks_secret,
)
from policycheck.k8s import CONTAINER_LISTS, POD_TEMPLATE_PATHS, secret_text


class _Lazy:
    """A regular expression compiled when first used: these serve scrubbing, which most runs
    never do, and compiling them cost 3 ms of every start."""

    __slots__ = ("_args", "_compiled")

    def __init__(self, *args: Any) -> None:
        self._args = args
        self._compiled: re.Pattern[str] | None = None

    def __getattr__(self, name: str) -> Any:
        if self._compiled is None:
            self._compiled = re.compile(*self._args)
        return getattr(self._compiled, name)


PLACEHOLDER = "<redacted>"
OBJECT_PLACEHOLDER = "<object>"
MAX_VALUES = 10_000  # distinct strings kept by one SecretValues
LONG_VALUE = 8  # values at least this long are hidden wherever they occur
# Longer values are matched as chunks of this size. It also bounds the work
# at one position of the text (the longest match tried there).
CHUNK = 64
MAX_NODES = 100_000  # nodes visited in one object
# A string found by the walk because it contains a credential is kept whole
# up to this length; a longer one only by its credential-looking parts.
WHOLE_LIMIT = 4096
# Go's %#v dumps are scanned for at most this many quote/brace steps per scrub
# call; past it, a dump is cut to the end of its line without scanning.
DUMP_STEPS = 1_000_000
# A PEM block is looked for (its END line, or its base64 body) this far.
PEM_WINDOW = 64 * 1024
# Passes that hide occurrences formed across a placeholder and its
# neighbours (a value ``d>xxxxxx`` after ``<redacted>``).
MAX_PASSES = 8
# Prefix-tree nesting in the value regex; deeper, the remaining values of a
# branch are a flat longest-first alternation (still correct, just slower).
_TRIE_DEPTH = 24

# Characters that end a token for values shorter than LONG_VALUE.
_DELIMITERS = "\\s\"'`:=,{}\\[\\]()"
_SHORT_BEFORE = f"(?<![^{_DELIMITERS}])"
_SHORT_AFTER = f"(?![^{_DELIMITERS}])"

# --- Go value dumps ---------------------------------------------------------

_GO_BASE = r"(?:interface ?\{\}|any|string|bool|u?int(?:8|16|32|64)?|float(?:32|64)|byte|rune|uintptr)"
_GO_TYPE = rf"(?:\[\])*+(?:map\[(?:\[\])*+{_GO_BASE}\](?:\[\])*+)?{_GO_BASE}"
# The start of a %#v dump, up to and including its opening brace.
_DUMP_OPEN = (rf"(?:map\[(?:\[\])*+{_GO_BASE}\]{_GO_TYPE}|\[\]{_GO_TYPE}"
              r"|&?\b[a-z][a-z0-9_]{0,40}+\.[A-Z][A-Za-z0-9_]{0,60}+)\{")
# The start of a %v map dump: "map[" not followed by a type and "]".
_DUMP_START = _Lazy(rf"{_DUMP_OPEN}|\bmap\[(?!(?:\[\])*+{_GO_BASE}\])")
# Tokens inside a %#v dump. A string runs to its closing quote or, when it
# has none, to the end of the line: each token is read once.
_GO_STRING = r'"(?:[^"\\\n]++|\\.)*+"?'
_DUMP_TOKEN = _Lazy(rf'{_GO_STRING}|{_DUMP_OPEN}|interface ?\{{\}}|[{{}}:,\n]')
_BRACKET_TOKEN = _Lazy(r"[\[\]\n]")
_KIND = _Lazy(r"[A-Za-z][A-Za-z0-9]{0,62}")
_NAME = _Lazy(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,252}+")


def _dump_end(text: str, start: int, line_end: int, braces: bool, steps: list[int]) -> int:
    """End of the dump that starts at ``start``: after its closing brace (or
    bracket, for ``braces=False``), or ``line_end`` when it does not close
    on its line or the step budget is spent."""
    pattern, opener, closer = (_DUMP_TOKEN, "{", "}") if braces else (_BRACKET_TOKEN, "[", "]")
    depth = 0
    for m in pattern.finditer(text, start, line_end):
        steps[0] -= 1
        if steps[0] <= 0:
            return line_end
        piece = m.group()
        if piece.endswith(opener) and not piece.startswith('"'):
            depth += 1
        elif piece == closer:
            depth -= 1
            if depth <= 0:
                return m.end()
    return line_end


def describe_dump(text: str) -> str | None:
    """``<Kind/name>`` (or ``<Kind>``) of a Go ``%#v`` dump of one object, read
    from its top-level ``"kind"`` and its ``"metadata"`` map's ``"name"``;
    None when they are not there. Only those two are read, at their depth:
    a data key that happens to be called ``kind`` or ``name`` is never shown.
    """
    if not isinstance(text, str):
        return None
    kind = name = None
    stack: list[str | None] = []  # per open container: the key it is the value of
    key: str | None = None  # key awaiting its value at the current depth
    last: str | None = None  # the previous string token, if it was the previous token
    after_colon = False
    for m in _DUMP_TOKEN.finditer(text):
        piece = m.group()
        if piece.startswith('"'):
            content = piece[1:-1] if len(piece) > 1 and piece.endswith('"') else None
            if after_colon and key is not None and content is not None:
                if len(stack) == 1 and key == "kind" and _KIND.fullmatch(content):
                    kind = content
                elif len(stack) == 2 and stack[1] == "metadata" and key == "name" and _NAME.fullmatch(content):
                    name = content
            last, key, after_colon = content, None, False
            continue
        if piece == ":":
            key, after_colon = last, True
        elif piece.endswith("{"):  # a type and its brace, or a bare brace
            stack.append(key if after_colon else None)
            key, after_colon = None, False
        elif piece == "}":
            if stack:
                stack.pop()
            if not stack:
                break
            key, after_colon = None, False
        elif piece in (",", "\n"):
            key, after_colon = None, False
        last = None
    return _label(kind, name) if kind is not None else None


def _label(kind: str, name: str | None) -> str:
    """What stands for a dumped object: ``<Kind/name>``, or ``<Kind>`` without a name."""
    return f"<{kind}/{name}>" if name else f"<{kind}>"


# kustomize's resource id, %#v-printed in its "does not exist", "already registered" and "no matches"
# errors, raw or inside a %q-quoted error (its quotes escaped). It holds only group, version, kind, name
# and namespace, all names: shown as <Kind/name>, where the generic dump reading below would lose the
# rest of the line to the escaped quotes.
_RESID = _Lazy(
    r'resid\.ResId\{Gvk:resid\.Gvk\{Group:(?P<q>\\{0,3}")[A-Za-z0-9.-]{0,253}(?P=q), '
    r'Version:(?P=q)[A-Za-z0-9]{0,63}(?P=q), Kind:(?P=q)(?P<kind>[A-Za-z][A-Za-z0-9]{0,62})?(?P=q), '
    r'isClusterScoped:(?:true|false)\}, Name:(?P=q)(?P<name>[A-Za-z0-9][A-Za-z0-9._:-]{0,252})?(?P=q), '
    r'Namespace:(?P=q)[A-Za-z0-9.-]{0,253}(?P=q)\}')


def _resid_label(m: re.Match[str]) -> str:
    kind, name = m.group("kind"), m.group("name")
    if kind is None:
        return f"<{name}>" if name else OBJECT_PLACEHOLDER
    return _label(kind, name)


def replace_dumps(text: str) -> str:
    """Every Go value dump in ``text`` replaced by ``<Kind/name>`` or ``<object>``."""
    if "resid.ResId{" in text:
        text = _RESID.sub(_resid_label, text)
    out: list[str] = []
    pos = 0
    steps = [DUMP_STEPS]
    line_end = -1
    while True:
        m = _DUMP_START.search(text, pos)
        if m is None:
            break
        if m.start() > line_end:  # found once per line: many dumps on one line stay linear
            line_end = text.find("\n", m.start())
            if line_end < 0:
                line_end = len(text)
        braces = m.group().endswith("{")
        end = _dump_end(text, m.start(), line_end, braces, steps)
        label = describe_dump(text[m.start():end]) if braces else None
        out.append(text[pos:m.start()])
        out.append(label or OBJECT_PLACEHOLDER)
        pos = max(end, m.end())
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


# --- credential patterns ----------------------------------------------------

_PEM_END = _Lazy(r"-----END [A-Z ]*+-----")
# The body of a cut-off key: lines (raw, or "\n" escaped in a quoted string)
# that are one base64 run, or the legacy Proc-Type/DEK-Info headers.
_PEM_BODY = _Lazy(r"(?:(?:\r?\n|(?:\\r)?\\n)(?:[A-Za-z0-9+/=]++(?=\r?\n|\\[rn]|\Z|[\s\"'])"
                       r"|(?:Proc-Type|DEK-Info):[^\n\\]*+)?)*+")


def credential_spans(text: str) -> Iterator[tuple[int, int]]:
    """Spans of ``text`` that look like a credential: a URL's password, a whole
    PEM private key block, an API key or token."""
    for pattern in VALUE_PATTERNS:
        if pattern is PRIVATE_KEY_HEADER:
            yield from _pem_spans(text)
            continue
        for m in pattern.finditer(text):
            if "secret" in pattern.groupindex:
                yield m.span("secret")
            else:
                yield m.span()


def _pem_spans(text: str) -> Iterator[tuple[int, int]]:
    """Each PEM private key block: its header through its END line, or, when
    there is none within PEM_WINDOW (a cut-off key), through the base64 body
    that follows. A header inside a block already hidden is skipped, and the
    next END line is looked for once per block, so this stays linear."""
    covered = 0
    next_end = -1  # position of the next "-----END " at or after the last search, or len(text)
    for m in PRIVATE_KEY_HEADER.finditer(text):
        if m.start() < covered:
            continue
        pos = m.end()
        if next_end < pos:
            next_end = text.find("-----END ", pos)
            if next_end < 0:
                next_end = len(text)
        end = pos
        if next_end - pos <= PEM_WINDOW:
            found = _PEM_END.match(text, next_end, min(len(text), next_end + PEM_WINDOW))
            if found:
                end = found.end()
        if end == pos:
            body = _PEM_BODY.match(text, pos, min(len(text), pos + PEM_WINDOW))
            end = body.end() if body else pos
        covered = end
        yield m.start(), end


# --- collected values -------------------------------------------------------


def _go_quote(value: str) -> str:
    """The body of Go's strconv.Quote(value) (near enough: Go's idea of a
    printable rune is close to Python's)."""
    out = []
    for ch in value:
        code = ord(ch)
        if ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return "".join(out)


_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v",
               '"': '\\"', "\\": "\\\\"}


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _scalar_text(value: Any) -> str | None:
    """A scalar as it may be printed; None for bool, null and containers."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        try:
            return str(value)
        except ValueError:  # an int past Python's digit limit
            return None
    return None


class SecretValues:
    """The values no output may show, and the scrubber that hides them."""

    def __init__(self) -> None:
        self._values: dict[str, None] = {}
        self._pattern: re.Pattern[str] | None = None
        self._compiled = True
        self.overflowed = False
        # Collections left for when something is first scrubbed: walking every
        # string of a big render costs seconds, and most checks never scrub.
        self._pending: list[tuple[bool, Callable[[], None]]] = []
        self._tree = False
        self._lock = threading.RLock()

    def __len__(self) -> int:
        self._resolve()
        return len(self._values)

    def __contains__(self, value: object) -> bool:
        self._resolve()
        return value in self._values

    def defer(self, collect: Callable[[], None], *, source: bool = False) -> None:
        """Run ``collect`` (which adds values) before the first scrub, not now. A ``source``
        collection (values of the input files) matters only for a tool's error about those
        files: ``forget_sources`` drops it once the render succeeded."""
        with self._lock:
            self._pending.append((source, collect))

    def forget_sources(self) -> None:
        """The render succeeded: what can still be scrubbed (Rego messages, our own errors) is
        about the rendered objects, whose values are collected on their own."""
        with self._lock:
            self._pending = [(source, collect) for source, collect in self._pending if not source]

    def _resolve(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
            for _, collect in pending:
                try:
                    collect()
                except Exception:  # noqa: BLE001, S110 - best effort, as add_object
                    pass

    # -- collecting ----------------------------------------------------------

    def add(self, value: object) -> None:
        """One value (its JSON- and Go-quoted spellings too)."""
        try:
            text = value if isinstance(value, str) else str(value)
        except Exception:  # noqa: BLE001 - hostile objects (a huge int, deep nesting): nothing to keep
            return
        if not text or text.isspace():
            return
        self._store(text)
        if any(ch in text for ch in '"\\') or not text.isprintable() or not text.isascii():
            self._store(json.dumps(text, ensure_ascii=False)[1:-1])
            self._store(json.dumps(text)[1:-1])
            self._store(_go_quote(text))

    def add_literal(self, text: object) -> None:
        """A secretGenerator ``literals`` entry ``KEY=VALUE``: the VALUE (also
        without surrounding quotes, and base64-encoded). An entry without
        ``=`` is malformed and kustomize echoes it: it is kept whole."""
        if not isinstance(text, str):
            self._add_generated(text)
            return
        key, sep, value = text.partition("=")
        self._add_generated(value if sep else text)

    def add_env_text(self, text: object) -> None:
        """A secretGenerator ``envs`` file: ``KEY=VALUE`` lines, ``#`` comments
        and blank lines. A line without ``=`` names a variable of the
        environment kustomize runs in: it holds no value."""
        if not isinstance(text, str):
            return
        for line in text.lstrip("\ufeff").splitlines():
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            key, sep, value = line.lstrip().partition("=")
            if sep:
                self._add_generated(value)
                self._add_generated(value.strip())

    def add_file_text(self, text: object) -> None:
        """A secretGenerator ``files`` source: the whole text and each line
        (lines without a letter or digit, like ``}``, are not kept alone)."""
        if not isinstance(text, str):
            return
        self._add_generated(text, lines=True)

    def add_object(self, doc: object, *, tree: bool = False) -> None:
        """Every value of one Kubernetes object (as loaded from YAML, any
        shape) that no output may show. Never raises.

        ``tree``: the caller knows no node is shared (the YAML had no alias),
        so its strings can be read from its JSON text; a shared node (an alias
        bomb) would be written out once per reference there."""
        self._tree = tree
        try:
            self._add_object(doc)
        except Exception:  # noqa: BLE001, S110 - best effort on hostile shapes; the walk above is bounded
            pass

    def _add_object(self, doc: object, in_list: bool = False) -> None:
        if not isinstance(doc, dict):
            self._walk(doc)
            return
        kind = doc.get("kind")
        if kind == "Secret":
            for field, encoded in (("data", True), ("stringData", False)):
                data = doc.get(field)
                for value in data.values() if isinstance(data, dict) else ([data] if data else []):
                    self._add_secret_value(value, encoded)
        elif kind == "ConfigMap":
            for field, encoded in (("data", False), ("binaryData", True)):
                data = doc.get(field)
                if isinstance(data, dict):
                    for key, value in data.items():
                        if name_looks_secret(str(key)):
                            self._add_secret_value(value, encoded)
        elif isinstance(kind, str) and kind.endswith("List") and isinstance(doc.get("items"), list) and not in_list:
            # A List in a resource file (kustomize expands it): its items, one level.
            for item in doc["items"][:MAX_NODES]:
                self._add_object(item, in_list=True)
        for spec in _pod_specs(doc):
            for list_name in CONTAINER_LISTS:
                containers = spec.get(list_name)
                for container in containers if isinstance(containers, list) else []:
                    if isinstance(container, dict):
                        self._add_env(container.get("env"))
        self._walk(doc)

    def _add_env(self, env: object) -> None:
        for entry in env if isinstance(env, list) else []:
            if isinstance(entry, dict) and "value" in entry and name_looks_secret(str(entry.get("name", ""))):
                self._add_secret_value(entry["value"], False)

    def _walk(self, root: object) -> None:
        """Strings anywhere that look like a credential, and credential-named
        ``env`` values of containers of any kind (custom workloads too).

        Read from the object's JSON text: the regular expressions run over it
        in C, and only the strings around a hit are decoded and tested (a 4 MB
        CRD takes milliseconds instead of seconds). Objects JSON cannot write
        are walked node by node."""
        if not self._tree:
            self._walk_nodes(root)
            return
        try:
            text = json.dumps(root, ensure_ascii=False, default=str)
        except (TypeError, ValueError, RecursionError):
            self._walk_nodes(root)
            return
        for string in _strings_around(NEEDS, text):
            if value_looks_secret(string):
                self._add_credential_text(string)
        if '"env": [' in text:
            self._walk_nodes(root, strings=False)

    def _walk_nodes(self, root: object, strings: bool = True) -> None:
        stack = [root]
        seen: set[int] = set()
        nodes = 0
        while stack and nodes < MAX_NODES:
            node = stack.pop()
            nodes += 1
            if isinstance(node, str):
                if strings and id(node) not in seen:
                    seen.add(id(node))
                    if value_looks_secret(node):
                        self._add_credential_text(node)
                continue
            if not isinstance(node, (dict, list)) or id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, dict):
                env = node.get("env")
                if isinstance(env, list):
                    self._add_env(env)
                for key, value in node.items():
                    stack.append(key)
                    stack.append(value)
            else:
                stack.extend(node)

    def _add_credential_text(self, text: str) -> None:
        """A string that contains a credential: kept whole when it is short
        (a DSN, a key), else only its credential-looking parts, so one big
        ConfigMap blob does not fill the store with chunks."""
        if len(text) <= WHOLE_LIMIT:
            self._add_text(text, lines=True)
            return
        for part in scanned_parts(text):
            for start, end in credential_spans(part):
                self._add_text(part[start:end], lines=True)

    def _add_secret_value(self, value: object, encoded: bool) -> None:
        if isinstance(value, str):
            self._add_text(value, lines=True)
            if encoded:
                self._add_decoded(value)
            else:
                self._add_base64(value)
            return
        if isinstance(value, float) and not math.isfinite(value):
            return  # .nan and .inf hide nothing
        text = _scalar_text(value)
        if text is not None:
            self.add(text)
            if isinstance(value, float) and value.is_integer():
                self.add(str(int(value)))
            return
        # A malformed value (a list or map): every scalar in it.
        stack, nodes = [value], 0
        while stack and nodes < MAX_NODES:
            node = stack.pop()
            nodes += 1
            if isinstance(node, dict):
                stack.extend(node.keys())
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
            else:
                text = _scalar_text(node)
                if text is not None:
                    self._add_text(text, lines=True)

    def _add_decoded(self, value: str) -> None:
        decoded = secret_text(value)
        if decoded is not None:
            self._add_text(decoded, lines=True)

    def _add_base64(self, value: str) -> None:
        try:
            self.add(base64.b64encode(value.encode("utf-8", "surrogatepass")).decode("ascii"))
        except (UnicodeEncodeError, ValueError):
            pass

    def _add_generated(self, value: object, lines: bool = False) -> None:
        text = _scalar_text(value)
        if text is None or not text.strip():
            return
        self._add_text(text, lines=lines)
        unquoted = _unquote(text)
        if unquoted != text:
            self._add_text(unquoted, lines=lines)
        self._add_base64(text)

    def _add_text(self, text: str, lines: bool) -> None:
        self.add(text)
        if lines and ("\n" in text or "\r" in text):
            for line in text.splitlines():
                if any(ch.isalnum() for ch in line):
                    self.add(line)
                    self.add(line.strip())

    def _store(self, text: str) -> None:
        if not text or text.isspace():
            return
        if len(text) > CHUNK:
            starts = list(range(0, len(text) - CHUNK, CHUNK)) + [len(text) - CHUNK]
            for start in starts:
                self._store(text[start:start + CHUNK])
            return
        if text in self._values:
            return
        if len(self._values) >= MAX_VALUES:
            self.overflowed = True
            return
        self._values[text] = None
        self._compiled = False

    # -- scrubbing -----------------------------------------------------------

    def _regex(self) -> re.Pattern[str] | None:
        self._resolve()
        if not self._compiled:
            self._pattern = _compile(self._values)
            self._compiled = True
        return self._pattern

    def scrub(self, text: object) -> str:
        """``text`` with Go dumps, collected values and anything that looks like
        a credential replaced. Never raises: if scrubbing itself fails, the
        whole text is withheld."""
        try:
            if not isinstance(text, str):
                text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
            return self._scrub(replace_dumps(text))
        except Exception:  # noqa: BLE001 - fail closed
            return "<output withheld: it could not be scrubbed>"

    def _scrub(self, text: str) -> str:
        pattern = self._regex()
        spans = list(credential_spans(text))
        if pattern is not None:
            spans.extend(_value_spans(pattern, text))
        if not spans:
            return text
        text, placed = _replace(text, spans)
        # A value may now be spelled across a placeholder and its neighbour
        # (a value "d>xxxxxx" after "<redacted>"); hide such occurrences too.
        # Each pass absorbs at least one character into a placeholder.
        for _ in range(MAX_PASSES):
            starts = [s for s, _ in placed]
            found = list(credential_spans(text))
            if pattern is not None:
                found.extend(_spans_near(pattern, text, placed))
            extra = [(s, e) for s, e in found if not _inside(starts, placed, s, e)]
            if not extra:
                break
            text, placed = _replace(text, placed + extra)
        return text


def scrub(text: object) -> str:
    """``text`` with Go dumps and credential-looking values replaced (no
    collected values)."""
    return SecretValues().scrub(text)


def _strings_around(pattern: re.Pattern[str], text: str) -> Iterator[str]:
    """The JSON strings of ``text`` (keys and values) in which ``pattern`` matches, decoded, once each."""
    end = -1
    for match in pattern.finditer(text):
        if match.start() < end:
            continue  # inside the string already given
        start = match.start()
        while True:  # the opening quote: the nearest one not escaped
            start = text.rfind('"', 0, start)
            if start < 0 or _unescaped(text, start):
                break
        end = match.end()
        while True:
            end = text.find('"', end)
            if end < 0 or _unescaped(text, end):
                break
            end += 1
        if start < 0 or end < 0:
            return
        end += 1
        try:
            value = json.loads(text[start:end])
        except ValueError:
            continue
        if isinstance(value, str):
            yield value


def _unescaped(text: str, quote: int) -> bool:
    backslashes = 0
    while quote - backslashes - 1 >= 0 and text[quote - backslashes - 1] == "\\":
        backslashes += 1
    return backslashes % 2 == 0


def _pod_specs(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Pod specs of a Pod, of every workload kind, of a PodTemplate."""
    paths: Iterable[tuple[str, ...]] = [("spec",), ("template", "spec"),
                                        *((*p, "spec") for p in POD_TEMPLATE_PATHS.values())]
    for keys in dict.fromkeys(paths):
        node: Any = doc
        for key in keys:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict):
            yield node


def _value_spans(pattern: re.Pattern[str], text: str) -> Iterator[tuple[int, int]]:
    """Where collected values occur, overlapping and touching occurrences
    merged. The pattern is a zero-width match with the occurrence captured:
    every start position is tried, so overlapping occurrences are all found;
    they come in order of their start, so merging them is one pass."""
    start = end = -1
    for m in pattern.finditer(text):
        s, e = m.span(1)
        if s > end:
            if end > start:
                yield start, end
            start, end = s, e
        elif e > end:
            end = e
    if end > start:
        yield start, end


def _spans_near(pattern: re.Pattern[str], text: str, placed: list[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """Value occurrences that may overlap a placeholder: they start at most
    CHUNK characters before one (no stored value is longer)."""
    windows = _merge([(max(0, s - CHUNK), min(len(text), e + CHUNK + 1)) for s, e in placed])
    for lo, hi in windows:
        for m in pattern.finditer(text, lo, hi):
            # The window's end hides the character after it: a short value
            # matched up to there is not known to be a whole token.
            if m.end(1) < hi or hi == len(text):
                yield m.span(1)


def _inside(starts: list[int], placed: list[tuple[int, int]], start: int, end: int) -> bool:
    i = bisect_right(starts, start) - 1
    return i >= 0 and placed[i][1] >= end


def _replace(text: str, spans: list[tuple[int, int]]) -> tuple[str, list[tuple[int, int]]]:
    """Replace the union of ``spans`` (touching ones merged) by PLACEHOLDER;
    return the new text and where each placeholder now stands."""
    out: list[str] = []
    placed: list[tuple[int, int]] = []
    pos = 0
    length = 0
    for start, end in _merge(spans):
        out.append(text[pos:start])
        length += start - pos
        placed.append((length, length + len(PLACEHOLDER)))
        out.append(PLACEHOLDER)
        length += len(PLACEHOLDER)
        pos = end
    out.append(text[pos:])
    return "".join(out), placed


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


# --- the value regex ----------------------------------------------------------


def _compile(values: Iterable[str]) -> re.Pattern[str] | None:
    long = sorted(v for v in values if len(v) >= LONG_VALUE)
    short = sorted(v for v in values if len(v) < LONG_VALUE)
    parts = []
    if long:
        parts.append(_trie(long, 0, len(long), 0, 0))
    if short:
        parts.append(f"{_SHORT_BEFORE}(?:{_trie(short, 0, len(short), 0, 0)}){_SHORT_AFTER}")
    if not parts:
        return None
    return re.compile(f"(?=({'|'.join(parts)}))")


def _trie(values: list[str], lo: int, hi: int, depth: int, level: int) -> str:
    """A regex matching the longest of ``values[lo:hi]`` (sorted, distinct,
    all sharing their first ``depth`` characters) at a position."""
    first, last = values[lo], values[hi - 1]
    end = depth
    limit = min(len(first), len(last))
    while end < limit and first[end] == last[end]:
        end += 1
    prefix = re.escape(first[depth:end])
    terminal = len(first) == end  # the shared prefix is itself a value
    if terminal:
        lo += 1
    if lo == hi:
        return prefix
    if level >= _TRIE_DEPTH:
        rest = sorted({values[i][end:] for i in range(lo, hi)}, key=len, reverse=True)
        branches = [re.escape(r) for r in rest]
    else:
        branches = []
        start = lo
        while start < hi:
            stop = start + 1
            ch = values[start][end]
            while stop < hi and values[stop][end] == ch:
                stop += 1
            branches.append(_trie(values, start, stop, end, level + 1))
            start = stop
    body = "|".join(branches)
    if len(branches) == 1 and not terminal:
        return prefix + body
    # An empty alternative rather than "?": sre runs a branch faster than a
    # repeat, and the longer continuation is still tried first.
    return f"{prefix}(?:{body}{'|' if terminal else ''})"
