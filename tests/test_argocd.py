"""ArgoCD output: every object passes kubeconform -strict with ../shared/schemas/crds, each folder
builds with kustomize, the GPU Operator Application matches the values aiplat-gen writes, and the
projects, waves and replica ignores follow the rendered platform."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner, Result

from aiplat_gen.checks.validate import validate_file
from aiplat_gen.cli import app
from aiplat_gen.platform.facts.charts import CHARTS, GPU_OPERATOR, PLATFORM_WAVE
from aiplat_gen.render.components import argocd
from aiplat_gen.render.components.base import RenderContext
from aiplat_gen.render.pipeline import render_full
from aiplat_gen.render.rendered import FullRender, RenderedObject
from aiplat_gen.verify.kube.kubeconform import find_tool, run_kubeconform
from aiplat_gen.verify.kube.schemas import kubeconform_schema_locations, prepare_kubernetes_schemas
from conftest import GPU_OPERATOR_VALUES, REPO

ENVIRONMENTS = ("dev", "staging", "prod")
WAVE = "argocd.argoproj.io/sync-wave"


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("argocd") / "output"
    result = CliRunner().invoke(app, ["render", "--all", "--profiles-dir", str(REPO / "profiles"),
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def _build(folder: Path) -> list[dict[str, Any]]:
    proc = subprocess.run([str(find_tool("kustomize")), "build", str(folder)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "Warning" not in proc.stderr, proc.stderr
    return [d for d in yaml.safe_load_all(proc.stdout) if d is not None]


def _objects(tree: Path, env: str) -> dict[tuple[str, str], dict[str, Any]]:
    return {(o["kind"], o["metadata"]["name"]): o for o in _build(tree / "argocd" / env)}


def test_only_deployed_profiles_get_argocd_folders(tree: Path) -> None:
    assert sorted(p.name for p in (tree / "argocd").iterdir()) == sorted(ENVIRONMENTS)
    record = json.loads((tree / ".aiplat-gen.json").read_text())["files"]
    for rel, entry in record.items():
        if rel.startswith("argocd/"):
            assert entry["profile"] == rel.split("/")[1], rel


def test_every_argocd_object_passes_kubeconform_strict(tree: Path, shared: Path,
                                                       tmp_path: Path) -> None:
    k8s = prepare_kubernetes_schemas("1.33", tmp_path)
    locations = kubeconform_schema_locations(k8s, [shared / "schemas" / "crds"])
    objects = [o for env in ENVIRONMENTS for o in _build(tree / "argocd" / env)]
    report = run_kubeconform(yaml.safe_dump_all(objects), "1.33", locations,
                             find_tool("kubeconform"))
    assert report.ok, [(r.kind, r.name, r.msg) for r in report.problems]
    assert report.summary.valid == len(objects) > 0
    assert report.summary.skipped == report.summary.errors == 0
    assert {r.kind for r in report.resources} == {"AppProject", "Application"}


def _leaf_paths(node: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if isinstance(node, dict) and node:
        return [p for k, v in node.items() for p in _leaf_paths(v, (*prefix, str(k)))]
    return [prefix]


def _in_reference(reference: Any, path: tuple[str, ...]) -> bool:
    node = reference
    for key in path:
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, dict) and not node:
            return True  # below an empty map of the chart (e.g. devicePlugin.config.data): free
        else:
            return False
    return True


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_gpu_operator_application_matches_the_values_it_is_fed(tree: Path, shared: Path,
                                                               env: str) -> None:
    app_obj = _objects(tree, env)[("Application", f"acme-ai-{env}-gpu-operator")]
    chart, values_source = app_obj["spec"]["sources"]
    assert chart["repoURL"] == "https://helm.ngc.nvidia.com/nvidia"
    assert chart["chart"] == "gpu-operator"
    # The values are written for spec.gpuOperator.chartVersion; the chart's own values file of the
    # version the Application pins must exist and hold every key aiplat-gen writes.
    profile = validate_file(REPO / "profiles" / f"{env}.yaml").profile
    assert chart["targetRevision"] == profile.spec.gpu_operator.chart_version
    reference_file = GPU_OPERATOR_VALUES.parent / f"values-{chart['targetRevision']}.yaml"
    assert reference_file.is_file(), f"no chart values for {chart['targetRevision']}"
    reference = yaml.safe_load(reference_file.read_text())
    assert values_source == {"repoURL": "https://github.com/acme/ai-platform.git",
                             "targetRevision": "main", "ref": "values"}
    files = chart["helm"]["valueFiles"]
    assert files == ["$values/output/helm/gpu-operator/values.yaml",
                     f"$values/output/helm/gpu-operator/values-{env}.yaml"]
    for ref in files:
        rendered = tree / ref.removeprefix("$values/output/")
        assert rendered.is_file(), ref
        values = yaml.safe_load(rendered.read_text()) or {}
        unknown = [".".join(p) for p in _leaf_paths(values) if p and not _in_reference(
            reference, p)]
        assert not unknown, f"{ref}: keys the chart does not have: {unknown}"


def test_values_check_catches_an_unknown_key(shared: Path) -> None:
    reference = yaml.safe_load(GPU_OPERATOR_VALUES.read_text())
    assert _in_reference(reference, ("devicePlugin", "config", "data", "anything"))
    assert not _in_reference(reference, ("operator", "defaultRuntime"))  # removed in v25.3.0
    assert not _in_reference(reference, ("dcgmExporter", "serviceMonitor", "honorlabels"))


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_projects_allow_exactly_what_the_platform_renders(tree: Path, env: str) -> None:
    objects = _objects(tree, env)
    platform = objects[("AppProject", f"acme-ai-{env}")]["spec"]
    built = _build(tree / "overlays" / env)
    cluster_kinds = {(o["apiVersion"].rpartition("/")[0], o["kind"]) for o in built
                     if "namespace" not in o["metadata"]}
    namespaced = {(o["apiVersion"].rpartition("/")[0], o["kind"]) for o in built
                  if "namespace" in o["metadata"]}
    assert {(k["group"], k["kind"]) for k in platform["clusterResourceWhitelist"]} == cluster_kinds
    assert {(k["group"], k["kind"]) for k in platform["namespaceResourceWhitelist"]} == namespaced
    used = {o["metadata"]["namespace"] for o in built if "namespace" in o["metadata"]}
    allowed = {d["namespace"] for d in platform["destinations"]}
    assert used <= allowed
    assert {d.get("name") for d in platform["destinations"]} == {f"{env}-cluster"}
    assert platform["sourceRepos"] == ["https://github.com/acme/ai-platform.git"]
    app_obj = objects[("Application", f"acme-ai-{env}")]
    assert app_obj["spec"]["project"] == f"acme-ai-{env}"
    assert app_obj["spec"]["source"]["path"] == f"output/overlays/{env}"
    assert app_obj["spec"]["destination"] == {"name": f"{env}-cluster"}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_waves_put_projects_then_operators_before_the_platform(tree: Path, env: str) -> None:
    objects = _objects(tree, env)
    waves = {key: int(o["metadata"].get("annotations", {}).get(WAVE, "0"))
             for key, o in objects.items()}
    platform = waves[("Application", f"acme-ai-{env}")]
    operators = [w for (kind, name), w in waves.items() if kind == "Application"
                 and name not in (f"acme-ai-{env}", f"acme-ai-{env}-root")]
    projects = [w for (kind, _), w in waves.items() if kind == "AppProject"]
    assert operators and max(projects) < min(operators) <= max(operators) < platform
    prometheus = waves[("Application", f"acme-ai-{env}-kube-prometheus-stack")]
    assert prometheus < waves[("Application", f"acme-ai-{env}-gpu-operator")]
    root = objects[("Application", f"acme-ai-{env}-root")]
    assert root["spec"]["source"]["path"] == f"output/argocd/{env}"
    assert root["spec"]["destination"] == {"server": "https://kubernetes.default.svc",
                                           "namespace": "argocd"}


def test_server_side_apply_and_namespaces_follow_the_chart_table(tree: Path) -> None:
    objects = _objects(tree, "prod")
    for chart in CHARTS:
        found = objects.get(("Application", f"acme-ai-prod-{chart.name}"))
        if found is None:
            continue
        options = found["spec"]["syncPolicy"]["syncOptions"]
        assert ("ServerSideApply=true" in options) == chart.server_side_apply, chart.name
        assert "CreateNamespace=true" in options
    gpu = objects[("Application", f"acme-ai-prod-{GPU_OPERATOR}")]["spec"]["syncPolicy"]
    namespace = yaml.safe_load((tree / "base/cluster/namespace-gpu-operator.yaml").read_text())
    # The operator's namespace is created with exactly the platform's Pod Security labels.
    assert gpu["managedNamespaceMetadata"]["labels"] == namespace["metadata"]["labels"]
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"


def _prod_render() -> tuple[Any, FullRender]:
    vp = validate_file(REPO / "profiles" / "prod.yaml")
    return vp, render_full(RenderContext(vp.profile))


def test_replicas_of_autoscaled_workloads_are_ignored() -> None:
    vp, full = _prod_render()
    # Start from prod without its own autoscalers (its vLLM models use KEDA).
    full = FullRender(tuple(o for o in full.objects if o.component != "autoscaling"),
                      full.helm_values)
    scaled = {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
              "metadata": {"name": "llama", "namespace": "llm-serving"},
              "spec": {"scaleTargetRef": {"name": "llama"}}}
    hpa = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
           "metadata": {"name": "embed", "namespace": "rag-data"},
           "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "StatefulSet",
                                       "name": "embed"}}}
    with_autoscalers = FullRender(full.objects + (RenderedObject("autoscaling", scaled),
                                                  RenderedObject("autoscaling", hpa)),
                                  full.helm_values)
    assert argocd.ignored_replicas(full) == []
    objects = argocd.render(RenderContext(vp.profile), [("base", full), ("prod", with_autoscalers)])
    platform = next(o for o in objects if o["kind"] == "Application"
                    and o["metadata"]["name"] == "acme-ai-prod")
    assert platform["spec"]["ignoreDifferences"] == [
        {"group": "apps", "kind": "Deployment", "name": "llama", "namespace": "llm-serving",
         "jsonPointers": ["/spec/replicas"]},
        {"group": "apps", "kind": "StatefulSet", "name": "embed", "namespace": "rag-data",
         "jsonPointers": ["/spec/replicas"]},
    ]
    assert "RespectIgnoreDifferences=true" in platform["spec"]["syncPolicy"]["syncOptions"]
    # A ScaledObject also brings KEDA in, before the platform.
    keda = next(o for o in objects if o["metadata"]["name"] == "acme-ai-prod-keda")
    assert int(keda["metadata"]["annotations"][WAVE]) < PLATFORM_WAVE


def _with_gitops(workspace: Path, text: str) -> None:
    prod = workspace / "profiles" / "prod.yaml"
    prod.write_text(prod.read_text().replace("  gitops:\n    deploy: true\n", text))


def test_profile_overrides_charts_and_sync(workspace: Path, cli: Callable[..., Result]) -> None:
    _with_gitops(workspace, "  gitops:\n    deploy: true\n    sync:\n      automated: false\n"
                 "    charts:\n      kube-prometheus-stack:\n        enabled: false\n"
                 "      keda:\n        enabled: true\n        version: 2.19.0\n")
    # Without its Application, the Prometheus operator the monitors need comes from the cluster.
    refused = cli("render", "prod")
    assert refused.exit_code == 1
    assert "needs Prometheus Operator, whose operator Application is off" in refused.stderr
    # ... and so does the namespace of the alert rules, which that Application would create.
    assert "Namespace 'monitoring' is not declared as provided" in refused.stderr
    prod = workspace / "profiles" / "prod.yaml"
    prod.write_text(prod.read_text().replace("controllers: [karpenter, kserve]",
                                             "controllers: [karpenter, kserve, "
                                             "prometheus-operator]\n    namespaces: [monitoring]"))
    assert cli("render", "prod").exit_code == 0
    folder = workspace / "output" / "argocd" / "prod"
    names = {p.name for p in folder.iterdir()}
    assert "application-acme-ai-prod-kube-prometheus-stack.yaml" not in names
    keda = yaml.safe_load((folder / "application-acme-ai-prod-keda.yaml").read_text())
    assert keda["spec"]["source"]["targetRevision"] == "2.19.0"
    assert "sources" not in keda["spec"]  # no values written for KEDA: a single source
    assert "automated" not in keda["spec"]["syncPolicy"]
    assert "finalizers" not in keda["metadata"]  # no prune without automated sync


def test_argocd_files_are_owned_and_checked_for_drift(workspace: Path,
                                                      cli: Callable[..., Result]) -> None:
    assert cli("render", "--all").exit_code == 0
    target = workspace / "output" / "argocd" / "prod" / "application-acme-ai-prod.yaml"
    target.write_text(target.read_text().replace("selfHeal: true", "selfHeal: false"))
    result = cli("render", "--all", "--check")
    assert result.exit_code == 3
    assert "argocd/prod/application-acme-ai-prod.yaml" in result.stderr
    _with_gitops(workspace, "  gitops:\n    deploy: false\n")
    target.write_text(target.read_text().replace("selfHeal: false", "selfHeal: true"))
    assert cli("render", "--all").exit_code == 0
    assert not (workspace / "output" / "argocd" / "prod").exists()


def test_an_environment_replaces_an_inherited_server_with_null(
        workspace: Path, cli: Callable[..., Result]) -> None:
    base = workspace / "profiles" / "base.yaml"
    base.write_text(base.read_text().replace(
        "    path: output\n", "    path: output\n    destination:\n      server: https://10.0.0.1\n"))
    result = cli("validate", "prod")
    assert result.exit_code == 1
    assert result.stderr.startswith("profiles/prod.yaml:")
    assert "spec.gitops.destination: set exactly one of `server` and `name`" in result.stderr
    prod = workspace / "profiles" / "prod.yaml"
    prod.write_text(prod.read_text().replace("      name: prod-cluster\n",
                                             "      name: prod-cluster\n      server: null\n"))
    assert cli("render", "prod").exit_code == 0
    app_text = (workspace / "output/argocd/prod/application-acme-ai-prod.yaml").read_text()
    assert yaml.safe_load(app_text)["spec"]["destination"] == {"name": "prod-cluster"}
    dev = cli("render", "dev")  # dev names its cluster too, without nulling the server
    assert dev.exit_code == 1 and dev.stderr.startswith("profiles/dev.yaml:")


def test_a_platform_without_namespaced_objects_may_create_none() -> None:
    vp, full = _prod_render()
    cluster_only = FullRender(tuple(o for o in full.objects
                                    if "namespace" not in o.obj["metadata"]), {})
    objects = argocd.render(RenderContext(vp.profile), [("base", full), ("prod", cluster_only)])
    project = next(o for o in objects if o["kind"] == "AppProject"
                   and o["metadata"]["name"] == "acme-ai-prod")["spec"]
    assert "namespaceResourceWhitelist" not in project
    assert project["namespaceResourceBlacklist"] == [{"group": "*", "kind": "*"}]
    assert project["clusterResourceWhitelist"]
