#!/usr/bin/env python3
"""Speed and memory of policycheck next to bare kustomize and Checkov.

    python bench/run.py [--runs N] [--overlay PATH] [--timeout S] [--no-install]

One run measures, on the same overlay:

1. kustomize       bare render (standalone `kustomize build` if on PATH, else
                   the project venv's `kubectl kustomize`, as policycheck picks)
2. policycheck     `python -m policycheck OVERLAY --format json` (defaults:
                   every rule, schema validation on)
3. checkov         `checkov -f rendered.yaml --framework kubernetes ...` on a
                   render made once beforehand (the render is not timed)

Each tool gets one warm-up run, then N timed runs; the runs are interleaved
(kustomize, policycheck, checkov, kustomize, ...) so that drift of the machine
hits every tool alike. Wall time is the median (and min) of the N runs. Peak
RSS is the largest ru_maxrss that os.wait4 reports for the tool's process over
all runs; on Linux that figure covers the process and the children it waited
for, as the largest single process, not a sum.

Checkov runs from its own venv, bench/.venv-checkov, created here from
bench/requirements-checkov.txt when missing; it never enters the project's
dependencies. If it cannot be installed the other two tools are still
reported, with the reason.

Results are printed as a table and written to bench/results.json. This is a
measurement, not a test: targets are reported, never asserted. Exit code 0,
or 1 if a tool crashed or timed out.

Standard library only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
CHECKOV_VENV = BENCH / ".venv-checkov"
CHECKOV_REQUIREMENTS = BENCH / "requirements-checkov.txt"
RESULTS = BENCH / "results.json"

TARGET_POLICYCHECK_OVER_KUSTOMIZE = 2.0  # at most
TARGET_CHECKOV_OVER_POLICYCHECK = 20.0  # at least
INSTALL_TIMEOUT = 1800.0
PROBE_TIMEOUT = 60.0

# Checkov, offline and quiet: no platform download, no update check.
CHECKOV_ENV = {"CKV_SKIP_PACKAGE_UPDATE_CHECK": "true", "BC_SKIP_MAPPING": "TRUE", "LOG_LEVEL": "WARNING"}


class ToolError(Exception):
    """A tool crashed or timed out."""


@dataclass
class Sample:
    seconds: float
    maxrss_kib: int
    returncode: int


@dataclass
class Tool:
    name: str
    argv: list[str]
    cwd: Path
    ok_codes: tuple[int, ...]
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    json_output: bool = False  # a JSON report on stdout tells a finding exit from a crash
    version: str = ""
    samples: list[Sample] = field(default_factory=list)
    error: str | None = None
    note: str | None = None
    last_output: bytes = b""


# --------------------------------------------------------------------------- running


def run_once(argv: list[str], cwd: Path, env: dict[str, str], timeout: float) -> tuple[Sample, bytes, bytes]:
    """Run argv to completion; wall time and ru_maxrss from os.wait4.

    Output goes to temporary files (no pipe to drain while waiting). The child
    leads its own process group so that a timeout kills all of it.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        fired = threading.Event()
        done = threading.Event()
        start = time.perf_counter()
        proc = subprocess.Popen(  # noqa: S603 - argv built here, no shell
            argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True
        )

        def kill() -> None:
            if done.is_set():
                return
            fired.set()
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

        timer = threading.Timer(timeout, kill)
        timer.daemon = True
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            done.set()
            timer.cancel()
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if fired.is_set():
        raise ToolError(f"timed out after {timeout:g}s")
    return Sample(elapsed, usage.ru_maxrss, proc.returncode), stdout, stderr


def measure(tool: Tool, timeout: float) -> None:
    """One run of tool, appended to its samples (or recorded as its error)."""
    if tool.error:
        return
    try:
        sample, stdout, stderr = run_once(tool.argv, tool.cwd, tool.env, timeout)
    except (OSError, ToolError) as exc:
        tool.error = str(exc)
        return
    if sample.returncode not in tool.ok_codes:
        tool.error = f"exit code {sample.returncode}: {tail(stderr)}"
        return
    if tool.json_output:
        try:
            json.loads(stdout)
        except ValueError:
            tool.error = f"exit code {sample.returncode} without a JSON report: {tail(stderr)}"
            return
    tool.samples.append(sample)
    tool.last_output = stdout


def tail(data: bytes, limit: int = 300) -> str:
    lines = [ln.strip() for ln in data.decode("utf-8", "replace").splitlines() if ln.strip()]
    text = " | ".join(lines[-3:]) if lines else "no error output"
    return text if len(text) <= limit else "..." + text[-limit:]


def probe(argv: list[str], timeout: float = PROBE_TIMEOUT, env: dict[str, str] | None = None) -> str | None:
    """stdout of a short command, or None when it fails."""
    try:
        out = subprocess.run(  # noqa: S603
            argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, env=env, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout if out.returncode == 0 else None


# --------------------------------------------------------------------------- tools


def project_python(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    venv = ROOT / ".venv" / "bin" / "python"
    return venv if venv.exists() else Path(sys.executable)


def kustomize_argv(python: Path) -> tuple[list[str], str]:
    """Same choice as policycheck: standalone kustomize on PATH, else kubectl of its venv."""
    standalone = shutil.which("kustomize")
    if standalone:
        out = probe([standalone, "version"]) or ""
        return [standalone, "build"], f"kustomize {out.strip()}"
    kubectl = shutil.which("kubectl", path=str(python.parent)) or shutil.which("kubectl")
    if not kubectl:
        raise SystemExit("bench: no kustomize on PATH and no kubectl in the project venv (run `make check` first)")
    version = ""
    out = probe([kubectl, "version", "--client", "-o", "json"])
    if out:
        try:
            version = json.loads(out).get("kustomizeVersion", "")
        except ValueError:
            pass
    return [kubectl, "kustomize"], f"kubectl kustomize {version}".strip()


def checkov_bin() -> Path:
    return CHECKOV_VENV / "bin" / "checkov"


def pinned_checkov() -> str | None:
    for raw in CHECKOV_REQUIREMENTS.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("checkov=="):
            return line.split("==", 1)[1].strip()
    return None


def checkov_version(env: dict[str, str]) -> str | None:
    if not checkov_bin().exists():
        return None
    out = probe([str(checkov_bin()), "--version"], env=env)
    return out.strip().splitlines()[-1] if out and out.strip() else None


def ensure_checkov(install: bool, env: dict[str, str]) -> tuple[str | None, str | None]:
    """(version, None) when checkov runs, else (None, why not)."""
    wanted = pinned_checkov()
    have = checkov_version(env)
    if have and (wanted is None or have == wanted):
        return have, None
    if not install:
        why = "not installed" if have is None else f"version {have} installed, {wanted} pinned"
        return None, f"checkov {why} in {CHECKOV_VENV.relative_to(ROOT)} and --no-install given"
    print(f"bench: installing checkov {wanted or ''} into {CHECKOV_VENV.relative_to(ROOT)} "
          "(a few minutes the first time)...", file=sys.stderr, flush=True)
    steps = []
    if not (CHECKOV_VENV / "bin" / "python").exists():
        steps.append([sys.executable, "-m", "venv", str(CHECKOV_VENV)])
    pip = [str(CHECKOV_VENV / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    steps.append([*pip, "install", "--quiet", "-r", str(CHECKOV_REQUIREMENTS)])
    for step in steps:
        try:
            out = subprocess.run(  # noqa: S603
                step, capture_output=True, timeout=INSTALL_TIMEOUT, stdin=subprocess.DEVNULL, check=False
            )
        except subprocess.TimeoutExpired:
            return None, f"install timed out after {INSTALL_TIMEOUT:g}s: {' '.join(step[:4])} ..."
        except OSError as exc:
            return None, f"install failed: {exc}"
        if out.returncode != 0:
            what = "venv" if "venv" in step else "pip install"
            return None, f"{what} failed: {tail(out.stderr)}"
    have = checkov_version(env)
    if not have:
        return None, "checkov installed but `checkov --version` does not run"
    return have, None


# --------------------------------------------------------------------------- summaries


def policycheck_summary(output: bytes) -> str | None:
    try:
        data = json.loads(output)
    except ValueError:
        return None
    objects = sum(o.get("objects", 0) for o in data.get("overlays", []))
    conftest = (data.get("tool") or {}).get("conftest")
    # The Rego stage runs only when conftest is on PATH; say which case was timed.
    if conftest:
        rego = f"Rego stage with conftest {conftest}"
    else:
        why = [n.split(":", 1)[1].split("(")[0].strip() for n in data.get("notes", []) if n.startswith("Rego stage")]
        rego = f"Rego stage skipped ({why[0]})" if why and why[0] else "Rego stage skipped"
    return f"{objects} objects, {len(data.get('findings', []))} findings, {rego}"


def checkov_summary(output: bytes) -> str | None:
    try:
        data = json.loads(output)
    except ValueError:
        return None
    reports = data if isinstance(data, list) else [data]
    passed = failed = resources = 0
    for report in reports:
        summary = report.get("summary", {}) if isinstance(report, dict) else {}
        passed += summary.get("passed", 0)
        failed += summary.get("failed", 0)
        resources += summary.get("resource_count", 0)
    return f"{resources} resources, {passed} checks passed, {failed} failed"


def stats(tool: Tool) -> dict[str, Any]:
    times = [s.seconds for s in tool.samples]
    return {
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
        "peak_rss_mib": max(s.maxrss_kib for s in tool.samples) / 1024,
    }


def ratio(num: Tool | None, den: Tool | None) -> float | None:
    if num is None or den is None or not num.samples or not den.samples or num.error or den.error:
        return None
    return statistics.median(s.seconds for s in num.samples) / statistics.median(s.seconds for s in den.samples)


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench/run.py", description="Time policycheck against kustomize and Checkov.")
    p.add_argument("--runs", type=int, default=7, metavar="N",
                   help="timed runs per tool after 1 warm-up (default 7)")
    p.add_argument("--overlay", default="overlays/prod", metavar="PATH",
                   help="overlay to render and check (default overlays/prod of this repository)")
    p.add_argument("--timeout", type=float, default=300.0, metavar="S", help="limit of each single run (default 300)")
    p.add_argument("--python", metavar="PATH", help="interpreter with policycheck installed (default .venv/bin/python)")
    p.add_argument("--no-install", action="store_true",
                   help="do not create bench/.venv-checkov; skip checkov if absent")
    p.add_argument("--output", default=str(RESULTS), metavar="FILE", help="JSON results (default bench/results.json)")
    args = p.parse_args(argv)
    if args.runs < 1 or args.timeout <= 0:
        p.error("--runs must be at least 1 and --timeout positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    overlay = Path(args.overlay)
    if not overlay.is_absolute():  # relative to the current directory, else to the repository root
        overlay = overlay.resolve() if overlay.is_dir() else ROOT / overlay
    if not overlay.is_dir():
        print(f"bench: {args.overlay}: no such directory", file=sys.stderr)
        return 1
    overlay_arg = os.path.relpath(overlay, ROOT)
    python = project_python(args.python)
    k_argv, k_version = kustomize_argv(python)

    kustomize = Tool("kustomize", [*k_argv, overlay_arg], ROOT, (0,), version=k_version)
    policycheck = Tool("policycheck", [str(python), "-m", "policycheck", overlay_arg, "--format", "json"], ROOT,
                       (0, 1), json_output=True)  # 1 = findings, 2 = error
    policycheck.version = (probe([*policycheck.argv[:3], "--version"]) or "").strip()
    tools = [kustomize, policycheck]

    work = Path(tempfile.mkdtemp(prefix="policycheck-bench-"))
    checkov: Tool | None = None
    checkov_missing: str | None = None
    try:
        ck_env = {**os.environ, **CHECKOV_ENV}
        ck_version, checkov_missing = ensure_checkov(not args.no_install, ck_env)
        if ck_version:
            # The render Checkov reads is made once, outside its timing.
            rendered = work / "rendered.yaml"
            try:
                sample, stdout, stderr = run_once(kustomize.argv, ROOT, kustomize.env, args.timeout)
            except (OSError, ToolError) as exc:
                sample, stdout, stderr = None, b"", str(exc).encode()
            if sample is None or sample.returncode != 0:
                checkov_missing = f"render for checkov failed: {tail(stderr)}"
            else:
                rendered.write_bytes(stdout)
                checkov = Tool(
                    "checkov",
                    [str(checkov_bin()), "-f", rendered.name, "--framework", "kubernetes", "--quiet", "--compact",
                     "-o", "json", "--skip-download"],
                    work,
                    (0, 1),  # 1 = failed checks; anything else is a crash
                    env=ck_env,
                    json_output=True,
                    version=ck_version,
                )
                tools.append(checkov)

        load_before = os.getloadavg()[0]
        print(f"bench: {overlay_arg}, 1 warm-up + {args.runs} runs each, interleaved", file=sys.stderr, flush=True)
        for tool in tools:  # warm-up, not counted
            measure(tool, args.timeout)
            tool.samples.clear()
        for i in range(args.runs):
            for tool in tools:
                measure(tool, args.timeout)
            print(f"bench: run {i + 1}/{args.runs} done", file=sys.stderr, flush=True)
        # Other work on the machine skews the figures: keep the load with them.
        load = {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)}
    finally:
        shutil.rmtree(work, ignore_errors=True)

    policycheck.note = policycheck_summary(policycheck.last_output)
    if checkov:
        checkov.note = checkov_summary(checkov.last_output)

    outcome = Outcome(tools, args.runs, overlay_arg, ratio(policycheck, kustomize), ratio(checkov, policycheck),
                      checkov_missing, load)
    report(outcome)
    write_json(Path(args.output), outcome)
    return 1 if any(t.error for t in tools) else 0


def git_state() -> str | None:
    """HEAD of the repository, marked dirty when policycheck/ has local changes."""
    head = probe(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    if not head:
        return None
    dirty = probe(["git", "-C", str(ROOT), "status", "--porcelain", "--", "policycheck", "pyproject.toml"])
    return head.strip() + ("+dirty" if dirty and dirty.strip() else "")


def verdict(value: float | None, target: float, at_most: bool) -> str:
    if value is None:
        return "not measured"
    met = value <= target if at_most else value >= target
    return "MET" if met else "NOT MET"


@dataclass
class Outcome:
    tools: list[Tool]
    runs: int
    overlay: str
    policycheck_over_kustomize: float | None
    checkov_over_policycheck: float | None
    checkov_missing: str | None
    load: dict[str, float]


def report(o: Outcome) -> None:
    tools, checkov_missing = o.tools, o.checkov_missing
    pk, cp = o.policycheck_over_kustomize, o.checkov_over_policycheck
    print(f"\noverlay {o.overlay}, median of {o.runs} runs after 1 warm-up, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, 1-min load {o.load['before']:g} before / {o.load['after']:g} after\n")
    print(f"{'tool':<12} {'median s':>9} {'min s':>9} {'peak RSS MiB':>13}  version / result")
    print("-" * 78)
    for tool in tools:
        if tool.error or not tool.samples:
            print(f"{tool.name:<12} {'ERROR':>9}  {tool.error}")
            continue
        s = stats(tool)
        detail = tool.version + (f"; {tool.note}" if tool.note else "")
        print(f"{tool.name:<12} {s['median_s']:>9.3f} {s['min_s']:>9.3f} {s['peak_rss_mib']:>13.1f}  {detail}")
    if checkov_missing:
        print(f"{'checkov':<12} {'-':>9}  not measured: {checkov_missing}")
    print()

    def fmt(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.2f}x"

    print(f"policycheck / kustomize = {fmt(pk):>7}   target <= {TARGET_POLICYCHECK_OVER_KUSTOMIZE:g}x: "
          f"{verdict(pk, TARGET_POLICYCHECK_OVER_KUSTOMIZE, True)}")
    print(f"checkov / policycheck   = {fmt(cp):>7}   target >= {TARGET_CHECKOV_OVER_POLICYCHECK:g}x: "
          f"{verdict(cp, TARGET_CHECKOV_OVER_POLICYCHECK, False)}")


def write_json(path: Path, o: Outcome) -> None:
    pk, cp = o.policycheck_over_kustomize, o.checkov_over_policycheck
    data: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).date().isoformat(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "load_1min": o.load},
        "commit": git_state(),
        "overlay": o.overlay,
        "runs": o.runs,
        "warmup": 1,
        "tools": {},
        "ratios": {
            "policycheck_over_kustomize": {
                "value": None if pk is None else round(pk, 3),
                "target_at_most": TARGET_POLICYCHECK_OVER_KUSTOMIZE,
                "met": None if pk is None else pk <= TARGET_POLICYCHECK_OVER_KUSTOMIZE,
            },
            "checkov_over_policycheck": {
                "value": None if cp is None else round(cp, 3),
                "target_at_least": TARGET_CHECKOV_OVER_POLICYCHECK,
                "met": None if cp is None else cp >= TARGET_CHECKOV_OVER_POLICYCHECK,
            },
        },
        "checkov_missing": o.checkov_missing,
    }
    for tool in o.tools:
        entry: dict[str, Any] = {
            "command": [Path(tool.argv[0]).name, *tool.argv[1:]],
            "version": tool.version,
            "result": tool.note,
            "error": tool.error,
            "samples_s": [round(s.seconds, 4) for s in tool.samples],
            "maxrss_mib": [round(s.maxrss_kib / 1024, 1) for s in tool.samples],
        }
        if tool.samples and not tool.error:
            entry.update({k: round(v, 4) for k, v in stats(tool).items()})
        data["tools"][tool.name] = entry
    try:
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        print(f"bench: cannot write {path}: {exc.strerror}", file=sys.stderr)
        return
    shown = path.resolve()
    print(f"\nresults written to {shown.relative_to(ROOT) if shown.is_relative_to(ROOT) else shown}")


if __name__ == "__main__":
    sys.exit(main())
