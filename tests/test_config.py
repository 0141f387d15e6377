"""policycheck.yaml / [tool.policycheck]: every wrong value is one line naming file, key path and type.

Also the strict exempt-until dates of exemptions.py."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from policycheck import config, exemptions
from policycheck.conftest import Settings
from policycheck.model import K8sObject, PolicycheckError
from policycheck.rules import REGISTRY


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def _error(text: str, name: str = "pc.yaml") -> str:
    Path(name).write_text(text, encoding="utf-8")
    with pytest.raises(PolicycheckError) as info:
        config.load(name if name != "pyproject.toml" else None)
    message = str(info.value)
    assert len(message.splitlines()) == 1, message
    return message


# (config text, the exact message)
BAD = {
    # YAML 1.2 scalars: numbers and booleans where a string is meant.
    "kube-version-float": ("kube-version: 1.30\n",
                           'pc.yaml: kube-version: expected a string like "1.35", got the number 1.3; '
                           'write "1.30" in quotes'),
    "kube-version-shape": ('kube-version: "v1.35"\n', 'pc.yaml: kube-version: expected a string like "1.35", '
                                                      'got "v1.35"'),
    "level-false": ("rules: {liveness-probe: {level: false}}\n",
                    "pc.yaml: rules.liveness-probe.level: expected one of error, warning, off, "
                    "got the boolean false (an unquoted false is a boolean)"),
    "short-level-false": ("rules: {liveness-probe: false}\n",
                          "pc.yaml: rules.liveness-probe: expected one of error, warning, off or a mapping of "
                          "level and options, got the boolean false (an unquoted false is a boolean)"),
    "level-bogus": ("rules: {liveness-probe: {level: bogus}}\n",
                    'pc.yaml: rules.liveness-probe.level: expected one of error, warning, off, got "bogus"'),
    "level-control-chars": ('rules: {liveness-probe: {level: "er\\x1b[31mror\\n"}}\n',
                            "pc.yaml: rules.liveness-probe.level: expected one of error, warning, off, "
                            'got "er\\x1b[31mror\\n"'),
    "yes-is-a-string": ("conftest: {all-namespaces: yes}\n",
                        'pc.yaml: conftest.all-namespaces: expected true or false, got "yes" '
                        "(YAML 1.2 reads an unquoted yes as a string)"),
    "quoted-yes": ('conftest: {all-namespaces: "yes"}\n',
                   'pc.yaml: conftest.all-namespaces: expected true or false, got "yes"'),
    # Keys that are not strings.
    "rule-id-int": ("rules: {1: off}\n", "pc.yaml: rules: expected string keys (rule ids), got the number 1"),
    "profile-names-int-cycle": ("profiles: {1: {extends: 2}, 2: {extends: 1}}\n",
                                "pc.yaml: profiles: expected string keys (profile names), got the number 1"),
    "top-level-key-bool": ("true: 1\n", "pc.yaml: expected string keys, got the boolean true"),
    "option-name-null": ("rules: {min-replicas: {options: {~: 1}}}\n",
                         "pc.yaml: rules.min-replicas.options: expected string keys (option names), got null"),
    "conftest-profile-int": ("conftest: {profiles: {1: true}}\n",
                             "pc.yaml: conftest.profiles: expected string keys (profile names), got the number 1"),
    # Shapes.
    "top-level-list": ("- a\n", "pc.yaml: expected a mapping at the top, got a list"),
    "unknown-top-key": ("foo: 1\n", "pc.yaml: unknown key(s): foo (known: kube-version, rules, profiles, conftest, pairs)"),
    "unknown-rule": ("rules: {no-such-rule: off}\n", "pc.yaml: rules: unknown rule: no-such-rule"),
    "unknown-rule-escaped": ('rules: {"no\\tsuch": off}\n', "pc.yaml: rules: unknown rule: no\\tsuch"),
    "rules-list": ("rules: [a]\n", "pc.yaml: rules: expected a mapping, got a list"),
    "extends-list": ("profiles: {staging: {extends: [prod]}}\n",
                     "pc.yaml: profiles.staging.extends: expected a profile name (a string), got a list"),
    "extends-unknown": ("profiles: {staging: {extends: nope}}\n",
                        "pc.yaml: profiles.staging.extends: unknown profile: nope"),
    "extends-itself": ("profiles: {staging: {extends: staging}}\n",
                       "pc.yaml: profiles.staging.extends: a profile cannot extend itself"),
    "extends-cycle": ("profiles: {a: {extends: b}, b: {extends: a}}\n",
                      "pc.yaml: profiles: profiles extend each other in a cycle: a, b"),
    "overlays-str": ("profiles: {prod: {overlays: overlays/prod}}\n",
                     'pc.yaml: profiles.prod.overlays: expected a list of strings, got "overlays/prod"'),
    "overlays-element": ("profiles: {prod: {overlays: [1]}}\n",
                         'pc.yaml: profiles.prod.overlays[0]: expected a string, got the number 1; write "1" in quotes'),
    "profile-dotted-name": ('profiles: {"a.b": {rules: {liveness-probe: {level: x}}}}\n',
                            'pc.yaml: profiles."a.b".rules.liveness-probe.level: expected one of error, warning, '
                            'off, got "x"'),
    "profile-unknown-key": ("profiles: {prod: {rule: {}}}\n",
                            "pc.yaml: profiles.prod: unknown key(s): rule (known: extends, overlays, rules)"),
    # conftest:
    "conftest-list": ("conftest: [a]\n", "pc.yaml: conftest: expected a mapping, got a list"),
    "conftest-path-int": ("conftest: {path: 5}\n",
                          'pc.yaml: conftest.path: expected a string, got the number 5; write "5" in quotes'),
    "conftest-timeout-inf": ("conftest: {timeout: .inf}\n",
                             "pc.yaml: conftest.timeout: expected a number of seconds above 0 and at most 3600, "
                             "got the number .inf"),
    "conftest-timeout-nan": ("conftest: {timeout: .nan}\n",
                             "pc.yaml: conftest.timeout: expected a number of seconds above 0 and at most 3600, "
                             "got the number .nan"),
    "conftest-timeout-negative": ("conftest: {timeout: -1}\n",
                                  "pc.yaml: conftest.timeout: expected a number of seconds above 0 and at most 3600, "
                                  "got the number -1"),
    "conftest-timeout-absurd": ("conftest: {timeout: 1e300}\n",
                                "pc.yaml: conftest.timeout: expected a number of seconds above 0 and at most 3600, "
                                "got the number 1e+300"),
    "conftest-timeout-bool": ("conftest: {timeout: true}\n",
                              "pc.yaml: conftest.timeout: expected a number of seconds above 0 and at most 3600, "
                              "got the boolean true"),
    "conftest-timeout-sexagesimal": ("conftest: {timeout: 1:30}\n",
                                     "pc.yaml: conftest.timeout: expected a number of seconds above 0 and at most "
                                     '3600, got "1:30" (YAML 1.2 reads an unquoted 1:30 as a string)'),
    "conftest-policies-element": ("conftest: {policies: [[policies]]}\n",
                                  "pc.yaml: conftest.policies[0]: expected a string, got a list"),
    "conftest-profile-value": ("conftest: {profiles: {dev: off}}\n",
                               'pc.yaml: conftest.profiles.dev: expected true or false, got "off" '
                               "(YAML 1.2 reads an unquoted off as a string)"),
    "conftest-unknown": ("conftest: {polices: [p]}\n",
                         "pc.yaml: conftest: unknown key(s): polices (known: policies, data, namespaces, "
                         "all-namespaces, profiles, path, timeout)"),
    # Rule options, typed from OPTIONS and OPTION_TYPES.
    "option-unknown": ("rules: {min-replicas: {options: {minimun: 3}}}\n",
                       "pc.yaml: rules.min-replicas.options: unknown option: minimun (known: minimum, kinds)"),
    "option-none-known": ("rules: {liveness-probe: {options: {x: 1}}}\n",
                          "pc.yaml: rules.liveness-probe.options: unknown option: x (known: none)"),
    "options-list": ("rules: {min-replicas: {options: [minimum]}}\n",
                     "pc.yaml: rules.min-replicas.options: expected a mapping, got a list"),
    "kinds-nested": ("rules: {min-replicas: {options: {kinds: [[Deployment]]}}}\n",
                     "pc.yaml: rules.min-replicas.options.kinds[0]: expected a string, got a list"),
    "kinds-str": ("rules: {min-replicas: {options: {kinds: Deployment}}}\n",
                  'pc.yaml: rules.min-replicas.options.kinds: expected a list of strings, got "Deployment"'),
    "allowed-int": ("rules: {capabilities: {options: {allowed: [NET_RAW, 1]}}}\n",
                    'pc.yaml: rules.capabilities.options.allowed[1]: expected a string, got the number 1; '
                    'write "1" in quotes'),
    "external-mapping": ("rules: {config-reference: {options: {external: [{}]}}}\n",
                         "pc.yaml: rules.config-reference.options.external[0]: expected a string, got a mapping"),
    "minimum-bool": ("rules: {min-replicas: {options: {minimum: true}}}\n",
                     "pc.yaml: rules.min-replicas.options.minimum: expected an integer from 1 to 1000, "
                     "got the boolean true"),
    "minimum-negative": ("rules: {min-replicas: {options: {minimum: -1}}}\n",
                         "pc.yaml: rules.min-replicas.options.minimum: expected an integer from 1 to 1000, "
                         "got the number -1"),
    "minimum-float": ("rules: {min-replicas: {options: {minimum: 2.0}}}\n",
                      "pc.yaml: rules.min-replicas.options.minimum: expected an integer from 1 to 1000, "
                      "got the number 2.0"),
    "minimum-huge-hex": ("rules: {min-replicas: {options: {minimum: 0x" + "f" * 5000 + "}}}\n",
                         "pc.yaml: rules.min-replicas.options.minimum: expected an integer from 1 to 1000, "
                         "got the number <6021 digits>"),
    "pod-security-level": ("rules: {namespace-pod-security: {options: {level: strict}}}\n",
                           "pc.yaml: rules.namespace-pod-security.options.level: expected one of privileged, "
                           'baseline, restricted, got "strict"'),
    "rule-setting-unknown": ("rules: {liveness-probe: {levle: off}}\n",
                             "pc.yaml: rules.liveness-probe: unknown key(s): levle (known: level, options)"),
    # The parser itself.
    "does-not-parse": ("rules: [\n", "pc.yaml: config does not parse: did not find expected node content (line 2)"),
    "two-documents": ("a: 1\n---\nb: 2\n", "pc.yaml: config does not parse: but found another document (line 2)"),
    "python-tag": ("x: !!python/name:os.system x\n",
                   "pc.yaml: config does not parse: could not determine a constructor for the tag "
                   "'tag:yaml.org,2002:python/name:os.system' (line 1)"),
    "bad-timestamp": ("x: !!timestamp 2024-02-30\n", "pc.yaml: config does not parse: day is out of range for month"),
    "bad-timestamp-shape": ("x: !!timestamp bogus\n",
                            "pc.yaml: config does not parse: a value cannot be built (AttributeError)"),
    "too-many-digits": ("kube-version: " + "1" * 5000 + "\n",
                        "pc.yaml: config does not parse: Exceeds the limit (4300 digits) for integer string "
                        "conversion: value has 5000 digits; use sys.set_int_max_str_digits() to increase the limit"),
    "deep-block": ("a:\n" + "".join(" " * (2 * i) + "a:\n" for i in range(1, 1200)), "pc.yaml: config nests too deeply"),
    "deep-flow": ("a: " + "[" * 5000 + "]" * 5000 + "\n", "pc.yaml: config nests too deeply"),
    # Deep, but within the parser's limit: validation follows the schema, not the data.
    "deep-but-parses": ("rules: {min-replicas: {options: {kinds: " + "[" * 990 + "]" * 990 + "}}}\n",
                        "pc.yaml: rules.min-replicas.options.kinds[0]: expected a string, got a list"),
    "deep-unknown-key": ("x: " + "[" * 990 + "]" * 990 + "\n",
                         "pc.yaml: unknown key(s): x (known: kube-version, rules, profiles, conftest, pairs)"),
    "self-referencing": ("rules: {min-replicas: {options: {kinds: &k [*k]}}}\n",
                         "pc.yaml: rules.min-replicas.options.kinds[0]: expected a string, got a list"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_config_is_one_line(case: str) -> None:
    text, expected = BAD[case]
    assert _error(text) == expected


PYPROJECT_BAD = {
    "tool-not-a-table": ('tool = "x"\n', 'pyproject.toml: tool: expected a table, got "x"'),
    "section-not-a-table": ("[tool]\npolicycheck = 5\n",
                            "pyproject.toml: tool.policycheck: expected a table, got the number 5"),
    "kube-version-float": ("[tool.policycheck]\nkube-version = 1.30\n",
                           'pyproject.toml [tool.policycheck]: kube-version: expected a string like "1.35", '
                           "got the number 1.3; write it in quotes"),
    "date": ("[tool.policycheck]\nkube-version = 2024-01-01\n",
             'pyproject.toml [tool.policycheck]: kube-version: expected a string like "1.35", got a date'),
    "level-bool": ("[tool.policycheck.rules.liveness-probe]\nlevel = false\n",
                   "pyproject.toml [tool.policycheck]: rules.liveness-probe.level: expected one of error, warning, "
                   "off, got the boolean false (an unquoted false is a boolean)"),
    "deep": ("[x]\na = " + "[" * 2000 + "]" * 2000 + "\n", "pyproject.toml: config nests too deeply"),
    "does-not-parse": ("[tool\n", "pyproject.toml: does not parse: Expected ']' at the end of a table declaration "
                                  "(at line 1, column 6)"),
}


@pytest.mark.parametrize("case", sorted(PYPROJECT_BAD))
def test_bad_pyproject_is_one_line(case: str) -> None:
    text, expected = PYPROJECT_BAD[case]
    assert _error(text, "pyproject.toml") == expected


def test_explicit_toml_file_reads_its_tool_section() -> None:
    assert _error('[tool.policycheck]\nconftest = {timeout = 0}\n', "pc.toml") == (
        "pc.toml: conftest.timeout: expected a number of seconds above 0 and at most 3600, got the number 0")


def test_missing_explicit_file_is_escaped() -> None:
    with pytest.raises(PolicycheckError, match=r"^config file not found: no\\x1bpe\.yaml$"):
        config.load("no\x1bpe.yaml")


def test_unquoted_off_and_on_are_strings() -> None:
    Path("policycheck.yaml").write_text("kube-version: '1.32'\nrules:\n  liveness-probe: off\n"
                                        "  readiness-probe: {level: off}\nprofiles:\n  dev: {extends: prod}\n")
    cfg = config.load()
    profile = cfg.profile_for("overlays/x", None)
    assert (cfg.kube_version, cfg.source) == ("1.32", "policycheck.yaml")
    assert profile.level("liveness-probe") is None and profile.level("readiness-probe") is None


def test_unknown_profile_is_escaped() -> None:
    with pytest.raises(PolicycheckError, match=r"^unknown profile: st\\nage \(have default, dev, prod\)$"):
        config.load().profile_for("overlays/x", "st\nage")


def test_settings_from_a_plain_label() -> None:
    """The CLI passes the config's label; the same checks apply."""
    with pytest.raises(PolicycheckError, match=r"^pc\.yaml: conftest\.namespaces: expected a list of strings, got "
                                               r"the number 1$"):
        Settings.from_config({"namespaces": 1}, "pc.yaml")
    settings = Settings.from_config({"timeout": 3600, "path": "", "all-namespaces": True}, "pc.yaml")
    assert (settings.timeout, settings.path, settings.all_namespaces) == (3600.0, None, True)


def test_escape() -> None:
    assert config.escape("a\x1b[0m\r\n\t\u2028\u202e\x7f b") == "a\\x1b[0m\\r\\n\\t\\u2028\\u202e\\x7f b"
    assert config.escape("é" * 70) == "é" * 60 + "..."


def test_option_types_are_derived_from_defaults_or_declared() -> None:
    types = {rule.id: rule.option_types for rule in REGISTRY.values() if rule.options}
    assert types == {
        "capabilities": {"allowed": [str]},
        "config-reference": {"external": [str]},
        "min-replicas": {"minimum": range(1, 1001), "kinds": [str]},
        "namespace-pod-security": {"level": ("privileged", "baseline", "restricted")},
        "overlay-parity": {"kinds": [str], "ignore": [str], "only-in-stronger": [str], "only-in-weaker": [str]},
        "prod-not-weaker": {"checks": [("replicas", "requests", "tls", "security-context")], "ignore": [str]},
        "host-port": {"allowed": [int]},
        "safe-sysctls": {"allowed": [str]},
        "priority-class": {"allowed": [str]},
        "run-as-non-root": {"min-uid": range(0, 2**31), "min-gid": range(0, 2**31)},
        "service-exposure": {"allowed-types": [("ClusterIP", "ExternalName", "NodePort", "LoadBalancer")]},
        "redis-broker-safety": {"images": [str], "max-percent": range(1, 100), "policies": [str]},
        "rbac-broad-subject": {"allowed-roles": [str]},
    }
    # Every default fits its own type.
    source = config.Source("defaults")
    for rule in REGISTRY.values():
        for key, default in rule.options.items():
            config.check_value(default, rule.option_types[key], source, (rule.id, key))


# --- generated: every key path of a full config, every wrong value ---------------------------------------------

FULL: dict[str, Any] = {
    "kube-version": "1.34",
    "rules": {
        "liveness-probe": {"level": "warning"},
        "ingress-tls": "off",
        "min-replicas": {"level": "error", "options": {"minimum": 3, "kinds": ["Deployment", "StatefulSet"]}},
        "capabilities": {"options": {"allowed": ["NET_BIND_SERVICE"]}},
        "namespace-pod-security": {"options": {"level": "baseline"}},
    },
    "profiles": {
        "prod": {"overlays": ["overlays/prod*"],
                 "rules": {"config-reference": {"options": {"external": ["Secret/app"]}}}},
        "staging": {"extends": "prod", "overlays": ["overlays/staging"], "rules": {"image-digest": "warning"}},
    },
    "conftest": {"policies": ["policies"], "data": ["policies/data"], "namespaces": ["main"],
                 "all-namespaces": False, "profiles": {"dev": False}, "path": "conftest", "timeout": 30},
}
VARIANTS = [None, 1, 1.5, True, "x", [], [1], {}, {"k": 1}, {1: "x"}, float("inf")]


def _paths(tree: Any) -> list[tuple[Any, ...]]:
    """Every key path (and list index) of ``tree``, the root included; iterative."""
    paths, stack = [], [((), tree)]
    while stack:
        path, node = stack.pop()
        paths.append(path)
        if isinstance(node, dict):
            stack.extend(((*path, k), v) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend(((*path, i), v) for i, v in enumerate(node))
    return paths


def _replaced(path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return copy.deepcopy(value)
    tree = copy.deepcopy(FULL)
    node = tree
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = copy.deepcopy(value)
    return tree


def _load_never_crashes(tree: Any) -> str | None:
    Path("pc.yaml").write_text(yaml.safe_dump(tree), encoding="utf-8")
    try:
        config.load("pc.yaml")
    except PolicycheckError as exc:
        message = str(exc)
        assert len(message.splitlines()) == 1 and message.startswith("pc.yaml"), message
        return message
    return None


def test_the_full_example_is_valid() -> None:
    assert _load_never_crashes(FULL) is None
    assert len(_paths(FULL)) > 40


@pytest.mark.parametrize("path", _paths(FULL), ids=config.key_path)
def test_every_wrong_value_is_one_line(path: tuple[Any, ...]) -> None:
    for value in VARIANTS:
        _load_never_crashes(_replaced(path, value))


def _get(tree: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        tree = tree[part]
    return tree


def test_every_mapping_with_an_odd_key_is_one_line() -> None:
    for path in _paths(FULL):
        if isinstance(_get(FULL, path), dict):
            for key in (1, None, True, 1.5, "", "x\ny"):
                tree = copy.deepcopy(FULL)
                _get(tree, path)[key] = "x"
                _load_never_crashes(tree)


# --- exemptions: exempt-until is strictly YYYY-MM-DD -----------------------------------------------------------

TODAY = dt.date(2026, 6, 1)
KNOWN = frozenset({"liveness-probe", "exemption-reason"})


def _obj(annotations: dict[str, str]) -> K8sObject:
    return K8sObject({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "annotations": annotations}},
                     "o")


def _problems(annotations: dict[str, str]) -> list[str]:
    ctx = SimpleNamespace(known_rules=KNOWN, objects=[_obj(annotations)], today=TODAY)
    return [p.message for p in exemptions.problems(ctx)]


@pytest.mark.parametrize("until", ["20990101", "2099-W01-1", "2099-1-1", "2099-02-30", "2099-01-01T00:00",
                                   "２０９９-01-01", "tomorrow", ""])
def test_exempt_until_is_strictly_a_date(until: str) -> None:
    annotations = {"policycheck.io/exempt.liveness-probe": "why", "policycheck.io/exempt-until.liveness-probe": until}
    assert _problems(annotations) == ["exempt-until for liveness-probe is not a YYYY-MM-DD date"]
    assert exemptions.exemption_for(_obj(annotations), "liveness-probe", KNOWN, TODAY) is None


def test_exempt_until_date_still_works() -> None:
    annotations = {"policycheck.io/exempt.liveness-probe": "why",
                   "policycheck.io/exempt-until.liveness-probe": " 2099-01-01 "}
    assert _problems(annotations) == []
    assert exemptions.exemption_for(_obj(annotations), "liveness-probe", KNOWN, TODAY) == "why"
    annotations["policycheck.io/exempt-until.liveness-probe"] = "2026-05-31"
    assert _problems(annotations) == ["exemption of liveness-probe expired on 2026-05-31"]


def test_exemption_of_no_rule() -> None:
    assert _problems({"policycheck.io/exempt.": "why"}) == ["exemption names no rule"]
    assert _problems({"policycheck.io/exempt-until.": "2099-01-01"}) == ["exempt-until names no rule"]
    assert _problems({"policycheck.io/exempt.nope": "why"}) == ["exemption names unknown rule nope"]
