"""Rules on controllers (StatefulSets, Jobs, PDBs, policies that select pods) and Service exposure:
fires/passes fixtures, and the exact object, field and line of each finding."""

from __future__ import annotations

import pytest

from tests.rulekit import check_fires, check_passes, fixture_findings

RULES = [
    "statefulset-service-name",
    "job-deadline",
    "job-hygiene",
]


@pytest.mark.parametrize("rule", RULES)
def test_fires(rule: str) -> None:
    check_fires(rule)


@pytest.mark.parametrize("rule", RULES)
def test_passes(rule: str) -> None:
    check_passes(rule)


def hits(rule: str) -> set[tuple[str, str, str | None, int]]:
    """(kind, name, field, line) of each finding of a rule on its fires fixture."""
    return {(f.obj.kind, f.obj.name, f.field, f.source.line if f.source else 0)
            for f in fixture_findings(rule, "fires")}


def test_statefulset_service_name_each_way_to_be_wrong() -> None:
    assert hits("statefulset-service-name") == {
        ("StatefulSet", "missing", "spec.serviceName", 6),
        ("StatefulSet", "clustered", "spec.serviceName", 16),
        ("StatefulSet", "stranger", "spec.serviceName", 33),
        ("StatefulSet", "elsewhere", "spec.serviceName", 52),
    }


def test_job_deadline_names_the_field_of_each_kind() -> None:
    assert hits("job-deadline") == {
        ("Job", "migrate", "spec.activeDeadlineSeconds", 5),
        ("CronJob", "nightly", "spec.startingDeadlineSeconds", 15),
    }


def test_job_hygiene_findings_and_their_levels() -> None:
    found = {(f.obj.name, f.field, f.severity.value, f.source.line if f.source else 0)
             for f in fixture_findings("job-hygiene", "fires")}
    assert found == {
        ("migrate", "spec.template.spec.restartPolicy", "error", 9),
        ("migrate", "spec.ttlSecondsAfterFinished", "warning", 5),
        ("nightly", "spec.jobTemplate.spec.template.spec.restartPolicy", "error", 22),
        ("nightly", "spec.concurrencyPolicy", "warning", 15),
    }
