"""`aiplat-gen plan`: the arithmetic against hand computations, packing, cost, formats and
errors. (The full output is pinned by the golden files of `test_plan_golden.py`.)"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import Result

from aiplat_gen.profile.schema.cluster import NodePool
from aiplat_gen.profile.schema.types import binary_quantity, parse_quantity
from aiplat_gen.reports.plan import _Replica, pack
from conftest import REPO

GIB = 1024**3
PACKING = REPO / "tests" / "golden_plan" / "packing" / "profiles"


def _plan(cli: Callable[..., Result], *args: str) -> dict[str, object]:
    result = cli("plan", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def test_memory_fit_of_llama_8b_on_l4_matches_the_hand_computation(
        workspace: Path, cli: Callable[..., Result]) -> None:
    data = _plan(cli, "base")
    (model,) = data["models"]  # type: ignore[misc]
    memory = model["memory"]
    # Llama 3.1 8B: 8,030,261,248 bf16 parameters; 32 layers x 8 KV heads x 128 dims x (K, V)
    # x 2 bytes per token; an L4 has 24 GiB, of which vLLM takes 0.9.
    weights = 8_030_261_248 * 2 / GIB
    kv = 32 * 8 * 128 * 2 * 2 * 8192 / GIB
    margin = 1 + 0.05 * weights
    available = 24 * 0.9
    assert memory["weights_gib"] == round(weights, 2) == 14.96
    assert memory["kv_cache_gib"] == round(kv, 2) == 1.0
    assert memory["margin_gib"] == round(margin, 2)
    assert memory["available_gib"] == round(available, 2)
    assert memory["headroom_gib"] == round(available - weights - kv - margin, 2)
    tokens = int((available - weights - margin) * GIB // (32 * 8 * 128 * 2 * 2))
    assert memory["kv_cache_tokens"] == tokens
    assert memory["full_sequences"] == tokens // 8192
    assert (model["min_replicas"], model["max_replicas"], model["gpus_at_max"]) == (2, 2, 2)


def test_autoscaled_models_count_at_min_and_max(workspace: Path,
                                                cli: Callable[..., Result]) -> None:
    data = _plan(cli, "prod")
    models = {m["name"]: m for m in data["models"]}  # type: ignore[attr-defined]
    big = models["llama-70b"]
    assert (big["min_replicas"], big["max_replicas"], big["gpus_per_replica"]) == (1, 4, 4)
    assert (big["gpus_at_min"], big["gpus_at_max"]) == (4, 16)
    (ns,) = data["namespaces"]  # type: ignore[misc]
    assert ns["at_max"] == sum(m["gpus_at_max"] for m in models.values())
    assert ns["quota"] == 40
    pools = {p["name"]: p for p in data["pools"]}  # type: ignore[attr-defined]
    # 1..4 replicas of 4 GPUs on 8-GPU nodes: 1 node at min, 2 at max; priced at 6.0 per GPU-h.
    h100 = pools["gpu-h100"]
    assert (h100["nodes_at_min"], h100["nodes_at_max"]) == (1, 2)
    assert (h100["cost_at_min"], h100["cost_at_max"]) == (1 * 8 * 6.0, 2 * 8 * 6.0)
    assert data["cost_at_max"] == sum(p["cost_at_max"] for p in pools.values())


def test_a_static_pool_costs_all_its_nodes_and_unschedulable_replicas_warn(
        cli: Callable[..., Result]) -> None:
    data = _plan(cli, "base", "--profiles-dir", str(PACKING))
    pools = {p["name"]: p for p in data["pools"]}  # type: ignore[attr-defined]
    assert pools["h100"]["cost_at_min"] == pools["h100"]["cost_at_max"] == 2 * 8 * 6.5
    assert pools["a100-mig"]["cost_at_min"] == 1 * 8 * 4.25  # physical GPUs, not MIG slices
    (warning,) = data["warnings"]  # type: ignore[misc]
    assert warning.startswith("h100: at max replicas 1 of 7 replica(s) cannot be scheduled")
    assert "4 nvidia.com/gpu left free" in warning
    text = cli("plan", "base", "--profiles-dir", str(PACKING))
    assert text.exit_code == 0
    assert f"warning: {warning}\n" in text.stdout


def _pool(nodes: int) -> NodePool:
    return NodePool.model_validate({"name": "p", "gpu": {"product": "h100-80gb", "count": 8},
                                    "nodes": nodes, "cpu": "100", "memory": "1000Gi"})


def _replica(name: str, gpus: int, memory_gib: int, cpu: int = 1, disk_gib: int = 0
             ) -> _Replica:
    return _Replica(name, gpus, Decimal(cpu), Decimal(memory_gib * GIB), Decimal(disk_gib * GIB))


def test_pack_places_largest_first_on_the_first_node_with_room() -> None:
    # Small first would fill one node with 6 and leave 2 + 3 GPUs for two 5-GPU replicas;
    # largest first puts one 5-GPU replica on each node and 3 small ones beside each.
    small = [_replica("small", 1, 10)] * 6
    big = [_replica("big", 5, 10)] * 2
    nodes, left = pack(small + big, _pool(2), per_node=8)
    assert left == []
    assert [n.gpus for n in nodes] == [0, 0]
    nodes, left = pack([_replica("fat", 2, 600)] * 3, _pool(2), per_node=8)
    assert [r.model for r in left] == ["fat"]  # memory, not GPUs, runs out
    assert len(nodes) == 2
    nodes, left = pack([_replica("cpu", 1, 1, cpu=60)] * 3, _pool(1), per_node=8)
    assert len(left) == 2 and len(nodes) == 1
    # the pool's nodes have the default 100Gi of ephemeral storage
    nodes, left = pack([_replica("disk", 1, 1, disk_gib=60)] * 3, _pool(2), per_node=8)
    assert [r.model for r in left] == ["disk"] and len(nodes) == 2
    nodes, left = pack([_replica("any", 1, 1)], _pool(0), per_node=8)
    assert nodes == [] and len(left) == 1


def test_plan_formats_and_errors(workspace: Path, cli: Callable[..., Result]) -> None:
    markdown = cli("plan", "prod", "--format", "markdown")
    assert markdown.exit_code == 0
    assert markdown.stdout.startswith("# plan for prod: acme-ai")
    assert "## Models\n\n| model | engine | namespace |" in markdown.stdout
    assert "| llama-70b | vllm | llm-serving | gpu-h100 | h100-80gb | 4 | 1-4 | 4-16 |" \
        in markdown.stdout
    bad_format = cli("plan", "prod", "--format", "yaml")
    assert bad_format.exit_code == 2
    assert "--format must be one of: text, json, markdown" in bad_format.stderr
    missing = cli("plan", "prdo")
    assert missing.exit_code == 2 and "did you mean 'prod'" in missing.stderr
    prod = workspace / "profiles" / "prod.yaml"
    prod.write_text(prod.read_text().replace("gpus: 40", "gpus: 4"))
    invalid = cli("plan", "prod")
    assert invalid.exit_code == 1
    assert invalid.stdout == ""
    assert "profiles/prod.yaml:" in invalid.stderr and "quota.gpus" in invalid.stderr


def test_plan_text_is_plain_without_a_terminal_even_with_colour_forced(
        workspace: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    result = cli("plan", "prod")
    assert result.exit_code == 0
    assert "\x1b[" not in result.stdout
    assert result.stdout.startswith("plan for prod: acme-ai")


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=2**63 - 1))
def test_binary_quantity_is_exact(value: int) -> None:
    """The quantities the plan and the checks print read back as the very byte count."""
    assert parse_quantity(binary_quantity(Decimal(value))) == value


def test_binary_quantity_takes_the_largest_exact_suffix() -> None:
    assert binary_quantity(Decimal(12544 * 2**20)) == "12544Mi"
    assert binary_quantity(Decimal(100 * 2**30)) == "100Gi"
    assert binary_quantity(Decimal(1000)) == "1000"
