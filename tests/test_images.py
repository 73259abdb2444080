"""`aiplat-gen images` lists every image the rendered objects pull, whatever field names it: the
examples, the `init` scaffolds and the golden trees, against an independent walk of the rendered
files; and the table of custom-resource image fields against the CRD schemas."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import Result

from aiplat_gen.core.settings import Settings
from aiplat_gen.render.scaffold import EXAMPLES, example_files
from aiplat_gen.verify.check.images import (
    CONTAINER_LISTS,
    IMAGE_FIELDS,
    NAME_ONLY_IMAGE_KINDS,
    object_images,
    pinned_images,
)
from conftest import REPO

IMAGE_KEYS = ("image", "imageName")
CNPG_IMAGE = "ghcr.io/cloudnative-pg/postgresql:"


def _strings_at_image_keys(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in IMAGE_KEYS and isinstance(value, str):
                yield value
            yield from _strings_at_image_keys(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings_at_image_keys(item)


def _rendered_images(tree: Path) -> set[str]:
    return {image for f in sorted(tree.rglob("*.yaml"))
            for doc in yaml.safe_load_all(f.read_text("utf-8"))
            for image in _strings_at_image_keys(doc)}


def _trees() -> list[tuple[str, Path, Path]]:
    cases = [("examples", REPO / "profiles", REPO / "output")]
    cases += [(f"golden {c.name}", c / "profiles", c / "expected")
              for c in sorted((REPO / "tests" / "golden").iterdir())]
    return cases


@pytest.mark.parametrize(("name", "profiles", "tree"), _trees(), ids=[c[0] for c in _trees()])
def test_images_are_every_image_field_of_the_render(name: str, profiles: Path,
                                                    tree: Path) -> None:
    listed = pinned_images([], True, Settings(profiles_dir=profiles))
    assert listed == sorted(set(listed))
    assert set(listed) == _rendered_images(tree), name


def test_images_of_the_examples_include_the_cnpg_image_name(cli: Callable[..., Result],
                                                            workspace: Path) -> None:
    result = cli("images", "--all")
    assert result.exit_code == 0, result.output
    assert any(line.startswith(CNPG_IMAGE) for line in result.stdout.splitlines())


@pytest.mark.parametrize("example", EXAMPLES)
def test_images_of_the_scaffolds(example: str, cli: Callable[..., Result], tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    for rel, text in example_files(example).items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, "utf-8")
    monkeypatch.chdir(tmp_path)
    assert cli("render", "--all").exit_code == 0
    result = cli("images", "--all")
    assert result.exit_code == 0, result.output
    assert set(result.stdout.splitlines()) == _rendered_images(tmp_path / "output")


def test_object_images_reads_custom_resource_fields_and_image_volumes() -> None:
    cluster = {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster",
               "spec": {"imageName": "ghcr.io/cloudnative-pg/postgresql:16.15"}}
    isvc = {"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
            "spec": {"predictor": {"model": {"image": "kserve/huggingfaceserver:v0.20.0"}},
                     "canary": [{"predictor": {"triton": {"image": "tritonserver:1"}}}]}}
    pod = {"apiVersion": "v1", "kind": "Pod", "spec": {
        "containers": [{"name": "a", "image": "a:1"}],
        "volumes": [{"name": "w", "image": {"reference": "weights:1"}},
                    {"name": "r", "rbd": {"image": "not-a-container-image"}}]}}
    assert object_images(cluster) == {"ghcr.io/cloudnative-pg/postgresql:16.15"}
    assert object_images(isvc) == {"kserve/huggingfaceserver:v0.20.0", "tritonserver:1"}
    assert object_images(pod) == {"a:1", "weights:1"}
    assert object_images({"apiVersion": "v1", "kind": "ConfigMap",
                          "data": {"image": "x:1"}}) == set()


def _schema_image_paths(node: Any, path: str) -> Iterator[str]:
    if not isinstance(node, dict):
        return
    for key, sub in (node.get("properties") or {}).items():
        here = f"{path}.{key}".lstrip(".")
        if key in IMAGE_KEYS and isinstance(sub, dict) and sub.get("type") == "string":
            yield here
        yield from _schema_image_paths(sub, here)
    if isinstance(node.get("items"), dict):
        yield from _schema_image_paths(node["items"], path + "[]")


def _is_generic(path: str) -> bool:
    """Handled without the table: containers anywhere; not images: Ceph RBD image names and
    the status the controllers write."""
    return (path.startswith("status.") or path.endswith("volumes[].rbd.image")
            or any(path.endswith(f"{c}[].image") for c in CONTAINER_LISTS))


def test_image_fields_table_matches_the_crds(shared: Path) -> None:
    """Every string property named `image` or `imageName` of a CRD in ../shared/crds is read:
    by the container walk, by `IMAGE_FIELDS`, or its kind is a known name-only one."""
    found: dict[tuple[str, str], set[str]] = {}
    for path in sorted((shared / "crds").rglob("*.yaml")):
        crd = yaml.safe_load(path.read_text("utf-8"))
        key = (crd["spec"]["group"], crd["spec"]["names"]["kind"])
        for version in crd["spec"]["versions"]:
            paths = _schema_image_paths(version["schema"]["openAPIV3Schema"], "")
            found.setdefault(key, set()).update(p for p in paths if not _is_generic(p))
    table = {key: set(paths) for key, paths in IMAGE_FIELDS.items()}
    assert {k: v for k, v in found.items() if v and k not in NAME_ONLY_IMAGE_KINDS} == table
    assert NAME_ONLY_IMAGE_KINDS <= {k for k, v in found.items() if v}
