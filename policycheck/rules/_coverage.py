"""Which workloads run more than one pod: shared by pdb-coverage and min-replicas."""

from __future__ import annotations

SCALABLE = ("Deployment", "StatefulSet", "ReplicaSet")


def hpa_targets(ctx):
    """(kind, name, namespace) -> the HPA object that scales it."""
    out = {}
    for hpa in ctx.of_kind("HorizontalPodAutoscaler"):
        ref = hpa.root.map("spec").map("scaleTargetRef")
        out[(ref.str("kind"), ref.str("name"), hpa.namespace)] = hpa
    return out
