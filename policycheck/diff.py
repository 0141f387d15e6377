"""``policycheck diff --base REF [PATH ...]``: what a change does to the rendered objects.

Every overlay is rendered twice with the check's safety settings (policycheck.launch):
in the working tree, and in the tree of git revision REF written into a temporary
directory by policycheck.baseref (the work tree, index and refs are never touched).
The two renders are then compared object by object:

- Objects are matched by identity: API group (not version), kind, namespace, name.
  An object only in the working tree is *added*, only at REF *removed*, in both but
  different *changed*, with the fields that differ: dotted paths
  (``spec.template.spec.containers[name=api].image``) with the old and the new value.
  Items of a list whose items are all maps with a distinct string ``name`` (on both
  sides) are matched by that name, other lists item by item (``args[2]``). Keys that
  are not plain words are quoted (``metadata.annotations["example.com/x"]``).
- A ConfigMap or Secret of a ``configMapGenerator``/``secretGenerator`` carries a hash
  of its content in its name (``app-config-5fk8bk2h9m``). When that hash is all that
  changed in the name, the two are one object whose *content changed* (one line, with
  the changed keys), and every reference that moved from the old name to the new one
  (``envFrom``, volumes, ...) is not a change.
- Values no output may show are never shown, only that they changed: everything under
  ``data`` and ``stringData`` of a Secret, and every value in which the secret
  scrubbing of the renders (policycheck.scrub: Secret values, credential-named keys
  and ``env`` entries, anything that looks like a credential) would hide something.

Bounded whatever the render: matching is by dictionary, the comparison visits each
node of each render once (no recursion), values are cut at ``VALUE_LIMIT``
characters, at most ``MAX_FIELDS`` fields per object and ``MAX_CHANGES`` objects per
overlay are kept (the rest are counted), and the markdown report is capped by
``--max-length``.

Exit codes: 0 the diff was produced (changes or not); with ``--exit-code``, 1 when
there is any change or an overlay could not be compared (so 0 means "compared, and
equal"); 2 a usage error, a REF that is no git revision or no repository, or no
overlay could be compared at all. An overlay whose render fails on one side is said
in the report (and in one stderr line) and the others are still compared.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from policycheck.errors import PolicycheckError
from policycheck.textsafe import escape

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from policycheck.model import K8sObject  # noqa: PLC0415 - loaded when used
    from policycheck.scrub import SecretValues  # noqa: PLC0415 - loaded when used

MAX_FIELDS = 200  # field changes kept per object; the others are counted
MAX_CHANGES = 2000  # object changes kept per overlay; the others are counted
VALUE_LIMIT = 1000  # characters of a value's JSON text kept
KEY_LIMIT = 200  # characters of one map key or list item name in a path
DEFAULT_MAX_LENGTH = 60_000  # the markdown report (GitHub comments hold 65,536 characters)
MIN_MAX_LENGTH = 1_000
MAX_MAX_LENGTH = 10_000_000
FORMATS = ("text", "markdown", "json")

GENERATORS = {"ConfigMapGenerator": "ConfigMap", "SecretGenerator": "Secret"}
SECRET_FIELDS = ("data", "stringData")  # of a Secret: never shown
_HASH = re.compile(r"-[a-z0-9]{10}$")  # kustomize's content hash on a generated name
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_TOP = re.compile(r"[^.\[]*")  # the first key of a path
_ITEM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*")


class _Absent:
    """No value at this path on that side."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


# ------------------------------------------------------------------------------ the model


@dataclass(frozen=True)
class FieldChange:
    """One field of a changed object. ``old``/``new``: the value's compact JSON text (None when
    absent, or hidden); ``truncated``: a text cut at VALUE_LIMIT (or a description of a value JSON
    cannot spell), not the whole value."""

    path: str
    change: str  # added | removed | changed
    old: str | None = None
    new: str | None = None
    hidden: bool = False
    truncated: bool = False


@dataclass
class ObjectChange:
    change: str  # added | removed | changed | content-changed
    group: str
    kind: str
    namespace: str | None
    name: str  # in the working tree (at REF for a removed object)
    base_name: str | None = None  # content-changed: the generated name at REF
    fields: list[FieldChange] = field(default_factory=list)
    fields_omitted: int = 0


@dataclass
class OverlayDiff:
    path: str
    status: str  # compared | added | removed | failed
    base_objects: int | None = None  # None: absent (or failed) at REF
    head_objects: int | None = None  # None: absent (or failed) in the working tree
    added: int = 0
    removed: int = 0
    changed: int = 0
    changes: list[ObjectChange] = field(default_factory=list)
    changes_omitted: int = 0
    error: str | None = None  # status failed: why, one line
    error_side: str | None = None  # base | head | both
    notes: list[str] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        return self.status in ("added", "removed") or bool(self.added or self.removed or self.changed)


@dataclass
class DiffReport:
    ref: str
    commit: str
    overlays: list[OverlayDiff] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        return any(o.has_changes for o in self.overlays)

    @property
    def failed(self) -> list[OverlayDiff]:
        return [o for o in self.overlays if o.status == "failed"]

    def totals(self) -> dict[str, int]:
        out = {"added": 0, "removed": 0, "changed": 0}
        for o in self.overlays:
            out["added"] += o.added
            out["removed"] += o.removed
            out["changed"] += o.changed
        return out


# ------------------------------------------------------------------------------ comparing values


def _key_segment(key: object) -> str:
    if isinstance(key, str):
        if _WORD.fullmatch(key) and len(key) <= KEY_LIMIT:
            return "." + key
        return "[" + json.dumps(_cut(key)) + "]"
    try:
        return "[" + json.dumps(key) + "]"  # a YAML key that is a number, boolean or null
    except (TypeError, ValueError):
        return "[" + json.dumps(_cut(str(key))) + "]"


def _cut(text: str) -> str:
    return text if len(text) <= KEY_LIMIT else text[:KEY_LIMIT] + "..."


def _item_segment(name: str) -> str:
    if _ITEM_NAME.fullmatch(name) and len(name) <= KEY_LIMIT:
        return f"[name={name}]"
    return f"[name={json.dumps(_cut(name))}]"


def _join(path: str, segment: str) -> str:
    return segment[1:] if not path and segment.startswith(".") else path + segment


def _named(items: list[Any]) -> dict[str, Any] | None:
    """The items by their ``name`` when every item is a map with a distinct string name."""
    out: dict[str, Any] = {}
    for item in items:
        if not isinstance(item, dict):
            return None
        name = item.get("name")
        if not isinstance(name, str) or name in out:
            return None
        out[name] = item
    return out


def same_scalar(a: object, b: object, rename: dict[str, str] | None = None) -> bool:
    """Two leaf values are the same: same type and value (YAML ``1`` is not ``true`` nor
    ``1.0``); NaN equals NaN; a generated name equals the name it was renamed to."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and math.isnan(a) and math.isnan(b):  # type: ignore[arg-type]
        return True
    if rename and isinstance(a, str) and rename.get(a) == b:
        return True
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - a value of a strange type: not the same
        return False


def field_changes(old: Any, new: Any, rename: dict[str, str] | None = None,
                  skip: frozenset[str] = frozenset()) -> Iterator[tuple[str, str, Any, Any]]:
    """(path, change, old value, new value) of every field where ``old`` and ``new`` differ, in the
    new document's order (then what only the old one has). Maps are compared key by key, lists of
    named maps item by name, other lists item by item; anything else (a scalar, or a map against a
    list) is one value. Each node is visited once, without recursion. ``skip``: top-level paths
    not compared. Values of ``rename`` (old string -> new string) are not a change."""
    stack: list[tuple[str, Any, Any]] = [("", old, new)]
    while stack:
        path, a, b = stack.pop()
        if path in skip:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            keys = list(b) + [k for k in a if k not in b]
            stack.extend(reversed([(_join(path, _key_segment(k)), a.get(k, ABSENT), b.get(k, ABSENT))
                                   for k in keys]))
        elif isinstance(a, list) and isinstance(b, list):
            by_a, by_b = _named(a), _named(b)
            if by_a is not None and by_b is not None:
                names = list(by_b) + [n for n in by_a if n not in by_b]
                stack.extend(reversed([(path + _item_segment(n), by_a.get(n, ABSENT), by_b.get(n, ABSENT))
                                       for n in names]))
            else:
                stack.extend(reversed([(f"{path}[{i}]", a[i] if i < len(a) else ABSENT,
                                        b[i] if i < len(b) else ABSENT) for i in range(max(len(a), len(b)))]))
        elif a is ABSENT:
            if b is not ABSENT:
                yield path, "added", ABSENT, b
        elif b is ABSENT:
            yield path, "removed", a, ABSENT
        elif isinstance(a, (dict, list)) or isinstance(b, (dict, list)) or not same_scalar(a, b, rename):
            yield path, "changed", a, b


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def preview(value: Any, limit: int = VALUE_LIMIT) -> tuple[str, bool]:
    """The value's compact JSON text, and whether it is cut (or only a description)."""
    try:
        text = _ENCODER.encode(value)
    except (TypeError, ValueError, RecursionError):
        try:
            text = str(value)
        except Exception:  # noqa: BLE001
            text = f"<a {type(value).__name__}>"
        return escape(text[:limit]), True
    if len(text) > limit:
        return text[:limit], True
    return text, False


# ------------------------------------------------------------------------------ comparing renders

Key = tuple[str, str, "str | None", str, bool, int]  # group, kind, namespace, name, generated, occurrence


def _group(obj: K8sObject) -> str:
    return obj.api_version.rpartition("/")[0] if "/" in obj.api_version else ""


def _base_name(obj: K8sObject) -> str | None:
    """The name without kustomize's content hash, for a generated ConfigMap or Secret."""
    if GENERATORS.get(obj.generated_by or "") != obj.kind:
        return None
    stripped = _HASH.sub("", obj.name)
    return stripped if stripped != obj.name and stripped else None


def _index(objects: list[K8sObject]) -> dict[Key, K8sObject]:
    out: dict[Key, K8sObject] = {}
    for obj in objects:
        stem = _base_name(obj)
        generated = stem is not None
        base = (_group(obj), obj.kind, obj.namespace, stem if generated else obj.name, generated)
        n = 0
        while (*base, n) in out:  # a duplicate (kustomize refuses them; hand-made input may not)
            n += 1
        out[(*base, n)] = obj  # type: ignore[assignment]
    return out


class _Hider:
    """Decides which values may be shown: never a Secret's data, never what the scrubbing of
    either render would hide."""

    MEMO = 100_000  # answers kept: values repeat (labels, names, images) across a render

    def __init__(self, secrets: list[SecretValues]) -> None:
        self.secrets = secrets
        self.overflowed = any(s.overflowed for s in secrets)
        self._memo: dict[str, bool] = {}

    def hides(self, text: str) -> bool:
        if self.overflowed:
            return True
        known = self._memo.get(text)
        if known is not None:
            return known
        hidden = any(values.scrub(text) != text for values in self.secrets)
        # (overflow is known only once the values are collected, by the first scrub)
        self.overflowed = any(s.overflowed for s in self.secrets)
        if len(self._memo) < self.MEMO:
            self._memo[text] = hidden
        return hidden or self.overflowed


def _object_change(change: str, obj: K8sObject) -> ObjectChange:
    return ObjectChange(change, _group(obj), obj.kind, obj.namespace, obj.name)


def _fields(old: K8sObject, new: K8sObject, *, rename: dict[str, str], hider: _Hider, skip: frozenset[str],
            into: ObjectChange) -> None:
    secret = "Secret" in (old.kind, new.kind)
    for path, change, a, b in field_changes(old.doc, new.doc, rename, skip):
        if len(into.fields) >= MAX_FIELDS:
            into.fields_omitted += 1
            continue
        if secret and _TOP.match(path).group(0) in SECRET_FIELDS:  # type: ignore[union-attr]
            into.fields.append(FieldChange(path, change, hidden=True))
            continue
        (old_text, old_cut), (new_text, new_cut) = (
            preview(v) if v is not ABSENT else (None, False) for v in (a, b))
        if any(t is not None and hider.hides(t) for t in (old_text, new_text)):
            into.fields.append(FieldChange(path, change, hidden=True))
            continue
        into.fields.append(FieldChange(path, change, old_text, new_text, truncated=old_cut or new_cut))


def compare(base: list[K8sObject], head: list[K8sObject], secrets: list[SecretValues],
            into: OverlayDiff) -> None:
    """Fill ``into`` with the object changes from ``base`` (REF) to ``head`` (working tree)."""
    old, new = _index(base), _index(head)
    rename = {o.name: new[k].name for k, o in old.items() if k[4] and k in new and new[k].name != o.name}
    hider = _Hider(secrets)
    keys = sorted(set(new) | set(old), key=lambda k: (k[1], k[2] or "", k[3], k[0], k[4], k[5]))
    for key in keys:
        a, b = old.get(key), new.get(key)
        if a is not None and b is not None:
            renamed = a.name != b.name
            item = _object_change("content-changed" if renamed else "changed", b)
            if renamed:
                item.base_name = a.name
            _fields(a, b, rename=rename, hider=hider, into=item,
                    skip=frozenset({"metadata.name"}) if renamed else frozenset())
            if not item.fields and not item.fields_omitted:
                continue
            into.changed += 1
        elif b is not None:
            item = _object_change("added", b)
            into.added += 1
        elif a is not None:
            item = _object_change("removed", a)
            into.removed += 1
        else:
            continue
        if len(into.changes) < MAX_CHANGES:
            into.changes.append(item)
        else:
            into.changes_omitted += 1
    if hider.overflowed:
        into.notes.append("too many secret values to tell which values are safe to show: every value is hidden")


# ------------------------------------------------------------------------------ the command


def parser() -> argparse.ArgumentParser:
    from policycheck.cli import _Parser, add_render_options  # noqa: PLC0415 - loaded when used

    p = _Parser(
        prog="policycheck diff",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Print, per overlay, what a change does to the rendered objects: every overlay rendered "
        "at git revision REF (its tree written to a temporary directory; the work tree is never touched) and "
        "in the working tree, with the same safety settings as the check, and compared object by object.",
        epilog="""\
objects are matched by API group, kind, namespace and name:
  + added, - removed, ~ changed with each changed field (dotted path, old -> new);
  items of lists of named maps are matched by name: containers[name=api].image
  a generated ConfigMap/Secret whose name hash changed: one "content changed" line,
  and references to its new name are not changes
  Secret data/stringData and anything the secret scrubbing would hide: "(value hidden)"

formats:
  text      (default) one block per overlay
  markdown  for a pull request comment: one <details> section per overlay
            ("N added, M removed, K changed"), cut at --max-length characters
            with a note of what was left out
  json      {"version": 1, ...}: the schema is policycheck/report/diff_json.py

exit codes:
  0  the diff was produced (with or without changes)
  1  with --exit-code: a change, or an overlay that could not be compared
  2  usage error, REF is no git revision (or no repository, no git),
     or no overlay could be compared (one stderr line)
an overlay whose render fails at REF or in the working tree is reported in
the output and in one stderr line; the others are still compared.""",
    )
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="overlay, or directory searched for overlays, in the working tree and at REF "
                   "(default: overlays)")
    p.add_argument("--base", metavar="REF", required=True, help="git revision to compare with (a commit, "
                   "branch or tag: origin/main, HEAD~1)")
    p.add_argument("--format", choices=FORMATS, default="text", help="text (default), markdown or json")
    p.add_argument("-o", "--output", metavar="FILE", help="write the diff here instead of stdout")
    p.add_argument("--max-length", type=int, default=DEFAULT_MAX_LENGTH, metavar="CHARS",
                   help=f"cap of the markdown report (default {DEFAULT_MAX_LENGTH:,}; GitHub comments hold 65,536)")
    p.add_argument("--exit-code", action="store_true",
                   help="exit 1 when anything changed or an overlay could not be compared (as git diff)")
    add_render_options(p, "limit of each render, and of writing the tree at REF")
    return p


def main(argv: list[str]) -> int:
    """``policycheck diff``; a PolicycheckError (one line, exit 2) on bad input."""
    from policycheck.cli import check_render_limits, write_output  # noqa: PLC0415 - loaded when used

    args = parser().parse_args(argv)
    check_render_limits(args)
    if not MIN_MAX_LENGTH <= args.max_length <= MAX_MAX_LENGTH:
        raise PolicycheckError(f"usage: --max-length must be between {MIN_MAX_LENGTH} and {MAX_MAX_LENGTH}")
    if args.output is not None and not args.output:
        raise PolicycheckError("usage: -o/--output: no file name")
    report = build(args)
    text = render(report, args.format, max_length=args.max_length)
    write_output(text, args.output)
    failed = report.failed
    if failed:
        first = failed[0]
        what = f"{len(failed)} of {len(report.overlays)} overlays could not be compared; first: "
        line = f"{first.path}: {first.error}"
        if len(failed) == len(report.overlays):
            raise PolicycheckError(f"diff: {line}" if len(failed) == 1 else f"diff: {what}{line}")
        print(f"policycheck: diff: {escape(what + line)}", file=sys.stderr)
    if args.exit_code and (report.has_changes or failed):
        return 1
    return 0


def render(report: DiffReport, fmt: str, *, max_length: int = DEFAULT_MAX_LENGTH) -> str:
    if fmt == "json":
        from policycheck.report import diff_json  # noqa: PLC0415 - loaded when used

        return diff_json.render(report)
    if fmt == "markdown":
        from policycheck.report import diff_markdown  # noqa: PLC0415 - loaded when used

        return diff_markdown.render(report, max_length=max_length)
    from policycheck.report import diff_text  # noqa: PLC0415 - loaded when used

    return diff_text.render(report)


def _discover_side(raw: str, where: Path, tree: Path | None) -> list[PurePosixPath] | str:
    """The overlays at ``where`` as paths from the top level (of the work tree, or of ``tree``),
    or why there are none."""
    from policycheck.launch import discover  # noqa: PLC0415 - loaded when used

    if not where.is_dir():
        return f"{raw}: no such directory"
    try:
        found, _ = discover([str(where)])
    except PolicycheckError as exc:
        return str(exc)
    return [PurePosixPath(p.resolve().relative_to(tree).as_posix()) if tree else PurePosixPath(p.as_posix())
            for p in found]


def build(args: argparse.Namespace) -> DiffReport:
    """Render both sides of every overlay and compare them."""
    from policycheck import baseref  # noqa: PLC0415 - loaded when used
    from policycheck.launch import RENDER_WORKERS, find_kustomize, start_renders  # noqa: PLC0415 - loaded when used

    revision = baseref.resolve(args.base)
    paths = args.paths or ["overlays"]
    relative = [revision.relative(Path(raw)) for raw in paths]  # (an overlay outside the repository: error)
    heads: dict[PurePosixPath, None] = {}
    head_errors: dict[str, str] = {}
    for raw in paths:
        found = _discover_side(raw, Path(raw), None)
        if isinstance(found, str):
            head_errors[raw] = found
            continue
        for p in found:
            heads.setdefault(revision.relative(Path(p)), None)
    kustomize = find_kustomize(args.kustomize)
    head_list = list(heads)
    settings = {"timeout": args.timeout, "memory_mib": args.memory_limit, "allow_remote": args.allow_remote}
    head_renders = start_renders([_shown(revision, r) for r in head_list], kustomize, workers=RENDER_WORKERS,
                                 **settings)
    try:
        with baseref.materialise(revision, args.timeout) as tree:
            bases: dict[PurePosixPath, None] = {}
            for raw, rel in zip(paths, relative, strict=True):
                found = _discover_side(raw, tree / rel, tree)
                if isinstance(found, str):
                    if raw in head_errors:  # nothing on either side
                        raise PolicycheckError(head_errors[raw] if Path(raw).exists() else f"{escape(raw)}: no "
                                               f"such directory in the working tree or at {escape(revision.ref)}")
                    continue
                for p in found:
                    bases.setdefault(p, None)
            base_list = list(bases)
            base_renders = start_renders([tree / r for r in base_list], kustomize, workers=RENDER_WORKERS,
                                         **settings)
            try:
                return _compare_all(revision, tree, head_list=head_list, head_renders=head_renders,
                                    base_list=base_list, base_renders=base_renders)
            finally:
                base_renders.shutdown()  # no kustomize left reading the tree when it is removed
    finally:
        head_renders.shutdown()


def _shown(revision: Any, rel: PurePosixPath) -> Path:
    """The overlay's path as the check shows it: from the working directory."""
    return Path(os.path.relpath(revision.toplevel / rel))


def _result(renders: Any, i: int, tree: Path | None) -> tuple[Any, str | None]:
    try:
        return renders.futures[i].result(), None
    except PolicycheckError as exc:
        message = str(exc)
        if tree is not None:
            for spelling in {str(tree), os.path.relpath(tree)}:
                message = message.replace(spelling + os.sep, "").replace(spelling, ".")
        return None, escape(message)
    except Exception as exc:  # noqa: BLE001 - recorded on the overlay, never the end of the run
        return None, f"internal error ({type(exc).__name__}); this is a policycheck bug"


def _compare_all(revision: Any, tree: Path, *, head_list: list[PurePosixPath], head_renders: Any,
                 base_list: list[PurePosixPath], base_renders: Any) -> DiffReport:
    report = DiffReport(revision.ref, revision.commit)
    head_at = {rel: i for i, rel in enumerate(head_list)}
    base_at = {rel: i for i, rel in enumerate(base_list)}
    order = head_list + sorted(r for r in base_list if r not in head_at)
    for rel in order:
        item = OverlayDiff(_shown(revision, rel).as_posix(), "compared")
        head, head_error = _result(head_renders, head_at[rel], None) if rel in head_at else (None, None)
        base, base_error = _result(base_renders, base_at[rel], tree) if rel in base_at else (None, None)
        if head is not None:
            item.head_objects = len(head.objects)
        if base is not None:
            item.base_objects = len(base.objects)
        if head_error or base_error:
            item.status = "failed"
            item.error_side = "both" if head_error and base_error else "head" if head_error else "base"
            where = {"head": "in the working tree", "base": f"at {revision.ref}", "both": "on both sides"}
            item.error = f"render failed {where[item.error_side]}: {head_error or base_error}"
        elif rel not in base_at:
            item.status = "added"
        elif rel not in head_at:
            item.status = "removed"
        else:
            compare(base.objects, head.objects, [base.secrets, head.secrets], item)
        report.overlays.append(item)
    return report
