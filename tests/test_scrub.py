"""The secret scrubber (policycheck.scrub) and the credential patterns it and
the secret rules share (policycheck.credentials)."""

from __future__ import annotations

import base64
import math
import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policycheck import credentials as _secrets
from policycheck.credentials import SCAN_LIMIT, name_looks_secret, value_looks_secret
from policycheck.scrub import (
    CHUNK,
    MAX_VALUES,
    OBJECT_PLACEHOLDER,
    PLACEHOLDER,
    SecretValues,
    describe_dump,
    replace_dumps,
    scrub,
)

WITHHELD = "<output withheld"
DELIMITERS = "\\s\"'`:=,{}\\[\\]()"


def whole_token(value: str) -> re.Pattern[str]:
    return re.compile(f"(?<![^{DELIMITERS}]){re.escape(value)}(?![^{DELIMITERS}])")


def secret(data: dict[str, object]) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}, "data": data}


# --- Go value dumps ---------------------------------------------------------

# What kustomize v5 prints for a Secret with a `.nan` value (it cannot encode NaN).
NAN_ERROR = ('error: map[string]interface {}{"apiVersion":"v1", "data":map[string]interface {}{'
             '"password":"c2VjcmV0", "weird":NaN}, "kind":"Secret", "metadata":map[string]interface {}{'
             '"name":"x"}}: json: unsupported value: NaN')


def test_a_secret_in_a_go_dump_is_gone() -> None:
    values = SecretValues()
    values.add_object(secret({"password": "c2VjcmV0", "weird": math.nan}))
    out = values.scrub(NAN_ERROR)
    assert "c2VjcmV0" not in out and "secret" not in out
    assert out == "error: <Secret/x>: json: unsupported value: NaN"


def test_a_go_dump_is_replaced_without_collected_values() -> None:
    out = scrub(NAN_ERROR)
    assert "c2VjcmV0" not in out and "password" not in out
    assert out.endswith(": json: unsupported value: NaN")


@pytest.mark.parametrize("dump", [
    'map[string]interface{}{"data":map[string]interface{}{"p":"hunter22"}}',
    'map[interface {}]interface {}{"data":map[interface {}]interface {}{"p":"hunter22"}}',
    '[]interface {}{"hunter22", map[string]interface {}{"p":"hunter22"}}',
    'map[string]interface {}{"p":"} { \\" hunter22 }}"}',
    'map[string][]interface {}{"p":[]interface {}{"hunter22"}}',
    '&v1.Secret{Data:map[string][]uint8{"p":[]uint8{0x68, 0x75}}, StringData:map[string]string{"p":"hunter22"}}',
    "map[data:map[p:hunter22] kind:Secret]",
])
def test_every_go_dump_form_is_replaced(dump: str) -> None:
    out = scrub(f"before {dump} after")
    assert out == f"before {OBJECT_PLACEHOLDER} after"


def test_a_dump_that_does_not_close_is_cut_at_its_line_end() -> None:
    out = scrub('one map[string]interface {}{"kind":"Secret", "data":"hunter22 {\nnext line')
    assert "hunter22" not in out and out.endswith("\nnext line")


def test_describe_dump_reads_only_top_level_kind_and_metadata_name() -> None:
    assert describe_dump(NAN_ERROR[len("error: "):]) == "<Secret/x>"
    # Data keys called kind or name never show their values.
    dump = ('map[string]interface {}{"data":map[string]interface {}{"kind":"hunter22", "name":"hunter33"}, '
            '"kind":"Secret", "metadata":map[string]interface {}{"labels":map[string]interface {}{'
            '"name":"l"}, "name":"db"}}')
    assert describe_dump(dump) == "<Secret/db>"
    assert describe_dump('map[string]interface {}{"data":map[string]interface {}{"kind":"hunter22"}}') is None
    assert describe_dump('map[string]interface {}{"kind":"not a kind!"}') is None
    assert describe_dump('[]interface {}{map[string]interface {}{"kind":"Secret"}}') is None


def test_text_that_only_mentions_go_types_is_kept() -> None:
    text = "expected map[string]interface {}, got []interface {} (see bitmap[3])"
    assert scrub(text) == text


# --- collected values ---------------------------------------------------------


def test_secret_generator_literals_echoed_by_kustomize() -> None:
    values = SecretValues()
    for literal in ["a=b=c", "password=hunter2xx", "token='quoted v'", "bad"]:
        values.add_literal(literal)
    text = ("error: loading KV pairs: literal sources [a=b=c password=hunter2xx token='quoted v' bad]: "
            "invalid literal source bad, expected key=value; invalid literal source 'a=b=c', "
            "expected key=value; value quoted v")
    out = values.scrub(text)
    for leaked in ("b=c", "hunter2xx", "quoted v", " bad"):
        assert leaked not in out
    assert "literal sources [a=<redacted> password=<redacted> token=<redacted> <redacted>]" in out
    assert "expected key=value" in out


def test_env_and_file_sources() -> None:
    values = SecretValues()
    values.add_env_text("\ufeff# comment\n\nDB_PASSWORD=s3cr3t-env\n  API_KEY = spaced \nFROM_ENV\n")
    values.add_file_text('{\n  "private_key": "file-line-secret"\n}\n')
    out = values.scrub('DB_PASSWORD=s3cr3t-env API_KEY= spaced  saw "private_key": "file-line-secret" FROM_ENV')
    assert "s3cr3t-env" not in out and "spaced" not in out and "file-line-secret" not in out
    assert "FROM_ENV" in out and "DB_PASSWORD" in out
    # Lines without a letter or digit are not values on their own.
    assert values.scrub("a { b } c") == "a { b } c"
    # kustomize base64-encodes generated values.
    assert values.scrub(base64.b64encode(b"s3cr3t-env").decode()) == PLACEHOLDER


def test_short_values_only_as_whole_tokens() -> None:
    values = SecretValues()
    values.add_object({"kind": "Secret", "stringData": {"ns": "shop"}})
    text = "namespace shop-prod; in namespace shopping; bishop"
    assert values.scrub(text) == text
    assert values.scrub('password: shop, "shop", =shop, [shop], (shop) `shop`') == (
        'password: <redacted>, "<redacted>", =<redacted>, [<redacted>], (<redacted>) `<redacted>`')


def test_long_values_anywhere() -> None:
    values = SecretValues()
    values.add("hunter2hunter2")
    assert values.scrub("xxhunter2hunter2yy/hunter2hunter2") == f"xx{PLACEHOLDER}yy/{PLACEHOLDER}"


def test_overlapping_values_are_hidden_together() -> None:
    values = SecretValues()
    values.add("abcdefgh12")
    values.add("12345678xx")
    assert values.scrub("-abcdefgh12345678xx-") == f"-{PLACEHOLDER}-"


def test_a_value_formed_across_a_placeholder_is_hidden() -> None:
    values = SecretValues()
    values.add("zzzzzzzz00")
    values.add("d>zzzzzz")  # "<redacted>" + "zzzzzz" would spell it
    out = values.scrub("zzzzzzzz00zzzzzz")
    assert "d>zzzzzz" not in out and "zzzzzz" not in out


def test_longest_value_wins() -> None:
    values = SecretValues()
    for value in ("pass", "password1", "password12345"):
        values.add(value)
    assert values.scrub("x password12345 y") == f"x {PLACEHOLDER} y"


def test_quoted_spellings_of_a_value() -> None:
    values = SecretValues()
    values.add('line1\n"q"')
    assert values.scrub('saw "line1\\n\\"q\\""') == f'saw "{PLACEHOLDER}"'


def test_values_longer_than_a_chunk() -> None:
    values = SecretValues()
    big = "".join(chr(ord("a") + i % 26) + str(i) for i in range(300))
    assert len(big) > CHUNK * 10
    values.add(big)
    out = values.scrub(f"start {big} end")
    assert out == f"start {PLACEHOLDER} end"


def test_empty_and_blank_values_are_ignored() -> None:
    values = SecretValues()
    for value in ("", "   ", "\n\t"):
        values.add(value)
        values.add_literal(f"k={value}")
    assert len(values) == 0
    assert values.scrub("k= a b") == "k= a b"


def test_the_number_of_values_is_capped() -> None:
    values = SecretValues()
    for i in range(MAX_VALUES + 5):
        values.add(f"value-{i:06d}")
    assert len(values) == MAX_VALUES and values.overflowed


def test_add_object_kinds() -> None:
    values = SecretValues()
    encoded = base64.b64encode(b"decoded-pw").decode()
    values.add_object(secret({"a": encoded, "pin": 123456}))
    values.add_object({"kind": "ConfigMap", "data": {"DB_PASSWORD": "cm-password", "LOG_LEVEL": "debug"}})
    env = [{"name": "API_TOKEN", "value": "env-token-1"}, {"name": "MODE", "value": "production"}]
    pod = {"containers": [{"name": "c", "env": env}], "initContainers": [{"env": [
        {"name": "INIT_SECRET", "value": "init-secret"}]}]}
    values.add_object({"kind": "Deployment", "spec": {"template": {"spec": pod}}})
    values.add_object({"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": {
        "containers": [{"env": [{"name": "CRON_PASSWORD", "value": "cron-pw-1"}]}]}}}}}})
    values.add_object({"kind": "Pod", "spec": {"containers": [{"env": [{"name": "PASSWD", "value": 4242}]}]}})
    values.add_object({"kind": "Widget", "spec": {"deep": ["see postgresql://app:walked-pw@db/x"]}})
    for hidden in (encoded, "decoded-pw", "123456", "cm-password", "env-token-1", "init-secret", "cron-pw-1",
                   "4242", "see postgresql://app:walked-pw@db/x"):
        assert hidden in values, hidden
    for shown in ("debug", "production", "x"):
        assert shown not in values


def test_a_big_blob_with_a_credential_keeps_only_the_credential() -> None:
    values = SecretValues()
    blob = "filler line\n" * 100_000 + "url: postgresql://app:blob-pw@db/x\n"
    values.add_object({"kind": "ConfigMap", "data": {"app.conf": blob}})
    assert len(values) < 20 and not values.overflowed
    assert "blob-pw" not in values.scrub("saw postgresql://app:blob-pw@db/x")


def test_list_items_are_objects() -> None:
    values = SecretValues()
    values.add_object({"kind": "List", "items": [{"kind": "Secret", "stringData": {"k": "listed-value"}}]})
    assert "listed-value" in values


def test_add_object_survives_hostile_shapes() -> None:
    values = SecretValues()
    loop: list[object] = []
    loop.append(loop)
    deep: object = "sk-" + "a" * 20
    for _ in range(50_000):
        deep = [deep]
    for doc in (None, 3, "text", [], loop, deep, {"kind": "Secret", "data": [1, {"a": "list-secret"}]},
                {"kind": "Secret", "data": "whole"}, {"kind": ["Secret"], "spec": 5}, {"kind": "Secret", "data": {
                    "big": 10**5000, "nan": math.nan, "inf": math.inf, "b": True, "n": None}},
                {"kind": "Deployment", "spec": {"template": {"spec": {"containers": [5, {"env": "x"}]}}}}):
        values.add_object(doc)
    assert "list-secret" in values and "whole" in values and "nan" not in values


# --- credential patterns ------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("DATABASE_URL=postgresql://app:hunter2@db:5432/x", f"DATABASE_URL=postgresql://app:{PLACEHOLDER}@db:5432/x"),
    ("key AKIAABCDEFGHIJKLMNOP.", f"key {PLACEHOLDER}."),
    ("sk-abcdefghijklmnopqrstu rest", f"{PLACEHOLDER} rest"),
    ("ghp_" + "a" * 36 + " rest", f"{PLACEHOLDER} rest"),
    ("xoxb-1234567890-abc rest", f"{PLACEHOLDER} rest"),
    ("k: -----BEGIN RSA PRIVATE KEY-----\nMIIE\nab==\n-----END RSA PRIVATE KEY-----\nnext", f"k: {PLACEHOLDER}\nnext"),
    ('"-----BEGIN PRIVATE KEY-----\\nMIIE\\nab==\\n-----END PRIVATE KEY-----\\n"', f'"{PLACEHOLDER}\\n"'),
    # A cut-off key: its base64 lines go, the next message does not.
    ("-----BEGIN EC PRIVATE KEY-----\nMIIE\nab==\nerror: cut", f"{PLACEHOLDER}error: cut"),
    ("redis://redis:6379/0 and https://example.com/a@b", "redis://redis:6379/0 and https://example.com/a@b"),
])
def test_credential_patterns(text: str, expected: str) -> None:
    assert scrub(text) == expected


# The patterns before they were made linear: the new ones must mean the same.
OLD_PATTERNS = (
    re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"),
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"),
    re.compile(r"\bxox[abpr]-[A-Za-z0-9-]{10,}"),
)
PATTERN_PIECES = ["://", ":", "@", "/", " ", "\n", "a", "Z", "1", "+", ".", "-", "_", "-----BEGIN ", "PRIVATE KEY",
                  "-----", "RSA ", "sk-", "AKIA", "ghp_", "xoxb-", "é", "A" * 8, "a" * 8]


@settings(database=None, max_examples=500)
@given(st.lists(st.sampled_from(PATTERN_PIECES), max_size=16).map("".join))
def test_linear_patterns_mean_what_the_old_ones_meant(text: str) -> None:
    for old, new in zip(OLD_PATTERNS, _secrets.VALUE_PATTERNS, strict=True):
        assert bool(old.search(text)) == bool(new.search(text)), (old.pattern, text)


def test_rules_helpers() -> None:
    assert name_looks_secret("DB_PASSWORD") and not name_looks_secret("DB_PASSWORD_FILE")
    assert value_looks_secret("postgresql://u:p@db:5432/x") and not value_looks_secret("redis://redis:6379/0")
    assert not value_looks_secret(10**5000) and not value_looks_secret(None)
    assert value_looks_secret({"nested": "AKIAABCDEFGHIJKLMNOP"})
    # A value longer than SCAN_LIMIT is scanned on its head and tail only.
    key = "AKIAABCDEFGHIJKLMNOP"
    assert value_looks_secret("x " * SCAN_LIMIT + key)
    assert not value_looks_secret("x " * SCAN_LIMIT + key + " x" * SCAN_LIMIT)


# A hang guard, not a speed target: the URL pattern used to be quadratic (an
# 80 KB value took 6 s, 160 KB 25 s, so 1 MB would take about 15 minutes).
# Linear matching takes a fraction of a second here; 2 s leaves room for a
# slow machine and still fails at once on a quadratic regression.
ADVERSARIAL = {
    "a*1M": "a" * 10**6,
    "scheme then b:": "a://" + "b:" * 500_000,
    "repeated url start": "http://a:" * 100_000,
    "digits before ://": "1" * 10**6 + "://",
    "pem header run": "-----BEGIN " + "A " * 500_000,
    "sk- run": "sk-" * 333_333,
    "github token then _": "ghp_" + "a" * 10**6 + "_",
    "unterminated dump strings": 'map[string]interface {}{"' + '\\"' * 500_000,
    "many dump starts": "[]interface {}{" * 70_000,
    "many closed dumps": 'map[string]interface {}{"kind":"Secret"}' * 25_000,
    "many %v maps": "map[" * 250_000,
    "braces": "{" * 10**6,
    "struct-like": "a.B{" * 250_000,
    "pem headers without end": "-----BEGIN PRIVATE KEY-----\n" * 35_000,
}


@pytest.mark.parametrize("text", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_patterns_are_linear(text: str) -> None:
    started = time.perf_counter()
    value_looks_secret(text)
    name_looks_secret(text)
    assert time.perf_counter() - started < 2


@pytest.mark.parametrize("text", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_scrub_is_bounded(text: str) -> None:
    values = SecretValues()
    for value in ("a" * 12, "b:b", "secret-value", "a"):
        values.add(value)
    started = time.perf_counter()
    out = values.scrub(text)
    assert time.perf_counter() - started < 2 and not out.startswith(WITHHELD)


def test_scrub_with_many_values_is_bounded() -> None:
    # Same kind of hang guard: every position of the text starts a match.
    values = SecretValues()
    for i in range(1, 300):
        values.add("a" * i)
    for i in range(5000):
        values.add(f"aaaaaaaa{i}")
    started = time.perf_counter()
    assert values.scrub("a" * 200_000) == PLACEHOLDER
    assert time.perf_counter() - started < 2


# --- properties ---------------------------------------------------------------

VALUES = st.text(min_size=1, max_size=200).filter(lambda v: v.strip() and v not in PLACEHOLDER)
AROUND = st.text(max_size=300) | st.lists(st.sampled_from(
    ['map[string]interface {}{', '"', '\\', "{", "}", "[", "]", "map[", "-----BEGIN PRIVATE KEY-----", "\n",
     "://", ":", "@", " ", "a", "kind", '"kind":"Secret"', "<redacted>", "shop", "é", "\x00"]), max_size=40).map("".join)
CONTEXTS = ["key: {}\n", '"{}"', "={},"]


@settings(database=None, max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(VALUES, AROUND, AROUND, st.sampled_from(CONTEXTS))
def test_planted_values_never_survive(value: str, before: str, after: str, context: str) -> None:
    values = SecretValues()
    values.add(value)
    out = values.scrub(before + context.format(value) + after)
    assert not out.startswith(WITHHELD)
    if len(value) >= 8:
        assert value not in out
    else:
        assert not whole_token(value).search(out)


@settings(database=None, max_examples=200, deadline=None)
@given(st.lists(VALUES, min_size=1, max_size=5), AROUND)
def test_secret_objects_never_survive(data: list[str], around: str) -> None:
    values = SecretValues()
    values.add_object({"kind": "Secret", "stringData": {f"k{i}": v for i, v in enumerate(data)}})
    text = around.join(f"password: {v}\n" for v in data)
    out = values.scrub(text)
    for v in data:
        if len(v) >= 8:
            assert v not in out
        else:
            assert not whole_token(v).search(out)


@settings(database=None, max_examples=300, deadline=None)
@given(AROUND)
def test_scrub_never_raises(text: str) -> None:
    out = scrub(text)
    assert isinstance(out, str) and not out.startswith(WITHHELD)
    assert isinstance(replace_dumps(text), str)


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
    | st.sampled_from(["Secret", "ConfigMap", "Deployment", "CronJob", "Pod", "List", "PASSWORD", "env"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["kind", "data", "stringData", "spec", "template", "jobTemplate", "containers",
                         "initContainers", "env", "name", "value", "items", "binaryData"]) | st.text(max_size=8),
        inner, max_size=5),
    max_leaves=30,
)


@settings(database=None, max_examples=300, deadline=None)
@given(JSONISH)
def test_add_object_never_raises_on_any_shape(doc: object) -> None:
    values = SecretValues()
    # The private entry point: add_object's own catch-all would hide a crash.
    values._add_object(doc)
    assert not values.scrub(repr(doc)).startswith(WITHHELD)


def test_the_substring_prefilter_never_hides_a_credential_pattern():
    """value_looks_secret skips the patterns for strings without their telltale substrings:
    every pattern must need one of them."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from policycheck import credentials

    alphabet = st.sampled_from(list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:/@_-. ") +
                               ["://", "-----BEGIN ", "PRIVATE KEY-----", "sk-", "AKIA", "ghp_", "xoxb-"])

    @settings(max_examples=2000, deadline=None)
    @given(st.lists(alphabet, max_size=60).map("".join))
    def check(text: str) -> None:
        matched = any(p.search(text) for p in credentials.VALUE_PATTERNS)
        assert credentials.value_looks_secret(text) == matched
        if matched:
            assert credentials.NEEDS.search(text)

    check()


def test_strings_read_from_json_text_are_the_strings_a_walk_finds():
    """add_object(tree=True) reads the object's JSON text; it keeps what the node walk keeps."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    tokens = st.sampled_from(["postgres://app:Xk2pL9vQ@db:5432/x", "sk-" + "a1B2" * 6, "AKIA" + "Q" * 16,
                              "ghp_" + "z9" * 16, "xoxb-" + "1a2b" * 4, "plain", "say \"hi\"", "back\\slash",
                              "-----BEGIN RSA PRIVATE KEY-----", "line\nbreak", "é ü", "https://host/path", ""])
    values = st.recursive(tokens | st.integers() | st.none(),
                          lambda inner: st.lists(inner, max_size=3) | st.dictionaries(tokens, inner, max_size=3),
                          max_leaves=12)

    @settings(max_examples=400, deadline=None)
    @given(st.dictionaries(tokens, values, max_size=4))
    def check(doc: dict) -> None:
        walked, read = SecretValues(), SecretValues()
        walked.add_object(doc)
        read.add_object(doc, tree=True)
        assert sorted(walked._values) == sorted(read._values)

    check()


def test_a_shared_node_is_walked_once_not_written_out_per_reference():
    import time

    node: list = ["postgres://app:Xk2pL9vQ@db:5432/x"]
    for _ in range(40):  # 2**40 references when written out
        node = [node, node]
    values = SecretValues()
    start = time.monotonic()
    values.add_object({"kind": "ConfigMap", "data": {"bomb": node}})
    assert time.monotonic() - start < 5 and "postgres://app:Xk2pL9vQ@db:5432/x" in values


RESID_RAW = ('resid.ResId{Gvk:resid.Gvk{Group:"", Version:"v1", Kind:"ConfigMap", isClusterScoped:false}, '
             'Name:"prometheus-rbac", Namespace:""}')


@pytest.mark.parametrize(("text", "expected"), [
    # as kustomize prints it in "does not exist; cannot merge or replace"
    (f"merging from generator: id {RESID_RAW} does not exist; cannot merge or replace",
     "merging from generator: id <ConfigMap/prometheus-rbac> does not exist; cannot merge or replace"),
    # the same inside a %q-quoted error: quotes escaped once, or twice when quoted again
    ("err: \"id " + RESID_RAW.replace('"', '\\"') + ' does not exist"',
     'err: "id <ConfigMap/prometheus-rbac> does not exist"'),
    ("id " + RESID_RAW.replace('"', '\\\\\\"') + " already registered", "id <ConfigMap/prometheus-rbac> already registered"),
    # no name, no kind
    ('resid.ResId{Gvk:resid.Gvk{Group:"apps", Version:"v1", Kind:"Deployment", isClusterScoped:false}, '
     'Name:"", Namespace:"ns"} x', "<Deployment> x"),
])
def test_resource_ids_become_kind_and_name_and_keep_the_rest_of_the_line(text: str, expected: str) -> None:
    assert replace_dumps(text) == expected


def test_a_resource_id_with_an_odd_name_is_withheld_like_any_dump() -> None:
    """A name outside the characters of a Kubernetes name is not a ResId to trust: the generic
    reading withholds it, as before."""
    odd = RESID_RAW.replace("prometheus-rbac", "pass word=hunter2")
    out = replace_dumps(f"id {odd} does not exist")
    assert "hunter2" not in out and "<" in out
