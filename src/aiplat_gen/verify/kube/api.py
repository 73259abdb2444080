"""A small client of the Kubernetes REST API: discovery, server-side apply, reads, status patches.

`simulate` talks to a control plane it starts itself (bearer token, its own CA) and
`check --cluster` to the user's cluster (a kubeconfig: token, client certificate or an exec
credential plugin such as `aws eks get-token`). Both need only a handful of calls, so this is
the standard library's HTTP client rather than the `kubernetes` package, whose dependency tree
(aiohttp, oauthlib, websockets, ...) would be larger than everything else the tool installs.

Refusals come back as `ApiError` carrying the API server's own `Status` message, unchanged.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import ssl
import subprocess
import tempfile
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiplat_gen.core import yamlio
from aiplat_gen.core.errors import AiplatError, ExitCode

FIELD_MANAGER = "aiplat-gen"
NO_KIND = "no matches for kind"
"""How a refusal of a kind the server does not serve begins (kubectl's words)."""
_TIMEOUT_SECONDS = 60


class ApiError(AiplatError):
    """The API server answered with an error status; `message` is its own words."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class ConfigError(AiplatError):
    """No usable connection settings (kubeconfig, context, credentials): exit 2."""

    exit_code = ExitCode.USAGE


@dataclass(frozen=True)
class Resource:
    """Where a kind lives in the API: its plural and whether it is namespaced."""

    group_version: str
    kind: str
    plural: str
    namespaced: bool
    subresources: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Connection:
    """How to reach an API server and who we are there."""

    server: str
    token: str | None = None
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    insecure: bool = False


@dataclass
class Client:
    """REST calls against one API server; kinds are resolved by discovery, cached per run."""

    connection: Connection
    _resources: dict[tuple[str, str], Resource] = field(default_factory=dict)
    _context: ssl.SSLContext | None = None
    _http: http.client.HTTPConnection | None = None
    _prefix: str = ""

    # -- plumbing --------------------------------------------------------------------------

    def _ssl(self) -> ssl.SSLContext:
        if self._context is None:
            conn = self.connection
            context = ssl.create_default_context(cafile=conn.ca_file)
            if conn.insecure:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            if conn.cert_file and conn.key_file:
                context.load_cert_chain(conn.cert_file, conn.key_file)
            self._context = context
        return self._context

    def _connect(self) -> http.client.HTTPConnection:
        if self._http is None:
            url = urllib.parse.urlsplit(self.connection.server)
            if url.scheme == "https":
                self._http = http.client.HTTPSConnection(
                    url.hostname or "", url.port, timeout=_TIMEOUT_SECONDS, context=self._ssl())
            else:
                self._http = http.client.HTTPConnection(url.hostname or "", url.port,
                                                        timeout=_TIMEOUT_SECONDS)
            self._prefix = url.path.rstrip("/")
        return self._http

    def close(self) -> None:
        """Close the connection (the next call opens a new one)."""
        if self._http is not None:
            self._http.close()
            self._http = None

    def request(self, method: str, path: str, body: Any = None,
                content_type: str = "application/json", query: dict[str, str] | None = None,
                ) -> Any:
        """One call; returns the decoded JSON answer (plain text for a non-JSON answer), raises
        ApiError with the server's message. One kept-alive connection serves every call (a TLS
        handshake per call made the simulation's thousands of calls several times slower)."""
        target = path + ("?" + urllib.parse.urlencode(query) if query else "")
        data = None
        if body is not None:
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = content_type
        if self.connection.token:
            headers["Authorization"] = f"Bearer {self.connection.token}"
        for attempt in (1, 2):
            try:
                conn = self._connect()
                conn.request(method, self._prefix + target, body=data, headers=headers)
                answer = conn.getresponse()
                raw = answer.read()
                break
            except (http.client.HTTPException, OSError) as exc:
                self.close()  # a dropped keep-alive connection: one new try
                if attempt == 2:
                    raise AiplatError(f"cannot reach the API server at "
                                      f"{self.connection.server}: {exc}") from None
        if answer.status >= 400:
            raise _api_error(answer.status, raw)
        if "json" not in answer.getheader("Content-Type", ""):
            return raw.decode("utf-8", "replace")  # /readyz and friends answer in plain text
        return json.loads(raw) if raw else None

    # -- discovery -------------------------------------------------------------------------

    def resource(self, api_version: str, kind: str) -> Resource:
        """The resource of a kind (discovery of its group version, once per run)."""
        found = self._resources.get((api_version, kind))
        if found is None:
            self._discover(api_version)
            found = self._resources.get((api_version, kind))
        if found is None:
            raise ApiError(404, "NotFound", f'{NO_KIND} "{kind}" in version "{api_version}" '
                                            "(is its CRD installed?)")
        return found

    def _discover(self, api_version: str) -> None:
        path = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
        try:
            listing = self.request("GET", path)
        except ApiError as exc:
            if exc.status == 404:
                return
            raise
        subresources: dict[str, set[str]] = {}
        for item in listing.get("resources", []):
            base, _, sub = item["name"].partition("/")
            if sub:
                subresources.setdefault(base, set()).add(sub)
        for item in listing.get("resources", []):
            if "/" in item["name"]:
                continue
            self._resources[(api_version, item["kind"])] = Resource(
                api_version, item["kind"], item["name"], bool(item["namespaced"]),
                frozenset(subresources.get(item["name"], ())))

    def forget(self) -> None:
        """Drop what discovery found (after new CRDs are established)."""
        self._resources.clear()

    def path(self, api_version: str, kind: str, namespace: str | None = None,
             name: str | None = None, subresource: str | None = None) -> str:
        """The URL path of a kind's collection, one object, or its subresource."""
        res = self.resource(api_version, kind)
        prefix = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
        parts = [prefix]
        if res.namespaced:
            parts.append(f"namespaces/{namespace or 'default'}")
        parts.append(res.plural)
        if name:
            parts.append(name)
        if subresource:
            parts.append(subresource)
        return "/".join(parts)

    # -- verbs -----------------------------------------------------------------------------

    def apply(self, obj: dict[str, Any], dry_run: bool = False) -> Any:
        """Server-side apply of one object, as ArgoCD's `ServerSideApply=true` does (forcing
        conflicts: this tool is the object's one manager)."""
        meta = obj.get("metadata", {})
        query = {"fieldManager": FIELD_MANAGER, "force": "true"}
        if dry_run:
            query["dryRun"] = "All"
        return self.request("PATCH", self.path(obj["apiVersion"], obj["kind"],
                                               meta.get("namespace"), meta["name"]),
                            obj, "application/apply-patch+yaml", query)  # JSON is YAML

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> Any:
        """One object."""
        return self.request("GET", self.path(api_version, kind, namespace, name))

    def list(self, api_version: str, kind: str, namespace: str | None = None,
             label_selector: str | None = None) -> list[Any]:
        """Every object of a kind (in one namespace, or in all when None)."""
        res = self.resource(api_version, kind)
        prefix = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
        path = (f"{prefix}/namespaces/{namespace}/{res.plural}" if namespace and res.namespaced
                else f"{prefix}/{res.plural}")
        query = {"labelSelector": label_selector} if label_selector else None
        return list(self.request("GET", path, query=query).get("items", []))

    def create(self, obj: dict[str, Any]) -> Any:
        """Create one object (POST)."""
        meta = obj.get("metadata", {})
        return self.request("POST", self.path(obj["apiVersion"], obj["kind"],
                                              meta.get("namespace")), obj)

    def merge_patch(self, api_version: str, kind: str, name: str, patch: dict[str, Any],
                    namespace: str | None = None, subresource: str | None = None) -> Any:
        """A JSON merge patch of an object or of its `status` / `scale` subresource."""
        return self.request("PATCH", self.path(api_version, kind, namespace, name, subresource),
                            patch, "application/merge-patch+json")


def _api_error(code: int, raw: bytes) -> ApiError:
    try:
        status = json.loads(raw)
    except ValueError:
        return ApiError(code, "", raw.decode("utf-8", "replace").strip())
    if not isinstance(status, dict):
        return ApiError(code, "", str(status))
    return ApiError(code, str(status.get("reason", "")), str(status.get("message", "")))


# -- kubeconfig ----------------------------------------------------------------------------

def kubeconfig_paths() -> list[Path]:
    """The kubeconfig files kubectl reads: `$KUBECONFIG` (a list), else `~/.kube/config`."""
    if env := os.environ.get("KUBECONFIG"):
        return [Path(p) for p in env.split(os.pathsep) if p]
    return [Path.home() / ".kube" / "config"]


def from_kubeconfig(context: str | None, workdir: Path) -> Connection:
    """A connection from the kubeconfig, as kubectl would make it (the first file that sets a
    value wins); inline certificate data is written to files under `workdir`."""
    merged: dict[str, dict[str, Any]] = {"clusters": {}, "users": {}, "contexts": {}}
    current = None
    for path in kubeconfig_paths():
        if not path.is_file():
            continue
        try:
            data = yamlio.load_all(path.read_text(encoding="utf-8"))[0]
        except (OSError, UnicodeDecodeError, IndexError, ValueError) as exc:
            raise ConfigError(f"cannot read kubeconfig {path}: {exc}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"kubeconfig {path} is not a mapping")
        current = current or data.get("current-context")
        for section, items in (("clusters", "cluster"), ("users", "user"),
                               ("contexts", "context")):
            for entry in data.get(section) or []:
                if isinstance(entry, dict) and "name" in entry:
                    merged[section].setdefault(entry["name"], dict(entry.get(items) or {}))
    name = context or current
    if not name:
        raise ConfigError("no kubeconfig context: set current-context or give --context "
                          f"(looked in {', '.join(map(str, kubeconfig_paths()))})")
    ctx = merged["contexts"].get(name)
    if ctx is None:
        known = ", ".join(sorted(merged["contexts"])) or "none"
        raise ConfigError(f"kubeconfig has no context {name!r} (contexts: {known})")
    cluster = merged["clusters"].get(ctx.get("cluster", ""), {})
    user = merged["users"].get(ctx.get("user", ""), {})
    if "server" not in cluster:
        raise ConfigError(f"context {name!r}: its cluster has no server")

    def materialise(data_key: str, file_key: str, section: dict[str, Any]) -> str | None:
        if section.get(data_key):
            target = workdir / data_key
            target.write_bytes(base64.b64decode(section[data_key]))
            return str(target)
        return str(section[file_key]) if section.get(file_key) else None

    token = user.get("token")
    if not token and user.get("tokenFile"):
        token = Path(user["tokenFile"]).read_text(encoding="utf-8").strip()
    cert = materialise("client-certificate-data", "client-certificate", user)
    key = materialise("client-key-data", "client-key", user)
    if user.get("exec"):
        token, cert, key = _exec_credential(user["exec"], workdir, token, cert, key)
    return Connection(server=str(cluster["server"]), token=token,
                      ca_file=materialise("certificate-authority-data",
                                          "certificate-authority", cluster),
                      cert_file=cert, key_file=key,
                      insecure=bool(cluster.get("insecure-skip-tls-verify")))


def _exec_credential(spec: dict[str, Any], workdir: Path, token: str | None, cert: str | None,
                     key: str | None) -> tuple[str | None, str | None, str | None]:
    """Run a client-go credential plugin (`users[].user.exec`) and read its ExecCredential."""
    env = dict(os.environ)
    for item in spec.get("env") or []:
        env[str(item["name"])] = str(item["value"])
    api_version = spec.get("apiVersion", "client.authentication.k8s.io/v1")
    env["KUBERNETES_EXEC_INFO"] = json.dumps(
        {"apiVersion": api_version, "kind": "ExecCredential", "spec": {"interactive": False}})
    command = [str(spec["command"]), *map(str, spec.get("args") or [])]
    try:
        proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(f"kubeconfig credential plugin {command[0]}: {exc}") from None
    if proc.returncode != 0:
        raise ConfigError(f"kubeconfig credential plugin {command[0]} failed: "
                          f"{proc.stderr.strip()}")
    status = json.loads(proc.stdout).get("status", {})
    if status.get("clientCertificateData"):
        cert = str(workdir / "exec-cert.pem")
        Path(cert).write_text(status["clientCertificateData"], encoding="utf-8")
        key = str(workdir / "exec-key.pem")
        Path(key).write_text(status["clientKeyData"], encoding="utf-8")
    return status.get("token", token), cert, key


def private_dir() -> Path:
    """A folder only this user can read, for credentials taken from a kubeconfig."""
    return Path(tempfile.mkdtemp(prefix="aiplat-gen-kube-"))
