"""The rendered gateways: every route forwards only to the API its backend serves, and Envoy
Gateway's API keys arrive in the shape it reads and stop at the gateway.

Reads the committed trees (output/ and each golden case's expected/): for every HTTPRoute (Envoy
Gateway, Kong), Ingress (ingress-nginx), AIServiceBackend (Envoy AI Gateway) and Kong `ai-proxy`
upstream, it works out the path prefix the backend receives and finds the backend's runtime from
the tree itself (the workload's `ai.platform/engine` label, or the InferenceService's model
format). The served paths per runtime are the `ServedApi` table of the engine descriptors, each
entry with its upstream source.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from aiplat_gen.platform.engines import ENGINES, ServedApi, descriptor, kserve
from conftest import REPO

TREES = [REPO / "output", *sorted((REPO / "tests" / "golden").glob("*/expected"))]
KSERVE_FORMATS = {"huggingface": kserve.HUGGINGFACE, "triton": kserve.TRITON}
NGINX = "nginx.ingress.kubernetes.io/"

Key = tuple[str, str, str]  # kind, namespace, name


def _objects(tree: Path) -> dict[Key, dict[str, Any]]:
    """Whole objects of a tree (base and overlay resources; patches are partial)."""
    found: dict[Key, dict[str, Any]] = {}
    for path in sorted(tree.rglob("*.yaml")):
        if "patches" in path.parts or path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and "kind" in doc and "metadata" in doc:
                meta = doc["metadata"]
                found[(doc["kind"], meta.get("namespace", ""), meta["name"])] = doc
    return found


def _api(objects: dict[Key, dict[str, Any]], namespace: str, service: str) -> ServedApi:
    """The API served behind a Service, from the tree's workload or InferenceService."""
    isvc = objects.get(("InferenceService", namespace, service.removesuffix("-predictor")))
    if service.endswith("-predictor") and isvc is not None:
        fmt = isvc["spec"]["predictor"]["model"]["modelFormat"]["name"]
        return KSERVE_FORMATS[fmt].api
    for kind in ("StatefulSet", "Deployment"):
        workload = objects.get((kind, namespace, service))
        if workload is not None:
            engine = workload["metadata"]["labels"]["ai.platform/engine"]
            assert engine in ENGINES
            return descriptor(engine).default_runtime.api
    raise AssertionError(f"no backend for Service {namespace}/{service}")


def _forwarded(objects: dict[Key, dict[str, Any]]) -> Iterator[tuple[str, str, str, str]]:
    """(route, namespace, backend Service, path prefix the backend receives)."""
    for (kind, ns, name), obj in objects.items():
        spec = obj.get("spec", {})
        if kind == "HTTPRoute":
            stripped = obj["metadata"].get("annotations", {}).get(
                "konghq.com/strip-path") == "true"
            for rule in spec["rules"]:
                rewrite = [f["urlRewrite"]["path"]["replacePrefixMatch"]
                           for f in rule.get("filters", []) if f["type"] == "URLRewrite"]
                for match in rule["matches"]:
                    prefix = rewrite[0] if rewrite else "" if stripped else \
                        match["path"]["value"]
                    for ref in rule["backendRefs"]:
                        yield f"{kind} {ns}/{name}", ns, ref["name"], prefix
        elif kind == "Ingress":
            target = obj["metadata"]["annotations"][f"{NGINX}rewrite-target"]
            assert target.endswith("/$2"), target
            for rule in spec["rules"]:
                for path in rule["http"]["paths"]:
                    assert re.fullmatch(r".*\(/\|\$\)\(\.\*\)", path["path"]), path["path"]
                    yield (f"{kind} {ns}/{name}", ns, path["backend"]["service"]["name"],
                           target.removesuffix("/$2"))
        elif kind == "AIServiceBackend":
            backend = objects[("Backend", ns, spec["backendRef"]["name"])]
            host = backend["spec"]["endpoints"][0]["fqdn"]["hostname"]
            service, service_ns = host.split(".")[:2]
            yield f"{kind} {ns}/{name}", service_ns, service, spec["schema"]["prefix"]
        elif kind == "KongPlugin" and obj["plugin"] == "ai-proxy":
            url = urlsplit(obj["config"]["model"]["options"]["upstream_url"])
            service, service_ns = (url.hostname or "").split(".")[:2]
            yield f"{kind} {ns}/{name}", service_ns, service, url.path


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix.rstrip("/") + "/")


@pytest.mark.parametrize("tree", TREES, ids=lambda p: str(p.relative_to(REPO)))
def test_routes_forward_only_to_served_paths(tree: Path) -> None:
    objects = _objects(tree)
    for route, ns, service, prefix in _forwarded(objects):
        api = _api(objects, ns, service)
        served = [p for p in api.paths if _under(p, prefix)]
        assert served, f"{route}: {prefix or '/'} reaches none of {', '.join(api.paths)}"
        assert _under(prefix, api.prefix), (
            f"{route}: forwards {prefix or '/'}, beyond the API under {api.prefix}: "
            "it reaches paths the server does not serve, or its health and metrics paths")


def test_every_tree_has_routes() -> None:
    """The test above is not vacuous: each provider's golden tree has routes."""
    for case in ("gateway-api", "gateway-kong", "gateway-nginx", "gateway-envoy-ai"):
        tree = REPO / "tests" / "golden" / case / "expected"
        assert list(_forwarded(_objects(tree))), case


@pytest.mark.parametrize("api", sorted(
    {r.api for e in ENGINES for r in descriptor(e).runtimes}, key=lambda a: a.prefix))
def test_served_api_table_is_consistent(api: ServedApi) -> None:
    """Every served path is under the prefix, no internal path is, and the chat completions
    endpoint (if any) is served."""
    assert all(_under(p, api.prefix) for p in api.paths)
    assert not any(_under(p, api.prefix) for p in api.internal)
    assert api.chat_completions is None or api.chat_completions in api.paths
    assert api.client_prefix.endswith(api.prefix.removeprefix("/openai"))


@pytest.mark.parametrize("tree", TREES, ids=lambda p: str(p.relative_to(REPO)))
def test_envoy_api_keys_one_key_per_client(tree: Path) -> None:
    """Envoy Gateway reads each key of an `apiKeyAuth` Secret as a client id (SecurityPolicy
    CRD, v1.9.0): a synced one gets the store entry's fields as its keys (`dataFrom.extract`),
    never one fixed key; and the key is removed before the request is forwarded (`sanitize`)."""
    objects = _objects(tree)
    for (kind, ns, name), obj in objects.items():
        if kind != "SecurityPolicy" or "apiKeyAuth" not in obj["spec"]:
            continue
        auth = obj["spec"]["apiKeyAuth"]
        assert auth.get("sanitize") is True, f"{ns}/{name} forwards the API key"
        for ref in auth["credentialRefs"]:
            synced = objects.get(("ExternalSecret", ns, ref["name"]))
            if synced is None:
                continue
            assert "data" not in synced["spec"], (
                f"ExternalSecret {ns}/{ref['name']} syncs fixed keys "
                f"{[d['secretKey'] for d in synced['spec']['data']]}: Envoy Gateway would read "
                "each as a client id")
            assert [list(d) for d in synced["spec"]["dataFrom"]] == [["extract"]]
