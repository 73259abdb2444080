"""Profile models of the GitOps layer: where the rendered tree lives in Git and how ArgoCD syncs it.

A root profile usually holds the repository settings; each environment profile names its own
destination cluster and sets `deploy: true`, so `render prod` writes `output/argocd/prod/`.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from aiplat_gen.profile.schema.types import DnsLabel, Strict

# Operator charts aiplat-gen can manage besides the GPU Operator (whose Application follows
# `spec.gpuOperator`, because the values the tool writes are for `gpuOperator.chartVersion`).
ChartName = Literal[
    "kube-prometheus-stack", "keda", "external-secrets", "cloudnative-pg", "envoy-gateway",
]

IN_CLUSTER = "https://kubernetes.default.svc"


def _matching(pattern: str, what: str) -> AfterValidator:
    """A validator with a message people can act on (the JSON schema keeps the pattern)."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.match(value):
            raise ValueError(f"{value!r} is not {what}")
        return value

    return AfterValidator(check)


_GIT_URL = r"^(https://|ssh://|git@)[^\s]+$"
_RELATIVE_PATH = r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$"
_CHART_VERSION = r"^v?[0-9]+\.[0-9]+\.[0-9]+[-+.A-Za-z0-9]*$"
_SERVER = r"^https://[^\s]+$"
_CLUSTER_NAME = r"^[A-Za-z0-9][-A-Za-z0-9_.@:]{0,252}$"
ServerUrl = Annotated[str, _matching(_SERVER, "an API server URL (https://...)"),
                      Field(json_schema_extra={"pattern": _SERVER})]
ClusterName = Annotated[str, _matching(_CLUSTER_NAME, "a cluster name as registered in ArgoCD"),
                        Field(json_schema_extra={"pattern": _CLUSTER_NAME})]
GitUrl = Annotated[str, _matching(_GIT_URL, "a Git URL (https://..., ssh://... or git@...)"),
                   Field(json_schema_extra={"pattern": _GIT_URL})]
RelativePath = Annotated[str, _matching(_RELATIVE_PATH, "a relative folder such as `output`"),
                         Field(json_schema_extra={"pattern": _RELATIVE_PATH})]
ChartVersion = Annotated[str, _matching(_CHART_VERSION, "a chart version such as 2.20.2"),
                         Field(json_schema_extra={"pattern": _CHART_VERSION})]


class Destination(Strict):
    """The cluster an environment is deployed to, as registered in ArgoCD: by API server URL or
    by cluster name (exactly one)."""

    server: ServerUrl | None = Field(default=None, examples=["https://kubernetes.default.svc"])
    """API server URL of the cluster (`https://kubernetes.default.svc` is ArgoCD's own)."""
    name: ClusterName | None = Field(default=None, examples=["prod-eu-1"])
    """Name of a cluster registered in ArgoCD (`argocd cluster add ... --name`)."""

    @model_validator(mode="after")
    def _one_of(self) -> Destination:
        if (self.server is None) == (self.name is None):
            raise ValueError("set exactly one of `server` and `name` (to replace an inherited "
                             "`server` by a `name`, also set `server: null`)")
        return self


# Every ArgoCD sync option is `Name=value` (argoproj/argo-cd, docs/user-guide/sync-options.md).
SYNC_OPTION_PATTERN = r"^[A-Za-z]+=[A-Za-z0-9-]+$"


class SyncPolicy(Strict):
    """How ArgoCD syncs the platform and operator Applications."""

    automated: bool = True
    """Sync automatically when Git changes (else sync by hand in ArgoCD)."""
    prune: bool = True
    """With `automated`: delete objects removed from Git. Applications then carry ArgoCD's
    resources finalizer, so dropping an operator from the profile uninstalls it."""
    self_heal: bool = True
    """With `automated`: revert changes made in the cluster by hand."""
    sync_options: list[Annotated[str, StringConstraints(
        max_length=100, pattern=SYNC_OPTION_PATTERN)]] = Field(
        default_factory=list, examples=[["PruneLast=true"]])
    """Extra ArgoCD sync options for every Application, e.g. `PruneLast=true`,
    `ApplyOutOfSyncOnly=true`."""
    retry_limit: int = Field(default=-1, ge=-1, le=100)
    """Retries of a failed sync, with exponential backoff from 10s up to 5m between them. `-1`
    (the default): retry until it succeeds, so the platform syncs once the operators' CRDs
    exist (ArgoCD: "unlimited number of attempts if less than 0", docs/operator-manual/
    application.yaml); a limit stops retrying for good after that many failures."""


class ChartSettings(Strict):
    """Overrides for one operator chart Application."""

    enabled: bool | None = None
    """`true` or `false` to force; unset (default) manages the chart when the rendered platform
    uses its custom resources."""
    version: ChartVersion | None = Field(default=None, examples=["2.20.2"])
    """Pin another chart version than aiplat-gen's default."""


class GitOps(Strict):
    """ArgoCD output (`output/argocd/<profile>/`): an AppProject pair, the platform Application
    and one Application per operator chart, applied by a root app-of-apps Application."""

    repo_url: GitUrl = Field(alias="repoURL", examples=["https://github.com/acme/ai-platform.git"])
    """The Git repository ArgoCD reads the rendered tree from (`repoURL`)."""
    target_revision: str = Field(default="main", min_length=1, pattern=r"^[^\s]+$")
    """Branch, tag or commit ArgoCD follows."""
    path: RelativePath = Field(default="output", examples=["output"])
    """Folder of the rendered tree inside the repository (`aiplat-gen render --out`)."""
    deploy: bool = False
    """Render ArgoCD objects for this profile. Leave it off on a root profile that only serves as
    the shared base of environments; turn it on in each environment."""
    destination: Destination = Destination(server=IN_CLUSTER)
    """The cluster this environment runs in (default: the cluster ArgoCD runs in)."""
    argocd_namespace: DnsLabel = "argocd"
    """Namespace ArgoCD runs in on the management cluster: where the Applications live."""
    sync: SyncPolicy = SyncPolicy()
    """Sync policy of every Application."""
    application_health_check: bool = False
    """The `argocd-cm` of that ArgoCD has the health check of `argoproj.io/Application`
    (`resource.customizations.health.argoproj.io_Application`), without which ArgoCD (since 1.8)
    counts a child Application healthy at once and the root Application's sync waves order
    nothing. aiplat-gen does not write `argocd-cm`: ArgoCD reads that one ConfigMap of its
    installation whole, and it usually belongs to the installation (Helm `configs.cm`,
    kustomize), so a second owner would replace or drop its keys. Add the key once with the merge
    patch in output/README.md, then set this to `true` (`check` warns until then)."""
    charts: dict[ChartName, ChartSettings] = Field(default_factory=dict)
    """Per-chart overrides of the operator Applications (the GPU Operator follows
    `spec.gpuOperator`)."""
