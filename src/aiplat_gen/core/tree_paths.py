"""Every path of the rendered tree, relative to the output folder; the one place they are spelled.

    base/                        the root profile's render, one folder per component
    overlays/<env>/              a kustomization on the parent's folder (resources/, patches/)
    helm/<chart>/values.yaml     the root's values; values-<env>.yaml per other profile
    argocd/<env>/                the ArgoCD objects of an environment that deploys with ArgoCD
    README.md                    the summary page
    .aiplat-gen.json             the writer's record of the files it owns

It sits in `core` because the renderers (ArgoCD Applications point at these folders) are below
the output layer; `aiplat_gen.output.tree` re-exports it with the model of the tree.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath

BASE = "base"
OVERLAYS = "overlays"
HELM = "helm"
ARGOCD = "argocd"
README = "README.md"
RECORD = ".aiplat-gen.json"


def overlay(env: str) -> str:
    """The overlay folder of a profile that extends another."""
    return f"{OVERLAYS}/{env}"


def overlay_resources(env: str) -> str:
    """The folder of an overlay's objects that its parent lacks."""
    return f"{overlay(env)}/resources"


def folder(env: str, root: bool) -> str:
    """The Kustomize folder of a profile: `base` for the root, else its overlay."""
    return BASE if root else overlay(env)


def chain_folder(chain: Sequence[str]) -> str:
    """The Kustomize folder of the last profile of an `extends` chain (root first)."""
    return folder(chain[-1], len(chain) == 1)


def relative(start: str, target: str) -> str:
    """`target` as seen from the folder `start` (both relative to the output folder), e.g.
    `../../base` from `overlays/dev`; pure string arithmetic, independent of the current folder."""
    a, b = PurePosixPath(start).parts, PurePosixPath(target).parts
    common = 0
    while common < min(len(a), len(b)) and a[common] == b[common]:
        common += 1
    return "/".join([".."] * (len(a) - common) + list(b[common:]))


def parent_folder(env: str, parent: str, parent_is_root: bool) -> str:
    """The parent's folder as an overlay's kustomization lists it (`../../base`, `../dev`)."""
    return relative(overlay(env), folder(parent, parent_is_root))


def object_sources(chain: Sequence[str]) -> list[str]:
    """The folders whose files define the objects of the last profile of `chain` (root first),
    nearest first: each overlay's `resources/`, then `base`."""
    return [overlay_resources(name) for name in reversed(chain[1:])] + [BASE]


def helm_values(chart: str, env: str, root: bool) -> str:
    """A chart's values file of a profile: `values.yaml` for the root, else `values-<env>.yaml`
    with only what the profile changes."""
    return f"{HELM}/{chart}/values.yaml" if root else f"{HELM}/{chart}/values-{env}.yaml"


def argocd(env: str) -> str:
    """The ArgoCD folder of an environment."""
    return f"{ARGOCD}/{env}"
