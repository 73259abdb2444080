"""Profile models of the cluster layer: node pools, the GPU Operator, namespaces, priorities."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from aiplat_gen.profile.schema.types import (
    ApiGroup,
    DnsLabel,
    ImageTag,
    KarpenterDuration,
    KindName,
    LabelKey,
    LabelValue,
    PrometheusDuration,
    Quantity,
    Strict,
)

SharingMode = Literal["none", "mig", "time-slicing"]
# The shape of NVIDIA's MIG profile names (`1g.10gb`, `1g.10gb+me`, `1c.3g.40gb`); which ones a
# GPU offers is checked against `facts.gpus` (the `cluster` checks).
MIG_PROFILE_PATTERN = r"^[0-9a-z][0-9a-z.+]*$"
MigProfileName = Annotated[str, StringConstraints(max_length=32, pattern=MIG_PROFILE_PATTERN)]


class GpuSharing(Strict):
    """GPU sharing for a node pool: whole GPUs, MIG slices, or time-slicing."""

    mode: SharingMode = "none"
    """`none` (whole GPUs), `mig` (hardware slices, A100/H100/H200/A30 only) or `time-slicing`."""
    mig_profile: MigProfileName | None = Field(default=None, examples=["1g.10gb"])
    """With `mode: mig`: the MIG profile every GPU of the pool is split into (`all-<profile>`)."""
    replicas: int | None = Field(default=None, examples=[4])
    """With `mode: time-slicing`: how many pods share each GPU (must be > 1)."""


class GpuSpec(Strict):
    """The GPUs of every node in a pool."""

    product: str = Field(examples=["h100-80gb"])
    """GPU product key from aiplat-gen's GPU table (e.g. `a100-80gb`, `h100-80gb`, `l4`)."""
    count: int = Field(ge=1, le=16, examples=[8])
    """GPUs per node."""
    sharing: GpuSharing = GpuSharing()
    """How the GPUs are shared (default: whole GPUs)."""


TaintEffect = Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]


class Taint(Strict):
    """A node taint; workloads scheduled to the pool get the matching toleration."""

    key: LabelKey = Field(examples=["nvidia.com/gpu"])
    """Taint key."""
    value: LabelValue = Field(default="", examples=["present"])
    """Taint value (empty: tolerations use `operator: Exists`)."""
    effect: TaintEffect = "NoSchedule"
    """Taint effect."""


class KarpenterNodeClassRef(Strict):
    """Reference from a Karpenter NodePool to a provider node class."""

    group: ApiGroup = "karpenter.k8s.aws"
    """API group of the node class."""
    kind: KindName = "EC2NodeClass"
    """Kind of the node class."""
    name: DnsLabel = Field(examples=["gpu"])
    """Name of the node class object."""


CapacityType = Literal["on-demand", "spot", "reserved"]
_ON_DEMAND: tuple[CapacityType, ...] = ("on-demand",)


class KarpenterPool(Strict):
    """Settings of the Karpenter `NodePool` (karpenter.sh/v1) rendered for a pool."""

    node_class_ref: KarpenterNodeClassRef
    """The provider's node class the NodePool launches (for AWS an `EC2NodeClass`)."""
    instance_types: list[LabelValue] = Field(default_factory=list, examples=[["p5.48xlarge"]])
    """Allowed instance types (`node.kubernetes.io/instance-type`); empty means any."""
    capacity_types: list[CapacityType] = Field(default_factory=lambda: list(_ON_DEMAND))
    """Allowed `karpenter.sh/capacity-type` values."""
    consolidate_after: KarpenterDuration = "10m"
    """How long a node must be empty or underused before Karpenter consolidates it: a duration
    in s, m or h (`30s`, `10m`, `1h30m`) or `Never`."""


class NodePool(Strict):
    """A group of identical nodes; workloads name a pool and get its selector and tolerations."""

    name: DnsLabel
    """Pool name, also the value of the `ai.platform/node-pool` node label."""
    gpu: GpuSpec | None = None
    """The pool's GPUs; omit for a CPU pool."""
    nodes: int = Field(default=1, ge=0, le=10_000)
    """Number of nodes (for Karpenter: the most nodes it may launch)."""
    cpu: Quantity = Field(examples=["96"])
    """Allocatable CPU per node."""
    memory: Quantity = Field(examples=["1Ti"])
    """Allocatable memory per node."""
    ephemeral_storage: Quantity = Field(default="100Gi", examples=["100Gi"])
    """Allocatable local ephemeral storage per node (the kubelet's root or instance-store file
    system, less its reserves): pods request `ephemeral-storage` for their bounded emptyDirs
    and logs, and the scheduler places them within it. Size the node class's root volume
    (Karpenter `EC2NodeClass` `blockDeviceMappings`) to match."""
    labels: dict[LabelKey, LabelValue] = Field(default_factory=dict)
    """Extra node labels; they also become the nodeSelector of workloads on this pool."""
    taints: list[Taint] = Field(default_factory=list)
    """Node taints; workloads on this pool tolerate them, nothing else does."""
    provisioner: Literal["static", "karpenter"] = "static"
    """`static` for pre-provisioned nodes, `karpenter` to also render a Karpenter NodePool."""
    karpenter: KarpenterPool | None = None
    """Karpenter settings, required with `provisioner: karpenter`."""
    price_per_gpu_hour: float | None = Field(default=None, gt=0, le=10_000, examples=[4.5])
    """What one GPU of this pool costs per hour (a node's hourly price / its GPUs), in any one
    currency; `aiplat-gen plan` then shows the pool's cost per hour at min and max replicas."""

    @model_validator(mode="after")
    def _karpenter_settings(self) -> NodePool:
        if self.provisioner == "karpenter" and self.karpenter is None:
            raise ValueError("`provisioner: karpenter` needs a `karpenter` section "
                             "(nodeClassRef at least)")
        if self.provisioner == "static" and self.karpenter is not None:
            raise ValueError("`karpenter` settings need `provisioner: karpenter`")
        return self


class GpuOperator(Strict):
    """NVIDIA GPU Operator Helm values (chart `gpu-operator`, pinned version)."""

    enabled: bool = True
    """Render the GPU Operator values (and later its ArgoCD Application)."""
    chart_version: Literal["v26.7.0"] = "v26.7.0"
    """The chart version the values are written for; its values file is checked in tests."""
    namespace: DnsLabel = "gpu-operator"
    """Namespace of the operator; it is labelled Pod Security `privileged`."""
    driver_enabled: bool = True
    """Install the driver with the operator (off when nodes ship a driver, e.g. managed images)."""
    driver_version: ImageTag | None = Field(default=None, examples=["580.95.05"])
    """Pin a driver version; empty keeps the chart's default for its version."""
    toolkit_enabled: bool = True
    """Install the NVIDIA container toolkit with the operator."""
    mig_strategy: Literal["single", "mixed"] = "single"
    """MIG strategy: `single` exposes slices as `nvidia.com/gpu`, `mixed` as
    `nvidia.com/mig-<profile>`."""
    dcgm_service_monitor: bool = True
    """Create the DCGM exporter ServiceMonitor (needs the Prometheus operator)."""
    dcgm_honor_labels: bool = False
    """`honorLabels` of that ServiceMonitor. False (the default) means the workload's pod and
    namespace appear on GPU metrics as `exported_pod` / `exported_namespace`."""
    scrape_interval: PrometheusDuration = "15s"
    """Scrape interval of the DCGM exporter ServiceMonitor (a Prometheus duration: `15s`,
    `1m`)."""


PodSecurityLevel = Literal["privileged", "baseline", "restricted"]


class Quota(Strict):
    """A namespace ResourceQuota. GPUs are quota'd on requests only (Kubernetes allows no
    `limits.` quota for extended resources)."""

    gpus: int | None = Field(default=None, ge=0, examples=[16])
    """Whole GPUs (`requests.nvidia.com/gpu`)."""
    mig_devices: dict[MigProfileName, int] = Field(default_factory=dict, examples=[{"1g.10gb": 7}])
    """MIG slices per profile (`requests.nvidia.com/mig-<profile>`, mixed strategy)."""
    cpu: Quantity | None = Field(default=None, examples=["256"])
    """`requests.cpu`."""
    memory: Quantity | None = Field(default=None, examples=["2Ti"])
    """`requests.memory`; `limits.memory` is set to the same value."""
    pods: int | None = Field(default=None, ge=0, examples=[100])
    """Most pods in the namespace."""
    persistent_volume_claims: int | None = Field(default=None, ge=0, examples=[20])
    """Most PersistentVolumeClaims."""
    storage: Quantity | None = Field(default=None, examples=["2Ti"])
    """`requests.storage` summed over PVCs."""

    def compute(self) -> dict[str, str]:
        """The CPU and memory entries of the ResourceQuota's `spec.hard` (the rendered quota and
        the admission checks both read this): with them, every container of a pod must set
        these values, or get them from the LimitRange."""
        hard: dict[str, str] = {}
        if self.cpu is not None:
            hard["requests.cpu"] = self.cpu
        if self.memory is not None:
            hard["requests.memory"] = self.memory
            hard["limits.memory"] = self.memory
        return hard


class LimitRange(Strict):
    """Defaults for containers that do not set requests and limits."""

    default_cpu: Quantity | None = Field(default=None, examples=["1"])
    """CPU limit for containers that set none."""
    default_memory: Quantity | None = Field(default=None, examples=["2Gi"])
    """Memory limit for containers that set none."""
    default_request_cpu: Quantity | None = Field(default=None, examples=["250m"])
    """CPU request for containers that set none."""
    default_request_memory: Quantity | None = Field(default=None, examples=["512Mi"])
    """Memory request for containers that set none."""
    max_memory: Quantity | None = Field(default=None, examples=["64Gi"])
    """Largest memory limit a container may set; containers without a memory limit get it as
    their limit unless `defaultMemory` is set (Kubernetes defaults `default` to `max`)."""

    def declared(self) -> dict[str, dict[str, str]]:
        """The LimitRange item's `default`, `defaultRequest` and `max`, with only the values
        the profile sets (the rendered LimitRange and the admission checks both read this)."""
        item: dict[str, dict[str, str]] = {}
        for (name, resource), attr in LIMIT_RANGE_FIELDS.items():
            value = getattr(self, attr)
            if value is not None:
                item.setdefault(name, {})[resource] = value
        return item


LIMIT_RANGE_FIELDS: dict[tuple[str, str], str] = {
    ("default", "cpu"): "default_cpu",
    ("default", "memory"): "default_memory",
    ("defaultRequest", "cpu"): "default_request_cpu",
    ("defaultRequest", "memory"): "default_request_memory",
    ("max", "memory"): "max_memory",
}
"""(LimitRange field, resource) -> the `LimitRange` attribute that declares it, in the order
the LimitRange object lists them."""


class Namespace(Strict):
    """A namespace the platform owns, with its Pod Security level, quota and limits."""

    name: DnsLabel = Field(examples=["llm-serving"])
    """Namespace name."""
    purpose: Literal["inference", "data", "gateway", "observability", "batch"] = "inference"
    """What runs here; inference and data namespaces must be `restricted`."""
    pod_security: PodSecurityLevel = "restricted"
    """Pod Security level for `enforce`, `audit` and `warn`."""
    quota: Quota | None = None
    """ResourceQuota; omit for none."""
    limit_range: LimitRange | None = None
    """LimitRange defaults; omit for none."""
    labels: dict[LabelKey, LabelValue] = Field(default_factory=dict)
    """Extra labels on the Namespace object."""


UNPROTECTED_PURPOSES = frozenset({"observability"})
"""Purposes whose namespaces get no default-deny NetworkPolicy (Prometheus scrapes every
namespace): the `network-policy` component skips them, the `security` checks allow for it."""


class PriorityClass(Strict):
    """A PriorityClass; exactly one is the default for inference and one for batch workloads."""

    name: DnsLabel = Field(examples=["inference-critical"])
    """PriorityClass name."""
    value: int = Field(ge=-2_147_483_648, le=1_000_000_000, examples=[100000])
    """Priority; user classes may not exceed one billion (higher is reserved for the system)."""
    preemption_policy: Literal["PreemptLowerPriority", "Never"] = "PreemptLowerPriority"
    """`Never` lets pods of this class wait instead of evicting lower-priority pods."""
    default_for: Literal["inference", "batch"] | None = None
    """Workloads of this kind get this class unless they name another."""
    global_default: bool = False
    """Make it the cluster-wide default (rarely wanted)."""
    description: str = Field(default="", examples=["Online inference; may preempt batch."])
    """Human-readable description on the object (a default is written when empty)."""
