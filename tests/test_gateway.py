"""The AI gateway: provider-specific checks of the API-key Secrets, and what each provider's
routes send where (the rendered objects themselves are golden trees under tests/golden/gateway-*,
validated with kubeconform -strict in test_real_tools)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from aiplat_gen.checks.validate import validate_file
from aiplat_gen.core.errors import ProfileError, Severity
from aiplat_gen.platform.engines import kserve, vllm
from aiplat_gen.render.pipeline import render_profile
from conftest import REPO

GOLDEN = REPO / "tests" / "golden"


def _profile(case: str) -> dict[str, Any]:
    return dict(yaml.safe_load((GOLDEN / case / "profiles" / "base.yaml").read_text()))


def _validate(tmp_path: Path, doc: dict[str, Any]) -> Any:
    path = tmp_path / "base.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return validate_file(path)


def _kinds(doc: dict[str, Any], tmp_path: Path) -> list[tuple[str, str]]:
    full = render_profile(_validate(tmp_path, doc).profile)
    return [(o.obj["kind"], o.obj["metadata"]["name"]) for o in full.objects
            if o.component == "gateway"]


def test_kong_reads_the_key_under_key(tmp_path: Path) -> None:
    doc = _profile("gateway-kong")
    doc["spec"]["gateway"]["auth"]["secrets"][1]["key"] = "token"
    with pytest.raises(ProfileError) as err:
        _validate(tmp_path, doc)
    # (the profile's per-replica model also warns that its pods keep internet egress)
    [diag] = [d for d in err.value.diagnostics if d.severity is Severity.ERROR]
    assert diag.path == "spec.gateway.auth.secrets[1].key"
    assert "Kong's key-auth credential is read from the key 'key', not 'token'" in diag.message


@pytest.mark.parametrize(("case", "kinds"), [
    ("gateway-api", {"GatewayClass", "Gateway", "HTTPRoute", "SecurityPolicy",
                     "BackendTrafficPolicy"}),
    ("gateway-kong", {"GatewayClass", "Gateway", "HTTPRoute", "KongPlugin", "KongConsumer"}),
    ("gateway-envoy-ai", {"GatewayClass", "Gateway", "AIGatewayRoute", "AIServiceBackend",
                          "Backend", "SecurityPolicy", "BackendTrafficPolicy"}),
    ("gateway-nginx", {"Ingress"}),
])
def test_each_provider_renders_its_kinds(case: str, kinds: set[str], tmp_path: Path) -> None:
    assert {k for k, _ in _kinds(_profile(case), tmp_path)} == kinds


def test_no_gateway_no_objects(tmp_path: Path) -> None:
    doc = _profile("gateway-api")
    del doc["spec"]["gateway"]
    assert _kinds(doc, tmp_path) == []


def test_routes_reach_each_engine_on_its_service(tmp_path: Path) -> None:
    full = render_profile(_validate(tmp_path, _profile("gateway-api")).profile)
    routes = {o.obj["metadata"]["name"]: o.obj["spec"]["rules"][0] for o in full.objects
              if o.obj["kind"] == "HTTPRoute"}
    assert routes["chat"]["backendRefs"] == [{"name": "chat", "port": 8000}]
    # `/chat/v1` becomes the prefix vLLM serves its OpenAI API under (engines: ServedApi).
    assert routes["chat"]["matches"][0]["path"]["value"] == "/chat" + vllm.OPENAI_API.client_prefix
    assert routes["chat"]["filters"][0]["urlRewrite"]["path"]["replacePrefixMatch"] == \
        vllm.OPENAI_API.prefix
    assert routes["mistral"]["backendRefs"] == [{"name": "mistral-predictor", "port": 80}]
    assert routes["mistral"]["matches"][0]["headers"] == [
        {"type": "Exact", "name": "x-model", "value": "mistral"}]
    # KServe's Hugging Face runtime serves the OpenAI API under /openai/v1, not /v1.
    assert routes["mistral"]["filters"][0]["urlRewrite"]["path"]["replacePrefixMatch"] == \
        kserve.HUGGINGFACE_API.prefix == "/openai/v1"
    services = {o.obj["metadata"]["name"]: o.obj for o in full.objects
                if o.obj["kind"] == "Service"}
    assert services["chat"]["spec"]["ports"][0]["port"] == 8000
