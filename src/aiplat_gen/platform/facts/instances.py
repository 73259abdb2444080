"""Cloud instance types with NVIDIA GPUs: which product (a key of `facts.gpus.GPU_PRODUCTS`) and
how many per node, so a pool cannot say `product: h200-141gb` on an H100 machine.

Sources (per family, in `source`):

- AWS: the instance-type pages of P4 (https://aws.amazon.com/ec2/instance-types/p4/: p4d 8x A100
  40GB, p4de 8x A100 80GB), P5 (https://aws.amazon.com/ec2/instance-types/p5/: p5 8x H100,
  p5e/p5en 8x H200) and the GPU table of AWS Batch
  (https://docs.aws.amazon.com/batch/latest/userguide/gpu-jobs.html: g4dn T4, g5 A10G, g6 L4,
  g6e L40S, GPUs per size).
- GCP: GPU machine types (https://cloud.google.com/compute/docs/gpus#a3-series,
  #a2-series, #l4-gpus): a3-highgpu-8g/a3-megagpu-8g 8x H100 80GB, a3-ultragpu-8g 8x H200,
  a2-highgpu-*/a2-megagpu-16g A100 40GB, a2-ultragpu-* A100 80GB, g2-standard-* L4.

Only sizes whose count could be read there are listed; the rest are unknown (a warning).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class InstanceType:
    """A machine type and its GPUs."""

    name: str
    """As the node label `node.kubernetes.io/instance-type` spells it."""
    product: str
    """The GPU product key (`facts.gpus`)."""
    gpus: int
    """GPUs per node."""
    source: str


_AWS_P4 = "https://aws.amazon.com/ec2/instance-types/p4/"
_AWS_P5 = "https://aws.amazon.com/ec2/instance-types/p5/"
_AWS_BATCH = "https://docs.aws.amazon.com/batch/latest/userguide/gpu-jobs.html"
_GCP = "https://cloud.google.com/compute/docs/gpus"


def _family(product: str, source: str, sizes: Mapping[str, int]) -> list[InstanceType]:
    return [InstanceType(name, product, gpus, source) for name, gpus in sizes.items()]


_TYPES = [
    *_family("a100-40gb", _AWS_P4, {"p4d.24xlarge": 8}),
    *_family("a100-80gb", _AWS_P4, {"p4de.24xlarge": 8}),
    *_family("h100-80gb", _AWS_P5, {"p5.48xlarge": 8}),
    *_family("h200-141gb", _AWS_P5, {"p5e.48xlarge": 8, "p5en.48xlarge": 8}),
    *_family("t4", _AWS_BATCH, {"g4dn.xlarge": 1, "g4dn.2xlarge": 1, "g4dn.4xlarge": 1,
                                "g4dn.8xlarge": 1, "g4dn.16xlarge": 1, "g4dn.12xlarge": 4,
                                "g4dn.metal": 8}),
    *_family("a10g", _AWS_BATCH, {"g5.xlarge": 1, "g5.2xlarge": 1, "g5.4xlarge": 1,
                                  "g5.8xlarge": 1, "g5.16xlarge": 1, "g5.12xlarge": 4,
                                  "g5.24xlarge": 4, "g5.48xlarge": 8}),
    *_family("l4", _AWS_BATCH, {"g6.xlarge": 1, "g6.2xlarge": 1, "g6.4xlarge": 1,
                                "g6.8xlarge": 1, "g6.16xlarge": 1, "g6.12xlarge": 4,
                                "g6.24xlarge": 4, "g6.48xlarge": 8}),
    *_family("l40s", _AWS_BATCH, {"g6e.xlarge": 1, "g6e.2xlarge": 1, "g6e.4xlarge": 1,
                                  "g6e.8xlarge": 1, "g6e.16xlarge": 1, "g6e.12xlarge": 4,
                                  "g6e.24xlarge": 4, "g6e.48xlarge": 8}),
    *_family("h100-80gb", f"{_GCP}#a3-series", {"a3-highgpu-8g": 8, "a3-megagpu-8g": 8}),
    *_family("h200-141gb", f"{_GCP}#a3-series", {"a3-ultragpu-8g": 8}),
    *_family("a100-40gb", f"{_GCP}#a2-series", {"a2-highgpu-1g": 1, "a2-highgpu-2g": 2,
                                                "a2-highgpu-4g": 4, "a2-highgpu-8g": 8,
                                                "a2-megagpu-16g": 16}),
    *_family("a100-80gb", f"{_GCP}#a2-series", {"a2-ultragpu-1g": 1, "a2-ultragpu-2g": 2,
                                                "a2-ultragpu-4g": 4, "a2-ultragpu-8g": 8}),
    *_family("l4", f"{_GCP}#l4-gpus", {"g2-standard-4": 1, "g2-standard-8": 1,
                                       "g2-standard-12": 1, "g2-standard-16": 1,
                                       "g2-standard-32": 1, "g2-standard-24": 2,
                                       "g2-standard-48": 4, "g2-standard-96": 8}),
]

INSTANCE_TYPES: Mapping[str, InstanceType] = MappingProxyType({t.name: t for t in _TYPES})
"""Every known GPU instance type by name."""

INSTANCE_TYPE_LABEL = "node.kubernetes.io/instance-type"
"""The well-known node label naming the machine type (Kubernetes well-known labels)."""
