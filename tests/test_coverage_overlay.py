"""The overlay of issue 12: ten problems that other linters catch, planted in one overlay, each
found by `policycheck --profile prod` at the line that plants it (real kustomize render)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

POD = """\
      securityContext:
        runAsNonRoot: true
        seccompProfile: {{type: RuntimeDefault}}
{pod_sc}"""
CONTAINER = """\
        - name: {name}
          image: example/{name}:1.0
          securityContext:
            allowPrivilegeEscalation: false
            capabilities: {{drop: [ALL]}}
            readOnlyRootFilesystem: true
{container_sc}"""


def workload(name: str, container_extra: str = "", selector: str = "", pod_sc: str = "",
             container_sc: str = "") -> str:
    return (f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n"
            f"  selector:\n    matchLabels: {{app: {selector or name}}}\n"
            f"  template:\n    metadata:\n      labels: {{app: {name}}}\n    spec:\n{POD.format(pod_sc=pod_sc)}"
            f"      containers:\n{CONTAINER.format(name=name, container_sc=container_sc)}{container_extra}")


FILES = {
    "host-port.yaml": workload("hostport", container_extra="          ports:\n"
                               "            - {containerPort: 8080, hostPort: 8080}  # PLANT host-port\n"),
    "sysctls.yaml": workload("sysctls", pod_sc="        sysctls:\n"
                             "          - {name: kernel.msgmax, value: '65536'}  # PLANT safe-sysctls\n"),
    "procmount.yaml": workload("procmount", container_sc="            procMount: Unmasked  # PLANT proc-mount\n"),
    "env.yaml": workload("env", container_extra="          env:\n            - {name: MODE, value: a}\n"
                         "            - {name: MODE, value: b}  # PLANT env-unique\n"),
    "selector.yaml": workload("selector", selector="other"),
    "ssh.yaml": workload("ssh", container_extra="          ports:\n"
                         "            - {containerPort: 22}  # PLANT ssh-port\n"),
    "nodeport.yaml": ("apiVersion: v1\nkind: Service\nmetadata:\n  name: nodeport\nspec:\n"
                      "  type: NodePort  # PLANT service-exposure\n  selector: {app: env}\n"
                      "  ports:\n    - {name: http, port: 80}\n"),
    "rbac.yaml": ("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: everything\n"
                  "rules:\n  - apiGroups: ['*']\n    resources: ['*']\n    verbs: ['*']  # PLANT rbac-wildcard\n"
                  "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n"
                  "  name: default-admin\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n"
                  "  name: cluster-admin\nsubjects:\n"
                  "  - kind: ServiceAccount  # PLANT rbac-cluster-admin-binding rbac-broad-subject\n"
                  "    name: default\n    namespace: shop\n"),
    "cronjob.yaml": ("apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: nightly\nspec:\n"
                     "  schedule: '0 3 * * *'\n  concurrencyPolicy: Forbid\n  jobTemplate:\n    spec:\n"
                     "      activeDeadlineSeconds: 3600\n      template:\n        spec:\n          restartPolicy: OnFailure\n"),
}
# Where a finding of these rules must be: file -> (rule, line text that starts with ...).
EXPECTED_ELSEWHERE = {
    ("selector-matches-template", "selector.yaml", "matchLabels:"),
    ("job-deadline", "cronjob.yaml", "spec:"),
}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("coverage")
    for name, text in FILES.items():
        (root / name).write_text(text)
    (root / "kustomization.yaml").write_text("namespace: shop\nresources:\n" + "".join(f"  - {n}\n" for n in FILES))
    out = subprocess.run([sys.executable, "-m", "policycheck", str(root), "--profile", "prod", "--format", "json",
                          "--no-cache"], capture_output=True, text=True, timeout=300, check=False,
                         env={**os.environ, "CI": ""}, cwd=root)
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    return root, json.loads(out.stdout)


def _planted(root: Path) -> set[tuple[str, str, int]]:
    found = set()
    for name in FILES:
        for number, line in enumerate((root / name).read_text().splitlines(), 1):
            if "# PLANT " in line:
                for rule in line.split("# PLANT ", 1)[1].split():
                    found.add((rule, name, number))
    return found


def test_every_planted_problem_is_found_at_its_line(report: tuple[Path, dict]) -> None:
    root, data = report
    planted = _planted(root)
    assert len(planted) == 9
    for name, text in FILES.items():
        for rule, file, start in EXPECTED_ELSEWHERE:
            if file == name:
                lines = text.splitlines()
                planted.add((rule, file, next(i for i, ln in enumerate(lines, 1) if ln.strip().startswith(start))))
    rules = {rule for rule, _, _ in planted}
    found = {(f["rule"], Path(f["source"]["file"]).name, f["source"]["line"]) for f in data["findings"]
             if f["rule"] in rules}
    assert found == planted
