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
"""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from policycheck.model import PolicycheckError, Severity
from policycheck.rules import REGISTRY

CONFIG_FILES = ("policycheck.yaml", "policycheck.yml")
LEVELS = ("error", "warning", "off")
DEFAULT_PROFILE = "default"

BUILTIN: dict[str, dict[str, dict[str, Any]]] = {
    # Every rule on; digests are mandatory.
    "prod": {"image-digest": {"level": "error"}},
    # Local and test clusters: one replica, no TLS, no network isolation needed.
    "dev": {rule: {"level": "off"} for rule in
            ("image-digest", "min-replicas", "ingress-tls", "pdb-coverage", "network-policy-coverage")},
}


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
                raise PolicycheckError(f"unknown profile: {requested} (have {', '.join(sorted(self.profiles))})")
            return self.profiles[requested]
        for profile in self.profiles.values():
            if any(fnmatch.fnmatch(overlay, pattern) for pattern in profile.overlays):
                return profile
        name = Path(overlay).name
        if name in BUILTIN and name in self.profiles:
            return self.profiles[name]
        return self.profiles[DEFAULT_PROFILE]


def _apply_rules(profile: Profile, rules: Any, where: str) -> None:
    if rules is None:
        return
    if not isinstance(rules, dict):
        raise PolicycheckError(f"{where}: rules must be a mapping of rule id to settings")
    for rule_id, raw in rules.items():
        settings = {"level": raw} if isinstance(raw, str) else raw
        if rule_id not in REGISTRY:
            raise PolicycheckError(f"{where}: unknown rule: {rule_id}")
        if not isinstance(settings, dict):
            raise PolicycheckError(f"{where}: rule {rule_id}: settings must be a mapping")
        unknown = set(settings) - {"level", "options"}
        if unknown:
            raise PolicycheckError(f"{where}: rule {rule_id}: unknown setting(s): {', '.join(sorted(unknown))}")
        if "level" in settings:
            level = settings["level"]
            if level not in LEVELS:
                raise PolicycheckError(f"{where}: rule {rule_id}: level must be one of {', '.join(LEVELS)}")
            profile.levels[rule_id] = None if level == "off" else Severity(level)
        options = settings.get("options") or {}
        if not isinstance(options, dict):
            raise PolicycheckError(f"{where}: rule {rule_id}: options must be a mapping")
        defaults = REGISTRY[rule_id].options
        for key, value in options.items():
            if key not in defaults:
                raise PolicycheckError(f"{where}: rule {rule_id}: unknown option: {key}")
            if type(value) is not type(defaults[key]):
                raise PolicycheckError(
                    f"{where}: rule {rule_id}: option {key} must be a {type(defaults[key]).__name__}"
                )
        profile.options.setdefault(rule_id, {}).update(options)


def _copy(profile: Profile, name: str) -> Profile:
    return Profile(name, dict(profile.levels), {k: dict(v) for k, v in profile.options.items()}, [])


def find_config(explicit: str | None) -> tuple[dict[str, Any], str | None]:
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise PolicycheckError(f"config file not found: {explicit}")
        return _read(path), explicit
    for name in CONFIG_FILES:
        if Path(name).is_file():
            return _read(Path(name)), name
    pyproject = Path("pyproject.toml")
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise PolicycheckError(f"pyproject.toml: does not parse: {exc}") from None
        section = data.get("tool", {}).get("policycheck")
        if section is not None:
            return section, "pyproject.toml [tool.policycheck]"
    return {}, None


def _read(path: Path) -> dict[str, Any]:
    try:
        if path.suffix == ".toml":
            data = tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {}).get("policycheck", {})
        else:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise PolicycheckError(f"{path}: config does not parse: {reason}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise PolicycheckError(f"{path}: config must be a mapping")
    return data


TOP_LEVEL = {"kube-version", "rules", "profiles", "conftest"}


def load(explicit: str | None = None) -> Config:
    data, source = find_config(explicit)
    where = source or "config"
    unknown = set(data) - TOP_LEVEL
    if unknown:
        raise PolicycheckError(f"{where}: unknown key(s): {', '.join(sorted(unknown))}")
    common = Profile(DEFAULT_PROFILE)
    _apply_rules(common, data.get("rules"), where)
    profiles: dict[str, Profile] = {DEFAULT_PROFILE: common}
    for name, rules in BUILTIN.items():
        profiles[name] = _copy(common, name)
        _apply_rules(profiles[name], rules, f"built-in profile {name}")
    declared = data.get("profiles") or {}
    if not isinstance(declared, dict):
        raise PolicycheckError(f"{where}: profiles must be a mapping")
    pending = dict(declared)
    while pending:
        progressed = False
        for name, raw in list(pending.items()):
            body = raw or {}
            if not isinstance(body, dict):
                raise PolicycheckError(f"{where}: profile {name} must be a mapping")
            bad = set(body) - {"extends", "overlays", "rules"}
            if bad:
                raise PolicycheckError(f"{where}: profile {name}: unknown key(s): {', '.join(sorted(bad))}")
            parent = body.get("extends") or (name if name in BUILTIN else DEFAULT_PROFILE)
            if parent in pending and parent != name:
                continue
            if parent not in profiles:
                raise PolicycheckError(f"{where}: profile {name} extends unknown profile {parent}")
            profile = _copy(profiles[parent], name)
            overlays = body.get("overlays") or []
            if not isinstance(overlays, list) or not all(isinstance(o, str) for o in overlays):
                raise PolicycheckError(f"{where}: profile {name}: overlays must be a list of paths or globs")
            profile.overlays = overlays
            _apply_rules(profile, body.get("rules"), f"{where}: profile {name}")
            profiles[name] = profile
            del pending[name]
            progressed = True
        if not progressed:
            raise PolicycheckError(f"{where}: profiles extend each other in a cycle: {', '.join(sorted(pending))}")
    kube_version = data.get("kube-version")
    if kube_version is not None:
        kube_version = str(kube_version)
    conftest = data.get("conftest") or {}
    if not isinstance(conftest, dict):
        raise PolicycheckError(f"{where}: conftest must be a mapping")
    return Config(profiles, kube_version, source, {"conftest": conftest})
