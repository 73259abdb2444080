"""GPU products a node pool can name, their memory, node label and MIG profiles.

Keys are the short names users write in a profile (`gpu.product: h100-80gb`). Each product knows

- `memory_gib`: the framebuffer per GPU as NVIDIA states it (80 for an A100 80GB). The driver
  reports a little less (an A100-SXM4-80GB shows 81920 MiB, an A10G 23028 MiB in the GFD label
  `nvidia.com/gpu.memory`), so memory-fit checks must keep headroom; vLLM's
  `--gpu-memory-utilization` is applied to what the driver reports.
- `node_label_product`: the value GPU feature discovery (GFD) writes to `nvidia.com/gpu.product`.
  GFD takes the NVML device name and replaces every space with `-` (`productLabel` in
  k8s-device-plugin `internal/lm/resource.go`), so "NVIDIA H100 80GB HBM3" becomes
  `NVIDIA-H100-80GB-HBM3`. With time-slicing (not renamed) GFD appends `-SHARED`; with the
  `single` MIG strategy it appends `-MIG-<profile>` (see `single_strategy_product_label`).
  Where a product ships in several board variants (SXM and PCIe), the NVML name differs per
  variant; the table holds the variant named in `display_name`.
- `mig_profiles`: the MIG profiles NVIDIA's MIG user guide lists for the product, empty for GPUs
  without MIG. Profile memory is the nominal size in the profile name (`1g.10gb` -> 10); NVIDIA
  rounds it, the usable memory of a slice is slightly less.

MIG resources in Kubernetes (NVIDIA device plugin, `internal/rm/rm.go`,
`AddDefaultResourcesToConfig`):

- `mixed` strategy: every MIG profile is its own extended resource, `nvidia.com/mig-<profile>`
  with `+` replaced by `.` (`1g.10gb+me` -> `nvidia.com/mig-1g.10gb.me`); see
  `mig_resource_name`.
- `single` strategy: every MIG device on the node is advertised as plain `nvidia.com/gpu` (all
  GPUs of the node must carry the same layout); only the node labels tell that the "GPU" is a
  slice (`nvidia.com/mig.strategy=single`, and `nvidia.com/gpu.product` gains `-MIG-<profile>`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

RESOURCE_PREFIX = "nvidia.com"
"""Prefix of the device plugin's resource names (its `RESOURCE_PREFIX` default)."""

_MIG_GUIDE_GPUS = "https://docs.nvidia.com/datacenter/tesla/mig-user-guide/supported-gpus.html"
_MIG_GUIDE_PROFILES = (
    "https://docs.nvidia.com/datacenter/tesla/mig-user-guide/supported-mig-profiles.html"
)
_MIG_PARTED_DEFAULTS = (
    "https://github.com/NVIDIA/gpu-operator/blob/main/assets/state-mig-manager/0400_configmap.yaml"
    " (default-mig-parted-config, all-<profile> instance counts)"
)
_GFD_PRODUCT_RULE = (
    "GFD product label = NVML device name with spaces as '-' "
    "(https://github.com/NVIDIA/k8s-device-plugin/blob/main/internal/lm/resource.go)"
)
_AWS_GPU_MEMORY = (
    "https://docs.aws.amazon.com/batch/latest/userguide/gpu-jobs.html (GPU memory per instance: "
    "g4dn T4 16 GiB, g5 A10G 24 GiB, g6 L4 24 GiB)"
)


@dataclass(frozen=True)
class MigProfile:
    """One MIG GPU-instance profile of a product, e.g. `1g.10gb` on an A100 80GB."""

    name: str
    """Profile name as nvidia-smi and the MIG manager spell it (`3g.40gb`, `1g.10gb+me`)."""
    compute_slices: int
    """Compute slices (the `<n>g` part): sevenths of the SMs on A100/H100/H200, quarters on A30."""
    memory_gib: float
    """Nominal memory of the instance, as in the profile name."""
    max_instances: int
    """Most instances of this profile one GPU holds ("Number of Instances Available")."""

    @property
    def media_extensions(self) -> bool:
        """Whether this is a `+me` profile (the one instance that owns the media engines)."""
        return self.name.endswith("+me")


@dataclass(frozen=True)
class GpuProduct:
    """A GPU product as a node pool names it."""

    key: str
    """Short kebab name used in profiles (`a100-80gb`)."""
    display_name: str
    """Human name, including the board variant the node label belongs to."""
    memory_gib: float
    """Framebuffer per GPU as NVIDIA states it (A100 80GB = 80)."""
    node_label_product: str
    """Value of `nvidia.com/gpu.product` set by GPU feature discovery for this variant."""
    mig_profiles: Mapping[str, MigProfile] = field(hash=False)
    """MIG profiles by name; empty for GPUs without MIG."""
    source: str
    """Where the figures come from."""

    @property
    def mig_capable(self) -> bool:
        """Whether the product supports MIG at all."""
        return bool(self.mig_profiles)

    @property
    def mig_compute_slices(self) -> int:
        """Compute slices of the whole GPU in MIG mode (7 on A100/H100/H200, 4 on A30; 0 without
        MIG): the largest profile takes all of them."""
        return max((p.compute_slices for p in self.mig_profiles.values()), default=0)


def mig_resource_name(profile: MigProfile | str) -> str:
    """The extended resource a MIG profile is advertised as under the `mixed` strategy.

    `1g.10gb` -> `nvidia.com/mig-1g.10gb`; `1g.10gb+me` -> `nvidia.com/mig-1g.10gb.me` (the device
    plugin replaces `+`, which a resource name may not contain, with `.`). Under the `single`
    strategy there is no such resource: MIG devices are counted as `nvidia.com/gpu`.
    """
    name = profile.name if isinstance(profile, MigProfile) else profile
    return f"{RESOURCE_PREFIX}/" + f"mig-{name}".replace("+", ".")


def single_strategy_product_label(gpu: GpuProduct, profile: MigProfile | str) -> str:
    """`nvidia.com/gpu.product` of a node whose GPUs are all split into `profile` under the
    `single` strategy: GFD joins the parent's product, `MIG` and the profile name with `-`
    (`NVIDIA-A100-SXM4-80GB-MIG-1g.10gb`)."""
    name = profile.name if isinstance(profile, MigProfile) else profile
    return f"{gpu.node_label_product}-MIG-{name}"


def _profiles(*profiles: MigProfile) -> Mapping[str, MigProfile]:
    return MappingProxyType({p.name: p for p in profiles})


_NO_MIG: Mapping[str, MigProfile] = MappingProxyType({})

# A100 80GB and H100 80GB share one profile set: the MIG guide names the 80GB A100 profiles
# "1g.10gb, 1g.10gb+me, 1g.20gb, 2g.20gb, 3g.40gb, 4g.40gb, 7g.80gb", and the GPU Operator's
# default mig-parted config groups H100-80GB with A100-80GB for every one of them.
_MIG_80GB = _profiles(
    MigProfile("1g.10gb", 1, 10.0, 7),
    MigProfile("1g.10gb+me", 1, 10.0, 1),
    MigProfile("1g.20gb", 1, 20.0, 4),
    MigProfile("2g.20gb", 2, 20.0, 3),
    MigProfile("3g.40gb", 3, 40.0, 2),
    MigProfile("4g.40gb", 4, 40.0, 1),
    MigProfile("7g.80gb", 7, 80.0, 1),
)

_GPUS = (
    GpuProduct(
        key="a100-40gb",
        display_name="NVIDIA A100-SXM4-40GB",
        memory_gib=40.0,
        node_label_product="NVIDIA-A100-SXM4-40GB",
        mig_profiles=_profiles(
            MigProfile("1g.5gb", 1, 5.0, 7),
            MigProfile("1g.5gb+me", 1, 5.0, 1),
            MigProfile("1g.10gb", 1, 10.0, 4),
            MigProfile("2g.10gb", 2, 10.0, 3),
            MigProfile("3g.20gb", 3, 20.0, 2),
            MigProfile("4g.20gb", 4, 20.0, 1),
            MigProfile("7g.40gb", 7, 40.0, 1),
        ),
        source=(
            f"memory: {_MIG_GUIDE_GPUS} (A100-SXM4 40GB); MIG profiles: {_MIG_GUIDE_PROFILES} "
            f"(A100-SXM4-40GB table) and {_MIG_PARTED_DEFAULTS}; label: NVML name "
            f"'NVIDIA A100-SXM4-40GB'; {_GFD_PRODUCT_RULE}"
        ),
    ),
    GpuProduct(
        key="a100-80gb",
        display_name="NVIDIA A100-SXM4-80GB",
        memory_gib=80.0,
        node_label_product="NVIDIA-A100-SXM4-80GB",
        mig_profiles=_MIG_80GB,
        source=(
            f"memory: {_MIG_GUIDE_GPUS} (A100-SXM4 80GB); MIG profiles: {_MIG_GUIDE_PROFILES} "
            f"(A100 table, 80GB profile names) and {_MIG_PARTED_DEFAULTS}; label: NVML name "
            f"'NVIDIA A100-SXM4-80GB' (the PCIe board is 'NVIDIA A100 80GB PCIe'); "
            f"{_GFD_PRODUCT_RULE}"
        ),
    ),
    GpuProduct(
        key="h100-80gb",
        display_name="NVIDIA H100 80GB HBM3 (SXM5)",
        memory_gib=80.0,
        node_label_product="NVIDIA-H100-80GB-HBM3",
        mig_profiles=_MIG_80GB,
        source=(
            f"memory: {_MIG_GUIDE_GPUS} (H100-SXM5 80GB); MIG profiles: {_MIG_GUIDE_PROFILES} "
            f"(H100 80GB) and {_MIG_PARTED_DEFAULTS} (H100-80GB listed with A100-80GB); label: "
            f"NVML name 'NVIDIA H100 80GB HBM3' (the PCIe board is 'NVIDIA H100 PCIe'); "
            f"{_GFD_PRODUCT_RULE}"
        ),
    ),
    GpuProduct(
        key="h200-141gb",
        display_name="NVIDIA H200 (SXM5 141GB)",
        memory_gib=141.0,
        node_label_product="NVIDIA-H200",
        mig_profiles=_profiles(
            MigProfile("1g.18gb", 1, 18.0, 7),
            MigProfile("1g.18gb+me", 1, 18.0, 1),
            MigProfile("1g.35gb", 1, 35.0, 4),
            MigProfile("2g.35gb", 2, 35.0, 3),
            MigProfile("3g.71gb", 3, 71.0, 2),
            MigProfile("4g.71gb", 4, 71.0, 1),
            MigProfile("7g.141gb", 7, 141.0, 1),
        ),
        source=(
            f"memory: {_MIG_GUIDE_GPUS} (H200-SXM5 141GB); MIG profiles: {_MIG_GUIDE_PROFILES} "
            f"(H200) and {_MIG_PARTED_DEFAULTS} (H200-141GB section); label: NVML name "
            f"'NVIDIA H200' (nvidia-smi -L); {_GFD_PRODUCT_RULE}"
        ),
    ),
    GpuProduct(
        key="a30",
        display_name="NVIDIA A30",
        memory_gib=24.0,
        node_label_product="NVIDIA-A30",
        mig_profiles=_profiles(
            MigProfile("1g.6gb", 1, 6.0, 4),
            MigProfile("1g.6gb+me", 1, 6.0, 1),
            MigProfile("2g.12gb", 2, 12.0, 2),
            MigProfile("2g.12gb+me", 2, 12.0, 1),
            MigProfile("4g.24gb", 4, 24.0, 1),
        ),
        source=(
            f"memory: {_MIG_GUIDE_GPUS} (A30 24GB); MIG profiles: {_MIG_GUIDE_PROFILES} "
            f"(A30-24GB table) and {_MIG_PARTED_DEFAULTS}; label: NVML name 'NVIDIA A30'; "
            f"{_GFD_PRODUCT_RULE}"
        ),
    ),
    GpuProduct(
        key="l4",
        display_name="NVIDIA L4",
        memory_gib=24.0,
        node_label_product="NVIDIA-L4",
        mig_profiles=_NO_MIG,
        source=(
            f"memory: NVIDIA L4 datasheet (24GB GDDR6) and {_AWS_GPU_MEMORY}; no MIG: not in "
            f"{_MIG_GUIDE_GPUS}; label: NVML name 'NVIDIA L4'; {_GFD_PRODUCT_RULE}"
        ),
    ),
    GpuProduct(
        key="l40s",
        display_name="NVIDIA L40S",
        memory_gib=48.0,
        node_label_product="NVIDIA-L40S",
        mig_profiles=_NO_MIG,
        source=(
            f"memory: NVIDIA L40S datasheet ('48GB GDDR6 with ECC'); no MIG: not in "
            f"{_MIG_GUIDE_GPUS}; label: NVML name 'NVIDIA L40S'; {_GFD_PRODUCT_RULE}"
        ),
    ),
    GpuProduct(
        key="a10g",
        display_name="NVIDIA A10G (AWS G5)",
        memory_gib=24.0,
        node_label_product="NVIDIA-A10G",
        mig_profiles=_NO_MIG,
        source=(
            f"memory: {_AWS_GPU_MEMORY}; no MIG: not in {_MIG_GUIDE_GPUS}; label: NVML name "
            f"'NVIDIA A10G' (GFD on g5 nodes); {_GFD_PRODUCT_RULE}"
        ),
    ),
    GpuProduct(
        key="t4",
        display_name="NVIDIA T4",
        memory_gib=16.0,
        node_label_product="Tesla-T4",
        mig_profiles=_NO_MIG,
        source=(
            f"memory: NVIDIA T4 datasheet (16 GB GDDR6) and {_AWS_GPU_MEMORY}; no MIG: not in "
            f"{_MIG_GUIDE_GPUS}; label: NVML name 'Tesla T4', the GPU Operator time-slicing "
            f"guide selects nodes with nvidia.com/gpu.product=Tesla-T4; {_GFD_PRODUCT_RULE}"
        ),
    ),
)

GPU_PRODUCTS: Mapping[str, GpuProduct] = MappingProxyType({g.key: g for g in _GPUS})
"""Every known GPU product by its profile key."""
