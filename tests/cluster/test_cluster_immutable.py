"""The immutable-field rule agrees with the real API server: every before/after pair of
tests/fixtures/immutable is applied to a kube-apiserver (before, then after, server-side) and the
server's verdict must equal both what cases.yaml says and what the rule finds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from policycheck.rules.immutable_field import changes
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "immutable"
CASES = yaml.safe_load((FIXTURES / "cases.yaml").read_text())["cases"]
# What the server says when it refuses an update of a field fixed at creation (and nothing else); a
# headless Service stays headless, so it cannot become a NodePort ("may not be set to 'None'").
REFUSALS = ("immutable", "Forbidden: updates to statefulset spec", "may not change once set",
            "may not be set to 'None' for NodePort services")


def _docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_rule_and_server_agree(cluster: Any, case: dict) -> None:
    directory = FIXTURES / case["name"]
    namespace = f"immutable-{case['name']}"[:63]
    cluster.kubectl("create", "namespace", namespace, check=False)
    first = cluster.kubectl("apply", "--server-side", "-n", namespace, "-f", str(directory / "before.yaml"),
                            check=False)
    assert first.returncode == 0, first.stderr
    second = cluster.kubectl("apply", "--server-side", "-n", namespace, "-f", str(directory / "after.yaml"),
                             check=False)
    refused = second.returncode != 0
    if refused:
        assert any(r in second.stderr for r in REFUSALS), f"refused for another reason: {second.stderr}"
    flagged = bool(changes(_docs(directory / "before.yaml"), _docs(directory / "after.yaml")))
    assert (refused, flagged) == (case["refused"], case["refused"]), (
        f"server {'refused' if refused else 'accepted'}, rule {'flagged' if flagged else 'did not flag'}; "
        f"{second.stderr.strip()}")
    cluster.kubectl("delete", "namespace", namespace, "--wait=false", check=False)
