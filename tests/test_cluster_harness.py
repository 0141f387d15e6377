"""hack/cluster/cluster.py without a control plane: `down` stops exactly the processes `up` recorded,
never a process that merely got a recorded pid, and a failed start leaves nothing running."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, load_script, require

cluster_script = load_script(ROOT / "hack" / "cluster" / "cluster.py", "policycheck_cluster_harness")


def _sleeper() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])


def test_down_stops_recorded_processes_and_spares_recycled_pids(tmp_path: Path) -> None:
    ours, stranger = _sleeper(), _sleeper()
    try:
        records = [
            {"name": "ours", "pid": ours.pid, "binary": sys.executable},
            # The pid is alive, but runs something else than what was recorded: a recycled pid.
            {"name": "recycled", "pid": stranger.pid, "binary": "/nonexistent/kube-apiserver"},
            {"name": "gone", "pid": 2**22 + 7, "binary": "/nonexistent/etcd"},
        ]
        (tmp_path / "processes.json").write_text(json.dumps(records))
        cluster_script.Cluster(tmp_path).down()
        assert ours.wait(timeout=15) is not None
        assert stranger.poll() is None, "down() signalled a process it did not start"
        assert not (tmp_path / "processes.json").exists()
        cluster_script.Cluster(tmp_path).down()  # idempotent
    finally:
        for proc in (ours, stranger):
            proc.kill()
            proc.wait()


def test_a_start_that_fails_stops_what_it_started(tmp_path: Path) -> None:
    """A build directory whose etcd exits at once: up() raises ClusterError naming it, and nothing
    it started is left running."""
    home = tmp_path / "home"
    (home / "bin").mkdir(parents=True)
    (home / "stages").mkdir()
    for name in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "kubectl"):
        path = home / "bin" / name
        path.write_text("#!/bin/sh\nexit 3\n")
        path.chmod(0o755)
    cluster = cluster_script.Cluster(tmp_path / "state", home)
    require(shutil.which("openssl") is not None, "openssl makes the cluster's certificates")
    with pytest.raises(cluster_script.ClusterError, match="exited"):
        cluster.up(timeout=20)
    assert not (tmp_path / "state" / "processes.json").exists()
