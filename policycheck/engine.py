"""Run the rule catalog on one rendered overlay under one profile."""

from __future__ import annotations

import datetime as dt
import time

from policycheck import access
from policycheck.config import Profile
from policycheck.context import Base, Context
from policycheck.exemptions import exemption_for
from policycheck.model import Finding, K8sObject, PolicycheckError, Severity
from policycheck.provenance import locate
from policycheck.render import Rendered, overlay_object
from policycheck.rules import REGISTRY, Problem

UNEXEMPTABLE = {"exemption-reason"}
# Rules that read no object fields through access.Node.
NOT_READERS = {"schema", "field-type"}
# Rules that look at every object (through kind and apiVersion, read once per object).
RUNS_ON_ALL = NOT_READERS | {"deprecated-api"}


def run(rendered: Rendered, profile: Profile, kube_version: str, today: dt.date | None = None, *,
        only: set[str] | None = None, house_rules: frozenset[str] = frozenset(),
        deadline: float | None = None, timeout: float | None = None,
        ran: dict[str, list[K8sObject]] | None = None, base: Base | None = None) -> list[Finding]:
    """Built-in findings of one overlay. ``house_rules`` are the Rego rule ids
    that exemptions may name besides the catalog. Past ``deadline``
    (time.monotonic()), the next rule does not start: the check fails.
    ``ran``, when given, receives rule id -> the objects it looked at.
    ``base``: the overlay's render at --base REF, for the rules that compare with it."""
    known = frozenset(REGISTRY) | house_rules
    ctx = Context(rendered.overlay, rendered.objects, kube_version, today or dt.date.today(), known, base)
    for obj in rendered.objects:
        obj.shape.problems.clear()  # recorded afresh by this run's reads
    findings: list[Finding] = []
    # field-type reports what the other rules could not read, so asking for it alone runs them silently.
    silent_reads = only is not None and "field-type" in only
    for rule in REGISTRY.values():
        if rule.scope != "overlay":  # rules across overlays run after every overlay (policycheck.crossrules)
            continue
        silent = only is not None and rule.id not in only
        if silent and not (silent_reads and rule.id not in NOT_READERS):
            continue
        level = profile.level(rule.id)
        if level is None and not silent:
            continue
        if deadline is not None and time.monotonic() > deadline:
            raise PolicycheckError(f"{rendered.overlay}: check exceeded the timeout of {timeout or 0:g}s "
                                   f"(before rule {rule.id})")
        options = profile.rule_options(rule.id)
        access.READS = set() if ran is not None and not silent else None
        try:
            problems = list(rule.check(ctx, options))
        except Exception as exc:  # noqa: BLE001 - a last resort: one rule's bug must not end the run
            problems = [_internal_error(rendered, rule.id, exc)]
            level = Severity.ERROR  # what could not be checked must not pass
        finally:
            reads, access.READS = access.READS, None
        if ran is not None and not silent:
            ran[rule.id] = list(rendered.objects) if rule.id in RUNS_ON_ALL else [
                o for o in rendered.objects if id(o.shape) in (reads or ())]
        if silent:
            continue
        for p in problems:
            severity = p.severity if p.severity is not None and p.severity.rank < level.rank else level
            findings.append(Finding(rule.id, severity, p.obj, p.message, p.field, p.container))
    findings = _without_duplicates(findings)
    for f in findings:  # after dropping duplicates: finding a source line is the costly part
        f.source = locate(f.obj, f.field)
    return exempt(findings, house_rules, ctx.today)


def _internal_error(rendered: Rendered, rule_id: str, exc: Exception) -> Problem:
    """A rule raised although it reads through access.Node: report it, at error level, on the overlay."""
    return Problem(overlay_object(rendered.overlay), f"rule {rule_id} failed on this overlay "
                   f"({type(exc).__name__}); its findings here are incomplete. This is a policycheck bug.",
                   severity=Severity.ERROR)


def _without_duplicates(findings: list[Finding]) -> list[Finding]:
    """A field-type finding supersedes the schema finding on the same object and field."""
    typed = {(id(f.obj), f.field) for f in findings if f.rule == "field-type"}
    if not typed:
        return findings
    return [f for f in findings if not (f.rule == "schema" and (id(f.obj), f.field) in typed)]


def exempt(findings: list[Finding], house_rules: frozenset[str], today: dt.date) -> list[Finding]:
    """Mark findings that a valid exemption annotation covers (any engine)."""
    known = frozenset(REGISTRY) | house_rules
    for finding in findings:
        if finding.rule in UNEXEMPTABLE:
            continue
        reason = exemption_for(finding.obj, finding.rule, known, today)
        if reason is not None:
            finding.exempted, finding.exemption = True, reason
    return findings


def failing(findings: list[Finding], fail_on: Severity) -> list[Finding]:
    return [f for f in findings if not f.exempted and not f.baseline and f.severity.rank >= fail_on.rank]
