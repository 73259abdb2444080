"""Constrained types shared by the profile models: names, quantities, images, durations."""

from __future__ import annotations

import functools
import re
from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic.alias_generators import to_camel

DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"

DnsLabel = Annotated[
    str,
    StringConstraints(min_length=1, max_length=63, pattern=DNS_LABEL_PATTERN),
    Field(examples=["inference"]),
]

# Kubernetes resource.Quantity, as the API server parses it.
QUANTITY_PATTERN = (r"^[+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)"
                    r"(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$")
_QUANTITY = re.compile(QUANTITY_PATTERN)
_SUFFIX: dict[str, int | Decimal] = {
    "": 1, "m": Decimal("0.001"), "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15,
    "E": 10**18, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
}


@functools.lru_cache(maxsize=4096)  # a fleet repeats a few quantities thousands of times
def parse_quantity(text: str) -> Decimal:
    """The numeric value of a Kubernetes quantity (`512Mi` -> 536870912, `500m` -> 0.5)."""
    match = _QUANTITY.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a Kubernetes quantity")
    number = match.group(1)
    suffix = match.group(3) or ""
    try:
        if suffix not in _SUFFIX:  # an exponent (`1e3`); `E` and `Ei` are suffixes
            return Decimal(number + suffix)
        return Decimal(number) * Decimal(_SUFFIX[suffix])
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a Kubernetes quantity") from None


def binary_quantity(value: Decimal) -> str:
    """A whole number of bytes as the exact quantity with the largest binary suffix that divides
    it (`107374182400` -> `100Gi`, `13153337344` -> `12544Mi`), the inverse of
    `parse_quantity`."""
    for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
        size = _SUFFIX[suffix]
        if value >= size and value % size == 0:
            return f"{int(value // size)}{suffix}"
    return str(int(value))


# "No quantity may represent a number greater than 2^63-1 in magnitude" (Kubernetes API
# reference, Quantity); refusing larger ones also keeps every sum of quantities finite.
QUANTITY_MAX = Decimal(2**63 - 1)


def _bounded_quantity(value: str) -> str:
    if parse_quantity(value) > QUANTITY_MAX:
        raise ValueError(f"{value!r} is more than Kubernetes quantities hold (2^63-1)")
    return value


Quantity = Annotated[
    str,
    StringConstraints(max_length=32, pattern=QUANTITY_PATTERN),
    AfterValidator(_bounded_quantity),
    Field(examples=["16Gi"]),
]

DURATION_PATTERN = r"^([0-9]+(ms|s|m|h))+$"

Duration = Annotated[
    str,
    StringConstraints(max_length=32, pattern=DURATION_PATTERN),
    Field(examples=["30s"]),
]

# Karpenter's `consolidateAfter` (and `expireAfter`): Go durations in s, m or h, or `Never`
# (kubernetes-sigs/karpenter v1.14.1, pkg/apis/crds/karpenter.sh_nodepools.yaml,
# spec.disruption.consolidateAfter `pattern`).
KARPENTER_DURATION_PATTERN = r"^(([0-9]+(s|m|h))+|Never)$"
KarpenterDuration = Annotated[
    str,
    StringConstraints(max_length=32, pattern=KARPENTER_DURATION_PATTERN),
    Field(examples=["10m", "Never"]),
]

# A Prometheus duration as the Prometheus operator accepts it for a ServiceMonitor's `interval`
# (prometheus-operator v0.89.0, monitoring.coreos.com_servicemonitors.yaml, `interval` pattern).
PROMETHEUS_DURATION_PATTERN = (r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?"
                               r"(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$")
PrometheusDuration = Annotated[
    str,
    StringConstraints(min_length=1, max_length=32, pattern=PROMETHEUS_DURATION_PATTERN),
    Field(examples=["15s", "1m"]),
]

# The kind of a custom resource: `names.kind` lower-cased must be a DNS-1035 label, "may have
# mixed case, but should otherwise match" (kubernetes apiextensions-apiserver,
# pkg/apis/apiextensions/validation/validation.go, ValidateCustomResourceDefinitionNames).
KIND_PATTERN = r"^[A-Za-z]([-A-Za-z0-9]*[A-Za-z0-9])?$"
KindName = Annotated[
    str, StringConstraints(min_length=1, max_length=63, pattern=KIND_PATTERN),
    Field(examples=["EC2NodeClass"]),
]

# An API group: a DNS-1123 subdomain (the same validation file, `spec.group`).
API_GROUP_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
ApiGroup = Annotated[
    str, StringConstraints(min_length=1, max_length=253, pattern=API_GROUP_PATTERN),
    Field(examples=["karpenter.k8s.aws"]),
]

# An image tag: "[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}" (OCI distribution-spec v1.1, spec.md,
# "Pulling manifests").
IMAGE_TAG_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"
ImageTag = Annotated[str, StringConstraints(pattern=IMAGE_TAG_PATTERN),
                     Field(examples=["580.95.05"])]

# A container image reference with a pinned tag or digest; `latest` and a missing tag are refused.
_IMAGE = re.compile(
    r"^(?P<repo>[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*)"
    r"(:(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(@(?P<digest>sha256:[a-f0-9]{64}))?$"
)


def _image(value: str) -> str:
    match = _IMAGE.match(value)
    if not match:
        raise ValueError(f"{value!r} is not an image reference (registry/repository:tag)")
    if not match.group("tag") and not match.group("digest"):
        raise ValueError(f"image {value!r} has no tag; pin a version tag or a sha256 digest")
    if match.group("tag") == "latest" and not match.group("digest"):
        raise ValueError(f"image {value!r} uses `latest`; pin a version tag or a sha256 digest")
    return value


# The same rule for editors (ECMA regex with a look-ahead, which pydantic's engine lacks).
_IMAGE_SCHEMA_PATTERN = (
    r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"
    r"(?::(?!latest(?:$|@))[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}(?:@sha256:[a-f0-9]{64})?"
    r"|(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?@sha256:[a-f0-9]{64})$"
)

ImageRef = Annotated[
    str,
    AfterValidator(_image),
    Field(examples=["vllm/vllm-openai:v0.11.0"],
          json_schema_extra={"pattern": _IMAGE_SCHEMA_PATTERN}),
]

# Label keys: an optional DNS subdomain prefix and a name (Kubernetes' qualified name).
LABEL_KEY_PATTERN = (r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                     r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
LabelKey = Annotated[str, StringConstraints(max_length=316, pattern=LABEL_KEY_PATTERN)]
LABEL_VALUE_PATTERN = r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"
LabelValue = Annotated[str, StringConstraints(max_length=63, pattern=LABEL_VALUE_PATTERN)]


class Strict(BaseModel):
    """Base of every profile model: camelCase keys, unknown keys refused, immutable."""

    # Field docstrings are the descriptions, but `schema.py` reads them only when the schema is
    # asked for: pydantic's `use_attribute_docstrings` would parse every model's source on import.
    # `defer_build`: a model builds its validator on first use, so validating a profile builds
    # Profile's (which covers every nested model) instead of one per model at import.
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        strict=True,
        defer_build=True,
    )
