"""`aiplat-gen check`: build the rendered tree the way ArgoCD will and validate every object.

For each selected profile the check builds, with kustomize, the folder ArgoCD deploys (`base/` for
the root profile, `overlays/<name>/` for the others) and the profile's `argocd/<name>/` folder.
A failed build or any `# Warning:` line is a finding. Every built object is then validated
against the Kubernetes schemas of the profile's `kubernetesVersion` (prepared offline from the
`kubernetes-validate` package into the cache folder) and the CRD schemas: those shipped with
aiplat-gen (the custom kinds it renders, at the chart versions it pins; `verify.kube.locations`),
after any location given with `--schema-location`: with kubeconform (`-strict`) when it is
installed, else in-process with jsonschema against the same files. A kind without a schema is a
finding, never a skip.

The builds run in parallel (one per core). A build's output is kept in the cache folder and reused
while nothing under the output folder has changed (`aiplat_gen.verify.kube.build_cache`), and
so are the parsed documents (`aiplat_gen.verify.sources`).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiplat_gen.checks.policy.engine import Finding, evaluate
from aiplat_gen.checks.selection import select, validate_many
from aiplat_gen.checks.validate import ValidatedProfile
from aiplat_gen.core import tree_paths as paths
from aiplat_gen.core import yamlio
from aiplat_gen.core.cache import cache_dir, usable_cache_dir
from aiplat_gen.core.errors import UsageError
from aiplat_gen.core.settings import Settings
from aiplat_gen.profile.loader import display_path
from aiplat_gen.verify.kube import kustomize
from aiplat_gen.verify.kube.build_cache import BuildCache
from aiplat_gen.verify.kube.inprocess import InProcessValidator, Result
from aiplat_gen.verify.kube.kubeconform import ToolError, find_tool, run_kubeconform
from aiplat_gen.verify.kube.locations import crd_locations
from aiplat_gen.verify.kube.schemas import kubeconform_schema_locations, prepare_kubernetes_schemas
from aiplat_gen.verify.sources import DocumentParser, Key, Location, SourceIndex, key

IN_PROCESS = "in-process (jsonschema)"
PARSED_STORE = "check-documents.json.z"
"""The file of the cache folder that keeps the last run's parsed documents."""
_KUBECONFORM_PREFIX = re.compile(r"^problem validating schema\. Check JSON formatting: "
                                 r"jsonschema validation failed with '[^']*' - ")


@dataclass(frozen=True)
class CheckOptions:
    """How to check: which output folder, which CRD schemas, which validator."""

    out_dir: Path = Path("output")
    schema_locations: tuple[str, ...] = ()
    kubeconform: str = "auto"
    """`auto` (use kubeconform when found), `none` (in-process), or the binary's path."""
    policy: bool = False
    """Also run the security policy rules (`aiplat_gen.checks.policy`) over the built objects."""
    cache: bool = True
    """Reuse kustomize builds of an unchanged output tree from the cache folder."""


@dataclass(frozen=True)
class ObjectResult:
    """The verdict on one built object, and the file of the output that defines it."""

    kind: str
    name: str
    namespace: str
    api_version: str
    file: str
    line: int
    status: str  # valid | invalid | error
    messages: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """`Kind/namespace/name` (or `Kind/name` when cluster-scoped)."""
        return "/".join(p for p in (self.kind, self.namespace, self.name) if p)


@dataclass(frozen=True)
class TargetResult:
    """One built folder (`overlays/prod`, `argocd/prod`) and its objects."""

    target: str
    profile: str
    kubernetes_version: str
    kustomization: str
    problems: tuple[str, ...]
    objects: tuple[ObjectResult, ...]
    policy: tuple[Finding, ...] = ()
    """Policy findings (with `--policy`), suppressed ones included."""

    @property
    def ok(self) -> bool:
        """True when it built cleanly, every object is valid and no policy rule fails."""
        return (not self.problems and all(o.status == "valid" for o in self.objects)
                and all(f.suppressed is not None for f in self.policy))


@dataclass
class CheckReport:
    """Everything `check` found."""

    validator: str
    targets: list[TargetResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every target is clean (exit 0)."""
        return all(t.ok for t in self.targets)


def check(refs: list[str], all_profiles: bool, settings: Settings,
          options: CheckOptions, step: Callable[[str], None] | None = None) -> CheckReport:
    """Build and validate the rendered output of the selected profiles; `step(what)` is called
    as each build and each validation run starts (for a progress display)."""
    profiles = validate_many(select(refs, all_profiles, settings))
    crds = crd_locations(options.schema_locations)
    binary = _kubeconform(options.kubeconform)
    cache = usable_cache_dir()  # a file or a read-only folder in its place: exit 2, here
    planned = [(vp, target, sources) for vp in profiles for target, sources in _targets(vp)]
    parser = DocumentParser(cache / PARSED_STORE if options.cache else None)
    index = SourceIndex(options.out_dir)
    builds = [_Built(vp, target, options.out_dir, sources, built, parser, index)
              for (vp, target, sources), built
              in zip(planned, _build_all(planned, options, step), strict=True)]
    parser.save()
    in_process = InProcessValidator(cache) if binary is None else None
    for version in sorted({b.version for b in builds}):
        k8s = prepare_kubernetes_schemas(version, cache / "schemas")
        locations = kubeconform_schema_locations(k8s, []) + crds
        batch = [b for b in builds if b.version == version]
        objects = [o for b in batch for o in b.objects]
        if step is not None:
            step(f"validating {len(objects)} objects (Kubernetes {version})")
        if in_process is not None:
            results = [in_process.validate(o, locations, version) for o in objects]
        else:
            assert binary is not None
            # One run per version: kubeconform then compiles each schema once.
            texts = [t for b in batch for t in b.texts]
            results = _kubeconform_verdicts(objects, texts, version, locations, binary)
        start = 0
        for b in batch:
            b.verdicts = results[start:start + len(b.objects)]
            start += len(b.objects)
    report = CheckReport(validator=f"kubeconform ({binary})" if binary else IN_PROCESS)
    for b in builds:
        report.targets.append(TargetResult(
            b.target, b.profile, b.version, b.kustomization, b.problems,
            tuple(_result(o, v, b.index) for o, v in zip(b.objects, b.verdicts, strict=True)),
            tuple(evaluate(b.objects, b.locate)) if options.policy else ()))
    return report


def _build_all(planned: list[tuple[ValidatedProfile, str, list[str]]], options: CheckOptions,
               step: Callable[[str], None] | None) -> Iterator[kustomize.Build]:
    """Every planned build, in order, each as soon as it is done (the caller reads one while
    the next ones build); kustomize runs in parallel, one build per core."""
    if not planned:
        return
    command = kustomize.kustomize_command()
    cache = (BuildCache.open(cache_dir() / "kustomize", options.out_dir, command)
             if options.cache else None)
    workers = min(len(planned), _cores())
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kustomize") as pool:
        futures: list[Future[kustomize.Build]] = [
            pool.submit(_build, options.out_dir, target, command, vp.name, cache)
            for vp, target, _ in planned]
        try:
            for (_, target, _), future in zip(planned, futures, strict=True):
                if step is not None:
                    step(f"kustomize build {target}")
                yield future.result()
        finally:
            for future in futures:
                future.cancel()  # on an error: builds not started yet never start
    if cache is not None:
        cache.prune()


def _cores() -> int:
    """The cores this process may run on (kustomize uses about one per build)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


class _Built:
    """One target folder built with kustomize, with where its objects are defined."""

    def __init__(self, vp: ValidatedProfile, target: str, out: Path, sources: list[str],
                 built: kustomize.Build, parser: DocumentParser, index: SourceIndex) -> None:
        self.profile = vp.name
        self.target = target
        self.version = vp.profile.spec.kubernetes_version
        self.kustomization = display_path(out / target / "kustomization.yaml")
        self.problems = built.problems
        documents = parser.parse(built.text) if built.text else []
        self.objects: list[Any] = [d.obj for d in documents]
        # Each object's YAML text as kustomize printed it ("" when not known).
        self.texts = [d.text for d in documents]
        self.index = index.lookup(sources)
        self.verdicts: list[Result] = []

    def locate(self, obj: dict[str, Any]) -> Location:
        """The output file (and line) that defines a built object."""
        return self.index.get(key(obj), ("", 0))


def _kubeconform(choice: str) -> Path | None:
    if choice == "none":
        return None
    if choice == "auto":
        try:
            return find_tool("kubeconform")
        except ToolError:
            return None
    path = Path(choice)
    if not path.is_file() or not os.access(path, os.X_OK):
        raise UsageError(f"--kubeconform {choice}: not an executable file (or use auto / none)")
    return path


def _targets(vp: ValidatedProfile) -> list[tuple[str, list[str]]]:
    """(folder to build, folders whose files define its objects, nearest first)."""
    chain = vp.source.chain
    targets = [(paths.chain_folder(chain), paths.object_sources(chain))]
    gitops = vp.profile.spec.gitops
    if gitops is not None and gitops.deploy:
        targets.append((paths.argocd(vp.name), [paths.argocd(vp.name)]))
    return targets


def _build(out: Path, target: str, command: list[str], profile: str,
           cache: BuildCache | None) -> kustomize.Build:
    folder = out / target
    if not (folder / "kustomization.yaml").is_file():
        return kustomize.Build("", (f"{display_path(folder)} has no kustomization.yaml: run "
                                    f"`aiplat-gen render {profile}` first",), False)
    entry = cache.key(target) if cache is not None else ""
    if cache is not None and (kept := cache.get(entry)) is not None:
        return kept
    built = kustomize.build(folder, command)
    if cache is not None:
        cache.put(entry, built)
    return built


def _result(obj: Any, verdict: Result, index: dict[Key, Location]) -> ObjectResult:
    found = key(obj) if isinstance(obj, dict) else ("", "", "", "")
    file, line = index.get(found, ("", 0))
    return ObjectResult(found[1], found[3], found[2], found[0], file, line, verdict.status,
                        tuple(verdict.messages))


def _kubeconform_verdicts(objects: list[Any], texts: list[str], version: str,
                          locations: list[str], binary: Path) -> list[Result]:
    """kubeconform's verdict per object. Each distinct object goes in its own file (its text as
    kustomize printed it), so that results map back to objects whatever order kubeconform
    reports them in, and an object built for several targets is validated once."""
    if not objects:
        return []
    with tempfile.TemporaryDirectory(prefix="aiplat-check-") as tmp:
        files: list[Path] = []
        written: dict[str, Path] = {}
        for obj, text in zip(objects, texts, strict=True):
            document = text or yamlio.dump(obj)
            if document not in written:
                written[document] = Path(tmp) / f"{len(written):05d}.yaml"
                written[document].write_text(document, encoding="utf-8")
            files.append(written[document])
        report = run_kubeconform(list(written.values()), version, locations, binary)
    by_file = {Path(r.filename).name: r for r in report.resources}
    verdicts = []
    for path in files:
        found = by_file.get(path.name)
        if found is None:
            verdicts.append(Result("error", ("kubeconform reported nothing for this object",)))
            continue
        status = found.status if found.status in ("valid", "invalid") else "error"
        # The message names the failing field ("at '/spec': additional properties 'x' not
        # allowed"); the structured errors only say "validation failed" for nested fields.
        messages = (_KUBECONFORM_PREFIX.sub("", found.msg),) if found.msg else ()
        verdicts.append(Result(status, messages))
    return verdicts
