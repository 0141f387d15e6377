"""The PSS restricted check fires on each way a pod can break the profile."""

from __future__ import annotations

import copy

import jsonpatch
import pytest

from policycheck import pss
from policycheck.k8s import pod_template
from policycheck.model import K8sObject
from tests.conftest import find

POD = "/spec/template/spec"
C0 = f"{POD}/containers/0"
F_POD = "spec.template.spec"
F_C0 = f"{F_POD}.containers[0]"

# (RFC 6902 patch planted on the prod api Deployment, field the check must name)
CASES = [
    ([{"op": "add", "path": f"{POD}/hostNetwork", "value": True}], f"{F_POD}.hostNetwork"),
    ([{"op": "add", "path": f"{POD}/hostPID", "value": True}], f"{F_POD}.hostPID"),
    ([{"op": "add", "path": f"{POD}/volumes/-", "value": {"name": "h", "hostPath": {"path": "/"}}}],
     f"{F_POD}.volumes[1].hostPath"),
    ([{"op": "add", "path": f"{C0}/securityContext/privileged", "value": True}], f"{F_C0}.securityContext.privileged"),
    ([{"op": "remove", "path": f"{C0}/securityContext/allowPrivilegeEscalation"}],
     f"{F_C0}.securityContext.allowPrivilegeEscalation"),
    ([{"op": "replace", "path": f"{C0}/securityContext/runAsNonRoot", "value": False}],
     f"{F_C0}.securityContext.runAsNonRoot"),
    ([{"op": "replace", "path": f"{C0}/securityContext/runAsUser", "value": 0}], f"{F_C0}.securityContext.runAsUser"),
    ([{"op": "replace", "path": f"{POD}/securityContext/seccompProfile/type", "value": "Unconfined"}],
     f"{F_C0}.securityContext.seccompProfile.type"),
    ([{"op": "replace", "path": f"{C0}/securityContext/capabilities/drop", "value": ["NET_RAW"]}],
     f"{F_C0}.securityContext.capabilities.drop"),
    ([{"op": "add", "path": f"{C0}/securityContext/capabilities/add", "value": ["SYS_ADMIN"]}],
     f"{F_C0}.securityContext.capabilities.add[0]"),
    ([{"op": "add", "path": f"{C0}/ports/0/hostPort", "value": 8000}], f"{F_C0}.ports[0].hostPort"),
    ([{"op": "add", "path": f"{POD}/securityContext/sysctls", "value": [{"name": "kernel.msgmax", "value": "1"}]}],
     f"{F_POD}.securityContext.sysctls[0]"),
    ([{"op": "add", "path": f"{C0}/securityContext/procMount", "value": "Unmasked"}],
     f"{F_C0}.securityContext.procMount"),
    ([{"op": "add", "path": f"{POD}/initContainers", "value": [{"name": "init", "image": "busybox:1"}]}],
     f"{F_POD}.initContainers[0].securityContext.allowPrivilegeEscalation"),
]


@pytest.mark.parametrize(("patch", "field"), CASES, ids=[c[1] for c in CASES])
def test_violation_is_found_at_its_field(rendered, patch, field: str) -> None:  # noqa: ANN001
    original = find(rendered["prod"], "Deployment", "api")
    assert pss.restricted(pod_template(original)) == []
    doc = jsonpatch.apply_patch(copy.deepcopy(original.doc), patch)
    fields = [v.field for v in pss.restricted(pod_template(K8sObject(doc, "overlays/prod")))]
    assert field in fields
    if "initContainers" not in field:
        assert fields == [field]


def test_container_setting_overrides_pod(rendered) -> None:
    doc = copy.deepcopy(find(rendered["prod"], "Deployment", "api").doc)
    doc["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] = False
    assert pss.restricted(pod_template(K8sObject(doc, "x"))) == []  # the container says true
    del doc["spec"]["template"]["spec"]["containers"][0]["securityContext"]["runAsNonRoot"]
    assert [v.field for v in pss.restricted(pod_template(K8sObject(doc, "x")))] == [
        f"{F_C0}.securityContext.runAsNonRoot"
    ]
