"""The offline validation plumbing, proven with the real kubeconform and kustomize binaries.

The binaries come from `scripts/install-tools.sh`; the Kubernetes schemas from the
`kubernetes-validate` package (a test dependency), prepared into a fresh temporary folder; the CRD
schemas from `../shared/schemas/crds`.
"""

from __future__ import annotations

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from aiplat_gen.verify.kube.kubeconform import (
    KubeconformReport,
    ToolError,
    find_tool,
    full_kubernetes_version,
    kubeconform_command,
    run_kubeconform,
)
from aiplat_gen.verify.kube.schemas import (
    KubernetesSchemaError,
    kubeconform_schema_filename,
    kubeconform_schema_locations,
    prepare_kubernetes_schemas,
    supported_kubernetes_versions,
)

PROJECT = Path(__file__).resolve().parents[1]
SHARED = PROJECT.parent / "shared"
K8S_VERSION = "1.33"
PINNED = {"kubeconform": ("-v", "v0.7.0"), "kustomize": ("version", "v5.8.1")}

VALID_MANIFESTS = {
    "Deployment": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: vllm
  namespace: llm
spec:
  replicas: 1
  selector:
    matchLabels: {app: vllm}
  template:
    metadata:
      labels: {app: vllm}
    spec:
      priorityClassName: inference-high
      containers:
        - name: vllm
          image: vllm/vllm-openai:v0.10.1
          args: ["--model", "/models/llama"]
          ports: [{containerPort: 8000, name: http}]
          resources:
            limits: {nvidia.com/gpu: "1", memory: 32Gi}
            requests: {cpu: "4", memory: 32Gi}
""",
    "Service": """\
apiVersion: v1
kind: Service
metadata: {name: vllm, namespace: llm}
spec:
  selector: {app: vllm}
  ports: [{name: http, port: 80, targetPort: http}]
""",
    "Namespace": """\
apiVersion: v1
kind: Namespace
metadata:
  name: llm
  labels: {pod-security.kubernetes.io/enforce: restricted}
""",
    "ResourceQuota": """\
apiVersion: v1
kind: ResourceQuota
metadata: {name: gpus, namespace: llm}
spec:
  hard: {requests.nvidia.com/gpu: "8", limits.memory: 512Gi}
""",
    "LimitRange": """\
apiVersion: v1
kind: LimitRange
metadata: {name: defaults, namespace: llm}
spec:
  limits:
    - type: Container
      default: {cpu: "1", memory: 1Gi}
      defaultRequest: {cpu: 100m, memory: 128Mi}
""",
    "PriorityClass": """\
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: inference-high}
value: 100000
globalDefault: false
description: Online inference.
""",
    "NetworkPolicy": """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: llm}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
""",
    "ConfigMap": """\
apiVersion: v1
kind: ConfigMap
metadata: {name: vllm-config, namespace: llm}
data: {MAX_MODEL_LEN: "8192"}
""",
}

SCALED_OBJECT = """\
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: vllm, namespace: llm}
spec:
  scaleTargetRef: {name: vllm}
  minReplicaCount: 1
  maxReplicaCount: 4
  triggers:
    - type: prometheus
      metadata:
        serverAddress: http://prometheus.monitoring:9090
        query: sum(vllm:num_requests_waiting)
        threshold: "5"
"""


def _pinned_tool(name: str) -> Path:
    flag, version = PINNED[name]
    hint = "run scripts/install-tools.sh to install the pinned test tools"
    try:
        binary = find_tool(name)
    except ToolError as exc:
        pytest.fail(str(exc))
    out = subprocess.run([binary, flag], capture_output=True, text=True, check=False)
    if version not in out.stdout + out.stderr:
        pytest.fail(f"{binary} is not {name} {version} ({out.stdout.strip()!r}); {hint}")
    return binary


@pytest.fixture(scope="session")
def kubeconform() -> Path:
    """Return the pinned kubeconform binary."""
    return _pinned_tool("kubeconform")


@pytest.fixture(scope="session")
def k8s_schemas(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Prepare the Kubernetes schemas into a fresh folder for this test session."""
    return prepare_kubernetes_schemas(K8S_VERSION, tmp_path_factory.mktemp("schema-cache"))


@pytest.fixture(scope="session")
def crd_schemas() -> Path:
    """Return the shared CRD schemas; tests using them skip where ../shared is absent."""
    crds = SHARED / "schemas" / "crds"
    if not crds.is_dir():
        pytest.skip(f"{SHARED} is absent: the CRD schemas live in ../shared/schemas/crds")
    return crds


def _validate(
    manifests: dict[str, str], folder: Path, binary: Path, locations: list[str]
) -> KubeconformReport:
    files = []
    for name, text in manifests.items():
        path = folder / f"{name.lower()}.yaml"
        path.write_text(text, encoding="utf-8")
        files.append(path)
    return run_kubeconform(files, K8S_VERSION, locations, binary)


# --- schema preparation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "api_version", "expected"),
    [
        ("Deployment", "apps/v1", "deployment-apps-v1.json"),
        ("Service", "v1", "service-v1.json"),
        ("PriorityClass", "scheduling.k8s.io/v1", "priorityclass-scheduling-v1.json"),
        ("NetworkPolicy", "networking.k8s.io/v1", "networkpolicy-networking-v1.json"),
        ("ClusterRole", "rbac.authorization.k8s.io/v1", "clusterrole-rbac-v1.json"),
        (
            "HorizontalPodAutoscaler",
            "autoscaling/v2",
            "horizontalpodautoscaler-autoscaling-v2.json",
        ),
        # kubernetes-validate calls this one `storageversion-apiserverinternal-v1alpha1.json`.
        (
            "StorageVersion",
            "internal.apiserver.k8s.io/v1alpha1",
            "storageversion-internal-v1alpha1.json",
        ),
    ],
)
def test_schema_file_names_follow_kubeconform_kind_suffix(
    k8s_schemas: Path, kind: str, api_version: str, expected: str
) -> None:
    assert kubeconform_schema_filename(kind, api_version) == expected
    assert (k8s_schemas / expected).is_file()


def test_prepared_schemas_are_self_contained(k8s_schemas: Path) -> None:
    assert k8s_schemas.name == "v1.33.0-standalone-strict"
    deployment = json.loads((k8s_schemas / "deployment-apps-v1.json").read_text())
    assert "$id" not in deployment
    assert deployment["properties"]["spec"]["$ref"] == (
        "_definitions.json#/$defs/io.k8s.api.apps.v1.DeploymentSpec"
    )
    assert deployment["additionalProperties"] is False
    assert "$id" not in json.loads((k8s_schemas / "_definitions.json").read_text())
    for path in k8s_schemas.glob("*.json"):
        assert "kubernetes.io/api/" not in path.read_text(), path.name


def test_second_call_reuses_the_folder(k8s_schemas: Path) -> None:
    before = {p.name: p.stat().st_mtime_ns for p in k8s_schemas.iterdir()}
    again = prepare_kubernetes_schemas("1.33.2", k8s_schemas.parent)
    assert again == k8s_schemas
    assert {p.name: p.stat().st_mtime_ns for p in k8s_schemas.iterdir()} == before
    assert prepare_kubernetes_schemas("v1.33", k8s_schemas.parent) == k8s_schemas


def test_concurrent_preparation_publishes_one_complete_folder(tmp_path: Path) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        folders = set(pool.map(lambda _: prepare_kubernetes_schemas("1.34", tmp_path), range(4)))
    assert folders == {tmp_path / "v1.34.0-standalone-strict"}
    assert [p.name for p in tmp_path.iterdir()] == ["v1.34.0-standalone-strict"]
    assert (tmp_path / "v1.34.0-standalone-strict" / "deployment-apps-v1.json").is_file()


def test_stale_folder_is_replaced(tmp_path: Path) -> None:
    stale = tmp_path / "v1.33.0-standalone-strict"
    stale.mkdir()
    (stale / "leftover.json").write_text("{}")
    (stale / ".aiplat-schemas.json").write_text('{"source": "kubernetes-validate==0.0.1"}')
    assert prepare_kubernetes_schemas(K8S_VERSION, tmp_path) == stale
    assert not (stale / "leftover.json").exists()
    assert (stale / "service-v1.json").is_file()
    assert [p.name for p in tmp_path.iterdir()] == [stale.name]


def test_unknown_version_lists_supported_ones(tmp_path: Path) -> None:
    assert K8S_VERSION in supported_kubernetes_versions()
    with pytest.raises(KubernetesSchemaError, match=r"'1\.19'.*supported: 1\.\d+.*1\.33"):
        prepare_kubernetes_schemas("1.19", tmp_path)
    with pytest.raises(KubernetesSchemaError, match="invalid Kubernetes version"):
        prepare_kubernetes_schemas("latest", tmp_path)
    assert not any(tmp_path.iterdir())


# --- kubeconform ------------------------------------------------------------------------------


def test_command_uses_only_local_schemas(k8s_schemas: Path) -> None:
    locations = kubeconform_schema_locations(k8s_schemas, [Path("/crds")])
    assert locations == [
        f"{k8s_schemas}/{{{{ .ResourceKind }}}}{{{{ .KindSuffix }}}}.json",
        "/crds/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json",
    ]
    command = kubeconform_command([Path("a.yaml")], "1.33", locations, Path("kubeconform"))
    assert command == [
        "kubeconform", "-strict", "-summary", "-verbose", "-output", "json",
        "-kubernetes-version", "1.33.0",
        "-schema-location", locations[0], "-schema-location", locations[1],
        "a.yaml",
    ]  # fmt: skip
    assert full_kubernetes_version("v1.33.2") == "1.33.2"


def test_valid_manifests_pass(
    tmp_path: Path, kubeconform: Path, k8s_schemas: Path, crd_schemas: Path
) -> None:
    locations = kubeconform_schema_locations(k8s_schemas, [crd_schemas])
    manifests = {**VALID_MANIFESTS, "ScaledObject": SCALED_OBJECT}
    report = _validate(manifests, tmp_path, kubeconform, locations)
    assert report.ok, report.problems
    assert report.summary.valid == len(manifests)
    assert sorted(r.kind for r in report.resources) == sorted(manifests)
    assert {r.status for r in report.resources} == {"valid"}


def test_stdin_text_is_validated(kubeconform: Path, k8s_schemas: Path) -> None:
    text = "---\n".join(VALID_MANIFESTS.values())
    report = run_kubeconform(
        text, K8S_VERSION, kubeconform_schema_locations(k8s_schemas, []), kubeconform
    )
    assert report.ok, report.problems
    assert {r.filename for r in report.resources} == {"stdin"}
    assert report.summary.valid == len(VALID_MANIFESTS)


def test_unknown_field_is_invalid(
    tmp_path: Path, kubeconform: Path, k8s_schemas: Path, crd_schemas: Path
) -> None:
    locations = kubeconform_schema_locations(k8s_schemas, [crd_schemas])
    manifests = {
        "Deployment": VALID_MANIFESTS["Deployment"].replace(
            "          args:", "          imagePullPolicyy: Always\n          args:"
        ),
        "ScaledObject": SCALED_OBJECT.replace("  minReplicaCount: 1", "  minReplicas: 1"),
    }
    report = _validate(manifests, tmp_path, kubeconform, locations)
    assert not report.ok
    assert report.summary.invalid == 2
    assert report.summary.valid == report.summary.errors == report.summary.skipped == 0
    by_kind = {r.kind: r for r in report.resources}
    assert by_kind["Deployment"].status == "invalid"
    assert "'imagePullPolicyy' not allowed" in by_kind["Deployment"].msg
    assert "'minReplicas' not allowed" in by_kind["ScaledObject"].msg


def test_kind_without_schema_is_an_error_not_a_skip(
    tmp_path: Path, kubeconform: Path, k8s_schemas: Path, crd_schemas: Path
) -> None:
    locations = kubeconform_schema_locations(k8s_schemas, [crd_schemas])
    manifests = {
        "Widget": "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
        # A known CRD group at a version with no schema.
        "ScaledObject": SCALED_OBJECT.replace("keda.sh/v1alpha1", "keda.sh/v9"),
    }
    report = _validate(manifests, tmp_path, kubeconform, locations)
    assert not report.ok
    assert report.summary.errors == 2
    assert report.summary.skipped == 0
    assert {(r.kind, r.status) for r in report.resources} == {
        ("Widget", "error"),
        ("ScaledObject", "error"),
    }
    assert all("could not find schema" in r.msg for r in report.resources)


def test_empty_file_list_is_refused(kubeconform: Path, k8s_schemas: Path) -> None:
    with pytest.raises(ValueError, match="no manifest files"):
        run_kubeconform([], K8S_VERSION, kubeconform_schema_locations(k8s_schemas, []), kubeconform)


# --- tool lookup ------------------------------------------------------------------------------


def test_find_tool_prefers_aiplat_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "bin" / "kubeconform"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("AIPLAT_TOOLS", str(tmp_path))
    assert find_tool("kubeconform") == fake


def test_missing_tool_names_the_install_script(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIPLAT_TOOLS", raising=False)
    with pytest.raises(ToolError, match="scripts/install-tools.sh"):
        find_tool("aiplat-no-such-tool")


def test_kustomize_builds(tmp_path: Path) -> None:
    kustomize = _pinned_tool("kustomize")
    (tmp_path / "cm.yaml").write_text(VALID_MANIFESTS["ConfigMap"])
    (tmp_path / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        "resources: [cm.yaml]\nlabels: [{pairs: {team: ml}}]\n"
    )
    out = subprocess.run([kustomize, "build", tmp_path], capture_output=True, text=True, check=True)
    assert "team: ml" in out.stdout
