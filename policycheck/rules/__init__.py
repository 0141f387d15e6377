"""The rule catalog: every rule, explicitly listed. Ids are stable."""

from __future__ import annotations

from policycheck.model import PolicycheckError
from policycheck.rules import (
    capabilities,
    config_reference,
    default_service_account,
    deprecated_api,
    env_unique,
    ephemeral_storage,
    exemption_reason,
    field_type,
    host_namespaces,
    host_path,
    host_port,
    host_process,
    hpa_target,
    image_digest,
    image_pull_policy,
    image_tag_consistency,
    image_tag_pinned,
    immutable_field,
    ingress_backend,
    ingress_tls,
    job_deadline,
    job_hygiene,
    liveness_probe,
    min_replicas,
    namespace_pod_security,
    namespace_set,
    network_policy_coverage,
    overlay_parity,
    pdb_blocks_eviction,
    pdb_coverage,
    pdb_unhealthy_pod_eviction,
    policy_selects_pods,
    priority_class,
    privilege_escalation,
    privileged_container,
    probe_port,
    probes_distinct,
    proc_mount,
    prod_not_weaker,
    rbac_broad_subject,
    rbac_cluster_admin_binding,
    rbac_pod_exec,
    rbac_privilege_escalation,
    rbac_secret_read,
    rbac_wildcard,
    rbac_workload_create,
    read_only_root_fs,
    readiness_probe,
    recreate_behind_service,
    redis_broker_safety,
    resource_limits,
    resource_requests,
    run_as_non_root,
    safe_sysctls,
    schema,
    seccomp_profile,
    secret_in_configmap,
    secret_in_env,
    selector_matches_template,
    service_account_token,
    service_exposure,
    service_selector,
    service_target_port,
    ssh_port,
    statefulset_service_name,
)
from policycheck.rules.base import FAMILIES, Problem, Rule

_MODULES = (
    run_as_non_root, privilege_escalation, privileged_container, capabilities, seccomp_profile,
    read_only_root_fs, host_namespaces, host_path, service_account_token, image_tag_pinned, image_digest,
    image_tag_consistency, resource_requests, resource_limits, liveness_probe, readiness_probe, probe_port,
    service_selector, service_target_port, ingress_backend, hpa_target, config_reference, pdb_coverage,
    network_policy_coverage, min_replicas, ingress_tls, secret_in_configmap, secret_in_env,
    namespace_pod_security, deprecated_api, schema, exemption_reason, field_type, immutable_field,
    overlay_parity, prod_not_weaker,
    # workload hygiene
    host_port, safe_sysctls, proc_mount, host_process, env_unique, selector_matches_template, probes_distinct,
    ephemeral_storage, ssh_port, image_pull_policy, default_service_account, recreate_behind_service,
    priority_class, namespace_set,
    # controllers and service exposure
    statefulset_service_name, job_deadline, job_hygiene, pdb_blocks_eviction, pdb_unhealthy_pod_eviction,
    policy_selects_pods, service_exposure,
    # the Celery broker
    redis_broker_safety,
    # rbac
    rbac_wildcard, rbac_pod_exec, rbac_workload_create, rbac_secret_read, rbac_privilege_escalation,
    rbac_cluster_admin_binding, rbac_broad_subject,
)

REGISTRY: dict[str, Rule] = {}
for _module in _MODULES:
    _rule = Rule.from_module(_module)
    if _rule.id in REGISTRY:  # pragma: no cover - a programming error
        raise RuntimeError(f"duplicate rule id {_rule.id}")
    if _rule.family not in FAMILIES:  # pragma: no cover - a programming error
        raise RuntimeError(f"rule {_rule.id} has unknown family {_rule.family}")
    REGISTRY[_rule.id] = _rule


def get(rule_id: str) -> Rule:
    try:
        return REGISTRY[rule_id]
    except KeyError:
        raise PolicycheckError(f"unknown rule: {rule_id}") from None


__all__ = ["FAMILIES", "REGISTRY", "Problem", "Rule", "get"]
