"""
## What it does
Checks that every object of a namespaced kind has a namespace after
rendering (`metadata.namespace`, set in the manifest or by the
kustomization's `namespace:`), resolved the way kubectl would: a built-in
kind known to the offline schemas is namespaced unless its API group and
kind are those of a cluster-scoped kind (Namespace, ClusterRole,
PersistentVolume, DeviceTaintRule, ...: the list kube-apiserver 1.35 gives
with every API version enabled, and the kinds of the other schema versions);
a custom resource is namespaced when a CustomResourceDefinition of the
overlay says `scope: Namespaced`. Kinds of unknown scope are skipped.

The other way round, a built-in cluster-scoped kind written with a
`metadata.namespace` is reported too: the API server accepts it and drops
the namespace without a word, so the manifest claims a namespace the object
does not have (a ClusterRole "in" the app's namespace still grants in every
namespace). A namespace that the kustomization's `namespace:` set (kustomize
sets it on cluster-scoped kinds it does not know) is not reported.

## Why is this bad?
An object without a namespace lands in whatever namespace the kubectl
context of the person or pipeline applying it points at: the same overlay
deploys to different places, and a Service can end up apart from its pods.
A namespace on a cluster-scoped object is a false statement about it.

## Example
```yaml
kind: ConfigMap
metadata:
  name: settings
```

## Use instead
```yaml
# kustomization.yaml
namespace: ai-agents
```
or `metadata.namespace` on the object.
"""

from policycheck.rules.base import Problem
from policycheck.schema import known_kinds

ID = "namespace-set"
FAMILY = "api"
LEVEL = "warning"
SUMMARY = "namespaced kinds have a namespace after rendering, cluster-scoped ones none"

# (API group, kind) of the built-in cluster-scoped kinds. The offline schemas do not say which kinds
# are namespaced: this is what kube-apiserver 1.35.4 started with --runtime-config=api/all=true lists
# under `kubectl api-resources --namespaced=false`, and the cluster-scoped kinds of the schemas'
# other versions (ClusterCIDR to 1.28, ResourceClass to 1.30, ResourcePoolStatusRequest from 1.36,
# PodSecurityPolicy before 1.25). tests/test_rules_hygiene.py checks that every kind of every schema
# version is either here or in its list of namespaced kinds.
CLUSTER_SCOPED = frozenset({
    ("", "ComponentStatus"), ("", "Namespace"), ("", "Node"), ("", "PersistentVolume"),
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"),
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("apiregistration.k8s.io", "APIService"),
    ("authentication.k8s.io", "SelfSubjectReview"), ("authentication.k8s.io", "TokenReview"),
    ("authorization.k8s.io", "SelfSubjectAccessReview"), ("authorization.k8s.io", "SelfSubjectRulesReview"),
    ("authorization.k8s.io", "SubjectAccessReview"),
    ("certificates.k8s.io", "CertificateSigningRequest"), ("certificates.k8s.io", "ClusterTrustBundle"),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"), ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
    ("internal.apiserver.k8s.io", "StorageVersion"),
    ("networking.k8s.io", "ClusterCIDR"), ("networking.k8s.io", "IPAddress"), ("networking.k8s.io", "IngressClass"),
    ("networking.k8s.io", "ServiceCIDR"),
    ("node.k8s.io", "RuntimeClass"),
    ("policy", "PodSecurityPolicy"),
    ("rbac.authorization.k8s.io", "ClusterRole"), ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("resource.k8s.io", "DeviceClass"), ("resource.k8s.io", "DeviceTaintRule"), ("resource.k8s.io", "ResourceClass"),
    ("resource.k8s.io", "ResourcePoolStatusRequest"), ("resource.k8s.io", "ResourceSlice"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("storage.k8s.io", "CSIDriver"), ("storage.k8s.io", "CSINode"), ("storage.k8s.io", "StorageClass"),
    ("storage.k8s.io", "VolumeAttachment"), ("storage.k8s.io", "VolumeAttributesClass"),
    ("storagemigration.k8s.io", "StorageVersionMigration"),
})
# Kinds that name objects only inside another object or the client (never applied on their own).
NOT_OBJECTS = frozenset({"APIGroup", "APIVersions", "Status", "WatchEvent", "DeleteOptions", "Binding", "Eviction",
                         "Scale", "TokenRequest", "LocalSubjectAccessReview", "Kustomization", "Component"})


def _crd_scopes(ctx) -> dict[tuple[str, str], str]:
    """(group, kind) -> scope, of the CustomResourceDefinitions of the overlay."""
    scopes: dict[tuple[str, str], str] = {}
    for crd in ctx.of_kind("CustomResourceDefinition"):
        spec = crd.root.map("spec")
        group, kind, scope = spec.str("group"), spec.map("names").str("kind"), spec.str("scope")
        if group and kind and scope:
            scopes[(group, kind)] = scope
    return scopes


def _kustomization_namespaces(obj) -> set[str]:
    """The `namespace:` of each kustomization (and component) ``obj`` passes through."""
    tree = obj.tree
    if tree is None or not obj.origin:
        return set()
    out = set()
    for directory in tree.chain(obj.origin):
        for level in (directory, *tree.components.get(directory, ())):
            data = tree.kustomizations.get(level, (None, {}))[1]
            namespace = data.get("namespace") if isinstance(data, dict) else None
            if isinstance(namespace, str):
                out.add(namespace)
    return out


def check(ctx, options):
    builtin = known_kinds(ctx.kube_version)
    crds = None
    for obj in ctx.objects:
        kind = obj.kind
        if kind in NOT_OBJECTS or kind.endswith("List"):
            continue
        group = obj.api_version.rpartition("/")[0]
        if (group, kind) in CLUSTER_SCOPED:
            if obj.namespace and obj.namespace not in _kustomization_namespaces(obj):
                yield Problem(obj, f"{kind} {obj.name} is cluster-scoped but says namespace {obj.namespace}: the "
                              "API server drops it without a word, and the object applies to the whole cluster",
                              "metadata.namespace")
            continue
        if obj.namespace:
            continue
        if crds is None:
            crds = _crd_scopes(ctx)
        if (group, kind) in crds:
            if crds[(group, kind)] != "Namespaced":
                continue
        elif (group, kind) not in builtin:
            continue  # a custom resource of unknown scope
        yield Problem(obj, f"{kind} {obj.name} is namespaced but has no namespace: it lands in the namespace of "
                      "whoever applies it", "metadata.namespace")
