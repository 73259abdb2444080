"""Support for the data and secrets tests (no tests here): small data-layer profiles built as
plain data and written as YAML, so every test starts from a valid profile and changes one
thing."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from aiplat_gen.checks.validate import ValidatedProfile, validate_file
from aiplat_gen.core.errors import Diagnostic, ProfileError
from aiplat_gen.render.components.base import RenderContext
from aiplat_gen.render.pipeline import render_full

WEAVIATE: dict[str, Any] = {
    "name": "vectors", "engine": "weaviate", "namespace": "rag",
    "image": "cr.weaviate.io/semitechnologies/weaviate:1.32.9", "replicas": 3,
    "storage": {"size": "10Gi", "storageClass": "standard"},
    "resources": {"cpu": "1", "memory": "4Gi"},
    "auth": {"secret": {"name": "vectors-keys", "key": "allowed-keys",
                        "remote": {"key": "rag/vectors", "property": "keys"}},
             "users": ["app"]},
}
REDIS: dict[str, Any] = {
    "name": "cache", "engine": "redis", "namespace": "rag",
    "resources": {"cpu": "500m", "memory": "2Gi"},
    "auth": {"secret": {"name": "cache-redis", "key": "password",
                        "remote": {"key": "rag/cache", "property": "password"}}},
    "redis": {"maxMemory": "1Gi"},
}


def profile(name: str = "base", **spec: Any) -> dict[str, Any]:
    """A root profile with a CPU pool of three nodes, a `rag` namespace, a secret store (the
    cluster provides it and the `standard` StorageClass);
    keyword arguments replace or add spec keys."""
    doc: dict[str, Any] = {
        "apiVersion": "aiplat.dev/v1alpha1", "kind": "PlatformProfile",
        "metadata": {"name": name},
        "spec": {
            "platform": {"name": "lab", "version": "0.1"},
            "kubernetesVersion": "1.33",
            "nodePools": [{"name": "cpu", "nodes": 3, "cpu": "16", "memory": "64Gi"}],
            "gpuOperator": {"enabled": False},
            "namespaces": [{"name": "rag", "purpose": "data"}],
            "security": {"secretStore": {"name": "vault", "provider": "vault"}},
            "clusterProvides": {"storageClasses": ["standard"], "secretStores": ["vault"]},
        },
    }
    doc["spec"].update(copy.deepcopy(spec))
    return doc


def write(folder: Path, doc: dict[str, Any]) -> Path:
    """Write a profile document as `<folder>/<metadata.name>.yaml`."""
    path = folder / f"{doc['metadata']['name']}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def validate(folder: Path, doc: dict[str, Any]) -> ValidatedProfile:
    """Validate a profile document; raise ProfileError as the tool would."""
    return validate_file(write(folder, doc))


def problems(folder: Path, doc: dict[str, Any]) -> list[Diagnostic]:
    """Every diagnostic of a profile (errors, or the warnings of a valid one)."""
    try:
        return list(validate(folder, doc).warnings)
    except ProfileError as exc:
        return exc.diagnostics


def render(folder: Path, doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The objects a valid profile renders to."""
    vp = validate(folder, doc)
    return [o.obj for o in render_full(RenderContext(vp.profile)).objects]


def find(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    """The one object of a kind and name."""
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} found"
    return matches[0]


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    """A container's env as name -> value (or valueFrom)."""
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}
