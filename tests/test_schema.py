"""The exported JSON Schema: fresh, documented, and agreeing with the validator."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from pydantic import ValidationError
from typer.testing import Result

from aiplat_gen.core.errors import ProfileError
from aiplat_gen.platform.facts.gpus import GPU_PRODUCTS
from aiplat_gen.platform.facts.models import ARCHITECTURES
from aiplat_gen.profile.jsonschema import explain, profile_schema, schema_text
from aiplat_gen.profile.loader import to_plain
from aiplat_gen.profile.merge import load_profile
from aiplat_gen.profile.schema.profile import Profile
from aiplat_gen.profile.schema.serving import ModelSource
from conftest import REPO

VALIDATOR = Draft202012Validator(profile_schema())
EXAMPLES = sorted((REPO / "profiles").glob("*.yaml"))
INVALID = sorted((REPO / "tests" / "profiles" / "invalid").glob("*.yaml"))
SCALARS = ("string", "integer", "number")


def test_committed_schema_is_fresh(cli: Callable[..., Result]) -> None:
    assert (REPO / "schema" / "profile.schema.json").read_text("utf-8") == schema_text()
    result = cli("schema")
    assert result.exit_code == 0 and result.stdout == schema_text()


def test_schema_is_a_valid_json_schema() -> None:
    Draft202012Validator.check_schema(profile_schema())


def _properties() -> list[tuple[str, dict[str, Any]]]:
    defs = profile_schema()["$defs"]
    return [(f"{name}.{key}", prop) for name, d in defs.items() if not name.startswith("Partial")
            for key, prop in d.get("properties", {}).items()]


def _scalar(prop: dict[str, Any]) -> bool:
    options = prop.get("anyOf", [prop])
    return any(o.get("type") in SCALARS and "enum" not in o and "const" not in o
               for o in options)


def test_every_field_has_a_description_and_scalars_an_example() -> None:
    undocumented = [name for name, prop in _properties() if not prop.get("description")]
    no_example = [name for name, prop in _properties() if _scalar(prop)
                  and not prop.get("examples")]
    assert not undocumented, undocumented
    assert not no_example, no_example


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_profiles_validate_against_schema(path: Path) -> None:
    first = path.read_text("utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=../schema/profile.schema.json"
    errors = [e.message for e in VALIDATOR.iter_errors(yaml.safe_load(path.read_text("utf-8")))]
    assert not errors, errors


def _schema_problem(path: Path) -> Any:
    """The merged document when the case fails pydantic on types, patterns or keys (not only
    on cross-field validators), else None."""
    try:
        plain, _ = to_plain(load_profile(path).tree)
    except ProfileError:
        return None  # refused while loading: not a schema matter
    try:
        Profile.model_validate(plain)
    except ValidationError as exc:
        if any(e["type"] not in ("value_error", "assertion_error") for e in exc.errors()):
            return plain
    return None


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_schema_rejects_invalid_cases_that_are_schema_problems(path: Path) -> None:
    plain = _schema_problem(path)
    if plain is None:
        return
    assert not VALIDATOR.is_valid(plain), f"{path.name} passes the JSON Schema"


def test_explain(cli: Callable[..., Result]) -> None:
    result = cli("explain", "spec.nodePools.gpu.sharing.mode")
    assert result.exit_code == 0
    assert '"none" | "mig" | "time-slicing"' in result.stdout and "default" in result.stdout
    unknown = cli("explain", "spec.nodPools")
    assert unknown.exit_code == 2 and "did you mean 'nodePools'" in unknown.stderr


def test_explain_shows_the_model_documentation(cli: Callable[..., Result]) -> None:
    """The checksum procedure the example profile sends people to `explain` for: the whole
    `ModelSource` docstring, commands kept on one line with their spacing."""
    result = cli("explain", "spec.models[0].source")
    assert result.exit_code == 0, result.output
    doc = inspect.cleandoc(ModelSource.__doc__ or "")
    assert "sha256sum" in doc
    assert " ".join(doc.split()) in " ".join(result.stdout.split())
    assert "`<sha256>  ./<path>`" in result.stdout
    command = re.search(r"`(cd <dir> && [^`]*)`", doc)
    assert command  # the command is printed whole on one line, ready to copy
    assert any(" ".join(command[1].split()) in line for line in result.stdout.splitlines())
    assert "The pinned weights." in result.stdout and "  keys:" in result.stdout


def test_explain_architecture_lists_the_known_ones(cli: Callable[..., Result]) -> None:
    result = cli("explain", "spec.models.architecture")
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert f"known values ({len(ARCHITECTURES)}): " + ", ".join(ARCHITECTURES) in text
    assert "give `parameters`" in text  # how to describe a model the table lacks
    product = cli("explain", "spec.nodePools.gpu.product")
    assert product.exit_code == 0 and all(key in product.stdout for key in GPU_PRODUCTS)


def test_explain_reaches_every_key() -> None:
    """Every key below the profile explains with its description, label maps included."""
    pending, seen = [""], 0
    while pending:
        path = pending.pop()
        text = explain(path)
        lines = text.splitlines()
        described = len(lines) > 2 and not lines[2].startswith(("  default:", "  example:",
                                                                 "  keys:"))
        assert path == "" or described, text
        keys = lines[lines.index("  keys:") + 1:] if "  keys:" in lines else []
        pending.extend(f"{path}.{line.split()[0].rstrip(':')}".lstrip(".") for line in keys)
        seen += 1
    assert seen > 300
