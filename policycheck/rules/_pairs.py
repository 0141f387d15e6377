"""Helpers of the rules across overlays (SCOPE = "pair"): which objects are "the same" in two
overlays, and resource quantities compared exactly.

Nothing here is imported beyond the standard library's `re` at start-up: ``fractions`` loads
the first time a pair compares a quantity.
"""

from __future__ import annotations

import fnmatch
import re

from policycheck.k8s import exact_quantity
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


quantity = exact_quantity  # policycheck.k8s: a resource quantity's exact value, or None
