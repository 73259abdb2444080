"""Checks of the prices `aiplat-gen plan` turns into a cost per hour."""

from __future__ import annotations

from collections.abc import Iterator

from aiplat_gen.core.errors import Diagnostic
from aiplat_gen.profile.locator import Locator
from aiplat_gen.profile.schema.profile import Profile


def gpu_prices(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """`pricePerGpuHour` only on pools with GPUs (a CPU pool has no GPU to price)."""
    for index, pool in enumerate(profile.spec.node_pools):
        if pool.price_per_gpu_hour is not None and pool.gpu is None:
            yield at.diagnostic(("spec", "nodePools", index, "pricePerGpuHour"),
                                f"node pool {pool.name!r} has no GPUs to price",
                                "set pricePerGpuHour on GPU pools only")
