"""`aiplat-gen check --cluster`: a server-side dry run of every rendered object against the
user's own cluster (the kubeconfig's current context, or `--context`).

Each object goes to the API server as ArgoCD would send it (server-side apply, in ArgoCD's order)
with `dryRun=All`: admission, validation (CRD schemas and their CEL rules included) and
defaulting run, nothing is stored. An object in a namespace that the tree itself creates (or
an operator Application of it) and the cluster does not have yet cannot be dry-run (the
namespace is not stored either); it is counted as skipped, with the namespace named, rather
than reported as a refusal.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiplat_gen.checks.selection import select, validate_many
from aiplat_gen.core.settings import Settings
from aiplat_gen.verify.kube import kustomize
from aiplat_gen.verify.kube.api import ApiError, Client, from_kubeconfig, private_dir
from aiplat_gen.verify.simulate.cluster import operator_namespaces
from aiplat_gen.verify.simulate.objects import LocatedRefusal, environment_objects, locator
from aiplat_gen.verify.simulate.run import apply_order, refusal


@dataclass
class ClusterTarget:
    """The dry run of one profile's objects."""

    profile: str
    objects: int = 0
    accepted: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    """Objects not dry-run, per namespace the tree creates and the cluster lacks."""
    refusals: list[LocatedRefusal] = field(default_factory=list)


@dataclass
class ClusterReport:
    """The dry run of every selected profile against one cluster."""

    server: str
    targets: list[ClusterTarget] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No object refused."""
        return all(not t.refusals for t in self.targets)


def check_cluster(refs: list[str], all_profiles: bool, settings: Settings, out: Path,
                  context: str | None, step: Callable[[str], None] | None = None,
                  ) -> ClusterReport:
    """Dry-run the rendered objects of the selected profiles on the kubeconfig's cluster."""
    profiles = validate_many(select(refs, all_profiles, settings))
    command = kustomize.kustomize_command()
    workdir = private_dir()
    try:
        client = Client(from_kubeconfig(context, workdir))
        report = ClusterReport(client.connection.server)
        existing = {ns["metadata"]["name"] for ns in client.list("v1", "Namespace")}
        for vp in profiles:
            objects, argocd = environment_objects(vp, out, command)
            if step is not None:
                step(f"dry run of {vp.name} on {client.connection.server}")
            target = ClusterTarget(vp.name, objects=len(objects) + len(argocd))
            locate = locator(vp, out)
            created = {o["metadata"]["name"] for o in objects + argocd
                       if o.get("kind") == "Namespace"}
            created |= {ns["metadata"]["name"] for ns in operator_namespaces(argocd)}
            for obj in sorted(objects + argocd, key=apply_order):
                namespace = obj.get("metadata", {}).get("namespace")
                if namespace and namespace not in existing and namespace in created:
                    target.skipped[namespace] = target.skipped.get(namespace, 0) + 1
                    continue
                try:
                    client.apply(obj, dry_run=True)
                    target.accepted += 1
                except ApiError as exc:
                    target.refusals.append(locate.refusal(obj, refusal(obj, exc)))
            report.targets.append(target)
        client.close()
        return report
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def format_cluster_report(report: ClusterReport) -> str:
    """One block per profile: counts, skipped namespaces, refusals with their sources."""
    lines = []
    for t in report.targets:
        lines.append(f"{t.profile}: {t.objects} objects, {t.accepted} accepted by "
                     f"{report.server} (dry run), {len(t.refusals)} refused")
        lines += [f"  skipped {n} object(s) in namespace {ns}: the tree creates it and the "
                  "cluster has none yet" for ns, n in sorted(t.skipped.items())]
        lines += [f"  refused: {r.describe()}" for r in t.refusals]
    refused = sum(len(t.refusals) for t in report.targets)
    lines.append(f"check --cluster: {'ok' if report.ok else f'{refused} refused'}")
    return "\n".join(lines) + "\n"
