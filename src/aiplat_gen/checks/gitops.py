"""Checks of the GitOps layer: names of the ArgoCD objects an environment gets, and whether the
sync waves of its root Application can order anything (ArgoCD's `argoproj.io/Application` health
check, which aiplat-gen does not write)."""

from __future__ import annotations

from collections.abc import Iterator

from aiplat_gen.core.errors import Diagnostic, Severity
from aiplat_gen.platform.facts.charts import APPLICATION_HEALTH_KEY, ARGOCD_CM, CHARTS
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


def application_health(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """Without the Application health check in `argocd-cm`, the waves order nothing (warning)."""
    gitops = profile.spec.gitops
    if gitops is None or not gitops.deploy or gitops.application_health_check:
        return
    yield at.diagnostic(
        ("spec", "gitops", "applicationHealthCheck"),
        f"ArgoCD's {ARGOCD_CM} may lack {APPLICATION_HEALTH_KEY} (not a default since ArgoCD "
        "1.8): the root Application's sync waves would not wait for the operators, and the "
        "platform syncs only by retrying until their CRDs exist",
        f"apply the {ARGOCD_CM} merge patch from output/README.md once, then set "
        "`applicationHealthCheck: true`", Severity.WARNING)
