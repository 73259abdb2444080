"""`aiplat-gen simulate`: the rendered tree on a real Kubernetes control plane.

For each selected profile, on a fresh control plane (`aiplat_gen.verify.kube.controlplane`):
install the CRDs the environment's objects need, create what the cluster provides
(`simulate.cluster`), apply the folder ArgoCD deploys (`base/` or `overlays/<env>/`, built with
kustomize) and the environment's `argocd/<env>/` with server-side apply in ArgoCD's order, then
read every workload at its minimum and maximum replicas (`simulate.run`). The verdict:

- every object accepted (a refusal is reported in the API server's words, at the output file
  that defines the object and, where the tool knows it, the profile entry that produced it);
- every pod of every Deployment and StatefulSet created (no `FailedCreate`) and bound to a node
  at the minimum replicas;
- at the maximum, the scheduler agrees with `aiplat-gen plan`: a pod it cannot place is one the
  plan already reported, and where the plan says the maximum fits, every pod is placed.

Objects whose pods a controller the simulation does not run would make (a KServe
InferenceService, a CloudNativePG Cluster) are accepted but make no pods; the report lists them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from aiplat_gen.checks.selection import select, validate_many
from aiplat_gen.checks.validate import ValidatedProfile
from aiplat_gen.core.cache import cache_dir
from aiplat_gen.core.errors import UsageError
from aiplat_gen.core.settings import Settings
from aiplat_gen.platform import provided
from aiplat_gen.platform.memory import device_for
from aiplat_gen.platform.scheduling import POOL_LABEL
from aiplat_gen.reports.plan import unplaced
from aiplat_gen.verify.kube import kustomize
from aiplat_gen.verify.kube.api import NO_KIND
from aiplat_gen.verify.kube.controlplane import control_plane, crd_snapshot
from aiplat_gen.verify.simulate import cluster, run
from aiplat_gen.verify.simulate.objects import LocatedRefusal, environment_objects, locator

# Kinds whose pods a controller makes that the simulation does not run.
OPERATOR_OWNED = {("serving.kserve.io", "InferenceService"): "KServe",
                  ("postgresql.cnpg.io", "Cluster"): "CloudNativePG"}


@dataclass(frozen=True)
class SimulateOptions:
    """Where the rendered tree, the CRDs and the control-plane binaries are."""

    out_dir: Path = Path("output")
    crds_dir: Path | None = None
    k8s_bin: Path | None = None
    keep: bool = False
    """Keep the control plane's folder (logs, etcd data) for a post-mortem."""


@dataclass(frozen=True)
class PoolUse:
    """GPUs the bound pods of one pool request at min and max, of what its nodes offer."""

    pool: str
    resource: str
    offered: int
    at_min: int
    at_max: int


@dataclass
class EnvironmentResult:
    """The simulation of one profile."""

    profile: str
    objects: int = 0
    accepted: int = 0
    refusals: list[LocatedRefusal] = field(default_factory=list)
    snapshots: dict[str, run.Snapshot] = field(default_factory=dict)
    pools: list[PoolUse] = field(default_factory=list)
    not_simulated: list[str] = field(default_factory=list)
    disagreements: list[str] = field(default_factory=list)
    """Where the scheduler and `plan` disagree, or a pod was not created or bound at min."""
    expected_unplaced: list[str] = field(default_factory=list)
    """Pods the scheduler could not place at max that `plan` had already reported."""

    @property
    def ok(self) -> bool:
        """Every object accepted, every pod bound at min, scheduler and plan agree at max."""
        return not self.refusals and not self.disagreements


@dataclass
class SimulationReport:
    """Every simulated environment."""

    environments: list[EnvironmentResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every environment passed."""
        return all(e.ok for e in self.environments)


def simulate(refs: list[str], all_profiles: bool, settings: Settings,
             options: SimulateOptions, step: Callable[[str], None] | None = None,
             ) -> SimulationReport:
    """Simulate each selected profile's rendered tree on its own fresh control plane."""
    profiles = validate_many(select(refs, all_profiles, settings))
    command = kustomize.kustomize_command()
    built = [(vp, *environment_objects(vp, options.out_dir, command)) for vp in profiles]
    files = crd_files(options.crds_dir)
    if step is not None and files:
        step(f"installing {len(files)} CRDs")
    snapshot = crd_snapshot(files, cache_dir() / "controlplane", options.k8s_bin) if files else None
    report = SimulationReport()
    for vp, objects, argocd in built:
        if step is not None:
            step(f"simulating {vp.name} ({len(objects) + len(argocd)} objects)")
        report.environments.append(simulate_environment(vp, objects, argocd, options, snapshot))
    return report


def _group(api_version: str) -> str:
    return api_version.rpartition("/")[0]


def crd_files(crds_dir: Path | None) -> list[Path]:
    """Every `<group>/<plural>.yaml` of the CRD folder, in order."""
    if crds_dir is None:
        return []
    if not crds_dir.is_dir():
        raise UsageError(f"--crds {crds_dir}: not a folder")
    return sorted(crds_dir.glob("*/*.yaml"))


def provided_objects(vp: ValidatedProfile) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """What `spec.clusterProvides` declares, as objects: (cluster-scoped, namespaced). Every
    declared StorageClass (the default one marked so) and Namespace, and each declared secret
    store, node class and TLS Secret where the tree uses it (`aiplat_gen.platform.provided`, which
    `validate` checks the same references with)."""
    profile = vp.profile
    provides = profile.spec.cluster_provides
    default = provides.default_storage_class
    scoped = [cluster.storage_class(name, default=name == default)
              for name in sorted({*provides.storage_classes, *([default] if default else [])})]
    scoped += [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
               for name in provides.namespaces]
    namespaced: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str | None]] = set()
    store = profile.spec.security.secret_store
    uses = [*provided.secret_stores(profile), *provided.node_classes(profile),
            *provided.tls_secrets(profile)]
    for ref in uses:
        if ref.name not in provided.declared(profile, ref.section) or \
                (ref.kind, ref.name, ref.namespace) in seen:
            continue
        seen.add((ref.kind, ref.name, ref.namespace))
        if ref.section == "secretStores" and store is not None:
            made = cluster.secret_store(ref.kind, ref.name, store.provider, ref.namespace)
        elif ref.section == "nodeClasses":
            made = cluster.node_class(ref.name)
        elif ref.section == "tlsSecrets" and ref.namespace is not None:
            made = cluster.tls_secret(ref.name, ref.namespace)
        else:
            continue
        (namespaced if ref.namespace else scoped).append(made)
    return scoped, namespaced


def storage_classes(vp: ValidatedProfile) -> set[str]:
    """The StorageClasses the cluster has (declared, default included)."""
    provides = vp.profile.spec.cluster_provides
    default = provides.default_storage_class
    return {*provides.storage_classes, *([default] if default else [])}


def _operator_namespaces(vp: ValidatedProfile, argocd: list[dict[str, Any]]
                         ) -> list[dict[str, Any]]:
    """The namespaces the operator charts run in: those the environment's Applications create
    (and ArgoCD's own), or, for a profile that does not deploy with ArgoCD (its operators are
    the user's to install), those of the charts it needs."""
    gitops = vp.profile.spec.gitops
    if gitops is not None and gitops.deploy:
        return [*cluster.operator_namespaces(argocd),
                {"apiVersion": "v1", "kind": "Namespace",
                 "metadata": {"name": gitops.argocd_namespace}}]
    from aiplat_gen.render.components.argocd import chart_namespaces
    from aiplat_gen.render.components.base import RenderContext
    from aiplat_gen.render.pipeline import render_full

    return chart_namespaces(vp.profile, render_full(RenderContext(vp.profile, None)))


def simulate_environment(vp: ValidatedProfile, objects: list[dict[str, Any]],
                         argocd: list[dict[str, Any]], options: SimulateOptions,
                         crds: Path | None) -> EnvironmentResult:
    """Simulate one environment's objects (and its ArgoCD objects) on a fresh control plane
    started from `crds` (an etcd snapshot with the CRDs installed: `crd_snapshot`). A kind
    with no CRD there is refused by the API server like any other mistake."""
    result = EnvironmentResult(vp.name, objects=len(objects) + len(argocd))
    locate = locator(vp, options.out_dir)
    with control_plane(options.k8s_bin, keep=options.keep, etcd_data=crds) as plane:
        client = plane.client
        usable = objects + argocd
        scoped, namespaced = provided_objects(vp)
        nodes = cluster.nodes(vp.profile)
        run.add_nodes(client, nodes)
        for obj in scoped:
            client.apply(obj)
        namespaces = _operator_namespaces(vp, argocd)
        for ns in namespaces:
            client.apply(ns)
        all_namespaces = sorted({ns["metadata"]["name"] for ns in namespaces}
                                | {o["metadata"]["name"] for o in usable
                                   if o.get("kind") == "Namespace"})

        def before_workloads() -> None:
            for obj in namespaced:  # where the tree makes the namespace
                if obj["metadata"]["namespace"] in all_namespaces:
                    client.apply(obj)
            # Not ready in time (a quota whose usage is never computed): the pods' own
            # refusals then say why, in the API server's words.
            run.wait_for(run.namespaces_ready(client, all_namespaces))

        applied = run.apply_all(client, usable, before_workloads)
        result.accepted = applied.accepted
        for obj, refused in applied.refusals:
            if crds is None and refused.message.startswith(NO_KIND):
                refused = replace(refused, message=f"{refused.message}; give the CRDs of the "
                                  "charts the tree uses with --crds DIR")
            result.refusals.append(locate.refusal(obj, refused))
        result.not_simulated = sorted(
            f"{o['kind']} {o['metadata'].get('namespace', '')}/{o['metadata']['name']} "
            f"(pods made by {OPERATOR_OWNED[(_group(o['apiVersion']), o['kind'])]})"
            for o in usable if (_group(o["apiVersion"]), o["kind"]) in OPERATOR_OWNED)
        targets = run.scalings(usable)
        kubelets = run.Kubelets(client, storage_classes(vp))
        pools = {node["metadata"]["name"]: node["metadata"]["labels"][POOL_LABEL]
                 for node, _ in nodes}
        for at in ("min", "max"):
            run.scale(client, targets, at)
            run.settle(client, kubelets)
            result.snapshots[at] = run.read_state(client, at, pools)
    _compare(vp, usable, result)
    return result


def _compare(vp: ValidatedProfile, objects: list[dict[str, Any]],
             result: EnvironmentResult) -> None:
    """Pool use, and where the simulation and `plan` disagree."""
    strategy = vp.profile.spec.gpu_operator.mig_strategy
    for pool in vp.profile.spec.node_pools:
        device = device_for(pool, strategy)
        if device is None:
            continue
        used = {at: sum(n for s in snap.workloads for p, r, n in s.pool_gpus
                        if p == pool.name and r == device.resource)
                for at, snap in result.snapshots.items()}
        result.pools.append(PoolUse(pool.name, device.resource, device.per_node * pool.nodes,
                                    used.get("min", 0), used.get("max", 0)))
    pool_of = _workload_pools(objects)
    planned = unplaced(vp.profile)
    for at, snap in result.snapshots.items():
        short: dict[str, int] = {}
        for state in snap.workloads:
            if state.ok:
                continue
            what = (f"at {at}: {state.kind} {state.namespace}/{state.name}: "
                    f"{state.bound} of {state.wanted} pod(s) bound ({state.created} created)")
            detail = "; ".join(state.problems)
            selected = pool_of.get((state.kind, state.namespace, state.name), "")
            missing = state.wanted - state.bound
            if at == "max" and planned.get((selected, "max"), 0) > 0:
                short[selected] = short.get(selected, 0) + missing
                result.expected_unplaced.append(f"{what}: {detail}" if detail else what)
            else:
                result.disagreements.append(
                    f"{what}: {detail}" if detail else what)
        for selected, missing in short.items():
            if missing > planned[(selected, "max")]:
                result.disagreements.append(
                    f"at max: {missing} pod(s) on pool {selected} could not be placed but "
                    f"`aiplat-gen plan` reports only {planned[(selected, 'max')]}")
        for claim in snap.unbound_claims:
            result.disagreements.append(f"at {at}: claim {claim} is not bound")


def _workload_pools(objects: list[dict[str, Any]]) -> dict[tuple[str, str, str], str]:
    """The node pool each Deployment and StatefulSet selects."""
    found = {}
    for obj in objects:
        if obj.get("kind") in run.WORKLOAD_KINDS:
            selector = (obj.get("spec", {}).get("template", {}).get("spec", {})
                        .get("nodeSelector") or {})
            found[(obj["kind"], obj["metadata"].get("namespace", ""),
                   obj["metadata"]["name"])] = selector.get(POOL_LABEL, "")
    return found
