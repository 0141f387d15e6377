"""What a rule module provides, and what its check yields."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from policycheck.model import K8sObject, Severity


@dataclass(frozen=True)
class Problem:
    """A bare finding, before the engine stamps rule id, level and source."""

    obj: K8sObject
    message: str
    field: str | None = None
    container: str | None = None
    severity: Severity | None = None  # only rules that decide their own level set this


FAMILIES = {
    "security": "Pod and namespace security",
    "images": "Images",
    "availability": "Resources, probes and availability",
    "wiring": "Wiring between objects",
    "secrets": "Credentials in plain sight",
    "rbac": "RBAC: roles and bindings",
    "api": "API versions, schema and exemptions",
    "overlays": "Across overlays (configured pairs)",
}

# What a rule's check() is given: one overlay's Context, or (SCOPE = "pair" in the module) a
# policycheck.crossrules.Pair of two overlays, run only for the pairs policycheck.yaml configures.
SCOPES = ("overlay", "pair")


@dataclass(frozen=True)
class Rule:
    id: str
    level: Severity
    summary: str
    doc: str
    options: dict[str, Any] = field(default_factory=dict)
    check: Callable[..., Iterator[Problem]] | None = None
    family: str = "other"
    option_types: dict[str, Any] = field(default_factory=dict)
    scope: str = "overlay"
    # False (ENABLED = False in the module): off in every built-in profile until policycheck.yaml sets a level.
    enabled: bool = True

    @property
    def default_level(self) -> str:
        """The level of the built-in profiles: the rule's level, or "off"."""
        return self.level.value if self.enabled else "off"

    @classmethod
    def from_module(cls, module: ModuleType) -> Rule:
        return cls(
            id=module.ID,
            level=Severity(module.LEVEL),
            summary=module.SUMMARY,
            doc=(module.__doc__ or "").strip(),
            options=dict(getattr(module, "OPTIONS", {})),
            check=module.check,
            family=module.FAMILY,
            option_types=option_types(module.ID, getattr(module, "OPTIONS", {}), getattr(module, "OPTION_TYPES", {})),
            scope=getattr(module, "SCOPE", "overlay"),
            enabled=getattr(module, "ENABLED", True),
        )


# The type of a rule option, in the style of yamllint's CONF:
#   str, bool, int, float     a value of that type (int excludes bool; float takes an int too, but not inf/nan)
#   [T]                       a list whose elements are T
#   ("a", "b", ...)           one of these strings
#   range(low, high)          an integer in that range
# A rule's OPTIONS defaults give the type (a list of str default makes [str]);
# OPTION_TYPES, next to OPTIONS, declares what a default cannot say: choices,
# ranges, the elements of an empty list.
OptionType = type | list | tuple | range


def option_types(rule_id: str, options: dict[str, Any], declared: dict[str, OptionType]) -> dict[str, OptionType]:
    types: dict[str, OptionType] = {}
    for key, default in options.items():
        if key in declared:
            types[key] = declared[key]
        elif isinstance(default, list) and default and len({type(v) for v in default}) == 1:
            types[key] = [type(default[0])]
        elif isinstance(default, bool | int | float | str):
            types[key] = type(default)
        else:  # pragma: no cover - a programming error
            raise RuntimeError(f"rule {rule_id}: option {key}: declare its type in OPTION_TYPES")
    extra = set(declared) - set(options)
    if extra:  # pragma: no cover - a programming error
        raise RuntimeError(f"rule {rule_id}: OPTION_TYPES names no option {', '.join(sorted(extra))}")
    return types
