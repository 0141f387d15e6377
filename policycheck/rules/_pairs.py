"""Helpers of the rules across overlays (SCOPE = "pair"): which objects are "the same" in two
overlays, and resource quantities compared exactly.

Nothing here is imported beyond the standard library's `re` at start-up: ``fractions`` loads
the first time a pair compares a quantity.
"""

from __future__ import annotations

import fnmatch
import math
import re
from typing import Any

from policycheck.model import K8sObject

WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "CronJob", "Job")
# Workloads whose size is `spec.replicas` (or an HPA's minReplicas).
SCALED = ("Deployment", "StatefulSet", "ReplicaSet")

_HASH_SUFFIX = re.compile(r"-[a-z0-9]{10}$")


def logical_name(obj: K8sObject) -> str:
    """The name an object has in every overlay: without a generator's hash suffix and without
    the name prefix/suffix its kustomization tree declares (one of each, the longest)."""
    name = obj.name
    if obj.generated_by:
        name = _HASH_SUFFIX.sub("", name)
    tree = obj.tree
    if tree is not None:
        suffix = max((s for s in tree.suffixes if s and name.endswith(s) and len(name) > len(s)), key=len, default="")
        name = name[: len(name) - len(suffix)]
        prefix = max((p for p in tree.prefixes if p and name.startswith(p) and len(name) > len(p)), key=len,
                     default="")
        name = name[len(prefix):]
    return name


def key(obj: K8sObject) -> tuple[str, str]:
    """What matches an object with its counterpart in another overlay: kind and logical name
    (not the namespace: overlays often deploy to namespaces of their own)."""
    return obj.kind, logical_name(obj)


def ref(kind: str, name: str) -> str:
    return f"{kind}/{name}"


def matches(kind: str, name: str, patterns: list[str]) -> bool:
    """``Kind/name`` against patterns such as ``PodDisruptionBudget/*`` (fnmatch, case-sensitive)."""
    text = ref(kind, name)
    return any(fnmatch.fnmatchcase(text, pattern) for pattern in patterns)


# --- quantities --------------------------------------------------------------------------------------------------

_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
# A Kubernetes quantity: a signed decimal number, then a binary or decimal suffix or a decimal
# exponent. The exponent has at most 3 digits: "1e999999999" must not become a huge integer.
_QUANTITY = re.compile(r"([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(?:([eE][+-]?[0-9]{1,3})|([a-zA-Z]{0,2}))")


def quantity(value: Any) -> Any:
    """A resource quantity ("250m", "1Gi", "1e3", 2, 0.5) as an exact fractions.Fraction; None when
    it is none (a wrong type or spelling is reported by the rules of one overlay)."""
    from fractions import Fraction  # noqa: PLC0415 - only when a pair compares quantities

    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        return Fraction(value) if math.isfinite(value) else None
    if not isinstance(value, str) or len(value) > 64:
        return None
    match = _QUANTITY.fullmatch(value.strip())
    if not match:
        return None
    number, exponent, suffix = match.group(1), match.group(2), match.group(3) or ""
    amount = Fraction(number)
    if exponent:
        return amount * Fraction(10) ** int(exponent[1:])
    if suffix in _BINARY:
        return amount * 2 ** _BINARY[suffix]
    if suffix in _DECIMAL:
        return amount * Fraction(10) ** _DECIMAL[suffix]
    return None
