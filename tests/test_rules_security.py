"""Rules of the security family: fires/passes fixtures and family-specific cases."""

from __future__ import annotations

from tests.rulekit import FIXTURES, family_tests, fixture_findings

FAMILY = "security"
RULES, test_fires, test_passes = family_tests(FAMILY)


def test_field_line_is_exact() -> None:
    found = fixture_findings("privileged-container", "fires")
    lines = (FIXTURES / "privileged-container" / "fires.yaml").read_text().splitlines()
    assert [lines[f.source.line - 1].strip() for f in found] == ["privileged: true"]


def test_pod_level_setting_counts_for_every_container() -> None:
    found = fixture_findings("run-as-non-root", "fires")
    assert sorted(f.field for f in found) == [
        "spec.template.spec.containers[0].securityContext.runAsNonRoot",
        "spec.template.spec.containers[0].securityContext.runAsUser",
    ]
