"""Profiles, rule levels and options: built-in defaults plus policycheck.yaml
or [tool.policycheck] in pyproject.toml.

    kube-version: "1.35"
    rules:                        # every profile
      <rule-id>: {level: error|warning|off, options: {...}}
    profiles:
      <name>:
        extends: prod             # optional: start from another profile
        overlays: ["overlays/prod*"]
        rules: {<rule-id>: {...}}
    conftest: {...}               # see policycheck.conftest.Settings
    pairs: [{weaker, stronger, rules}]   # see policycheck.crossrules (rules across overlays)

The file is read with the YAML 1.2 core schema (policycheck.yamlio): an
unquoted `off` is the string "off", not false. Everything is validated
before use; an error is one line that names the file, the key path and the
type expected (`pc.yaml: rules.min-replicas.options.minimum: expected an
integer from 1 to 1000, got the boolean true`). Validation follows the
expected shape, never the data's own depth, so no input can recurse deeply.
"""

from __future__ import annotations

import fnmatch
import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from policycheck import yamlio
from policycheck.model import PolicycheckError, Severity
from policycheck.rules import REGISTRY

CONFIG_FILES = ("policycheck.yaml", "policycheck.yml")
LEVELS = ("error", "warning", "off")
DEFAULT_PROFILE = "default"
TOP_LEVEL = ("kube-version", "rules", "profiles", "conftest", "pairs")
PROFILE_KEYS = ("extends", "overlays", "rules")
RULE_KEYS = ("level", "options")
KUBE_VERSION = re.compile(r"[0-9]+\.[0-9]+")

BUILTIN: dict[str, dict[str, dict[str, Any]]] = {
    # Every rule on; digests are mandatory.
    "prod": {"image-digest": {"level": "error"}, "ephemeral-storage": {"level": "error"},
             # Any class in the built-in profile: only the cluster knows which exist (option "allowed").
             "priority-class": {"level": "warning"}},
    # Local and test clusters: one replica, no TLS, no network isolation needed.
    "dev": {rule: {"level": "off"} for rule in
            ("image-digest", "min-replicas", "ingress-tls", "pdb-coverage", "network-policy-coverage")}
    # Debugging and test roles in dev clusters exec into pods, start Jobs and read Secrets: reported, not failed.
    | {rule: {"level": "warning"} for rule in ("rbac-pod-exec", "rbac-workload-create", "rbac-secret-read")},
}


# --- echoing values safely -------------------------------------------------------------------------------------

_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape(text: str, limit: int = 60) -> str:
    """``text`` with control, format and separator characters escaped, cut to ``limit`` characters."""
    out = []
    for char in text[:limit]:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(char)
    return "".join(out) + ("..." if len(text) > limit else "")


def _quoted(text: str) -> str:
    return '"' + escape(text.replace("\\", "\\\\").replace('"', '\\"')) + '"'


def _scalar(value: Any) -> str:
    """A bool, number or None as YAML spells it; never a huge or recursive rendering."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        digits = math.floor(math.log10(abs(value))) + 1 if value else 1
        return str(value) if digits <= 30 else f"{'-' if value < 0 else ''}<{digits} digits>"
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    return type(value).__name__


def describe(value: Any) -> str:
    """What a config value is, for "got ..." (escaped, bounded; containers are not rendered)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {_scalar(value)}"
    if isinstance(value, int | float):
        return f"the number {_scalar(value)}"
    if isinstance(value, str):
        return _quoted(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    names = {"date": "a date", "datetime": "a date and time", "time": "a time", "bytes": "binary data",
             "set": "a set", "tuple": "a list"}
    return names.get(type(value).__name__, f"a value of type {type(value).__name__}")


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")


def key_path(path: tuple[Any, ...]) -> str:
    """``rules.min-replicas.options.kinds[0]``; odd keys quoted and escaped."""
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            text = part if isinstance(part, str) and _PLAIN_KEY.fullmatch(part) else _quoted(str(part))
            out += ("." if out else "") + text
    return out


# --- reading ---------------------------------------------------------------------------------------------------


@dataclass
class Source:
    """Where a config came from: its label in messages and, for YAML, the node tree (for hints)."""

    label: str
    root: yaml.Node | None = None

    def error(self, path: tuple[Any, ...], message: str) -> PolicycheckError:
        where = f"{self.label}: {key_path(path)}" if path else self.label
        return PolicycheckError(f"{where}: {message}")

    def wrong(self, path: tuple[Any, ...], expected: str, value: Any) -> PolicycheckError:
        return self.error(path, f"expected {expected}, got {describe(value)}{self._hint(path, expected, value)}")

    def _node(self, path: tuple[Any, ...]) -> yaml.Node | None:
        """The YAML node at ``path`` (bounded by the path's length), if it can be found."""
        node = self.root
        for part in path:
            if isinstance(node, yaml.MappingNode):
                matches = [v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(part)]
                node = matches[-1] if matches else None
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                node = node.value[part]
            else:
                return None
        return node

    def _hint(self, path: tuple[Any, ...], expected: str, value: Any) -> str:
        node = self._node(path)
        plain = node.value if isinstance(node, yaml.ScalarNode) and not node.style else None
        wants_string = expected.startswith("a string") or expected.endswith("(a string)")
        if isinstance(value, bool | int | float) and (wants_string or expected.startswith("one of")):
            if wants_string:
                return f'; write "{escape(plain)}" in quotes' if plain else "; write it in quotes"
            kind = "boolean" if isinstance(value, bool) else "number"
            return f" (an unquoted {escape(plain) if plain else _scalar(value)} is a {kind})"
        if isinstance(value, str) and plain is not None and yamlio.YAML11_SURPRISES.match(plain):
            return f" (YAML 1.2 reads an unquoted {escape(plain)} as a string)"
        return ""


def _read_yaml(path: Path, label: str) -> tuple[Any, Source]:
    text = path.read_text(encoding="utf-8")
    loader = yamlio.CoreLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return data, Source(label, node)


def _too_deep(exc: BaseException) -> bool:
    return isinstance(exc, RecursionError) or "nesting depth" in str(exc)


def _parse_failure(label: str, exc: BaseException) -> PolicycheckError:
    if _too_deep(exc):
        return PolicycheckError(f"{label}: config nests too deeply")
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem:
        mark = f" (line {exc.problem_mark.line + 1})" if exc.problem_mark else ""
        reason = f"{exc.problem}{mark}"
    elif isinstance(exc, OSError):
        reason = exc.strerror or type(exc).__name__
    elif not isinstance(exc, yaml.YAMLError | ValueError):  # (tomllib.TOMLDecodeError is a ValueError)
        reason = f"a value cannot be built ({type(exc).__name__})"
    else:
        lines = str(exc).splitlines()
        reason = lines[0] if lines else type(exc).__name__
    return PolicycheckError(f"{label}: config does not parse: {escape(reason, 200)}")


def _tool_section(data: dict[str, Any], source: Source) -> Any:
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise source.wrong(("tool",), "a table", tool)
    section = tool.get("policycheck")
    if section is not None and not isinstance(section, dict):
        raise source.wrong(("tool", "policycheck"), "a table", section)
    return section


def _read(path: Path, label: str) -> tuple[Any, Source]:
    """The config data of a file and its Source; a one-line PolicycheckError when it does not parse."""
    try:
        if path.suffix == ".toml":
            import tomllib  # noqa: PLC0415 - 5 ms, only for a TOML config

            data, source = tomllib.loads(path.read_text(encoding="utf-8")), Source(label)
            data = _tool_section(data, source)
        else:
            data, source = _read_yaml(path, label)
    except PolicycheckError:
        raise
    except Exception as exc:  # noqa: BLE001 - a parser fed anything: every failure is a config error
        raise _parse_failure(label, exc) from None
    return data, source


def find_config(explicit: str | None) -> tuple[dict[str, Any], Source | None]:
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise PolicycheckError(f"config file not found: {escape(explicit, 200)}")
        data, source = _read(path, escape(explicit, 200))
        return _checked_top(data, source), source
    for name in CONFIG_FILES:
        if Path(name).is_file():
            data, source = _read(Path(name), name)
            return _checked_top(data, source), source
    pyproject = Path("pyproject.toml")
    if pyproject.is_file():
        label = "pyproject.toml"
        import tomllib  # noqa: PLC0415 - 5 ms, only when there is no policycheck.yaml

        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except Exception as exc:  # noqa: BLE001 - as in _read
            if _too_deep(exc):
                raise PolicycheckError(f"{label}: config nests too deeply") from None
            lines = str(exc).splitlines()
            raise PolicycheckError(f"{label}: does not parse: {escape(lines[0] if lines else '', 200)}") from None
        section = _tool_section(data, Source(label))
        if section is not None:
            source = Source("pyproject.toml [tool.policycheck]")
            return _checked_top(section, source), source
    return {}, None


def _checked_top(data: Any, source: Source) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise source.wrong((), "a mapping at the top", data)
    return data


# --- validating ------------------------------------------------------------------------------------------------


def expected(spec: Any) -> str:
    """The words for a type spec (see policycheck.rules.base: str, bool, int, float, [T], choices, range)."""
    if isinstance(spec, list):
        inner = expected(spec[0])
        plural = {"a string": "strings", "true or false": "booleans", "an integer": "integers",
                  "a number": "numbers"}
        return f"a list of {plural.get(inner, inner)}"
    if isinstance(spec, tuple):
        return "one of " + ", ".join(spec)
    if isinstance(spec, range):
        return f"an integer from {spec.start} to {spec.stop - 1}"
    return {str: "a string", bool: "true or false", int: "an integer", float: "a number"}.get(spec, str(spec))


def check_fits(value: Any, spec: Any) -> bool:
    """Whether ``value`` has the type ``spec`` (a scalar spec: not a list)."""
    if isinstance(spec, tuple):
        return isinstance(value, str) and value in spec
    if isinstance(spec, range):
        return isinstance(value, int) and not isinstance(value, bool) and value in spec
    if spec is float:
        return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if spec is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, spec)


def check_value(value: Any, spec: Any, source: Source, path: tuple[Any, ...]) -> None:
    """Raise the one-line error when ``value`` does not have the type ``spec``."""
    if isinstance(spec, list):
        if not isinstance(value, list):
            raise source.wrong(path, expected(spec), value)
        for index, item in enumerate(value):
            if not check_fits(item, spec[0]):
                raise source.wrong((*path, index), expected(spec[0]), item)
    elif not check_fits(value, spec):
        raise source.wrong(path, expected(spec), value)


def check_mapping(value: Any, source: Source, path: tuple[Any, ...], keys: str | None = None,
                  known: tuple[str, ...] | None = None) -> dict[str, Any]:
    """``value`` as a mapping with string keys (``keys`` names them), only ``known`` ones if given."""
    if not isinstance(value, dict):
        raise source.wrong(path, "a mapping", value)
    for key in value:
        if not isinstance(key, str):
            what = f"string keys ({keys})" if keys else "string keys"
            raise source.error(path, f"expected {what}, got {describe(key)}")
    if known is not None:
        unknown = [k for k in value if k not in known]
        if unknown:
            names = ", ".join(escape(k) for k in sorted(unknown)[:10])
            raise source.error(path, f"unknown key(s): {names} (known: {', '.join(known)})")
    return value


# --- the model -------------------------------------------------------------------------------------------------


@dataclass
class Profile:
    name: str
    levels: dict[str, Severity | None] = field(default_factory=dict)
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    overlays: list[str] = field(default_factory=list)

    def level(self, rule_id: str) -> Severity | None:
        return self.levels.get(rule_id, REGISTRY[rule_id].level)

    def rule_options(self, rule_id: str) -> dict[str, Any]:
        return {**REGISTRY[rule_id].options, **self.options.get(rule_id, {})}


@dataclass
class Config:
    profiles: dict[str, Profile]
    kube_version: str | None = None
    source: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def profile_for(self, overlay: str, requested: str | None) -> Profile:
        if requested:
            if requested not in self.profiles:
                have = ", ".join(escape(p) for p in sorted(self.profiles))
                raise PolicycheckError(f"unknown profile: {escape(requested)} (have {have})")
            return self.profiles[requested]
        # Patterns match the path as given and as seen from the config file's
        # directory, so `cd overlays/prod && policycheck .` picks the same profile.
        resolved = Path(overlay).resolve()
        spellings = {overlay, resolved.as_posix()}
        base = Path(self.source).resolve().parent if self.source and Path(self.source).exists() else Path.cwd()
        try:
            spellings.add(resolved.relative_to(base).as_posix())
        except ValueError:
            pass
        for profile in self.profiles.values():
            if any(fnmatch.fnmatch(spelling, pattern) for spelling in spellings for pattern in profile.overlays):
                return profile
        name = resolved.name
        if name in BUILTIN and name in self.profiles:
            return self.profiles[name]
        return self.profiles[DEFAULT_PROFILE]


def _apply_rules(profile: Profile, rules: Any, source: Source, path: tuple[Any, ...]) -> None:
    if rules is None:
        return
    rules = check_mapping(rules, source, path, "rule ids")
    for rule_id, raw in rules.items():
        if rule_id not in REGISTRY:
            raise source.error(path, f"unknown rule: {escape(rule_id)}")
        here = (*path, rule_id)
        if not isinstance(raw, dict) and (not isinstance(raw, str) or raw not in LEVELS):
            raise source.wrong(here, f"one of {', '.join(LEVELS)} or a mapping of level and options", raw)
        # `<rule-id>: off` is short for `<rule-id>: {level: off}`.
        settings = check_mapping(raw if isinstance(raw, dict) else {"level": raw}, source, here, None, RULE_KEYS)
        if "level" in settings:
            level = settings["level"]
            check_value(level, LEVELS, source, (*here, "level"))
            profile.levels[rule_id] = None if level == "off" else Severity(level)
        options = settings.get("options")
        if options is None:
            continue
        types = REGISTRY[rule_id].option_types
        options = check_mapping(options, source, (*here, "options"), "option names")
        for key, value in options.items():
            if key not in types:
                known = ", ".join(types) or "none"
                raise source.error((*here, "options"), f"unknown option: {escape(key)} (known: {known})")
            check_value(value, types[key], source, (*here, "options", key))
        profile.options.setdefault(rule_id, {}).update(options)


def _copy(profile: Profile, name: str) -> Profile:
    return Profile(name, dict(profile.levels), {k: dict(v) for k, v in profile.options.items()}, [])


def _profiles(data: dict[str, Any], common: Profile, source: Source) -> dict[str, Profile]:
    profiles: dict[str, Profile] = {DEFAULT_PROFILE: common}
    for name, rules in BUILTIN.items():
        profiles[name] = _copy(common, name)
        _apply_rules(profiles[name], rules, Source(f"built-in profile {name}"), ("rules",))
    declared = data.get("profiles")
    if declared is None:
        return profiles
    declared = check_mapping(declared, source, ("profiles",), "profile names")
    bodies: dict[str, dict[str, Any]] = {}
    for name, raw in declared.items():
        path = ("profiles", name)
        body = check_mapping(raw if raw is not None else {}, source, path, None, PROFILE_KEYS)
        extends = body.get("extends")
        if extends is not None and not isinstance(extends, str):
            raise source.wrong((*path, "extends"), "a profile name (a string)", extends)
        overlays = body.get("overlays")
        if overlays is not None:
            check_value(overlays, [str], source, (*path, "overlays"))
        bodies[name] = body
    pending = dict(bodies)
    while pending:
        progressed = False
        for name, body in list(pending.items()):
            parent = body.get("extends") or (name if name in BUILTIN else DEFAULT_PROFILE)
            if parent in pending and parent != name:
                continue
            if parent == name and name not in profiles:
                raise source.error(("profiles", name, "extends"), "a profile cannot extend itself")
            if parent not in profiles:
                raise source.error(("profiles", name, "extends"), f"unknown profile: {escape(parent)}")
            profile = _copy(profiles[parent], name)
            profile.overlays = list(body.get("overlays") or [])
            _apply_rules(profile, body.get("rules"), source, ("profiles", name, "rules"))
            profiles[name] = profile
            del pending[name]
            progressed = True
        if not progressed:
            names = ", ".join(escape(n) for n in sorted(pending)[:10])
            raise source.error(("profiles",), f"profiles extend each other in a cycle: {names}")
    return profiles


def _kube_version(data: dict[str, Any], source: Source) -> str | None:
    version = data.get("kube-version")
    if version is None:
        return None
    if not isinstance(version, str) or not KUBE_VERSION.fullmatch(version):
        raise source.wrong(("kube-version",), 'a string like "1.35"', version)
    return version


def load(explicit: str | None = None) -> Config:
    from policycheck.conftest import Settings  # noqa: PLC0415 - conftest's settings read this module's helpers

    data, source = find_config(explicit)
    source = source or Source("config")
    check_mapping(data, source, (), None, TOP_LEVEL)
    # Rules that are off until a user sets their level (ENABLED = False: priority-class) start off everywhere.
    common = Profile(DEFAULT_PROFILE, {rule.id: None for rule in REGISTRY.values() if not rule.enabled})
    _apply_rules(common, data.get("rules"), source, ("rules",))
    profiles = _profiles(data, common, source)
    kube_version = _kube_version(data, source)
    conftest = data.get("conftest")
    conftest = {} if conftest is None else conftest
    if not isinstance(conftest, dict):
        raise source.wrong(("conftest",), "a mapping", conftest)
    Settings.from_config(conftest, source)  # validated now; the CLI builds its own
    extra: dict[str, Any] = {"conftest": conftest}
    if data.get("pairs") is not None:  # (the module of the rules across overlays loads only then)
        from policycheck import crossrules  # noqa: PLC0415

        extra["pairs"] = crossrules.from_config(data["pairs"], source)
    return Config(profiles, kube_version, source.label if source.label != "config" else None, extra)
