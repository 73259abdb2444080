"""The one Jinja environment: strict, loading templates from the package (or --templates-dir).

Templates only place values that components computed; nested blocks go through `to_yaml`, which
writes JSON flow style (valid YAML) so no template ever counts indentation.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from aiplat_gen import yamlio


def _to_yaml(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=False)


def builtin_templates_dir() -> Path:
    """The templates shipped with the package; from a source checkout, the top-level folder."""
    packaged = resources.files("aiplat_gen") / "templates"
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[2] / "templates"
    if checkout.is_dir():
        return checkout
    raise RuntimeError("aiplat-gen's templates are missing from the installation")


@functools.cache
def environment(override: Path | None = None) -> jinja2.Environment:
    """The Jinja environment; an override folder takes precedence over built-in templates."""
    search = [str(override)] if override else []
    search.append(str(builtin_templates_dir()))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(search),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["to_yaml"] = _to_yaml
    return env


def render_documents(template: str, override: Path | None = None, **view: Any) -> list[Any]:
    """Render a template and parse the YAML documents it produces."""
    text = environment(override).get_template(template).render(**view)
    return yamlio.load_all(text)
