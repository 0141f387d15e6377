"""
## What it does
Checks that every object of a namespaced kind has a namespace after
rendering (`metadata.namespace`, set in the manifest or by the
kustomization's `namespace:`), resolved the way kubectl would: a built-in
kind known to the offline schemas is namespaced unless it is one of the
cluster-scoped kinds (Namespace, ClusterRole, PersistentVolume, ...); a
custom resource is namespaced when a CustomResourceDefinition of the overlay
says `scope: Namespaced`. Kinds of unknown scope are skipped.

## Why is this bad?
An object without a namespace lands in whatever namespace the kubectl
context of the person or pipeline applying it points at: the same overlay
deploys to different places, and a Service can end up apart from its pods.

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
SUMMARY = "namespaced kinds have a namespace after rendering"

# Built-in kinds that are cluster-scoped (kubectl api-resources --namespaced=false).
CLUSTER_SCOPED = frozenset({
    "Namespace", "Node", "PersistentVolume", "StorageClass", "ClusterRole", "ClusterRoleBinding",
    "CustomResourceDefinition", "PriorityClass", "IngressClass", "RuntimeClass",
    "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding", "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding",
    "APIService", "CSIDriver", "CSINode", "VolumeAttachment", "CertificateSigningRequest", "ComponentStatus",
    "FlowSchema", "PriorityLevelConfiguration", "ClusterTrustBundle", "DeviceClass", "ResourceSlice",
    "VolumeAttributesClass", "IPAddress", "ServiceCIDR", "StorageVersion", "StorageVersionMigration",
    "PodSecurityPolicy", "TokenReview", "SubjectAccessReview", "SelfSubjectAccessReview",
    "SelfSubjectRulesReview", "SelfSubjectReview",
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


def check(ctx, options):
    builtin = known_kinds(ctx.kube_version)
    crds = None
    for obj in ctx.objects:
        kind = obj.kind
        if kind in CLUSTER_SCOPED or kind in NOT_OBJECTS or kind.endswith("List") or obj.namespace:
            continue
        if crds is None:
            crds = _crd_scopes(ctx)
        group = obj.api_version.rpartition("/")[0]
        if (group, kind) in crds:
            if crds[(group, kind)] != "Namespaced":
                continue
        elif (group, kind) not in builtin:
            continue  # a custom resource of unknown scope
        yield Problem(obj, f"{kind} {obj.name} is namespaced but has no namespace: it lands in the namespace of "
                      "whoever applies it", "metadata.namespace")
