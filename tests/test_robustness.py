"""The contract on generated hostile input (hypothesis).

A realistic app (every workload kind, Service, Ingress, HPA, PDB,
NetworkPolicy, ConfigMap, Secret, a secretGenerator) is mutated at random:
values at random paths swapped for other types, keys deleted, unicode and
control characters, very long strings, deep nesting, odd quantities. Secret
markers are planted in every place a secret can live. policycheck runs on
the real kustomize (and conftest when present) and must keep the contract
every time:

* exit 0, 1 or 2, never a traceback; on 2, exactly one line on stderr;
* a report on stdout whenever the run got past usage: valid JSON of the
  documented shape, or text ending in the summary line;
* the summary agrees with the findings, the exit code with both;
* no planted marker anywhere in stdout or stderr;
* done within a bound (a hang guard, not a speed target).

`make test` runs a fixed-seed sample (POLICYCHECK_FUZZ_EXAMPLES, default 250);
set it higher for a longer hunt.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import io
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policycheck.cli import main

EXAMPLES = int(os.environ.get("POLICYCHECK_FUZZ_EXAMPLES", "250"))
BOUND_SECONDS = 120  # per case; a hang guard

MARKERS = {
    "secret-data": "Qm7rTzXv2LwPkN4s",
    "secret-string": "Hy3uJf8KdW2mQa6e",
    "generator-literal": "Vb5nCx9ZsR1tLp7w",
    "env-credential": "Gk4jEw8UyT3oMi2q",
    "configmap-credential": "Nd6fBh1XcV5rSz9y",
    "generator-env-file": "Pw2sYk7HgD4nFc8x",
    "generator-file": "Tu9mRb3JqW6eLz1v",
}
FINDING_KEYS = {"rule", "severity", "overlay", "kind", "namespace", "name", "container", "field", "message", "source",
                "origin", "source_name", "engine", "exempted", "exemption", "fingerprint", "overlays"}
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
SUMMARY_LINE = re.compile(r"^(?:0 errors|\d+ error\(s\)), \d+ warning\(s\), \d+ exempted(?:, \d+ overlay\(s\) not checked)?$")

_SC = {"runAsNonRoot": True, "runAsUser": 1000, "seccompProfile": {"type": "RuntimeDefault"}}
_CSC = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}}


def _container(name: str) -> dict[str, Any]:
    return {
        "name": name, "image": f"example/{name}:1.0",
        "ports": [{"name": "http", "containerPort": 8080}],
        "env": [{"name": "LOG_LEVEL", "value": "info"},
                {"name": "DB_PASSWORD", "value": MARKERS["env-credential"]},
                {"name": "API_KEY", "valueFrom": {"secretKeyRef": {"name": "app", "key": "token"}}}],
        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "128Mi"}},
        "livenessProbe": {"httpGet": {"path": "/", "port": "http"}},
        "readinessProbe": {"tcpSocket": {"port": 8080}},
        "securityContext": dict(_CSC),
    }


def _pod(name: str) -> dict[str, Any]:
    return {"metadata": {"labels": {"app": name}, "annotations": {"note": "x"}},
            "spec": {"securityContext": dict(_SC), "automountServiceAccountToken": False,
                     "containers": [_container(name)], "volumes": [{"name": "tmp", "emptyDir": {}}]}}


def _app() -> list[dict[str, Any]]:
    meta = lambda name: {"name": name, "labels": {"app": name}}  # noqa: E731
    return [
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta("web"),
         "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": _pod("web")}},
        {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta("db"),
         "spec": {"serviceName": "db", "selector": {"matchLabels": {"app": "db"}}, "template": _pod("db")}},
        {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta("job"),
         "spec": {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": _pod("job")}}}},
        {"apiVersion": "v1", "kind": "Service", "metadata": meta("web"),
         "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "http"}]}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta("web"),
         "spec": {"tls": [{"hosts": ["web.example.com"], "secretName": "tls"}],
                  "rules": [{"host": "web.example.com", "http": {"paths": [
                      {"path": "/", "pathType": "Prefix",
                       "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}},
        {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": meta("db"),
         "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db"},
                  "minReplicas": 2, "maxReplicas": 4,
                  "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                                                                "target": {"type": "Utilization", "averageUtilization": 80}}}]}},
        {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": meta("web"),
         "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"},
                                                  "matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]}}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta("all"),
         "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("settings"),
         "data": {"mode": "fast", "password": MARKERS["configmap-credential"]}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": meta("app"),
         "data": {"token": base64.b64encode(MARKERS["secret-data"].encode()).decode()},
         "stringData": {"other": MARKERS["secret-string"]}},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {
            "pod-security.kubernetes.io/enforce": "restricted"}}},
    ]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


def _deep(depth: int) -> Any:
    node: Any = "bottom"
    for i in range(depth):
        node = {"n": node} if i % 2 else [node]
    return node


texts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=True, allow_infinity=True),
                    texts, st.sampled_from(["2026-02-30", "=", "on", "off", "yes", "1:30", "0x1F", "1e400", "-5Gi",
                                            "0.0001m", "~", "null", "<<", "*a", "&a", "!!binary", "\x1b[31mred", "a\nb",
                                            "\u202eevil", "\x00nul", "  "]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.one_of(texts, st.integers()), inner, max_size=4)),
                      max_leaves=10)
mutation = st.one_of(
    st.tuples(st.just("set"), st.integers(0, 10**6), values),
    st.tuples(st.just("delete"), st.integers(0, 10**6), st.none()),
    st.tuples(st.just("long"), st.integers(0, 10**6), st.integers(1_000, 200_000)),
    st.tuples(st.just("deep"), st.integers(0, 10**6), st.integers(50, 400)),
)


def _apply(docs: list[dict[str, Any]], kind: str, where: int, arg: Any) -> None:
    paths = [(i, p) for i, doc in enumerate(docs) for p in _paths(doc)]
    index, path = paths[where % len(paths)]
    parent: Any = docs[index]
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if kind == "set":
        parent[last] = copy.deepcopy(arg)
    elif kind == "delete":
        if isinstance(parent, dict):
            del parent[last]
        else:
            parent.pop(last)
    elif kind == "long":
        parent[last] = ("x" * 7 + "://a:b@") * (arg // 14) if arg % 2 else "y" * arg
    elif kind == "deep":
        parent[last] = _deep(arg)


def _run(root: Path, fmt: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    cwd = os.getcwd()
    os.chdir(root)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["app", "--format", fmt, "--timeout", "60"])
    finally:
        os.chdir(cwd)
    return code, out.getvalue(), err.getvalue()


def _check_json(text: str, code: int) -> None:
    report = json.loads(text)
    assert report["version"] == 1 and isinstance(report["tool"], dict)
    [overlay] = report["overlays"]
    assert set(overlay) == {"path", "profile", "objects", "error", "notes", "rego_ran", "checked"}
    for f in report["findings"]:
        assert set(f) == FINDING_KEYS
        assert f["severity"] in ("error", "warning")
    active = [f for f in report["findings"] if not f["exempted"]]
    assert report["summary"] == {
        "error": sum(f["severity"] == "error" for f in active),
        "warning": sum(f["severity"] == "warning" for f in active),
        "exempted": sum(f["exempted"] for f in report["findings"]),
        "overlay_errors": int(overlay["error"] is not None),
    }
    if overlay["error"] is not None:
        assert code == 2 and report["findings"] == []
    else:
        assert code == (1 if report["summary"]["error"] else 0)


@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
@given(mutations=st.lists(mutation, min_size=1, max_size=4), fmt=st.sampled_from(["json", "text"]),
       broken_literal=st.booleans())
def test_contract_holds_on_mutated_apps(tmp_path_factory: pytest.TempPathFactory, mutations, fmt: str,  # noqa: ANN001
                                        broken_literal: bool) -> None:
    root = tmp_path_factory.mktemp("fuzz")
    app = root / "app"
    app.mkdir()
    docs = _app()
    for kind, where, arg in mutations:
        _apply(docs, kind, where, arg)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(20_000)  # the YAML writer recurses once per level of the deep mutations
    try:
        text = yaml.safe_dump_all(docs, allow_unicode=True, sort_keys=False)
    finally:
        sys.setrecursionlimit(limit)
    (app / "app.yaml").write_text(text, encoding="utf-8")
    (app / "creds.env").write_text(f"# comment\nTOKEN={MARKERS['generator-env-file']}\n", encoding="utf-8")
    (app / "key.txt").write_text(f"{MARKERS['generator-file']}\n", encoding="utf-8")
    (app / "kustomization.yaml").write_text(
        "namespace: shop\nresources: [app.yaml]\nsecretGenerator:\n- name: generated\n  literals:\n"
        f"  - password={MARKERS['generator-literal']}\n  - other=x\n" + ("  - broken\n" if broken_literal else "")
        + "  envs: [creds.env]\n  files: [key.txt]\n",
        encoding="utf-8")
    started = time.monotonic()
    code, stdout, stderr = _run(root, fmt)
    assert time.monotonic() - started < BOUND_SECONDS
    assert code in (0, 1, 2)
    assert "Traceback" not in stderr
    if code == 2:
        assert stderr.count("\n") == 1 and stderr.startswith("policycheck: "), stderr
    else:
        assert stderr == ""
    for marker in MARKERS.values():
        assert marker not in stdout and marker not in stderr, marker
        assert base64.b64encode(marker.encode()).decode() not in stdout + stderr
    if fmt == "json":
        _check_json(stdout, code)
    else:
        lines = stdout.splitlines()
        assert lines and SUMMARY_LINE.match(lines[-1]), lines[-1:]
        # Not a terminal: no colour; and nothing from the input can break or recolour a line.
        assert not RAW_CONTROL.search(stdout), RAW_CONTROL.search(stdout)
