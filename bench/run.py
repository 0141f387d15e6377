#!/usr/bin/env python3
"""Speed and memory of policycheck next to bare kustomize and Checkov.

    python bench/run.py [--runs N] [--overlay PATH] [--timeout S] [--no-install]
    python bench/run.py --monorepo N [--runs N] [--timeout S]

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

With --monorepo N it measures instead, on the synthetic monorepo that
bench/monorepo.py writes (generate(root, overlays=N, seed=1), once, into a
temporary directory):

1. render, sequential   every overlay of its manifest, good and broken, one
                        after the other, with the same kustomize as above
2. render, 2 workers    the same renders, two at a time (the fair baseline on
                        2 cores)
3. policycheck          `python -m policycheck TREE --format json`, exit 2
                        expected while the tree has broken overlays

Both render baselines and policycheck run with HTTP(S)_PROXY pointing at a
closed local port, so that a remote base fails at once and offline. Every run
is checked against the manifest (each good overlay renders, or is reported
without error and with its object count; each broken one fails, or is reported
with an error). The ratios are policycheck over each baseline; the target,
policycheck / parallel render < 1, is reported, never asserted.

Results are printed as a table and written to bench/results.json. This is a
measurement, not a test: targets are reported, never asserted. Exit code 0,
or 1 if a tool crashed, timed out or (monorepo) disagreed with the manifest.

Standard library only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
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

# --monorepo: the tree bench/monorepo.py writes, the baseline's pool, and the target of issue 9.
MONOREPO_SEED = 1
RENDER_WORKERS = 2
TARGET_POLICYCHECK_OVER_PARALLEL_RENDER = 1.0  # below: "faster than rendering on a monorepo"
# A remote base must fail at once and offline: every fetch goes to a closed local port.
OFFLINE_ENV = {name: "http://127.0.0.1:9" for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy")}
OFFLINE_ENV |= {"NO_PROXY": "", "no_proxy": "", "GIT_TERMINAL_PROMPT": "0"}


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
    last_stderr: bytes = b""


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
    tool.last_stderr = stderr


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
    return f"{objects} objects, {len(data.get('findings', []))} findings, {rego_stage(data)[1]}"


def rego_stage(data: dict[str, Any]) -> tuple[str | None, str]:
    """(conftest version or None, what the report says of the Rego stage)."""
    conftest = (data.get("tool") or {}).get("conftest")
    # The Rego stage runs only when conftest is on PATH; say which case was timed.
    if conftest:
        return conftest, f"Rego stage with conftest {conftest}"
    why = [n.split(":", 1)[1].split("(")[0].strip() for n in data.get("notes", []) if n.startswith("Rego stage")]
    return None, f"Rego stage skipped ({why[0]})" if why and why[0] else "Rego stage skipped"


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
    p.add_argument("--overlay", metavar="PATH",
                   help="overlay to render and check (default overlays/prod of this repository)")
    p.add_argument("--monorepo", type=int, metavar="N",
                   help="instead: time policycheck against rendering every overlay of a synthetic monorepo of "
                        "N overlays (bench/monorepo.py)")
    p.add_argument("--timeout", type=float, default=300.0, metavar="S", help="limit of each single run (default 300)")
    p.add_argument("--python", metavar="PATH", help="interpreter with policycheck installed (default .venv/bin/python)")
    p.add_argument("--no-install", action="store_true",
                   help="do not create bench/.venv-checkov; skip checkov if absent")
    p.add_argument("--output", default=str(RESULTS), metavar="FILE", help="JSON results (default bench/results.json)")
    args = p.parse_args(argv)
    if args.runs < 1 or args.timeout <= 0:
        p.error("--runs must be at least 1 and --timeout positive")
    if args.monorepo is not None and (args.monorepo < 1 or args.overlay):
        p.error("--monorepo takes a number of overlays, at least 1, and no --overlay")
    args.overlay = args.overlay or "overlays/prod"
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.monorepo is not None:
        return main_monorepo(args)
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


def print_table(tools: list[Tool], width: int) -> None:
    """Median, min and peak RSS of each tool, or its error."""
    print(f"{'tool':<{width}} {'median s':>9} {'min s':>9} {'peak RSS MiB':>13}  version / result")
    print("-" * (width + 66))
    for tool in tools:
        if tool.error or not tool.samples:
            print(f"{tool.name:<{width}} {'ERROR':>9}  {tool.error}")
            continue
        s = stats(tool)
        detail = tool.version + (f"; {tool.note}" if tool.note else "")
        print(f"{tool.name:<{width}} {s['median_s']:>9.3f} {s['min_s']:>9.3f} {s['peak_rss_mib']:>13.1f}  {detail}")


def shown(v: float | None) -> str:
    """A ratio as the tables print it."""
    return "n/a" if v is None else f"{v:.2f}x"


def report(o: Outcome) -> None:
    tools, checkov_missing = o.tools, o.checkov_missing
    pk, cp = o.policycheck_over_kustomize, o.checkov_over_policycheck
    print(f"\noverlay {o.overlay}, median of {o.runs} runs after 1 warm-up, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, 1-min load {o.load['before']:g} before / {o.load['after']:g} after\n")
    print_table(tools, 12)
    if checkov_missing:
        print(f"{'checkov':<12} {'-':>9}  not measured: {checkov_missing}")
    print()
    print(f"policycheck / kustomize = {shown(pk):>7}   target <= {TARGET_POLICYCHECK_OVER_KUSTOMIZE:g}x: "
          f"{verdict(pk, TARGET_POLICYCHECK_OVER_KUSTOMIZE, True)}")
    print(f"checkov / policycheck   = {shown(cp):>7}   target >= {TARGET_CHECKOV_OVER_POLICYCHECK:g}x: "
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
    write_results(path, data)



def write_results(path: Path, data: dict) -> None:
    """The results JSON, and where it went (a failure to write is reported, not raised)."""
    try:
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        print(f"bench: cannot write {path}: {exc.strerror}", file=sys.stderr)
        return
    shown = path.resolve()
    print(f"\nresults written to {shown.relative_to(ROOT) if shown.is_relative_to(ROOT) else shown}")


# --------------------------------------------------------------------------- monorepo


def load_generator() -> ModuleType:
    """bench/monorepo.py as a module (run.py may be started from anywhere)."""
    spec = importlib.util.spec_from_file_location("bench_monorepo", BENCH / "monorepo.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"bench: cannot load {BENCH / 'monorepo.py'}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@dataclass
class Tree:
    """The generated monorepo: its root and what its manifest says of each overlay."""

    root: Path
    size: int  # overlays asked for
    expected: dict[str, int | None]  # overlay -> objects it renders, None when it is broken
    components: int
    bases: int
    files: int
    generate_s: float

    @property
    def overlays(self) -> list[str]:
        return sorted(self.expected)

    @property
    def good(self) -> list[str]:
        return [o for o in self.overlays if self.expected[o] is not None]

    @property
    def broken(self) -> list[str]:
        return [o for o in self.overlays if self.expected[o] is None]


def make_tree(root: Path, size: int) -> Tree:
    start = time.perf_counter()
    manifest = load_generator().generate(root, overlays=size, seed=MONOREPO_SEED)
    elapsed = time.perf_counter() - start
    expected: dict[str, int | None] = {o: manifest.objects[o] for o in manifest.good}
    expected |= dict.fromkeys(manifest.broken)
    files = sum(1 for p in root.rglob("*") if p.is_file())
    return Tree(root, size, expected, len(manifest.components), len(manifest.bases), files, elapsed)


def documents(text: bytes) -> int:
    """Objects in a kustomize render: it separates them with `---` lines."""
    return text.count(b"\n---\n") + 1 if text.strip() else 0


def render_all(tool: Tool, tree: Tree, workers: int, timeout: float) -> None:
    """One run: every overlay of the tree rendered, `workers` at a time; one Sample for all of them.

    Broken overlays fail, as they should; a good one that fails, renders another number of objects
    than the manifest says, or a broken one that renders, is the tool's error. Outputs are checked
    after the clock stops. Peak RSS is the largest single render.
    """
    if tool.error:
        return

    def one(overlay: str) -> tuple[Sample, bytes, bytes]:
        return run_once([*tool.argv, overlay], tool.cwd, tool.env, timeout)

    overlays = tree.overlays
    start = time.perf_counter()
    try:
        if workers == 1:
            results = [one(o) for o in overlays]
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                results = list(pool.map(one, overlays))
    except (OSError, ToolError) as exc:
        tool.error = str(exc)
        return
    elapsed = time.perf_counter() - start
    failed = 0
    for overlay, (sample, stdout, stderr) in zip(overlays, results, strict=True):
        want = tree.expected[overlay]
        if sample.returncode != 0:
            failed += 1
            if want is not None:
                tool.error = f"{overlay}: exit code {sample.returncode}, expected to render: {tail(stderr)}"
                return
        elif want is None:
            tool.error = f"{overlay}: rendered, but the manifest says it is broken"
            return
        elif documents(stdout) != want:
            tool.error = f"{overlay}: {documents(stdout)} objects, the manifest says {want}"
            return
    tool.samples.append(Sample(elapsed, max(s.maxrss_kib for s, _, _ in results), 0))
    tool.note = f"{len(overlays) - failed} rendered, {failed} failed (broken, as expected)"


def check_report(tool: Tool, tree: Tree) -> dict[str, Any] | None:
    """What policycheck's last run reported, or None (and tool.error) when it disagrees with the manifest."""
    if tool.error:
        return None
    if b"Traceback" in tool.last_stderr:
        tool.error = f"traceback on stderr: {tail(tool.last_stderr)}"
        return None
    data = json.loads(tool.last_output)
    reported: dict[str, dict[str, Any]] = {}
    for entry in data.get("overlays", []):
        # Paths are relative to policycheck's working directory; the manifest's to the tree.
        path = Path(os.path.relpath((tool.cwd / entry["path"]).resolve(), tree.root)).as_posix()
        reported[path] = entry
    problems = [f"{o}: not reported" for o in tree.overlays if o not in reported]
    problems += [f"{o}: reported, but not an overlay of the manifest" for o in reported if o not in tree.expected]
    for overlay, want in tree.expected.items():
        got = reported.get(overlay)
        if got is None:
            continue
        if want is None and not got.get("error"):
            problems.append(f"{overlay}: broken, but reported without an error")
        elif want is not None and got.get("error"):
            problems.append(f"{overlay}: {got['error']}")
        elif want is not None and got.get("objects") != want:
            problems.append(f"{overlay}: {got.get('objects')} objects, the manifest says {want}")
    if problems:
        tool.error = f"{len(problems)} overlay(s) disagree with the manifest; first: {problems[0]}"
        return None
    conftest, rego = rego_stage(data)
    errored = sum(1 for e in reported.values() if e.get("error"))
    summary = {
        "overlays_checked": len(reported),
        "overlays_errored": errored,
        "objects": sum(e.get("objects") or 0 for e in reported.values()),
        "findings": len(data.get("findings", [])),
        "rego_stage": {"ran": conftest is not None, "conftest": conftest, "note": rego},
    }
    tool.note = (f"{len(reported)} overlays, {errored} with an error, {summary['objects']} objects, "
                 f"{summary['findings']} findings, {rego}")
    return summary


def main_monorepo(args: argparse.Namespace) -> int:
    python = project_python(args.python)
    k_argv, k_version = kustomize_argv(python)
    env = {**os.environ, **OFFLINE_ENV}
    work = Path(tempfile.mkdtemp(prefix="policycheck-bench-monorepo-")).resolve()
    try:
        tree = make_tree(work / "tree", args.monorepo)
        print(f"bench: monorepo of {args.monorepo} overlays ({len(tree.good)} good, {len(tree.broken)} broken, "
              f"{tree.files} files) generated in {tree.generate_s:.2f} s", file=sys.stderr, flush=True)
        # Same kustomize, same environment, same working directory for all three; policycheck runs from the
        # repository root, so it reads this repository's policycheck.yaml and Rego policies (as make check does).
        sequential = Tool("render, sequential", k_argv, tree.root, (0,), env=env, version=k_version)
        parallel = Tool(f"render, {RENDER_WORKERS} workers", k_argv, tree.root, (0,), env=env, version=k_version)
        policycheck = Tool("policycheck", [str(python), "-m", "policycheck", str(tree.root), "--format", "json"],
                           ROOT, (2,) if tree.broken else (0, 1), env=env, json_output=True)
        policycheck.version = (probe([*policycheck.argv[:3], "--version"]) or "").strip()

        # Warm-up, not counted: one good overlay through each tool (fills policycheck's version cache
        # and the page cache; the tree itself was just written).
        if tree.good:
            one = tree.good[0]
            warm = [([*k_argv, one], tree.root),
                    ([*policycheck.argv[:3], str(tree.root / one), "--format", "json"], ROOT)]
            for argv, cwd in warm:
                try:
                    run_once(argv, cwd, env, args.timeout)
                except (OSError, ToolError):
                    pass  # the timed runs will say what is wrong

        load_before = os.getloadavg()[0]
        print(f"bench: 1 light warm-up + {args.runs} runs each, interleaved", file=sys.stderr, flush=True)
        summary: dict[str, Any] | None = None
        for i in range(args.runs):
            render_all(sequential, tree, 1, args.timeout)
            render_all(parallel, tree, RENDER_WORKERS, args.timeout)
            measure(policycheck, args.timeout)
            summary = check_report(policycheck, tree) or summary
            print(f"bench: run {i + 1}/{args.runs} done", file=sys.stderr, flush=True)
        load = {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)}
    finally:
        shutil.rmtree(work, ignore_errors=True)

    tools = [sequential, parallel, policycheck]
    outcome = MonorepoOutcome(tree, tools, args.runs, ratio(policycheck, parallel), ratio(policycheck, sequential),
                              summary, load)
    report_monorepo(outcome)
    write_monorepo_json(Path(args.output), outcome)
    return 1 if any(t.error for t in tools) else 0


@dataclass
class MonorepoOutcome:
    tree: Tree
    tools: list[Tool]  # sequential render, parallel render, policycheck
    runs: int
    over_parallel: float | None
    over_sequential: float | None
    policycheck: dict[str, Any] | None
    load: dict[str, float]


def met_monorepo(value: float | None) -> bool | None:
    return None if value is None else value < TARGET_POLICYCHECK_OVER_PARALLEL_RENDER


def report_monorepo(o: MonorepoOutcome) -> None:
    t = o.tree
    print(f"\nmonorepo of {t.size} overlays (seed {MONOREPO_SEED}): {len(t.good)} good, {len(t.broken)} broken, "
          f"{sum(n or 0 for n in t.expected.values())} objects, {t.files} files; median of {o.runs} runs after "
          f"a light warm-up, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"1-min load {o.load['before']:g} before / {o.load['after']:g} after\n")
    print_table(o.tools, 20)
    print()
    met = met_monorepo(o.over_parallel)
    verdict_text = "not measured" if met is None else "MET" if met else "NOT MET"
    print(f"policycheck / render, {RENDER_WORKERS} workers = {shown(o.over_parallel):>7}   "
          f"target < {TARGET_POLICYCHECK_OVER_PARALLEL_RENDER:g}x (faster than rendering): {verdict_text}")
    print(f"policycheck / render, sequential = {shown(o.over_sequential):>7}   (no target)")


def write_monorepo_json(path: Path, o: MonorepoOutcome) -> None:
    t = o.tree
    met = met_monorepo(o.over_parallel)
    tools: dict[str, Any] = {}
    for tool, key, workers in zip(o.tools, ("render_sequential", "render_parallel", "policycheck"),
                                  (1, RENDER_WORKERS, None), strict=True):
        entry: dict[str, Any] = {
            "command": [Path(tool.argv[0]).name, *tool.argv[1:], *(["OVERLAY"] if workers else [])],
            "version": tool.version,
            "result": tool.note,
            "error": tool.error,
            "samples_s": [round(s.seconds, 4) for s in tool.samples],
            "maxrss_mib": [round(s.maxrss_kib / 1024, 1) for s in tool.samples],
        }
        if workers:
            entry["workers"] = workers
        else:
            entry["command"] = [Path(tool.argv[0]).name, *tool.argv[1:3], "TREE", *tool.argv[4:]]
            entry.update(o.policycheck or {})
        if tool.samples and not tool.error:
            entry.update({k: round(v, 4) for k, v in stats(tool).items()})
        tools[key] = entry
    data: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).date().isoformat(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "load_1min": o.load},
        "commit": git_state(),
        "runs": o.runs,
        "warmup": "one good overlay through kustomize and policycheck",
        "monorepo": {
            "overlays": t.size,
            "seed": MONOREPO_SEED,
            "good": len(t.good),
            "broken": len(t.broken),
            "objects": sum(n or 0 for n in t.expected.values()),
            "orphan_components": t.components,
            "bases": t.bases,
            "files": t.files,
            "generate_s": round(t.generate_s, 3),
            "offline_env": OFFLINE_ENV,
            "tools": tools,
            "ratios": {
                "policycheck_over_parallel_render": {
                    "value": None if o.over_parallel is None else round(o.over_parallel, 3),
                    "target_below": TARGET_POLICYCHECK_OVER_PARALLEL_RENDER,
                    "met": met,
                },
                "policycheck_over_sequential_render": {
                    "value": None if o.over_sequential is None else round(o.over_sequential, 3),
                },
            },
        },
    }
    write_results(path, data)

if __name__ == "__main__":
    sys.exit(main())
