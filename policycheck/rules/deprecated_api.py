"""
## What it does
Checks every object's `apiVersion` against the target Kubernetes version
(`--kube-version`, default 1.35): an API removed at or before the target is
an error, one deprecated at or before it is a warning.

## Why is this bad?
The API server rejects a removed API outright; a deprecated one works until
the next upgrade breaks the deployment.

## Example
```yaml
apiVersion: policy/v1beta1
kind: PodDisruptionBudget
```

## Use instead
```yaml
apiVersion: policy/v1
kind: PodDisruptionBudget
```

## References
Kubernetes deprecated API migration guide.
"""

from policycheck.model import Severity
from policycheck.rules.base import Problem

ID = "deprecated-api"
FAMILY = "api"
LEVEL = "error"
SUMMARY = "apiVersion removed or deprecated in the target Kubernetes version"

# (apiVersion, kind or "*") -> (deprecated in, removed in or None, replacement)
TABLE = {
    ("extensions/v1beta1", "*"): ("1.8", "1.22", "apps/v1 or networking.k8s.io/v1"),
    ("apps/v1beta1", "*"): ("1.9", "1.16", "apps/v1"),
    ("apps/v1beta2", "*"): ("1.9", "1.16", "apps/v1"),
    ("networking.k8s.io/v1beta1", "*"): ("1.19", "1.22", "networking.k8s.io/v1"),
    ("rbac.authorization.k8s.io/v1beta1", "*"): ("1.17", "1.22", "rbac.authorization.k8s.io/v1"),
    ("admissionregistration.k8s.io/v1beta1", "MutatingWebhookConfiguration"): ("1.16", "1.22", "v1"),
    ("admissionregistration.k8s.io/v1beta1", "ValidatingWebhookConfiguration"): ("1.16", "1.22", "v1"),
    ("apiextensions.k8s.io/v1beta1", "*"): ("1.16", "1.22", "apiextensions.k8s.io/v1"),
    ("certificates.k8s.io/v1beta1", "*"): ("1.19", "1.22", "certificates.k8s.io/v1"),
    ("coordination.k8s.io/v1beta1", "*"): ("1.14", "1.22", "coordination.k8s.io/v1"),
    ("scheduling.k8s.io/v1beta1", "*"): ("1.14", "1.22", "scheduling.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "CSIDriver"): ("1.19", "1.22", "storage.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "CSINode"): ("1.17", "1.22", "storage.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "StorageClass"): ("1.6", "1.22", "storage.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "VolumeAttachment"): ("1.13", "1.22", "storage.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "CSIStorageCapacity"): ("1.24", "1.27", "storage.k8s.io/v1"),
    ("batch/v1beta1", "CronJob"): ("1.21", "1.25", "batch/v1"),
    ("discovery.k8s.io/v1beta1", "EndpointSlice"): ("1.21", "1.25", "discovery.k8s.io/v1"),
    ("events.k8s.io/v1beta1", "Event"): ("1.19", "1.25", "events.k8s.io/v1"),
    ("autoscaling/v2beta1", "HorizontalPodAutoscaler"): ("1.22", "1.25", "autoscaling/v2"),
    ("autoscaling/v2beta2", "HorizontalPodAutoscaler"): ("1.23", "1.26", "autoscaling/v2"),
    ("policy/v1beta1", "PodDisruptionBudget"): ("1.21", "1.25", "policy/v1"),
    ("policy/v1beta1", "PodSecurityPolicy"): ("1.21", "1.25", "Pod Security Admission"),
    ("node.k8s.io/v1beta1", "RuntimeClass"): ("1.20", "1.25", "node.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta1", "*"): ("1.23", "1.26", "flowcontrol.apiserver.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta2", "*"): ("1.26", "1.29", "flowcontrol.apiserver.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta3", "*"): ("1.29", "1.32", "flowcontrol.apiserver.k8s.io/v1"),
    ("v1", "Endpoints"): ("1.33", None, "discovery.k8s.io/v1 EndpointSlice"),
}


def _minor(version):
    major, minor = str(version).split(".")[:2]
    return int(major), int(minor)


def lookup(api_version, kind):
    return TABLE.get((api_version, kind)) or TABLE.get((api_version, "*"))


def check(ctx, options):
    target = _minor(ctx.kube_version)
    for obj in ctx.objects:
        entry = lookup(obj.api_version, obj.kind)
        if entry is None:
            continue
        deprecated, removed, instead = entry
        if removed and target >= _minor(removed):
            yield Problem(obj, f"{obj.api_version} {obj.kind} was removed in Kubernetes {removed}; use {instead}",
                          "apiVersion")
        elif target >= _minor(deprecated):
            yield Problem(obj, f"{obj.api_version} {obj.kind} is deprecated since Kubernetes {deprecated}; "
                          f"use {instead}", "apiVersion", severity=Severity.WARNING)
