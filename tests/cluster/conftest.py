"""The cluster tier: a real kube-apiserver (with etcd, controller-manager, scheduler and kwok nodes)
built from the Go module proxy by hack/cluster/build.sh, or any cluster the user points KUBECONFIG at
with `pytest --existing-cluster`.

A machine without Go skips the tier with the reason; under CI=true that skip is a failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, load_script, require

cluster_script = load_script(ROOT / "hack" / "cluster" / "cluster.py", "policycheck_cluster")
ClusterError = cluster_script.ClusterError
NAMESPACE = "ai-agents"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.cluster)


class ExistingCluster:
    """The user's cluster (KUBECONFIG), driven by the kubectl on PATH; never stopped by the tests."""

    def __init__(self) -> None:
        self.kubeconfig = Path(os.environ.get("KUBECONFIG", Path.home() / ".kube" / "config"))
        kubectl = shutil.which("kubectl")
        if kubectl is None:
            pytest.fail("--existing-cluster: no kubectl on PATH")
        self.kubectl_path = kubectl

    def kubectl(self, *args: str, stdin: str | None = None, check: bool = True,
                timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        argv = [self.kubectl_path, f"--kubeconfig={self.kubeconfig}", *args]
        done = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout, check=False)
        if check and done.returncode != 0:
            raise ClusterError(f"kubectl {' '.join(args)} failed (exit {done.returncode}): {done.stderr.strip()}")
        return done

    def env(self) -> dict[str, str]:
        return {**os.environ, "KUBECONFIG": str(self.kubeconfig)}

    def down(self) -> None:
        pass


def _home() -> Path:
    """The built control plane; skip (fail in CI) when it cannot be built here."""
    home = os.environ.get("POLICYCHECK_CLUSTER_HOME")
    if home:
        return Path(home)
    require(shutil.which("go") is not None, "the cluster tier builds kube-apiserver with Go, and Go is not on PATH")
    require(shutil.which("openssl") is not None, "the cluster tier makes its certificates with openssl")
    try:
        return cluster_script.build()
    except ClusterError as exc:
        pytest.fail(f"could not build the control plane: {exc}")


@contextlib.contextmanager
def new_cluster(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh control plane (or the user's cluster with --existing-cluster), always stopped."""
    if request.config.getoption("--existing-cluster"):
        yield ExistingCluster()
        return
    home = _home()
    with tempfile.TemporaryDirectory(prefix="policycheck-cluster-") as state:
        cluster = cluster_script.Cluster(Path(state), home, die_with_parent=True)
        try:
            cluster.up()
        except ClusterError as exc:
            cluster.down()
            pytest.fail(f"the control plane did not start: {exc}")
        try:
            yield cluster
        finally:
            cluster.down()


@pytest.fixture(scope="session")
def cluster(request: pytest.FixtureRequest) -> Iterator[Any]:
    """One control plane shared by the tests that do not deploy an overlay."""
    with new_cluster(request) as c:
        yield c


def wait_for(what: str, ready: Callable[[], Any], timeout: float = 90.0, interval: float = 0.5) -> Any:
    """Poll ``ready`` until it returns something truthy; fail with ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = ready()
        if last:
            return last
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:g} s waiting for {what} (last: {last!r})"[:2000])


def get_json(cluster: Any, *args: str) -> dict:
    return json.loads(cluster.kubectl("get", *args, "-o", "json").stdout)


def render(overlay: Path | str) -> str:
    """`kubectl kustomize` of an overlay with the project's own kustomize (what `apply -k` sends)."""
    from policycheck.render import find_kustomize  # noqa: PLC0415

    kustomize = find_kustomize()
    done = subprocess.run([*kustomize.argv, str(overlay)], capture_output=True, text=True, timeout=120,
                          check=False, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return done.stdout
