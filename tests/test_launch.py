"""The path to the first render is short, and what runs beside it is safe.

policycheck starts kustomize before it loads the rule catalog, the schemas
or even a YAML reader; these tests keep it that way, keep the render offline
while the tree walk that may refuse it runs, and check the conftest input
that replaced a YAML dump.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from policycheck import cli, launch, model, yamlio
from policycheck.conftest import conftest_input
from tests.conftest import require, which


def _imported_by(statement: str) -> set[str]:
    """Modules a fresh interpreter has loaded after ``statement``."""
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    return set(out.stdout.split())


def test_the_command_line_loads_no_yaml_reader_rules_or_thread_pool_before_the_render():
    loaded = _imported_by("import policycheck.cli")
    heavy = {"yaml", "dataclasses", "concurrent.futures", "policycheck.render", "policycheck.rules",
             "policycheck.model", "jsonschema_rs", "logging", "typing"}
    assert not loaded & heavy, sorted(loaded & heavy)


def test_the_default_kube_version_is_the_same_in_the_launcher_and_the_model():
    assert cli.DEFAULT_KUBE_VERSION == model.DEFAULT_KUBE_VERSION


def test_a_remote_base_fails_offline_and_is_refused_with_the_walk_message(tmp_path, monkeypatch, kustomize):
    # A stand-in "kustomize" records the environment it was started with.
    seen = tmp_path / "env.json"
    fake = tmp_path / "kustomize"
    fake.write_text(f"#!{sys.executable}\nimport json, os, time\n"
                    f"json.dump(dict(os.environ), open({str(seen)!r}, 'w'))\ntime.sleep(30)\n")
    fake.chmod(0o755)
    overlay = tmp_path / "o"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text("resources:\n- https://example.com/org/repo//deploy?ref=v1\n")
    monkeypatch.chdir(tmp_path)
    from policycheck.render import render

    k = launch.Kustomize((str(fake), "build"), version="test")
    with pytest.raises(model.PolicycheckError, match="remote resource refused"):
        render(Path("o"), k, timeout=20)
    env = json.loads(seen.read_text()) if seen.exists() else None
    if env is not None:  # the walk may refuse it before the interpreter got to write it
        for name, value in launch.OFFLINE_ENV.items():
            assert env.get(name) == value, name


def test_a_render_is_killed_when_cancelled(tmp_path, monkeypatch):
    fake = tmp_path / "kustomize"
    fake.write_text("#!/bin/sh\nsleep 30\n")
    fake.chmod(0o755)
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "kustomization.yaml").write_text("resources: []\n")
    monkeypatch.chdir(tmp_path)
    renders = launch.start_renders([Path("o")], launch.Kustomize((str(fake), "build"), version="test"),
                                   timeout=60, memory_mib=2048, allow_remote=False)
    renders.cancel(0)
    with pytest.raises(model.PolicycheckError, match="cancelled|failed"):
        renders.futures[0].result(timeout=20)


# --------------------------------------------------------------------------- conftest input

# Strings with what YAML must escape and JSON leaves raw: C1 controls, DEL, line and
# paragraph separators, non-characters, astral characters.
_tricky = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False)
    | _tricky,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_tricky, inner, max_size=4),
    max_leaves=20,
)


def _read_back(files: list[tuple[str, str]]) -> list:
    return [json.loads(text) if name.endswith(".json") else yamlio.load(text) for name, text in files]


@settings(max_examples=int(os.environ.get("POLICYCHECK_FUZZ_EXAMPLES", "250")), deadline=None)
@given(st.lists(st.dictionaries(_tricky, _values, max_size=5), max_size=12))
def test_the_conftest_input_reads_back_as_the_same_objects_in_order(docs):
    files = conftest_input(docs)
    assert [name for name, _ in files] == sorted(name for name, _ in files)  # conftest reads them sorted
    assert _read_back(files) == docs


def test_values_json_cannot_hold_fall_back_to_yaml():
    import datetime as dt

    docs = [{"a": math.inf, "b": float("nan")}, {"when": dt.date(2026, 2, 3)}, {"raw": b"\x00\x01"}]
    files = conftest_input(docs)
    assert [name.rsplit(".", 1)[1] for name, _ in files] == ["yaml", "yaml", "yaml"]
    first, second, third = (yaml.safe_load(text) for _, text in files)
    assert first["a"] == math.inf and math.isnan(first["b"])
    assert second == {"when": dt.date(2026, 2, 3)} and third == {"raw": b"\x00\x01"}


def test_real_conftest_reads_every_character_a_value_may_hold(tmp_path):
    """conftest splits a multi-document YAML file by re-encoding each document, which refuses
    an emoji, DEL, C1 controls and line separators; one JSON file per object does not."""
    conftest = which("conftest")
    require(conftest is not None, "conftest not on PATH (hack/install-conftest.sh)")
    value = "tab\there \x85 \x7f \u2028 \u2029 \ufffe \U0001F600 \x9f end"
    docs = [{"kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"v": value}}, {"kind": "Other", "n": 1}]
    names = []
    for name, text in conftest_input(docs):
        (tmp_path / name).write_text(text, encoding="utf-8")
        names.append(name)
    out = subprocess.run([conftest, "parse", "--combine", *names], cwd=tmp_path, capture_output=True, text=True,
                         timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    parsed = json.loads(out.stdout)
    assert [item["contents"] for item in parsed] == docs


def test_an_overlay_with_an_emoji_passes_the_rego_stage(tmp_path):
    require(which("conftest") is not None, "conftest not on PATH (hack/install-conftest.sh)")
    overlay = tmp_path / "o"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text("resources:\n- cm.yaml\n", encoding="utf-8")
    (overlay / "cm.yaml").write_text('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: greeting\n'
                                     'data:\n  text: "hello \\U0001F600 caf\\u00e9"\n', encoding="utf-8")
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-m", "policycheck", str(overlay), "--format", "json", "--require-conftest"],
                         cwd=root, capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode in (0, 1), out.stderr
    report = json.loads(out.stdout)
    assert report["tool"]["conftest"] and report["overlays"][0]["error"] is None


# --------------------------------------------------------------------------- the fast YAML reader

_scalar_text = st.sampled_from(["true", "False", "on", "yes", "~", "null", "", "0o17", "0x1F", "-0", "+12", "1e3",
                                "-.inf", ".NaN", "1.", ".5", "2026-02-30", "=", "1:30", "<<", "a b", "'q'", "x: y",
                                "#c", "- d", "& e", "* f", "! g", "!!str 5", "!!binary aGk=", "!t x", "é", "😀"])


def _yaml_tree(depth: int = 0) -> st.SearchStrategy[str]:
    leaf = st.one_of(_scalar_text, _scalar_text.map(lambda s: '"' + s.replace('"', "") + '"'))
    if depth > 2:
        return leaf
    inner = _yaml_tree(depth + 1)
    return st.one_of(
        leaf,
        st.lists(inner, max_size=3).map(lambda items: "[" + ", ".join(items) + "]"),
        st.lists(st.tuples(leaf, inner), max_size=3).map(
            lambda pairs: "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"),
        st.tuples(st.sampled_from(["&a ", "&b ", ""]), inner).map(lambda t: t[0] + t[1]),
        st.sampled_from(["*a", "*b", "? [k]\n: v", "<<: {m: 1}", "!!map {a: 1}", "!!seq [1]"]),
    )


def _same(a: object, b: object) -> bool:
    """Equal values, types and key order (repr also prints recursive structures and NaN)."""
    return repr(a) == repr(b)


@settings(max_examples=int(os.environ.get("POLICYCHECK_FUZZ_EXAMPLES", "250")), deadline=None)
@given(st.lists(_yaml_tree(), min_size=1, max_size=4))
def test_the_fast_reader_gives_what_the_core_reader_gives(documents):
    text = "\n---\n".join(f"k: {d}" if i % 2 else d for i, d in enumerate(documents)) + "\n"
    try:
        slow: object = yamlio.load_all(text)
    except yamlio.ERRORS as exc:
        slow = type(exc)
    try:
        fast: object = yamlio.load_all_fast(text)
    except yamlio.ERRORS as exc:
        fast = type(exc)
    assert _same(slow, fast), text


def test_the_fast_reader_reads_the_real_renders_alike(rendered):
    from policycheck.conftest import conftest_input  # noqa: F401 - (the render fixture loaded it)

    for overlay in rendered:
        text = subprocess.run(["kubectl", "kustomize", f"overlays/{overlay}"], capture_output=True, text=True,
                              timeout=60, check=True, env={**os.environ, "PATH": f"{Path(sys.executable).parent}:"
                                                                                   f"{os.environ['PATH']}"}).stdout
        assert _same(yamlio.load_all(text), yamlio.load_all_fast(text))


@settings(max_examples=int(os.environ.get("POLICYCHECK_FUZZ_EXAMPLES", "250")), deadline=None)
@given(st.lists(st.integers(0, 130), min_size=1, max_size=4), st.booleans())
def test_the_depth_the_reader_measures_is_the_depth_of_the_objects(depths, alias):
    from policycheck.model import MAX_DEPTH
    from policycheck.render import depth_exceeded

    documents = []
    for depth in depths:
        nested = "[" * depth + "1" + "]" * depth
        documents.append(f"a: &x {nested}\nb: {{c: *x}}\n" if alias else f"a: {nested}\n")
    measured: list[int] = []
    try:
        docs = yamlio.load_all_fast("---\n".join(documents), measured)
    except yamlio.ERRORS:
        return  # libyaml's own nesting limit: the render reads such documents one by one
    assert len(measured) in (0, len(docs))
    for doc, depth in zip(docs, measured, strict=False):
        assert (depth > MAX_DEPTH) == (depth_exceeded(doc) is not None) or depth >= 1 << 30


def _shape(node: object, seen: set[int] | None = None) -> object:
    """A node tree without tags: kind, value, start line and column, style of each node."""
    import yaml as pyyaml

    seen = set() if seen is None else seen
    mark = getattr(node, "start_mark", None)
    where = (mark.line, mark.column) if mark else None
    if isinstance(node, pyyaml.ScalarNode):
        return ("s", node.value, where, node.style)
    if id(node) in seen:
        return ("alias", where)
    seen.add(id(node))
    if isinstance(node, pyyaml.MappingNode):
        return ("m", where, [(_shape(k, seen), _shape(v, seen)) for k, v in node.value])
    return ("q", where, [_shape(v, seen) for v in node.value])


@settings(max_examples=int(os.environ.get("POLICYCHECK_FUZZ_EXAMPLES", "250")), deadline=None)
@given(st.lists(_yaml_tree(), min_size=1, max_size=4))
def test_the_fast_composer_gives_the_lines_the_full_composer_gives(documents):
    text = "\n---\n".join(f"k:\n  - {d}\n  - |\n    x\n" if i % 2 else d for i, d in enumerate(documents)) + "\n"
    try:
        full: object = [_shape(n) for n in yamlio.compose_all(text)]
    except yamlio.ERRORS as exc:
        full = type(exc).__mro__[-3]  # the YAMLError family
    try:
        fast: object = [_shape(n) for n in yamlio.compose_nodes(text)]
    except yamlio.ERRORS as exc:
        fast = type(exc).__mro__[-3]
    assert repr(full) == repr(fast), text


# --------------------------------------------------------------------------- schemas kept in the cache

_VALIDATE = """
import json, sys
from policycheck import schema
docs = [{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"},
         "spec": {"replicas": "two", "selector": {}, "template": {"spec": {"containers": [{"name": "c", "bogus": 1}]}}}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"ports": [{"port": "x"}]}},
        {"apiVersion": "example.com/v1", "kind": "Widget"}]
out = [None if (e := schema.validate(d)) is None else [[x.field, x.message] for x in e] for d in docs]
print(json.dumps(out))
"""


def test_schemas_read_back_from_the_cache_validate_alike(tmp_path):
    env = {**os.environ, "POLICYCHECK_CACHE": str(tmp_path)}

    def validate() -> list:
        out = subprocess.run([sys.executable, "-c", _VALIDATE], env=env, capture_output=True, text=True, timeout=60,
                             check=True)
        return json.loads(out.stdout)

    fresh = validate()
    assert fresh[2] is None and fresh[0] and fresh[1]
    stored = sorted(p.name for p in (tmp_path / "schemas").rglob("*.json"))
    assert "index.json" in stored and any(name.startswith("io.k8s.api.apps.v1.Deployment") for name in stored)
    assert validate() == fresh  # read back
    for path in (tmp_path / "schemas").rglob("*.json"):  # damaged entries are computed again
        path.write_text('{"$ref": "#/$defs/nothing", "$defs": {}}' if path.name != "index.json" else "[1]")
    assert validate() == fresh
    (tmp_path / "not-a-directory").write_text("")
    env["POLICYCHECK_CACHE"] = str(tmp_path / "not-a-directory")  # a cache that cannot be written is only slower
    assert validate() == fresh
