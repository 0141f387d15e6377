"""Exemption annotations on an object or its pod template.

    policycheck.io/exempt.<rule-id>: "<reason>"
    policycheck.io/exempt-until.<rule-id>: "YYYY-MM-DD"   (optional)
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from policycheck.k8s import pod_template
from policycheck.model import K8sObject

EXEMPT = "policycheck.io/exempt."
UNTIL = "policycheck.io/exempt-until."
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class Annotation:
    key: str
    value: str
    field: str


def annotation_field(base: str, key: str) -> str:
    return f'{base}.annotations["{key}"]'


def _annotations(obj: K8sObject) -> Iterator[Annotation]:
    for key, value in obj.annotations.items():
        yield Annotation(key, str(value if value is not None else ""), annotation_field("metadata", key))
    pod = pod_template(obj)
    if pod is not None and pod.path != "spec":
        meta_path = pod.path[: -len(".spec")] + ".metadata"
        for key, value in pod.metadata.str_map("annotations").items():
            yield Annotation(key, str(value if value is not None else ""), annotation_field(meta_path, key))


def _problem(obj: K8sObject, ann: Annotation, known: AbstractSet[str], today: dt.date,
             all_keys: set[str]) -> str | None:
    if ann.key.startswith(EXEMPT):
        rule = ann.key[len(EXEMPT):]
        if not rule:
            return "exemption names no rule"
        if rule not in known:
            return f"exemption names unknown rule {rule}"
        if not ann.value.strip():
            return f"exemption of {rule} gives no reason"
        return None
    if ann.key.startswith(UNTIL):
        rule = ann.key[len(UNTIL):]
        if not rule:
            return "exempt-until names no rule"
        if EXEMPT + rule not in all_keys:
            return f"exempt-until for {rule} without an exemption"
        value = ann.value.strip()
        try:
            # fromisoformat alone also takes 20990101 and 2099-W01-1 (Python 3.11).
            until = dt.date.fromisoformat(value) if _DATE.fullmatch(value) else None
        except ValueError:
            until = None
        if until is None:
            return f"exempt-until for {rule} is not a YYYY-MM-DD date"
        if until < today:
            return f"exemption of {rule} expired on {until.isoformat()}"
    return None


def problems(ctx) -> Iterator:  # noqa: ANN001 - policycheck.context.Context
    """Problems of the exemption annotations themselves (rule exemption-reason)."""
    from policycheck.rules.base import Problem  # noqa: PLC0415 - the registry imports this module

    known = ctx.known_rules
    for obj in ctx.objects:
        anns = list(_annotations(obj))
        keys = {a.key for a in anns}
        for ann in anns:
            message = _problem(obj, ann, known, ctx.today, keys)
            if message:
                yield Problem(obj, message, ann.field)


def exemption_for(obj: K8sObject, rule: str, known: AbstractSet[str], today: dt.date) -> str | None:
    """The reason of a valid exemption of ``rule`` on ``obj``, else None."""
    anns = list(_annotations(obj))
    keys = {a.key for a in anns}
    reason = None
    for ann in anns:
        if ann.key == EXEMPT + rule:
            if _problem(obj, ann, known, today, keys):
                return None
            reason = ann.value.strip()
        elif ann.key == UNTIL + rule and _problem(obj, ann, known, today, keys):
            return None
    return reason
