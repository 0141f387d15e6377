"""Rules of the rbac family: fires/passes fixtures, exact lines, wildcards, and (hypothesis) roles
that grant no listed right never fire."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policycheck import config
from policycheck.model import K8sObject, Severity
from policycheck.render import Rendered
from tests.rulekit import FIXTURES, family_tests, fixture_findings, run

FAMILY = "rbac"
RULES, test_fires, test_passes = family_tests(FAMILY)
ROLE_RULES = ("rbac-wildcard", "rbac-pod-exec", "rbac-workload-create", "rbac-secret-read",
              "rbac-privilege-escalation")
BINDING_RULES = ("rbac-cluster-admin-binding", "rbac-broad-subject")


def test_the_family_is_complete() -> None:
    assert sorted(RULES) == sorted(ROLE_RULES + BINDING_RULES)


def lines(rule: str) -> list[tuple[int, str]]:
    """(line, field) of each finding on the rule's fires fixture, sorted."""
    return sorted((f.source.line, f.field) for f in fixture_findings(rule, "fires") if f.source)


def test_exact_lines() -> None:
    assert lines("rbac-wildcard") == [(9, "rules[0].verbs[0]"), (24, "rules[1].verbs[1]"),
                                      (33, "rules[0].nonResourceURLs[1]")]
    assert lines("rbac-pod-exec") == [
        (11, "rules[0].resources[1]"), (15, "rules[1].resources[0]"), (24, "rules[0].resources[1]"),
        (27, "rules[1].resources[1]"), (30, "rules[2].resources[0]"), (33, "rules[3].resources[0]")]
    assert lines("rbac-workload-create") == [(9, "rules[0].resources[0]"), (13, "rules[1].resources[0]")]
    assert lines("rbac-secret-read") == [(10, "rules[0].resources[1]"), (21, "rules[0].resources[0]")]
    assert lines("rbac-privilege-escalation") == [
        (12, "rules[0].verbs[2]"), (16, "rules[1].verbs[0]"), (19, "rules[2].resources[0]"),
        (23, "rules[3].resources[0]"), (29, "rules[4].verbs[0]"), (31, "rules[5].resources[1]"),
        (36, "rules[6].verbs[0]"), (46, "rules[0].resources[0]")]
    # Bindings point at the subject.
    assert lines("rbac-cluster-admin-binding") == [(11, "subjects[0]"), (14, "subjects[1]"), (28, "subjects[0]")]
    assert lines("rbac-broad-subject") == [
        (11, "subjects[0]"), (14, "subjects[1]"), (17, "subjects[2]"), (31, "subjects[0]"), (33, "subjects[1]"),
        (48, "subjects[0]")]


def messages(rule: str) -> list[str]:
    return sorted(f.message for f in fixture_findings(rule, "fires"))


def test_messages_name_the_rule_the_verb_and_the_resource() -> None:
    assert messages("rbac-wildcard") == [
        "ClusterRole every-path rules[0] uses * in nonResourceURLs",
        "ClusterRole everything rules[0] uses * in verbs, resources, apiGroups",
        "Role config-admin rules[1] uses * in verbs"]
    assert messages("rbac-pod-exec") == [
        "ClusterRole node-debugger rules[0] grants patch on pods/ephemeralcontainers",
        "ClusterRole node-debugger rules[1] grants get on nodes/proxy",
        f"ClusterRole node-debugger rules[2] grants get on pods/exec: {GET_ONLY_135}",
        "ClusterRole node-debugger rules[3] grants create on pods/attach, limited by resourceNames to api-0",
        "Role debugger rules[0] grants create on pods/exec, get on pods/exec",
        "Role debugger rules[1] grants create on pods/portforward"]
    assert messages("rbac-workload-create") == [
        "ClusterRole job-runner rules[0] grants create on jobs.batch",
        "ClusterRole job-runner rules[1] grants create on pods"]
    escalation = messages("rbac-privilege-escalation")
    assert "ClusterRole role-manager rules[0] grants escalate on clusterroles.rbac.authorization.k8s.io, " \
           "bind on clusterroles.rbac.authorization.k8s.io" in escalation
    assert "ClusterRole role-manager rules[5] grants create on serviceaccounts/token" in escalation
    assert "ClusterRole role-manager rules[6] grants impersonate on userextras/*.authentication.k8s.io" in escalation
    # Limited by resourceNames: still reported, naming the objects; create cannot be limited by name, so it is not
    # granted at all.
    assert "ClusterRole webhook-manager rules[0] grants update on validatingwebhookconfigurations." \
           "admissionregistration.k8s.io, limited by resourceNames to gatekeeper-validating-webhook-configuration" \
           in escalation
    assert "ClusterRole role-manager rules[4] grants approve on signers.certificates.k8s.io, limited by " \
           "resourceNames to kubernetes.io/kube-apiserver-client" in escalation
    assert "ClusterRoleBinding deployer-admin binds ClusterRole cluster-admin to ServiceAccount ci/deployer" \
        in messages("rbac-cluster-admin-binding")
    broad = messages("rbac-broad-subject")
    assert any("ServiceAccount demo/default" in m and "ClusterRole edit" in m for m in broad)


GET_ONLY_135 = ("without create, which Kubernetes 1.35 requires as well unless kube-apiserver's feature gate "
                "AuthorizePodWebsocketUpgradeCreatePermission (beta, on by default since 1.35) is turned off")


def test_get_without_create_on_exec_depends_on_the_kube_version() -> None:
    """Before 1.35, get alone on pods/exec, attach or portforward is exec over WebSockets; from 1.35 the API
    server also wants create (a feature gate that may be off): still reported, saying so. get on nodes/proxy,
    and get with create, read the same at every version."""
    view_all = load_doc(role([{"apiGroups": ["*"], "resources": ["*"], "verbs": ["get", "list", "watch"]}]))
    exec_get = load_doc(role([{"apiGroups": [""], "resources": ["pods/exec", "pods/attach"], "verbs": ["get"]}]))
    old = run(exec_get, {"rbac-pod-exec"}, version="1.34")
    new = run(exec_get, {"rbac-pod-exec"}, version="1.35")
    assert [(f.field, f.message) for f in old] == [
        ("rules[0].resources[0]", "ClusterRole r rules[0] grants get on pods/exec, get on pods/attach: without "
         "create, enough for exec, attach or port-forward over WebSockets before Kubernetes 1.35")]
    assert [(f.field, f.message) for f in new] == [
        ("rules[0].resources[0]", f"ClusterRole r rules[0] grants get on pods/exec, get on pods/attach: {GET_ONLY_135}")]
    assert "Kubernetes 1.36 requires" in run(exec_get, {"rbac-pod-exec"}, version="1.36")[0].message
    # A "view everything" role: nodes/proxy (exec on every pod of a node, whatever the version) comes first.
    for version in ("1.30", "1.35"):
        found = run(view_all, {"rbac-pod-exec"}, version=version)
        assert [(f.field, f.message) for f in found] == [
            ("rules[0].resources[0]", "ClusterRole r rules[0] grants get on nodes/proxy, get on pods/exec, "
             "get on pods/attach and 1 more")]
    both = load_doc(role([{"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["*"]}]))
    for version in ("1.30", "1.35"):
        assert [f.message for f in run(both, {"rbac-pod-exec"}, version=version)] == [
            "ClusterRole r rules[0] grants create on pods/exec, get on pods/exec"]


@pytest.mark.parametrize(("entry", "message"), [
    ({"apiGroups": [""], "resources": ["pods/ephemeralcontainers"], "verbs": ["update"]},
     "grants update on pods/ephemeralcontainers"),
    ({"apiGroups": [""], "resources": ["*/ephemeralcontainers"], "verbs": ["*"]},
     "grants update on pods/ephemeralcontainers, patch on pods/ephemeralcontainers"),
    ({"apiGroups": ["*"], "resources": ["nodes/proxy"], "verbs": ["create"]}, "grants create on nodes/proxy"),
    ({"apiGroups": [""], "resources": ["*/proxy"], "verbs": ["get"]}, "grants get on nodes/proxy"),
])
def test_ephemeral_containers_and_node_proxy(entry: dict, message: str) -> None:
    found = run(load_doc(role([entry])), {"rbac-pod-exec"})
    assert [f.message for f in found] == [f"ClusterRole r rules[0] {message}"]


@pytest.mark.parametrize("entry", [
    {"apiGroups": [""], "resources": ["pods/ephemeralcontainers"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["nodes/proxy"], "verbs": ["list", "watch", "update"]},
    {"apiGroups": [""], "resources": ["nodes", "nodes/metrics", "nodes/stats", "pods/proxy"], "verbs": ["get"]},
])
def test_reading_ephemeral_containers_or_node_metrics_passes(entry: dict) -> None:
    assert run(load_doc(role([entry])), {"rbac-pod-exec"}) == []


@pytest.mark.parametrize(("entry", "granted"), [
    ({"apiGroups": [""], "resources": ["serviceaccounts/token"], "verbs": ["create"]},
     "create on serviceaccounts/token"),
    ({"apiGroups": [""], "resources": ["serviceaccounts/token"], "resourceNames": ["builder"], "verbs": ["create"]},
     "create on serviceaccounts/token, limited by resourceNames to builder"),
    ({"apiGroups": ["authentication.k8s.io"], "resources": ["uids", "userextras/scopes"], "verbs": ["impersonate"]},
     "impersonate on uids.authentication.k8s.io, impersonate on userextras/*.authentication.k8s.io"),
    ({"apiGroups": ["authentication.k8s.io"], "resources": ["*/scopes"], "verbs": ["*"]},
     "impersonate on userextras/*.authentication.k8s.io"),
    ({"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles"], "verbs": ["bind"],
      "resourceNames": ["a", "b", "c", "d"]},
     "bind on roles.rbac.authorization.k8s.io, limited by resourceNames to a, b, c and 1 more"),
])
def test_privilege_escalation_rights(entry: dict, granted: str) -> None:
    found = run(load_doc(role([entry])), {"rbac-privilege-escalation"})
    assert [f.message for f in found] == [f"ClusterRole r rules[0] grants {granted}"]


@pytest.mark.parametrize("entry", [
    {"apiGroups": [""], "resources": ["serviceaccounts", "serviceaccounts/token"], "verbs": ["get", "list"]},
    {"apiGroups": ["authentication.k8s.io"], "resources": ["userextras"], "verbs": ["impersonate"]},
    {"apiGroups": [""], "resources": ["userextras/scopes"], "verbs": ["impersonate"]},  # wrong group
    {"apiGroups": ["admissionregistration.k8s.io"], "resources": ["validatingwebhookconfigurations"],
     "resourceNames": ["mine"], "verbs": ["create", "get", "list"]},
])
def test_privilege_escalation_passes(entry: dict) -> None:
    assert run(load_doc(role([entry])), {"rbac-privilege-escalation"}) == []


def test_non_resource_url_wildcard() -> None:
    star = load_doc(role([{"nonResourceURLs": ["/metrics", "*"], "verbs": ["get"]}]))
    assert [(f.field, f.message) for f in run(star, {"rbac-wildcard"})] == [
        ("rules[0].nonResourceURLs[1]", "ClusterRole r rules[0] uses * in nonResourceURLs")]
    both = load_doc(role([{"nonResourceURLs": ["*"], "verbs": ["*"]}]))
    assert [(f.field, f.message) for f in run(both, {"rbac-wildcard"})] == [
        ("rules[0].verbs[0]", "ClusterRole r rules[0] uses * in verbs, nonResourceURLs")]
    prefix = load_doc(role([{"nonResourceURLs": ["/healthz/*", "/api/*"], "verbs": ["get"]}]))
    assert run(prefix, {"rbac-wildcard"}) == []


def binding(role_kind: str, role_name: str, *groups: str) -> dict:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "b"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role_name},
            "subjects": [{"kind": "Group", "name": g, "apiGroup": "rbac.authorization.k8s.io"} for g in groups]}


EVERYONE = ("system:authenticated", "system:unauthenticated")


@pytest.mark.parametrize("name", ["system:service-account-issuer-discovery", "system:public-info-viewer",
                                  "system:discovery", "system:basic-user"])
def test_the_discovery_roles_may_be_bound_to_everyone(name: str) -> None:
    assert run(load_doc(binding("ClusterRole", name, *EVERYONE)), {"rbac-broad-subject"}) == []
    # Only the ClusterRole: a Role of that name is someone's own.
    assert len(run(load_doc(binding("Role", name, *EVERYONE)), {"rbac-broad-subject"})) == 2


def test_allowed_roles_option() -> None:
    from policycheck.config import Profile

    docs = load_doc(binding("ClusterRole", "system:public-info-viewer", *EVERYONE),
                    {**binding("ClusterRole", "docs-reader", "system:authenticated"), "metadata": {"name": "c"}})
    profile = Profile("test", options={"rbac-broad-subject": {"allowed-roles": ["docs-reader"]}})
    found = run(docs, {"rbac-broad-subject"}, profile=profile)
    assert [(f.obj.name, f.field) for f in found] == [("b", "subjects[0]"), ("b", "subjects[1]")]


def test_a_full_wildcard_is_reported_once_per_rule_entry() -> None:
    """`*` on `*` implies every right: each rule reports it once, listing the first rights, not one per right."""
    found = fixture_findings("rbac-secret-read", "fires")
    admin = [f for f in found if f.obj.name == "admin-ish"]
    assert len(admin) == 1 and admin[0].message == "Role admin-ish rules[0] grants get on secrets, list on secrets, " \
                                                   "watch on secrets"
    star = load_doc(role([{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]))
    for rule in ROLE_RULES:
        hits = run(star, {rule})
        assert len(hits) == 1, rule
    escalation = run(star, {"rbac-privilege-escalation"})[0].message
    assert escalation.endswith("more")


def role(rules: list, kind: str = "ClusterRole", extra: dict | None = None) -> dict:
    doc = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": {"name": "r"}, "rules": rules}
    if kind == "Role":
        doc["metadata"]["namespace"] = "demo"
    return {**doc, **(extra or {})}


def load_doc(*docs: dict) -> Rendered:
    return Rendered("test", [K8sObject(d, "test", None) for d in docs])


def test_aggregated_cluster_roles_are_skipped() -> None:
    star = [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]
    aggregated = role(star, extra={"aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"a": "b"}}]}})
    assert run(load_doc(aggregated), set(ROLE_RULES)) == []
    assert {f.rule for f in run(load_doc(role(star)), set(ROLE_RULES))} == set(ROLE_RULES)


def test_exemption_annotation() -> None:
    bad = role([{"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]}])
    bad["metadata"]["annotations"] = {"policycheck.io/exempt.rbac-secret-read": "the backup operator reads them"}
    found = run(load_doc(bad), {"rbac-secret-read"})
    assert len(found) == 1 and found[0].exempted


def test_odd_shapes_do_not_crash() -> None:
    docs = [
        role("x"), role([1, None, {"verbs": "*"}, {"verbs": [1, "*"], "resources": None}]),
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "b"},
         "roleRef": "cluster-admin", "subjects": [None, 3, {"kind": "ServiceAccount"}, {"name": "default"}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "c"},
         "roleRef": {"kind": "ClusterRole", "name": "cluster-admin"}, "subjects": {"kind": "User"}},
    ]
    found = run(load_doc(*docs), set(RULES))
    assert {f.rule for f in found} == {"rbac-wildcard"}  # rules[3].verbs[1] is a "*"


def test_levels_per_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no policycheck.yaml: the built-in profiles alone
    profiles = config.load().profiles
    prod, dev = profiles["prod"], profiles["dev"]
    for rule in RULES:
        assert prod.level(rule) is Severity.ERROR
    for rule in ("rbac-pod-exec", "rbac-workload-create", "rbac-secret-read"):
        assert dev.level(rule) is Severity.WARNING
    for rule in ("rbac-wildcard", "rbac-privilege-escalation", "rbac-cluster-admin-binding", "rbac-broad-subject"):
        assert dev.level(rule) is Severity.ERROR


# -- hypothesis: rules that grant no listed right never fire; adding a listed right always does ------------------

HARMLESS_VERBS = ["list", "watch", "update", "patch", "delete", "deletecollection", "use"]
HARMLESS_RESOURCES = ["configmaps", "services", "endpoints", "events", "pods/log", "leases", "ingresses",
                      "deployments/scale", "networkpolicies", "customthings"]
GROUPS = ["", "apps", "batch", "networking.k8s.io", "example.com"]


@st.composite
def harmless_rule(draw: st.DrawFn) -> dict:
    return {"apiGroups": draw(st.lists(st.sampled_from(GROUPS), min_size=1, max_size=3)),
            "resources": draw(st.lists(st.sampled_from(HARMLESS_RESOURCES), min_size=1, max_size=4)),
            "verbs": draw(st.lists(st.sampled_from(HARMLESS_VERBS), min_size=1, max_size=4))}


# One entry each rule must find, whatever harmless entries surround it.
PLANTED = {
    "rbac-wildcard": {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["*"]},
    "rbac-pod-exec": {"apiGroups": [""], "resources": ["pods/attach"], "verbs": ["create"]},
    "rbac-workload-create": {"apiGroups": ["apps"], "resources": ["daemonsets"], "verbs": ["create"]},
    "rbac-secret-read": {"apiGroups": [""], "resources": ["secrets"], "verbs": ["watch"]},
    "rbac-privilege-escalation": {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles"],
                                  "verbs": ["bind"]},
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules=st.lists(harmless_rule(), max_size=6), kind=st.sampled_from(["Role", "ClusterRole"]),
       planted=st.sampled_from(sorted(PLANTED)), at=st.integers(min_value=0, max_value=6))
def test_only_listed_rights_fire(rules: list[dict], kind: str, planted: str, at: int) -> None:
    assert run(load_doc(role(rules, kind)), set(ROLE_RULES)) == []
    at = min(at, len(rules))
    with_one = [*rules[:at], PLANTED[planted], *rules[at:]]
    found = run(load_doc(role(with_one, kind)), set(ROLE_RULES))
    assert [(f.rule, f.field.split(".")[0]) for f in found] == [(planted, f"rules[{at}]")]


NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-:", min_size=1, max_size=20)


@settings(max_examples=60, deadline=None)
@given(subjects=st.lists(st.tuples(st.sampled_from(["User", "Group", "ServiceAccount"]), NAMES), max_size=5),
       role_name=st.sampled_from(["view", "edit", "admin", "cluster-admin"]))
def test_binding_subjects(subjects: list[tuple[str, str]], role_name: str) -> None:
    from policycheck.rules.rbac_broad_subject import why

    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "b"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role_name},
               "subjects": [{"kind": k, "name": n, "namespace": "demo"} for k, n in subjects]}
    found = run(load_doc(binding), set(BINDING_RULES))
    admin = [f.field for f in found if f.rule == "rbac-cluster-admin-binding"]
    broad = [f.field for f in found if f.rule == "rbac-broad-subject"]
    assert admin == ([f"subjects[{i}]" for i in range(len(subjects))] if role_name == "cluster-admin" else [])
    assert broad == [f"subjects[{i}]" for i, (k, n) in enumerate(subjects) if why(k, n) is not None]
    broad_names = {"system:anonymous", "system:authenticated", "system:unauthenticated", "default"}
    assert all(n in broad_names or n.startswith("system:serviceaccount") for k, n in subjects if why(k, n))


def test_fixture_files_exist() -> None:
    for rule in RULES:
        assert (FIXTURES / rule / "fires.yaml").is_file() and (FIXTURES / rule / "passes.yaml").is_file()
