"""The container images the profiles pin: what CI scans for vulnerabilities before deployment.

Every field of a rendered object that names an image to pull: the `image` of a container, init
container or ephemeral container anywhere (Deployments, StatefulSets, Jobs, and custom resources
that embed containers, such as KServe serving runtimes), the `reference` of an image volume, and
the custom resources' own image fields (`IMAGE_FIELDS`: a CloudNativePG Cluster's `imageName`, a
KServe predictor's `image`, ...). Images that operator charts choose themselves are not listed:
they are pinned by the chart version.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

from aiplat_gen.checks.selection import select, validate_many
from aiplat_gen.core.settings import Settings
from aiplat_gen.render.components.base import RenderContext
from aiplat_gen.render.pipeline import render_full

CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
"""Lists of core/v1 `Container`s (or `EphemeralContainer`s), wherever they are embedded; each
item's `image` is pulled."""

IMAGE_VOLUME = "reference"
"""core/v1 `ImageVolumeSource.reference` (a pod's `volumes[].image.reference`): "Image or artifact
reference to be used. Behaves in the same way as pod.spec.containers[*].image" (Kubernetes API
reference, v1.33+)."""

_KSERVE_PREDICTORS = ("huggingface", "lightgbm", "model", "onnx", "paddle", "pmml", "pytorch",
                      "sklearn", "tensorflow", "triton", "xgboost")

IMAGE_FIELDS: Mapping[tuple[str, str], tuple[str, ...]] = MappingProxyType({
    # Every string property named `image` or `imageName` in the CRD schemas (../shared/crds,
    # SOURCES.md), outside container lists, status, and `volumes[].rbd.image` (a Ceph RBD image
    # name, not a container image). A path's `[]` steps into every item of a list.
    # cloudnative-pg v1.28.4 config/crd/bases/postgresql.cnpg.io_clusters.yaml
    ("postgresql.cnpg.io", "Cluster"): ("spec.imageName",),
    # kserve v0.20.0 config/crd/full/serving.kserve.io_inferenceservices.yaml
    ("serving.kserve.io", "InferenceService"): (
        *(f"spec.predictor.{p}.image" for p in _KSERVE_PREDICTORS),
        *(f"spec.canary[].predictor.{p}.image" for p in _KSERVE_PREDICTORS),
        "spec.explainer.art.image"),
    # prometheus-operator v0.89.0 example/prometheus-operator-crd/monitoring.coreos.com_*.yaml
    ("monitoring.coreos.com", "Prometheus"): ("spec.image", "spec.thanos.image"),
    ("monitoring.coreos.com", "Alertmanager"): ("spec.image",),
    # envoyproxy/gateway v1.9.0 gateway.envoyproxy.io_envoyproxies.yaml
    ("gateway.envoyproxy.io", "EnvoyProxy"): (
        "spec.provider.kubernetes.envoyDeployment.container.image",
        "spec.provider.kubernetes.envoyDaemonSet.container.image"),
})
"""Image fields of custom resources, by (API group, kind), other than container lists."""

NAME_ONLY_IMAGE_KINDS = frozenset({("nvidia.com", "ClusterPolicy"), ("nvidia.com", "NVIDIADriver")})
"""Kinds whose `image` fields hold only a name (pattern `[a-zA-Z0-9\\-]+`, with `repository`
and `version` beside it; NVIDIA/gpu-operator v26.7.0 deployments/gpu-operator/crds). aiplat-gen
renders neither: the GPU operator's chart creates its ClusterPolicy with the chart's images."""


def pinned_images(refs: list[str], all_profiles: bool, settings: Settings) -> list[str]:
    """Sorted, unique images that the objects the selected profiles render pull."""
    images: set[str] = set()
    for vp in validate_many(select(refs, all_profiles, settings)):
        for item in render_full(RenderContext(vp.profile, settings.templates_dir)).objects:
            images |= object_images(item.obj)
    return sorted(images)


def object_images(obj: Any) -> set[str]:
    """Every image one Kubernetes object (or any YAML document) names: its containers' and
    image volumes', and its kind's own image fields."""
    if not isinstance(obj, Mapping):
        return images_in(obj)
    api_version = obj.get("apiVersion")
    group = api_version.rpartition("/")[0] if isinstance(api_version, str) else ""
    found = images_in(obj)
    for path in IMAGE_FIELDS.get((group, str(obj.get("kind", ""))), ()):
        found |= {v for v in _at(obj, path.split(".")) if isinstance(v, str)}
    return found


def _at(node: Any, steps: list[str]) -> Iterator[Any]:
    """The values at a dotted path (`name[]` visits every item of the list `name`)."""
    if not steps:
        yield node
        return
    step, rest = steps[0], steps[1:]
    if not isinstance(node, Mapping):
        return
    if step.endswith("[]"):
        items = node.get(step[:-2])
        for item in items if isinstance(items, list) else ():
            yield from _at(item, rest)
    elif step in node:
        yield from _at(node[step], rest)


def images_in(node: Any) -> set[str]:
    """Images of the containers and image volumes anywhere inside one object."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key in CONTAINER_LISTS and isinstance(value, list):
                found |= {c["image"] for c in value
                          if isinstance(c, dict) and isinstance(c.get("image"), str)}
            elif key == "volumes" and isinstance(value, list):
                found |= {v["image"][IMAGE_VOLUME] for v in value
                          if isinstance(v, dict) and isinstance(v.get("image"), dict)
                          and isinstance(v["image"].get(IMAGE_VOLUME), str)}
            found |= images_in(value)
    elif isinstance(node, list):
        for item in node:
            found |= images_in(item)
    return found
