"""Every PromQL expression aiplat-gen writes parses with a real PromQL parser (promql-parser,
the Rust parser of GreptimeDB) and names only metrics and labels from `facts.metrics`: KEDA
triggers, prometheus-adapter rules (as the adapter expands them), alert rules and dashboard
panels, for the example profiles and every golden case."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import promql_parser
import pytest

from aiplat_gen.checks.validate import validate_file
from aiplat_gen.platform.facts.metrics import METRICS, lookup, series_labels
from aiplat_gen.platform.promql import adapter_query, adapter_series
from aiplat_gen.render.pipeline import render_profile
from conftest import REPO

PROFILES = sorted([*(REPO / "profiles").glob("*.yaml"),
                   *(REPO / "tests" / "golden").glob("*/profiles/*.yaml")])


@dataclass(frozen=True)
class Query:
    """One expression and where it was written."""

    where: str
    expr: str


def written_queries(profile_path: Path) -> tuple[list[Query], bool]:
    """Every expression a profile's render contains, and its DCGM `honorLabels`."""
    profile = validate_file(profile_path).profile
    full = render_profile(profile)
    found: list[Query] = []
    for item in full.objects:
        obj = item.obj
        name = f"{obj['kind']}/{obj['metadata']['name']}"
        if obj["kind"] == "ScaledObject":
            found += [Query(f"{name} trigger {t['name']}", t["metadata"]["query"])
                      for t in obj["spec"]["triggers"] if t["type"] == "prometheus"]
        elif obj["kind"] == "PrometheusRule":
            found += [Query(f"{name} {r['alert']}", r["expr"])
                      for g in obj["spec"]["groups"] for r in g["rules"]]
        elif obj["kind"] == "ConfigMap" and obj["metadata"]["name"].endswith("-dashboard"):
            for key, text in obj["data"].items():
                board = json.loads(text)
                found += [Query(f"{name} {key} panel {p['title']}", t["expr"])
                          for p in board["panels"] for t in p.get("targets", [])]
        elif obj["kind"] == "HorizontalPodAutoscaler":
            found += _adapter_queries(full.helm_values["prometheus-adapter"], obj)
    return found, profile.spec.gpu_operator.dcgm_honor_labels


def _adapter_queries(values: dict[str, Any], hpa: dict[str, Any]) -> list[Query]:
    """The queries prometheus-adapter runs for an HPA's metrics, and the rules' series queries."""
    rules = {r["name"]["as"]: r for r in values["rules"]["custom"]}
    found = []
    for metric in hpa["spec"]["metrics"]:
        rule = rules[metric["pods"]["metric"]["name"]]
        ns_label, pod_label = list(rule["resources"]["overrides"])
        series = rule["name"]["matches"].strip("^$")
        query = adapter_query(adapter_series(rule["metricsQuery"], series), ns_label, pod_label,
                              hpa["metadata"]["namespace"], f"{hpa['metadata']['name']}-.+")
        found.append(Query(f"prometheus-adapter {rule['name']['as']}", query))
        found.append(Query(f"prometheus-adapter {rule['name']['as']} series",
                           rule["seriesQuery"]))
    return found


def problems(expr: str, dcgm_honor_labels: bool) -> list[str]:
    """What in an expression is not in the metric table (empty when it is sound)."""
    ast = promql_parser.parse(expr)
    found: list[str] = []
    selected: set[str] = set()
    grouping: list[tuple[str, list[str]]] = []

    def visit(node: Any) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            if node.name is None or lookup(node.name) is None:
                found.append(f"unknown metric {node.name!r}")
                return
            allowed = series_labels(node.name, dcgm_honor_labels)
            selected.update(allowed)
            for matcher in node.matchers.matchers:
                if matcher.name not in allowed:
                    found.append(f"{node.name} has no label {matcher.name!r}")
        elif isinstance(node, promql_parser.AggregateExpr) and node.modifier is not None:
            grouping.append(("by/without", list(node.modifier.labels)))
        elif isinstance(node, promql_parser.BinaryExpr) and node.modifier is not None:
            matching = node.modifier.matching
            if matching is not None:
                grouping.append(("on/ignoring", list(matching.labels)))

    promql_parser.walk(ast, visit)
    for what, names in grouping:
        found += [f"{what} label {n!r} is on no selected series" for n in names
                  if n not in selected]
    return found


def _all() -> Iterator[tuple[str, Query, bool]]:
    for path in PROFILES:
        queries, honor = written_queries(path)
        for query in queries:
            yield str(path.relative_to(REPO)), query, honor


ALL = list(_all())


@pytest.mark.parametrize(("profile", "query", "honor"), ALL,
                         ids=[f"{p}:{q.where}" for p, q, _ in ALL])
def test_query_parses_and_names_only_known_metrics_and_labels(profile: str, query: Query,
                                                              honor: bool) -> None:
    assert problems(query.expr, honor) == [], f"{profile}: {query.where}: {query.expr}"


def test_every_kind_of_query_is_covered() -> None:
    wheres = " ".join(q.where for _, q, _ in ALL)
    for kind in ("ScaledObject", "PrometheusRule", "ConfigMap", "prometheus-adapter"):
        assert kind in wheres
    names = {lookup(sel)[0].name for _, q, h in ALL  # type: ignore[index]
             for sel in _selected(q.expr)}
    # Every metric of the table is queried somewhere, so the table holds nothing unused.
    assert names == set(METRICS)


def _selected(expr: str) -> list[str]:
    names: list[str] = []

    def visit(node: Any) -> None:
        if isinstance(node, promql_parser.VectorSelector) and node.name:
            names.append(node.name)

    promql_parser.walk(promql_parser.parse(expr), visit)
    return names


@pytest.mark.parametrize(("expr", "honor", "expected"), [
    ("sum(vllm_num_requests_waiting{namespace=\"a\"})", False,
     "unknown metric 'vllm_num_requests_waiting'"),
    ("sum(vllm:num_requests_waiting{deployment=\"a\"})", False,
     "vllm:num_requests_waiting has no label 'deployment'"),
    ("avg(DCGM_FI_DEV_GPU_UTIL{exported_pod=~\"a-.*\"})", True,
     "DCGM_FI_DEV_GPU_UTIL has no label 'exported_pod'"),
    ("sum by (model) (vllm:num_requests_waiting)", False,
     "by/without label 'model' is on no selected series"),
    ("histogram_quantile(0.9, sum by (le) (rate(vllm:e2e_request_latency_seconds[5m])))", False,
     "unknown metric 'vllm:e2e_request_latency_seconds'|"
     "by/without label 'le' is on no selected series"),
    ("histogram_quantile(0.9, sum by (le) (rate(vllm:e2e_request_latency_seconds_bucket[5m])))",
     False, ""),
])
def test_the_checker_rejects_what_does_not_exist(expr: str, honor: bool, expected: str) -> None:
    found = problems(expr, honor)
    assert found == (expected.split("|") if expected else [])


def test_a_syntax_error_is_a_parse_error() -> None:
    with pytest.raises(ValueError):
        promql_parser.parse("sum(vllm:num_requests_waiting{namespace=\"a\"}")


def test_dcgm_label_names_follow_honor_labels() -> None:
    assert series_labels("DCGM_FI_DEV_GPU_UTIL", False) >= {"exported_namespace", "exported_pod"}
    assert "pod" in series_labels("DCGM_FI_DEV_GPU_UTIL", True)
    assert "exported_pod" not in series_labels("DCGM_FI_DEV_GPU_UTIL", True)
