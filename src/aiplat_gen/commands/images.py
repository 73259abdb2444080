"""`aiplat-gen images`: the container images the profiles pin."""

from __future__ import annotations

import json
from dataclasses import dataclass

from aiplat_gen.commands import Reporter, writes
from aiplat_gen.core.settings import Settings
from aiplat_gen.verify.check.images import pinned_images


@dataclass(frozen=True)
class ImagesRequest:
    """The profiles whose images to list."""

    refs: list[str]
    all_profiles: bool
    settings: Settings


def images(request: ImagesRequest) -> list[str]:
    """Every image the selected profiles pin, sorted, once."""
    return pinned_images(request.refs, request.all_profiles, request.settings)


REPORTERS: dict[str, Reporter[list[str]]] = {
    "text": writes(lambda found: "".join(f"{image}\n" for image in found)),
    "json": writes(lambda found: json.dumps(found) + "\n"),
}
FORMATS = tuple(REPORTERS)
