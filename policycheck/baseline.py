"""New findings only (``--base REF``): which findings were already there at REF.

With ``--base REF`` every overlay is checked twice: as it is in the working
tree, and as it is at REF (its render from ``policycheck.baseref``, the same
render the rule ``immutable-field`` compares with: one per overlay). Both
checks use the working tree's configuration, profiles, selected rules and
Rego policies, so a finding is *new* exactly when the change to the
manifests made it appear; a change to ``policycheck.yaml`` or to a policy
applies to both sides and does not turn old defects into new ones. Rules
that compare with REF (``immutable-field``) have nothing to compare the base
render with, so their findings are always new.

A head finding is *baseline* when the check at REF has one with the same
``fingerprint``: the rule, the object's identity (kind, namespace, name, with
the hash suffix kustomize appends to generated ConfigMaps and Secrets taken
off), the field with list positions left out, and the container. No line and
no file: moving an object to another file, reordering documents, containers
or list items keeps its findings baseline; renaming the object (or moving it
to another namespace) makes them new, as the API server would see a new
object. Matching is one to one: positions are matched exactly first, so when
a container gains a second problem of the same kind, the new one is the one
reported new. Base findings no head finding matches are ``absent`` (fixed by
the change).

The exit code counts only new findings. An overlay added since REF has only
new findings; one whose render (or check) at REF fails has only new findings
and a note; one removed since REF is a note of the report.

This module loads only when ``--base`` is given.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path, PurePosixPath
from typing import Any

from policycheck import conftest, engine
from policycheck.check import COMPARES, compares, rego_job, wants_rego
from policycheck.errors import PolicycheckError
from policycheck.launch import discover, kustomization_file
from policycheck.model import Finding
from policycheck.names import without_hash
from policycheck.report import json as json_report

try:  # the built-in SHA-256, as policycheck.report does
    from _sha256 import sha256
except ImportError:  # pragma: no cover - an interpreter without it
    from hashlib import sha256

TYPE_CHECKING = False
if TYPE_CHECKING:
    from policycheck.baseref import Revision
    from policycheck.check import Settings
    from policycheck.config import Profile
    from policycheck.context import Base
    from policycheck.render import Rendered
    from policycheck.report import OverlayResult

_HASHED_KINDS = frozenset({"ConfigMap", "Secret"})
_POSITION = re.compile(r"\[\d+\]")


def object_name(kind: str, name: str, overlay: str) -> str:
    """The object's name as its identity: without a generator's hash suffix; the overlay's
    stand-in object (findings about the kustomization) is ``.``."""
    if kind == "Kustomization" and name == overlay:
        return "."
    if kind in _HASHED_KINDS:
        return without_hash(name)
    return name


def _parts(f: Finding, positions: bool) -> str:
    obj = f.obj
    field = f.field or ""
    if not positions:
        field = _POSITION.sub("[]", field)
    return "\x1f".join([f.rule, obj.kind, obj.namespace or "", object_name(obj.kind, obj.name, obj.overlay), field,
                        f.container or ""])


def fingerprint(f: Finding) -> str:
    """The finding's identity across revisions: rule, kind, namespace, name (no hash suffix),
    field (no list positions), container. No line, no file, no overlay."""
    return sha256(_parts(f, False).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def mark(findings: list[Finding], before: list[Finding]) -> list[Finding]:
    """Set ``baseline`` on every finding that ``before`` (the same overlay's findings at REF)
    also has, one to one; the findings of ``before`` that none matched (gone since REF)."""
    used = [False] * len(before)
    exact: dict[str, list[int]] = {}
    loose: dict[str, list[int]] = {}
    for i, b in enumerate(before):
        exact.setdefault(_parts(b, True), []).append(i)
        loose.setdefault(_parts(b, False), []).append(i)

    def take(candidates: list[int] | None) -> bool:
        for i in candidates or ():
            if not used[i]:
                used[i] = True
                return True
        return False

    pending = []
    for f in findings:  # positions first: of two alike, the one that was there is the old one
        f.baseline = take(exact.get(_parts(f, True)))
        if not f.baseline:
            pending.append(f)
    for f in pending:
        f.baseline = take(loose.get(_parts(f, False)))
    return [b for i, b in enumerate(before) if not used[i]]


# ------------------------------------------------------------------------------ the check at REF


def check_base(base: Base, settings: Settings, profile: Profile) -> list[Finding]:
    """The findings of the overlay's render at REF under the working tree's settings (raises
    PolicycheckError when that check fails)."""
    rendered: Rendered = base.rendered
    job = rego_job(rendered, settings, profile.name) if wants_rego(settings) else None
    deadline = time.monotonic() + settings.timeout - rendered.elapsed
    # No render before REF: the rules that compare with one find nothing here.
    findings = engine.run(rendered, profile, settings.kube_version, settings.today, only=settings.select,
                          house_rules=settings.house_rules, deadline=deadline, timeout=settings.timeout)
    if job is not None:
        house = conftest.to_findings(job(), rendered)
        if settings.select is not None:
            house = [f for f in house if f.rule in settings.select]
        findings.extend(engine.exempt(house, settings.house_rules, settings.today))
    return findings


def compare(result: OverlayResult, base: Base, settings: Settings, profile: Profile) -> None:
    """Mark the overlay's findings baseline or new against its check at REF; record what is gone."""
    name = result.path
    revision = settings.base
    if base.objects is None or base.rendered is None:
        if base.error is not None:
            result.notes.append(f"{name}: its render at {base.ref} failed ({base.error}); all its findings "
                                f"count as new")
        else:
            rule = COMPARES if compares(settings.select) and profile.level(COMPARES) is not None else None
            result.notes.append(f"{name} does not exist at {base.ref}: all its findings are new"
                                + (f", {rule} has nothing to compare with" if rule else ""))
        for f in result.findings:
            f.baseline = False
        return
    tree = _tree(base.rendered.overlay, revision.relative(Path(name))) if revision is not None else None
    try:
        before = check_base(base, settings, profile)
    except Exception as exc:  # noqa: BLE001 - the head check stands; without a baseline every finding is new
        why = str(exc) if isinstance(exc, PolicycheckError) else f"internal error ({type(exc).__name__})"
        why = base.rendered.secrets.scrub(why)
        if tree is not None:
            why = why.replace(str(tree) + os.sep, "").replace(str(tree), ".")
        result.notes.append(f"{name}: its check at {base.ref} failed ({why}); all its findings count as new")
        for f in result.findings:
            f.baseline = False
        return
    gone = mark(sorted(result.findings, key=Finding.sort_key), sorted(before, key=Finding.sort_key))
    result.absent = [as_head(f, name, revision, tree) for f in gone]


def _tree(rendered_at: str, relative: PurePosixPath) -> Path | None:
    """The temporary tree at REF, from where an overlay was rendered in it."""
    path = Path(os.path.abspath(rendered_at))
    parts = len(relative.parts)
    if parts and path.parts[-parts:] != relative.parts:
        return None
    return path.parents[parts - 1] if parts else path


def as_head(f: Finding, overlay: str, revision: Revision, tree: Path | None) -> Finding:
    """A finding of the render at REF as the report shows it: the overlay's path as given, files
    as their paths in the repository (relative to the working directory), not the temporary tree."""
    data = json_report.finding_dict(f)

    def path(value: Any) -> Any:
        if not isinstance(value, str) or tree is None:
            return value
        full = Path(value) if os.path.isabs(value) else Path(os.path.abspath(value))
        try:
            inside = full.relative_to(tree)
        except ValueError:
            return value
        return Path(os.path.relpath(revision.toplevel / inside)).as_posix()

    def source(value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        out = {**value, "file": path(value.get("file"))}
        if isinstance(value.get("via"), list):
            out["via"] = [source(v) for v in value["via"]]
        return out

    if data["kind"] == "Kustomization" and data["name"] == f.obj.overlay:
        data["name"] = overlay
    data.update(overlay=overlay, origin=path(data["origin"]), source=source(data["source"]))
    if tree is not None:  # (a message may name the overlay, which was rendered in the temporary tree)
        data["message"] = data["message"].replace(f.obj.overlay, overlay).replace(str(tree) + os.sep, "")
    out = json_report.finding_from(data)
    out.baseline = True
    return out


# ------------------------------------------------------------------------------ overlays gone since REF


def removed(paths: list[str], overlays: list[Path], revision: Revision, tree: Path) -> list[str]:
    """Overlays that a search of ``paths`` finds at REF but not in the working tree (as paths
    relative to the working directory)."""
    here = {revision.relative(o).as_posix() for o in overlays}
    gone: list[str] = []
    for raw in paths:
        if Path(raw).is_dir() and kustomization_file(Path(raw)) is not None:
            continue  # named as an overlay: checked here, nothing to search
        try:
            target = tree / revision.relative(Path(raw))
        except PolicycheckError:
            continue
        if not target.is_dir():
            continue
        try:
            found, _ = discover([str(target)])  # (paths relative to the working directory)
        except PolicycheckError:
            continue
        for overlay in found:
            try:
                rel = Path(os.path.abspath(overlay)).relative_to(tree).as_posix()
            except ValueError:
                continue
            if rel not in here:
                gone.append(Path(os.path.relpath(revision.toplevel / rel)).as_posix())
    return list(dict.fromkeys(gone))
