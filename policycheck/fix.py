"""``policycheck fix``: Kustomize patches for the findings that have a safe mechanical fix.

    policycheck fix [PATH ...]               print the patches that would be written
    policycheck fix [PATH ...] --write DIR   write them under DIR/<overlay>/policycheck-fix/

Each overlay is checked as ``policycheck`` checks it (built-in rules; the Rego
stage does not run). For every object with fixable findings one RFC 6902 JSON
patch is planned against the object **as this overlay renders it now**, applied
to the render with ``jsonpatch`` and verified by running the rules again on the
patched render: the fixed findings must be gone and no new one may appear;
a patch that fails this is dropped and its findings listed as unfixed.

What is fixed (only where the field is unset: an explicit value is the author's
choice and stays, with the finding listed under "no automatic fix"):

- privilege-escalation: ``allowPrivilegeEscalation: false`` (not on a privileged
  container, nor one adding SYS_ADMIN: the API server refuses that pair);
- capabilities: ``drop: [ALL]`` (added capabilities are never removed);
- seccomp-profile: ``seccompProfile: {type: RuntimeDefault}`` on the pod (or
  ``type`` in a profile that lacks one);
- service-account-token: ``automountServiceAccountToken: false`` on the pod;
- run-as-non-root: ``runAsNonRoot: true`` where the effective ``runAsUser`` is a
  non-zero uid (a uid is never guessed);
- read-only-root-fs: ``readOnlyRootFilesystem: true`` plus an ``emptyDir``
  mounted at ``/tmp`` unless the container mounts ``/tmp`` already.

Containers are addressed by index in the render; every patch starts with a
``test`` operation on the name of each container it touches, so if the
containers move (a base adds one in front) kustomize stops with an error
instead of patching the wrong container: run ``policycheck fix`` again then.
Patches target the object by kind and name (and namespace) as they are when the
overlay's ``patches:`` apply, that is before the overlay's own ``namePrefix``,
``nameSuffix`` and ``namespace``.

kustomize loads patch files only from inside the overlay (root-only load
restrictor), so the files are written to DIR/<overlay>/policycheck-fix/ and the
printed ``patches:`` entries name them relative to the overlay once that folder
is copied next to its kustomization (the command to copy it is printed too).
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import os
import posixpath
import re
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policycheck import engine, k8s
from policycheck.access import Shape, type_name
from policycheck.errors import PolicycheckError
from policycheck.launch import kustomization_file, read_kustomization
from policycheck.render import Rendered
from policycheck.textsafe import escape

TMP = "/tmp"  # noqa: S108 - the path a fix mounts an emptyDir at, not a file we use
# The folder of an overlay's generated patch files (relative to the overlay, after copying).
FOLDER = "policycheck-fix"
Keys = tuple[str | int, ...]


class _Missing:
    """An absent (or null) value: falsy, so ``value or ()`` reads as empty."""

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


class NoFix(Exception):  # noqa: N818 - a verdict, not an error
    """This finding has no safe mechanical fix; the message says why."""


def pointer(keys: Keys) -> str:
    """The RFC 6901 JSON pointer of a key path."""
    return "".join("/" + str(k).replace("~", "~0").replace("/", "~1") for k in keys)


def _shown(value: Any) -> str:
    """A value the author set, for a reason: booleans as YAML writes them, others by type only."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and 0 < len(value) <= 40:
        return repr(value)
    return f"a {type_name(value)}"


class Editor:
    """A working copy of one object and the RFC 6902 operations that lead to it.

    Fixers first ``read`` (which refuses a path through a value of the wrong type),
    then ``set``/``append``; a node this patch created is filled in place (its ``add``
    operation holds that very node), so one container's new securityContext is one
    operation, not one per field.
    """

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = copy.deepcopy(doc)
        self.ops: list[dict[str, Any]] = []
        self.tests: dict[Keys, dict[str, Any]] = {}
        self._created: set[Keys] = set()

    def read(self, keys: Keys) -> Any:
        """The value at ``keys``; MISSING when it or a parent is absent or null; NoFix when a
        parent has the wrong type (fixing that is not mechanical)."""
        node: Any = self.doc
        for depth, key in enumerate(keys):
            if isinstance(key, int):
                if not isinstance(node, list) or not 0 <= key < len(node):
                    raise NoFix(f"{pointer(keys[:depth])} is not a list with item {key}")
                node = node[key]
            else:
                if not isinstance(node, dict):
                    raise NoFix(f"{pointer(keys[:depth])} is not a mapping")
                node = node.get(key)
            if node is None:
                return MISSING
        return node

    def writable(self, keys: Keys) -> None:
        """NoFix unless every existing parent of ``keys`` is a mapping (or a list for an index)."""
        parent = self.read(keys[:-1])
        if parent is not MISSING and not isinstance(parent, dict):
            raise NoFix(f"{pointer(keys[:-1])} is not a mapping")

    def _inside_created(self, keys: Keys) -> bool:
        return any(keys[:n] in self._created for n in range(1, len(keys) + 1))

    def set(self, keys: Keys, value: Any) -> None:
        """Set ``keys`` to ``value``, creating missing (or null) parents as mappings."""
        node: Any = self.doc
        for depth, key in enumerate(keys):
            here = keys[: depth + 1]
            if isinstance(key, int):
                node = node[key]
                continue
            current = node.get(key)
            last = depth == len(keys) - 1
            if last or current is None:
                new = value
                for inner in reversed(keys[depth + 1:]):
                    new = {inner: new}
                node[key] = new
                if not self._inside_created(here):
                    self.ops.append({"op": "add", "path": pointer(here), "value": new})
                    if isinstance(new, dict | list):
                        self._created.add(here)
                return
            node = current

    def append(self, keys: Keys, item: Any) -> None:
        """Append ``item`` to the list at ``keys`` (created when missing)."""
        current = self.read(keys)
        if current is MISSING:
            self.set(keys, [item])
            return
        current.append(item)
        if not self._inside_created(keys):
            self.ops.append({"op": "add", "path": pointer(keys) + "/-", "value": item})

    def guard(self, container: Keys, name: str) -> None:
        """Make the patch fail to apply unless the container at this index has this name."""
        self.tests.setdefault(container, {"op": "test", "path": pointer((*container, "name")), "value": name})

    def patch(self) -> list[dict[str, Any]]:
        return copy.deepcopy([*self.tests.values(), *self.ops])


@dataclass
class Where:
    """What a fixer works on: the pod spec's keys and, for container findings, the container."""

    pod: Keys
    container: Keys | None = None
    name: str | None = None
    list_name: str | None = None
    dotted: str | None = None  # the container's dotted path, as findings write it


def _container(e: Editor, w: Where) -> Keys:
    if w.container is None:
        raise NoFix("no container to fix")
    if w.list_name == "ephemeralContainers":
        raise NoFix("ephemeral containers are added through their own subresource, not by a patch")
    if not isinstance(w.name, str) or not w.name:
        raise NoFix("the container has no name to check the patch against")
    e.guard(w.container, w.name)
    return w.container


def _unset_or(e: Editor, keys: Keys, wanted: Any, what: str) -> bool:
    """True when ``keys`` is unset (the fix may set it); False when this patch already set it."""
    current = e.read(keys)
    if current is MISSING:
        e.writable(keys)
        return True
    if current == wanted and type(current) is type(wanted):
        return False
    raise NoFix(f"{what} is set to {_shown(current)} explicitly: an author's choice, change it where it is set")


def fix_privilege_escalation(e: Editor, w: Where, finding: Any, options: dict[str, Any]) -> None:
    sc = (*_container(e, w), "securityContext")
    if e.read((*sc, "privileged")) is True:
        raise NoFix("the container is privileged: the API server refuses allowPrivilegeEscalation: false with it")
    adds = e.read((*sc, "capabilities", "add"))
    if isinstance(adds, list) and {"SYS_ADMIN", "CAP_SYS_ADMIN"} & {a for a in adds if isinstance(a, str)}:
        raise NoFix("the container adds SYS_ADMIN: the API server refuses allowPrivilegeEscalation: false with it")
    if _unset_or(e, (*sc, "allowPrivilegeEscalation"), False, "allowPrivilegeEscalation"):
        e.set((*sc, "allowPrivilegeEscalation"), False)


def fix_capabilities(e: Editor, w: Where, finding: Any, options: dict[str, Any]) -> None:
    if not (finding.field or "").endswith(".drop"):
        raise NoFix("an added capability is the author's choice: remove it by hand if the workload can do without")
    drop = (*_container(e, w), "securityContext", "capabilities", "drop")
    current = e.read(drop)
    if current is MISSING:
        e.writable(drop)
    elif not isinstance(current, list):
        raise NoFix(f"capabilities.drop is {_shown(current)}, not a list")
    elif "ALL" in current:
        return
    e.append(drop, "ALL")


def fix_seccomp_profile(e: Editor, w: Where, finding: Any, options: dict[str, Any]) -> None:
    # The rule points at the container's own profile when it sets one, else at the pod's.
    if w.dotted is not None and (finding.field or "").startswith(w.dotted + "."):
        profile = (*_container(e, w), "securityContext", "seccompProfile")
    else:
        profile = (*w.pod, "securityContext", "seccompProfile")
    current = e.read(profile)
    if current is MISSING:
        e.writable(profile)
        e.set(profile, {"type": "RuntimeDefault"})
        return
    if not isinstance(current, dict):
        raise NoFix(f"seccompProfile is {_shown(current)}, not a mapping")
    if _unset_or(e, (*profile, "type"), "RuntimeDefault", "seccompProfile.type"):
        e.set((*profile, "type"), "RuntimeDefault")


def fix_service_account_token(e: Editor, w: Where, finding: Any, options: dict[str, Any]) -> None:
    keys = (*w.pod, "automountServiceAccountToken")
    if _unset_or(e, keys, False, "automountServiceAccountToken"):
        e.set(keys, False)


def fix_run_as_non_root(e: Editor, w: Where, finding: Any, options: dict[str, Any]) -> None:
    if not (finding.field or "").endswith(".runAsNonRoot"):
        raise NoFix("runs as uid 0: choose a non-zero uid the image works with; policycheck never guesses one")
    sc = (*_container(e, w), "securityContext")
    pod_sc = (*w.pod, "securityContext")
    pod_value = e.read((*pod_sc, "runAsNonRoot"))
    if e.read((*sc, "runAsNonRoot")) is MISSING and pod_value is not MISSING and pod_value is not True:
        raise NoFix(f"the pod sets runAsNonRoot to {_shown(pod_value)} explicitly: an author's choice")
    user = e.read((*sc, "runAsUser"))
    if user is MISSING:
        user = e.read((*pod_sc, "runAsUser"))
    if user is MISSING:
        raise NoFix("runAsUser is not set: policycheck never guesses a uid (set a non-zero runAsUser, then run "
                    "fix again)")
    if isinstance(user, bool) or not isinstance(user, int) or user <= 0:
        raise NoFix(f"runAsUser is {user if isinstance(user, int) and not isinstance(user, bool) else _shown(user)}, "
                    "not a non-zero uid")
    if _unset_or(e, (*sc, "runAsNonRoot"), True, "runAsNonRoot"):
        e.set((*sc, "runAsNonRoot"), True)


_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


def volume_name(container: str, taken: set[str]) -> str:
    """A DNS-label volume name for a container's /tmp that no volume of the pod has."""
    base = f"tmp-{container}"
    if len(base) > 63 or not _DNS_LABEL.fullmatch(base):
        base = "tmp"
    name, n = base, 1
    while name in taken:
        n += 1
        suffix = f"-{n}"
        name = base[: 63 - len(suffix)].rstrip("-") + suffix
    return name


def fix_read_only_root_fs(e: Editor, w: Where, finding: Any, options: dict[str, Any]) -> None:
    c = _container(e, w)
    flag = (*c, "securityContext", "readOnlyRootFilesystem")
    if not _unset_or(e, flag, True, "readOnlyRootFilesystem"):
        return
    mounts = e.read((*c, "volumeMounts"))
    if mounts is not MISSING and not isinstance(mounts, list):
        raise NoFix(f"volumeMounts is {_shown(mounts)}, not a list")
    has_tmp = any(isinstance(m, dict) and isinstance(m.get("mountPath"), str)
                  and posixpath.normpath(m["mountPath"]) == TMP for m in mounts or ())
    if not has_tmp:
        volumes = e.read((*w.pod, "volumes"))
        if volumes is not MISSING and not isinstance(volumes, list):
            raise NoFix(f"the pod's volumes is {_shown(volumes)}, not a list")
        taken = {v["name"] for v in volumes or () if isinstance(v, dict) and isinstance(v.get("name"), str)}
        name = volume_name(w.name or "", taken)
    e.set(flag, True)
    if not has_tmp:
        e.append((*w.pod, "volumes"), {"name": name, "emptyDir": {}})
        e.append((*c, "volumeMounts"), {"name": name, "mountPath": TMP})


# rule id -> its fixer. A fixer raises NoFix, or edits the object so the finding goes away.
FIXERS: dict[str, Callable[[Editor, Where, Any, dict[str, Any]], None]] = {
    "privilege-escalation": fix_privilege_escalation,
    "capabilities": fix_capabilities,
    "seccomp-profile": fix_seccomp_profile,
    "service-account-token": fix_service_account_token,
    "run-as-non-root": fix_run_as_non_root,
    "read-only-root-fs": fix_read_only_root_fs,
}


# -- planning: one patch per object ------------------------------------------------------------------

@dataclass
class ObjectPatch:
    """The patch of one object: its target, operations and the findings it fixes."""

    kind: str
    name: str  # as the object is named when the overlay's patches apply
    namespace: str | None
    target: dict[str, str]
    ops: list[dict[str, Any]]
    fixed: list[Any]  # Finding
    file: str = ""  # file name inside FOLDER


@dataclass
class OverlayPlan:
    overlay: str
    patches: list[ObjectPatch] = field(default_factory=list)
    unfixed: list[tuple[Any, str | None]] = field(default_factory=list)  # (Finding, why not)
    error: str | None = None


def _regex_literal(text: str) -> str:
    """kustomize matches a target's name and namespace as anchored regular expressions."""
    return re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\1", text)


def _kustomization(overlay: str) -> dict[str, Any]:
    path = kustomization_file(Path(overlay))
    data = read_kustomization(path) if path is not None else None
    return data if isinstance(data, dict) else {}


def target_of(obj: Any, kustomization: dict[str, Any]) -> tuple[str, str | None, dict[str, str]]:
    """(name, namespace, target) of an object when the overlay's ``patches:`` apply: before its own
    namePrefix, nameSuffix and namespace. NoFix when the rendered name does not carry them."""
    name = obj.name
    for key, cut in (("namePrefix", str.removeprefix), ("nameSuffix", str.removesuffix)):
        part = kustomization.get(key)
        if isinstance(part, str) and part:
            if cut(name, part) == name:
                raise NoFix(f"the rendered name does not carry the overlay's {key}: cannot tell its name to target")
            name = cut(name, part)
    if not name:
        raise NoFix("the object has no name to target")
    target = {"kind": obj.kind, "name": _regex_literal(name)}
    namespace = obj.namespace
    overlay_sets = kustomization.get("namespace")
    if isinstance(overlay_sets, str) and overlay_sets:
        namespace = None  # set after the patches apply: the object may have none yet
    elif namespace:
        target["namespace"] = _regex_literal(namespace)
    return name, namespace, target


def _locations(obj: Any) -> tuple[Keys, list[Where]] | None:
    pod = k8s.pod_template(obj)
    if pod is None:
        return None
    pod_keys: Keys = ("spec",) if obj.kind == "Pod" else (*k8s.POD_TEMPLATE_PATHS[obj.kind], "spec")
    wheres = [Where(pod_keys, (*pod_keys, c.list_name, c.index), c.spec.value.get("name"), c.list_name, c.path)
              for c in k8s.containers(pod)]
    return pod_keys, wheres


def _where(pod_keys: Keys, wheres: list[Where], finding: Any) -> Where:
    """The container a finding is about (by its field's path), else the pod."""
    f = finding.field or ""
    for w in wheres:
        if w.dotted and f.startswith(w.dotted + "."):
            return w
    return Where(pod_keys)


def plan_object(obj: Any, findings: list[Any], kustomization: dict[str, Any],
                options: Callable[[str], dict[str, Any]]) -> tuple[ObjectPatch | None, list[tuple[Any, str | None]]]:
    """The patch of one object for its fixable findings, and the findings it leaves."""
    located = _locations(obj)
    if located is None:
        return None, [(f, "not a pod or a workload") for f in findings]
    try:
        name, namespace, target = target_of(obj, kustomization)
    except NoFix as why:
        return None, [(f, str(why)) for f in findings]
    pod_keys, wheres = located
    editor = Editor(obj.doc)
    fixed: list[Any] = []
    unfixed: list[tuple[Any, str | None]] = []
    for finding in findings:
        tests = dict(editor.tests)
        try:
            FIXERS[finding.rule](editor, _where(pod_keys, wheres, finding), finding, options(finding.rule))
        except NoFix as why:
            editor.tests = tests
            unfixed.append((finding, str(why)))
            continue
        fixed.append(finding)
    if not editor.ops:
        return None, unfixed + [(f, "nothing to change") for f in fixed]
    return ObjectPatch(obj.kind, name, namespace, target, editor.patch(), fixed), unfixed


def _key(f: Any) -> tuple[Any, ...]:
    return (f.rule, f.obj.kind, f.obj.namespace, f.obj.name, f.field, f.container)


def _verify(rendered: Any, plans: dict[int, tuple[Any, ObjectPatch]], settings: Any, profile: Any) -> set[int]:
    """Apply every patch (jsonpatch) to its object of the render, run the rules on the patched
    render and return the ids of the objects whose patch does not hold: it does not apply, leaves
    a finding it claims to fix, or brings a new one (of any rule) on any object."""
    jsonpatch = _jsonpatch()
    bad: set[int] = set()
    patched_objects = []
    for obj in rendered.objects:
        plan = plans.get(id(obj))
        if plan is None:
            patched_objects.append(obj)
            continue
        try:
            doc = jsonpatch.JsonPatch(plan[1].ops).apply(obj.doc)
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException):
            bad.add(id(obj))
            patched_objects.append(obj)
            continue
        patched_objects.append(dataclasses.replace(obj, doc=doc, shape=Shape()))
    if bad:
        return bad
    originals = {id(new): old for new, old in zip(patched_objects, rendered.objects, strict=True)}
    before = {_key(f) for f in engine.run(rendered, profile, settings.kube_version, settings.today)}
    after = engine.run(Rendered(rendered.overlay, patched_objects, rendered.secrets), profile, settings.kube_version,
                       settings.today)
    claimed = {_key(f): id(obj) for obj, plan in plans.values() for f in plan.fixed}
    for f in after:
        k = _key(f)
        if k in claimed:
            bad.add(claimed[k])
        elif k not in before:
            culprit = id(originals.get(id(f.obj), f.obj))
            bad.add(culprit if culprit in plans else -1)
    return bad


UNVERIFIED = "the planned patch did not verify (a policycheck bug)"


def plan_overlay(result: Any, rendered: Any, settings: Any) -> OverlayPlan:
    """Every patch of one checked overlay, verified against its render."""
    plan = OverlayPlan(result.path)
    if result.error:
        plan.error = result.error
        return plan
    profile = settings.config.profile_for(result.path, settings.profile)
    kustomization = _kustomization(result.path)
    by_object: dict[int, tuple[Any, list[Any]]] = {}
    for f in result.findings:
        if f.exempted:
            continue
        if f.engine != "builtin" or f.rule not in FIXERS:
            plan.unfixed.append((f, None))
            continue
        by_object.setdefault(id(f.obj), (f.obj, []))[1].append(f)
    planned: dict[int, tuple[Any, ObjectPatch]] = {}
    for key, (obj, findings) in by_object.items():
        try:
            patch, left = plan_object(obj, findings, kustomization, profile.rule_options)
        except Exception as exc:  # noqa: BLE001 - one object's surprise must not end the run
            patch, left = None, [(f, f"internal error ({type(exc).__name__}); a policycheck bug") for f in findings]
        plan.unfixed.extend(left)
        if patch is not None:
            planned[key] = (obj, patch)
    for _ in range(3):  # a patch that fails verification is dropped, and the rest verified again
        if not planned:
            break
        bad = _verify(rendered, planned, settings, profile)
        if not bad:
            break
        for key in list(planned) if -1 in bad else bad & set(planned):
            plan.unfixed.extend((f, UNVERIFIED) for f in planned[key][1].fixed)
            del planned[key]
    else:
        for _, patch in planned.values():
            plan.unfixed.extend((f, UNVERIFIED) for f in patch.fixed)
        planned = {}
    plan.patches = [patch for _, patch in planned.values()]
    _name_files(plan.patches)
    return plan


def _name_files(patches: list[ObjectPatch]) -> None:
    used: set[str] = set()
    for p in patches:
        parts = [p.kind, *([p.namespace] if p.namespace else []), p.name]
        stem = re.sub(r"[^a-z0-9.-]+", "_", "-".join(parts).lower()).strip("._-")[:100] or "object"
        name, n = f"{stem}.yaml", 1
        while name in used:
            n += 1
            name = f"{stem}-{n}.yaml"
        used.add(name)
        p.file = name


def _jsonpatch() -> Any:
    try:
        import jsonpatch  # noqa: PLC0415 - only `policycheck fix` needs it
    except ImportError:
        raise PolicycheckError("fix needs the jsonpatch package (pip install 'jsonpatch>=1.33')") from None
    return jsonpatch


# -- output ------------------------------------------------------------------------------------------

def patch_text(overlay: str, patch: ObjectPatch) -> str:
    """A patch file: a comment on what and why, then the operations as YAML."""
    import yaml  # noqa: PLC0415

    lines = [f"# policycheck fix: {escape(patch.kind)} {escape(patch.name)} of overlay {escape(overlay)}.",
             "# RFC 6902 operations against that overlay's render when this was generated; each `test` stops",
             "# the build if a container has moved since (then run `policycheck fix` again). Fixes:"]
    lines += dict.fromkeys(f"#   {f.rule}: {escape(f.field or '')}" for f in patch.fixed)
    body = yaml.safe_dump(patch.ops, sort_keys=False, default_flow_style=False, allow_unicode=False, width=1000)
    return "\n".join(lines) + "\n" + body


def entries_text(plan: OverlayPlan) -> str:
    """The ``patches:`` entries to add to the overlay's kustomization."""
    import yaml  # noqa: PLC0415

    out = ["patches:"]
    for p in plan.patches:
        target = yaml.safe_dump(p.target, default_flow_style=True, sort_keys=False, allow_unicode=False,
                                width=1000).strip()
        out += [f"  - path: {FOLDER}/{p.file}", f"    target: {target}"]
    return "\n".join(out) + "\n"


def layout(overlay: str) -> Path:
    """Where an overlay's folder goes under DIR: its path from the working directory (or, outside
    it, its absolute path without the root)."""
    absolute = os.path.abspath(overlay)
    rel = os.path.relpath(absolute, os.getcwd())
    if rel == os.pardir or rel.startswith(os.pardir + os.sep):
        rel = os.path.splitdrive(absolute)[1].lstrip(os.sep)
    return Path(rel)


def check_dir(raw: str) -> Path:
    """--write DIR: not inside a .git directory, and a directory if it exists."""
    if not raw:
        raise PolicycheckError("usage: --write: no directory given")
    resolved = Path(os.path.realpath(raw))
    if any(part.lower() == ".git" for part in resolved.parts):
        raise PolicycheckError(f"usage: --write {escape(raw)}: inside a .git directory; choose a directory outside it")
    if resolved.exists() and not resolved.is_dir():
        raise PolicycheckError(f"usage: --write {escape(raw)}: exists and is not a directory")
    return Path(raw)


def _files(plans: list[OverlayPlan], root: Path) -> list[tuple[Path, str]]:
    return [(root / layout(plan.overlay) / FOLDER / p.file, patch_text(plan.overlay, p))
            for plan in plans for p in plan.patches]


def write_files(files: list[tuple[Path, str]], force: bool) -> None:
    """Write every file, or none when one exists (unless ``force``); never through a symlink,
    never into a .git directory."""
    for path, _ in files:
        if os.path.lexists(path):
            if not force:
                more = sum(os.path.lexists(p) for p, _ in files) - 1
                extra = f" (and {more} more)" if more else ""
                raise PolicycheckError(f"{escape(path)} exists{extra}: nothing written; use --force to overwrite, "
                                       "or another --write directory")
            if os.path.islink(path) or not os.path.isfile(path):
                raise PolicycheckError(f"{escape(path)} exists and is not a regular file: nothing written")
    for path, text in files:
        path.parent.mkdir(parents=True, exist_ok=True)
        if any(part.lower() == ".git" for part in Path(os.path.realpath(path.parent)).parts):
            raise PolicycheckError(f"{escape(path.parent)} leads into a .git directory: stopped")
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0) | (0 if force else os.O_EXCL)
        try:
            fd = os.open(path, flags, 0o644)
        except OSError as exc:
            raise PolicycheckError(f"cannot write {escape(path)}: {exc.strerror}") from None
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)


def _unfixed_lines(plan: OverlayPlan) -> list[str]:
    out = []
    for f, why in sorted(plan.unfixed, key=lambda item: item[0].sort_key()):
        where = f" container {escape(f.container)}" if f.container else ""
        out.append(f"  {f.rule}  {escape(f.obj.kind)}/{escape(f.obj.name)}{where}  {escape(f.field or '-')}"
                   + (f": {escape(why)}" if why else ""))
    return out


def report(plans: list[OverlayPlan], root: Path | None, written: bool) -> str:
    """What was (or would be) written, the entries to add, and what has no automatic fix."""
    out: list[str] = []
    for plan in plans:
        if plan.error:
            out.append(f"{escape(plan.overlay)}: not checked: {escape(plan.error)}")
            out.append("")
            continue
        fixed = sum(len(p.fixed) for p in plan.patches)
        if not plan.patches:
            out.append(f"{escape(plan.overlay)}: nothing to fix automatically")
        else:
            out.append(f"{escape(plan.overlay)}: {len(plan.patches)} patch file(s) fixing {fixed} finding(s)")
            if root is None:
                for p in plan.patches:
                    out.append(f"--- {FOLDER}/{p.file}")
                    out.append(patch_text(plan.overlay, p).rstrip("\n"))
                out.append(f"(dry run: with --write DIR they go to DIR/{escape(layout(plan.overlay).as_posix())}/"
                           f"{FOLDER}/)")
            else:
                folder = root / layout(plan.overlay) / FOLDER
                verb = "wrote" if written else "would write"
                out.append(f"{verb} {escape(folder)}/: {', '.join(p.file for p in plan.patches)}")
                if not written:
                    for p in plan.patches:
                        out.append(f"--- {escape(folder / p.file)}")
                        out.append(patch_text(plan.overlay, p).rstrip("\n"))
                if os.path.abspath(folder.parent) == os.path.abspath(plan.overlay):
                    out.append("the folder is already next to the kustomization")
                else:
                    out.append(f"copy it next to the kustomization: cp -R {escape(shlex.quote(str(folder)))} "
                               f"{escape(shlex.quote(plan.overlay.rstrip('/') + '/'))}")
            kfile = kustomization_file(Path(plan.overlay))
            out.append(f"then add to the patches: of {escape(kfile.as_posix() if kfile else plan.overlay)}:")
            out.append(entries_text(plan).rstrip("\n"))
        if plan.unfixed:
            out.append(f"no automatic fix ({len(plan.unfixed)}):")
            out += _unfixed_lines(plan)
        out.append("")
    return "\n".join(out)


# -- command line ------------------------------------------------------------------------------------

def parser() -> argparse.ArgumentParser:
    from policycheck.cli import DEFAULT_KUBE_VERSION, _Parser, add_render_options  # noqa: PLC0415

    p = _Parser(prog="policycheck fix", formatter_class=argparse.RawDescriptionHelpFormatter,
                description="Write Kustomize patches (RFC 6902 JSON patches) for the findings that have a safe "
                "mechanical fix, and print the `patches:` entries to add to each overlay's kustomization. "
                "Never changes the overlays: without --write (or with --dry-run) it only prints.",
                epilog="What is fixed" + (__doc__ or "").split("What is fixed", 1)[-1].rstrip())
    p.add_argument("paths", nargs="*", metavar="PATH", help="overlay, or directory searched for overlays "
                   "(default: overlays)")
    p.add_argument("--write", metavar="DIR", help=f"write each overlay's patches to DIR/<overlay>/{FOLDER}/ "
                   "(DIR must not be inside .git)")
    p.add_argument("--dry-run", action="store_true", help="print what --write would write; write nothing")
    p.add_argument("--force", action="store_true", help="overwrite files that exist in DIR")
    p.add_argument("--config", metavar="FILE", help="policycheck.yaml (default: ./policycheck.yaml, "
                   "else [tool.policycheck] in ./pyproject.toml)")
    p.add_argument("--profile", metavar="NAME", help="profile for every overlay (default: chosen by path)")
    p.add_argument("--kube-version", metavar="X.Y", help=f"target Kubernetes (default {DEFAULT_KUBE_VERSION})")
    add_render_options(p, "limit of each overlay's render and rules")
    return p


def main(argv: list[str]) -> int:
    """``policycheck fix``: 0 when every overlay was checked (whatever it found), 2 otherwise."""

    from policycheck import check, config, schema  # noqa: PLC0415
    from policycheck.cli import DEFAULT_KUBE_VERSION, check_render_limits  # noqa: PLC0415
    from policycheck.launch import discover, find_kustomize, start_renders  # noqa: PLC0415

    args = parser().parse_args(argv)
    check_render_limits(args)
    if args.force and args.write is None:
        raise PolicycheckError("usage: --force overwrites files of --write DIR; no --write given")
    root = check_dir(args.write) if args.write is not None else None
    _jsonpatch()
    overlays, _ = discover(args.paths or ["overlays"])
    kustomize = find_kustomize(args.kustomize)
    renders = start_renders(overlays, kustomize, timeout=args.timeout, memory_mib=args.memory_limit,
                            allow_remote=args.allow_remote)
    try:
        cfg = config.load(args.config)
        kube_version = args.kube_version or cfg.kube_version or DEFAULT_KUBE_VERSION
        if kube_version not in schema.supported_versions():
            raise PolicycheckError(f"unsupported Kubernetes version {escape(kube_version)} "
                                   f"(have {', '.join(schema.supported_versions())})")
        if args.profile:
            cfg.profile_for("", args.profile)
        settings = check.Settings(kustomize=kustomize, config=cfg, kube_version=kube_version, profile=args.profile,
                                  timeout=args.timeout, memory_mib=args.memory_limit, allow_remote=args.allow_remote)
        result = check.check(overlays, settings, renders=renders)
        plans = []
        for i, overlay_result in enumerate(result.overlays):
            rendered = None if overlay_result.error else renders.futures[i].result(timeout=0)
            plans.append(plan_overlay(overlay_result, rendered, settings))
    finally:
        renders.shutdown()
    write = root is not None and not args.dry_run
    if write:
        write_files(_files(plans, root), args.force)
    sys.stdout.write(report(plans, root, written=write))
    sys.stdout.flush()
    errors = [p for p in plans if p.error]
    if errors:
        if len(errors) == 1:
            raise PolicycheckError(errors[0].error or "")
        raise PolicycheckError(f"{len(errors)} of {len(plans)} overlays could not be checked; first: {errors[0].error}")
    return 0
