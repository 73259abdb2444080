"""`output/README.md`: what the rendered tree holds and how to apply it, written on every render.

The summary covers every profile of the profiles folder that validates and shares the rendered
root, not only the profiles named on the command line: `render prod` rewrites the page with
`dev` and `staging` still in it, so the page is the same whichever profiles were rendered last
(and `render --all --check` keeps it honest). A sibling profile that does not validate is
named, not summarised (the render command gathers them: `checks.selection.family`). The root
profile owns the file in the writer's record; `Summary` is its output target.

For each environment the page shows the output folder, the objects, the `plan` tables (models
with GPUs and replica bounds, memory fit, GPU quota per namespace, node pools and cost), every
namespace with its Pod Security level and quota, the data services, what the cluster must
provide (`spec.clusterProvides`, and the operators the Applications install), the operator charts
with their versions and Helm commands, and the platform graph as Mermaid. A "How to apply" section
gives the ArgoCD and the plain kubectl/Helm paths. Paths are relative to the output folder; the
page holds no date, absolute path or version of aiplat-gen, so it is byte-identical across runs.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping

from aiplat_gen.checks.selection import Family
from aiplat_gen.checks.validate import ValidatedProfile
from aiplat_gen.core import tree_paths as paths
from aiplat_gen.output.tree import Unit
from aiplat_gen.platform.facts.charts import (
    APPLICATION_HEALTH_KEY,
    APPLICATION_HEALTH_LUA,
    ARGOCD_CM,
    Chart,
)
from aiplat_gen.platform.facts.controllers import CONTROLLERS
from aiplat_gen.platform.provided import (
    Reference,
    Section,
    declared,
    default_class_volumes,
    existing_secrets,
    installed_by_application,
    references,
)
from aiplat_gen.profile.schema.cluster import Quota
from aiplat_gen.render.components.argocd_charts import charts_for
from aiplat_gen.render.rendered import FullRender
from aiplat_gen.reports.console import Column, Table, markdown_table
from aiplat_gen.reports.mermaid import platform_flowchart
from aiplat_gen.reports.plan import Plan
from aiplat_gen.reports.plan_report import not_estimated
from aiplat_gen.reports.plan_report import tables as plan_tables


def _folder(vp: ValidatedProfile) -> str:
    return paths.folder(vp.name, vp.source.parent is None) + "/"


def _deploys(vp: ValidatedProfile) -> str:
    gitops = vp.profile.spec.gitops
    if gitops is None or not gitops.deploy:
        return "-"
    target = gitops.destination.name or gitops.destination.server or ""
    return f"`{paths.argocd(vp.name)}/` -> {target}"


def _chart_ref(chart: Chart) -> str:
    if "://" in chart.repo_url:
        return f"{chart.chart} --repo {chart.repo_url}"
    return f"oci://{chart.repo_url}/{chart.chart}"


def _values_files(vp: ValidatedProfile, chart: str, renders: Mapping[str, FullRender]
                  ) -> list[str]:
    """The values files of a chart for an environment, root first (as ArgoCD passes them)."""
    return [paths.helm_values(chart, name, root=i == 0)
            for i, name in enumerate(vp.source.chain) if chart in renders[name].helm_values]


def _quota_cells(quota: Quota | None) -> tuple[str, ...]:
    if quota is None:
        return ("-",) * 6
    migs = ", ".join(f"{n} x {p}" for p, n in sorted(quota.mig_devices.items()))
    gpus = "-" if quota.gpus is None else str(quota.gpus)
    if migs:
        gpus = migs if quota.gpus is None else f"{gpus}; {migs}"
    counts = ["-" if n is None else str(n) for n in (quota.pods, quota.persistent_volume_claims)]
    return (gpus, quota.cpu or "-", quota.memory or "-", *counts, quota.storage or "-")


def _namespaces(vp: ValidatedProfile) -> Table:
    rows = tuple((ns.name, ns.purpose, ns.pod_security, *_quota_cells(ns.quota))
                 for ns in vp.profile.spec.namespaces)
    columns = (Column("namespace"), Column("purpose"), Column("pod security"),
               Column("GPUs"), Column("CPU", "right"), Column("memory", "right"),
               Column("pods", "right"), Column("PVCs", "right"), Column("storage", "right"))
    return Table("Namespaces and quotas", columns, rows)


def _data(vp: ValidatedProfile) -> Table | None:
    spec = vp.profile.spec
    rows: list[tuple[str, ...]] = [(s.name, "vector database", s.engine, s.namespace,
             str(s.replicas) if s.runs_in_cluster else "managed") for s in spec.vector_databases]
    rows += [(c.name, "cache", c.engine, c.namespace, "1") for c in spec.caches]
    if not rows:
        return None
    columns = (Column("name"), Column("kind"), Column("engine"), Column("namespace"),
               Column("replicas", "right"))
    return Table("Data services", columns, tuple(rows))


_SECTIONS: dict[Section, str] = {"storageClasses": "StorageClass",
                                 "defaultStorageClass": "default StorageClass",
                                 "namespaces": "Namespace",
                                 "secretStores": "SecretStore",
                                 "nodeClasses": "node class", "tlsSecrets": "TLS Secret",
                                 "controllers": "controller"}


def _provided_row(section: Section, name: str, refs: list[Reference]) -> tuple[str, ...]:
    kind = refs[0].kind if refs else _SECTIONS[section]
    if section == "controllers":
        kind = f"controller: {CONTROLLERS[name].title}"
    namespaces = sorted({r.namespace for r in refs if r.namespace is not None})
    users = list(dict.fromkeys(r.user for r in refs))
    return (kind, f"`{name}`", ", ".join(namespaces) or "-", ", ".join(users) or "(unused)")


def _provided(vp: ValidatedProfile) -> str:
    """What the cluster must provide: what the profile declares, and what installs the rest."""
    profile = vp.profile
    refs = [*references(profile), *default_class_volumes(profile)]
    rows = tuple(_provided_row(section, name, [r for r in refs if r.section == section
                                               and r.name == name])
                 for section in _SECTIONS for name in dict.fromkeys(declared(profile, section)))
    columns = (Column("kind"), Column("name"), Column("namespace"), Column("used by"))
    parts = ["### What the cluster must provide\n"]
    if rows:
        parts.append("The tree refers to these and creates none of them: they are declared under "
                     "`spec.clusterProvides`, and `aiplat-gen validate` refuses a reference to "
                     "anything else. Namespaced ones must exist in the namespaces listed.\n")
        parts.append(markdown_table(Table("", columns, rows)))
    else:
        parts.append("Nothing is declared under `spec.clusterProvides`: the tree names no "
                     "StorageClass, secret store, Karpenter node class, TLS Secret or controller "
                     "that the cluster must already have.\n")
    installed = [f"`{name}` ({info.title}, chart `{info.chart}`)" for name, info
                 in CONTROLLERS.items() if installed_by_application(profile, name)]
    notes = []
    if installed:
        notes.append("- Installed by the operator Applications (see Charts): "
                     + ", ".join(installed) + ".")
    secrets = existing_secrets(profile)
    if secrets:
        notes.append("- Secrets nothing syncs (references without `remote`), to create before "
                     "the workloads start: " + ", ".join(f"`{s}`" for s in secrets) + ".")
    if notes:
        parts.append("\n".join(notes) + "\n")
    return "\n".join(parts)


def _charts(vp: ValidatedProfile, renders: Mapping[str, FullRender]) -> list[str]:
    full = renders[vp.name]
    charts = charts_for(vp.profile, full)
    rows = tuple((c.name, c.version, _chart_ref(c).replace(" --repo ", " from "), c.namespace,
                  c.pod_security or "-",
                  ", ".join(f"`{f}`" for f in _values_files(vp, c.name, renders)) or "-")
                 for c in charts)
    columns = (Column("chart"), Column("version"), Column("source"), Column("namespace"),
               Column("pod security"), Column("values files"))
    lines = [markdown_table(Table("Charts", columns, rows), 3)]
    commands = []
    for chart in charts:
        files = "".join(f" -f {f}" for f in _values_files(vp, chart.name, renders))
        if chart.pod_security is not None:  # its pods need the level before they start
            labels = " ".join(f"pod-security.kubernetes.io/{mode}={chart.pod_security}"
                              for mode in ("enforce", "audit", "warn"))
            commands.append(f"kubectl create namespace {chart.namespace} --dry-run=client -o "
                            "yaml | kubectl apply -f -")
            commands.append(f"kubectl label namespace {chart.namespace} {labels} --overwrite")
        commands.append(f"helm upgrade --install {chart.name} {_chart_ref(chart)} --version "
                        f"{chart.version} --namespace {chart.namespace} --create-namespace"
                        f"{files}")
    extra = sorted(set(full.helm_values) - {c.name for c in charts})
    if commands:
        lines.append("Without ArgoCD, install them first (from this folder):\n\n```sh\n"
                     + "\n".join(commands) + "\n```\n")
    if extra:
        lines.append("Values for charts aiplat-gen does not deploy (install the chart with "
                     "them): " + ", ".join(f"`{paths.HELM}/{name}/`" for name in extra) + ".\n")
    return lines


def _environment(vp: ValidatedProfile, renders: Mapping[str, FullRender], plan: Plan,
                 files: int) -> str:
    parts = [f"## {vp.name}\n"]
    chain = " -> ".join(reversed(vp.source.chain))
    parts.append(f"`{_folder(vp)}`: {len(renders[vp.name].objects)} objects "
                 f"({chain}; {files} files of its own). ArgoCD: {_deploys(vp)}.\n")
    parts.extend(markdown_table(t, 3) for t in plan_tables(plan))
    notes = [f"- **warning**: {w}" for w in plan.warnings]
    unknown = not_estimated(plan)
    if unknown is not None:
        notes.append(f"- {unknown[0].upper()}{unknown[1:]}.")
    if plan.cost_at_min is not None:
        notes.append(f"- Cost per hour of the priced pools: {plan.cost_at_min:.2f} at min "
                     f"replicas, {plan.cost_at_max:.2f} at max replicas.")
    if notes:
        parts.append("\n".join(notes) + "\n")
    parts.append(markdown_table(_namespaces(vp), 3))
    data = _data(vp)
    if data is not None:
        parts.append(markdown_table(data, 3))
    parts.append(_provided(vp))
    parts.extend(_charts(vp, renders))
    chart = platform_flowchart(vp.profile)
    if chart.count("\n") > 1:  # more than the header: there is something to draw
        parts.append("### Graph\n\nWho talks to whom, with ports (`aiplat-gen graph "
                     f"{vp.name} --all-flows` adds metrics, DNS and cluster-internal flows):"
                     f"\n\n```mermaid\n{chart}```\n")
    return "\n".join(parts)


def _health_patch(deployed: list[ValidatedProfile]) -> str:
    """The `argocd-cm` merge patch that makes the sync waves wait, or that it is in place."""
    missing = [vp.name for vp in deployed if vp.profile.spec.gitops is not None
               and not vp.profile.spec.gitops.application_health_check]
    if not missing:
        return ("The profiles declare that ArgoCD's `argocd-cm` has the `argoproj.io/Application` "
                "health check, so each wave waits for the one before it to be healthy.\n")
    gitops = deployed[0].profile.spec.gitops
    assert gitops is not None
    patch = json.dumps({"data": {APPLICATION_HEALTH_KEY: APPLICATION_HEALTH_LUA}})
    return (f"The sync waves wait for the operators only if ArgoCD's `{ARGOCD_CM}` has the "
            "`argoproj.io/Application` health check, which ArgoCD dropped from its defaults in "
            f"1.8; {', '.join(missing)} do not declare it (`gitops.applicationHealthCheck`), and "
            "`aiplat-gen check` warns. aiplat-gen does not write `argocd-cm` (ArgoCD reads that "
            "one ConfigMap whole and its installation owns it); add the key once with a merge "
            "patch, which keeps every other key, or put the same key in the `configs.cm` values "
            "of ArgoCD's Helm chart. Until then the platform Application still lands: it skips "
            "the dry run of custom resources whose CRDs are missing and retries with backoff "
            "until the operators have installed them.\n\n"
            f"```sh\nkubectl -n {gitops.argocd_namespace} patch configmap {ARGOCD_CM} "
            f"--type merge -p '{patch}'\n```\n")


def _apply(profiles: tuple[ValidatedProfile, ...]) -> str:
    deployed = [vp for vp in profiles if vp.profile.spec.gitops is not None
                and vp.profile.spec.gitops.deploy]
    lines = ["## How to apply\n", "Check the tree first: `aiplat-gen check --all` builds every "
             "overlay with kustomize and validates every object with kubeconform; `aiplat-gen "
             "plan <profile>` shows GPUs, memory fit and cost.\n"]
    if deployed:
        first = deployed[0].profile.spec.gitops
        assert first is not None
        lines.append(f"With ArgoCD ({', '.join(vp.name for vp in deployed)}): commit this "
                     f"folder to `{first.repo_url}` (path `{first.path}`, revision "
                     f"`{first.target_revision}`), then apply each environment's root "
                     "Application once, against the cluster ArgoCD runs in; ArgoCD installs "
                     "the operator charts first (sync waves) and syncs the platform from Git "
                     "after that:\n")
        lines += [_block(vp.name, f"kubectl apply -k {paths.argocd(vp.name)}")
                  for vp in deployed]
        lines.append(_health_patch(deployed))
    lines.append("Without ArgoCD: install the charts listed in the environment's section with "
                 "the Helm commands there, then apply its folder:\n")
    lines += [_block(vp.name, f"kubectl apply -k {_folder(vp).rstrip('/')}") for vp in profiles]
    return "\n".join(lines)


def _block(environment: str, command: str) -> str:
    """One environment's command in a block of its own: one block with every environment would
    read as "run all of these", against one cluster."""
    return f"{environment}:\n\n```sh\n{command}\n```\n"


class Summary:
    """The README target: the page, owned by the root profile, over the profiles of `chosen`
    (whose renders are in the tree) with their plans."""

    def __init__(self, chosen: Family, plans: Mapping[str, Plan]) -> None:
        self.chosen = chosen
        self.plans = plans

    def files(self, unit: Unit) -> dict[str, str]:
        """The page, for the root profile; it counts the files the targets before it laid out."""
        if not unit.is_root:
            return {}
        return {paths.README: readme(self.chosen, unit.tree.renders, self.plans,
                                     Counter(unit.laid_out.values()))}


def readme(chosen: Family, renders: Mapping[str, FullRender], plans: Mapping[str, Plan],
           owned: Mapping[str, int]) -> str:
    """The page for these profiles, their full renders and plans, and the number of output
    files each profile owns."""
    profiles = chosen.profiles
    root = next(vp for vp in profiles if vp.source.parent is None)
    platform = root.profile.spec.platform
    names = ", ".join(vp.name for vp in profiles)
    parts = [f"# {platform.name} {platform.version}: the rendered platform\n",
             f"Rendered by aiplat-gen from the profiles {names}. Do not edit this folder: change "
             "the profiles and run `aiplat-gen render --all`. This page covers every profile "
             "of the profiles folder that validates, whichever were rendered last; paths are "
             "relative to this folder.\n"]
    if chosen.invalid:
        parts.append("Not summarised because they do not validate (run `aiplat-gen validate "
                     "--all`): " + ", ".join(chosen.invalid) + ".\n")
    rows = []
    for vp in profiles:
        plan = plans[vp.name]
        cost = "-" if plan.cost_at_min is None else (
            f"{plan.cost_at_min:.2f}" if plan.cost_at_min == plan.cost_at_max
            else f"{plan.cost_at_min:.2f}-{plan.cost_at_max:.2f}")
        gpus = (sum(m.gpus_at_min for m in plan.models), sum(m.gpus_at_max for m in plan.models))
        rows.append((vp.name, vp.source.parent or "-", f"`{_folder(vp)}`",
                     str(len(renders[vp.name].objects)), str(owned.get(vp.name, 0)),
                     str(len(plan.models)), str(gpus[0]) if gpus[0] == gpus[1]
                     else f"{gpus[0]}-{gpus[1]}", cost, _deploys(vp)))
    columns = (Column("profile"), Column("extends"), Column("folder"),
               Column("objects", "right"), Column("files", "right"), Column("models", "right"),
               Column("GPUs", "right"), Column("cost/h", "right"), Column("ArgoCD"))
    parts.append(markdown_table(Table(
        "Environments", columns, tuple(rows),
        note="objects: the environment's full render; files: the files it owns here; GPUs "
             "and cost/h: at min-max replicas (cost only for pools with pricePerGpuHour)."), 2))
    components = Counter(o.component for o in renders[root.name].objects)
    layout = ", ".join(f"`{name}/` ({count})" for name, count in components.items())
    charts = sorted({c for r in renders.values() for c in r.helm_values})
    parts.append("## Layout\n\n"
                 f"- `base/`: the render of `{root.name}`, one folder per component with its "
                 f"objects: {layout}.\n"
                 "- `overlays/<env>/`: a kustomization on its parent's folder; `resources/` "
                 "holds the objects the parent lacks, `patches/` JSON patches of only what "
                 "differs.\n"
                 "- `helm/<chart>/`: `values.yaml` of the root, `values-<env>.yaml` with only "
                 "what an environment changes"
                 + (": " + ", ".join(f"`{c}`" for c in charts) if charts else "") + ".\n"
                 "- `argocd/<env>/`: the root Application, AppProjects and the Applications of "
                 "an environment with `spec.gitops.deploy`.\n"
                 "- `.aiplat-gen.json`: the files aiplat-gen owns here (it never touches "
                 "others).\n")
    parts.append(_apply(profiles))
    parts.extend(_environment(vp, renders, plans[vp.name], owned.get(vp.name, 0))
                 for vp in profiles)
    return "\n".join(parts)
