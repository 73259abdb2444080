"""Every metrics port of a committed tree is scraped, and only those: in `output/` and in every
golden tree, each container port used for metrics (named `metrics`/`http-metrics`, or opened to
Prometheus by the platform graph) has a ServiceMonitor or PodMonitor whose selector matches the
pod (or its Service) and whose port matches; each monitor scrapes a port the graph opens; and
every monitored model has its alert rules and a dashboard row.

Trees are built with kustomize per environment; the graph comes from the same profile. The pods
of a CloudNativePG `Cluster` are the operator's: they carry `cnpg.io/cluster: <name>` and
export on port 9187 named `metrics` (CloudNativePG docs, "Monitoring", 1.28)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from aiplat_gen.checks.validate import validate_file
from aiplat_gen.platform.graph import platform_graph
from aiplat_gen.platform.pods import CNPG_LABEL, CNPG_METRICS_PORT
from aiplat_gen.platform.scraping import scrape_targets
from aiplat_gen.profile.schema.profile import Profile
from conftest import REPO
from test_real_tools import kustomize_build

METRICS_PORT_NAMES = ("metrics", "http-metrics")


def _cases() -> list[tuple[Path, Path]]:
    """(profile, kustomization folder) of every environment of every committed tree."""
    pairs = [(REPO / "profiles", REPO / "output")]
    pairs += [(case / "profiles", case / "expected")
              for case in sorted((REPO / "tests" / "golden").glob("*")) if case.is_dir()]
    cases = []
    for profiles, tree in pairs:
        for profile in sorted(profiles.glob("*.yaml")):
            folder = tree / "base" if profile.stem == "base" else tree / "overlays" / profile.stem
            if (folder / "kustomization.yaml").is_file():
                cases.append((profile, folder))
    return cases


CASES = _cases()


@dataclass(frozen=True)
class Pod:
    """The pods of one workload: where they run, their labels and their ports."""

    workload: str
    namespace: str
    labels: dict[str, str]
    ports: dict[str, int]
    """Container port numbers by name (unnamed ports under their number)."""


def _ports(containers: list[dict[str, Any]]) -> dict[str, int]:
    return {p.get("name", str(p["containerPort"])): p["containerPort"]
            for c in containers for p in c.get("ports", [])}


def _pods(objects: list[dict[str, Any]]) -> list[Pod]:
    pods = []
    for o in objects:
        meta, spec = o["metadata"], o.get("spec", {})
        where = f"{o['kind']}/{meta['name']}"
        if o["kind"] in ("Deployment", "StatefulSet"):
            template = spec["template"]
            pods.append(Pod(where, meta["namespace"], template["metadata"].get("labels", {}),
                            _ports([*template["spec"]["containers"],
                                    *template["spec"].get("initContainers", [])])))
        elif o["kind"] == "Cluster" and o["apiVersion"].startswith("postgresql.cnpg.io/"):
            pods.append(Pod(where, meta["namespace"], {CNPG_LABEL: meta["name"]},
                            {"metrics": CNPG_METRICS_PORT}))
        elif o["kind"] == "InferenceService":
            predictor = spec["predictor"]
            pods.append(Pod(where, meta["namespace"], predictor.get("labels", {}),
                            _ports([predictor["model"], *predictor.get("containers", [])])))
    return pods


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return selector.items() <= labels.items()


def _namespaces(monitor: dict[str, Any]) -> set[str]:
    names = monitor["spec"].get("namespaceSelector", {}).get("matchNames")
    return set(names) if names else {monitor["metadata"]["namespace"]}


def _scraped(objects: list[dict[str, Any]], pods: list[Pod]) -> set[tuple[str, int]]:
    """(workload, container port) of every pod port a monitor scrapes."""
    services = [o for o in objects if o["kind"] == "Service"]
    scraped: set[tuple[str, int]] = set()
    for monitor in objects:
        if monitor["kind"] not in ("ServiceMonitor", "PodMonitor"):
            continue
        spaces = _namespaces(monitor)
        selector = monitor["spec"]["selector"].get("matchLabels", {})
        if monitor["kind"] == "PodMonitor":
            for pod in pods:
                if pod.namespace in spaces and _matches(selector, pod.labels):
                    for endpoint in monitor["spec"]["podMetricsEndpoints"]:
                        if endpoint.get("port") in pod.ports:
                            scraped.add((pod.workload, pod.ports[endpoint["port"]]))
                        elif endpoint.get("portNumber") in pod.ports.values():
                            scraped.add((pod.workload, endpoint["portNumber"]))
            continue
        for service in services:
            meta = service["metadata"]
            if meta["namespace"] not in spaces or \
                    not _matches(selector, meta.get("labels", {})):
                continue
            for endpoint in monitor["spec"]["endpoints"]:
                for port in service["spec"]["ports"]:
                    if port.get("name") != endpoint["port"]:
                        continue
                    target = port.get("targetPort", port["port"])
                    for pod in pods:
                        if pod.namespace == meta["namespace"] and \
                                _matches(service["spec"]["selector"], pod.labels):
                            number = pod.ports.get(target) if isinstance(target, str) \
                                else target
                            if number in pod.ports.values():
                                scraped.add((pod.workload, number))
    return scraped


def _prometheus_ports(profile: Profile, pods: list[Pod]) -> set[tuple[str, int]]:
    """(workload, port) of every pod port the graph opens to Prometheus."""
    graph = platform_graph(profile)
    opened = set()
    for edge in graph.edges:
        if edge.purpose != "metrics":
            continue
        node = graph.node(edge.target)
        selected = [p for p in pods if p.namespace == node.namespace
                    and _matches(node.pod_labels, p.labels)]
        assert selected, f"the graph scrapes {node.id}, whose pods are not in the tree"
        opened |= {(p.workload, port.number) for p in selected for port in edge.ports}
    return opened


@pytest.fixture(scope="module", params=CASES,
                ids=[str(f.relative_to(REPO)) for _, f in CASES])
def built(request: pytest.FixtureRequest) -> tuple[Profile, list[dict[str, Any]]]:
    profile_path, folder = request.param
    return validate_file(profile_path).profile, kustomize_build(folder)


def test_every_metrics_port_has_a_monitor_and_the_graph_agrees(
        built: tuple[Profile, list[dict[str, Any]]]) -> None:
    profile, objects = built
    pods = _pods(objects)
    scraped = _scraped(objects, pods)
    opened = _prometheus_ports(profile, pods)
    named = {(p.workload, number) for p in pods for name, number in p.ports.items()
             if name in METRICS_PORT_NAMES}
    if profile.spec.observability is None:
        # No Prometheus is declared: nothing is scraped and no port is opened to one.
        assert not scraped and not opened
        return
    assert sorted(named | opened) == sorted(scraped), \
        "metrics ports without a monitor (or monitors on a port the graph keeps closed)"


def test_every_monitored_model_has_alerts_and_a_dashboard_row(
        built: tuple[Profile, list[dict[str, Any]]]) -> None:
    profile, objects = built
    if profile.spec.observability is None:
        return
    rules = [o for o in objects if o["kind"] == "PrometheusRule"]
    groups = {g["name"] for r in rules for g in r["spec"]["groups"]}
    boards = [json.loads(text) for o in objects if o["kind"] == "ConfigMap"
              and o["metadata"]["name"].endswith("-models-dashboard")
              for text in o["data"].values()]
    rows = {p["title"] for b in boards for p in b["panels"] if p["type"] == "row"}
    scraped = {t.name for t in scrape_targets(profile) if t.kind == "model"}
    for model in profile.spec.models:
        if model.name not in scraped:
            continue  # a Knative KServe predictor: see platform.scraping
        assert f"{model.namespace}.{model.name}" in groups, model.name
        if profile.spec.observability.grafana.enabled:
            assert f"{model.name} ({model.engine}, {model.namespace})" in rows, model.name
