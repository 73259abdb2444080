"""The `aiplat-gen` command line: parse options, call one core function, map errors to exit
codes."""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from aiplat_gen import __version__
from aiplat_gen.core.errors import AiplatError, DriftError, ExitCode, Severity

app = typer.Typer(
    name="aiplat-gen",
    help="Validate a platform profile and render the GitOps tree of an LLM inference platform.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

T = TypeVar("T")

ProfilesOpt = Annotated[Path, typer.Option("--profiles-dir", help="Folder of profiles.")]
AllOpt = Annotated[bool, typer.Option("--all", help="Every profile in the profiles folder.")]
RefsArg = Annotated[list[str] | None, typer.Argument(
    help="Profile names (profiles/<name>.yaml) or paths.", show_default=False)]
FormatOpt = Annotated[str | None, typer.Option(
    "--format", help="Diagnostics as text, json or github (default: github inside GitHub "
    "Actions, else text).")]


def _run(action: Callable[[], T], fmt: str | None = None) -> T:
    """Run a core call; turn every failure into a message and an exit code, never a traceback."""
    from aiplat_gen.reports.diagnostics import default_format, format_diagnostics

    try:
        return action()
    except DriftError as exc:
        typer.echo(f"aiplat-gen: {exc.message}; stale:", err=True)
        for path in exc.stale:
            typer.echo(f"  {path}", err=True)
        typer.echo("run `aiplat-gen render --all` and commit the result", err=True)
        from aiplat_gen.output.writer import EDITED_MARK

        if any(path.endswith(EDITED_MARK) for path in exc.stale):
            typer.echo("(an edited file is refused: carry the edit into the profile or a "
                       "--templates-dir override, or add --force to discard it)", err=True)
        raise typer.Exit(ExitCode.DRIFT) from None
    except AiplatError as exc:
        if exc.diagnostics:
            sys.stderr.write(format_diagnostics(exc.diagnostics, fmt or default_format()))
            errors = sum(d.severity is Severity.ERROR for d in exc.diagnostics)
            typer.echo(f"aiplat-gen: {errors} error(s); nothing was written", err=True)
        else:
            typer.echo(f"aiplat-gen: {exc.message}", err=True)
        raise typer.Exit(exc.exit_code) from None
    except typer.Exit:
        raise
    except KeyboardInterrupt:
        typer.echo("aiplat-gen: interrupted", err=True)
        raise typer.Exit(130) from None
    except Exception as exc:  # noqa: BLE001 - the one place that turns bugs into exit 4
        import tempfile  # here, not at the top: every run would pay for it
        import traceback

        with tempfile.NamedTemporaryFile("w", prefix="aiplat-gen-", suffix=".log",
                                         delete=False) as log:
            traceback.print_exc(file=log)
        typer.echo(f"aiplat-gen: internal error: {type(exc).__name__}: {exc} "
                   f"(traceback in {log.name})", err=True)
        raise typer.Exit(ExitCode.INTERNAL) from None


def _with_progress(label: str, action: Callable[[Callable[[str], None]], T]
                   ) -> Callable[[], T]:
    """`action(step)` under a progress display on stderr (terminals only, after a moment); the
    display is gone before any message is printed."""
    from aiplat_gen.reports.console import progress

    def run() -> T:
        with progress(label, None) as step:
            return action(step)

    return run


def _version(value: bool) -> None:
    if value:
        typer.echo(f"aiplat-gen {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Validate a platform profile and render the GitOps tree of an LLM inference platform."""


@app.command()
def validate(
    refs: RefsArg = None,
    all_profiles: AllOpt = False,
    profiles_dir: ProfilesOpt = Path("profiles"),
    fmt: FormatOpt = None,
) -> None:
    """Check profiles (schema and cross-layer facts) without rendering. Exit 1 if invalid."""
    from aiplat_gen.commands import validate as verb
    from aiplat_gen.core.settings import Settings
    from aiplat_gen.reports.diagnostics import default_format, format_diagnostics

    chosen = _choice(fmt or default_format(), verb.FORMATS, "--format")
    request = verb.ValidateRequest(refs or [], all_profiles, Settings(profiles_dir=profiles_dir))
    result = _run(lambda: verb.validate(request), chosen)
    if result.warnings:
        sys.stderr.write(format_diagnostics(result.warnings, chosen))
    verb.REPORTERS[chosen](result, sys.stdout)


@app.command()
def render(
    refs: RefsArg = None,
    all_profiles: AllOpt = False,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("output"),
    check: Annotated[bool, typer.Option(
        "--check", help="Write nothing; exit 3 if the output folder is stale.")] = False,
    diff: Annotated[bool, typer.Option(
        "--diff", help="Write nothing; print a unified diff of what would change; exit 1 if "
        "anything would.")] = False,
    force: Annotated[bool, typer.Option(
        "--force", help="Overwrite or remove files in the output folder that were edited "
        "since aiplat-gen wrote them (without it, the render refuses and names them). Files "
        "aiplat-gen did not write are never touched.")] = False,
    profiles_dir: ProfilesOpt = Path("profiles"),
    templates_dir: Annotated[Path | None, typer.Option(
        "--templates-dir", help="Folder of templates that override the built-in ones.")] = None,
    fmt: FormatOpt = None,
) -> None:
    """Render profiles (with the profiles they extend) into the output folder."""
    from aiplat_gen.commands import render as verb
    from aiplat_gen.core.settings import Settings
    from aiplat_gen.reports.diagnostics import default_format, format_diagnostics

    if fmt is not None:
        _choice(fmt, verb.FORMATS, "--format")
    settings = Settings(profiles_dir=profiles_dir, out_dir=out, templates_dir=templates_dir)
    request = verb.RenderRequest(refs or [], all_profiles, settings, check, diff, force)
    result = _run(_with_progress("rendering", lambda step: verb.render(request, step)), fmt)
    if result.warnings:
        sys.stderr.write(format_diagnostics(result.warnings, fmt or default_format()))
    typer.echo(verb.report(request, result), nl=False)
    for line in verb.warnings(result):
        typer.echo(line, err=True)
    if diff and result.diff:  # like `git diff --exit-code`: 1 when there are differences
        raise typer.Exit(ExitCode.INVALID)


@app.command()
def schema(
    out: Annotated[Path | None, typer.Option(
        "--out", help="Write the schema to this file instead of printing it (a new file, or "
        "one holding an aiplat-gen profile schema; never through a symlink).")] = None,
) -> None:
    """Print the JSON Schema of a platform profile (for editors and CI)."""
    if out is None:
        from aiplat_gen.profile.jsonschema import schema_text

        typer.echo(schema_text(), nl=False)
        return
    from aiplat_gen.commands.schema import write_schema

    _run(lambda: write_schema(out))
    typer.echo(f"wrote {out}")


@app.command()
def explain(
    path: Annotated[str, typer.Argument(help="Dotted profile path, e.g. spec.nodePools.gpu.")],
) -> None:
    """Describe a profile field: its documentation, type, allowed values, default, examples,
    known values and the keys below it."""
    from aiplat_gen.commands.explain import explain as describe

    typer.echo(_run(lambda: describe(path)), nl=False)


def _choice(value: str, choices: tuple[str, ...], option: str) -> str:
    """Refuse an option value outside its choices (exit 2); every verb's `--format` is checked
    here against its command's table (`FORMATS`, the keys of its `REPORTERS`)."""
    if value not in choices:
        from aiplat_gen.core.errors import capped

        typer.echo(f"aiplat-gen: {option} must be one of: {', '.join(choices)} "
                   f"(got {capped(value)!r})", err=True)
        raise typer.Exit(ExitCode.USAGE)
    return value


@app.command()
def check(
    refs: RefsArg = None,
    all_profiles: AllOpt = False,
    out: Annotated[Path, typer.Option("--out", help="The rendered output folder.")] = Path(
        "output"),
    profiles_dir: ProfilesOpt = Path("profiles"),
    schema_location: Annotated[list[str] | None, typer.Option(
        "--schema-location", help="CRD schemas: a folder or URL in the CRDs-catalog layout "
        "(<group>/<kind>_<version>.json) or a kubeconform template. Repeatable.")] = None,
    kubeconform: Annotated[str, typer.Option(
        "--kubeconform", help="kubeconform binary: auto (use it when installed), none "
        "(validate in-process) or a path.")] = "auto",
    policy: Annotated[bool, typer.Option(
        "--policy", help="Also run the security policy rules (privilege, probes, resources, "
        "images, network policy coverage, ...); declared exceptions are honoured.")] = False,
    fmt: Annotated[str | None, typer.Option(
        "--format", help="text, json, junit or github (default: github inside GitHub Actions, "
        "else text).")] = None,
    cache: Annotated[bool, typer.Option(
        "--cache/--no-cache", help="Reuse the kustomize builds and parsed documents kept from "
        "the last check while nothing under --out has changed.")] = True,
    cluster: Annotated[bool, typer.Option(
        "--cluster", help="Instead: a server-side dry run of every rendered object against "
        "the cluster of your kubeconfig ($KUBECONFIG or ~/.kube/config).")] = False,
    context: Annotated[str | None, typer.Option(
        "--context", help="With --cluster: the kubeconfig context (default: current).")
    ] = None,
) -> None:
    """Build each rendered overlay with kustomize and validate every object against the
    Kubernetes and CRD schemas. Exit 1 on any finding, a missing schema included. With
    --cluster, dry-run every object on your cluster instead (exit 1 on a refusal)."""
    from aiplat_gen.commands import check as verb
    from aiplat_gen.core.settings import Settings
    from aiplat_gen.reports.diagnostics import default_format
    from aiplat_gen.verify.check import CheckOptions

    settings = Settings(profiles_dir=profiles_dir, out_dir=out)
    if cluster:
        on_cluster = verb.ClusterCheckRequest(refs or [], all_profiles, settings, context)
        found = _run(_with_progress("dry run", lambda step: verb.check_on_cluster(
            on_cluster, step)))
        verb.CLUSTER_REPORTER(found, sys.stdout)
        raise typer.Exit(ExitCode.OK if found.ok else ExitCode.INVALID)
    if context is not None:
        typer.echo("aiplat-gen: --context goes with --cluster", err=True)
        raise typer.Exit(ExitCode.USAGE)
    fmt = _choice(fmt or default_format(), verb.FORMATS, "--format")
    options = CheckOptions(out, tuple(schema_location or ()), kubeconform, policy, cache)
    request = verb.CheckRequest(refs or [], all_profiles, settings, options)
    report = _run(_with_progress("checking", lambda step: verb.check(request, step)), fmt)
    verb.REPORTERS[fmt](report, sys.stdout)
    raise typer.Exit(ExitCode.OK if report.ok else ExitCode.INVALID)


@app.command()
def simulate(
    refs: RefsArg = None,
    all_profiles: AllOpt = False,
    out: Annotated[Path, typer.Option("--out", help="The rendered output folder.")] = Path(
        "output"),
    profiles_dir: ProfilesOpt = Path("profiles"),
    crds: Annotated[Path | None, typer.Option(
        "--crds", envvar="AIPLAT_GEN_CRDS", help="Folder of CustomResourceDefinitions as "
        "<group>/<plural>.yaml (the CRDs of the charts the tree uses).")] = None,
    k8s_bin: Annotated[Path | None, typer.Option(
        "--k8s-bin", help="Folder with etcd, kube-apiserver, kube-controller-manager and "
        "kube-scheduler (default: $AIPLAT_TOOLS/bin, .tools/bin, PATH).")] = None,
    keep: Annotated[bool, typer.Option(
        "--keep", help="Keep the control plane's folder (logs, etcd data).")] = False,
    fmt: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
) -> None:
    """Apply each rendered environment to a fresh local control plane (etcd, kube-apiserver,
    controllers, scheduler; nodes made from the profile's pools): every object accepted, every
    pod admitted and bound at min and max replicas, the scheduler in agreement with `plan`.
    Exit 1 on a refusal or an unscheduled pod."""
    from aiplat_gen.commands import simulate as verb
    from aiplat_gen.core.settings import Settings
    from aiplat_gen.verify.simulate import SimulateOptions

    fmt = _choice(fmt, verb.FORMATS, "--format")
    settings = Settings(profiles_dir=profiles_dir, out_dir=out)
    request = verb.SimulateRequest(refs or [], all_profiles, settings,
                                   SimulateOptions(out, crds, k8s_bin, keep))
    report = _run(_with_progress("simulating", lambda step: verb.simulate(request, step)))
    verb.REPORTERS[fmt](report, sys.stdout)
    raise typer.Exit(ExitCode.OK if report.ok else ExitCode.INVALID)


@app.command()
def images(
    refs: RefsArg = None,
    all_profiles: AllOpt = False,
    profiles_dir: ProfilesOpt = Path("profiles"),
    fmt: Annotated[str, typer.Option("--format", help="text (one per line) or json.")] = "text",
) -> None:
    """List the container images the profiles pin (what CI scans for vulnerabilities)."""
    from aiplat_gen.commands import images as verb
    from aiplat_gen.core.settings import Settings

    fmt = _choice(fmt, verb.FORMATS, "--format")
    request = verb.ImagesRequest(refs or [], all_profiles, Settings(profiles_dir=profiles_dir))
    found = _run(lambda: verb.images(request))
    verb.REPORTERS[fmt](found, sys.stdout)


@app.command()
def plan(
    ref: Annotated[str, typer.Argument(help="Profile name (profiles/<name>.yaml) or path.")],
    profiles_dir: ProfilesOpt = Path("profiles"),
    fmt: Annotated[str, typer.Option(
        "--format", help="text (a table; plain when not a terminal), json or markdown.")
    ] = "text",
) -> None:
    """GPUs at min and max replicas per model, namespace and node pool, against quotas and what
    the pools offer; memory fit per model; cost per hour with prices; scheduling warnings."""
    from aiplat_gen.commands import plan as verb
    from aiplat_gen.core.settings import Settings
    from aiplat_gen.reports.diagnostics import default_format, format_diagnostics

    fmt = _choice(fmt, verb.FORMATS, "--format")
    request = verb.PlanRequest(ref, Settings(profiles_dir=profiles_dir))
    result = _run(lambda: verb.plan(request))
    if result.warnings:
        sys.stderr.write(format_diagnostics(result.warnings, default_format()))
    verb.REPORTERS[fmt](result, sys.stdout)


@app.command()
def graph(
    ref: Annotated[str, typer.Argument(help="Profile name (profiles/<name>.yaml) or path.")],
    profiles_dir: ProfilesOpt = Path("profiles"),
    all_flows: Annotated[bool, typer.Option(
        "--all-flows", help="Also show metrics scraping, DNS, store peers, operators and the "
        "Kubernetes API.")] = False,
) -> None:
    """The platform graph (gateway -> models -> data services, with ports) as a Mermaid
    flowchart."""
    from aiplat_gen.commands import graph as verb
    from aiplat_gen.core.settings import Settings

    request = verb.GraphRequest(ref, Settings(profiles_dir=profiles_dir), all_flows)
    typer.echo(_run(lambda: verb.graph(request)), nl=False)


@app.command()
def init(
    example: Annotated[str | None, typer.Option(
        "--example", help="Scaffold profiles/ (base, dev, prod) from an example: minimal or "
        "full (with neither option: minimal).")] = None,
    ci: Annotated[str | None, typer.Option(
        "--ci", help="Write a CI workflow for this provider (github) into the current folder.")
    ] = None,
    ci_source: Annotated[str | None, typer.Option(
        "--ci-source", help="With --ci: the git repository and ref CI installs aiplat-gen from, "
        "as URL@REF, the ref a full commit sha or a release tag (aiplat-gen is not on PyPI).")
    ] = None,
) -> None:
    """Write starter files into the current folder (with no option: the minimal example);
    never overwrites a file."""
    from aiplat_gen.commands import init as verb
    from aiplat_gen.render import scaffold

    if ci is None and example is None:
        example = scaffold.DEFAULT_EXAMPLE
    if example is not None:
        _choice(example, scaffold.EXAMPLES, "--example")
    if ci is not None:
        _choice(ci, tuple(scaffold.CI_FILES), "--ci")
    request = verb.InitRequest(Path.cwd(), ci=ci, example=example, ci_source=ci_source)
    typer.echo(verb.report(_run(lambda: verb.init(request))), nl=False)


def main() -> None:
    """Console-script entry point."""
    # One short run: reference counting frees what a render drops, and the cycle collector's
    # full passes over the growing heap (objects that all live until the tree is written) found
    # no garbage yet cost over a tenth of a large render. Young objects are still collected.
    gc.set_threshold(*gc.get_threshold()[:2], 1_000_000)
    app()
