"""Rules on controllers (StatefulSets, Jobs, PDBs, policies that select pods) and Service exposure:
fires/passes fixtures, and the exact object, field and line of each finding."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from policycheck.config import Profile
from policycheck.model import K8sObject
from policycheck.render import Rendered
from tests.rulekit import check_fires, check_passes, fixture_findings, run

RULES = [
    "statefulset-service-name",
    "job-deadline",
    "job-hygiene",
    "pdb-blocks-eviction",
    "pdb-unhealthy-pod-eviction",
    "policy-selects-pods",
    "service-exposure",
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
        ("Job", "migrate", "spec.activeDeadlineSeconds", 6),
        ("CronJob", "nightly", "spec.startingDeadlineSeconds", 16),
        # A starting deadline does not stop a run that hangs: the job template needs its own deadline.
        ("CronJob", "hung", "spec.jobTemplate.spec.activeDeadlineSeconds", 35),
    }
    levels = {(f.obj.name, f.severity.value) for f in fixture_findings("job-deadline", "fires")}
    assert levels == {("migrate", "error"), ("nightly", "warning"), ("hung", "error")}
    hung = next(f for f in fixture_findings("job-deadline", "fires") if f.obj.name == "hung")
    assert "never stopped" in hung.message and "Forbid" in hung.message


@given(st.booleans(), st.booleans(), st.sampled_from([None, "Allow", "Forbid", "Replace"]))
def test_job_deadline_on_cronjobs(starting: bool, active: bool, policy: str | None) -> None:
    """The job template's activeDeadlineSeconds is required (an error) whatever the starting deadline;
    startingDeadlineSeconds alone is recommended (a warning)."""
    job_spec: dict = {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "x:1"}]}}}
    if active:
        job_spec["activeDeadlineSeconds"] = 600
    spec: dict = {"schedule": "0 3 * * *", "jobTemplate": {"spec": job_spec}}
    if starting:
        spec["startingDeadlineSeconds"] = 300
    if policy:
        spec["concurrencyPolicy"] = policy
    doc = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c", "namespace": "demo"}, "spec": spec}
    found = {(f.field, f.severity.value) for f in run(Rendered("t", [K8sObject(doc, "t", "t.yaml")]), {"job-deadline"})}
    expected = set()
    if not active:
        expected.add(("spec.jobTemplate.spec.activeDeadlineSeconds", "error"))
    if not starting:
        expected.add(("spec.startingDeadlineSeconds", "warning"))
    assert found == expected


def test_job_hygiene_findings_and_their_levels() -> None:
    found = {(f.obj.name, f.field, f.severity.value, f.source.line if f.source else 0)
             for f in fixture_findings("job-hygiene", "fires")}
    assert found == {
        ("migrate", "spec.template.spec.restartPolicy", "error", 9),
        ("migrate", "spec.ttlSecondsAfterFinished", "warning", 5),
        ("nightly", "spec.jobTemplate.spec.template.spec.restartPolicy", "error", 22),
        ("nightly", "spec.concurrencyPolicy", "warning", 15),
    }


def test_pdb_blocks_eviction_each_way() -> None:
    assert hits("pdb-blocks-eviction") == {
        ("PodDisruptionBudget", "zero", "spec.maxUnavailable", 33),
        ("PodDisruptionBudget", "zero-percent", "spec.maxUnavailable", 40),
        ("PodDisruptionBudget", "all", "spec.minAvailable", 47),
        ("PodDisruptionBudget", "every-replica", "spec.minAvailable", 54),
        ("PodDisruptionBudget", "rounded-up", "spec.minAvailable", 61),
        ("PodDisruptionBudget", "scaled-down", "spec.minAvailable", 68),
    }


def _budget(replicas: int, key: str, value: int | str) -> Rendered:
    docs = yaml.safe_load_all(f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: demo}}
spec:
  replicas: {replicas}
  template: {{metadata: {{labels: {{app: web}}}}}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {{name: web, namespace: demo}}
spec:
  {key}: {value!r}
  selector: {{matchLabels: {{app: web}}}}
""")
    return Rendered("generated", [K8sObject(d, "generated", "generated.yaml") for d in docs])


@given(replicas=st.integers(1, 40), budget=st.integers(0, 45), percent=st.booleans(), key=st.sampled_from(
    ["minAvailable", "maxUnavailable"]))
def test_pdb_blocks_eviction_exactly_when_no_pod_may_go(replicas: int, budget: int, percent: bool, key: str) -> None:
    # The oracle: count pods one by one; a percentage is of the replicas, rounded up.
    value: int | str = f"{budget * 3}%" if percent else budget
    pods = budget if not percent else next(n for n in range(10_000) if n * 100 >= budget * 3 * replicas)
    allowed = replicas - pods if key == "minAvailable" else pods
    fired = run(_budget(replicas, key, value), {"pdb-blocks-eviction"})
    assert bool(fired) == (allowed <= 0), (replicas, key, value)


def test_pdb_unhealthy_pod_eviction_is_a_warning_at_the_policy() -> None:
    found = fixture_findings("pdb-unhealthy-pod-eviction", "fires")
    assert {f.severity.value for f in found} == {"warning"}
    assert hits("pdb-unhealthy-pod-eviction") == {
        ("PodDisruptionBudget", "api", "spec.unhealthyPodEvictionPolicy", 5),
        ("PodDisruptionBudget", "worker", "spec.unhealthyPodEvictionPolicy", 14),
    }


def test_policy_selects_pods_each_way() -> None:
    assert hits("policy-selects-pods") == {
        ("NetworkPolicy", "api-server", "spec.podSelector", 15),
        ("PodDisruptionBudget", "api", "spec.selector", 22),
        ("PodDisruptionBudget", "everything", "spec.selector", 30),
        ("PodDisruptionBudget", "api-server", "spec.selector", 37),
        ("NetworkPolicy", "prometheus-main", "spec.podSelector", 59),
    }


def test_service_exposure_types() -> None:
    assert hits("service-exposure") == {("Service", "public", "spec.type", 6), ("Service", "node", "spec.type", 14)}


def test_service_exposure_allowed_per_profile() -> None:
    from tests.rulekit import FIXTURES, load

    dev = Profile("dev", options={"service-exposure": {"allowed-types": ["ClusterIP", "NodePort"]}})
    found = run(load(FIXTURES / "service-exposure" / "fires.yaml"), {"service-exposure"}, profile=dev)
    assert [f.obj.name for f in found] == ["public"]
