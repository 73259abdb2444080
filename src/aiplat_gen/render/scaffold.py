"""`aiplat-gen init`: write starter files into the user's repository, never over existing ones.

`init --ci github` writes `.github/workflows/aiplat-gen.yml`: on every pull request and push it
installs aiplat-gen (this version) with kubeconform and kustomize (by `go install`, which checks
the modules against the Go checksum database), runs `validate --all`, `render --all --check` and
`check --all` (CRD schemas from the CRDs catalog), then scans each image the profiles pin with
Trivy. The Trivy action is pinned by commit: v0.35.0, the release outside the March 2026 tag
compromise (GHSA-69fq-xp46-6x23), running Trivy v0.69.3.

`init --example minimal|full` writes `profiles/base.yaml` with `dev` and `prod` overlays that
extend it, and `schema/profile.schema.json` (the profile's JSON Schema, which the profiles' first
line points editors at; refresh it with `aiplat-gen schema --out schema/profile.schema.json`
after upgrading). `minimal` is one vLLM model on an L4 pool; `full` adds Karpenter pools, KEDA
autoscaling, observability, Weaviate, pgvector, a Redis cache, secrets synced by External
Secrets, ArgoCD and GPU prices. Both render and pass `aiplat-gen check` as written; the model
weights' `sha256` is a placeholder to replace before deploying. `init` refuses, writing nothing,
when the profiles folder already holds a profile or any file it would write exists.
"""

from __future__ import annotations

from pathlib import Path

from aiplat_gen import __version__
from aiplat_gen.core.errors import OutputError, UsageError
from aiplat_gen.render.templating import environment

KUBECONFORM_VERSION = "v0.7.0"
KUSTOMIZE_VERSION = "v5.8.1"
TRIVY_ACTION = "aquasecurity/trivy-action@57a97c7e7821a5776cebc9bb87c984fa69cba8f1  # v0.35.0"
TRIVY_VERSION = "v0.69.3"
CRD_CATALOG = "https://raw.githubusercontent.com/datreeio/CRDs-catalog/main"

CI_FILES = {"github": {".github/workflows/aiplat-gen.yml": "ci/github-workflow.yml.j2"}}


EXAMPLES = ("minimal", "full")
DEFAULT_EXAMPLE = "minimal"
"""What a bare `aiplat-gen init` scaffolds."""
EXAMPLE_PROFILES = ("base", "dev", "prod")
SCHEMA_FILE = "schema/profile.schema.json"
PROFILES_DIR = "profiles"


def ci_files(provider: str, templates_dir: Path | None = None) -> dict[str, str]:
    """The CI files for `provider`, by path relative to the repository."""
    if provider not in CI_FILES:
        raise UsageError(f"unknown CI provider {provider!r} (known: {', '.join(CI_FILES)})")
    view = {
        "aiplat_gen_version": __version__, "kubeconform_version": KUBECONFORM_VERSION,
        "kustomize_version": KUSTOMIZE_VERSION, "trivy_action": TRIVY_ACTION,
        "trivy_version": TRIVY_VERSION, "crd_schemas": CRD_CATALOG,
    }
    return {rel: environment(templates_dir).get_template(template).render(**view)
            for rel, template in CI_FILES[provider].items()}


def example_files(example: str, templates_dir: Path | None = None) -> dict[str, str]:
    """The example profiles (`profiles/{base,dev,prod}.yaml`) and the schema they point at."""
    from aiplat_gen.profile.jsonschema import schema_text
    from aiplat_gen.render.components.serving_common import DEFAULT_TRITON_IMAGE, DEFAULT_VLLM_IMAGE

    if example not in EXAMPLES:
        raise UsageError(f"unknown example {example!r} (known: {', '.join(EXAMPLES)})")
    view = {"schema": f"../{SCHEMA_FILE}", "vllm_image": DEFAULT_VLLM_IMAGE,
            "triton_image": DEFAULT_TRITON_IMAGE}
    env = environment(templates_dir)
    files = {f"{PROFILES_DIR}/{name}.yaml":
             env.get_template(f"scaffold/{example}/{name}.yaml.j2").render(**view)
             for name in EXAMPLE_PROFILES}
    files[SCHEMA_FILE] = schema_text()
    return files


def init(folder: Path, ci: str | None = None, example: str | None = None,
         templates_dir: Path | None = None) -> list[Path]:
    """Write the example profiles and/or CI files into `folder`; refuse, writing nothing, when
    the profiles folder already holds profiles or any of the files exists."""
    files: dict[str, str] = {}
    if example is not None:
        profiles = folder / PROFILES_DIR
        found = sorted(p.name for p in profiles.glob("*.y*ml")) if profiles.is_dir() else []
        if found:
            raise OutputError(f"refusing to scaffold: {profiles} already holds profiles ("
                              + ", ".join(found) + "); run init in a repository without them")
        files.update(example_files(example, templates_dir))
    if ci is not None:
        files.update(ci_files(ci, templates_dir))
    return _write_new({folder / rel: text for rel, text in files.items()})


def init_ci(provider: str, folder: Path, templates_dir: Path | None = None) -> list[Path]:
    """Write the CI files for `provider` into `folder`; refuse (writing nothing) if any exists."""
    return init(folder, ci=provider, templates_dir=templates_dir)


def _write_new(files: dict[Path, str]) -> list[Path]:
    """Create every file (and its folders); refuse, creating nothing, if any of them exists."""
    existing = [str(path) for path in files if path.exists() or path.is_symlink()]
    if existing:
        raise OutputError("refusing to overwrite " + ", ".join(existing)
                          + " (move it away to write a fresh one)")
    blocked = sorted({str(parent) for path in files for parent in path.parents
                      if parent.exists() and not parent.is_dir()})
    if blocked:
        raise OutputError("cannot create files under " + ", ".join(blocked)
                          + ": not a folder")
    for path, text in files.items():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("x", encoding="utf-8") as handle:  # "x": never replace a file
                handle.write(text)
        except FileExistsError:
            raise OutputError(f"refusing to overwrite {path}") from None
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {exc.strerror}") from None
    return list(files)
