"""Which workloads run more than one pod: shared by pdb-coverage, min-replicas, pdb-blocks-eviction
and prod-not-weaker."""

from __future__ import annotations

SCALABLE = ("Deployment", "StatefulSet", "ReplicaSet")


def hpa_targets(ctx):
    """(kind, name, namespace) -> the HPA object that scales it."""
    out = {}
    for hpa in ctx.of_kind("HorizontalPodAutoscaler"):
        ref = hpa.root.map("spec").map("scaleTargetRef")
        out[(ref.str("kind"), ref.str("name"), hpa.namespace)] = hpa
    return out


def minimum_replicas(obj, hpa):
    """(the fewest pods ``obj`` runs, the object and field that say so): the minReplicas of
    ``hpa`` (the HPA that scales it) when there is one, else its replicas; 1 when unset."""
    source, field = (hpa, "minReplicas") if hpa is not None else (obj, "replicas")
    count = source.root.map("spec").int(field)
    return (1 if count is None else count), source, f"spec.{field}"
