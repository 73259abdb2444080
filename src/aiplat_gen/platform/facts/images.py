"""The container images aiplat-gen runs when a profile names none: one table, one pin per image.

Every default image of a rendered container comes from `IMAGES` (the renderers, the `init`
scaffolds and `aiplat-gen images` read it); a profile's own `image`, `prefetchImage` or
`exporterImage` replaces the pin. Each pin names where its tag was checked (`source`) and the
advisories known to affect earlier releases of the same line with the first release that fixes
them (`advisories`); `tests/test_images.py` refuses a pin below one of them, and refuses a
rendered image that is neither the profile's nor a pin of this table.

Images that operator charts choose themselves (GPU Operator, KEDA, ...) are not here: the chart
version pins them (`facts.charts`).

Open, not bumped here (their engine facts are checked against these releases; a bump means
re-checking flags, metrics and paths in `platform.engines`):

- `vllm/vllm-openai:v0.11.0`: vLLM published advisories fixed in v0.11.1 and later
  (GHSA-mrw7-hf4f-83pf, GHSA-pmqf-x6x8-p7qw, GHSA-69j4-grxj-j64p; vllm-project/vllm#26928).
- `nvcr.io/nvidia/tritonserver:25.12-py3` and Weaviate 1.32.9 were not re-checked against later
  security bulletins.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from aiplat_gen.profile.schema.data import Cache, VectorDatabase

PinKey = Literal["vllm", "triton", "weaviate", "cloudnative-pg", "pgvector", "redis",
                 "redis-exporter"]


@dataclass(frozen=True)
class Advisory:
    """A published vulnerability of the image's software and the first release that fixes it."""

    id: str
    """CVE or GHSA id."""
    fixed_in: str
    """First fixed release of the pinned line (compared with the pin's tag version)."""
    source: str
    """Where the fix version is stated."""


@dataclass(frozen=True)
class ImagePin:
    """One default image."""

    key: PinKey
    image: str
    """The reference rendered (registry/repository:tag)."""
    source: str
    """Where the tag was checked to exist and to be current."""
    advisories: tuple[Advisory, ...] = ()
    """Advisories fixed at or below this pin (kept so a downgrade fails the tests)."""

    @property
    def version(self) -> tuple[int, ...]:
        """The numeric release at the start of the tag (`16.15-standard-trixie` -> (16, 15))."""
        return release(self.image)


def release(image: str) -> tuple[int, ...]:
    """The numeric release an image tag starts with (`v1.88.0` -> (1, 88, 0)); `()` when the
    tag starts with none (a `0.8.6-pg17-trixie` tag gives (0, 8, 6))."""
    tag = image.split("@", 1)[0].rsplit("/", 1)[-1].partition(":")[2]
    match = re.match(r"^v?([0-9]+(?:\.[0-9]+)*)", tag)
    return tuple(int(p) for p in match.group(1).split(".")) if match else ()


_REDIS_NOTES = ("Redis Community Edition 7.4 release notes (redis/docs, content/operate/"
                "oss_and_stack/stack-with-enterprise/release-notes/redisce/"
                "redisce-7.4-release-notes.md)")

_PINS = (
    ImagePin("vllm", "vllm/vllm-openai:v0.11.0",
             "https://github.com/vllm-project/vllm/releases/tag/v0.11.0 (the release the vLLM "
             "engine descriptor is checked against; see the module notes: advisories open)"),
    ImagePin("triton", "nvcr.io/nvidia/tritonserver:25.12-py3",
             "NGC catalog nvidia/tritonserver, release 25.12 (py3 flavour); the Triton engine "
             "descriptor is checked against it"),
    ImagePin("weaviate", "cr.weaviate.io/semitechnologies/weaviate:1.32.9",
             "https://github.com/weaviate/weaviate/releases/tag/v1.32.9 (the Raft cluster "
             "settings of `render.components.weaviate` are for 1.25+)"),
    ImagePin("cloudnative-pg", "ghcr.io/cloudnative-pg/postgresql:16.15-standard-trixie",
             "cloudnative-pg/postgres-containers README (2026-08): `MM.mm-TYPE-OS` rolling tags "
             "are the recommended form; `standard` images ship pgvector (docker-bake.hcl "
             "`extensions`); the old `16.3-7-bookworm` form and the `system` type are "
             "deprecated; 16.15 is the newest 16.x built (docker-bake.hcl postgreSQLVersions)",
             (Advisory("CVE-2026-14662", "16.15",
                       "PostgreSQL 16.15 (2026-08-13), as cited by warehouse-pg/warehouse-pg#237 "
                       "(upstream fix in 14.24/15.19/16.15/17.11/18.6)"),)),
    ImagePin("pgvector", "pgvector/pgvector:0.8.6-pg17-trixie",
             "pgvector/pgvector README, Docker: supported tags `0.8.6-pg17-trixie`; "
             "CHANGELOG 0.8.6 (2026-07-29)",
             (Advisory("CVE-2026-3172", "0.8.2", "https://github.com/pgvector/pgvector/issues/959"),
              Advisory("CVE-2026-18022", "0.8.6",
                       "https://github.com/pgvector/pgvector/issues/1006"))),
    ImagePin("redis", "redis:7.4.9",
             f"{_REDIS_NOTES}: 7.4.9 (May 2026) is the newest 7.4 release",
             tuple(Advisory(cve, fixed, _REDIS_NOTES) for cve, fixed in (
                 ("CVE-2025-21605", "7.4.3"), ("CVE-2025-27151", "7.4.5"),
                 ("CVE-2025-49844", "7.4.6"), ("CVE-2025-46817", "7.4.6"),
                 ("CVE-2025-46818", "7.4.6"), ("CVE-2025-46819", "7.4.6"),
                 ("CVE-2026-23479", "7.4.9"), ("CVE-2026-25243", "7.4.9"),
                 ("CVE-2026-23631", "7.4.9")))),
    ImagePin("redis-exporter", "oliver006/redis_exporter:v1.88.0",
             "https://github.com/oliver006/redis_exporter/releases/tag/v1.88.0 (newest tag, "
             "2026-08)"),
)

IMAGES: Mapping[PinKey, ImagePin] = MappingProxyType({p.key: p for p in _PINS})
"""Every default image by its key."""


def pinned(key: PinKey) -> str:
    """The default image reference for `key`."""
    return IMAGES[key].image


def store_image(store: VectorDatabase | Cache) -> str:
    """The image a data store runs: the profile's, or the pin for its engine ("" for a managed
    store, which runs nothing)."""
    if store.image is not None:
        return store.image
    if isinstance(store, Cache):
        return pinned("redis")
    if store.engine == "weaviate":
        return pinned("weaviate")
    if store.engine == "pgvector":
        return pinned("cloudnative-pg") if store.pgvector_settings.operator == "cloudnative-pg" \
            else pinned("pgvector")
    return ""


def exporter_image(cache: Cache) -> str:
    """The redis_exporter sidecar's image: the profile's, or the pin."""
    return cache.redis.exporter_image or pinned("redis-exporter")
