#!/usr/bin/env python3
"""A real Kubernetes control plane on loopback, for the cluster tier of the tests.

    python3 hack/cluster/cluster.py build                 build (or reuse) the binaries; print their directory
    python3 hack/cluster/cluster.py up --state DIR        start one; print the kubeconfig path
    python3 hack/cluster/cluster.py down --state DIR      stop every process `up` started there

`up` runs etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
kwok (playing the kubelets of two fake nodes sized like a small node pool),
all on 127.0.0.1 on free ports, each process recorded by pid in
DIR/processes.json; a default StorageClass with a pool of PersistentVolumes
that the real volume controller binds claims to. Nothing listens beyond
loopback and nothing runs a container: kwok marks pods Ready the way a
kubelet would.

`down` stops exactly the recorded processes (checked against their command
lines, so a recycled pid is never signalled): SIGTERM, then SIGKILL after a
grace period. It is safe to call twice, and `up` calls it itself when it fails.

Standard library only; binaries come from hack/cluster/build.sh.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUILD = HERE / "build.sh"
NODES = ("kwok-node-0", "kwok-node-1")
NODE_CAPACITY = {"cpu": "4", "memory": "16Gi", "pods": "110", "ephemeral-storage": "100Gi"}
STORAGE_CLASS = "standard"
VOLUMES = 12  # PersistentVolumes in the pool (each overlay claims two)
VOLUME_SIZE = "50Gi"
START_TIMEOUT = 120.0
STOP_GRACE = 10.0


class ClusterError(Exception):
    """The control plane could not be built or started; the message says which part and why."""


def build(timeout: float = 3600.0) -> Path:
    """The directory holding bin/ and stages/ (built first if need be)."""
    try:
        done = subprocess.run(["bash", str(BUILD)], capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ClusterError(f"building the control plane took more than {timeout:g} s") from exc
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise ClusterError(f"hack/cluster/build.sh failed (exit {done.returncode}):\n{tail}")
    return Path(done.stdout.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(argv: list[str], timeout: float = 60.0, **kwargs) -> subprocess.CompletedProcess[str]:  # noqa: ANN003
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False, **kwargs)


class Cluster:
    """One control plane whose state (data, certificates, logs, pids) lives in ``state``."""

    def __init__(self, state: Path, home: Path | None = None, *, die_with_parent: bool = False,
                 kwok_configs: tuple[Path, ...] = ()) -> None:
        self.state = Path(state).resolve()
        # Tests set this: their processes get SIGTERM when the test run dies, even by SIGKILL.
        self.die_with_parent = die_with_parent
        self.kwok_configs = tuple(kwok_configs)  # more kwok configuration (a ClusterPortForward, ...)
        self.home = home  # the build directory (bin/, stages/); found by build() when None
        self.kubeconfig = self.state / "kubeconfig"
        self.processes_file = self.state / "processes.json"
        self._procs: dict[int, subprocess.Popen] = {}  # started by this object: pid -> process

    # -- processes ------------------------------------------------------------------------------------------

    def _records(self) -> list[dict]:
        try:
            return json.loads(self.processes_file.read_text())
        except (OSError, ValueError):
            return []

    def _record(self, name: str, proc: subprocess.Popen, binary: str) -> None:
        records = self._records()
        records.append({"name": name, "pid": proc.pid, "binary": binary})
        tmp = self.processes_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(records, indent=1))
        tmp.replace(self.processes_file)

    def _start(self, name: str, argv: list[str]) -> subprocess.Popen:
        log = open(self.state / "logs" / f"{name}.log", "ab")  # noqa: SIM115 - the child keeps it
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    cwd=self.state, start_new_session=True,
                                    preexec_fn=_parent_death_signal if self.die_with_parent else None)  # noqa: PLW1509
        finally:
            log.close()
        self._procs[proc.pid] = proc
        self._record(name, proc, argv[0])
        return proc

    def log_tail(self, name: str, lines: int = 20) -> str:
        try:
            text = (self.state / "logs" / f"{name}.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def down(self) -> None:
        """Stop every recorded process (never anything else); idempotent."""
        alive = []
        for rec in reversed(self._records()):
            if self._alive(rec):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(rec["pid"], signal.SIGTERM)
                alive.append(rec)
        deadline = time.monotonic() + STOP_GRACE
        while alive and time.monotonic() < deadline:
            alive = [rec for rec in alive if self._alive(rec)]
            time.sleep(0.1)
        for rec in alive:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(rec["pid"], signal.SIGKILL)
        for proc in self._procs.values():  # reap what this object started (no zombies in a long test run)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=1)
        self._procs.clear()
        with contextlib.suppress(OSError):
            self.processes_file.unlink()

    # -- kubectl ------------------------------------------------------------------------------------------

    @property
    def bin(self) -> Path:
        if self.home is None:
            raise ClusterError("the cluster has no build directory yet (call up() first)")
        return self.home / "bin"

    def kubectl(self, *args: str, stdin: str | None = None, check: bool = True,
                timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        """The built kubectl (same minor as the server) against this cluster."""
        argv = [str(self.bin / "kubectl"), f"--kubeconfig={self.kubeconfig}", *args]
        try:
            done = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise ClusterError(f"kubectl {' '.join(args)} took more than {timeout:g} s") from exc
        if check and done.returncode != 0:
            raise ClusterError(f"kubectl {' '.join(args)} failed (exit {done.returncode}): {done.stderr.strip()}")
        return done

    def env(self) -> dict[str, str]:
        """An environment whose kubectl (first on PATH) talks to this cluster."""
        return {**os.environ, "KUBECONFIG": str(self.kubeconfig), "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}"}

    # -- up ----------------------------------------------------------------------------------------------

    def up(self, timeout: float = START_TIMEOUT) -> Cluster:
        if self.home is None:
            self.home = build()
        if self._records():
            self.down()
        for attempt in (1, 2):
            # A fresh data directory each time; ports are picked free just before each start, and
            # another process can take one in between: a second attempt gets new ports.
            shutil.rmtree(self.state / "etcd", ignore_errors=True)
            for sub in ("logs", "pki", "etcd"):
                (self.state / sub).mkdir(parents=True, exist_ok=True)
            try:
                self._up(time.monotonic() + timeout)
                return self
            except ClusterError as exc:
                self.down()
                if attempt == 2 or "exited" not in str(exc):
                    raise
            except BaseException:
                self.down()
                raise
        return self

    def _up(self, deadline: float) -> None:
        pki = self.state / "pki"
        _certificates(pki)
        token = secrets.token_hex(24)  # a new admin token for every start
        tokens = pki / "tokens.csv"
        tokens.write_text(f"{token},policycheck-admin,policycheck-admin,system:masters\n")
        tokens.chmod(0o600)
        etcd_port, etcd_peer, api_port, kubelet_port = (free_port() for _ in range(4))
        b = self.bin
        self._start("etcd", [
            str(b / "etcd"), "--name=policycheck", f"--data-dir={self.state / 'etcd'}",
            f"--listen-client-urls=http://127.0.0.1:{etcd_port}", f"--advertise-client-urls=http://127.0.0.1:{etcd_port}",
            f"--listen-peer-urls=http://127.0.0.1:{etcd_peer}",
            f"--initial-advertise-peer-urls=http://127.0.0.1:{etcd_peer}",
            f"--initial-cluster=policycheck=http://127.0.0.1:{etcd_peer}", "--unsafe-no-fsync=true",
            "--log-level=warn",
        ])
        self._start("kube-apiserver", [
            str(b / "kube-apiserver"), f"--etcd-servers=http://127.0.0.1:{etcd_port}",
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", f"--secure-port={api_port}",
            f"--cert-dir={pki}", f"--tls-cert-file={pki / 'apiserver.crt'}",
            f"--tls-private-key-file={pki / 'apiserver.key'}", f"--client-ca-file={pki / 'ca.crt'}",
            f"--token-auth-file={pki / 'tokens.csv'}", "--authorization-mode=Node,RBAC",
            "--service-cluster-ip-range=10.0.0.0/24", "--allow-privileged=true",
            f"--service-account-key-file={pki / 'sa.pub'}", f"--service-account-signing-key-file={pki / 'sa.key'}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            # A loopback advertise address is otherwise rejected every few seconds.
            "--endpoint-reconciler-type=none",
            "--kubelet-preferred-address-types=InternalIP",
            f"--kubelet-certificate-authority={pki / 'ca.crt'}",
            f"--kubelet-client-certificate={pki / 'apiserver.crt'}", f"--kubelet-client-key={pki / 'apiserver.key'}",
            "--enable-priority-and-fairness=false", "--profiling=false", "--v=1",
        ])
        self._write_kubeconfig(api_port, token)
        self._wait(deadline, "kube-apiserver", lambda: self.kubectl("get", "--raw=/readyz", check=False,
                                                                    timeout=10).returncode == 0)
        kubeconfig = str(self.kubeconfig)
        self._start("kube-controller-manager", [
            str(b / "kube-controller-manager"), f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}", f"--authorization-kubeconfig={kubeconfig}",
            "--bind-address=127.0.0.1", f"--secure-port={free_port()}", f"--cert-dir={pki / 'kcm'}",
            "--leader-elect=false", "--use-service-account-credentials=false",
            f"--root-ca-file={pki / 'ca.crt'}", f"--service-account-private-key-file={pki / 'sa.key'}",
            "--controllers=*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller,-node-route-controller",
            "--profiling=false", "--v=1",
        ])
        self._start("kube-scheduler", [
            str(b / "kube-scheduler"), f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}", f"--authorization-kubeconfig={kubeconfig}",
            "--bind-address=127.0.0.1", f"--secure-port={free_port()}", f"--cert-dir={pki / 'scheduler'}",
            "--leader-elect=false", "--profiling=false", "--v=1",
        ])
        stages = [*sorted(str(p) for p in (self.home / "stages").glob("*.yaml")), *map(str, self.kwok_configs)]
        self._start("kwok", [
            str(b / "kwok"), f"--kubeconfig={kubeconfig}", "--manage-all-nodes=false",
            "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
            "--node-ip=127.0.0.1", f"--node-port={kubelet_port}", f"--server-address=127.0.0.1:{kubelet_port}",
            f"--tls-cert-file={pki / 'kubelet.crt'}", f"--tls-private-key-file={pki / 'kubelet.key'}",
            "--cidr=10.244.0.1/16", *(f"--config={s}" for s in stages),
        ])
        self.kubectl("apply", "--server-side", "--field-manager=policycheck-cluster", "-f", "-",
                     stdin=_cluster_objects())
        self._wait(deadline, "two Ready kwok nodes", self._nodes_ready)
        self._wait(deadline, "the default ServiceAccount", lambda: self.kubectl(
            "get", "serviceaccount", "default", "-n", "default", check=False, timeout=10).returncode == 0)

    def _nodes_ready(self) -> bool:
        done = self.kubectl("get", "nodes", "-o", "json", check=False, timeout=10)
        if done.returncode != 0:
            return False
        ready = 0
        for node in json.loads(done.stdout).get("items", []):
            conditions = node.get("status", {}).get("conditions", [])
            ready += any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
        return ready >= len(NODES)

    def _wait(self, deadline: float, what: str, ready) -> None:  # noqa: ANN001
        while time.monotonic() < deadline:
            for rec in self._records():
                if not self._alive(rec):
                    raise ClusterError(f"{rec['name']} exited while waiting for {what}:\n{self.log_tail(rec['name'])}")
            if ready():
                return
            time.sleep(0.25)
        raise ClusterError(f"timed out waiting for {what}")

    def _write_kubeconfig(self, port: int, token: str) -> None:
        ca = (self.state / "pki" / "ca.crt").read_bytes()
        import base64  # noqa: PLC0415

        config = {
            "apiVersion": "v1", "kind": "Config", "current-context": "policycheck",
            "clusters": [{"name": "policycheck", "cluster": {
                "server": f"https://127.0.0.1:{port}", "certificate-authority-data": base64.b64encode(ca).decode()}}],
            "users": [{"name": "policycheck-admin", "user": {"token": token}}],
            "contexts": [{"name": "policycheck", "context": {"cluster": "policycheck", "user": "policycheck-admin"}}],
        }
        self.kubeconfig.write_text(json.dumps(config, indent=1))
        self.kubeconfig.chmod(0o600)


    def _alive(self, rec: dict) -> bool:
        """Whether a recorded process still runs: asked of the process object when this object
        started it (a child that has not exec'd yet has the parent's command line), else of /proc."""
        proc = self._procs.get(rec["pid"])
        if proc is not None:
            return proc.poll() is None
        return _is_ours(rec)


def _parent_death_signal() -> None:
    """In the child before exec: SIGTERM when the parent dies (Linux prctl PR_SET_PDEATHSIG)."""
    import ctypes  # noqa: PLC0415

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)


def _is_ours(rec: dict) -> bool:
    """Whether the recorded pid is still the process we started (not a recycled pid)."""
    try:
        cmdline = Path(f"/proc/{rec['pid']}/cmdline").read_bytes()
        stat = Path(f"/proc/{rec['pid']}/stat").read_text()
    except OSError:
        return False
    if stat.rsplit(")", 1)[-1].split()[0] == "Z":
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(rec["pid"], os.WNOHANG)
        return False
    return cmdline.split(b"\0", 1)[0].decode(errors="replace") == rec["binary"]


def _openssl(*args: str) -> None:
    done = _run(["openssl", *args], timeout=60)
    if done.returncode != 0:
        raise ClusterError(f"openssl {args[0]} failed: {done.stderr.strip()[-500:]}")


def _certificates(pki: Path) -> None:
    """A CA, the API server's serving certificate (also its kubelet client certificate), kwok's
    serving certificate and the service-account key pair; all for 127.0.0.1 only."""
    if (pki / "kubelet.crt").exists():
        return
    if not shutil.which("openssl"):
        raise ClusterError("openssl is needed to make the cluster's certificates")
    days = "30"
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(pki / "ca.key"),
             "-out", str(pki / "ca.crt"), "-days", days, "-subj", "/CN=policycheck-cluster-ca")
    for name, subject, alt in (
            ("apiserver", "/O=system:masters/CN=kube-apiserver",
             "subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,"
             "DNS:kubernetes.default.svc"),
            ("kubelet", "/CN=kwok-kubelet", "subjectAltName=IP:127.0.0.1,DNS:localhost")):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(pki / f"{name}.key"),
                 "-out", str(pki / f"{name}.csr"), "-subj", subject)
        ext = pki / f"{name}.ext"
        ext.write_text(f"{alt}\nextendedKeyUsage=serverAuth,clientAuth\n")
        _openssl("x509", "-req", "-in", str(pki / f"{name}.csr"), "-CA", str(pki / "ca.crt"),
                 "-CAkey", str(pki / "ca.key"), "-CAcreateserial", "-out", str(pki / f"{name}.crt"),
                 "-days", days, "-extfile", str(ext))
    _openssl("genrsa", "-out", str(pki / "sa.key"), "2048")
    _openssl("rsa", "-in", str(pki / "sa.key"), "-pubout", "-out", str(pki / "sa.pub"))


def _cluster_objects() -> str:
    """Two kwok nodes, a default StorageClass and a pool of volumes for it, as a JSON list."""
    items: list[dict] = []
    for i, name in enumerate(NODES):
        items.append({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name,
                         "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
                         "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                                    "kubernetes.io/arch": "amd64", "type": "kwok",
                                    "topology.kubernetes.io/zone": f"zone-{'ab'[i % 2]}"}},
            "status": {"capacity": NODE_CAPACITY, "allocatable": NODE_CAPACITY},
        })
    items.append({
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
        "metadata": {"name": STORAGE_CLASS, "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
        "provisioner": "kubernetes.io/no-provisioner", "volumeBindingMode": "Immediate",
        "reclaimPolicy": "Retain", "allowVolumeExpansion": True,
    })
    for i in range(VOLUMES):
        items.append({
            "apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": f"pool-{i:02d}"},
            "spec": {"capacity": {"storage": VOLUME_SIZE}, "accessModes": ["ReadWriteOnce"],
                     "persistentVolumeReclaimPolicy": "Retain", "storageClassName": STORAGE_CLASS,
                     # An API object only: no kubelet ever mounts it (kwok plays the nodes).
                     "hostPath": {"path": f"/var/lib/policycheck-cluster/pool-{i:02d}"}},
        })
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": items})


@contextlib.contextmanager
def running(state: Path | None = None) -> Iterator[Cluster]:
    """A cluster for the length of a with-block; always stopped afterwards."""
    with contextlib.ExitStack() as stack:
        if state is None:
            state = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="policycheck-cluster-")))
        cluster = Cluster(state, die_with_parent=True)
        stack.callback(cluster.down)
        yield cluster.up()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cluster.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("build", "up", "down"))
    parser.add_argument("--state", type=Path, help="state directory of the cluster (up, down)")
    parser.add_argument("--timeout", type=float, default=START_TIMEOUT, help="seconds to wait for start-up")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            print(build())
            return 0
        if args.state is None:
            parser.error(f"{args.command} needs --state DIR")
        cluster = Cluster(args.state)
        if args.command == "down":
            cluster.down()
            return 0
        cluster.up(args.timeout)
        print(cluster.kubeconfig)
        return 0
    except (ClusterError, OSError, subprocess.SubprocessError) as exc:
        print(f"cluster: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
