"""The one Jinja environment: strict, loading templates from the package (or --templates-dir).

Templates only place values that components computed; nested blocks go through `to_yaml`, so no
template ever counts indentation. `to_yaml` leaves a placeholder in the text and keeps the value
aside; after the (small) YAML skeleton is parsed, each placeholder is replaced by a fresh copy of
its value. The result is what writing the value as JSON flow style would give, without parsing
every nested block again as YAML (most of the render time otherwise).
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from aiplat_gen.core import yamlio

_SLOTS = "_aiplat_slots"
_TOKEN = re.compile(r"@@aiplat-slot-([0-9]+)@@")


@jinja2.pass_context
def _to_yaml(context: jinja2.runtime.Context, value: Any) -> str:
    slots = context.get(_SLOTS)
    if not isinstance(slots, list):  # rendered outside render_documents: plain JSON flow style
        return json.dumps(value, ensure_ascii=False)
    slots.append(value)
    return f'"@@aiplat-slot-{len(slots) - 1}@@"'


def builtin_templates_dir() -> Path:
    """The templates shipped with the package; from a source checkout, the top-level folder."""
    packaged = resources.files("aiplat_gen") / "templates"
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[3] / "templates"
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
        auto_reload=False,
    )
    env.filters["to_yaml"] = _to_yaml
    return env


@functools.cache
def _template(name: str, override: Path | None) -> jinja2.Template:
    return environment(override).get_template(name)


def render_documents(template: str, override: Path | None = None, **view: Any) -> list[Any]:
    """Render a template and parse the YAML documents it produces."""
    slots: list[Any] = []
    text = _template(template, override).render(**view, **{_SLOTS: slots})
    documents = _SKELETONS.get(text)
    if documents is None:
        documents = yamlio.load_all(text)
        if len(_SKELETONS) < _SKELETONS_MAX:
            _SKELETONS[text] = documents
    fresh = [_fresh(value) for value in slots]
    return [_fill(doc, fresh) for doc in documents]


def _fresh(value: Any) -> Any:
    """What `json.loads(json.dumps(value))` gives (new containers, lists for tuples, plain
    strings), without the text in between for the plain trees components pass."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or kind is float or value is None:
        return value
    if kind is list or kind is tuple:
        return [_fresh(item) for item in value]
    if kind is dict and all(type(key) is str for key in value):
        return {key: _fresh(item) for key, item in value.items()}
    return json.loads(json.dumps(value, ensure_ascii=False))


# Parsed skeletons by text: environments of one render share most objects. `_fill` copies every
# container, so a cached skeleton is never handed out or changed.
_SKELETONS: dict[str, list[Any]] = {}
_SKELETONS_MAX = 50_000


def _fill(node: Any, slots: list[Any]) -> Any:
    """Replace placeholders by their values (each value is used once: no shared objects)."""
    if isinstance(node, dict):
        return {key: _fill(value, slots) for key, value in node.items()}
    if isinstance(node, list):
        return [_fill(value, slots) for value in node]
    if isinstance(node, str) and "@@aiplat-slot-" in node:
        whole = _TOKEN.fullmatch(node)
        if whole:
            return slots[int(whole.group(1))]
        return _TOKEN.sub(lambda m: json.dumps(slots[int(m.group(1))], ensure_ascii=False), node)
    return node
