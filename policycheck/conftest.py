"""House rules in Rego, run by the real conftest binary as a subprocess.

The whole rendered overlay goes to conftest in one `--combine` run, so
policies can relate objects to each other. Each result becomes a Finding
like a built-in one: the rule id and optional severity come from the
result object (`{"msg", "rule", "kind", "name", "namespace", "field",
"severity"}`), deny means error and warn means warning, the source is
found the same way and the same exemption annotations apply.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from policycheck import yamlio
from policycheck.launch import go_short_lived, kill, trim_error
from policycheck.model import Finding, K8sObject, PolicycheckError, Severity
from policycheck.provenance import locate
from policycheck.render import Rendered, overlay_object
from policycheck.textsafe import escape
from policycheck.toolcache import ToolVersion

DEFAULT_TIMEOUT = 60.0
_RULE_LITERAL = re.compile(r'(?:k8s\.result\(\s*|"rule"\s*:\s*)"([A-Za-z0-9_.-]+)"')


@dataclass
class Settings:
    """The `conftest:` section of policycheck.yaml."""

    policies: list[str] = field(default_factory=lambda: ["policies"])
    data: list[str] = field(default_factory=lambda: ["policies/data"])
    namespaces: list[str] = field(default_factory=lambda: ["main"])
    all_namespaces: bool = False
    profiles: dict[str, bool] = field(default_factory=dict)
    path: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    explicit: bool = False  # policies were named in the config

    @classmethod
    def from_config(cls, section: Any, where: Any) -> Settings:
        """Validated settings; ``where`` is the config's label or its ``policycheck.config.Source``."""
        from policycheck import config  # noqa: PLC0415 - config validates this section through here

        keys = ("policies", "data", "namespaces", "all-namespaces", "profiles", "path", "timeout")
        max_timeout = 3600
        source = where if isinstance(where, config.Source) else config.Source(str(where))
        section = {} if section is None else section
        config.check_mapping(section, source, ("conftest",), None, keys)
        settings = cls()
        for key in ("policies", "data", "namespaces"):
            if key in section:
                config.check_value(section[key], [str], source, ("conftest", key))
                setattr(settings, key, list(section[key]))
        settings.explicit = "policies" in section
        if "all-namespaces" in section:
            config.check_value(section["all-namespaces"], bool, source, ("conftest", "all-namespaces"))
            settings.all_namespaces = section["all-namespaces"]
        profiles = section.get("profiles")
        if profiles is not None:
            config.check_mapping(profiles, source, ("conftest", "profiles"), "profile names")
            for name, enabled in profiles.items():
                config.check_value(enabled, bool, source, ("conftest", "profiles", name))
            settings.profiles = dict(profiles)
        path = section.get("path")
        if path is not None:
            config.check_value(path, str, source, ("conftest", "path"))
            settings.path = path or None
        timeout = section.get("timeout", DEFAULT_TIMEOUT)
        if not config.check_fits(timeout, float) or not 0 < timeout <= max_timeout:
            raise source.wrong(("conftest", "timeout"), f"a number of seconds above 0 and at most {max_timeout}",
                               timeout)
        settings.timeout = float(timeout)
        return settings

    def enabled_for(self, profile: str) -> bool:
        return self.profiles.get(profile, True)


@dataclass(frozen=True)
class Conftest:
    path: str
    _version: str | ToolVersion

    @property
    def version(self) -> str:
        return self._version.get() if isinstance(self._version, ToolVersion) else self._version


def _version(path: str) -> str:
    out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30,
                         stdin=subprocess.DEVNULL, check=False)
    match = re.search(r"Conftest:\s*(\S+)", out.stdout)
    return match.group(1) if out.returncode == 0 and match else "unknown"


def find(settings: Settings, explicit: str | None, required: bool) -> tuple[Conftest | None, str | None]:
    """The conftest to run, or None and the reason the Rego stage is skipped."""
    if not settings.policies:
        return None, "conftest.policies is empty"
    missing_dirs = [p for p in settings.policies if not Path(p).is_dir()]
    if missing_dirs:
        if settings.explicit:
            raise PolicycheckError(f"conftest: policy directory not found: {escape(missing_dirs[0])}")
        # No house rules here at all: nothing to require.
        return None, f"no policy directory ({', '.join(settings.policies)})"
    wanted = explicit or settings.path or "conftest"
    path = shutil.which(wanted)
    if path is None:
        if required or explicit or settings.path:
            raise PolicycheckError(f"conftest not found: {escape(wanted)} (hack/install-conftest.sh builds it)")
        return None, "conftest not found on PATH (hack/install-conftest.sh builds it)"
    if not os.access(path, os.X_OK):
        raise PolicycheckError(f"conftest at {path} is not executable")
    return Conftest(path, ToolVersion(path, lambda: _version(path))), None


def house_rule_ids(settings: Settings) -> set[str]:
    """Rule ids the policies can report (for exemptions of Rego rules)."""
    ids: set[str] = set()
    for rego in _policy_files(tuple(os.path.abspath(p) for p in settings.policies)):
        try:
            with open(rego, encoding="utf-8") as fh:
                ids.update(_RULE_LITERAL.findall(fh.read(MAX_POLICY_BYTES)))
        except (OSError, UnicodeDecodeError):
            continue
    return ids


@functools.cache
def _policy_files(policies: tuple[str, ...]) -> tuple[str, ...]:
    """The .rego files of the policy directories (absolute paths) that conftest test runs:
    regular files (a FIFO or a device named .rego would block or never end), no `_test.rego`.
    Listed once per run: every overlay's conftest is given them."""
    return tuple(str(rego) for policy in policies if Path(policy).is_dir()
                 for rego in sorted(Path(policy).rglob("*.rego"))
                 if not rego.name.endswith("_test.rego") and rego.is_file())


def run(conftest: Conftest, settings: Settings, rendered: Rendered,
        timeout: float | None = None) -> list[dict[str, Any]]:
    """Raw conftest results of one overlay: dicts with severity, msg, metadata.

    ``timeout`` is what is left of the overlay's time limit (else the
    configured conftest timeout). Objects nested too deeply to dump are left
    out (field-type reports them). Error text passes the secret scrubber.
    """
    return prepare(conftest, settings, rendered, timeout)()


# A policy file is read this far for its rule ids (conftest itself reads it whole).
MAX_POLICY_BYTES = 8 * 1024 * 1024
# Beyond this many policy files, conftest gets the directories (and loads the tests too).
MAX_POLICY_FILES = 400


def _policy_paths(policies: list[str]) -> list[str]:
    """What to pass as --policy: the .rego files of every policy directory except
    the `_test.rego` ones (conftest test never runs them, compiling them costs
    about a fifth of its run), else the directories as given."""
    given = [os.path.abspath(p) for p in policies]
    if not all(Path(p).is_dir() for p in given):
        return given
    files = _policy_files(tuple(given))
    return list(files) if 0 < len(files) <= MAX_POLICY_FILES else given


def prepare(conftest: Conftest, settings: Settings, rendered: Rendered,
            timeout: float | None = None) -> Callable[[], list[dict[str, Any]]]:
    """``run`` in two halves: the CPU-bound input is built now, in the caller's thread;
    the returned function runs conftest (a subprocess: another thread may wait for it)."""
    limit = settings.timeout if timeout is None else max(0.001, min(settings.timeout, timeout))
    argv = [conftest.path, "test", "--combine", "--no-color", "--output", "json"]
    for policy in _policy_paths(settings.policies):
        argv += ["--policy", policy]
    for data in settings.data:
        if Path(data).exists():
            argv += ["--data", os.path.abspath(data)]
    if settings.all_namespaces:
        argv.append("--all-namespaces")
    else:
        for namespace in settings.namespaces:
            argv += ["--namespace", namespace]
    docs = [o.doc for o in rendered.objects if not o.too_deep]
    try:
        files = conftest_input(docs)
    except yamlio.ERRORS as exc:
        raise PolicycheckError(f"{rendered.overlay}: cannot hand the objects to conftest "
                               f"({type(exc).__name__})") from None
    # Started here and now: a thread that waits for the GIL to start it would start it late.
    tmp = tempfile.TemporaryDirectory(prefix="policycheck-conftest-")
    try:
        objects = Path(tmp.name, "objects")
        objects.mkdir()
        for file_name, file_text in files:
            (objects / file_name).write_text(file_text, encoding="utf-8", errors="backslashreplace")
        env = dict(os.environ)
        go_short_lived(env, 2048)
        proc = subprocess.Popen([*argv, "objects"], cwd=tmp.name, stdout=subprocess.PIPE,  # noqa: S603
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, errors="replace",
                                start_new_session=True, env=env)
    except OSError as exc:
        tmp.cleanup()
        raise PolicycheckError(f"{rendered.overlay}: cannot run conftest: {exc.strerror}") from None
    return lambda: _finish(proc, tmp, limit, settings, rendered)


def _finish(proc: subprocess.Popen[str], tmp: tempfile.TemporaryDirectory[str], limit: float,
            settings: Settings, rendered: Rendered) -> list[dict[str, Any]]:
    scrub = rendered.secrets.scrub
    try:
        stdout, stderr = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        kill(proc)
        what = (f"the timeout of {settings.timeout:g}s" if limit >= settings.timeout
                else "what the render and rules left of the overlay's --timeout")
        raise PolicycheckError(f"{rendered.overlay}: conftest exceeded {what}") from None
    finally:
        tmp.cleanup()
    out = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    if out.returncode not in (0, 1):
        raise PolicycheckError(scrub(f"{rendered.overlay}: conftest failed (exit {out.returncode}): "
                                     f"{trim_error(out.stderr or out.stdout)}"))
    try:
        report = json.loads(out.stdout)
    except ValueError:
        reason = trim_error(out.stderr) if out.stderr.strip() else "its output is not JSON"
        raise PolicycheckError(scrub(f"{rendered.overlay}: conftest failed: {reason}")) from None
    if not isinstance(report, list):
        raise PolicycheckError(f"{rendered.overlay}: conftest failed: its output is not a list of results")
    results = []
    for entry in report:
        if not isinstance(entry, dict):
            continue
        namespace = entry.get("namespace", "main")
        for key, severity in (("failures", Severity.ERROR), ("warnings", Severity.WARNING)):
            items = entry.get(key)
            for item in items if isinstance(items, list) else ():
                if isinstance(item, dict):
                    meta = item.get("metadata")
                    results.append({"namespace": str(namespace), "severity": severity,
                                    "msg": str(item.get("msg", "")),
                                    "metadata": meta if isinstance(meta, dict) else {}})
    return results


_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
def conftest_input(docs: list[Any]) -> list[tuple[str, str]]:
    """The objects as files for conftest: (name, text), one file per object, in order.

    One JSON file per object: conftest reads JSON without a round trip, while
    a multi-document YAML file is split by re-encoding each document, which
    fails on an emoji, a DEL or a line separator in any value (and takes
    twice as long). The combined input keeps its shape: one {path, contents}
    per object. An object JSON cannot hold as it is (a date, a NaN, bytes
    from an explicit tag) is written as a one-document YAML file instead.
    """
    width = len(str(len(docs)))
    files = []
    for number, doc in enumerate(docs, start=1):
        try:
            files.append((f"{number:0{width}d}.json", json.dumps(doc, allow_nan=False, separators=(",", ":"))))
        except (TypeError, ValueError):
            files.append((f"{number:0{width}d}.yaml", yaml.dump(doc, Dumper=_Dumper, sort_keys=False)))
    return files


def _str(meta: dict[str, Any], key: str) -> str | None:
    value = meta.get(key)
    return value if isinstance(value, str) and value else None


def to_findings(results: list[dict[str, Any]], rendered: Rendered) -> list[Finding]:
    """Findings of conftest results; objects are found by index, messages scrubbed of secret values."""
    index: dict[tuple[str, str], list[K8sObject]] = {}
    for obj in rendered.objects:
        index.setdefault((obj.kind, obj.name), []).append(obj)
    scrub = rendered.secrets.scrub
    findings = []
    for result in results:
        meta = result["metadata"]
        query = _str(meta, "query") or ""
        kind_of_query = query.rsplit(".", 1)[-1] if query else ("deny" if result["severity"] is Severity.ERROR
                                                                  else "warn")
        rule = _str(meta, "rule") or f"{result['namespace']}.{kind_of_query}"
        severity = result["severity"]
        if meta.get("severity") in ("error", "warning"):
            severity = Severity(meta["severity"])
        obj = _find(rendered, index, meta)
        field = _str(meta, "field")
        findings.append(Finding(rule, severity, obj, scrub(result["msg"]), field,
                                container=_str(meta, "container"), engine="conftest", source=locate(obj, field)))
    return findings


def _find(rendered: Rendered, index: dict[tuple[str, str], list[K8sObject]], meta: dict[str, Any]) -> K8sObject:
    kind, name, namespace = _str(meta, "kind"), _str(meta, "name"), _str(meta, "namespace")
    for obj in index.get((kind or "", name or ""), ()):
        if namespace is None or obj.namespace == namespace:
            return obj
    # A result about no object of the overlay: point at the overlay's kustomization.
    stand_in = overlay_object(rendered.overlay)
    if kind or name:
        return K8sObject({"kind": kind or "", "metadata": {"name": name or ""}}, rendered.overlay, stand_in.origin)
    return stand_in
