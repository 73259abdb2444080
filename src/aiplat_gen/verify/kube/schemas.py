"""Kubernetes JSON schemas for kubeconform, prepared offline from the `kubernetes-validate` package.

`kubernetes-validate` ships strict schemas for each Kubernetes minor version
(`kubernetes_validate/kubernetes-json-schema/v1.33.0-local-strict/deployment-apps-v1.json`), but in
a form kubeconform cannot load from a folder: every file has an `$id` under `https://kubernetes.io/`
and refers to shared definitions as `/api/_definitions.json#/$defs/...`, so kubeconform would
resolve them against kubernetes.io and go to the network. This module writes a copy with `$id`
removed and those refs made relative (`_definitions.json#/$defs/...`), which kubeconform resolves
next to the file it loaded.

The package is found through its installed distribution metadata, never imported: importing
`kubernetes_validate` pulls in jsonschema, referencing, PyYAML and more.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import shutil
import tempfile
import uuid
from importlib import metadata
from pathlib import Path
from typing import Any

from aiplat_gen.core.errors import AiplatError, ExitCode
from aiplat_gen.core.files import UnreadableFileError, read_bounded
from aiplat_gen.verify.kube.locations import CATALOG_FILE, KUBERNETES_FILE

SOURCE_DISTRIBUTION = "kubernetes-validate"
_SOURCE_DATA_DIR = "kubernetes_validate/kubernetes-json-schema"
# Bump when the conversion below changes, so existing caches are rebuilt. 2: the marker records
# each file's sha256.
_FORMAT = 2
_MARKER = ".aiplat-schemas.json"
_DEFINITIONS = "_definitions.json"
_ABSOLUTE_DEFINITIONS_REF = "/api/_definitions.json#"
_SOURCE_DIR_RE = re.compile(r"^v(\d+)\.(\d+)\.0-local-strict$")
_VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?$")
_PUBLISH_ATTEMPTS = 5


MAX_SCHEMA_BYTES = 64 * 1024 * 1024
"""The largest schema file read (a prepared one, or one of a `--schema-location` folder). The
largest real ones are about 2 MB (ArgoCD's ApplicationSet CRD, /work/shared/schemas/crds; the
1.36 `_definitions.json` of kubernetes-validate 1.37.0 is 1.6 MB): 64 MiB is thirty times that,
and keeps `/dev/zero` or a runaway file from filling memory."""


class KubernetesSchemaError(AiplatError):
    """The Kubernetes schemas cannot be prepared (package missing, version unknown, bad data, a
    cache folder that cannot be written): a problem of the environment (exit 2)."""

    exit_code = ExitCode.USAGE


def kubeconform_schema_filename(kind: str, api_version: str) -> str:
    """Return the file name kubeconform v0.7.0 makes of `{{ .ResourceKind }}{{ .KindSuffix }}.json`.

    Mirrors `schemaPath` in kubeconform's `pkg/registry/registry.go`: the kind lower-cased, then
    `-` and the first dot-separated label of the group (or the version, for the core group), then
    `-` and the version when there is a group. `Service v1` -> `service-v1.json`,
    `Deployment apps/v1` -> `deployment-apps-v1.json`,
    `PriorityClass scheduling.k8s.io/v1` -> `priorityclass-scheduling-v1.json`.
    """
    group_parts = api_version.split("/")
    suffix = "-" + group_parts[0].split(".")[0].lower()
    if len(group_parts) > 1:
        suffix += "-" + group_parts[1].lower()
    return f"{kind.lower()}{suffix}.json"


def kubeconform_schema_locations(k8s_dir: Path, crd_dirs: list[Path]) -> list[str]:
    """Return kubeconform `-schema-location` templates: Kubernetes kinds first, then CRD folders.

    `k8s_dir` is a folder from `prepare_kubernetes_schemas`. CRD folders use the CRDs-catalog
    layout, `<dir>/<group>/<kind>_<version>.json` (`keda.sh/scaledobject_v1alpha1.json`).
    kubeconform lower-cases `.ResourceKind`; `.Group` is the API group as written and
    `.ResourceAPIVersion` the part after the slash.
    """
    locations = [f"{k8s_dir.absolute()}/{KUBERNETES_FILE}"]
    locations += [f"{crd_dir.absolute()}/{CATALOG_FILE}" for crd_dir in crd_dirs]
    return locations


def supported_kubernetes_versions() -> list[str]:
    """Return the `major.minor` versions the installed `kubernetes-validate` has schemas for."""
    root, _ = _source()
    return [f"{major}.{minor}" for major, minor in sorted(_source_dirs(root))]


def prepare_kubernetes_schemas(kubernetes_version: str, cache_dir: Path) -> Path:
    """Write kubeconform-ready schemas for `kubernetes_version` into `cache_dir`; return the folder.

    `kubernetes_version` is `1.33`, `1.33.2` or `v1.33.2`; only major and minor matter. The folder
    is `cache_dir/v1.33.0-standalone-strict`. A marker file records the source package version, so
    a second call returns at once; a stale or half-written folder is replaced. The marker also
    records the sha256 of every file, checked on each call: a file changed in the cache (a
    truncated schema, one replaced with `{}` that would accept anything) or a file added or
    removed makes the folder stale, and it is prepared again. The folder is built in a temporary
    sibling and renamed into place, so concurrent callers never see a partial one.
    """
    major, minor = _parse_version(kubernetes_version)
    root, source_version = _source()
    sources = _source_dirs(root)
    if (major, minor) not in sources:
        supported = ", ".join(f"{a}.{b}" for a, b in sorted(sources))
        raise KubernetesSchemaError(
            f"no Kubernetes schemas for version {kubernetes_version!r} in "
            f"{SOURCE_DISTRIBUTION} {source_version}; supported: {supported}"
        )
    cache_dir = cache_dir.absolute()
    target = cache_dir / f"v{major}.{minor}.0-standalone-strict"
    marker = {"source": f"{SOURCE_DISTRIBUTION}=={source_version}", "format": _FORMAT}
    if _has_marker(target, marker):
        return target

    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=cache_dir))
    except OSError as exc:
        raise KubernetesSchemaError(f"cannot write the schema cache {cache_dir}: "
                                    f"{exc.strerror or exc}; set AIPLAT_GEN_CACHE to a "
                                    "writable folder") from None
    try:
        _convert(sources[(major, minor)], work)
        files = {path.name: _sha256(path.read_bytes()) for path in sorted(work.iterdir())}
        recorded = {**marker, "files": files}
        (work / _MARKER).write_text(json.dumps(recorded, sort_keys=True) + "\n",
                                    encoding="utf-8")
        _publish(work, target, marker)
    except OSError as exc:
        raise KubernetesSchemaError(f"cannot write the schema cache {cache_dir}: "
                                    f"{exc.strerror or exc}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def _parse_version(kubernetes_version: str) -> tuple[int, int]:
    match = _VERSION_RE.match(kubernetes_version.strip())
    if match is None:
        raise KubernetesSchemaError(
            f"invalid Kubernetes version {kubernetes_version!r}; expected e.g. 1.33 or 1.33.2"
        )
    return int(match.group(1)), int(match.group(2))


def _source() -> tuple[Path, str]:
    """Return the installed package's schema folder and the package version."""
    try:
        dist = metadata.distribution(SOURCE_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        raise KubernetesSchemaError(
            f"{SOURCE_DISTRIBUTION} is not installed; it provides the Kubernetes schemas "
            f"(pip install '{SOURCE_DISTRIBUTION}==1.37.0')"
        ) from None
    root = Path(str(dist.locate_file(_SOURCE_DATA_DIR)))
    if not root.is_dir():
        raise KubernetesSchemaError(
            f"{SOURCE_DISTRIBUTION} {dist.version} has no schema folder at {root}"
        )
    return root, dist.version


def _source_dirs(root: Path) -> dict[tuple[int, int], Path]:
    found: dict[tuple[int, int], Path] = {}
    for child in root.iterdir():
        match = _SOURCE_DIR_RE.match(child.name)
        if match and child.is_dir():
            found[(int(match.group(1)), int(match.group(2)))] = child
    return found


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _has_marker(folder: Path, marker: dict[str, Any]) -> bool:
    """True when `folder` is complete for `marker`: its marker names the same source and format,
    and its files are exactly those the marker records, each with the recorded sha256."""
    try:
        found = json.loads(read_bounded(folder / _MARKER, MAX_SCHEMA_BYTES))
        files = found.pop("files", None) if isinstance(found, dict) else None
        if found != marker or not isinstance(files, dict) or not files:
            return False
        if {p.name for p in folder.iterdir() if p.name != _MARKER} != set(files):
            return False
        return all(_sha256(read_bounded(folder / name, MAX_SCHEMA_BYTES)) == digest
                   for name, digest in files.items())
    except (OSError, ValueError, UnreadableFileError):
        return False


def _convert(source: Path, dest: Path) -> None:
    """Copy every schema from `source` to `dest` in the form kubeconform loads from a folder."""
    names = {path.name for path in source.glob("*.json")}
    for name in sorted(names):
        doc = json.loads((source / name).read_bytes())
        if not isinstance(doc, dict):
            raise KubernetesSchemaError(f"{source / name}: expected a JSON object")
        doc.pop("$id", None)
        _relativise_refs(doc, source / name)
        text = json.dumps(doc, separators=(",", ":"))
        (dest / name).write_text(text, encoding="utf-8")
        # kubernetes-validate names a few files after the Go package, not the API group
        # (`storageversion-apiserverinternal-v1alpha1.json` for internal.apiserver.k8s.io);
        # also write them under the name kubeconform computes.
        gvks = doc.get("x-kubernetes-group-version-kind")
        if isinstance(gvks, list) and len(gvks) == 1:
            gvk = gvks[0]
            api_version = f"{gvk['group']}/{gvk['version']}" if gvk["group"] else gvk["version"]
            alias = kubeconform_schema_filename(gvk["kind"], api_version)
            if alias not in names:
                (dest / alias).write_text(text, encoding="utf-8")


def _relativise_refs(node: Any, origin: Path) -> None:
    """Rewrite `/api/_definitions.json#...` refs in place; refuse any other non-local ref.

    A ref kubeconform cannot resolve does not fail loudly: it makes the schema "not found", so an
    unexpected layout in a future package version is caught here instead.
    """
    if isinstance(node, dict):
        for key, value in node.items():
            # JSONSchemaProps has a *property* named "$ref"; only string values are references.
            if key == "$ref" and isinstance(value, str):
                if value.startswith(_ABSOLUTE_DEFINITIONS_REF):
                    fragment = value[len(_ABSOLUTE_DEFINITIONS_REF) :]
                    node[key] = f"{_DEFINITIONS}#{fragment}"
                elif not value.startswith("#"):
                    raise KubernetesSchemaError(f"{origin}: unexpected schema reference {value!r}")
            else:
                _relativise_refs(value, origin)
    elif isinstance(node, list):
        for item in node:
            _relativise_refs(item, origin)


def _publish(work: Path, target: Path, marker: dict[str, Any]) -> None:
    """Rename `work` to `target`, replacing a stale `target` but never a complete one."""
    error: OSError | None = None
    for _ in range(_PUBLISH_ATTEMPTS):
        try:
            work.rename(target)
            return
        except OSError as exc:  # usually: target exists and is not empty
            error = exc
        if _has_marker(target, marker):
            return  # another process finished first
        stale = target.with_name(f".{target.name}.stale-{uuid.uuid4().hex}")
        with contextlib.suppress(FileNotFoundError):
            target.rename(stale)
        shutil.rmtree(stale, ignore_errors=True)
    raise KubernetesSchemaError(f"could not replace the schema folder {target}: {error}")
