"""A throwaway Kubernetes control plane on loopback: etcd, kube-apiserver, kube-controller-manager
and kube-scheduler, from the binaries `scripts/install-controlplane.sh` builds.

There is no kubelet: nodes are Node objects whose status the simulation writes, so pods are
admitted, created by their controllers and bound by the scheduler, but never run. What each
process needs to start, and why:

- kube-apiserver makes no serving certificate we could trust, so a CA-less self-signed one is
  made with openssl (for 127.0.0.1) and given as the trust anchor to every client; the
  service-account signing key is another openssl key. The admin is a static token in
  `system:masters`, authorization is RBAC as on a real cluster, and the default admission
  plugins (LimitRanger, ResourceQuota, PodSecurity, ServiceAccount, Priority, ...) run.
- kube-controller-manager runs every default controller except those that need a kubelet or a
  cloud: `node-lifecycle-controller` would mark every node unreachable and evict its pods;
  `node-ipam-controller`, `cloud-node-lifecycle-controller`, `service-lb-controller` and
  `node-route-controller` need a cloud provider.
- kube-scheduler with its default profile.

Every process listens on a free loopback port and writes its log into the work folder, which is
removed on exit (kept with `keep=True`, for a post-mortem).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiplat_gen.core import yamlio
from aiplat_gen.core.errors import AiplatError, ExitCode
from aiplat_gen.verify.kube.api import ApiError, Client, Connection
from aiplat_gen.verify.kube.kubeconform import find_tool

BINARIES = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")
SERVICE_CIDR = "10.96.0.0/16"
# Controllers that need a kubelet or a cloud provider (names as `--controllers` takes them in
# Kubernetes 1.35: cmd/kube-controller-manager/names/controller_names.go).
DISABLED_CONTROLLERS = ("node-lifecycle-controller", "node-ipam-controller",
                        "cloud-node-lifecycle-controller", "service-lb-controller",
                        "node-route-controller")
_START_TIMEOUT_SECONDS = 120


class MissingControlPlaneError(AiplatError):
    """A control-plane binary is not installed: a problem of the environment (exit 2)."""

    exit_code = ExitCode.USAGE


class ControlPlaneError(AiplatError):
    """A control-plane process did not start; the message ends with the tail of its log."""


@dataclass(frozen=True)
class ControlPlane:
    """A running control plane: a client for it and where its files are."""

    client: Client
    workdir: Path
    server: str


def find_binaries(bin_dir: Path | None) -> dict[str, Path]:
    """The four binaries: from `bin_dir` when given, else `$AIPLAT_TOOLS/bin`, the checkout's
    `.tools/bin` or PATH. Missing ones are a usage error that says how to build them."""
    found: dict[str, Path] = {}
    missing = []
    for name in BINARIES:
        candidate = bin_dir / name if bin_dir is not None else None
        if candidate is not None and candidate.is_file() and os.access(candidate, os.X_OK):
            found[name] = candidate
            continue
        if bin_dir is None:
            try:
                found[name] = find_tool(name)
                continue
            except AiplatError:
                pass
        missing.append(name)
    if missing:
        where = str(bin_dir) if bin_dir is not None else "$AIPLAT_TOOLS/bin, .tools/bin or PATH"
        raise MissingControlPlaneError(
            f"{', '.join(missing)} not found in {where}; build the pinned control plane with "
            "`bash scripts/install-controlplane.sh` from an aiplat-gen checkout (Go needed; "
            "binaries go to .tools/bin) or pass --k8s-bin DIR")
    return found


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _openssl(*args: str) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        raise MissingControlPlaneError("openssl not found on PATH; it makes the control "
                                       "plane's keys")
    proc = subprocess.run([openssl, *args], capture_output=True, text=True, check=False,
                          timeout=60)
    if proc.returncode != 0:
        raise ControlPlaneError(f"openssl {args[0]} failed: {proc.stderr.strip()}")


def _kubeconfig(path: Path, server: str, ca: Path, token: str) -> None:
    path.write_text(
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- name: sim\n  cluster:\n    server: {server}\n"
        f"    certificate-authority: {ca}\n"
        f"users:\n- name: admin\n  user:\n    token: {token}\n"
        "contexts:\n- name: sim\n  context:\n    cluster: sim\n    user: admin\n"
        "current-context: sim\n", encoding="utf-8")
    path.chmod(0o600)


class _Processes:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.running: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        log = (self.workdir / f"{name}.log").open("wb")
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        self.running.append((name, proc))
        return proc

    def check_alive(self) -> None:
        for name, proc in self.running:
            if proc.poll() is not None:
                raise ControlPlaneError(f"{name} exited with status {proc.returncode}:\n"
                                        + self.tail(name))

    def tail(self, name: str, lines: int = 15) -> str:
        try:
            text = (self.workdir / f"{name}.log").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, graceful: bool) -> None:
        """Stop every process, the last started first. Without `graceful` they are killed:
        nothing of a throwaway cluster needs a clean shutdown, and the API server's graceful
        one waits for its watchers for many seconds. etcd is always let close its database."""
        for name, proc in reversed(self.running):
            if proc.poll() is None:
                if graceful or name == "etcd":
                    proc.terminate()
                else:
                    proc.kill()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=30)


def _wait_ready(client: Client, procs: _Processes) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_SECONDS
    last = ""
    while time.monotonic() < deadline:
        procs.check_alive()
        try:
            client.request("GET", "/readyz")
            return
        except ApiError as exc:
            last = exc.message
        except AiplatError as exc:
            last = exc.message
        time.sleep(0.5)
    raise ControlPlaneError(f"kube-apiserver not ready after {_START_TIMEOUT_SECONDS} s "
                            f"({last}):\n" + procs.tail("kube-apiserver"))


@contextmanager
def control_plane(bin_dir: Path | None = None, keep: bool = False,
                  etcd_data: Path | None = None, controllers: bool = True,
                  ) -> Iterator[ControlPlane]:
    """Start etcd, kube-apiserver, kube-controller-manager and kube-scheduler; stop them and
    remove their files on exit. `etcd_data` is a data folder to start from (a copy is used: see
    `crd_snapshot`); without `controllers` only etcd and the API server run."""
    binaries = find_binaries(bin_dir)
    workdir = Path(tempfile.mkdtemp(prefix="aiplat-gen-controlplane-"))
    if etcd_data is not None:
        shutil.copytree(etcd_data, workdir / "etcd")
    procs = _Processes(workdir)
    client: Client | None = None
    try:
        certs = workdir / "pki"
        certs.mkdir()
        ca, serving_key = certs / "serving.crt", certs / "serving.key"
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                 "-subj", "/CN=aiplat-gen-simulation", "-keyout", str(serving_key),
                 "-out", str(ca), "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost")
        sa_key = certs / "service-account.key"
        _openssl("genrsa", "-out", str(sa_key), "2048")
        token = secrets.token_hex(24)
        tokens = certs / "tokens.csv"
        tokens.write_text(f'{token},aiplat-gen-admin,aiplat-gen-admin,"system:masters"\n',
                          encoding="utf-8")

        etcd_client, etcd_peer = _free_port(), _free_port()
        procs.start("etcd", [
            str(binaries["etcd"]), "--name", "sim", "--data-dir", str(workdir / "etcd"),
            "--listen-client-urls", f"http://127.0.0.1:{etcd_client}",
            "--advertise-client-urls", f"http://127.0.0.1:{etcd_client}",
            "--listen-peer-urls", f"http://127.0.0.1:{etcd_peer}",
            "--initial-advertise-peer-urls", f"http://127.0.0.1:{etcd_peer}",
            "--initial-cluster", f"sim=http://127.0.0.1:{etcd_peer}",
            "--log-level", "warn", "--unsafe-no-fsync"])

        port = _free_port()
        server = f"https://127.0.0.1:{port}"
        procs.start("kube-apiserver", [
            str(binaries["kube-apiserver"]),
            f"--etcd-servers=http://127.0.0.1:{etcd_client}",
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
            f"--secure-port={port}",
            f"--tls-cert-file={ca}", f"--tls-private-key-file={serving_key}",
            f"--token-auth-file={tokens}",
            "--authorization-mode=RBAC",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={sa_key}",
            f"--service-account-signing-key-file={sa_key}",
            f"--cert-dir={certs}"])
        client = Client(Connection(server=server, token=token, ca_file=str(ca)))
        _wait_ready(client, procs)

        kubeconfig = workdir / "kubeconfig"
        _kubeconfig(kubeconfig, server, ca, token)
        if not controllers:
            yield ControlPlane(client, workdir, server)
            return
        procs.start("kube-controller-manager", [
            str(binaries["kube-controller-manager"]), f"--kubeconfig={kubeconfig}",
            "--leader-elect=false", "--secure-port=0",
            "--controllers=*," + ",".join(f"-{c}" for c in DISABLED_CONTROLLERS),
            f"--service-account-private-key-file={sa_key}", f"--root-ca-file={ca}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            # The volume binder retries a pre-bound claim only on this period (15 s by
            # default): the simulation would wait that long for every volume it provides.
            "--pvclaimbinder-sync-period=1s",
            # Quota admission charges a pod before it is stored; a create that then fails (a
            # timeout on a loaded machine) leaves `used` too high until the next full sync (5 m
            # by default), and a later pod of the same workload is refused for GPUs it could
            # have. A CI run at load 10 saw exactly that; a short period corrects it in time.
            "--resource-quota-sync-period=2s"])
        procs.start("kube-scheduler", [
            str(binaries["kube-scheduler"]), f"--kubeconfig={kubeconfig}",
            "--leader-elect=false", "--secure-port=0"])
        time.sleep(0.5)
        procs.check_alive()
        yield ControlPlane(client, workdir, server)
    finally:
        if client is not None:
            client.close()
        procs.stop(graceful=not controllers)
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)



def crd_snapshot(files: list[Path], cache: Path, bin_dir: Path | None = None) -> Path:
    """An etcd data folder holding the CustomResourceDefinitions of these YAML files,
    Established: every control plane started from a copy has them at once. Creating 40 large
    CRDs and waiting for them takes a fresh API server 15 s or more, so it is done once and
    kept in `cache`, keyed by the binaries and the files' bytes."""
    binaries = find_binaries(bin_dir)
    digest = hashlib.sha256()
    for name in ("etcd", "kube-apiserver"):
        stat = binaries[name].stat()
        digest.update(f"{binaries[name]}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    for path in files:
        digest.update(f"{path.name}:".encode() + hashlib.sha256(path.read_bytes()).digest())
    target = cache / digest.hexdigest()[:32]
    if (target / "member").is_dir():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    crds = [d for path in files for d in yamlio.load_all(path.read_text(encoding="utf-8"))
            if isinstance(d, dict) and d.get("kind") == "CustomResourceDefinition"]
    with control_plane(bin_dir, keep=True, controllers=False) as plane:
        for crd in crds:
            plane.client.create(crd)
        wait_established(plane.client, crds)
    # The processes have stopped: etcd's data is complete on disk.
    staged = Path(tempfile.mkdtemp(prefix=".staging-", dir=cache))
    shutil.move(plane.workdir / "etcd", staged / "data")
    shutil.rmtree(plane.workdir, ignore_errors=True)
    try:
        (staged / "data").rename(target)
    except OSError:  # another run published the same snapshot first
        pass
    shutil.rmtree(staged, ignore_errors=True)
    return target


def wait_established(client: Client, crds: list[dict[str, Any]],
                     timeout: float = _START_TIMEOUT_SECONDS) -> None:
    """Wait until every CRD is Established (its API is served)."""
    deadline = time.monotonic() + timeout
    pending = [c["metadata"]["name"] for c in crds]
    while pending:
        still = []
        for name in pending:
            got = client.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", name)
            conditions = got.get("status", {}).get("conditions") or []
            if not any(c.get("type") == "Established" and c.get("status") == "True"
                       for c in conditions):
                still.append(name)
        pending = still
        if pending and time.monotonic() > deadline:
            raise ControlPlaneError(f"CustomResourceDefinitions not Established after "
                                    f"{timeout:.0f} s: {', '.join(pending)}")
        if pending:
            time.sleep(0.2)
