"""The shape of an engine descriptor: everything aiplat-gen knows about one serving engine
(vLLM, Triton, KServe), as data the consumers read instead of branching on the engine's name.

The descriptor types live here rather than in the package's `__init__` so the engine modules
can import them without importing the package that imports them.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Literal

from aiplat_gen.platform.facts.metrics import Metric
from aiplat_gen.profile.schema.cluster_provides import Controller
from aiplat_gen.profile.schema.serving import Engine

Matcher = tuple[str, str, str]
"""(label, operator, value), e.g. ("status", "=", "5xx")."""


@dataclass(frozen=True)
class EnginePort:
    """A named container port of the model server."""

    name: str
    number: int


@dataclass(frozen=True)
class Probes:
    """The HTTP paths the kubelet probes (on the first API port)."""

    live: str
    ready: str


@dataclass(frozen=True)
class WeightFiles:
    """The files of a Hub repository a server loads, as `huggingface_hub` patterns
    (`snapshot_download(allow_patterns=..., ignore_patterns=...)`: Unix shell wildcards matched
    with `fnmatch` against the path in the repository, where `*` also matches `/`;
    huggingface_hub `utils/_paths.py` `filter_repo_objects`). Only these are downloaded and
    covered by the weights manifest."""

    allow: tuple[str, ...]
    """A file is downloaded when its path matches one of these..."""
    ignore: tuple[str, ...] = ()
    """...and none of these."""

    def matches(self, path: str) -> bool:
        """Whether `huggingface_hub` downloads the file at `path` (relative, `/`-separated)."""
        return (any(fnmatch.fnmatchcase(path, p) for p in self.allow)
                and not any(fnmatch.fnmatchcase(path, p) for p in self.ignore))


@dataclass(frozen=True)
class ServedApi:
    """The client API a runtime serves over HTTP, as the gateway may forward to it.

    A route forwards `<route prefix><client_prefix>/...` to `<prefix>/...` and nothing else: the
    health, metrics and administration paths of the server (`internal`) stay inside the
    cluster. Each table entry names its upstream source where it is built.
    """

    protocol: Literal["openai", "kserve-v2"]
    prefix: str
    """Where the server serves the API (`/v1`; KServe's Hugging Face runtime: `/openai/v1`)."""
    client_prefix: str
    """The path clients call behind the gateway (`/v1` for every OpenAI-compatible server)."""
    paths: tuple[str, ...]
    """The endpoints served under `prefix` (documentation and tests)."""
    internal: tuple[str, ...]
    """Paths the server also answers that the gateway must not forward."""
    chat_completions: str | None
    """The chat completions endpoint; None: the protocol has none (Triton's KServe v2)."""


@dataclass(frozen=True)
class Runtime:
    """What runs in the server container and reads the flags aiplat-gen writes. An engine has
    one; KServe picks one per model (`kserve.runtime`)."""

    name: str
    llm: bool
    """vLLM underneath: sized from `architecture`/`parameters` and `maxModelLen`, tensor
    parallel over the GPUs, bounded by `gpuMemoryUtilization`."""
    model_repository: bool
    """Loads a Triton model repository, so the model needs `triton.models`."""
    managed_flags: frozenset[str]
    """Flags aiplat-gen derives from the profile; `extraArgs` may not repeat them."""
    hub_files: WeightFiles | None
    """The files of a Hub repository it loads; None: the whole repository (a Triton model
    repository, whose layout is the model's own)."""
    api: ServedApi
    """The HTTP API it serves to clients (what the gateway routes to)."""
    metrics_port: EnginePort | None = None
    """Where it exports Prometheus metrics when it differs by runtime (KServe); None: the
    engine's `metrics_port`."""
    metrics: EngineMetrics | None = None
    """The series it exports when they differ by runtime (KServe); None: the engine's
    `metrics` (`engines.metrics_of`)."""


@dataclass(frozen=True)
class Timing:
    """A time the engine measures per request: a histogram in seconds (queries read its p95)
    or a counter of the total time (queries read the mean per completed request)."""

    metric: Metric
    units_per_second: str = "1"
    """For a counter: its units in a second, as a PromQL literal (`1e6` for microseconds)."""

    @property
    def quantile(self) -> bool:
        """True when queries read a p95 (a histogram), False for a mean."""
        return self.metric.type == "histogram"


@dataclass(frozen=True)
class ErrorSignal:
    """How the share of failed requests is computed."""

    failed: Metric
    failed_matchers: tuple[Matcher, ...]
    """Extra matchers that pick the failures out of `failed` (e.g. `status="5xx"`)."""
    total: Metric | None
    """A counter of every request, failures included; None: failures plus completed requests."""
    by_target: bool
    """Selected by the pods' target label (the HTTP metrics of vLLM's API server) rather than
    the server's own series labels."""


@dataclass(frozen=True)
class EngineMetrics:
    """The series aiplat-gen queries for a monitored engine (names and labels from
    `facts.metrics`)."""

    served_name_label: str | None
    """The label holding the served model name on the server's own series (vLLM:
    `model_name`); None: select them by the pods' target label instead."""
    queue_depth: Metric
    """Requests waiting, per replica (the autoscalers' main signal)."""
    queue_word: str
    """What the engine calls those requests on the dashboard (`waiting`, `pending`)."""
    requests: Metric
    """Completed requests."""
    running: Metric | None
    kv_cache_usage: Metric | None
    """KV-cache use (0-1) per replica, for engines that manage one."""
    latency: Timing
    time_to_first_token: Timing | None
    queue_time: Timing
    throughput: tuple[tuple[str, Metric], ...]
    """(legend, counter) of the work done: tokens, inferences."""
    errors: ErrorSignal


@dataclass(frozen=True)
class EngineDescriptor:
    """One serving engine, as every consumer sees it."""

    name: Engine
    title: str
    server_container: str
    """Name of the model server container (KServe names its predictor's container itself)."""
    api_ports: tuple[EnginePort, ...]
    """Ports clients call, the HTTP API first."""
    metrics_port: EnginePort
    """Where Prometheus scrapes the server (may be an API port)."""
    metrics_path: str
    service_suffix: str
    """Appended to the model name to name its Service (KServe: `-predictor`)."""
    workload_suffix: str
    """Appended to the model name to name the Deployment or StatefulSet whose pods serve it
    (KServe's `Standard` predictor Deployment: `<name>-predictor`, kserve/kserve v0.20.0
    pkg/constants/constants.go `PredictorServiceName`, the name the deployment reconciler
    gives it), which the pod-name queries of alerts and dashboards match."""
    service_port: int
    """The Service port of the HTTP API (KServe's predictor Service listens on 80)."""
    health: Probes | None
    """Probe paths aiplat-gen writes; None when the engine's controller sets the probes."""
    runtimes: tuple[Runtime, ...]
    """What can run in the server container, the default first."""
    metrics: EngineMetrics | None
    """The series aiplat-gen alerts, charts and autoscales on; None: each runtime's
    (`Runtime.metrics`; a model whose runtime has none either gets no alerts or dashboard
    row)."""
    autoscaled: bool
    """aiplat-gen renders its autoscaler (`autoscaling`); KServe scales its predictor itself."""
    lora: bool
    """Serves LoRA adapters (`loraAdapters`)."""
    lora_files: WeightFiles | None
    """The files of a LoRA adapter repository it loads (with `lora`)."""
    object_store_weights: bool
    """Reads weights from `s3://`/`gs://` itself; the others take pinned Hub revisions."""
    always_fetches_weights: bool
    """Always has the weights init container (KServe's predictor mounts the verified volume)."""
    per_replica_storage: bool
    """Can give each replica its own weights volume (a StatefulSet)."""
    controller: Controller | None
    """The controller that must run in the cluster for its objects."""
    kserve_settings: bool
    """Reads the model's `kserve` section."""

    @property
    def container_ports(self) -> tuple[EnginePort, ...]:
        """Every port of the server container: the API ports, then the metrics port."""
        if self.metrics_port in self.api_ports:
            return self.api_ports
        return (*self.api_ports, self.metrics_port)

    @property
    def default_runtime(self) -> Runtime:
        """The runtime of a model that picks none."""
        return self.runtimes[0]
