#!/usr/bin/env python3
"""Small generated inputs of the speed targets (issue 9), besides the monorepo of monorepo.py.

    python3 bench/inputs.py demo OUT_DIR            the shop demo base (target 2)
    python3 bench/inputs.py configmaps OUT_DIR N    an overlay of N ConfigMaps (target 4)

Importable: `write_demo(root) -> int` and `write_configmaps(root, count) -> int` write a kustomization into
root (absent or empty) and return the number of objects it renders. Deterministic, standard library only;
YAML comes from monorepo.py's emitter.

The demo base looks like the kustomize base of a public microservices demo: eleven services of a web
shop, each a file with its Deployment, Service and (all but the cache) ServiceAccount, one more Service
that exposes the storefront, and two ConfigMaps: 35 objects. Container specs are the usual mix:
resources everywhere, gRPC, HTTP, TCP and exec probes, securityContext on most but not all.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from typing import Any

KUSTOMIZATION = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"}

# name, port, probe kind, hardened (pod and container securityContext), talks to
SHOP = (
    ("storefront", 8080, "http", True, ("catalog", "basket", "pricing", "checkout", "recommend", "promotions",
                                        "shipping")),
    ("catalog", 3550, "grpc", True, ()),
    ("basket", 7070, "grpc", True, ("cache",)),
    ("pricing", 7000, "grpc", False, ()),
    ("checkout", 5050, "grpc", True, ("catalog", "basket", "pricing", "payments", "shipping", "mailer")),
    ("payments", 50051, "grpc", True, ()),
    ("shipping", 50051, "grpc", False, ()),
    ("mailer", 8080, "grpc", True, ()),
    ("recommend", 8080, "grpc", True, ("catalog",)),
    ("promotions", 9555, "exec", False, ()),
    ("cache", 6379, "tcp", False, ()),
)


def _dump() -> Any:
    """monorepo.py's YAML emitter; this file may be loaded by path, so monorepo.py is too."""
    name = "bench_monorepo"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("monorepo.py"))
        if spec is None or spec.loader is None:
            raise ImportError("cannot load bench/monorepo.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # its dataclasses look their module up
        spec.loader.exec_module(module)
    return module.dump


def _empty(root: Path) -> Path:
    root = Path(root)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise FileExistsError(f"{root}: exists and is not an empty directory")
    root.mkdir(parents=True, exist_ok=True)
    return root


def _probe(kind: str, port: int, initial: int) -> dict:
    action: dict[str, Any]
    if kind == "http":
        action = {"httpGet": {"path": "/_healthz", "port": port}}
    elif kind == "grpc":
        action = {"grpc": {"port": port}}
    elif kind == "tcp":
        action = {"tcpSocket": {"port": port}}
    else:
        action = {"exec": {"command": ["/bin/grpc_health_probe", f"-addr=:{port}", "-connect-timeout=2s"]}}
    return action | {"initialDelaySeconds": initial, "periodSeconds": 15}


def _service_docs(index: int, service: tuple[str, int, str, bool, tuple[str, ...]]) -> list[dict]:
    name, port, probe, hardened, talks_to = service
    labels = {"app": name}
    env = [{"name": "PORT", "value": str(port)}]
    env += [{"name": f"{peer.upper()}_ADDR", "value": f"{peer}:{dict((s[0], s[1]) for s in SHOP)[peer]}"}
            for peer in talks_to]
    if name == "storefront":
        env.append({"name": "SHOP_SETTINGS", "valueFrom": {"configMapKeyRef": {"name": "storefront-settings",
                                                                              "key": "currency"}}})
    heavy = name in ("storefront", "recommend", "cache")
    container: dict[str, Any] = {
        "name": "server",
        "image": f"registry.example.com/shop/{name}:v0.{9 + index % 3}.{index}",
        "ports": [{"name": "tcp" if probe == "tcp" else "grpc" if probe == "grpc" else "http",
                   "containerPort": port}],
        "env": env,
        "resources": {"requests": {"cpu": "200m" if heavy else "100m", "memory": "256Mi" if heavy else "64Mi"},
                      "limits": {"cpu": "500m" if heavy else "200m", "memory": "512Mi" if heavy else "128Mi"}},
        "readinessProbe": _probe(probe, port, 5),
        "livenessProbe": _probe(probe, port, 15),
    }
    pod: dict[str, Any] = {"terminationGracePeriodSeconds": 5}
    if name != "cache":
        pod["serviceAccountName"] = name
    if hardened:
        pod["securityContext"] = {"runAsNonRoot": True, "runAsUser": 1000, "runAsGroup": 1000, "fsGroup": 1000}
        container["securityContext"] = {"allowPrivilegeEscalation": False, "privileged": False,
                                        "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}}
    if name == "cache":
        container["volumeMounts"] = [{"name": "data", "mountPath": "/data"},
                                     {"name": "config", "mountPath": "/etc/cache"}]
        container["args"] = ["/etc/cache/cache.conf"]
        pod["volumes"] = [{"name": "data", "emptyDir": {}},
                          {"name": "config", "configMap": {"name": "cache-config"}}]
    pod["containers"] = [container]
    docs: list[dict] = [
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": labels},
         "spec": {"selector": {"matchLabels": labels},
                  "template": {"metadata": {"labels": labels}, "spec": pod}}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "labels": labels},
         "spec": {"type": "ClusterIP", "selector": labels,
                  "ports": [{"name": container["ports"][0]["name"], "port": port, "targetPort": port}]}},
    ]
    if name != "cache":
        docs.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}})
    if name == "storefront":
        docs.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "storefront-external"},
                     "spec": {"type": "LoadBalancer", "selector": labels,
                              "ports": [{"name": "http", "port": 80, "targetPort": port}]}})
        docs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "storefront-settings"},
                     "data": {"currency": "EUR", "banner": "Free shipping over 50", "session-ttl": "30m"}})
    if name == "cache":
        docs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cache-config"},
                     "data": {"cache.conf": "maxmemory 200mb\nmaxmemory-policy allkeys-lru\nappendonly no\n"}})
    return docs


def write_demo(root: Path) -> int:
    """The shop demo base into root; the number of objects it renders (35)."""
    root = _empty(root)
    dump = _dump()
    count = 0
    for index, service in enumerate(SHOP):
        docs = _service_docs(index, service)
        (root / f"{service[0]}.yaml").write_text(dump(*docs), encoding="utf-8")
        count += len(docs)
    (root / "kustomization.yaml").write_text(
        dump(KUSTOMIZATION | {"resources": [f"{name}.yaml" for name, *_ in SHOP]}), encoding="utf-8")
    return count


def write_configmaps(root: Path, count: int) -> int:
    """An overlay of `count` ConfigMaps into root (namespace and labels set by kustomize); returns count."""
    if count < 1:
        raise ValueError("count must be at least 1")
    root = _empty(root)
    dump = _dump()
    docs = [{"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": f"settings-{i:05d}", "labels": {"app.kubernetes.io/name": f"service-{i % 50:02d}"}},
             "data": {"LOG_LEVEL": ("info", "debug", "warn")[i % 3], "TIMEOUT_MS": str(100 + i % 900),
                      "ENDPOINT": f"http://service-{i % 50:02d}.shop.svc:8080/v{1 + i % 3}",
                      "FEATURES": ",".join(("search", "reviews", "wishlist", "coupons")[: 1 + i % 4])}}
            for i in range(count)]
    (root / "configmaps.yaml").write_text(dump(*docs), encoding="utf-8")
    (root / "kustomization.yaml").write_text(
        dump(KUSTOMIZATION | {"namespace": "linearity", "labels": [{"pairs": {"bench": "linearity"}}],
                              "resources": ["configmaps.yaml"]}), encoding="utf-8")
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/inputs.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    demo = sub.add_parser("demo", help="the shop demo base (35 objects)")
    demo.add_argument("out", type=Path, metavar="OUT_DIR")
    cms = sub.add_parser("configmaps", help="an overlay of N ConfigMaps")
    cms.add_argument("out", type=Path, metavar="OUT_DIR")
    cms.add_argument("count", type=int, metavar="N")
    args = parser.parse_args(argv)
    try:
        made = write_demo(args.out) if args.what == "demo" else write_configmaps(args.out, args.count)
    except (ValueError, OSError) as exc:
        print(f"inputs: {exc}", file=sys.stderr)
        return 2
    print(f"{args.out}: {made} objects")
    return 0


if __name__ == "__main__":
    sys.exit(main())
