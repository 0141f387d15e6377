#!/usr/bin/env python3
"""Speed of policycheck: every target of issue 9 ("Fast at every size"), measured in one run.

    python3 bench/run.py [--targets 1,2,3,4,5,6] [--runs 7] [--monorepo 150] [--monorepo-runs 3]
                         [--large-runs 3] [--configmaps 1000,4000] [--heavy-mib 1,4] [--shards 2,3]
    python3 bench/run.py --monorepo N [--monorepo-runs 3]   only the monorepo targets (3, 5, 6)
    python3 bench/run.py --checkov [--overlay PATH] [--runs N] [--no-install]
    python3 bench/run.py --update-readme [--output FILE] [--readme FILE]

The targets; every time is the median of runs interleaved with its baseline's in this same run, and
every target is reported with its measured value and PASS/FAIL, never asserted:

  1   policycheck on overlays/prod with the Rego stage on  <= 1.5x its bare render
  2   policycheck on a generated shop demo base (bench/inputs.py: 35 objects), no Rego stage
                                                            <= 2x its bare render
  3a  one policycheck run on the synthetic monorepo (bench/monorepo.py: 150 overlays, ~2,500 objects,
      multi-megabyte CRDs, broken overlays)                 <= 0.7x rendering its overlays one after another
  3b  that run's peak RSS                                   <= 300 MiB
  3c  its heaviest CRD overlay checked alone                <= 1.5x its bare render
  4   4,000 ConfigMaps against 1,000, Rego stage on         time ratio <= 4.5
  5a  a warm-cache run of the monorepo                      <= 0.1x its sequential render
  5b  the warm report                                       equal to the cold one
  6   the monorepo in N = 2 and 3 shards, merged            equal to the unsharded report (balance reported)

The bare render is `kustomize build` when a standalone kustomize is on PATH, else the project venv's
`kubectl kustomize` (the choice policycheck makes). Each policycheck run gets `--no-cache` (when it has
the flag) except the warm runs of target 5, which use a fresh cache directory of their own; no run ever
touches the user's cache (POLICYCHECK_CACHE points into a temporary directory). conftest comes from
hack/install-conftest.sh (built once into its cache); without it targets 1 and 4 are "not measured".

Results go to stdout and to bench/results.json; `--update-readme` then rewrites the table between the
`<!-- speed:begin -->` and `<!-- speed:end -->` markers of README.md from that file (bench/speed_table.py).
Exit code 0, or 1 if a tool crashed, timed out or disagreed with what the generated inputs hold.

--checkov keeps the older single-overlay comparison: bare kustomize, policycheck and Checkov (from its own
venv, bench/.venv-checkov, made from bench/requirements-checkov.txt) on one overlay.

Standard library only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
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
README = ROOT / "README.md"
CONFTEST_INSTALLER = ROOT / "hack" / "install-conftest.sh"

# The targets of issue 9: each value must be at most its limit.
LIMITS = {"1": 1.5, "2": 2.0, "3a": 0.7, "3b": 300.0, "3c": 1.5, "4": 4.5, "5a": 0.1}
ALL_TARGETS = ("1", "2", "3", "4", "5", "6")
MONOREPO_TARGETS = ("3", "5", "6")
MONOREPO_SIZE = 150
MONOREPO_SEED = 1
RENDER_WORKERS = 2
TARGET_CHECKOV_OVER_POLICYCHECK = 20.0  # --checkov: at least
INSTALL_TIMEOUT = 1800.0
PROBE_TIMEOUT = 60.0

# Checkov, offline and quiet: no platform download, no update check.
CHECKOV_ENV = {"CKV_SKIP_PACKAGE_UPDATE_CHECK": "true", "BC_SKIP_MAPPING": "TRUE", "LOG_LEVEL": "WARNING"}
# A remote base must fail at once and offline: every fetch goes to a closed local port.
OFFLINE_ENV = {name: "http://127.0.0.1:9" for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy")}
OFFLINE_ENV |= {"NO_PROXY": "", "no_proxy": "", "GIT_TERMINAL_PROMPT": "0"}
# Not in the environment of a timed run: PYTHONDONTWRITEBYTECODE makes every run compile policycheck
# afresh, and CI=true turns a missing Rego stage into an error.
DROPPED_ENV = ("PYTHONDONTWRITEBYTECODE", "CI")


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


def median(tool: Tool) -> float:
    return statistics.median(s.seconds for s in tool.samples)


def tool_entry(tool: Tool) -> dict[str, Any]:
    """What results.json keeps of a tool: its command, every sample and the summary figures."""
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
    return entry


def git_state() -> str | None:
    """HEAD of the repository, marked dirty when policycheck/ has local changes."""
    head = probe(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    if not head:
        return None
    dirty = probe(["git", "-C", str(ROOT), "status", "--porcelain", "--", "policycheck", "pyproject.toml"])
    return head.strip() + ("+dirty" if dirty and dirty.strip() else "")


def machine(load: dict[str, float]) -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "load_1min": load}


def write_results(path: Path, data: dict) -> None:
    """The results JSON, and where it went (a failure to write is reported, not raised)."""
    try:
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        print(f"bench: cannot write {path}: {exc.strerror}", file=sys.stderr)
        return
    shown = path.resolve()
    print(f"\nresults written to {shown.relative_to(ROOT) if shown.is_relative_to(ROOT) else shown}")


def sibling(name: str) -> ModuleType:
    """bench/<name>.py as the module bench_<name> (run.py may be started from anywhere)."""
    key = f"bench_{name}"
    if key in sys.modules:
        return sys.modules[key]
    spec = importlib.util.spec_from_file_location(key, BENCH / f"{name}.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"bench: cannot load {BENCH / name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[key] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def progress(text: str) -> None:
    print(f"bench: {text}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- what the suite runs with


def find_conftest(install: bool) -> tuple[str | None, str | None, str | None]:
    """(directory holding conftest, its version, None), or (None, None, why there is none).

    hack/install-conftest.sh prints the directory of the pinned conftest, building it once into its
    cache; with install False (--no-install) only a conftest already on PATH counts.
    """
    why = "not on PATH, and --no-install keeps hack/install-conftest.sh from building it"
    if install:
        progress("looking for conftest with hack/install-conftest.sh (it builds conftest the first time)")
        try:
            out = subprocess.run(  # noqa: S603
                ["bash", str(CONFTEST_INSTALLER)], capture_output=True, timeout=INSTALL_TIMEOUT,
                stdin=subprocess.DEVNULL, check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            why = f"hack/install-conftest.sh: {exc}"
        else:
            lines = out.stdout.decode("utf-8", "replace").strip().splitlines()
            if out.returncode == 0 and lines and (Path(lines[-1]) / "conftest").is_file():
                directory = lines[-1]
                return directory, conftest_version(Path(directory) / "conftest"), None
            why = f"hack/install-conftest.sh exit code {out.returncode}: {tail(out.stderr)}"
    found = shutil.which("conftest")
    if found:
        return str(Path(found).parent), conftest_version(Path(found)), None
    return None, None, why


def conftest_version(binary: Path) -> str | None:
    out = probe([str(binary), "--version"])
    first = out.strip().splitlines()[0] if out and out.strip() else ""
    return first.split(":", 1)[1].strip() if ":" in first else first or None


def timed_env(conftest_dir: str | None, cache: Path) -> dict[str, str]:
    """The environment of every timed run, baselines included."""
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
    env |= OFFLINE_ENV
    env["POLICYCHECK_CACHE"] = str(cache)  # never the user's cache
    if conftest_dir:
        env["PATH"] = conftest_dir + os.pathsep + env.get("PATH", "")
    return env


@dataclass
class Features:
    """What this policycheck can do of issue 9's interface."""

    no_cache: bool = False  # --no-cache, so a result cache
    shard: bool = False  # --shard I/N
    merge: bool = False  # the `merge` subcommand


def policycheck_features(python: Path, env: dict[str, str]) -> Features:
    main_help = probe([str(python), "-m", "policycheck", "--help"], env=env) or ""
    merge_help = probe([str(python), "-m", "policycheck", "merge", "--help"], env=env) or ""
    usage = merge_help.split("\n\n", 1)[0]  # the subcommand's own usage names it; the main one does not
    return Features(no_cache="--no-cache" in main_help, shard="--shard" in main_help,
                    merge=re.search(r"^usage:.*\bmerge\b", usage) is not None)


@dataclass
class Bench:
    """One run of the suite: its settings and the tools it found."""

    args: argparse.Namespace
    python: Path
    kustomize: list[str]
    kustomize_version: str
    conftest: str | None  # version; None when there is no conftest
    conftest_missing: str | None
    features: Features
    env: dict[str, str]
    work: Path

    def policycheck(self, *paths: str, cache: bool = False, extra: tuple[str, ...] = ()) -> list[str]:
        """argv of `python -m policycheck PATH... [--no-cache] --format json`."""
        no_cache = ["--no-cache"] if self.features.no_cache and not cache else []
        return [str(self.python), "-m", "policycheck", *paths, *no_cache, *extra, "--format", "json"]


# --------------------------------------------------------------------------- targets

PASS, FAIL, NOT_MEASURED = "PASS", "FAIL", "not measured"


@dataclass
class Target:
    """One line of the target table."""

    id: str
    title: str
    measure: str  # what the value is
    limit: float | None = None  # the value must be at most this; None: a yes/no target
    unit: str = "x"  # "x": a ratio of medians, "MiB": a peak RSS, "": yes or no
    value: float | None = None
    equal: bool | None = None  # yes/no targets
    status: str = NOT_MEASURED
    reason: str | None = None  # why not measured, or what failed
    error: bool = False  # a tool crashed, timed out or disagreed with its input
    policycheck_s: float | None = None  # median of the timed side
    baseline_s: float | None = None  # median of what it is compared with
    baseline: str = ""  # what that is
    info: dict[str, Any] = field(default_factory=dict)

    def result(self, value: float) -> None:
        self.value = value
        self.status = PASS if self.limit is not None and value <= self.limit else FAIL

    def verdict(self, equal: bool, why: str | None = None) -> None:
        self.equal = equal
        self.status = PASS if equal else FAIL
        self.reason = None if equal else why

    def not_measured(self, why: str) -> None:
        self.status, self.reason = NOT_MEASURED, why

    def failed(self, why: str) -> None:
        self.status, self.reason, self.error = FAIL, why, True

    def as_json(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "info"}
        for key in ("value", "policycheck_s", "baseline_s"):
            if data[key] is not None:
                data[key] = round(data[key], 4)
        return data | {"info": self.info}


def alternate(tools: list[Tool], runs: int, timeout: float, warmup: list[Tool] | None = None) -> None:
    """One warm-up run of each tool of `warmup` (default: all), then `runs` rounds in turn."""
    for tool in tools if warmup is None else warmup:
        measure(tool, timeout)
        tool.samples.clear()
    for _ in range(runs):
        for tool in tools:
            measure(tool, timeout)


def judge_ratio(target: Target, timed: Tool, baseline: Tool) -> bool:
    """target.value = median(timed) / median(baseline); False (and the target failed) on a tool error."""
    target.info.setdefault("tools", {}).update({t.name: tool_entry(t) for t in (baseline, timed)})
    for tool in (baseline, timed):
        if tool.error or not tool.samples:
            target.failed(f"{tool.name}: {tool.error or 'no samples'}")
            return False
    target.policycheck_s, target.baseline_s = median(timed), median(baseline)
    target.result(target.policycheck_s / target.baseline_s)
    return True


def last_report(tool: Tool) -> dict[str, Any] | None:
    try:
        return json.loads(tool.last_output) if tool.samples else None
    except ValueError:
        return None


def check_single(tool: Tool, objects: int, rego: bool | None) -> str | None:
    """What is wrong with policycheck's last report of one overlay, or None: it has `objects` objects, no
    error, and its Rego stage ran (rego True) or did not (rego False)."""
    data = last_report(tool)
    if data is None:
        return "no JSON report"
    overlays = data.get("overlays") or []
    if len(overlays) != 1 or overlays[0].get("error"):
        return f"expected one overlay without error, got {overlays}"
    if overlays[0].get("objects") != objects:
        return f"{overlays[0].get('objects')} objects, the input has {objects}"
    conftest, rego_note = rego_stage(data)
    tool.note = f"{objects} objects, {len(data.get('findings', []))} findings, {rego_note}"
    if rego is not None and (conftest is not None) != rego:
        return f"expected the Rego stage {'on' if rego else 'off'}: {rego_note}"
    return None


def target_overlay(b: Bench) -> Target:
    """1: overlays/prod (or --overlay) with the Rego stage on, against its bare render."""
    overlay = b.args.overlay_arg
    target = Target("1", f"`{overlay}`, Rego stage on", "policycheck / bare render", LIMITS["1"],
                    baseline=b.kustomize_version)
    if b.conftest is None:
        target.not_measured(f"no conftest for the Rego stage: {b.conftest_missing}")
        return target
    progress(f"target 1: {overlay}, 1 warm-up + {b.args.runs} alternating pairs")
    kustomize = Tool("kustomize", [*b.kustomize, overlay], ROOT, (0,), env=b.env, version=b.kustomize_version)
    policycheck = Tool("policycheck", b.policycheck(overlay), ROOT, (0, 1), env=b.env, json_output=True)
    alternate([kustomize, policycheck], b.args.runs, b.args.timeout)
    rego_note = None
    if not policycheck.error:
        data = last_report(policycheck) or {}
        objects = sum(o.get("objects") or 0 for o in data.get("overlays", []))
        target.title += f" ({objects} objects)"
        policycheck.error = check_single(policycheck, objects, rego=None)
        conftest, rego_note = rego_stage(data)
        rego_note = None if conftest else rego_note
    if judge_ratio(target, policycheck, kustomize) and rego_note:
        target.not_measured(f"conftest was on PATH, but the report says: {rego_note}")
    return target


def target_demo(b: Bench) -> Target:
    """2: the shop demo base, run where there is no policies/ directory, so without the Rego stage."""
    root = b.work / "demo"
    objects = sibling("inputs").write_demo(root / "base")
    target = Target("2", f"shop demo base ({objects} objects, 11 Deployments), no Rego stage",
                    "policycheck / bare render", LIMITS["2"], baseline=b.kustomize_version)
    progress(f"target 2: demo base, 1 warm-up + {b.args.runs} alternating pairs")
    kustomize = Tool("kustomize", [*b.kustomize, "base"], root, (0,), env=b.env, version=b.kustomize_version)
    policycheck = Tool("policycheck", b.policycheck("base"), root, (0, 1), env=b.env, json_output=True)
    alternate([kustomize, policycheck], b.args.runs, b.args.timeout)
    if not policycheck.error:
        policycheck.error = check_single(policycheck, objects, rego=False)
    judge_ratio(target, policycheck, kustomize)
    return target


def target_linearity(b: Bench) -> list[Target]:
    """4: policycheck on SMALL and on LARGE ConfigMaps, Rego stage on; the limit scales with LARGE / SMALL."""
    small, large = b.args.configmaps
    limit = round(LIMITS["4"] * large / small / 4, 3)  # 4.5 for 4,000 against 1,000
    target = Target("4", f"{large:,} ConfigMaps against {small:,}, Rego stage on",
                    f"time({large}) / time({small})", limit, baseline=f"policycheck on {small:,} ConfigMaps")
    if b.conftest is None:
        target.not_measured(f"no conftest for the Rego stage: {b.conftest_missing}")
        return [target]
    inputs = sibling("inputs")
    tools: list[Tool] = []
    for count in (small, large):
        root = b.work / f"configmaps-{count}"
        inputs.write_configmaps(root, count)
        tools.append(Tool(f"render, {count}", [*b.kustomize, str(root)], ROOT, (0,), env=b.env,
                          version=b.kustomize_version))
        tools.append(Tool(f"policycheck, {count}", b.policycheck(str(root)), ROOT, (0, 1), env=b.env,
                          json_output=True))
    render_small, pc_small, render_large, pc_large = tools
    progress(f"target 4: {small} and {large} ConfigMaps, 1 warm-up of {small} + {b.args.large_runs} rounds")
    alternate(tools, b.args.large_runs, b.args.timeout, warmup=[render_small, pc_small])
    for tool, count in ((pc_small, small), (pc_large, large)):
        if not tool.error:
            tool.error = check_single(tool, count, rego=True)
    target.info["tools"] = {t.name: tool_entry(t) for t in tools}
    own = Target("4b", f"{large:,} ConfigMaps against {small:,}: policycheck's own time (kustomize replaced by "
                 "a `cat` of its render)", f"own({large}) / own({small})", limit,
                 baseline=f"policycheck on {small:,} ConfigMaps, render excluded")
    if judge_ratio(target, pc_large, pc_small) and render_small.samples and render_large.samples:
        target.info["render_ratio"] = round(median(render_large) / median(render_small), 3)
        target.info["policycheck_over_render"] = {str(small): round(median(pc_small) / median(render_small), 3),
                                                  str(large): round(median(pc_large) / median(render_large), 3)}
        # kustomize itself is not linear in objects (its render of 4,000 ConfigMaps takes about 20 times
        # its render of 1,000): what policycheck does with a render is timed on its own, with a stand-in
        # "kustomize" that prints the render the bare runs made.
        own_tools = []
        for count, render in ((small, render_small), (large, render_large)):
            root = b.work / f"configmaps-{count}"
            (root.parent / f"render-{count}.yaml").write_bytes(render.last_output)
            stand_in = root.parent / f"kustomize-{count}"
            stand_in.write_text(f"#!/bin/sh\nexec cat '{root.parent / f'render-{count}.yaml'}'\n", encoding="utf-8")
            stand_in.chmod(0o755)
            own_tools.append(Tool(f"policycheck without its render, {count}",
                                  b.policycheck(str(root), extra=("--kustomize", str(stand_in))), ROOT, (0, 1),
                                  env=b.env, json_output=True))
        progress(f"target 4b: {small} and {large} ConfigMaps, policycheck without its render, {b.args.large_runs} "
                 "rounds")
        alternate(own_tools, b.args.large_runs, b.args.timeout)
        for tool, count in zip(own_tools, (small, large), strict=True):
            if not tool.error:
                tool.error = check_single(tool, count, rego=True)
        judge_ratio(own, own_tools[1], own_tools[0])
    else:
        own.not_measured("target 4 was not measured")
    return [target, own]


# --------------------------------------------------------------------------- monorepo (targets 3, 5, 6)


@dataclass
class Tree:
    """The generated monorepo: its root and what its manifest says of each overlay."""

    root: Path
    size: int  # overlays asked for
    expected: dict[str, int | None]  # overlay -> objects it renders, None when it is broken
    heavy: dict[str, int]  # overlay -> bytes of the multi-megabyte CRDs it reads
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

    @property
    def objects(self) -> int:
        return sum(n or 0 for n in self.expected.values())


def make_tree(root: Path, size: int, heavy_mib: tuple[float, float] = (1.0, 4.0)) -> Tree:
    start = time.perf_counter()
    manifest = sibling("monorepo").generate(root, overlays=size, seed=MONOREPO_SEED, heavy_mib=heavy_mib)
    elapsed = time.perf_counter() - start
    expected: dict[str, int | None] = {o: manifest.objects[o] for o in manifest.good}
    expected |= dict.fromkeys(manifest.broken)
    files = sum(1 for p in root.rglob("*") if p.is_file())
    return Tree(root, size, expected, dict(manifest.heavy), len(manifest.components), len(manifest.bases), files,
                elapsed)


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


def first_difference(a: Any, b: Any, path: str = "report") -> str | None:
    """Where two parsed JSON documents first differ, or None when they are equal."""
    if type(a) is not type(b):
        return f"{path}: {type(a).__name__} against {type(b).__name__}"
    if isinstance(a, dict):
        for key in sorted(set(a) | set(b), key=str):
            if key not in a or key not in b:
                return f"{path}.{key}: only in the {'second' if key not in a else 'first'}"
            found = first_difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list):
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            found = first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None if len(a) == len(b) else f"{path}: {len(a)} items against {len(b)}"
    if a != b:
        left, right = json.dumps(a)[:80], json.dumps(b)[:80]
        return f"{path}: {left} against {right}"
    return None


@dataclass
class Run:
    """One policycheck run kept whole: its report and exit code."""

    report: dict[str, Any]
    returncode: int


def kept(tool: Tool) -> Run | None:
    data = last_report(tool)
    return None if data is None or tool.error else Run(data, tool.samples[-1].returncode)


def compare_runs(reference: Run, other: Run) -> str | None:
    """None when two runs reported the same and exited alike; else the first difference."""
    found = first_difference(reference.report, other.report)
    if found:
        return found
    if reference.returncode != other.returncode:
        return f"exit code {other.returncode}, the reference exited {reference.returncode}"
    return None


def monorepo_targets(b: Bench, which: set[str]) -> list[Target]:
    """3a/3b/3c, 5a/5b and 6 on one generated monorepo, its renders and runs interleaved."""
    args = b.args
    progress(f"monorepo of {args.monorepo_size} overlays: generating")
    tree = make_tree(b.work / "tree", args.monorepo_size, args.heavy_mib)
    what = (f"{len(tree.expected)} overlays, {tree.objects:,} objects, {len(tree.broken)} broken, "
            f"{len(tree.heavy)} with CRDs of up to {max(tree.heavy.values(), default=0) / 2**20:.1f} MiB")
    progress(f"monorepo: {what}, {tree.files} files, generated in {tree.generate_s:.2f} s")
    t3 = t5 = None
    targets: list[Target] = []
    if "3" in which:
        t3 = (Target("3a", f"monorepo, one run ({what})", "policycheck / sequential render", LIMITS["3a"],
                     baseline=f"{b.kustomize_version}, every overlay, one after another"),
              Target("3b", "monorepo: peak RSS of that run", "largest ru_maxrss of its process tree",
                     LIMITS["3b"], unit="MiB"),
              Target("3c", "monorepo: its heaviest CRD overlay alone", "policycheck / bare render", LIMITS["3c"],
                     baseline=b.kustomize_version))
        targets += t3
    if "5" in which:
        t5 = (Target("5a", "monorepo, warm result cache", "warm run / sequential render", LIMITS["5a"],
                     baseline=f"{b.kustomize_version}, every overlay, one after another"),
              Target("5b", "monorepo, warm report", "equal to the cold report", unit=""))
        targets += t5
        if not b.features.no_cache:
            for target in t5:
                target.not_measured("policycheck has no --no-cache (no result cache yet)")
            t5 = None
    t6: list[tuple[int, Target]] = []
    if "6" in which:
        for letter, n in zip("abcdefghij", args.shards, strict=False):
            target = Target(f"6{letter}", f"monorepo in {n} shards, merged", "equal to the unsharded report",
                            unit="")
            targets.append(target)
            missing = [what for what, have in (("--shard", b.features.shard), ("merge", b.features.merge))
                       if not have]
            if missing:
                target.not_measured(f"policycheck has no {' and no '.join(missing)}")
            else:
                t6.append((n, target))

    ok = (2,) if tree.broken else (0, 1)
    seq = Tool("render, sequential", list(b.kustomize), tree.root, (0,), env=b.env, version=b.kustomize_version)
    par = Tool(f"render, {RENDER_WORKERS} workers", list(b.kustomize), tree.root, (0,), env=b.env,
               version=b.kustomize_version)
    cold = Tool("policycheck", b.policycheck(str(tree.root)), ROOT, ok, env=b.env, json_output=True)
    warm_env = b.env | {"POLICYCHECK_CACHE": str(b.work / "cache-warm")}
    fill = Tool("policycheck, filling the cache", b.policycheck(str(tree.root), cache=True), ROOT, ok,
                env=warm_env, json_output=True)
    warm = Tool("policycheck, warm cache", fill.argv, ROOT, ok, env=warm_env, json_output=True)

    # Warm-up, not counted: one good overlay through kustomize and policycheck (the tree itself was just
    # written and is in the page cache).
    if tree.good:
        one = tree.good[0]
        for argv, cwd in (([*b.kustomize, one], tree.root), (b.policycheck(str(tree.root / one)), ROOT)):
            try:
                run_once(argv, cwd, b.env, args.timeout)
            except (OSError, ToolError):
                pass  # the timed runs will say what is wrong
    load_before = os.getloadavg()[0]
    if t5:
        progress("monorepo: one run to fill a fresh cache")
        measure(fill, args.timeout)
        check_report(fill, tree)
    needs_seq = bool(t3 or t5)
    rounds = args.monorepo_runs if needs_seq else 1  # shards only: one cold run as the reference
    summary: dict[str, Any] | None = None
    reference: Run | None = None
    warm_run: Run | None = None
    for i in range(rounds):
        progress(f"monorepo: round {i + 1}/{rounds}")
        if needs_seq:
            render_all(seq, tree, 1, args.timeout)
        if t3 and i == 0:  # extra information: once is enough
            render_all(par, tree, RENDER_WORKERS, args.timeout)
        if t3 or reference is None:
            measure(cold, args.timeout)
            summary = check_report(cold, tree) or summary
            reference = kept(cold) or reference
        if t5:
            measure(warm, args.timeout)
            check_report(warm, tree)
            warm_run = kept(warm) or warm_run
    load = {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)}

    info = {"tree": tree_info(tree), "load_1min": load}
    if t3:
        t3a, t3b, t3c = t3
        t3a.info |= info | {"policycheck": summary}
        if judge_ratio(t3a, cold, seq):
            if par.samples and not par.error:
                t3a.info["policycheck_over_parallel_render"] = round(median(cold) / median(par), 3)
        t3a.info["tools"][par.name] = tool_entry(par)
        if cold.samples and not cold.error:
            t3b.result(max(s.maxrss_kib for s in cold.samples) / 1024)
            t3b.info["maxrss_mib"] = [round(s.maxrss_kib / 1024, 1) for s in cold.samples]
        else:
            t3b.failed(f"policycheck: {cold.error}")
        heavy_overlay(b, tree, t3c)
    if t5:
        t5a, t5b = t5
        t5a.info |= info
        judge_ratio(t5a, warm, seq)
        t5a.info["tools"][fill.name] = tool_entry(fill)
        if reference is None or warm_run is None:
            t5b.failed(f"no report to compare: {cold.error or warm.error}")
        else:
            t5b.verdict(compare_runs(reference, warm_run) is None, compare_runs(reference, warm_run))
            filled = kept(fill)
            t5b.info["fill_equals_cold"] = None if filled is None else compare_runs(reference, filled) is None
            t5b.info["compared"] = "the whole JSON report and the exit code"
    for n, target in t6:
        if reference is None:
            target.failed(f"no unsharded report to compare with: {cold.error}")
        else:
            shards(b, tree, n, reference, target)
    return targets


def tree_info(tree: Tree) -> dict[str, Any]:
    return {"overlays": tree.size, "seed": MONOREPO_SEED, "good": len(tree.good), "broken": len(tree.broken),
            "objects": tree.objects, "heavy_crd_bytes": tree.heavy, "orphan_components": tree.components,
            "bases": tree.bases, "files": tree.files, "generate_s": round(tree.generate_s, 3)}


def heavy_overlay(b: Bench, tree: Tree, target: Target) -> None:
    """3c: the overlay that reads the most CRD bytes, checked alone, against its bare render."""
    if not tree.heavy:
        target.not_measured("the monorepo has no overlay with multi-megabyte CRDs")
        return
    overlay = max(tree.heavy, key=lambda o: (tree.heavy[o], o))
    objects = tree.expected[overlay] or 0
    target.title = (f"monorepo: its heaviest CRD overlay alone ({tree.heavy[overlay] / 2**20:.1f} MiB of CRDs, "
                    f"{objects} objects)")
    progress(f"target 3c: {overlay}, 1 warm-up + {b.args.large_runs} alternating pairs")
    render = Tool("render", [*b.kustomize, overlay], tree.root, (0,), env=b.env, version=b.kustomize_version)
    policycheck = Tool("policycheck", b.policycheck(str(tree.root / overlay)), ROOT, (0, 1), env=b.env,
                       json_output=True)
    alternate([render, policycheck], b.args.large_runs, b.args.timeout)
    if not policycheck.error:
        policycheck.error = check_single(policycheck, objects, rego=None)
    target.info["overlay"] = overlay
    judge_ratio(target, policycheck, render)


def shards(b: Bench, tree: Tree, n: int, reference: Run, target: Target) -> None:
    """6: `--shard I/N` for every I, then `merge`; equal to the unsharded run? And how even were they?

    Shards are numbered 1..N; if policycheck refuses N/N as a usage error they are taken as 0..N-1.
    """
    out = b.work / f"shards-{n}"
    out.mkdir()
    progress(f"target 6: {n} shards and a merge")
    problem = None
    for first in (1, 0):
        times: list[float] = []
        files: list[Path] = []
        reports: list[dict[str, Any]] = []
        problem = None
        usage = False
        for i in range(first, first + n):
            argv = b.policycheck(str(tree.root), extra=("--shard", f"{i}/{n}"))
            try:
                sample, stdout, stderr = run_once(argv, ROOT, b.env, b.args.timeout)
            except (OSError, ToolError) as exc:
                problem = f"shard {i}/{n}: {exc}"
                break
            try:
                reports.append(json.loads(stdout))
            except ValueError:
                usage = sample.returncode == 2 and b"shard" in stderr.lower()
                problem = f"shard {i}/{n}: exit code {sample.returncode} without a JSON report: {tail(stderr)}"
                break
            if sample.returncode not in (0, 1, 2) or b"Traceback" in stderr:
                problem = f"shard {i}/{n}: exit code {sample.returncode}: {tail(stderr)}"
                break
            files.append(out / f"shard-{i}.json")
            files[-1].write_bytes(stdout)
            times.append(sample.seconds)
        if not (usage and first == 1):
            break
    if problem:
        target.failed(problem)
        return
    argv = [str(b.python), "-m", "policycheck", "merge", *map(str, files), "--format", "json"]
    try:
        sample, stdout, stderr = run_once(argv, ROOT, b.env, b.args.timeout)
        merged = Run(json.loads(stdout), sample.returncode)
    except (OSError, ToolError) as exc:
        target.failed(f"merge: {exc}")
        return
    except ValueError:
        target.failed(f"merge: exit code {sample.returncode} without a JSON report: {tail(stderr)}")
        return
    paths = [[o.get("path") for o in r.get("overlays", [])] for r in reports]
    every = [p for shard in paths for p in shard]
    target.info = {
        "numbered_from": first,
        "shard_s": [round(t, 3) for t in times],
        "balance": round(max(times) / (sum(times) / n), 3),
        "merge_s": round(sample.seconds, 3),
        "overlays_per_shard": [len(p) for p in paths],
        "objects_per_shard": [sum(o.get("objects") or 0 for o in r.get("overlays", [])) for r in reports],
        "partition": len(every) == len(set(every)) and set(every) == {
            o.get("path") for o in reference.report.get("overlays", [])},
    }
    difference = compare_runs(reference, merged)
    target.verdict(difference is None, difference)
    target.value = target.info["balance"]


# --------------------------------------------------------------------------- the suite


def main_targets(args: argparse.Namespace) -> int:
    python = project_python(args.python)
    k_argv, k_version = kustomize_argv(python)
    needs_conftest = bool(set(args.targets) & {"1", "3", "4", "5", "6"})
    conftest_dir, conftest, conftest_missing = (find_conftest(not args.no_install) if needs_conftest
                                                else (None, None, "not needed by these targets"))
    work = Path(tempfile.mkdtemp(prefix="policycheck-bench-")).resolve()
    started = time.perf_counter()
    try:
        env = timed_env(conftest_dir, work / "cache")
        features = policycheck_features(python, env)
        version = (probe([str(python), "-m", "policycheck", "--version"], env=env) or "").strip()
        version = version.removeprefix("policycheck").strip()
        b = Bench(args, python, k_argv, k_version, conftest, conftest_missing, features, env, work)
        progress(f"targets {', '.join(args.targets)}; policycheck {version or '?'}, {k_version}, "
                 f"conftest {conftest or 'absent'}; --no-cache {'yes' if features.no_cache else 'no'}, "
                 f"--shard {'yes' if features.shard else 'no'}, merge {'yes' if features.merge else 'no'}")
        load_before = os.getloadavg()[0]
        targets: list[Target] = []
        if "1" in args.targets:
            targets.append(target_overlay(b))
        if "2" in args.targets:
            targets.append(target_demo(b))
        if "4" in args.targets:
            targets += target_linearity(b)
        if set(args.targets) & set(MONOREPO_TARGETS):
            targets += monorepo_targets(b, set(args.targets))
        load = {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    targets.sort(key=lambda t: (t.id[0], t.id))
    data: dict[str, Any] = {
        "kind": "targets",
        "date": dt.datetime.now(dt.UTC).date().isoformat(),
        "machine": machine(load),
        "commit": git_state(),
        "duration_s": round(time.perf_counter() - started, 1),
        "tools": {"policycheck": version, "kustomize": k_version, "conftest": conftest,
                  "conftest_missing": None if conftest else conftest_missing,
                  "features": features.__dict__},
        "settings": {"targets": list(args.targets), "runs": args.runs, "monorepo": args.monorepo_size,
                     "monorepo_runs": args.monorepo_runs, "large_runs": args.large_runs,
                     "configmaps": list(args.configmaps), "heavy_mib": list(args.heavy_mib),
                     "shards": list(args.shards)},
        "targets": [t.as_json() for t in targets],
    }
    print_targets(data, targets)
    write_results(Path(args.output), data)
    return 1 if any(t.error for t in targets) else 0


def print_targets(data: dict[str, Any], targets: list[Target]) -> None:
    """Every timed tool, then the target table."""
    table = sibling("speed_table")
    print("\n" + textwrap.fill(table.headline(data), 120) + "\n")
    for target in targets:
        tools = target.info.get("tools") or {}
        if not tools:
            continue
        print(f"{target.id}  {target.title}")
        for name, entry in tools.items():
            if entry["error"] or "median_s" not in entry:
                print(f"    {name:<32} ERROR  {entry['error']}")
                continue
            detail = "; ".join(x for x in (entry["version"], entry["result"]) if x)
            print(f"    {name:<32} median {entry['median_s']:8.3f} s  min {entry['min_s']:8.3f} s  "
                  f"peak RSS {entry['peak_rss_mib']:7.1f} MiB  {detail}")
    print()
    print(table.text(data))


# --------------------------------------------------------------------------- --checkov


@dataclass
class Outcome:
    tools: list[Tool]
    runs: int
    overlay: str
    policycheck_over_kustomize: float | None
    checkov_over_policycheck: float | None
    checkov_missing: str | None
    load: dict[str, float]


def main_checkov(args: argparse.Namespace) -> int:
    """The single-overlay comparison: bare kustomize, policycheck and Checkov, interleaved."""
    python = project_python(args.python)
    k_argv, k_version = kustomize_argv(python)
    overlay_arg = args.overlay_arg
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
    work = Path(tempfile.mkdtemp(prefix="policycheck-bench-"))
    env["POLICYCHECK_CACHE"] = str(work / "cache")
    kustomize = Tool("kustomize", [*k_argv, overlay_arg], ROOT, (0,), env=env, version=k_version)
    features = policycheck_features(python, env)
    policycheck = Tool("policycheck", [str(python), "-m", "policycheck", overlay_arg,
                                       *(["--no-cache"] if features.no_cache else []), "--format", "json"],
                       ROOT, (0, 1), env=env, json_output=True)  # 1 = findings, 2 = error
    policycheck.version = (probe([*policycheck.argv[:3], "--version"]) or "").strip()
    tools = [kustomize, policycheck]

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
        progress(f"{overlay_arg}, 1 warm-up + {args.runs} runs each, interleaved")
        alternate(tools, args.runs, args.timeout)
        # Other work on the machine skews the figures: keep the load with them.
        load = {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)}
    finally:
        shutil.rmtree(work, ignore_errors=True)

    policycheck.note = policycheck_summary(policycheck.last_output)
    if checkov:
        checkov.note = checkov_summary(checkov.last_output)

    outcome = Outcome(tools, args.runs, overlay_arg, ratio(policycheck, kustomize), ratio(checkov, policycheck),
                      checkov_missing, load)
    report_checkov(outcome)
    write_checkov_json(Path(args.output), outcome)
    return 1 if any(t.error for t in tools) else 0


def verdict(value: float | None, target: float, at_most: bool) -> str:
    if value is None:
        return "not measured"
    met = value <= target if at_most else value >= target
    return "MET" if met else "NOT MET"


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


def report_checkov(o: Outcome) -> None:
    pk, cp = o.policycheck_over_kustomize, o.checkov_over_policycheck
    print(f"\noverlay {o.overlay}, median of {o.runs} runs after 1 warm-up, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, 1-min load {o.load['before']:g} before / {o.load['after']:g} after\n")
    print_table(o.tools, 12)
    if o.checkov_missing:
        print(f"{'checkov':<12} {'-':>9}  not measured: {o.checkov_missing}")
    print()
    print(f"policycheck / kustomize = {shown(pk):>7}   target 1 asks <= {LIMITS['1']:g}x (with the Rego stage): "
          f"{verdict(pk, LIMITS['1'], True)}")
    print(f"checkov / policycheck   = {shown(cp):>7}   target >= {TARGET_CHECKOV_OVER_POLICYCHECK:g}x: "
          f"{verdict(cp, TARGET_CHECKOV_OVER_POLICYCHECK, False)}")


def write_checkov_json(path: Path, o: Outcome) -> None:
    pk, cp = o.policycheck_over_kustomize, o.checkov_over_policycheck
    data: dict[str, Any] = {
        "kind": "checkov",
        "date": dt.datetime.now(dt.UTC).date().isoformat(),
        "machine": machine(o.load),
        "commit": git_state(),
        "overlay": o.overlay,
        "runs": o.runs,
        "warmup": 1,
        "tools": {tool.name: tool_entry(tool) for tool in o.tools},
        "ratios": {
            "policycheck_over_kustomize": {
                "value": None if pk is None else round(pk, 3),
                "target_at_most": LIMITS["1"],
                "met": None if pk is None else pk <= LIMITS["1"],
            },
            "checkov_over_policycheck": {
                "value": None if cp is None else round(cp, 3),
                "target_at_least": TARGET_CHECKOV_OVER_POLICYCHECK,
                "met": None if cp is None else cp >= TARGET_CHECKOV_OVER_POLICYCHECK,
            },
        },
        "checkov_missing": o.checkov_missing,
    }
    write_results(path, data)


# --------------------------------------------------------------------------- main


def numbers(kind: type, count: int | None = None) -> Any:
    """An argparse type: comma-separated numbers of `kind`, `count` of them when given."""

    def parse(text: str) -> tuple:
        try:
            values = tuple(kind(part) for part in text.split(","))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r}: expected comma-separated numbers") from None
        if count is not None and len(values) != count:
            raise argparse.ArgumentTypeError(f"{text!r}: expected {count} numbers")
        return values

    return parse


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="bench/run.py", description="Measure issue 9's speed targets (default), or compare with Checkov.")
    p.add_argument("--targets", metavar="LIST",
                   help="comma-separated targets to measure, of 1 to 6 (default: all; with --monorepo and no "
                        "--targets: 3,5,6)")
    p.add_argument("--runs", type=int, default=7, metavar="N",
                   help="alternating pairs on the small inputs, targets 1 and 2, after a warm-up; with --checkov, "
                        "timed runs per tool (default 7)")
    p.add_argument("--monorepo", type=int, metavar="N",
                   help=f"overlays of the synthetic monorepo (default {MONOREPO_SIZE}); given without --targets, "
                        "only the monorepo targets 3, 5 and 6 run")
    p.add_argument("--monorepo-runs", type=int, default=3, metavar="N",
                   help="rounds on the monorepo: sequential render, policycheck, warm policycheck (default 3)")
    p.add_argument("--large-runs", type=int, default=3, metavar="N",
                   help="alternating rounds on the large single inputs, targets 3c and 4 (default 3)")
    p.add_argument("--configmaps", type=numbers(int, 2), default=(1000, 4000), metavar="SMALL,LARGE",
                   help="ConfigMaps of target 4 (default 1000,4000; the limit 4.5 scales with LARGE/SMALL)")
    p.add_argument("--heavy-mib", type=numbers(float, 2), default=(1.0, 4.0), metavar="MIN,MAX",
                   help="size range of the monorepo's multi-megabyte CRD files (default 1,4)")
    p.add_argument("--shards", type=numbers(int), default=(2, 3), metavar="N,...",
                   help="shard counts of target 6 (default 2,3)")
    p.add_argument("--overlay", metavar="PATH",
                   help="overlay of target 1 and of --checkov (default overlays/prod of this repository)")
    p.add_argument("--checkov", action="store_true",
                   help="instead: time bare kustomize, policycheck and Checkov on --overlay")
    p.add_argument("--update-readme", action="store_true",
                   help="instead of measuring: rewrite the speed table of --readme from --output")
    p.add_argument("--readme", default=str(README), metavar="FILE", help="README to update (default README.md)")
    p.add_argument("--timeout", type=float, default=300.0, metavar="S", help="limit of each single run (default 300)")
    p.add_argument("--python", metavar="PATH", help="interpreter with policycheck installed (default .venv/bin/python)")
    p.add_argument("--no-install", action="store_true",
                   help="build and install nothing: no conftest build (only a conftest on PATH counts), no "
                        "bench/.venv-checkov")
    p.add_argument("--output", default=str(RESULTS), metavar="FILE", help="JSON results (default bench/results.json)")
    args = p.parse_args(argv)
    if min(args.runs, args.monorepo_runs, args.large_runs) < 1 or args.timeout <= 0:
        p.error("--runs, --monorepo-runs and --large-runs must be at least 1, --timeout positive")
    if args.monorepo is not None and args.monorepo < 1:
        p.error("--monorepo takes a number of overlays, at least 1")
    if not 0 < args.configmaps[0] < args.configmaps[1]:
        p.error("--configmaps takes SMALL,LARGE with 0 < SMALL < LARGE")
    if not 0 < args.heavy_mib[0] <= args.heavy_mib[1]:
        p.error("--heavy-mib takes MIN,MAX with 0 < MIN <= MAX")
    if not args.shards or min(args.shards) < 2:
        p.error("--shards takes shard counts of at least 2")
    if args.checkov and (args.targets or args.monorepo is not None or args.update_readme):
        p.error("--checkov takes no --targets, --monorepo or --update-readme")
    if args.targets:
        chosen = {t.strip() for t in args.targets.split(",") if t.strip()}
        if not chosen or chosen - set(ALL_TARGETS):
            p.error(f"--targets takes a comma-separated list of {', '.join(ALL_TARGETS)}")
        args.targets = tuple(t for t in ALL_TARGETS if t in chosen)
    else:
        args.targets = MONOREPO_TARGETS if args.monorepo is not None else ALL_TARGETS
    args.monorepo_size = args.monorepo or MONOREPO_SIZE
    overlay = Path(args.overlay or "overlays/prod")
    if not overlay.is_absolute():  # relative to the current directory, else to the repository root
        overlay = overlay.resolve() if overlay.is_dir() else ROOT / overlay
    if not args.update_readme and ("1" in args.targets or args.checkov) and not overlay.is_dir():
        p.error(f"{args.overlay}: no such directory")
    args.overlay_arg = os.path.relpath(overlay, ROOT)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.update_readme:
        return sibling("speed_table").main_update(Path(args.output), Path(args.readme))
    if args.checkov:
        return main_checkov(args)
    return main_targets(args)


if __name__ == "__main__":
    sys.exit(main())
