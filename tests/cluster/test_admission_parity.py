"""Admission parity, server half: admission/ applied to a real kube-apiserver gives every fixture of
tests/fixtures/admission the verdict cases.yaml records (which tests/test_admission_policycheck.py requires of
policycheck), rule by rule, in the ai-agents namespace labelled environment=dev and then environment=prod.

Each fixture is submitted with a server-side dry run. A policy lists every rule a request breaks in its one
message, so the rule ids of one denial are the server's whole verdict. The module leaves the cluster as it
found it: admission objects it created are deleted, the namespace's labels restored (or the namespace
deleted when the module created it).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.cluster.conftest import NAMESPACE, render, wait_for
from tests.conftest import ROOT
from tests.test_admission_policycheck import CASES, PROFILES, RULES, Case

ADMISSION = ROOT / "admission"
EFFECT_TIMEOUT = 30.0  # bindings and namespace labels reach the admission plugin asynchronously
PSA_ENFORCE = "pod-security.kubernetes.io/enforce"
DENIED = re.compile(r"ValidatingAdmissionPolicy '([^']+)' with binding '([^']+)' denied request: (.*)", re.S)


def shape(kind: str) -> str:
    """The policy (of hack/gen-admission.py's SHAPES) that holds a kind."""
    return {"Pod": "pods", "CronJob": "cronjobs"}.get(kind, "workloads")


def verdict(done: Any) -> tuple[str, ...] | str:
    """What the server said about one request: the sorted rule ids of a denial, () when admitted,
    "invalid" when its own validation refused the object, else the error itself."""
    if done.returncode == 0:
        return ()
    text = done.stderr.strip() or done.stdout.strip()
    match = DENIED.search(text)
    if match:
        policy, binding, message = match.groups()
        rules = sorted({part.split(":", 1)[0].strip() for part in message.strip().split("; ")})
        return (f"policy={policy}", f"binding={binding}", *rules)
    if "is invalid" in text:
        return "invalid"
    return f"error: {text}"


def expected(case: Case, profile: str) -> tuple[str, ...] | str:
    if case.server == "invalid":
        return "invalid"
    rules = case.denied[profile]
    if not rules:
        return ()
    name = f"policycheck-{profile}-{shape(case.obj['kind'])}"
    return (f"policy={name}", f"binding={name}", *sorted(rules))


class Admission:
    def __init__(self, cluster: Any) -> None:
        self.cluster = cluster

    def kubectl(self, *args: str, stdin: str | None = None) -> Any:
        return self.cluster.kubectl(*args, stdin=stdin, check=False, timeout=60)

    def dry_run(self, obj: dict) -> Any:
        return self.kubectl("create", "--dry-run=server", "-n", NAMESPACE, "-o", "name", "-f", "-",
                            stdin=json.dumps(obj))

    def label(self, *labels: str) -> None:
        self.cluster.kubectl("label", "namespace", NAMESPACE, "--overwrite", *labels)

    def enforce(self, profile: str) -> None:
        """Label the namespace with the profile; retry a known-bad object of each shape until that
        profile's policy denies it (bounded)."""
        self.label(f"environment={profile}")
        probes = {}
        for case in CASES:
            if case.denied["dev"] and case.denied["prod"] and not (case.server or case.submit):
                probes.setdefault(shape(case.obj["kind"]), case)
        assert set(probes) == {"pods", "workloads", "cronjobs"}
        deadline = time.monotonic() + EFFECT_TIMEOUT
        waiting = dict(probes)
        last: dict[str, Any] = {}
        while waiting and time.monotonic() < deadline:
            for name, case in list(waiting.items()):
                last[name] = verdict(self.dry_run(case.obj))
                if last[name] == expected(case, profile):
                    del waiting[name]
            time.sleep(0.5)
        assert not waiting, f"admission/ not enforced for {profile} after {EFFECT_TIMEOUT:g} s: " \
            f"{ {name: last.get(name) for name in waiting} }"

    def ephemeral(self, case: Case) -> tuple[str, ...] | str:
        """Create the pod without its ephemeral containers, then add them as `kubectl debug` does."""
        obj = case.obj
        pod = {**obj, "spec": {k: v for k, v in obj["spec"].items() if k != "ephemeralContainers"}}
        created = self.kubectl("create", "-n", NAMESPACE, "-f", "-", stdin=json.dumps(pod))
        assert created.returncode == 0, f"{case.name} without its ephemeral containers: {created.stderr}"
        try:
            live = json.loads(self.cluster.kubectl("get", "pod", case.name, "-n", NAMESPACE, "-o", "json").stdout)
            live["spec"]["ephemeralContainers"] = obj["spec"]["ephemeralContainers"]
            path = f"/api/v1/namespaces/{NAMESPACE}/pods/{case.name}/ephemeralcontainers?dryRun=All"
            return verdict(self.kubectl("replace", "--raw", path, "-f", "-", stdin=json.dumps(live)))
        finally:
            self.kubectl("delete", "pod", case.name, "-n", NAMESPACE, "--grace-period=0", "--force", "--wait=true")


@pytest.fixture(scope="module")
def admission(cluster: Any) -> Iterator[Admission]:
    adm = Admission(cluster)
    before = adm.kubectl("get", "namespace", NAMESPACE, "-o", "json")
    original = json.loads(before.stdout)["metadata"].get("labels", {}) if before.returncode == 0 else None
    if original is None:
        cluster.kubectl("create", "namespace", NAMESPACE)
    names = [f"{o['kind'].lower()}/{o['metadata']['name']}"
             for o in yaml.safe_load_all((ADMISSION / "policies.yaml").read_text() +
                                         "\n---\n" + (ADMISSION / "bindings.yaml").read_text()) if o]
    existing = [n for n in names if adm.kubectl("get", n).returncode == 0]
    try:
        # Pod Security would refuse root Pods before the policies see them: off while the fixtures run.
        adm.label("environment=dev", f"{PSA_ENFORCE}-")
        cluster.kubectl("apply", "--server-side", "--field-manager=admission-parity", "-k", str(ADMISSION))
        yield adm
    finally:
        created = [n for n in names if n not in existing]
        if created:
            adm.kubectl("delete", "--ignore-not-found", "--wait=true", *created)
        if original is None:
            adm.kubectl("delete", "namespace", NAMESPACE, "--wait=true", "--timeout=60s")
        else:
            current = json.loads(cluster.kubectl("get", "namespace", NAMESPACE, "-o", "json").stdout)
            added = set(current["metadata"].get("labels", {})) - set(original)
            adm.label(*(f"{k}={v}" for k, v in original.items()), *(f"{k}-" for k in added))


@pytest.mark.parametrize("profile", PROFILES)
def test_server_verdicts_match_policycheck(admission: Admission, profile: str) -> None:
    admission.enforce(profile)
    got, want = {}, {}
    for case in CASES:
        want[case.name] = expected(case, profile)
        got[case.name] = admission.ephemeral(case) if case.submit == "ephemeral" else verdict(
            admission.dry_run(case.obj))
    assert got == want


@pytest.mark.parametrize("profile", PROFILES)
def test_own_overlay_is_admitted(admission: Admission, profile: str) -> None:
    """Every object of overlays/<profile> passes a server-side dry run in a namespace of that profile."""
    admission.enforce(profile)
    done = admission.kubectl("apply", "--server-side", "--force-conflicts", "--field-manager=admission-parity",
                             "--dry-run=server", "-f", "-", stdin=render(ROOT / "overlays" / profile))
    assert done.returncode == 0, done.stderr
    assert "ValidatingAdmissionPolicy" not in done.stdout + done.stderr


def test_policies_type_check_cleanly(admission: Admission) -> None:
    """The API server type-checks each policy's CEL against the schemas of the kinds it matches and
    finds nothing to warn about; each policy holds its profile's rules."""
    admission.enforce("dev")

    def checked(name: str) -> dict | None:
        policy = json.loads(admission.cluster.kubectl("get", "validatingadmissionpolicy", name, "-o", "json").stdout)
        status = policy.get("status", {})
        done = status.get("observedGeneration") == policy["metadata"]["generation"] and "typeChecking" in status
        return policy if done else None

    for profile in PROFILES:
        for name in (f"policycheck-{profile}-{s}" for s in ("pods", "workloads", "cronjobs")):
            policy = wait_for(f"the type check of {name}", lambda name=name: checked(name), timeout=EFFECT_TIMEOUT)
            assert policy["status"]["typeChecking"].get("expressionWarnings") is None, (name, policy["status"])
            rules = policy["metadata"]["annotations"]["policycheck.io/rules"].split(",")
            assert set(rules) == set(RULES) - ({"image-digest"} if profile == "dev" else set()), name
