"""Command line: python -m policycheck [PATH ...]."""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ThreadPoolExecutor

from policycheck import __version__, pss, schema
from policycheck.k8s import pod_template
from policycheck.model import PolicycheckError
from policycheck.render import DEFAULT_MEMORY_MIB, DEFAULT_TIMEOUT, find_kustomize, find_overlays, render


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="policycheck", description="Render Kustomize overlays and block unsafe manifests."
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="overlay, or directory searched for overlays")
    parser.add_argument("--kustomize", metavar="PATH", help="kustomize or kubectl binary")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS")
    parser.add_argument("--memory-limit", type=int, default=DEFAULT_MEMORY_MIB, metavar="MIB")
    parser.add_argument("--kube-version", default=schema.DEFAULT_KUBE_VERSION, metavar="X.Y")
    parser.add_argument("--allow-remote", action="store_true", help="let kustomize fetch remote bases")
    parser.add_argument("--version", action="version", version=f"policycheck {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _check(args)
    except PolicycheckError as exc:
        print(f"policycheck: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("policycheck: interrupted", file=sys.stderr)
        return 2


def _check(args: argparse.Namespace) -> int:
    overlays = find_overlays(args.paths or ["overlays"])
    kustomize = find_kustomize(args.kustomize)
    with ThreadPoolExecutor(max_workers=min(8, len(overlays))) as pool:
        rendered = list(
            pool.map(
                lambda o: render(o, kustomize, timeout=args.timeout, memory_mib=args.memory_limit,
                                 allow_remote=args.allow_remote),
                overlays,
            )
        )
    problems = 0
    for result in rendered:
        for obj in result.objects:
            errors = schema.validate(obj.doc, args.kube_version) or []
            for err in errors:
                problems += 1
                print(f"{obj.origin}: schema: {obj.ref()}: {err.field}: {err.message}")
            pod = pod_template(obj)
            if pod is not None:
                for v in pss.restricted(pod):
                    problems += 1
                    print(f"{obj.origin}: pod-security: {obj.ref()}: {v.field}: {v.message}")
        print(f"{result.overlay}: {len(result.objects)} objects", file=sys.stderr)
    return 1 if problems else 0
