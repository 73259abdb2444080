"""Checks of the GitOps layer: names of the ArgoCD objects an environment gets."""

from __future__ import annotations

from collections.abc import Iterator

from aiplat_gen.core.errors import Diagnostic
from aiplat_gen.platform.facts.charts import CHARTS
from aiplat_gen.profile.locator import Locator
from aiplat_gen.profile.schema.profile import Profile

MAX_LABEL_VALUE = 63


def argocd_names(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """ArgoCD objects are named `<platform>-<profile>-<part>` and carry that name as a label
    value, which Kubernetes limits to 63 characters."""
    gitops = profile.spec.gitops
    if gitops is None or not gitops.deploy:
        return
    parts = ["system", "root", *(chart.name for chart in CHARTS)]
    longest = max(parts, key=len)
    name = f"{profile.spec.platform.name}-{profile.metadata.name}-{longest}"
    if len(name) > MAX_LABEL_VALUE:
        yield at.diagnostic(
            ("spec", "gitops", "deploy"),
            f"ArgoCD object names such as {name!r} would have {len(name)} characters; "
            f"Kubernetes label values allow {MAX_LABEL_VALUE}",
            f"shorten spec.platform.name or the profile name by {len(name) - MAX_LABEL_VALUE}")
