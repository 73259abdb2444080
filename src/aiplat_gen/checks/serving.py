"""Checks of the serving layer's references and settings: every model names a namespace, a GPU
pool and a priority class that exist, pins its weights, and sets what its engine needs.
(Capacity checks, memory fit and quotas, are in `serving_capacity`.)"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from aiplat_gen.core.errors import Diagnostic, Severity
from aiplat_gen.core.hints import did_you_mean, listed
from aiplat_gen.platform.engines import ENGINES, descriptor, runtime_of
from aiplat_gen.platform.engines.vllm import VLLM
from aiplat_gen.platform.facts.models import ARCHITECTURES
from aiplat_gen.platform.memory import total_weights_gib
from aiplat_gen.platform.resolved import resolve, uses_llm_runtime
from aiplat_gen.platform.secrets import hub_token
from aiplat_gen.platform.workload_resources import fetches_in_pod, weights_job
from aiplat_gen.profile.locator import Locator
from aiplat_gen.profile.schema.profile import Profile
from aiplat_gen.profile.schema.serving import (
    GS_METHODS,
    S3_METHODS,
    SHA256_HOWTO,
    SHA256_PLACEHOLDER,
    Model,
)
from aiplat_gen.profile.schema.types import parse_quantity

WARNING = Severity.WARNING
GIB = 1024**3
DOWNLOAD_MARGIN = 0.10
"""Room on the weights volume beyond the weights themselves: the tokenizer, config and index
files, embeddings the parameter count rounds off, the `.incomplete` file `huggingface_hub`
writes under `.cache/` while a shard is in flight, and the file system's own overhead."""


def model_references(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """Unique names; namespace, node pool and priority class exist; engine sections match."""
    spec = profile.spec
    namespaces = {n.name: n for n in spec.namespaces}
    pools = {p.name: p for p in spec.node_pools}
    classes = [c.name for c in spec.priority_classes]
    first: dict[str, int] = {}
    for i, model in enumerate(spec.models):
        loc = ("spec", "models", i)
        if model.name in first:
            yield at.diagnostic((*loc, "name"), f"duplicate model name {model.name!r}",
                                f"first used at models[{first[model.name]}]")
        first.setdefault(model.name, i)
        ns = namespaces.get(model.namespace)
        if ns is None:
            yield at.diagnostic((*loc, "namespace"),
                                f"namespace {model.namespace!r} is not in spec.namespaces",
                                did_you_mean(model.namespace, list(namespaces)))
        elif ns.purpose != "inference":
            yield at.diagnostic((*loc, "namespace"),
                                f"namespace {ns.name!r} has purpose {ns.purpose!r}, not "
                                "inference", "serve models from an inference namespace", WARNING)
        pool = pools.get(model.node_pool)
        if pool is None:
            yield at.diagnostic((*loc, "nodePool"),
                                f"node pool {model.node_pool!r} is not in spec.nodePools",
                                did_you_mean(model.node_pool, list(pools)))
        elif pool.gpu is None:
            gpu_pools = [p.name for p in spec.node_pools if p.gpu is not None]
            yield at.diagnostic((*loc, "nodePool"), f"node pool {pool.name!r} has no GPUs",
                                "GPU pools: " + listed(gpu_pools) if gpu_pools else "")
        if model.priority_class is not None and model.priority_class not in classes:
            yield at.diagnostic((*loc, "priorityClass"),
                                f"priority class {model.priority_class!r} is not in "
                                "spec.priorityClasses", did_you_mean(model.priority_class,
                                                                     classes))
        yield from _engine_sections(model, loc, at)


def _engine_sections(model: Model, loc: tuple[str | int, ...], at: Locator
                     ) -> Iterator[Diagnostic]:
    engine = descriptor(model.engine)
    if model.kserve is not None and not engine.kserve_settings:
        yield at.diagnostic((*loc, "kserve"), "`kserve` settings need `engine: kserve`")
    wants_triton = runtime_of(model).model_repository
    if model.triton is not None and not wants_triton:
        yield at.diagnostic((*loc, "triton"), "`triton` settings need `engine: triton` (or the "
                            "KServe triton runtime)")
    if wants_triton and model.triton is None:
        yield at.diagnostic(loc, "a Triton model repository needs `triton.models`",
                            "list the repository's models to load, e.g. triton: {models: "
                            "[embedder]}")
    if model.lora_adapters and not engine.lora:
        serving = ", ".join(e for e in ENGINES if descriptor(e).lora)
        yield at.diagnostic((*loc, "loraAdapters"),
                            f"LoRA adapters are served by engine {serving}, not {model.engine}")
    seen: set[str] = set()
    for k, adapter in enumerate(model.lora_adapters):
        if adapter.name in seen:
            yield at.diagnostic((*loc, "loraAdapters", k, "name"),
                                f"duplicate LoRA adapter name {adapter.name!r}")
        seen.add(adapter.name)
    if model.max_loras is not None and not model.lora_adapters:
        yield at.diagnostic((*loc, "maxLoras"), "`maxLoras` without `loraAdapters`",
                            "add adapters or remove maxLoras", WARNING)


def model_sources(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """Weights are pinned and have a volume that can hold them; canaries are possible."""
    for i, resolved in enumerate(resolve(profile).models):
        model = resolved.model
        loc = ("spec", "models", i)
        source = model.source
        hub = source.uri.startswith("hf://")
        if not hub and not descriptor(model.engine).object_store_weights:
            yield at.diagnostic((*loc, "source", "uri"),
                                f"engine {model.engine} takes weights from the Hugging Face Hub "
                                "(hf://<org>/<repo>)",
                                "object store URIs (s3://, gs://) are for Triton repositories")
        if hub and source.revision is None:
            yield at.diagnostic((*loc, "source"), "`hf://` weights need a pinned `revision`",
                                "the 40-character commit of the Hub repository")
        if hub and source.sha256 is None:
            yield at.diagnostic((*loc, "source"), "`hf://` weights need the `sha256` of their "
                                "weights manifest", "see the ModelSource documentation")
        if not hub and (source.revision or source.sha256):
            yield at.diagnostic((*loc, "source"), "`revision` and `sha256` pin Hub weights; an "
                                "object store repository is read as it is", "", WARNING)
        yield from _hub_token(profile, model, hub, loc, at)
        yield from _credentials(model, loc, at)
        if hub and model.storage is None:
            yield at.diagnostic(loc, "`hf://` weights are downloaded into a volume: set "
                                "`storage.size`", "e.g. storage: {size: 40Gi}")
        yield from _storage(model, resolved.parameters, loc, at)
        yield from _in_pod_download(profile, model, loc, at)
        yield from _canary(model, loc, at)


def _in_pod_download(profile: Profile, model: Model, loc: tuple[str | int, ...], at: Locator
                     ) -> Iterator[Diagnostic]:
    """Per-replica volumes are created with each replica, so no weights Job can fill them: the
    server pods download themselves and their network policy keeps HTTPS egress to the
    internet (`platform.graph.reads_weights_itself`)."""
    policies = profile.spec.security.network_policies
    if not (fetches_in_pod(model) and policies.enabled and policies.model_source_hosts):
        return
    yield at.diagnostic((*loc, "storage", "perReplica"),
                        "per-replica volumes are filled by the server pods themselves, so "
                        "this model's pods keep HTTPS egress to the internet (a weights Job "
                        "can fill only a shared volume)",
                        "use one shared ReadWriteMany volume (perReplica: false) to move the "
                        "download into a weights Job", WARNING)


def _hub_token(profile: Profile, model: Model, hub: bool, loc: tuple[str | int, ...],
               at: Locator) -> Iterator[Diagnostic]:
    """A Hub download without a token while the profile names one elsewhere: a gated
    repository answers 401 (GatedRepoError) and the weights never arrive."""
    if not (hub or model.lora_adapters) or hub_token(profile, model) is not None:
        return
    named = sorted({f"{m.hf_token.name} (namespace {m.namespace})" for m in profile.spec.models
                    if m.hf_token is not None})
    if named:
        yield at.diagnostic(loc, "downloads from the Hugging Face Hub without a token while the "
                            f"profile names {', '.join(named)}; gated repositories answer 401",
                            f"set hfToken (a Secret in namespace {model.namespace})", WARNING)


def placeholder_checksums(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """A `sha256` that is still the reserved placeholder (64 zeros): fine while drafting, a
    warning here; `check --policy` refuses it, as every download would fail its verification."""
    for i, model in enumerate(profile.spec.models):
        loc = ("spec", "models", i)
        pinned: list[tuple[tuple[str | int, ...], str | None]] = [
            ((*loc, "source", "sha256"), model.source.sha256)]
        pinned += [((*loc, "loraAdapters", j, "sha256"), a.sha256)
                   for j, a in enumerate(model.lora_adapters)]
        if model.kserve is not None and model.kserve.canary is not None:
            pinned.append(((*loc, "kserve", "canary", "sha256"), model.kserve.canary.sha256))
        for where, value in pinned:
            if value == SHA256_PLACEHOLDER:
                yield at.diagnostic(where, "sha256 is the placeholder (64 zeros): the weights "
                                    "download will refuse every file", SHA256_HOWTO, WARNING)


def _credentials(model: Model, loc: tuple[str | int, ...], at: Locator
                 ) -> Iterator[Diagnostic]:
    """An object store repository names how Triton gets into it; nothing else names one."""
    source = model.source
    scheme = source.uri.split("://", 1)[0]
    creds = source.credentials
    cloc = (*loc, "source", "credentials")
    if scheme in ("s3", "gs") and not descriptor(model.engine).object_store_weights:
        return  # refused above: the engine cannot read an object store at all
    if scheme not in ("s3", "gs"):
        if creds is not None:
            yield at.diagnostic(cloc, "`credentials` are for object store repositories "
                                "(s3://, gs://)", "remove them; Hub tokens go in `hfToken`")
        return
    methods = S3_METHODS if scheme == "s3" else GS_METHODS
    if creds is None:
        yield at.diagnostic((*loc, "source"), f"an object store repository (`{scheme}://`) needs "
                            "`credentials`: "
                            "without them Triton cannot read it (no credentials reach the pod, "
                            "and the network policies keep the node metadata service out of "
                            "reach)", "e.g. credentials: {method: irsa, region: us-east-1, "
                            "roleArn: arn:aws:iam::<account>:role/<role>}" if scheme == "s3"
                            else "e.g. credentials: {method: gke-workload-identity, "
                            "gcpServiceAccount: <name>@<project>.iam.gserviceaccount.com}")
        return
    if creds.method not in methods:
        yield at.diagnostic((*cloc, "method"), f"`{creds.method}` cannot read a `{scheme}://` "
                            "repository", "use " + " or ".join(sorted(methods)))
    if scheme == "s3" and creds.region is None:
        yield at.diagnostic(cloc, "an `s3://` repository needs the bucket's `region`",
                            "Triton reads it from AWS_DEFAULT_REGION, e.g. region: us-east-1")
    if scheme == "gs" and creds.region is not None:
        yield at.diagnostic((*cloc, "region"), "`region` is for S3 buckets", "remove it",
                            WARNING)


def _storage(model: Model, params: int | None, loc: tuple[str | int, ...], at: Locator
             ) -> Iterator[Diagnostic]:
    storage = model.storage
    if storage is None:
        return
    sloc = (*loc, "storage")
    most = model.autoscaling.max_replicas if model.autoscaling else model.replicas
    if storage.per_replica and not descriptor(model.engine).per_replica_storage:
        yield at.diagnostic((*sloc, "perReplica"), "KServe predictors share one weights volume",
                            "use accessMode: ReadWriteMany for several replicas")
    elif not storage.per_replica and most > 1 and storage.access_mode != "ReadWriteMany":
        reach = ("a single node" if storage.access_mode == "ReadWriteOnce"
                 else "a single pod")
        yield at.diagnostic((*sloc, "accessMode"),
                            f"{most} replicas share one {storage.access_mode} volume, "
                            f"which only {reach} can mount",
                            "use accessMode: ReadWriteMany, or perReplica: true for a volume "
                            "per replica")
    if weights_job(model) and storage.access_mode == "ReadWriteOncePod":
        # The weights Job's pod and the server pods mount the same claim; a ReadWriteOncePod
        # claim admits one pod, so a server pod that binds first keeps the Job from running.
        yield at.diagnostic((*sloc, "accessMode"),
                            "the weights Job and the server pods both mount the weights "
                            "volume, which ReadWriteOncePod allows one pod at a time",
                            "use accessMode: ReadWriteOnce (or ReadWriteMany)")
    if params is None:
        return
    # What is downloaded: the files the engine loads (`WeightFiles`), about the size of the
    # weights, once per revision on the volume.
    copies = 2 if model.kserve is not None and model.kserve.canary is not None else 1
    weights = total_weights_gib(params, model.dtype, model.quantization) * copies
    needed = weights * (1 + DOWNLOAD_MARGIN)
    size_gib = float(parse_quantity(storage.size)) / GIB
    if size_gib < needed:
        what = "two revisions (stable and canary)" if copies == 2 else "the weights"
        yield at.diagnostic((*sloc, "size"),
                            f"{storage.size} ({size_gib:.1f} GiB) cannot hold {what}: "
                            f"{weights:.1f} GiB downloaded, {needed:.1f} GiB with a "
                            f"{DOWNLOAD_MARGIN:.0%} margin", "raise storage.size")


def _canary(model: Model, loc: tuple[str | int, ...], at: Locator) -> Iterator[Diagnostic]:
    settings = model.kserve
    if settings is None or settings.canary is None:
        return
    cloc = (*loc, "kserve", "canary")
    if settings.deployment_mode != "Knative":
        yield at.diagnostic(cloc, "KServe canary rollouts need `deploymentMode: Knative` "
                            f"(not {settings.deployment_mode})",
                            "KServe splits traffic between revisions only in Knative mode; "
                            "it refuses to change the mode of an existing InferenceService")
    if settings.canary.revision == model.source.revision:
        yield at.diagnostic((*cloc, "revision"), "the canary revision is the stable one",
                            "name the new revision, or remove `canary`")


MANAGED_FIELDS = {
    "--served-model-name": "servedModelName", "--port": f"(fixed: {VLLM.api_ports[0].number})",
    "--tensor-parallel-size": "gpus", "-tp": "gpus", "--max-model-len": "maxModelLen",
    "--max_model_len": "maxModelLen", "--gpu-memory-utilization": "gpuMemoryUtilization",
    "--dtype": "dtype", "--quantization": "quantization", "-q": "quantization",
    "--kv-cache-dtype": "kvCacheDtype", "--enable-lora": "loraAdapters",
    "--lora-modules": "loraAdapters", "--max-loras": "maxLoras",
    "--max-lora-rank": "maxLoraRank", "--model_name": "servedModelName",
    "--model_dir": "(fixed: /mnt/models)", "--load-model": "triton.models",
    "--model-control-mode": "(fixed: explicit)", "--model-repository": "source",
    "--otlp-traces-endpoint": "spec.observability.tracing",
}


def managed_flags(model: Model) -> frozenset[str]:
    """Flags aiplat-gen sets for this model's engine and runtime."""
    return runtime_of(model).managed_flags


def model_settings(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """Architecture, parameters and max model length for LLM engines; extra args that would
    fight the generated ones."""
    for i, resolved in enumerate(resolve(profile).models):
        model, arch = resolved.model, resolved.architecture
        loc = ("spec", "models", i)
        if model.architecture is not None and arch is None:
            close = difflib.get_close_matches(model.architecture, list(ARCHITECTURES), n=1)
            yield at.diagnostic((*loc, "architecture"),
                                f"unknown architecture {model.architecture!r}",
                                f"did you mean {close[0]!r}?" if close else
                                "known: " + ", ".join(ARCHITECTURES) + "; or give "
                                "`parameters` instead")
        if uses_llm_runtime(model):
            if model.architecture is None and model.parameters is None:
                yield at.diagnostic(loc, "needs `architecture` or `parameters` to size its GPU "
                                    "memory", "architectures: " + ", ".join(ARCHITECTURES))
            if model.max_model_len is None:
                yield at.diagnostic(loc, "needs `maxModelLen` (the longest request in tokens)",
                                    "it sizes the KV cache of the memory-fit check")
        if arch is not None and model.max_model_len and (
                model.max_model_len > arch.max_position_embeddings):
            yield at.diagnostic((*loc, "maxModelLen"),
                                f"{model.max_model_len} tokens exceed the "
                                f"{arch.max_position_embeddings} that {arch.hf_repo} supports "
                                "(max_position_embeddings)",
                                f"use maxModelLen <= {arch.max_position_embeddings}")
        flags = managed_flags(model)
        for k, arg in enumerate(model.extra_args):
            flag = arg.split("=", 1)[0]
            if flag in flags:
                field = MANAGED_FIELDS.get(flag, "the profile")
                yield at.diagnostic((*loc, "extraArgs", k),
                                    f"{flag} is set by aiplat-gen from `{field}`",
                                    "remove it from extraArgs")
