"""Command line.

    policycheck [PATH ...] [options]     check overlays (default: every overlay under overlays/)
    policycheck --base REF [PATH ...]    ... failing only on findings that are new since git revision REF
    policycheck merge REPORT.json ...    one report of the JSON reports of --shard runs
    policycheck diff --base REF [PATH ...]   the rendered objects' changes since REF, per overlay
    policycheck fix [PATH ...] [--write DIR]   Kustomize patches for the findings with a safe fix
    policycheck rules [--format markdown]
    policycheck explain RULE

Exit codes: 0 no failing finding, 1 failing findings, 2 usage/config/render/tool error.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import sys
from pathlib import Path

from policycheck import __version__
from policycheck.errors import PolicycheckError
from policycheck.launch import (
    DEFAULT_MEMORY_MIB,
    DEFAULT_TIMEOUT,
    RENDER_WORKERS,
    discover,
    find_kustomize,
    start_renders,
)
from policycheck.textsafe import escape

TYPE_CHECKING = False
if TYPE_CHECKING:  # (typing costs 4 ms before the first render)
    from typing import NoReturn

# Only the launcher is imported before kustomize runs: the model, the rule
# catalog, the schemas and the reporters load while it renders.
DEFAULT_KUBE_VERSION = "1.35"  # policycheck.model.DEFAULT_KUBE_VERSION (a test keeps them equal)


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise PolicycheckError(f"usage: {message} (see --help)")


FORMATS = ("text", "json", "sarif", "junit", "github")


def _format_spec(value: str) -> tuple[str, str | None]:
    """``NAME`` or ``NAME=FILE`` of --format; FILE ``-`` is stdout (None)."""
    name, has_dest, dest = value.partition("=")
    if name not in FORMATS:
        raise argparse.ArgumentTypeError(f"unknown format {escape(name)!r} (have {', '.join(FORMATS)})")
    if has_dest and not dest:
        raise argparse.ArgumentTypeError(f"{name}=: no file after '=' (use {name}=FILE, or {name} for stdout)")
    return name, None if dest in ("", "-") else dest


def _outputs(args: argparse.Namespace) -> list[tuple[str, str | None]]:
    """(format, file or None for stdout) of every report to write; usage errors before any render."""
    outputs = list(args.format or [("text", None)])
    if args.output is not None:
        if not args.output:
            raise PolicycheckError("usage: -o/--output: no file name")
        if len(outputs) != 1:
            raise PolicycheckError("usage: -o/--output needs exactly one --format; give each report its own "
                                   "file with --format NAME=FILE")
        if outputs[0][1] is not None:
            raise PolicycheckError("usage: -o/--output and --format NAME=FILE both name the report's file")
        outputs = [(outputs[0][0], args.output)]
    to_stdout = [name for name, dest in outputs if dest is None]
    if len(to_stdout) > 1:
        raise PolicycheckError(f"usage: --format: {' and '.join(to_stdout)} both go to stdout; give all but one "
                               "a file (--format NAME=FILE)")
    files = [os.path.abspath(dest) for _, dest in outputs if dest is not None]
    twice = next((dest for _, dest in outputs if dest and files.count(os.path.abspath(dest)) > 1), None)
    if twice:
        raise PolicycheckError(f"usage: --format: two reports to one file, {escape(twice)}")
    return outputs


def check_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="policycheck", description="Render Kustomize overlays and block unsafe manifests. "
                "Subcommands: `policycheck rules`, `policycheck explain RULE`.")
    p.add_argument("paths", nargs="*", metavar="PATH", help="overlay, or directory searched for overlays "
                   "(default: overlays)")
    p.add_argument("--format", action="append", type=_format_spec, metavar="NAME[=FILE]",
                   help=f"report format: {', '.join(FORMATS)} (default text); repeatable, each to its own FILE "
                   "(`-` or none: stdout, which at most one may use)")
    p.add_argument("-o", "--output", metavar="FILE", help="write the report here instead of stdout "
                   "(with exactly one --format)")
    p.add_argument("--config", metavar="FILE", help="policycheck.yaml (default: ./policycheck.yaml, "
                   "else [tool.policycheck] in ./pyproject.toml)")
    p.add_argument("--profile", metavar="NAME", help="profile for every overlay (default: chosen by path)")
    p.add_argument("--kube-version", metavar="X.Y", help=f"target Kubernetes (default {DEFAULT_KUBE_VERSION})")
    p.add_argument("--fail-on", choices=("error", "warning"), default="error")
    add_render_options(p, "limit of each overlay's whole check: render, rules and Rego")
    p.add_argument("--conftest", metavar="PATH", help="conftest binary for the Rego house rules (default: PATH)")
    p.add_argument("--require-conftest", action="store_true",
                   help="fail (exit 2) when the Rego stage cannot run; implied when CI=true")
    p.add_argument("--select", action="append", metavar="RULE[,RULE]",
                   help="run only these rules (built-in or house rule ids; repeatable)")
    p.add_argument("--require-objects", action="store_true",
                   help="an overlay that renders no objects is an error (default: a note)")
    p.add_argument("--base", metavar="REF", help="also check every overlay as it is at git revision REF (the "
                   "repository's tree at REF, never the work tree) with this tree's configuration and policies: "
                   "findings REF had are reported as baseline and only new ones fail; flag changes since REF that "
                   "the API server refuses (rule immutable-field)")
    p.add_argument("--shard", metavar="I/N", help="check only the I-th of N size-balanced shares of the overlays "
                   "(CI job matrices); `policycheck merge` joins the shards' JSON reports")
    p.add_argument("--no-cache", action="store_true",
                   help="neither read nor store results in the cache ($POLICYCHECK_CACHE, else "
                   "$XDG_CACHE_HOME/policycheck or ~/.cache/policycheck)")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="say which kustomize rendered and which kustomizations a search skipped")
    p.add_argument("--version", action="version", version=f"policycheck {__version__}")
    return p


def run() -> NoReturn:
    """The program (`policycheck`, `python -m policycheck`): ``main``, then out at once.

    Once every report is written and flushed nothing is left to do, but the interpreter's
    orderly shutdown (freeing every object, module by module) took about 60 ms of a 0.35 s
    run; os._exit skips it. Every file policycheck writes is closed by then, every temporary
    directory removed and every subprocess waited for.
    """
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, OSError):
        code = code or 2
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    # A run builds millions of small objects and few reference cycles: the cyclic collector's
    # default of a pass per 700 allocations spent a tenth of a large run walking them.
    gc.set_threshold(100_000, 50, 100)
    argv = list(sys.argv[1:] if argv is None else argv)
    for stream in (sys.stdout, sys.stderr):
        # A report must print whatever the locale's encoding (PYTHONIOENCODING=ascii).
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:
        if argv[:1] == ["rules"]:
            return _rules(argv[1:])
        if argv[:1] == ["explain"]:
            return _explain(argv[1:])
        if argv[:1] == ["merge"]:
            return _merge(argv[1:])
        if argv[:1] == ["diff"]:
            from policycheck import diff

            return diff.main(argv[1:])
        if argv[:1] == ["fix"]:
            from policycheck import fix

            return fix.main(argv[1:])
        return _check(check_parser().parse_args(argv))
    except PolicycheckError as exc:
        print(f"policycheck: {escape(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("policycheck: interrupted", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 2


def _rules(argv: list[str]) -> int:
    from policycheck.rules import REGISTRY

    p = _Parser(prog="policycheck rules", description="List the rule catalog.")
    p.add_argument("--format", choices=("text", "markdown"), default="text")
    args = p.parse_args(argv)
    if args.format == "markdown":
        sys.stdout.write(rules_markdown())
        return 0
    width = max(map(len, REGISTRY))
    for rule in REGISTRY.values():
        print(f"{rule.id:{width}}  {rule.default_level:7}  {rule.family:12}  {rule.summary}")
    return 0


def rules_markdown() -> str:
    from policycheck.rules import FAMILIES, REGISTRY

    out = ["# policycheck rules", "",
           "Generated by `policycheck rules --format markdown` (`make docs`); a test fails when it is stale.",
           "Levels are the defaults; profiles and `policycheck.yaml` change them.", ""]
    for family, title in FAMILIES.items():
        rules = [r for r in REGISTRY.values() if r.family == family]
        out += [f"## {title}", "", "| rule | default level | checks |", "|---|---|---|"]
        out += [f"| [`{r.id}`](#{r.id}) | {r.default_level} | {r.summary} |" for r in rules]
        out.append("")
    for rule in REGISTRY.values():
        family = FAMILIES[rule.family].lower()
        out += [f"## {rule.id}", "", f"Family: {family}. Default level: **{rule.default_level}**."]
        if rule.options:
            opts = ", ".join(f"`{k}` (default `{v!r}`)" for k, v in rule.options.items())
            out += ["", f"Options: {opts}."]
        out += ["", rule.doc.replace("## ", "### ")]
        out.append("")
    return "\n".join(out)


def _explain(argv: list[str]) -> int:
    p = _Parser(prog="policycheck explain", description="Print one rule's documentation.")
    p.add_argument("rule")
    from policycheck.rules import get

    rule = get(p.parse_args(argv).rule)
    print(f"{rule.id} ({rule.default_level}): {rule.summary}\n")
    print(rule.doc)
    return 0


# Bounds of numeric flags: finite, positive and not absurd.
MAX_TIMEOUT = 24 * 3600.0
MAX_MEMORY_MIB = 1024 * 1024


def add_render_options(p: argparse.ArgumentParser, timeout_help: str) -> None:
    """--kustomize, --timeout, --memory-limit and --allow-remote: the same for check, diff and fix."""
    p.add_argument("--kustomize", metavar="PATH", help="kustomize or kubectl binary to render with")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                   help=f"{timeout_help} (default {DEFAULT_TIMEOUT:g})")
    p.add_argument("--memory-limit", type=int, default=DEFAULT_MEMORY_MIB, metavar="MIB",
                   help=f"address-space cap of each render (default {DEFAULT_MEMORY_MIB})")
    p.add_argument("--allow-remote", action="store_true", help="let kustomize fetch remote bases")


def check_render_limits(args: argparse.Namespace) -> None:
    """A usage error (PolicycheckError) for a --timeout or --memory-limit out of bounds."""
    if not (math.isfinite(args.timeout) and 0 < args.timeout <= MAX_TIMEOUT):
        raise PolicycheckError(f"usage: --timeout must be a number of seconds above 0 and at most {MAX_TIMEOUT:g}")
    if not 1024 <= args.memory_limit <= MAX_MEMORY_MIB:
        # kustomize's Go runtime reserves about 1 GiB of address space at start.
        raise PolicycheckError(f"usage: --memory-limit must be between 1024 and {MAX_MEMORY_MIB} MiB")


def _check(args: argparse.Namespace) -> int:
    check_render_limits(args)
    args.outputs = _outputs(args)
    overlays, skipped = discover(args.paths or ["overlays"])
    shard = None
    if args.shard is not None:
        from policycheck import shard as sharding

        index, count = sharding.parse(args.shard)
        shard = {"index": index, "count": count, "overlays": [o.as_posix() for o in overlays]}
        # The overlays of a configured pair share a shard: the rules across overlays compare them.
        overlays = sharding.select(overlays, index, count, sharding.pair_groups(overlays, args.config))
    args.shard_info = shard
    args.revision = None
    if args.base is not None:  # a bad REF is a usage error before anything renders
        from policycheck import baseref

        args.revision = baseref.resolve(args.base)
        for overlay in overlays:
            args.revision.relative(overlay)
    kustomize = find_kustomize(args.kustomize)
    renders = start_renders(overlays, kustomize, timeout=args.timeout, memory_mib=args.memory_limit,
                            allow_remote=args.allow_remote, workers=RENDER_WORKERS if args.no_cache else 1)
    try:
        return _evaluate(args, overlays, skipped, kustomize, renders)
    finally:
        renders.shutdown()


def _evaluate(args: argparse.Namespace, overlays, skipped, kustomize, renders) -> int:  # noqa: ANN001
    # The renders run in subprocesses while configuration and the catalog load.
    from policycheck import check, config, conftest, schema

    cfg = config.load(args.config)
    kube_version = args.kube_version or cfg.kube_version or DEFAULT_KUBE_VERSION
    if kube_version not in schema.supported_versions():
        where = "--kube-version" if args.kube_version else f"{cfg.source}: kube-version:"
        raise PolicycheckError(
            f"{where} unsupported {escape(kube_version)} (have {', '.join(schema.supported_versions())})"
        )
    if args.profile:
        cfg.profile_for("", args.profile)  # an unknown profile is a usage error, before any render
    rego_settings = conftest.Settings.from_config(cfg.extra["conftest"], cfg.source or "config")
    required = args.require_conftest or os.environ.get("CI", "").lower() in ("1", "true", "yes")
    rego, skipped_rego = conftest.find(rego_settings, args.conftest, required)
    house_rules = frozenset(conftest.house_rule_ids(rego_settings)) if rego else frozenset()
    selected = _selected(args.select, house_rules)
    compare = args.revision is not None  # every finding is matched with the check at REF
    settings = check.Settings(
        kustomize=kustomize, config=cfg, kube_version=kube_version, profile=args.profile, timeout=args.timeout,
        memory_mib=args.memory_limit, allow_remote=args.allow_remote, rego=rego, rego_settings=rego_settings,
        house_rules=house_rules, require_objects=args.require_objects, select=selected, base=args.revision,
    )
    if args.verbose:
        for path, why in skipped:
            print(f"policycheck: skipped {escape(path)}: {why}", file=sys.stderr)
    from policycheck.rules import REGISTRY

    only_builtin = selected is not None and selected <= set(REGISTRY)  # the Rego stage is not asked for
    notes = [f"Rego stage skipped: {skipped_rego}"] if skipped_rego and not only_builtin else []
    results_cache = None
    if not args.no_cache:
        from policycheck.cache import Cache

        try:
            results_cache = Cache.for_settings(settings)
        except Exception as exc:  # noqa: BLE001 - the cache only saves time: without it the check still runs
            notes.append(f"result cache off: {escape(type(exc).__name__)} while hashing the policies and tools")
    if compare:
        report = _check_with_base(args, overlays, settings, renders=renders, notes=notes, results_cache=results_cache)
    else:
        report = check.check(overlays, settings, renders=renders, notes=notes, cache=results_cache)
    report.tool["version"] = __version__
    report.shard = args.shard_info
    if args.revision is not None:
        report.base = {"ref": args.revision.ref, "commit": args.revision.commit}
    if args.shard_info is not None and args.verbose:
        print(f"policycheck: shard {args.shard_info['index']}/{args.shard_info['count']}: {len(overlays)} of "
              f"{len(args.shard_info['overlays'])} overlays", file=sys.stderr)
    if args.verbose:
        print(f"policycheck {__version__}: rendered with {kustomize.description}", file=sys.stderr)
        if results_cache is not None:
            print(f"policycheck: {results_cache.hits} of {len(overlays)} overlay(s) from the cache "
                  f"({results_cache.root}), {results_cache.stored} stored", file=sys.stderr)
    return _finish(args, report)


def _check_with_base(args: argparse.Namespace, overlays, settings, *, renders, notes, results_cache):  # noqa: ANN001, ANN202
    """The check, with every overlay also rendered in the tree at --base REF (removed afterwards)."""
    from policycheck import baseline, baseref, check

    with baseref.materialise(args.revision, args.timeout) as tree:
        gone = baseline.removed(args.paths or ["overlays"], overlays if args.shard_info is None else
                                [Path(p) for p in args.shard_info["overlays"]], args.revision, tree)
        notes.extend(f"{path} existed at {args.revision.ref} and is removed: its findings there are gone"
                     for path in gone)
        base = baseref.BaseRenders(overlays, args.revision, tree, settings.kustomize, timeout=args.timeout,
                                   memory_mib=args.memory_limit, allow_remote=args.allow_remote,
                                   workers=RENDER_WORKERS if args.no_cache else 1)
        try:
            return check.check(overlays, settings, renders=renders, notes=notes, cache=results_cache, base=base)
        finally:
            base.shutdown()  # no kustomize left reading the tree when it is removed


def _finish(args: argparse.Namespace, report) -> int:  # noqa: ANN001 - report.Report
    """Write every report; the exit code (2 with one stderr line when an overlay could not be checked)."""
    _write(args, report)
    if report.errors:
        first = report.errors[0].error or ""
        if len(report.errors) == 1:
            raise PolicycheckError(first)
        raise PolicycheckError(f"{len(report.errors)} of {len(report.overlays)} overlays could not be checked; "
                               f"first: {first}")
    from policycheck import engine
    from policycheck.model import Severity

    return 1 if engine.failing(report.findings, Severity(args.fail_on)) else 0


def _merge(argv: list[str]) -> int:
    p = _Parser(prog="policycheck merge", description="Merge the JSON reports of `policycheck --shard I/N` runs "
                "(or of any runs over different overlays) into one report, with the exit code the unsharded "
                "run would have had.")
    p.add_argument("reports", nargs="+", metavar="REPORT.json")
    p.add_argument("--format", action="append", type=_format_spec, metavar="NAME[=FILE]",
                   help=f"report format: {', '.join(FORMATS)} (default text); repeatable, each to its own FILE")
    p.add_argument("-o", "--output", metavar="FILE", help="write the report here (with exactly one --format)")
    p.add_argument("--fail-on", choices=("error", "warning"), default="error")
    args = p.parse_args(argv)
    args.outputs = _outputs(args)
    from policycheck import merge

    return _finish(args, merge.merge([(path, merge.read(path)) for path in args.reports]))


def _selected(raw: list[str] | None, house_rules: frozenset[str]) -> frozenset[str] | None:
    if not raw:
        return None
    from policycheck.rules import REGISTRY

    ids = frozenset(part.strip() for item in raw for part in item.split(",") if part.strip())
    unknown = sorted(ids - set(REGISTRY) - house_rules)
    if unknown or not ids:
        raise PolicycheckError(f"usage: --select: unknown rule {escape(unknown[0]) if unknown else '(none given)'} "
                               "(`policycheck rules` lists them)")
    return ids


def _render(fmt: str, report, args: argparse.Namespace, to_stdout: bool) -> str:  # noqa: ANN001 - report.Report
    from policycheck.model import Severity

    if fmt == "json":
        from policycheck.report import json as json_report

        return json_report.render(report)
    if fmt == "sarif":
        from policycheck.report import sarif

        return sarif.render(report, docs_url=os.environ.get("POLICYCHECK_DOCS_URL") or sarif.DOCS_URL)
    if fmt == "junit":
        from policycheck.report import junit

        return junit.render(report, fail_on=Severity(args.fail_on))
    if fmt == "github":
        from policycheck.report import github

        return github.render(report)
    from policycheck.report import text as text_report

    color = to_stdout and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    return text_report.render(report, color=color)


def write_output(text: str, dest: str | None) -> None:
    """``text`` to stdout (dest None) or to the file ``dest``; a one-line PolicycheckError when the
    file cannot be written."""
    if dest is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        # backslashreplace: a lone surrogate from the input must not end the run
        Path(dest).write_text(text, encoding="utf-8", errors="backslashreplace")
    except OSError as exc:
        raise PolicycheckError(f"cannot write {escape(dest)}: {exc.strerror}") from None


def _write(args: argparse.Namespace, report) -> None:  # noqa: ANN001 - report.Report
    """Write every report: the files first, then the one for stdout; a file that cannot
    be written does not keep the others from being written."""
    outputs = getattr(args, "outputs", None) or _outputs(args)
    failed: list[str] = []
    for fmt, dest in sorted(outputs, key=lambda o: o[1] is None):
        try:
            write_output(_render(fmt, report, args, to_stdout=dest is None), dest)
        except PolicycheckError as exc:
            failed.append(str(exc))
    if failed:
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        raise PolicycheckError(failed[0] + more)
