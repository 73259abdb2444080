"""`aiplat-gen init`: write starter files into the user's repository, never over existing ones.

`init --ci github --ci-source URL@REF` writes `.github/workflows/aiplat-gen.yml`: on every pull
request and push it installs aiplat-gen from that git repository at that ref (`pip install
"aiplat-gen @ git+URL@REF"`, pip's VCS form: pip.pypa.io "VCS Support"), with kubeconform and
kustomize (by `go install`, which checks the modules against the Go checksum database), runs
`validate --all`, `render --all --check` and `check --all` (with the schemas aiplat-gen ships,
offline), then scans each image the profiles
pin with Trivy. aiplat-gen is not published on PyPI and cannot know where the user keeps it, so
`--ci-source` is required and there is no default: a workflow that installed "aiplat-gen" by name
would fail (or install whatever someone registered under that name). The ref must be a full
commit sha or a release tag, never a branch, so CI runs the tool the user reviewed.

Every action is pinned by commit, its release tag in a comment (checked against the tags of each
repository): actions/checkout v6.1.0, actions/setup-python v6.3.0, actions/setup-go v6.5.0; the
Trivy action v0.35.0, the release outside the March 2026 tag compromise (GHSA-69fq-xp46-6x23),
running Trivy v0.69.3.

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

import json
import re
from dataclasses import dataclass
from pathlib import Path

from aiplat_gen import __version__
from aiplat_gen.core.errors import OutputError, UsageError
from aiplat_gen.render.templating import environment

KUBECONFORM_VERSION = "v0.7.0"
KUSTOMIZE_VERSION = "v5.8.1"
TRIVY_ACTION = "aquasecurity/trivy-action@57a97c7e7821a5776cebc9bb87c984fa69cba8f1  # v0.35.0"
TRIVY_VERSION = "v0.69.3"
# The tags' commits, read from each repository (github.com/actions/<name>, `git rev-parse
# <tag>^{commit}`).
CHECKOUT_ACTION = "actions/checkout@d23441a48e516b6c34aea4fa41551a30e30af803  # v6.1.0"
SETUP_PYTHON_ACTION = "actions/setup-python@ece7cb06caefa5fff74198d8649806c4678c61a1  # v6.3.0"
SETUP_GO_ACTION = "actions/setup-go@924ae3a1cded613372ab5595356fb5720e22ba16  # v6.5.0"
CI_SOURCE_EXAMPLE = "https://github.com/<you>/aiplat-gen@<full commit sha>"
_SHA = re.compile(r"[0-9a-f]{40}")
_TAG = re.compile(r"v?[0-9]+(\.[0-9]+)+([-+][0-9A-Za-z.-]+)?")  # v0.1.0, 1.2.3-rc.1: a dot, so
# never a short sha
# What pip takes after `git+` (https or ssh), in characters that need no quoting in YAML or
# the shell and cannot start a GitHub expression.
_REPO = re.compile(r"(https|ssh)://[A-Za-z0-9._~%+@:/-]+")


@dataclass(frozen=True)
class CiSource:
    """Where CI installs aiplat-gen from: a git repository and a pinned ref in it."""

    repo: str
    ref: str

    @classmethod
    def parse(cls, given: str) -> CiSource:
        """`URL@REF` (`git+` before the URL is optional); refuse, as a usage error, a URL that is
        not https or ssh and a ref that is not a full commit sha or a release tag."""
        text = given.strip().removeprefix("git+")
        repo, at, ref = text.rpartition("@")
        if not at or "/" in ref or ":" in ref:
            raise UsageError(f"--ci-source {given!r}: give the repository and the ref as URL@REF, "
                             f"e.g. {CI_SOURCE_EXAMPLE}")
        if not _REPO.fullmatch(repo):
            raise UsageError(f"--ci-source {given!r}: {repo!r} is not an https:// or ssh:// git "
                             f"URL pip can install from, e.g. {CI_SOURCE_EXAMPLE}")
        if not (_SHA.fullmatch(ref) or _TAG.fullmatch(ref)):
            raise UsageError(f"--ci-source {given!r}: ref {ref!r} is neither a full (40 hex "
                             "digits) commit sha nor a release tag such as v0.1.0; a branch or a "
                             "short sha can move, so CI would run code nobody reviewed")
        return cls(repo, ref)

CI_FILES = {"github": {".github/workflows/aiplat-gen.yml": "ci/github-workflow.yml.j2"}}


EXAMPLES = ("minimal", "full")
DEFAULT_EXAMPLE = "minimal"
"""What a bare `aiplat-gen init` scaffolds."""
EXAMPLE_PROFILES = ("base", "dev", "prod")
SCHEMA_FILE = "schema/profile.schema.json"
PROFILES_DIR = "profiles"


def ci_files(provider: str, source: CiSource, templates_dir: Path | None = None
             ) -> dict[str, str]:
    """The CI files for `provider`, installing aiplat-gen from `source`, by path relative to the
    repository."""
    if provider not in CI_FILES:
        raise UsageError(f"unknown CI provider {provider!r} (known: {', '.join(CI_FILES)})")
    view = {
        "aiplat_gen_version": __version__, "kubeconform_version": KUBECONFORM_VERSION,
        "kustomize_version": KUSTOMIZE_VERSION, "trivy_action": TRIVY_ACTION,
        "trivy_version": TRIVY_VERSION, "checkout_action": CHECKOUT_ACTION,
        "setup_python_action": SETUP_PYTHON_ACTION, "setup_go_action": SETUP_GO_ACTION,
        # JSON strings are YAML double-quoted scalars; the characters are already restricted.
        "aiplat_gen_repo": json.dumps(source.repo), "aiplat_gen_ref": json.dumps(source.ref),
    }
    return {rel: environment(templates_dir).get_template(template).render(**view)
            for rel, template in CI_FILES[provider].items()}


def example_files(example: str, templates_dir: Path | None = None) -> dict[str, str]:
    """The example profiles (`profiles/{base,dev,prod}.yaml`) and the schema they point at."""
    from aiplat_gen.platform.facts.images import pinned
    from aiplat_gen.profile.jsonschema import schema_text

    if example not in EXAMPLES:
        raise UsageError(f"unknown example {example!r} (known: {', '.join(EXAMPLES)})")
    view = {"schema": f"../{SCHEMA_FILE}", "vllm_image": pinned("vllm"),
            "triton_image": pinned("triton"), "weaviate_image": pinned("weaviate"),
            "cnpg_image": pinned("cloudnative-pg"), "redis_image": pinned("redis")}
    env = environment(templates_dir)
    files = {f"{PROFILES_DIR}/{name}.yaml":
             env.get_template(f"scaffold/{example}/{name}.yaml.j2").render(**view)
             for name in EXAMPLE_PROFILES}
    files[SCHEMA_FILE] = schema_text()
    return files


def init(folder: Path, ci: str | None = None, example: str | None = None,
         templates_dir: Path | None = None, ci_source: str | None = None) -> list[Path]:
    """Write the example profiles and/or CI files (installing aiplat-gen from `ci_source`,
    `URL@REF`) into `folder`; refuse, writing nothing, when the profiles folder already holds
    profiles or any of the files exists."""
    source = _ci_source(ci, ci_source)
    files: dict[str, str] = {}
    if example is not None:
        profiles = folder / PROFILES_DIR
        found = sorted(p.name for p in profiles.glob("*.y*ml")) if profiles.is_dir() else []
        if found:
            raise OutputError(f"refusing to scaffold: {profiles} already holds profiles ("
                              + ", ".join(found) + "); run init in a repository without them")
        files.update(example_files(example, templates_dir))
    if ci is not None and source is not None:
        files.update(ci_files(ci, source, templates_dir))
    return _write_new({folder / rel: text for rel, text in files.items()})


def _ci_source(ci: str | None, given: str | None) -> CiSource | None:
    """The parsed `--ci-source`: required with `--ci`, refused without it."""
    if ci is None:
        if given is not None:
            raise UsageError("--ci-source goes with --ci github")
        return None
    if given is None:
        raise UsageError("--ci github needs --ci-source URL@REF: aiplat-gen is not published on "
                         "PyPI, so CI installs it from a git repository you control, pinned to a "
                         f"full commit sha or a release tag (e.g. --ci-source {CI_SOURCE_EXAMPLE})")
    return CiSource.parse(given)


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
