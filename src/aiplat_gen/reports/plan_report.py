"""The `plan` as tables (terminal, plain text, Markdown) and as JSON."""

from __future__ import annotations

import json

from aiplat_gen.reports.console import Column, Report, Table, Tone, markdown, plain
from aiplat_gen.reports.plan import MemoryPlan, Plan


def _left(text: str) -> Column:
    return Column(text)


def _right(text: str) -> Column:
    return Column(text, "right")


def _gib(value: float) -> str:
    return f"{value:.2f}"


def _money(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _count(value: int | None) -> str:
    return "-" if value is None else str(value)


def _span(low: int | float, high: int | float, fmt: str = "{}") -> str:
    """`4` when both bounds agree, else `1-4`."""
    return fmt.format(low) if low == high else f"{fmt.format(low)}-{fmt.format(high)}"


def models_table(plan: Plan) -> Table:
    """Per model: where it runs, GPUs per replica, replica bounds and GPUs at min and max."""
    rows = tuple((m.name, m.engine, m.namespace, m.node_pool, m.device,
                  str(m.gpus_per_replica), _span(m.min_replicas, m.max_replicas),
                  _span(m.gpus_at_min, m.gpus_at_max)) for m in plan.models)
    columns = (_left("model"), _left("engine"), _left("namespace"), _left("pool"),
               _left("device"), _right("GPUs/replica"), _right("replicas"), _right("GPUs"))
    note = "replicas and GPUs: min-max when the model autoscales."
    return Table("Models", columns, rows, note=note)


def _memory_row(name: str, memory: MemoryPlan) -> tuple[str, ...]:
    return (name, f"{memory.utilization:.2f}", _gib(memory.weights_gib),
            _gib(memory.kv_cache_gib), _gib(memory.margin_gib), _gib(memory.needed_gib),
            _gib(memory.available_gib), _gib(memory.headroom_gib),
            _count(memory.kv_cache_tokens), _count(memory.full_sequences))


def memory_table(plan: Plan) -> Table:
    """Per model with a known size: the memory-fit arithmetic per GPU and the headroom."""
    sized = [(m.name, m.memory) for m in plan.models if m.memory is not None]
    rows = tuple(_memory_row(name, memory) for name, memory in sized)
    tones: tuple[Tone, ...] = tuple("error" if memory.headroom_gib < 0 else ""
                                    for _, memory in sized)
    columns = (_left("model"), _right("util"), _right("weights"), _right("KV cache"),
               _right("margin"), _right("needed"), _right("available"), _right("headroom"),
               _right("KV tokens"), _right("sequences"))
    note = ("GiB per GPU: weights / tensor parallel size + KV cache of one maxModelLen sequence "
            "+ margin = needed; available = device memory x util (gpuMemoryUtilization). KV "
            "tokens: what the memory left after weights and margin holds; sequences: how many "
            "maxModelLen sequences that is.")
    return Table("Memory fit per GPU", columns, rows, tones, note)


def not_estimated(plan: Plan) -> str | None:
    """A line naming the models whose memory fit is unknown, if any."""
    names = [m.name for m in plan.models if m.memory is None]
    if not names:
        return None
    return (f"memory fit not estimated for {', '.join(names)}: no `architecture` or "
            "`parameters`")


def namespaces_table(plan: Plan) -> Table:
    """Per namespace and GPU resource: requests at min and max against the quota."""
    rows = []
    tones: list[Tone] = []
    for ns in plan.namespaces:
        left = "-" if ns.quota is None else str(ns.quota - ns.at_max)
        rows.append((ns.name, ns.resource, _count(ns.quota), _span(ns.at_min, ns.at_max),
                     left))
        tones.append("error" if ns.quota is not None and ns.at_max > ns.quota else "")
    columns = (_left("namespace"), _left("resource"), _right("quota"), _right("requested"),
               _right("left at max"))
    note = "requested: at min-max replicas."
    return Table("GPU quota per namespace", columns, tuple(rows), tuple(tones), note)


def pools_table(plan: Plan) -> Table:
    """Per GPU pool: what it offers, what is requested, the nodes and (priced) the cost."""
    priced = any(p.price_per_gpu_hour is not None for p in plan.pools)
    rows = []
    tones: list[Tone] = []
    for p in plan.pools:
        row: tuple[str, ...] = (p.name, p.device, p.provisioner, str(p.nodes), str(p.offered),
               _span(p.at_min, p.at_max), _span(p.nodes_at_min, p.nodes_at_max))
        if priced:
            cost = "-" if p.cost_at_min is None or p.cost_at_max is None else _span(
                p.cost_at_min, p.cost_at_max, "{:.2f}")
            row += (_money(p.price_per_gpu_hour), cost)
        rows.append(row)
        tones.append("error" if p.at_max > p.offered else "")
    columns: tuple[Column, ...] = (
        _left("pool"), _left("device"), _left("provisioner"), _right("nodes"),
        _right("offered"), _right("requested"), _right("nodes used"))
    if priced:
        columns += (_right("price/GPU-h"), _right("cost/h"))
    note = ("offered: GPUs (MIG slices, time-sliced shares) of all nodes; requested, nodes used "
            "(replicas packed largest first)")
    note += ", cost/h: at min-max replicas." if priced else ": at min-max replicas."
    if priced:
        note += (" Cost: the GPUs of every node of a static pool, of the nodes used in a "
                 "Karpenter pool, x price.")
    return Table("GPU node pools", columns, tuple(rows), tuple(tones), note)


def report(plan: Plan) -> Report:
    """The plan as a report of tables, warnings and the cost line."""
    footer: tuple[str, ...] = ()
    unknown = not_estimated(plan)
    if unknown is not None:
        footer += (unknown,)
    if plan.cost_at_min is not None:
        footer += (f"cost per hour of the priced pools: {_money(plan.cost_at_min)} at min "
                   f"replicas, {_money(plan.cost_at_max)} at max replicas",)
    heading = (f"plan for {plan.profile}: {plan.platform} {plan.version}, Kubernetes "
               f"{plan.kubernetes_version}")
    return Report(heading, tables(plan), plan.warnings, footer)


def tables(plan: Plan) -> tuple[Table, ...]:
    """The plan's tables that have rows (a platform without models has no model tables)."""
    every = (models_table(plan), memory_table(plan), namespaces_table(plan), pools_table(plan))
    return tuple(t for t in every if t.rows)


def to_json(plan: Plan) -> str:
    """The plan as indented JSON with sorted keys."""
    return json.dumps(plan.to_dict(), indent=2, sort_keys=True) + "\n"


def to_text(plan: Plan) -> str:
    """The plan as plain text (what a non-terminal gets)."""
    return plain(report(plan))


def to_markdown(plan: Plan, level: int = 2) -> str:
    """The plan as Markdown, its heading at `level`."""
    return markdown(report(plan), level)
