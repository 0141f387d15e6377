"""Render safety that the CLI tests do not reach: the memory cap without
util-linux prlimit (the preexec fallback)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from policycheck.model import PolicycheckError
from policycheck.render import render
from tests.test_cli import BOMB


def test_memory_cap_without_prlimit(kustomize, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    (tmp_path / "kustomization.yaml").write_text("resources: [bomb.yaml]\n")
    (tmp_path / "bomb.yaml").write_text(BOMB)
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None if name == "prlimit" else real_which(name, *a, **k))
    with pytest.raises(PolicycheckError, match="render exceeded the memory limit of 1024 MiB"):
        render(tmp_path, kustomize, memory_mib=1024, timeout=60)
    # A normal overlay renders under the same cap.
    assert len(render(Path(__file__).parent.parent / "overlays/prod", kustomize, memory_mib=1024).objects) == 28


def test_the_index_read_from_lines_is_the_index_read_by_parsing(tmp_path):
    """A resource file's kind/name/namespace index is read from its lines when they are plain;
    it must be what parsing the file gives, whatever the file's spelling."""
    from hypothesis import example, given, settings
    from hypothesis import strategies as st

    from policycheck import render

    values = st.sampled_from(["web", "'web'", '"web"', "true", "12", "0x1F", "null", "~", "'12'", "x y", "a#b",
                              "web # c", "!t z", "&a n", "{}", "[a]", ""])
    separators = st.sampled_from(["---", "--- # c", "---  ", "--- {kind: Inline, metadata: {name: i}}", "..."])

    @settings(max_examples=300, deadline=None)
    @given(st.lists(st.tuples(values, values, st.none() | values, st.booleans()), min_size=1, max_size=4), separators)
    # Found by this test once: documents after an end marker (the scan now leaves them to the parser).
    @example(docs=[("web", "web", None, False), ("web", "web", None, False)], separator="...")
    def check(docs, separator):
        text = f"\n{separator}\n".join(
            f"apiVersion: v1\nkind: {kind}\nmetadata:\n" + ("  labels:\n    name: other\n" if extra else "")
            + f"  name: {name}\n" + (f"  namespace: {ns}\n" if ns is not None else "") + "data: {}\n"
            for kind, name, ns, extra in docs)
        path = tmp_path / "r.yaml"
        path.write_text(text, encoding="utf-8")
        fast, parsed = render.OriginIndex(), render.OriginIndex()
        render._index_resource_file(path, fast)
        original = render.yamlio.scan_identities
        render.yamlio.scan_identities = lambda _text: None  # force the parsing path
        try:
            render._index_resource_file(path, parsed)
        finally:
            render.yamlio.scan_identities = original
        assert fast._by_name == parsed._by_name, text

    check()
