"""Run the rule catalog on one rendered overlay under one profile."""

from __future__ import annotations

import datetime as dt

from policycheck.config import Profile
from policycheck.context import Context
from policycheck.exemptions import exemption_for
from policycheck.model import Finding, PolicycheckError, Severity
from policycheck.provenance import locate
from policycheck.render import Rendered
from policycheck.rules import REGISTRY

UNEXEMPTABLE = {"exemption-reason"}


def run(rendered: Rendered, profile: Profile, kube_version: str, today: dt.date | None = None, *,
        only: set[str] | None = None, house_rules: frozenset[str] = frozenset()) -> list[Finding]:
    """Built-in findings of one overlay. ``house_rules`` are the Rego rule ids
    that exemptions may name besides the catalog."""
    known = frozenset(REGISTRY) | house_rules
    ctx = Context(rendered.overlay, rendered.objects, kube_version, today or dt.date.today(), known)
    findings: list[Finding] = []
    for rule in REGISTRY.values():
        if only is not None and rule.id not in only:
            continue
        level = profile.level(rule.id)
        if level is None:
            continue
        options = profile.rule_options(rule.id)
        try:
            problems = list(rule.check(ctx, options))
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            raise PolicycheckError(f"{rendered.overlay}: rule {rule.id} cannot read the rendered objects "
                                   f"({type(exc).__name__}: {exc}); run the schema rule alone to see why") from None
        for p in problems:
            severity = p.severity if p.severity is not None and p.severity.rank < level.rank else level
            findings.append(Finding(rule.id, severity, p.obj, p.message, p.field, p.container,
                                    source=locate(p.obj, p.field)))
    return exempt(findings, house_rules, ctx.today)


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
    return [f for f in findings if not f.exempted and f.severity.rank >= fail_on.rank]
