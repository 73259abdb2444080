"""Fact tables that keep the output honest: default image pins (`facts.images`), GPU instance
types (`facts.instances`), and the reserved placeholder of weights checksums."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from aiplat_gen.checks.policy.engine import evaluate
from aiplat_gen.checks.validate import validate_source
from aiplat_gen.core.errors import ProfileError, Severity
from aiplat_gen.platform.facts.gpus import GPU_PRODUCTS
from aiplat_gen.platform.facts.images import IMAGES, release
from aiplat_gen.platform.facts.instances import INSTANCE_TYPES
from aiplat_gen.profile.merge import load_profile
from aiplat_gen.profile.schema.serving import SHA256_PLACEHOLDER
from aiplat_gen.render.scaffold import EXAMPLES, example_files
from aiplat_gen.verify.check.images import object_images
from conftest import REPO

PROFILE_IMAGE_KEYS = ("image", "prefetchImage", "exporterImage")


def _profile_images(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key in PROFILE_IMAGE_KEYS and isinstance(value, str):
                found.add(value)
            found |= _profile_images(value)
    elif isinstance(node, list):
        for item in node:
            found |= _profile_images(item)
    return found


def _tree_images(root: Path) -> set[str]:
    return {image for f in root.rglob("*.yaml")
            for doc in yaml.safe_load_all(f.read_text("utf-8")) for image in object_images(doc)}


def _trees() -> list[tuple[str, Path, list[Path]]]:
    cases = [("examples", REPO / "output", sorted((REPO / "profiles").glob("*.yaml")))]
    for case in sorted((REPO / "tests" / "golden").iterdir()):
        cases.append((f"golden {case.name}", case / "expected",
                      sorted((case / "profiles").glob("*.yaml"))))
    return cases


@pytest.mark.parametrize(("name", "tree", "profiles"), _trees(), ids=[c[0] for c in _trees()])
def test_every_rendered_image_is_the_profiles_or_a_pin(name: str, tree: Path,
                                                       profiles: list[Path]) -> None:
    allowed = {p.image for p in IMAGES.values()}
    for path in profiles:
        allowed |= _profile_images(yaml.safe_load(path.read_text("utf-8")))
    rendered = _tree_images(tree)
    assert rendered - allowed == set(), name


@pytest.mark.parametrize("example", EXAMPLES)
def test_scaffold_images_are_pins(example: str) -> None:
    pins = {p.image for p in IMAGES.values()}
    for rel, text in example_files(example).items():
        if rel.endswith(".yaml"):
            assert _profile_images(yaml.safe_load(text)) <= pins, rel


def test_no_pin_is_below_a_fixed_release_listed_with_it() -> None:
    for pin in IMAGES.values():
        assert pin.source and pin.version, pin.key
        for advisory in pin.advisories:
            assert pin.version >= release(f"x:{advisory.fixed_in}"), (pin.key, advisory.id)


def test_named_defaults_are_current() -> None:
    # The findings: redis 7.4.2 (CVE-2025-49844, fixed in 7.4.6) and the legacy CNPG tag.
    assert release(IMAGES["redis"].image) >= (7, 4, 6)
    tag = IMAGES["cloudnative-pg"].image.rsplit(":", 1)[1]
    assert tag.split("-")[1:] == ["standard", "trixie"]  # MM.mm-TYPE-OS, the type with pgvector


def _source(tmp_path: Path, edit: Any) -> Any:
    folder = tmp_path / "profiles"
    folder.mkdir(parents=True, exist_ok=True)
    for path in (REPO / "profiles").glob("*.yaml"):
        doc = yaml.safe_load(path.read_text("utf-8"))
        if path.stem == "base":
            edit(doc)
        (folder / path.name).write_text(yaml.safe_dump(doc, sort_keys=False))
    return load_profile(folder / "prod.yaml")


def _messages(tmp_path: Path, edit: Any) -> list[str]:
    try:
        vp = validate_source(_source(tmp_path, edit))
    except ProfileError as exc:
        found = exc.diagnostics
    else:
        found = list(vp.warnings)
    return [f"{d.severity.name}: {d.path}: {d.message}" for d in found
            if "instanceTypes" in d.path]


def _pool(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in doc["spec"]["nodePools"] if p["name"] == name)


def test_examples_instance_types_agree_with_their_gpus(tmp_path: Path) -> None:
    assert _messages(tmp_path, lambda doc: None) == []


def test_an_instance_type_that_contradicts_the_gpu_is_refused(tmp_path: Path) -> None:
    def h200_on_p5(doc: dict[str, Any]) -> None:
        _pool(doc, "gpu-h100")["gpu"]["product"] = "h200-141gb"

    def l4_count(doc: dict[str, Any]) -> None:
        _pool(doc, "gpu-l4")["gpu"]["count"] = 8

    def unknown(doc: dict[str, Any]) -> None:
        _pool(doc, "gpu-l4")["karpenter"]["instanceTypes"] = ["g7.12xlarge"]

    p5, l4 = INSTANCE_TYPES["p5.48xlarge"], INSTANCE_TYPES["g6.12xlarge"]
    h200 = GPU_PRODUCTS["h200-141gb"]
    assert _messages(tmp_path / "a", h200_on_p5) == [
        f"ERROR: spec.nodePools[1].karpenter.instanceTypes[0]: p5.48xlarge has {p5.gpus} x "
        f"{GPU_PRODUCTS[p5.product].display_name}, not {h200.display_name} "
        "(gpu.product: h200-141gb)"]
    assert _messages(tmp_path / "b", l4_count) == [
        f"ERROR: spec.nodePools[2].karpenter.instanceTypes[0]: g6.12xlarge has {l4.gpus} GPUs "
        "per node, but gpu.count is 8"]
    assert _messages(tmp_path / "c", unknown) == [
        "WARNING: spec.nodePools[2].karpenter.instanceTypes[0]: instance type 'g7.12xlarge' is "
        "not in aiplat-gen's table: its GPU product and count are not checked"]


def test_instance_table_names_known_products() -> None:
    assert {t.product for t in INSTANCE_TYPES.values()} <= set(GPU_PRODUCTS)


def test_placeholder_checksums_warn_on_validate(tmp_path: Path) -> None:
    vp = validate_source(_source(tmp_path, lambda doc: None))
    found = sorted(d.path for d in vp.warnings if "placeholder" in d.message)
    assert found == ["spec.models[0].source.sha256", "spec.models[1].source.sha256",
                     "spec.models[2].source.sha256"]
    assert all(d.severity is Severity.WARNING and "sha256sum" in d.hint
               for d in vp.warnings if "placeholder" in d.message)


def test_placeholder_checksums_fail_the_policy_and_real_ones_pass() -> None:
    target = next((REPO / "output" / "base" / "vllm").glob("statefulset-*.yaml"))
    doc = yaml.safe_load(target.read_text("utf-8"))
    assert [f.rule for f in evaluate([doc]) if f.rule == "weights-checksum"] == \
        ["weights-checksum"]
    real = copy.deepcopy(doc)
    text = yaml.safe_dump(real).replace(SHA256_PLACEHOLDER, "ab" * 32)
    assert [f for f in evaluate([yaml.safe_load(text)]) if f.rule == "weights-checksum"] == []
