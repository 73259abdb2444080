"""What the API server does to a container's CPU and memory when a pod is created, so the checks
can tell whether the platform's own pods are admitted (docs/facts.md: LimitRange defaults).

In the order kube-apiserver (v1.35) applies it to a new pod:

1. **API defaulting** (`pkg/apis/core/v1/defaults.go`, `SetDefaults_Pod`): a container with a
   limit but no request for a resource gets request = limit.
2. **LimitRanger, mutating** (`plugin/pkg/admission/limitranger/admission.go`,
   `mergeContainerResources`): every container and init container without a limit for a resource
   of the LimitRange's `default` gets that limit; without a request for a resource of
   `defaultRequest`, that request.
3. **Pod validation** (`ValidateResourceRequirements`): a request above its limit is refused
   (`must be less than or equal to cpu limit of 1`).
4. **LimitRanger, validating** (`PodValidateLimitFunc`, `maxConstraint`): for every container
   and init container, a resource in `max` needs a limit (`No limit is specified`), the limit at
   most `max`, and the request at most `max`; compared in milli-units rounded up, or in whole
   units rounded up when a value exceeds `MaxMilliValue` (`requestLimitEnforcedValues`).
5. **ResourceQuota** (`pkg/quota/v1/evaluator/core/pods.go`, `enforcePodContainerConstraints`):
   a quota on `requests.cpu`, `limits.cpu`, `requests.memory` or `limits.memory` (or `cpu`,
   `memory`) refuses a pod any of whose containers or init containers lacks that value after the
   steps above (`must specify requests.cpu`).

The LimitRange itself is defaulted when it is stored (`SetDefaults_LimitRangeItem`: a missing
`default` is `max`, then a missing `defaultRequest` is `default`) and refused when its values
contradict each other (`ValidateLimitRange`: `defaultRequest <= default <= max`,
`defaultRequest <= max`). A refused LimitRange constrains nothing.

Only what a profile can declare is modelled: `type: Container` items with `default`,
`defaultRequest` and `max` (no `min`, no `maxLimitRequestRatio`, no `type: Pod` item).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Literal

from aiplat_gen.profile.schema.types import parse_quantity

FIELDS = ("default", "defaultRequest", "max")
"""The fields of a `type: Container` LimitRange item a profile can declare."""
MAX_MILLI_VALUE = (2**63 - 1) // 1000
"""`resource.MaxMilliValue`: above it Kubernetes compares whole units instead of milli-units."""
QUOTA_COMPUTE: dict[str, tuple[Literal["requests", "limits"], str]] = {
    "cpu": ("requests", "cpu"), "requests.cpu": ("requests", "cpu"),
    "limits.cpu": ("limits", "cpu"), "memory": ("requests", "memory"),
    "requests.memory": ("requests", "memory"), "limits.memory": ("limits", "memory"),
}
"""Quota names every container must give a value for, and which value that is."""

Origin = Literal["container", "limit", "default", "defaultRequest"]
"""Where a container's value came from: the container itself, its own limit (API defaulting
copies a limit into a missing request), or the LimitRange's `default` / `defaultRequest`."""
Key = tuple[str, str]
"""(LimitRange field, resource), e.g. ("default", "cpu")."""
_INHERITS = (("default", "max"), ("defaultRequest", "default"))
"""`SetDefaults_LimitRangeItem`, in its order: (field, the field it is copied from)."""
_ORDER = (("defaultRequest", "max", "default request value {} is greater than max value {}"),
          ("defaultRequest", "default",
           "default request value {} is greater than default limit value {}"),
          ("default", "max", "default value {} is greater than max value {}"))
"""`ValidateLimitRange`: (lower, higher, message) for every pair that must be ordered."""


@dataclass(frozen=True)
class LimitRangeItem:
    """A `type: Container` LimitRange item as the API server stores it (after defaulting),
    with the declared value each effective value was copied from."""

    values: dict[Key, str]
    """Effective quantities by (field, resource)."""
    sources: dict[Key, Key]
    """For each effective value, the declared (field, resource) it comes from."""

    @classmethod
    def of(cls, declared: Mapping[str, Mapping[str, str]]) -> LimitRangeItem:
        """Default a declared item (`{"default": {"cpu": "1"}, "max": {...}}`)."""
        values = {(f, r): q for f in FIELDS for r, q in declared.get(f, {}).items()}
        sources = {key: key for key in values}
        for target, origin in _INHERITS:
            for (f, r), q in list(values.items()):
                if f == origin and (target, r) not in values:
                    values[(target, r)] = q
                    sources[(target, r)] = sources[(f, r)]
        return cls(values, sources)

    def get(self, name: str) -> dict[str, str]:
        """One field of the item: resource -> quantity."""
        return {r: q for (f, r), q in self.values.items() if f == name}


@dataclass(frozen=True)
class Invalid:
    """Why the API server refuses the LimitRange itself."""

    key: Key
    """The (field, resource) the API server reports, e.g. ("defaultRequest", "cpu")."""
    source: Key
    """The declared value at fault (for a defaulted `key`, the value it was copied from)."""
    message: str
    """The API server's words."""
    against: Key | None = None
    """The declared value `key` is compared with (the higher of the pair, or the value it was
    copied from)."""


def validate(item: LimitRangeItem) -> list[Invalid]:
    """`ValidateLimitRange` for one item."""
    problems: list[Invalid] = []
    for r in sorted({r for _, r in item.values}):
        text = {f: item.values[(f, r)] for f in FIELDS if (f, r) in item.values}
        for low, high, words in _ORDER:
            if low in text and high in text and \
                    parse_quantity(text[low]) > parse_quantity(text[high]):
                problems.append(Invalid((low, r), item.sources[(low, r)],
                                        words.format(text[low], text[high]),
                                        item.sources[(high, r)]))
    return problems


@dataclass(frozen=True)
class Value:
    """A container's request or limit after admission, and where it came from."""

    quantity: str
    origin: Origin


@dataclass(frozen=True)
class Refusal:
    """Why the API server refuses a container's pod."""

    rule: Literal["request-above-limit", "max"]
    resource: str
    blame: Key | None
    """The declared LimitRange value that makes the pod fail; None when the container's own
    values do (a request above a limit it sets itself)."""
    subject: Literal["request", "limit"]
    """Which of the container's values fails."""
    value: str
    """That value ("" when the container has none)."""
    message: str
    """The API server's words."""


@dataclass(frozen=True)
class Admitted:
    """A container's resources as the API server stores them, and why it refuses the pod."""

    requests: dict[str, Value]
    limits: dict[str, Value]
    refusals: tuple[Refusal, ...]


def admit(requests: Mapping[str, str], limits: Mapping[str, str],
          item: LimitRangeItem | None) -> Admitted:
    """Steps 1 to 4 for one container or init container, in a namespace with this LimitRange
    item (None: no LimitRange)."""
    req = {r: Value(q, "container") for r, q in requests.items()}
    lim = {r: Value(q, "container") for r, q in limits.items()}
    for r, value in lim.items():
        req.setdefault(r, Value(value.quantity, "limit"))
    if item is not None:
        for r, q in item.get("default").items():
            lim.setdefault(r, Value(q, "default"))
        for r, q in item.get("defaultRequest").items():
            req.setdefault(r, Value(q, "defaultRequest"))
    refusals: list[Refusal] = []
    for r in (r for r in lim if r in req):
        if parse_quantity(req[r].quantity) > parse_quantity(lim[r].quantity):
            refusals.append(Refusal("request-above-limit", r, _blame(item, req[r], lim[r], r),
                                    "request", req[r].quantity,
                                    f"must be less than or equal to {r} limit of "
                                    f"{lim[r].quantity}"))
    for r, bound in (item.get("max") if item is not None else {}).items():
        blame = item.sources[("max", r)] if item is not None else None
        words = f"maximum {r} usage per Container is {bound}"
        request, limit, enforced = _enforced(req.get(r), lim.get(r), bound)
        if limit is None:
            refusals.append(Refusal("max", r, blame, "limit", "",
                                    f"{words}.  No limit is specified"))
        elif limit > enforced:
            refusals.append(Refusal("max", r, blame, "limit", lim[r].quantity,
                                    f"{words}, but limit is {lim[r].quantity}"))
        elif request is not None and request > enforced:
            refusals.append(Refusal("max", r, blame, "request", req[r].quantity,
                                    f"{words}, but request is {req[r].quantity}"))
    return Admitted(req, lim, tuple(refusals))


def _blame(item: LimitRangeItem | None, request: Value, limit: Value, r: str) -> Key | None:
    """The LimitRange value behind a request above its limit: the defaulted limit, else the
    defaulted request; None when the container set both."""
    if item is None:
        return None
    if limit.origin == "default":
        return item.sources[("default", r)]
    if request.origin == "defaultRequest":
        return item.sources[("defaultRequest", r)]
    return None


def _ceil(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_CEILING))


def _enforced(request: Value | None, limit: Value | None, bound: str
              ) -> tuple[int | None, int | None, int]:
    """`requestLimitEnforcedValues`: request, limit and bound in milli-units (rounded up) when
    none exceeds `MaxMilliValue` in whole units (rounded up), else in whole units; an absent
    value counts as 0 there and comes back as None."""
    values = [parse_quantity(v.quantity) if v is not None else Decimal(0)
              for v in (request, limit)] + [parse_quantity(bound)]
    scale = 1000 if all(_ceil(v) <= MAX_MILLI_VALUE for v in values) else 1
    request_v, limit_v, enforced = (_ceil(v * scale) for v in values)
    return (request_v if request is not None else None,
            limit_v if limit is not None else None, enforced)


def quota_missing(admitted: Admitted, hard: Iterable[str]) -> list[str]:
    """Step 5: the quota names of `hard` this container gives no value for."""
    missing = []
    for name in hard:
        if name in QUOTA_COMPUTE:
            kind, resource = QUOTA_COMPUTE[name]
            values = admitted.requests if kind == "requests" else admitted.limits
            if resource not in values:
                missing.append(name)
    return missing
