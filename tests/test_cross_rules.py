"""Rules across overlays on real trees: two overlays in tmp_path, rendered by the real kustomize
through `python -m policycheck`; the pair configuration, the result cache, --select, --base,
exemptions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from policycheck.config import Source
from policycheck.crossrules import from_config, match
from policycheck.model import PolicycheckError
from policycheck.render import Kustomize

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      securityContext:
        runAsNonRoot: true
        seccompProfile: {{type: RuntimeDefault}}
      containers:
      - name: {name}
        image: example/app:1.0
        resources:
          requests:
            cpu: 100m
            memory: 128Mi
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities:
            drop: [ALL]
"""
SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: api
spec:
  selector: {app: api}
  ports:
  - port: 80
"""
PDB = """\
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: api
spec:
  minAvailable: 1
  selector:
    matchLabels: {app: api}
"""
PAIR = "pairs:\n  - weaker: overlays/dev\n    stronger: overlays/prod\n"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")


def _tree(root: Path, *, prod_resources: tuple[str, ...] = ("../../base/api",), prod_replicas: int = 2,
          dev_replicas: int = 2, config: str = PAIR) -> Path:
    """base/api (Deployment, Service), base/worker (Deployment); dev has both, prod what it is given
    and a PDB of its own."""
    _write(root / "base/api/deployment.yaml", DEPLOYMENT.format(name="api"))
    _write(root / "base/api/service.yaml", SERVICE)
    _write(root / "base/api/kustomization.yaml", "resources: [deployment.yaml, service.yaml]\n")
    _write(root / "base/worker/deployment.yaml", DEPLOYMENT.format(name="worker"))
    _write(root / "base/worker/kustomization.yaml", "resources: [deployment.yaml]\n")
    _write(root / "overlays/dev/kustomization.yaml", f"""\
        namespace: demo-dev
        resources:
          - ../../base/api
          - ../../base/worker
        replicas:
          - name: api
            count: {dev_replicas}
        """)
    _write(root / "overlays/prod/pdb.yaml", PDB)
    listed = "".join(f"  - {r}\n" for r in (*prod_resources, "pdb.yaml"))
    _write(root / "overlays/prod/kustomization.yaml", f"namespace: demo\n# production\nresources:\n{listed}"
           f"replicas:\n  - name: api\n    count: {prod_replicas}\n")
    _write(root / "policycheck.yaml", config)
    return root


def _run(root: Path, *args: str, cache: Path | None = None, kustomize: str | None = None
         ) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    if cache is not None:
        env["POLICYCHECK_CACHE"] = str(cache)
    extra = ["--kustomize", kustomize] if kustomize else []
    return subprocess.run([sys.executable, "-m", "policycheck", *args, *extra], cwd=root, capture_output=True,
                          text=True, timeout=120, env=env, stdin=subprocess.DEVNULL, check=False)


def _report(root: Path, *args: str, **kw) -> tuple[int, dict]:  # noqa: ANN003
    """The JSON report of the rules across overlays alone (unless ``args`` selects others)."""
    select = () if "--select" in args else ("--select", "overlay-parity,prod-not-weaker")
    out = _run(root, *args, *select, "--format", "json", **kw)
    assert out.returncode in (0, 1), out.stderr
    return out.returncode, json.loads(out.stdout)


def _cross(report: dict) -> list[tuple[str, str, str, str, int]]:
    return sorted((f["rule"], f["overlay"], f"{f['kind']}/{f['name']}", f["source"]["file"], f["source"]["line"])
                  for f in report["findings"] if f["rule"] in ("overlay-parity", "prod-not-weaker"))


def test_a_component_missing_from_prod_points_at_prods_resources(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    code, report = _report(root, "overlays/dev", "overlays/prod", "--no-cache")
    assert code == 1
    assert _cross(report) == [
        # the worker dev deploys and prod does not: at prod's resources: line (after the comment)
        ("overlay-parity", "overlays/prod", "Deployment/worker", "overlays/prod/kustomization.yaml", 3),
        # the PDB only prod has: at dev's resources: line, found by the pair (prod's)
        ("overlay-parity", "overlays/prod", "PodDisruptionBudget/api", "overlays/dev/kustomization.yaml", 2),
    ]
    worker = next(f for f in report["findings"] if f["name"] == "worker" and f["rule"] == "overlay-parity")
    assert "overlays/dev (base/worker/deployment.yaml:1)" in worker["message"]
    assert "missing from overlays/prod" in worker["message"]


def test_what_is_meant_is_configured_per_pair(tmp_path: Path) -> None:
    config = PAIR + """\
    rules:
      overlay-parity:
        options:
          only-in-stronger: ["PodDisruptionBudget/*"]
          only-in-weaker: ["Deployment/work*"]
"""
    root = _tree(tmp_path, config=config)
    code, report = _report(root, "overlays/dev", "overlays/prod", "--no-cache")
    assert (code, _cross(report)) == (0, [])
    # a pair's level: off for this pair
    _write(root / "policycheck.yaml", PAIR + "    rules: {overlay-parity: off}\n")
    assert _cross(_report(root, "overlays/dev", "overlays/prod", "--no-cache")[1]) == []


def test_prod_with_fewer_replicas_points_at_its_replicas_entry(tmp_path: Path) -> None:
    root = _tree(tmp_path, prod_resources=("../../base/api", "../../base/worker"), prod_replicas=1, dev_replicas=3,
                 config=PAIR + "    rules: {overlay-parity: {options: {only-in-stronger: [PodDisruptionBudget/api]}}}\n")
    code, report = _report(root, "overlays/dev", "overlays/prod", "--no-cache")
    assert code == 1
    assert _cross(report) == [("prod-not-weaker", "overlays/prod", "Deployment/api",
                               "overlays/prod/kustomization.yaml", 9)]  # the `count: 1` line
    finding = next(f for f in report["findings"] if f["rule"] == "prod-not-weaker")
    assert finding["field"] == "spec.replicas" and "fewer than the 3 of overlays/dev" in finding["message"]
    # exempted on the prod object, with a reason, like any finding
    _write(root / "overlays/prod/kustomization.yaml",
           (root / "overlays/prod/kustomization.yaml").read_text() + "commonAnnotations:\n"
           "  policycheck.io/exempt.prod-not-weaker: one replica until the new nodes arrive\n")
    code, report = _report(root, "overlays/dev", "overlays/prod", "--no-cache")
    assert code == 0 and [f["exempted"] for f in report["findings"] if f["rule"] == "prod-not-weaker"] == [True]


def test_a_pair_whose_partner_is_not_in_the_run_is_a_note(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    code, report = _report(root, "overlays/dev", "--no-cache")
    assert code == 0 and _cross(report) == []
    assert report["notes"] == ["pair overlays/dev -> overlays/prod: overlays/prod is not part of this run, "
                               "the pair is not compared"]
    # --select without a rule across overlays: no pair is compared, no note
    code, report = _report(root, "overlays/dev", "overlays/prod", "--no-cache", "--select", "image-digest")
    assert _cross(report) == [] and "notes" not in report or not any("pair" in n for n in report.get("notes", []))


@pytest.fixture
def logged_kustomize(tmp_path: Path, kustomize: Kustomize) -> tuple[str, Path]:
    """A kubectl that logs each render to a file, then runs the real one; while a file ``broken``
    exists next to the log, every render fails instead (``broken-NAME``: the renders of overlays NAME)."""
    log = tmp_path / "renders.log"
    wrapper = tmp_path / "bin" / "kubectl-logged"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\nif [ "$1" = kustomize ]; then echo "$2" >> {log}; '
                       f'[ -e {tmp_path}/broken ] || [ -e {tmp_path}/broken-$(basename "$2") ] && '
                       f'{{ echo "render broken" >&2; exit 1; }}; fi\n'
                       f'exec {kustomize.argv[0]} "$@"\n')
    wrapper.chmod(0o755)
    if kustomize.argv[1:] != ("kustomize",):
        pytest.skip("the logging wrapper stands in for kubectl kustomize")
    return str(wrapper), log


def test_cached_overlays_still_get_correct_cross_findings(tmp_path: Path, logged_kustomize) -> None:  # noqa: ANN001
    wrapper, log = logged_kustomize
    root = _tree(tmp_path / "repo", prod_resources=("../../base/api", "../../base/worker"),
                 config=PAIR + "    rules: {overlay-parity: {options: {only-in-stronger: [PodDisruptionBudget/api]}}}\n")
    cache = tmp_path / "cache"
    args = ("overlays/dev", "overlays/prod")
    cold = _report(root, *args, cache=cache, kustomize=wrapper)
    assert cold[0] == 0 and _cross(cold[1]) == []
    # Nothing changed: every answer from the cache, the pair's too; no render is waited for (one
    # may start before the cache answers; it is stopped), so renders that fail change nothing.
    (tmp_path / "broken").touch()
    warm = _report(root, *args, cache=cache, kustomize=wrapper)
    assert warm == cold
    (tmp_path / "broken").unlink()
    # Only dev changes (more replicas): prod's own result still comes from the cache, but the
    # pair is compared afresh with both renders.
    _write(root / "overlays/dev/kustomization.yaml",
           (root / "overlays/dev/kustomization.yaml").read_text().replace("count: 2", "count: 5"))
    log.unlink(missing_ok=True)
    code, report = _report(root, *args, cache=cache, kustomize=wrapper)
    assert code == 1 and _cross(report) == [("prod-not-weaker", "overlays/prod", "Deployment/api",
                                             "overlays/prod/kustomization.yaml", 9)]
    assert sorted(set(log.read_text().split())) == ["overlays/dev", "overlays/prod"]
    # ... and that answer is cached as well.
    again = _report(root, *args, cache=cache, kustomize=wrapper)
    assert _cross(again[1]) == _cross(report) and again[0] == 1
    # dev changes again while prod (answered by the cache) cannot be rendered: the pair cannot be
    # compared, and that fails the run.
    _write(root / "overlays/dev/kustomization.yaml",
           (root / "overlays/dev/kustomization.yaml").read_text().replace("count: 5", "count: 1"))
    (tmp_path / "broken-prod").touch()
    code, report = _report(root, *args, cache=cache, kustomize=wrapper)
    failed = [f["message"] for f in report["findings"] if f["kind"] == "Kustomization"]
    assert code == 1 and failed == ["the pair overlays/dev -> overlays/prod could not be compared: overlays/prod "
                                    "could not be rendered"]


def test_without_pairs_nothing_of_it_loads(tmp_path: Path) -> None:
    root = _tree(tmp_path, config="kube-version: \"1.35\"\n")
    code = ("import sys; from policycheck import cli; code = cli.main(['overlays/dev', 'overlays/prod', '--no-cache', "
            "'--format', 'json=/dev/null']); "
            "print(code, 'policycheck.crossrules' in sys.modules, 'fractions' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120,
                         check=False)
    assert out.stdout.split()[1:] == ["False", "False"] and out.stdout.split()[0] in ("0", "1"), out.stderr


@pytest.mark.parametrize(("config", "message"), [
    ("pairs: {weaker: a}\n", "policycheck.yaml: pairs: expected a list of pairs"),
    ("pairs:\n  - {weaker: overlays/dev}\n", "policycheck.yaml: pairs[0]: missing key: stronger"),
    ("pairs:\n  - {weaker: a, stronger: b, extra: 1}\n", "policycheck.yaml: pairs[0]: unknown key(s): extra"),
    ("pairs:\n  - {weaker: 'apps/*/dev', stronger: apps/prod}\n", "as many `*`"),
    ("pairs:\n  - {weaker: a, stronger: ./a/}\n", "name the same overlay"),
    ("pairs:\n  - {weaker: 'a/**', stronger: 'b/**'}\n", "only `*`"),
    ("pairs:\n  - {weaker: a, stronger: b, rules: {image-digest: off}}\n", "image-digest is a rule of one overlay"),
    ("pairs:\n  - {weaker: a, stronger: b, rules: {prod-not-weaker: {options: {checks: [speed]}}}}\n",
     "pairs[0].rules.prod-not-weaker.options.checks[0]: expected one of replicas, requests, tls, security-context"),
    ("pairs:\n  - {weaker: 7, stronger: b}\n", "pairs[0].weaker: expected a string"),
])
def test_a_bad_pair_is_one_line_and_exit_2(tmp_path: Path, config: str, message: str) -> None:
    root = _tree(tmp_path, config=config)
    out = _run(root, "overlays/dev", "--no-cache")
    assert out.returncode == 2 and out.stdout == ""
    assert len(out.stderr.splitlines()) == 1 and message in out.stderr and "Traceback" not in out.stderr


def test_patterns_pair_overlays_by_the_text_a_star_matched(tmp_path: Path) -> None:
    specs = from_config([{"weaker": "apps/*/dev", "stronger": "apps/*/prod"}], Source("pc.yaml"))
    overlays = [Path(p) for p in ("apps/a/dev", "apps/a/prod", "apps/b/dev", "apps/c/prod", "other/dev")]
    for path in overlays:
        (tmp_path / path).mkdir(parents=True)
    (tmp_path / "pc.yaml").write_text("")
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        found, notes = match(specs, overlays, "pc.yaml")
    finally:
        os.chdir(cwd)
    assert [(i, j) for _, i, j in found] == [(0, 1)]
    assert notes == ["pair apps/b/dev -> apps/b/prod: apps/b/prod is not part of this run, the pair is not compared",
                     "pair apps/c/dev -> apps/c/prod: apps/c/dev is not part of this run, the pair is not compared"]
    with pytest.raises(PolicycheckError):
        from_config([{"weaker": "a", "stronger": "b"}] * 1001, Source("pc.yaml"))


def test_with_base_the_pairs_old_findings_are_baseline(tmp_path: Path) -> None:
    """--base REF: a pair's finding that REF had too does not fail the run; a new one does."""
    root = _tree(tmp_path)  # prod lacks the worker (and dev the PDB) already at REF
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    for argv in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "one"]):
        subprocess.run([*git, *argv], cwd=root, check=True, capture_output=True)
    code, report = _report(root, "overlays/dev", "overlays/prod", "--no-cache", "--base", "HEAD")
    assert code == 0 and len(_cross(report)) == 2
    assert all(f["baseline"] for f in report["findings"] if f["rule"] == "overlay-parity")
    # A change that drops prod's replicas below dev's: only that finding is new.
    _write(root / "overlays/prod/kustomization.yaml",
           (root / "overlays/prod/kustomization.yaml").read_text().replace("count: 2", "count: 1"))
    code, report = _report(root, "overlays/dev", "overlays/prod", "--no-cache", "--base", "HEAD")
    new = [(f["rule"], f["name"]) for f in report["findings"] if not f["baseline"]]
    assert code == 1 and new == [("prod-not-weaker", "api")]
