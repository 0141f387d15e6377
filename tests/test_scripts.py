"""The helper scripts: create-secrets.sh (offline, kubectl client-side dry
run) and test-deployment.sh (argument handling; it needs a cluster to run)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import ROOT

VALUES = {"POSTGRES_USER": "app_user", "POSTGRES_PASSWORD": "s3cret-Pa55", "OPENAI_API_KEY": "sk-test-value-123",
          "DATABASE_URL": "postgresql://app_user:s3cret-Pa55@postgresql:5432/ai_agents", "REDIS_URL": "redis://redis:6379/0"}


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in VALUES}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # the venv's kubectl
    return {**env, **extra}


def test_create_secrets_dry_run_shows_shape_not_values() -> None:
    out = subprocess.run([ROOT / "hack/create-secrets.sh", "--dry-run"], capture_output=True, text=True, timeout=60,
                         env=_env(VALUES), check=False)
    assert out.returncode == 0, out.stderr
    docs = [d for d in yaml.safe_load_all(out.stdout) if d]
    assert {(d["metadata"]["name"], d["metadata"]["namespace"]) for d in docs} == {
        ("postgresql-credentials", "ai-agents"), ("ai-agents-app", "ai-agents")}
    assert {k: v for d in docs for k, v in d["data"].items()} == {
        "username": "<redacted>", "password": "<redacted>", "DATABASE_URL": "<redacted>",
        "REDIS_URL": "<redacted>", "OPENAI_API_KEY": "<redacted>"}
    for value in VALUES.values():
        assert value not in out.stdout + out.stderr


def test_create_secrets_names_missing_variables() -> None:
    partial = {"POSTGRES_USER": "u", "REDIS_URL": "redis://r"}
    out = subprocess.run([ROOT / "hack/create-secrets.sh", "--dry-run"], capture_output=True, text=True, timeout=60,
                         env=_env(partial), check=False)
    assert out.returncode == 2
    assert out.stderr == ("create-secrets: set these environment variables first: "
                          "POSTGRES_PASSWORD DATABASE_URL OPENAI_API_KEY\n")


def test_deployment_script_parses_and_rejects_bad_arguments() -> None:
    script = ROOT / "hack/test-deployment.sh"
    assert subprocess.run(["bash", "-n", script], timeout=30, check=False).returncode == 0
    usage = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=30, check=False)
    assert usage.returncode == 0 and "dev|prod" in usage.stdout
    bad = subprocess.run([script, "staging"], capture_output=True, text=True, timeout=30, check=False)
    assert (bad.returncode, bad.stderr) == (2, "test-deployment: unknown argument: staging\n")
