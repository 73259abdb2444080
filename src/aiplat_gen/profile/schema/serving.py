"""Profile models of the serving layer: the models the platform serves with vLLM, Triton or
KServe, where their weights come from, and what each replica gets."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from aiplat_gen.profile.schema.autoscaling import Autoscaling
from aiplat_gen.profile.schema.data import CacheName, VectorDatabaseName
from aiplat_gen.profile.schema.secrets import SecretRef
from aiplat_gen.profile.schema.types import DnsLabel, ImageRef, Quantity, Strict

Engine = Literal["vllm", "triton", "kserve"]
Dtype = Literal["half", "float16", "bfloat16", "float", "float32"]
Quantization = Literal["fp8", "awq", "awq_marlin", "gptq", "gptq_marlin"]
KvCacheDtype = Literal["auto", "fp8", "fp8_e4m3", "fp8_e5m2"]
LoraRank = Literal[1, 8, 16, 32, 64, 128, 256, 320, 512]
"""`--max-lora-rank` values vLLM accepts (`MaxLoRARanks` in `vllm/config/lora.py`)."""

CommitSha = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{40}$")]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
SourceUri = Annotated[str, StringConstraints(
    max_length=512,
    pattern=r"^(hf://[A-Za-z0-9][-A-Za-z0-9_.]*/[A-Za-z0-9][-A-Za-z0-9_.]*"
            r"|(s3|gs)://[a-z0-9][-a-z0-9_.]*(/[^\s]*)?)$")]
SHA256_PLACEHOLDER = "0" * 64
"""The reserved placeholder of a `sha256` not yet computed: 64 zeros. No weights manifest hashes
to it (that would be a preimage of the all-zero digest), so it cannot be a real value by accident.
Examples and `init` scaffolds carry it; `validate` warns on it and `check --policy` refuses the
rendered tree (rule `weights-checksum`): every download would fail its verification."""
SHA256_HOWTO = ("download a trusted copy of the revision with the engine's file lists "
                "(`aiplat-gen explain spec.models.source`), then: cd <dir> && find . -type f "
                "! -path './.cache/*' | LC_ALL=C sort | xargs -d '\\n' sha256sum | sha256sum")
"""How to compute a weights manifest's sha256 (the hint of the placeholder diagnostics)."""
ServedName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][-A-Za-z0-9_./]{0,127}$")]
EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")]
TritonModelName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][-A-Za-z0-9_.]{0,127}$")]


AwsRegion = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]$")]
IamRoleArn = Annotated[str, StringConstraints(
    max_length=2048, pattern=r"^arn:aws[-a-z]*:iam::[0-9]{12}:role/[-A-Za-z0-9_+=,.@/]+$")]
GcpServiceAccount = Annotated[str, StringConstraints(
    pattern=r"^[a-z][-a-z0-9]{4,28}[a-z0-9]@[-a-z0-9]+\.iam\.gserviceaccount\.com$")]
CredentialMethod = Literal["irsa", "eks-pod-identity", "gke-workload-identity", "access-keys"]
S3_METHODS: frozenset[str] = frozenset({"irsa", "eks-pod-identity", "access-keys"})
GS_METHODS: frozenset[str] = frozenset({"gke-workload-identity"})


class ObjectStoreCredentials(Strict):
    """How Triton authenticates to the object store of an `s3://` or `gs://` model repository
    (Triton reads it itself; `triton-inference-server/core` `src/filesystem/implementations/
    s3.h`: keys from `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`, region
    from `AWS_DEFAULT_REGION`, else the AWS SDK's default chain, which covers IRSA and EKS Pod
    Identity).

    - `irsa`: IAM Roles for Service Accounts; the model's ServiceAccount gets
      `eks.amazonaws.com/role-arn: <roleArn>` and EKS's pod identity webhook injects the web
      identity token; egress to STS and S3 over HTTPS.
    - `eks-pod-identity`: the role comes from an EKS Pod Identity association made outside
      Kubernetes (`aws eks create-pod-identity-association --namespace <ns>
      --service-account <model> --role-arn ...`); the pod gets egress to the node's Pod
      Identity Agent at 169.254.170.23:80 (AWS EKS User Guide, "Set up the Amazon EKS Pod
      Identity Agent") and to S3 over HTTPS.
    - `gke-workload-identity`: for `gs://`; the ServiceAccount gets
      `iam.gke.io/gcp-service-account: <gcpServiceAccount>`; egress to the GKE metadata server
      (169.254.169.254:80) and Google APIs over HTTPS.
    - `access-keys`: a static key pair from Secrets (`accessKeyId`, `secretAccessKey`, with
      `remote` synced by External Secrets), passed as `AWS_ACCESS_KEY_ID` /
      `AWS_SECRET_ACCESS_KEY`."""

    method: CredentialMethod = Field(examples=["irsa"])
    """`irsa`, `eks-pod-identity`, `access-keys` (for `s3://`) or `gke-workload-identity`
    (for `gs://`)."""
    region: AwsRegion | None = Field(default=None, examples=["us-east-1"])
    """AWS region of the bucket (required for `s3://`): `AWS_REGION` and
    `AWS_DEFAULT_REGION`, which Triton reads, and the S3 and STS endpoints."""
    role_arn: IamRoleArn | None = Field(
        default=None, examples=["arn:aws:iam::111122223333:role/triton-models-read"])
    """The IAM role (`irsa` only)."""
    gcp_service_account: GcpServiceAccount | None = Field(
        default=None, examples=["triton@acme-ai.iam.gserviceaccount.com"])
    """The Google service account the Kubernetes ServiceAccount impersonates
    (`gke-workload-identity` only)."""
    access_key_id: SecretRef | None = None
    """Secret holding the access key id (`access-keys` only)."""
    secret_access_key: SecretRef | None = None
    """Secret holding the secret access key (`access-keys` only)."""

    @model_validator(mode="after")
    def _fields_of_method(self) -> ObjectStoreCredentials:
        needs = {"irsa": {"role_arn"}, "gke-workload-identity": {"gcp_service_account"},
                 "access-keys": {"access_key_id", "secret_access_key"},
                 "eks-pod-identity": set()}[self.method]
        for name in ("role_arn", "gcp_service_account", "access_key_id", "secret_access_key"):
            key = type(self).model_fields[name].alias or name
            if name in needs and getattr(self, name) is None:
                raise ValueError(f"`method: {self.method}` needs `{key}`")
            if name not in needs and getattr(self, name) is not None:
                raise ValueError(f"`{key}` is not used with `method: {self.method}`")
        return self


class ModelSource(Strict):
    """Where the weights come from, pinned. With `hf://`, the files of the revision the engine
    loads (for vLLM and KServe's Hugging Face runtime: safetensors, config, tokenizer and
    generation config, not `original/`; for Triton: the whole repository) are downloaded into the
    weights volume and the sha256 of their weights manifest is verified once, before any server
    starts. The manifest is `sha256sum` output (`<sha256>  ./<path>`) of the downloaded files,
    sorted by path: download a trusted copy with `huggingface_hub.snapshot_download(repo,
    revision=..., local_dir=<dir>, allow_patterns=..., ignore_patterns=...)`, with the engine's
    lists (the `allow` and `ignore` of the rendered `AIPLAT_PREFETCH`), then `cd <dir> && find .
    -type f ! -path './.cache/*' | LC_ALL=C sort | xargs -d '\\n' sha256sum | sha256sum` gives
    the value."""

    uri: SourceUri = Field(examples=["hf://meta-llama/Llama-3.1-8B-Instruct"])
    """`hf://<org>/<repo>` (Hugging Face Hub), or for Triton an object store model repository
    (`s3://bucket/path`, `gs://bucket/path`) that Triton reads itself."""
    revision: CommitSha | None = Field(default=None,
                                       examples=["0e9e39f249a16976918f6564b8830bc894c89659"])
    """The 40-character commit of the Hub repository (required for `hf://`: a branch moves)."""
    sha256: Sha256 | None = Field(default=None, examples=[SHA256_PLACEHOLDER])
    """sha256 of the weights manifest of that revision (required for `hf://`). 64 zeros is the
    reserved placeholder: accepted while drafting (a warning), refused by `check --policy`."""
    prefetch_image: ImageRef | None = Field(default=None, examples=["vllm/vllm-openai:v0.11.0"])
    """Image of the download-and-verify init container; it needs python3 and huggingface_hub.
    Default: the model's own image for vLLM, the default vLLM image for the other engines."""
    credentials: ObjectStoreCredentials | None = None
    """How Triton authenticates to the object store (required for `s3://` and `gs://`)."""


class LoraAdapter(Strict):
    """A LoRA adapter served by vLLM next to its base model (`--lora-modules name=path`)."""

    name: DnsLabel = Field(examples=["sql"])
    """The adapter's model name in API requests."""
    uri: SourceUri = Field(examples=["hf://acme/llama-3.1-8b-sql-lora"])
    """`hf://<org>/<repo>` of the adapter."""
    revision: CommitSha = Field(examples=["4d3b5c1a2e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"])
    """Pinned commit of the adapter repository."""
    sha256: Sha256 = Field(examples=[SHA256_PLACEHOLDER])
    """sha256 of the adapter's weights manifest (same procedure as the model's; 64 zeros is the
    placeholder)."""


class WeightStorage(Strict):
    """The volume the weights are downloaded to."""

    size: Quantity = Field(examples=["200Gi"])
    """PVC size; must hold the weights (and any LoRA adapters)."""
    storage_class: DnsLabel | None = Field(default=None, examples=["gp3"])
    """StorageClass; empty uses the cluster default."""
    access_mode: Literal["ReadWriteOnce", "ReadWriteOncePod", "ReadWriteMany"] = "ReadWriteOnce"
    """Access mode. One volume shared by several replicas needs `ReadWriteMany`."""
    per_replica: bool = False
    """One volume per replica (a StatefulSet with volumeClaimTemplates) instead of one shared
    volume; vLLM and Triton only."""


class PodResources(Strict):
    """CPU and memory of one replica's server container (GPUs come from `gpus`)."""

    cpu: Quantity = Field(examples=["8"])
    """CPU request (and limit)."""
    memory: Quantity = Field(examples=["64Gi"])
    """Memory limit; `/dev/shm` is counted in it."""
    memory_request: Quantity | None = Field(default=None, examples=["48Gi"])
    """Memory request; default: the limit."""
    shm_size: Quantity = "8Gi"
    """Size of `/dev/shm` (a memory-backed emptyDir, counted in the memory limit)."""
    tmp_size: Quantity = "2Gi"
    """`sizeLimit` of the `/tmp` emptyDir (node disk); counted in the containers'
    `ephemeral-storage` requests and limits."""
    home_size: Quantity = "10Gi"
    """`sizeLimit` of the HOME emptyDir (`~/.cache`: compiled kernels, torch.compile and Triton
    caches); counted in the containers' `ephemeral-storage` requests and limits."""


class Canary(Strict):
    """A KServe canary: the new revision gets `trafficPercent` of the traffic, the last rolled
    out revision the rest."""

    revision: CommitSha = Field(examples=["c170c708c41dac9275d15a8fff4eca08d52bab71"])
    """Commit of the revision under test."""
    sha256: Sha256 = Field(examples=[SHA256_PLACEHOLDER])
    """sha256 of its weights manifest (64 zeros is the placeholder)."""
    traffic_percent: int = Field(ge=1, le=99, examples=[10])
    """Share of the traffic for the canary (`canaryTrafficPercent`)."""


class KServeSettings(Strict):
    """How a `kserve` model is served."""

    runtime: Literal["huggingface", "triton"] = "huggingface"
    """The serving runtime (`modelFormat.name`): Hugging Face (vLLM backend) or Triton."""
    deployment_mode: Literal["Standard", "Knative"] = "Standard"
    """`serving.kserve.io/deploymentMode` (KServe 0.16 names). Canary rollouts need Knative."""
    canary: Canary | None = None
    """Roll a new revision out to a share of the traffic first."""


class TritonSettings(Strict):
    """How a `triton` model repository is served."""

    models: list[TritonModelName] = Field(min_length=1, examples=[["embedder", "reranker"]])
    """Models of the repository to load (`--model-control-mode=explicit --load-model=...`)."""


class Model(Strict):
    """A model the platform serves: one Deployment (or StatefulSet, or InferenceService)."""

    name: DnsLabel = Field(examples=["llama-8b"])
    """Name of the model's objects and the `ai.platform/model` label."""
    engine: Engine = Field(examples=["vllm"])
    """`vllm`, `triton` or `kserve`."""
    namespace: DnsLabel = Field(examples=["llm-serving"])
    """A namespace of `spec.namespaces`."""
    node_pool: DnsLabel = Field(examples=["gpu-h100"])
    """The GPU pool the replicas run on (its selector and tolerations are applied)."""
    priority_class: DnsLabel | None = Field(default=None, examples=["inference-critical"])
    """PriorityClass; default: the class with `defaultFor: inference`."""
    source: ModelSource
    """The pinned weights."""
    architecture: str | None = Field(default=None, examples=["llama-3.1-8b"])
    """A known architecture (aiplat-gen's model table; `aiplat-gen explain
    spec.models.architecture` lists them): it gives the parameter count and the KV-cache shape
    of the memory-fit check.

    For a model not in the table, leave `architecture` out and give `parameters` (the
    parameter count, from the checkpoint's `model.safetensors.index.json` `total_size` divided
    by the bytes per parameter, or its model card); the weights are then sized but the KV cache
    is not estimated."""
    parameters: int | None = Field(default=None, ge=1, examples=[8030261248])
    """Parameter count, for models not in the table (the KV cache is then not estimated)."""
    image: ImageRef | None = Field(default=None, examples=["vllm/vllm-openai:v0.11.0"])
    """Server image, pinned; default per engine (see the component documentation)."""
    gpus: int = Field(default=1, ge=1, le=16)
    """GPUs per replica: the tensor parallel size (a MIG slice counts as one)."""
    max_model_len: int | None = Field(default=None, ge=16, examples=[8192])
    """`--max-model-len`: the longest sequence (prompt + output) a request may have."""
    gpu_memory_utilization: float = Field(default=0.9, gt=0, le=1)
    """`--gpu-memory-utilization`: the share of the GPU's memory the engine may take."""
    dtype: Dtype = "bfloat16"
    """`--dtype` of weights and activations."""
    quantization: Quantization | None = None
    """`--quantization` of the checkpoint's weights, if quantized."""
    kv_cache_dtype: KvCacheDtype = "auto"
    """`--kv-cache-dtype`; `auto` keeps the activation dtype."""
    replicas: int = Field(default=1, ge=0, le=1000)
    """Replicas, when the model does not autoscale (with `autoscaling`, the autoscaler owns
    them)."""
    served_model_name: ServedName | None = Field(default=None, examples=["llama-3.1-8b"])
    """The model name clients send (`--served-model-name`); default: `name`."""
    storage: WeightStorage | None = None
    """The weights volume (required for `hf://` sources, which are downloaded into it)."""
    resources: PodResources
    """CPU and memory of a replica."""
    extra_args: list[str] = Field(default_factory=list, examples=[["--enable-prefix-caching"]])
    """More engine arguments, appended verbatim (flags aiplat-gen sets are refused)."""
    hf_token: SecretRef | None = None
    """Hugging Face token for gated repositories, given only to the containers that download
    from the Hub. Default: the token another model of the same namespace names."""
    lora_adapters: list[LoraAdapter] = Field(default_factory=list)
    """LoRA adapters served with the model (vLLM)."""
    max_lora_rank: LoraRank = 16
    """`--max-lora-rank`: the highest rank among the adapters."""
    max_loras: int | None = Field(default=None, ge=1, examples=[4])
    """`--max-loras` (adapters in one batch); default: the number of adapters."""
    drain_seconds: int = Field(default=120, ge=0, le=3600)
    """How long in-flight requests may run after the pod is told to stop."""
    kserve: KServeSettings | None = None
    """Settings of `engine: kserve`."""
    triton: TritonSettings | None = None
    """Settings of `engine: triton` (required there)."""
    autoscaling: Autoscaling | None = None
    """Scale between bounds on queue depth (and KV cache or GPU use) with KEDA or an HPA; vLLM
    and Triton only."""
    vector_databases: list[VectorDatabaseName] = Field(default_factory=list,
                                                       examples=[["weaviate"]])
    """Vector databases (`spec.vectorDatabases`) this model's pods query: the network policies
    allow exactly these flows (and a managed store's HTTPS hosts)."""
    caches: list[CacheName] = Field(default_factory=list, examples=[["semantic-cache"]])
    """Caches (`spec.caches`) this model's pods use."""
    uses_models: list[DnsLabel] = Field(default_factory=list, examples=[["rag-encoders"]])
    """Other models (`spec.models`) this model's pods call, e.g. an embedder."""
    env: dict[EnvName, str] = Field(default_factory=dict,
                                    examples=[{"VLLM_LOGGING_LEVEL": "INFO"}])
    """Extra environment variables of the server container (no secrets: use references).
    `NVIDIA_VISIBLE_DEVICES` is refused: it bypasses the GPU allocation."""
