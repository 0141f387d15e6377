"""hack/test-deployment.sh end to end on the cluster tier: kwok answers the port-forward to the API
with a stub /health server on loopback, so every step of the script runs for real; and the script
tells the truth when something is wrong (no ready endpoint, port-forward failing)."""

from __future__ import annotations

import http.server
import json
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.conftest import NAMESPACE, _home, cluster_script, wait_for
from tests.conftest import ROOT

SCRIPT = ROOT / "hack" / "test-deployment.sh"


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        ok = self.path == "/health"
        body = b'{"status": "ok"}' if ok else b""
        self.send_response(200 if ok else 404)
        # A length: through a port-forward the client does not see the server close the connection.
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def stub_cluster(request: pytest.FixtureRequest) -> Iterator[tuple[Any, http.server.HTTPServer]]:
    if request.config.getoption("--existing-cluster"):
        pytest.skip("the stub /health answers through kwok's port-forward: only on the built control plane")
    server = http.server.HTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with tempfile.TemporaryDirectory(prefix="policycheck-cluster-") as state:
        forward = Path(state) / "port-forward.yaml"
        forward.write_text(
            "apiVersion: kwok.x-k8s.io/v1alpha1\nkind: ClusterPortForward\nmetadata:\n  name: api-health\n"
            f"spec:\n  forwards:\n  - ports: [8000]\n    target:\n      port: {server.server_port}\n"
            "      address: 127.0.0.1\n")
        cluster = cluster_script.Cluster(Path(state) / "cluster", _home(), die_with_parent=True,
                                         kwok_configs=(forward,))
        try:
            cluster.up()
            yield cluster, server
        finally:
            cluster.down()
            server.shutdown()


def _script(cluster: Any, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**cluster.env(), "HEALTH_PORT": str(cluster_script.free_port())}
    return subprocess.run(["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=600,
                          check=False, cwd=ROOT)


def test_test_deployment_passes_end_to_end(stub_cluster: tuple[Any, Any]) -> None:
    cluster, _ = stub_cluster
    namespace = cluster.kubectl("create", "namespace", NAMESPACE, "--dry-run=client", "-o", "yaml").stdout
    cluster.kubectl("apply", "--server-side", "-f", "-", stdin=namespace)
    done = _script(cluster, "dev", "--timeout", "120s")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert "PASS  apply overlays/dev" in lines
    assert "PASS  GET /health through port-forward" in lines
    for service in ("postgresql", "redis", "api"):
        assert f"PASS  ready endpoints of service/{service}" in lines
    assert not [ln for ln in lines if ln.startswith("FAIL")]
    assert lines[-1] == "all steps passed"


def test_test_deployment_reports_what_is_wrong(stub_cluster: tuple[Any, Any]) -> None:
    """No ready API endpoint and no answer behind the port-forward: both steps fail, and the
    script shows why (the endpoint count, kubectl port-forward's own words)."""
    cluster, server = stub_cluster
    cluster.kubectl("-n", NAMESPACE, "scale", "deployment/api", "--replicas=0")
    wait_for("the API pods gone", lambda: not cluster.kubectl(
        "-n", NAMESPACE, "get", "pods", "-l", "app=api", "-o", "name").stdout.strip())
    done = _script(cluster, "dev", "--no-apply", "--timeout", "30s")
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert "FAIL  ready endpoints of service/api" in lines
    assert "      0 of 0 endpoint(s) ready" in lines
    assert "FAIL  GET /health through port-forward" in lines
    assert "kubectl port-forward said:" in done.stdout
    # port-forward's own error (it waits a bounded time for a running pod behind the Service).
    after = done.stdout.split("kubectl port-forward said:", 1)[1]
    assert "error: timed out waiting for the condition" in after, after
    assert lines[-1].endswith("step(s) failed; see docs/deployment.md#troubleshooting")
    cluster.kubectl("-n", NAMESPACE, "scale", "deployment/api", "--replicas=1")


def test_the_tier_applies_with_a_kubectl_of_the_server_minor(stub_cluster: tuple[Any, Any]) -> None:
    """kubectl within the supported skew of the server: no skew warning on `kubectl version`, which
    the kubectl 1.37 of .venv (for rendering) prints against this 1.35 server (docs/deployment.md)."""
    cluster, _ = stub_cluster
    done = cluster.kubectl("version", "-o", "json")
    versions = json.loads(done.stdout)
    client, server = versions["clientVersion"], versions["serverVersion"]
    assert (client["major"], client["minor"]) == (server["major"], server["minor"]) == ("1", "35")
    assert "WARNING" not in done.stderr.upper(), done.stderr
