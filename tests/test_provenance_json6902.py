"""Findings on an object a JSON 6902 patch changed: a field the patch wrote points at the
operation (in a patch file or inside the kustomization's inline `patch: |-` block), and a field
it did not write keeps its base file's line, wherever the patch moved its list item to."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from policycheck import provenance
from policycheck.provenance import locate
from policycheck.render import render

ROLE = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: manager
rules:
- apiGroups: [""]
  resources: [secrets]
  verbs: [get]
- apiGroups: [""]
  resources: [configmaps]
  verbs: [watch]
- apiGroups: [""]
  resources: [pods]
  verbs: [list]
"""

NEW_RULE = '  value:\n    apiGroups: [""]\n    resources: [pods/exec]\n    verbs: [create]\n'

# name -> (operations, {rendered field: (where, text on the expected line)}); where is "base"
# (role.yaml) or "patch" (the line of the operations that holds the text).
CASES = {
    "add-append": ("- op: add\n  path: /rules/-\n" + NEW_RULE, {
        "rules[3].resources[0]": ("patch", "pods/exec"),
        "rules[3].verbs": ("patch", "verbs: [create]"),
        "rules[3]": ("patch", "op: add"),
        "rules[0].resources[0]": ("base", "[secrets]"),
        "rules[1].verbs": ("base", "[watch]"),
        "rules[2].resources": ("base", "[pods]"),
    }),
    "add-at-index": ("- op: add\n  path: /rules/0\n" + NEW_RULE, {
        "rules[0].resources[0]": ("patch", "pods/exec"),
        "rules[1].resources[0]": ("base", "[secrets]"),
        "rules[2].verbs": ("base", "[watch]"),
        "rules[3].resources": ("base", "[pods]"),
    }),
    "replace": ("- op: replace\n  path: /rules/1/verbs\n  value: [get, list]\n", {
        "rules[1].verbs": ("patch", "op: replace"),
        "rules[1].verbs[0]": ("patch", "value: [get, list]"),
        "rules[1].resources": ("base", "[configmaps]"),
        "rules[0].verbs": ("base", "[get]"),
    }),
    "replace-whole-list": ("- op: replace\n  path: /rules\n  value:\n  - apiGroups: ['']\n    resources: [nodes]\n"
                           "    verbs: [get]\n  - apiGroups: ['']\n    resources: [events]\n    verbs: [list]\n", {
        "rules[1].resources": ("patch", "[events]"),
        "rules[0].verbs": ("patch", "verbs: [get]"),
        "rules": ("patch", "op: replace"),
    }),
    "remove-shifts-later-items": ("- op: remove\n  path: /rules/0\n", {
        "rules[0].resources": ("base", "[configmaps]"),
        "rules[1].verbs": ("base", "[list]"),
    }),
    "move": ("- op: move\n  from: /rules/0\n  path: /rules/-\n", {
        "rules[0].resources": ("base", "[configmaps]"),
        "rules[1].resources": ("base", "[pods]"),
        "rules[2].resources": ("patch", "op: move"),
    }),
    "copy": ("- op: copy\n  from: /rules/2\n  path: /rules/0\n", {
        "rules[0].verbs": ("patch", "op: copy"),
        "rules[1].resources": ("base", "[secrets]"),
        "rules[3].resources": ("base", "[pods]"),
    }),
    "test-is-ignored": ("- op: test\n  path: /rules/0/resources/0\n  value: secrets\n", {
        "rules[0].resources[0]": ("base", "[secrets]"),
    }),
    "several-ops-in-order": ("- op: add\n  path: /rules/1\n" + NEW_RULE
                             + "- op: remove\n  path: /rules/3\n- {op: add, path: /rules/0/verbs/-, value: list}\n", {
        # [secrets, new, configmaps, pods] -> pods removed; then a verb appended to rule 0
        "rules[0].resources": ("base", "[secrets]"),
        "rules[0].verbs[1]": ("patch", "value: list"),
        "rules[0].verbs[0]": ("base", "[get]"),
        "rules[1].resources": ("patch", "pods/exec"),
        "rules[2].resources": ("base", "[configmaps]"),
    }),
}


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def _line(text: str, needle: str) -> int:
    [line] = [i for i, ln in enumerate(text.splitlines(), 1) if needle in ln]
    return line


def _role(kustomize, root: Path, overlay: str, monkeypatch):  # noqa: ANN001, ANN202
    monkeypatch.chdir(root)
    [obj] = render(Path(overlay), kustomize).objects
    return obj


@pytest.mark.parametrize("form", ["file", "inline"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_each_operation_points_at_its_own_line_and_leaves_the_rest_at_the_base(
        kustomize, tmp_path: Path, monkeypatch, case: str, form: str) -> None:  # noqa: ANN001
    ops, expected = CASES[case]
    files = {"base/kustomization.yaml": "resources: [role.yaml]\n", "base/role.yaml": ROLE}
    head = "# a JSON 6902 patch\nresources: [../base]\npatches:\n- target: {kind: Role, name: manager}\n"
    if form == "file":
        files |= {"o/kustomization.yaml": head + "  path: ops.yaml\n", "o/ops.yaml": ops}
        patch_file, offset = "o/ops.yaml", 0
    else:
        files["o/kustomization.yaml"] = head + "  patch: |-\n" + "".join(f"    {ln}\n" for ln in ops.splitlines())
        patch_file, offset = "o/kustomization.yaml", head.count("\n") + 1
    _write(tmp_path, files)
    obj = _role(kustomize, tmp_path, "o", monkeypatch)
    got = {}
    for field in expected:
        source = locate(obj, field)
        got[field] = (source.file, source.line)
    want = {field: ("base/role.yaml", _line(ROLE, needle)) if where == "base"
            else (patch_file, offset + _line(ops, needle)) for field, (where, needle) in expected.items()}
    assert got == want


def test_a_field_the_patch_did_not_touch_has_no_chain(kustomize, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    ops, _ = CASES["add-append"]
    _write(tmp_path, {"base/kustomization.yaml": "resources: [role.yaml]\n", "base/role.yaml": ROLE,
                      "o/kustomization.yaml": "resources: [../base]\npatches:\n- target: {kind: Role}\n"
                                              "  path: ops.yaml\n", "o/ops.yaml": ops})
    obj = _role(kustomize, tmp_path, "o", monkeypatch)
    assert locate(obj, "rules[1].resources[0]").via == ()
    appended = locate(obj, "rules[3].resources[0]")
    assert (appended.file, appended.line) == ("o/ops.yaml", 5)
    assert [(s.file, s.line) for s in appended.via] == [("base/role.yaml", 5)]  # the list it went into


def test_past_the_budget_the_patch_stands_for_the_fields_it_may_have_moved(kustomize, tmp_path: Path,  # noqa: ANN001
                                                                             monkeypatch) -> None:
    """Following a finding through a patch costs one step per operation, so a hostile patch of
    thousands of operations with a finding on each added item costs findings x operations. Each
    tree has a budget of operations undone (UNDO_BUDGET): past it, a field of the patched object
    points at the patch's first operation, and no further."""
    ops, _ = CASES["add-append"]
    _write(tmp_path, {"base/kustomization.yaml": "resources: [role.yaml]\n", "base/role.yaml": ROLE,
                      "o/kustomization.yaml": "resources: [../base]\npatches:\n- target: {kind: Role}\n"
                                              "  path: ops.yaml\n", "o/ops.yaml": ops * 3})
    obj = _role(kustomize, tmp_path, "o", monkeypatch)
    monkeypatch.setattr(provenance, "UNDO_BUDGET", 7)  # two findings' worth of 3 operations
    first, second = locate(obj, "rules[0].verbs"), locate(obj, "rules[5].verbs")
    assert (first.file, first.line) == ("base/role.yaml", 8)
    assert (second.file, second.line) == ("o/ops.yaml", _line(ops, "verbs: [create]") + 2 * ops.count("\n"))
    for field in ("rules[1].verbs", "rules[4].verbs"):  # the budget is spent: the patch stands for both
        late = locate(obj, field)
        assert (late.file, late.line, late.via) == ("o/ops.yaml", 1, ())
    assert obj.tree.provenance_undone == 6


def test_an_inline_patch_not_in_a_literal_block_points_at_its_patch_key(kustomize, tmp_path: Path,  # noqa: ANN001
                                                                       monkeypatch) -> None:
    _write(tmp_path, {"base/kustomization.yaml": "resources: [role.yaml]\n", "base/role.yaml": ROLE,
                      "o/kustomization.yaml": "resources: [../base]\npatches:\n- target: {kind: Role}\n"
                                              "  patch: >-\n    [{\"op\": \"add\", \"path\": \"/rules/-\",\n"
                                              "    \"value\": {\"apiGroups\": [\"\"],\n"
                                              "    \"resources\": [\"pods/exec\"], \"verbs\": [\"create\"]}}]\n"})
    obj = _role(kustomize, tmp_path, "o", monkeypatch)
    assert (locate(obj, "rules[3].resources[0]").file, locate(obj, "rules[3].resources[0]").line) == (
        "o/kustomization.yaml", 4)
    assert (locate(obj, "rules[2].resources[0]").file, locate(obj, "rules[2].resources[0]").line) == (
        "base/role.yaml", 13)


def test_positions_are_followed_through_every_overlay(kustomize, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """The outer overlay prepends a rule; the inner one replaced rule 1's verbs: rendered rule 2."""
    _write(tmp_path, {
        "base/kustomization.yaml": "resources: [role.yaml]\n", "base/role.yaml": ROLE,
        "mid/kustomization.yaml": "resources: [../base]\npatches:\n- target: {kind: Role}\n  patch: |-\n"
                                  "    - op: replace\n      path: /rules/1/verbs\n      value: [get]\n",
        "top/kustomization.yaml": "resources: [../mid]\npatches:\n- target: {kind: Role}\n  patch: |-\n"
                                  "    - op: add\n      path: /rules/0\n      value: {apiGroups: [''], "
                                  "resources: [nodes], verbs: [get]}\n",
    })
    obj = _role(kustomize, tmp_path, "top", monkeypatch)
    got = {f: (s.file, s.line) for f in ("rules[0].resources", "rules[2].verbs", "rules[2].resources",
                                         "rules[3].verbs") if (s := locate(obj, f))}
    assert got == {"rules[0].resources": ("top/kustomization.yaml", 7),
                   "rules[2].verbs": ("mid/kustomization.yaml", 5),
                   "rules[2].resources": ("base/role.yaml", 10),
                   "rules[3].verbs": ("base/role.yaml", 14)}
    assert [(s.file, s.line) for s in locate(obj, "rules[2].verbs").via] == [("base/role.yaml", 11)]


# --- the pointer alone: any sequence of list operations, checked against applying them -----------------------

_op = st.one_of(
    st.tuples(st.just("add"), st.integers(0, 8) | st.just("-")),
    st.tuples(st.just("remove"), st.integers(0, 8)),
    st.tuples(st.just("replace"), st.integers(0, 8)),
    st.tuples(st.just("move"), st.integers(0, 8), st.integers(0, 8) | st.just("-")),
    st.tuples(st.just("copy"), st.integers(0, 8), st.integers(0, 8) | st.just("-")),
    st.tuples(st.just("test"), st.integers(0, 8)),
)


def _apply(size: int, ops: list[tuple]) -> list[tuple] | None:
    """Apply the operations (RFC 6902) to a list of ``size`` base items; each item ends up as (its
    last writer or None, its base position or None if an operation inserted it). None: one is invalid."""
    items: list[tuple] = [(None, i) for i in range(size)]
    for k, (verb, *args) in enumerate(ops):
        if verb in ("add", "move", "copy"):
            *source, to = args
            if source and source[0] >= len(items):
                return None
            if verb == "move":
                items.pop(source[0])
            index = len(items) if to == "-" else to
            if index > len(items):
                return None
            items.insert(index, (k, None))
        elif verb == "test":
            pass
        elif args[0] >= len(items):
            return None
        elif verb == "remove":
            items.pop(args[0])
        else:
            items[args[0]] = (k, items[args[0]][1])
    return items


def _yaml_ops(ops: list[tuple]) -> str:
    out = []
    for verb, *args in ops:
        if verb in ("move", "copy"):
            out.append({"op": verb, "from": f"/items/{args[0]}", "path": f"/items/{args[1]}"})
        else:
            out.append({"op": verb, "path": f"/items/{args[0]}", **({"value": {"x": 1}} if verb != "remove" else {})})
    return yaml.safe_dump(out)


@settings(max_examples=400, deadline=None)
@given(size=st.integers(0, 6), ops=st.lists(_op, max_size=8), deeper=st.booleans())
def test_the_pointer_finds_who_wrote_each_item(size: int, ops: list[tuple], deeper: bool) -> None:
    final = _apply(size, ops)
    if final is None:
        return  # kustomize refuses the patch
    [doc] = provenance._compose_text(_yaml_ops(ops))
    parsed = provenance._json6902_ops(doc)
    kept = [k for k, (verb, *_) in enumerate(ops) if verb != "test"]  # (a `test` is no operation of ours)
    assert len(parsed) == len(kept)
    rendered = {"items": [{"x": 1} for _ in final]}
    for index, (writer, base) in enumerate(final):
        steps = ["items", index, "x"] if deeper else ["items", index]
        pointer = provenance._Pointer(steps, rendered)
        writers = [kept[j] for j, op in reversed(list(enumerate(parsed))) if pointer.undo(op)]
        assert writers[:1] == ([] if writer is None else [writer])
        if base is None:
            assert pointer.created == 1
        else:
            assert (pointer.created, pointer.at[:2]) == (None, ["items", base])
