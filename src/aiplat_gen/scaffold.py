"""`aiplat-gen init`: write starter files into the user's repository, never over existing ones.

`init --ci github` writes `.github/workflows/aiplat-gen.yml`: on every pull request and push it
installs aiplat-gen (this version) with kubeconform and kustomize (by `go install`, which checks
the modules against the Go checksum database), runs `validate --all`, `render --all --check` and
`check --all` (CRD schemas from the CRDs catalog), then scans each image the profiles pin with
Trivy. The Trivy action is pinned by commit: v0.35.0, the release outside the March 2026 tag
compromise (GHSA-69fq-xp46-6x23), running Trivy v0.69.3.
"""

from __future__ import annotations

from pathlib import Path

from aiplat_gen import __version__
from aiplat_gen.errors import OutputError, UsageError
from aiplat_gen.templating import environment

KUBECONFORM_VERSION = "v0.7.0"
KUSTOMIZE_VERSION = "v5.8.1"
TRIVY_ACTION = "aquasecurity/trivy-action@57a97c7e7821a5776cebc9bb87c984fa69cba8f1  # v0.35.0"
TRIVY_VERSION = "v0.69.3"
CRD_CATALOG = "https://raw.githubusercontent.com/datreeio/CRDs-catalog/main"

CI_FILES = {"github": {".github/workflows/aiplat-gen.yml": "ci/github-workflow.yml.j2"}}


def init_ci(provider: str, folder: Path, templates_dir: Path | None = None) -> list[Path]:
    """Write the CI files for `provider` into `folder`; refuse (writing nothing) if any exists."""
    if provider not in CI_FILES:
        raise UsageError(f"unknown CI provider {provider!r} (known: {', '.join(CI_FILES)})")
    view = {
        "aiplat_gen_version": __version__, "kubeconform_version": KUBECONFORM_VERSION,
        "kustomize_version": KUSTOMIZE_VERSION, "trivy_action": TRIVY_ACTION,
        "trivy_version": TRIVY_VERSION, "crd_schemas": CRD_CATALOG,
    }
    files = {folder / rel: environment(templates_dir).get_template(template).render(**view)
             for rel, template in CI_FILES[provider].items()}
    existing = [str(path) for path in files if path.exists() or path.is_symlink()]
    if existing:
        raise OutputError("refusing to overwrite " + ", ".join(existing)
                          + " (move it away to write a fresh one)")
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
