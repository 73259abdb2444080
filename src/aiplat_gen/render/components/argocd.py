"""ArgoCD: the objects that deploy an environment, in `output/argocd/<profile>/`.

Rendered for each profile with `spec.gitops.deploy: true`. Apply the folder once to the cluster
ArgoCD runs in (`kubectl apply -k output/argocd/prod`); from then on ArgoCD manages it itself:

- `<platform>-<env>-root`: an app-of-apps Application that syncs this folder, so the other
  objects below follow Git. Its sync waves order them: AppProjects, then the operator charts
  (kube-prometheus-stack first), then the platform. ArgoCD waits for a child Application's health
  between waves only with the `argoproj.io_Application` health check in `argocd-cm` (removed from
  ArgoCD's defaults in 1.8; see ArgoCD's "Resource Health" page). aiplat-gen does not own
  `argocd-cm`: output/README.md gives the merge patch that adds the check, and `check` warns
  until the profile says it is there (`gitops.applicationHealthCheck`). Whatever the order, the
  platform Application syncs with `SkipDryRunOnMissingResource=true` and retries with backoff
  until it succeeds (`retry.limit: -1` by default), so it lands once the operators' CRDs exist.
- AppProject `<platform>-<env>`: the platform Application may read only the repository, deploy
  only to the environment's cluster and the namespaces the platform uses, and create only the
  kinds the platform renders (cluster-scoped and namespaced whitelists derived from the render).
- AppProject `<platform>-<env>-system`: the root and operator Applications; limited to the
  repository, the chart repositories and the operators' namespaces (plus the ArgoCD namespace for
  the root). Operator charts install CRDs, RBAC and webhooks whose exact kinds change with chart
  versions, so this project allows every kind and is limited by source and destination instead.
- Application `<platform>-<env>`: `base/` (root profile) or `overlays/<env>/`. Deployments and
  StatefulSets that a KEDA `ScaledObject` or an HPA scales get `ignoreDifferences` on
  `/spec/replicas` (with `RespectIgnoreDifferences=true`), so ArgoCD and the autoscaler do not
  fight; the list comes from the rendered autoscalers, so it is empty while nothing autoscales.
- Application `<platform>-<env>-<chart>` per operator chart the profile needs (see
  `argocd_charts`): multi-source, the chart from its repository at the pinned version and the
  values files aiplat-gen wrote (`$values/<path>/helm/<chart>/values.yaml` and the
  `values-<profile>.yaml` of each profile down the `extends` chain) from this repository.
  `CreateNamespace=true`; a namespace the platform also renders (the GPU Operator's, labelled Pod
  Security `privileged`) gets the same labels through `managedNamespaceMetadata`, so the operator
  never starts in an unlabelled namespace.

Sync: automated with prune and self-heal unless the profile turns them off; with prune the child
Applications carry ArgoCD's resources finalizer, so removing one from Git uninstalls it. Objects
are tracked with ArgoCD's annotation tracking (the default since ArgoCD 3.0); with label tracking
ArgoCD would overwrite the `app.kubernetes.io/instance` label aiplat-gen sets.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from aiplat_gen.core import tree_paths as paths
from aiplat_gen.platform.facts.charts import PLATFORM_WAVE, PROJECT_WAVE, SKIP_DRY_RUN, Chart
from aiplat_gen.profile.schema.gitops import IN_CLUSTER, GitOps
from aiplat_gen.profile.schema.profile import Profile
from aiplat_gen.render.components.argocd_charts import charts_for
from aiplat_gen.render.components.base import RenderContext, labels
from aiplat_gen.render.rendered import FullRender

COMPONENT = "gitops"
FINALIZER = "resources-finalizer.argocd.argoproj.io"
WAVE_ANNOTATION = "argocd.argoproj.io/sync-wave"
ANY_KIND = {"group": "*", "kind": "*"}
AUTOSCALERS = {("keda.sh", "ScaledObject"), ("autoscaling", "HorizontalPodAutoscaler")}


def render(ctx: RenderContext, chain: Sequence[tuple[str, FullRender]]) -> list[dict[str, Any]]:
    """ArgoCD objects of the last profile in `chain` (the `extends` chain, root first, with each
    profile's full render); nothing unless the profile sets `gitops.deploy`."""
    gitops = ctx.profile.spec.gitops
    if gitops is None or not gitops.deploy:
        return []
    env, full = chain[-1]
    platform = ctx.profile.spec.platform.name
    charts = charts_for(ctx.profile, full)
    names = _Names(platform, env)
    objects = _projects(ctx, gitops, names, full, charts)
    objects += _application(
        ctx, gitops, name=names.root, project=names.system, wave=None, finalizer=False,
        sources=[_git(gitops, f"{gitops.path}/{paths.argocd(env)}")],
        destination={"server": IN_CLUSTER, "namespace": gitops.argocd_namespace})
    ignore = ignored_replicas(full)
    tree = paths.chain_folder([name for name, _ in chain])
    objects += _application(
        ctx, gitops, name=names.platform, project=names.platform, wave=PLATFORM_WAVE,
        sources=[_git(gitops, f"{gitops.path}/{tree}")], destination=_cluster(gitops),
        ignore_differences=ignore,
        options=[SKIP_DRY_RUN, *(["RespectIgnoreDifferences=true"] if ignore else [])])
    for chart in charts:
        objects += _chart_application(ctx, gitops, names, chart, chain)
    return objects


class _Names:
    def __init__(self, platform: str, env: str) -> None:
        self.platform = f"{platform}-{env}"
        self.system = f"{platform}-{env}-system"
        self.root = f"{platform}-{env}-root"

    def chart(self, chart: Chart) -> str:
        return f"{self.platform}-{chart.name}"


def _labels(ctx: RenderContext, name: str) -> dict[str, str]:
    return labels(ctx.profile, name, COMPONENT)


def _cluster(gitops: GitOps, namespace: str | None = None) -> dict[str, str]:
    dest = gitops.destination
    result = {"server": dest.server} if dest.server else {"name": str(dest.name)}
    return result | ({"namespace": namespace} if namespace else {})


def _git(gitops: GitOps, path: str) -> dict[str, Any]:
    return {"repoURL": gitops.repo_url, "targetRevision": gitops.target_revision, "path": path}


def _projects(ctx: RenderContext, gitops: GitOps, names: _Names, full: FullRender,
              charts: list[Chart]) -> list[dict[str, Any]]:
    objects = [o.obj for o in full.objects]
    namespaced = [o for o in objects if o.get("metadata", {}).get("namespace")]
    cluster_scoped = [o for o in objects if not o.get("metadata", {}).get("namespace")]
    namespaces = sorted({o["metadata"]["namespace"] for o in namespaced}
                        | {o["metadata"]["name"] for o in cluster_scoped
                           if o["kind"] == "Namespace" and o["apiVersion"] == "v1"})
    platform = ctx.render(
        "argocd/appproject.yaml.j2", name=names.platform, namespace=gitops.argocd_namespace,
        labels=_labels(ctx, names.platform), annotations=_wave(PROJECT_WAVE),
        description=f"The {names.platform} platform, rendered by aiplat-gen",
        source_repos=[gitops.repo_url],
        destinations=[_cluster(gitops, ns) for ns in namespaces],
        cluster_kinds=_kinds(cluster_scoped),
        # An empty whitelist would allow every namespaced kind; a platform with none gets a
        # blacklist of all instead.
        namespace_whitelist=_kinds(namespaced) or None,
        namespace_blacklist=None if namespaced else [ANY_KIND])
    system = ctx.render(
        "argocd/appproject.yaml.j2", name=names.system, namespace=gitops.argocd_namespace,
        labels=_labels(ctx, names.system), annotations=_wave(PROJECT_WAVE),
        description=f"Operators and the root Application of {names.platform}",
        source_repos=_unique([gitops.repo_url, *(c.repo_url for c in charts)]),
        destinations=[{"server": IN_CLUSTER, "namespace": gitops.argocd_namespace},
                      *(_cluster(gitops, ns) for ns in _unique(c.namespace for c in charts))],
        cluster_kinds=[ANY_KIND], namespace_whitelist=None, namespace_blacklist=None)
    return platform + system


def _unique(items: Iterable[Any]) -> list[Any]:
    """Items in order of first appearance, without repeats."""
    seen: list[Any] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def _kinds(objects: Iterable[dict[str, Any]]) -> list[dict[str, str]]:
    """Sorted, unique `{group, kind}` of objects (an AppProject resource whitelist)."""
    pairs = sorted({(str(o["apiVersion"]).rpartition("/")[0], str(o["kind"])) for o in objects})
    return [{"group": group, "kind": kind} for group, kind in pairs]


def ignored_replicas(full: FullRender) -> list[dict[str, Any]]:
    """`ignoreDifferences` entries for the replicas of every workload an autoscaler scales."""
    entries = []
    for item in full.objects:
        obj = item.obj
        if (str(obj["apiVersion"]).rpartition("/")[0], obj["kind"]) not in AUTOSCALERS:
            continue
        target = obj.get("spec", {}).get("scaleTargetRef", {})
        api_version = str(target.get("apiVersion", "apps/v1"))
        entries.append({
            "group": api_version.rpartition("/")[0], "kind": target.get("kind", "Deployment"),
            "name": target["name"], "namespace": obj["metadata"]["namespace"],
            "jsonPointers": ["/spec/replicas"],
        })
    return sorted(entries, key=lambda e: (e["namespace"], e["kind"], e["name"]))


def _chart_application(ctx: RenderContext, gitops: GitOps, names: _Names, chart: Chart,
                       chain: Sequence[tuple[str, FullRender]]) -> list[dict[str, Any]]:
    files = [f"$values/{gitops.path}/{paths.helm_values(chart.name, name, root=i == 0)}"
             for i, (name, full) in enumerate(chain) if chart.name in full.helm_values]
    helm: dict[str, Any] = {"releaseName": chart.name}
    if files:
        helm["valueFiles"] = files
    sources = [{"repoURL": chart.repo_url, "chart": chart.chart,
                "targetRevision": chart.version, "helm": helm}]
    if files:
        sources.append({"repoURL": gitops.repo_url, "targetRevision": gitops.target_revision,
                        "ref": "values"})
    options = ["CreateNamespace=true"] + (["ServerSideApply=true"]
                                          if chart.server_side_apply else [])
    return _application(
        ctx, gitops, name=names.chart(chart), project=names.system, wave=chart.wave,
        sources=sources, destination=_cluster(gitops, chart.namespace), options=options,
        namespace_labels=_namespace_labels(chain[-1][1], chart))


def chart_namespaces(profile: Profile, full: FullRender) -> list[dict[str, Any]]:
    """The Namespaces the operator charts a profile needs run in, with the labels their
    Applications give them: what the cluster must have when the profile does not deploy with
    ArgoCD (the user installs the charts), for `simulate`."""
    return [{"apiVersion": "v1", "kind": "Namespace",
             "metadata": {"name": chart.namespace, "labels": _namespace_labels(full, chart)}}
            for chart in charts_for(profile, full)]


def _namespace_labels(full: FullRender, chart: Chart) -> dict[str, str]:
    """Labels for the chart's namespace: the platform's own Namespace labels when it renders
    that namespace (so both Applications agree), else the chart's Pod Security level."""
    for item in full.objects:
        obj = item.obj
        if obj["kind"] == "Namespace" and obj["metadata"]["name"] == chart.namespace:
            return dict(obj["metadata"].get("labels", {}))
    if chart.pod_security is None:
        return {}
    return {f"pod-security.kubernetes.io/{mode}{suffix}": value
            for mode in ("enforce", "audit", "warn")
            for suffix, value in (("", chart.pod_security), ("-version", "latest"))}


def _application(ctx: RenderContext, gitops: GitOps, *, name: str, project: str,
                 wave: int | None, sources: list[dict[str, Any]], destination: dict[str, str],
                 options: list[str] | None = None, finalizer: bool = True,
                 ignore_differences: list[dict[str, Any]] | None = None,
                 namespace_labels: dict[str, str] | None = None) -> list[dict[str, Any]]:
    sync = gitops.sync
    policy: dict[str, Any] = {}
    if sync.automated:
        policy["automated"] = {"prune": sync.prune, "selfHeal": sync.self_heal}
    sync_options = _unique([*(options or []), *sync.sync_options])
    if sync_options:
        policy["syncOptions"] = sync_options
    if namespace_labels:
        policy["managedNamespaceMetadata"] = {"labels": namespace_labels}
    policy["retry"] = {"limit": sync.retry_limit,
                       "backoff": {"duration": "10s", "factor": 2, "maxDuration": "5m"}}
    return ctx.render(
        "argocd/application.yaml.j2", name=name, namespace=gitops.argocd_namespace,
        labels=_labels(ctx, name), annotations={} if wave is None else _wave(wave),
        finalizers=[FINALIZER] if finalizer and sync.automated and sync.prune else [],
        project=project, source=sources[0] if len(sources) == 1 else None,
        sources=sources if len(sources) > 1 else None, destination=destination,
        sync_policy=policy, ignore_differences=ignore_differences or [])


def _wave(wave: int) -> dict[str, str]:
    return {WAVE_ANNOTATION: str(wave)}
