"""The helper scripts: create-secrets.sh (offline, kubectl client-side dry
run) and test-deployment.sh (argument handling; it needs a cluster to run)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

REDIS_PASSWORD = "r3dis-Pa55-long-enough"  # noqa: S105 - a fake value for the dry run
VALUES = {"POSTGRES_USER": "app_user", "POSTGRES_PASSWORD": "s3cret-Pa55", "OPENAI_API_KEY": "sk-test-value-123",
          "DATABASE_URL": "postgresql://app_user:s3cret-Pa55@postgresql:5432/ai_agents",
          "REDIS_PASSWORD": REDIS_PASSWORD, "REDIS_URL": f"redis://:{REDIS_PASSWORD}@redis:6379/0"}


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
        ("postgresql-credentials", "ai-agents"), ("redis-credentials", "ai-agents"), ("ai-agents-app", "ai-agents")}
    assert {(d["metadata"]["name"], k): v for d in docs for k, v in d["data"].items()} == {
        ("postgresql-credentials", "username"): "<redacted>", ("postgresql-credentials", "password"): "<redacted>",
        ("redis-credentials", "password"): "<redacted>", ("ai-agents-app", "DATABASE_URL"): "<redacted>",
        ("ai-agents-app", "REDIS_URL"): "<redacted>", ("ai-agents-app", "OPENAI_API_KEY"): "<redacted>"}
    for value in VALUES.values():
        assert value not in out.stdout + out.stderr


def test_create_secrets_names_missing_variables() -> None:
    partial = {"POSTGRES_USER": "u", "REDIS_URL": "redis://r"}
    out = subprocess.run([ROOT / "hack/create-secrets.sh", "--dry-run"], capture_output=True, text=True, timeout=60,
                         env=_env(partial), check=False)
    assert out.returncode == 2
    assert out.stderr == ("create-secrets: set these environment variables first: "
                          "POSTGRES_PASSWORD REDIS_PASSWORD DATABASE_URL OPENAI_API_KEY\n")


@pytest.mark.parametrize(("change", "message"), [
    ({"REDIS_PASSWORD": "short-1234"}, "REDIS_PASSWORD must be at least 16 characters long"),
    ({"REDIS_PASSWORD": "has/slash-and-more-chars", "REDIS_URL": "redis://:has/slash-and-more-chars@redis:6379/0"},
     "REDIS_PASSWORD may hold only A-Z a-z 0-9 . _ ~ -"),
    ({"REDIS_PASSWORD": "has space and-more-chars", "REDIS_URL": "redis://:has space and-more-chars@redis:6379/0"},
     "REDIS_PASSWORD may hold only A-Z a-z 0-9 . _ ~ -"),
    ({"REDIS_URL": "redis://redis:6379/0"}, "REDIS_URL must carry REDIS_PASSWORD (redis://:<REDIS_PASSWORD>@host:6379/0)"),
    ({"REDIS_URL": "redis://:another-password-entirely@redis:6379/0"}, "REDIS_URL must carry REDIS_PASSWORD (redis://:<REDIS_PASSWORD>@host:6379/0)"),
])
def test_create_secrets_refuses_a_redis_password_redis_cannot_take(change: dict[str, str], message: str) -> None:
    """base/redis/config/start.sh refuses the same characters at start-up; here the user hears it
    before anything is created, and no value is echoed."""
    values = {**VALUES, **change}
    out = subprocess.run([ROOT / "hack/create-secrets.sh", "--dry-run"], capture_output=True, text=True, timeout=60,
                         env=_env(values), check=False)
    assert (out.returncode, out.stdout, out.stderr) == (2, "", f"create-secrets: {message}\n")


def test_create_secrets_takes_the_default_user_form_of_redis_url() -> None:
    values = {**VALUES, "REDIS_URL": f"rediss://default:{REDIS_PASSWORD}@redis:6379/0"}
    out = subprocess.run([ROOT / "hack/create-secrets.sh", "--dry-run"], capture_output=True, text=True, timeout=60,
                         env=_env(values), check=False)
    assert out.returncode == 0, out.stderr


def test_deployment_script_parses_and_rejects_bad_arguments() -> None:
    script = ROOT / "hack/test-deployment.sh"
    assert subprocess.run(["bash", "-n", script], timeout=30, check=False).returncode == 0
    usage = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=30, check=False)
    assert usage.returncode == 0 and "dev|prod" in usage.stdout
    bad = subprocess.run([script, "staging"], capture_output=True, text=True, timeout=30, check=False)
    assert (bad.returncode, bad.stderr) == (2, "test-deployment: unknown argument: staging\n")
