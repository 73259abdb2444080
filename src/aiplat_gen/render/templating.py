"""The one Jinja environment: strict, loading templates from the package (or --templates-dir).

Templates only place values that components computed; nested blocks go through `to_yaml`, so no
template ever counts indentation. `to_yaml` leaves a placeholder in the text and keeps the value
aside; after the (small) YAML skeleton is parsed, each placeholder is replaced by a fresh copy of
its value. The result is what writing the value as JSON flow style would give, without parsing
every nested block again as YAML (most of the render time otherwise).

Templates from `--templates-dir` are the user's, not the tool's: with an override folder the
environment is Jinja's `ImmutableSandboxedEnvironment` (jinja2 3.1.6, src/jinja2/sandbox.py: no
access to attributes such as `__init__`/`__globals__`, no calls that change lists or dicts; a
violation raises `SecurityError`), and every failure of a template (syntax, undefined name, an
error while rendering, text that is not YAML, a document that is not a mapping, the same object
twice, an override that renders nothing where the built-in template renders objects) is a
`TemplateError` naming the template file and line: exit 1, not an internal error.
"""

from __future__ import annotations

import functools
import json
import re
import traceback
from pathlib import Path
from typing import Any

import jinja2
import jinja2.sandbox
import yaml

from aiplat_gen.core import yamlio
from aiplat_gen.core.errors import Diagnostic, Position, TemplateError
from aiplat_gen.core.package import templates_dir

_SLOTS = "_aiplat_slots"
_TOKEN = re.compile(r"@@aiplat-slot-([0-9]+)@@")


@jinja2.pass_context
def _to_yaml(context: jinja2.runtime.Context, value: Any) -> str:
    slots = context.get(_SLOTS)
    if not isinstance(slots, list):  # rendered outside render_documents: plain JSON flow style
        return json.dumps(value, ensure_ascii=False)
    slots.append(value)
    return f'"@@aiplat-slot-{len(slots) - 1}@@"'


@functools.cache
def environment(override: Path | None = None) -> jinja2.Environment:
    """The Jinja environment; an override folder takes precedence over built-in templates."""
    search = [str(override)] if override else []
    search.append(str(templates_dir()))
    kind = jinja2.sandbox.ImmutableSandboxedEnvironment if override else jinja2.Environment
    env = kind(
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
    if override is not None:
        return _render_override(template, override, view)
    return _render(template, None, view)


def _render(template: str, override: Path | None, view: dict[str, Any]) -> list[Any]:
    slots: list[Any] = []
    text = _template(template, override).render(**view, **{_SLOTS: slots})
    documents = _SKELETONS.get(text)
    if documents is None:
        documents = yamlio.load_all(text)
        if len(_SKELETONS) < _SKELETONS_MAX:
            _SKELETONS[text] = documents
    fresh = [_fresh(value) for value in slots]
    return [_fill(doc, fresh) for doc in documents]


def _located(message: str, file: str, line: int, hint: str = "") -> TemplateError:
    return TemplateError(message, [Diagnostic(Position(file, line, 1), "", message, hint)])


def _where(exc: BaseException, name: str, override: Path) -> tuple[str, int]:
    """The template file and line an error came from: Jinja rewrites tracebacks so that a
    template's frames carry its file name and line numbers."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if f.filename.endswith(".j2") or f.filename.startswith(str(override))]
    if frames:
        return frames[-1].filename, frames[-1].lineno or 1
    return str(override / name), 1


def _render_override(template: str, override: Path, view: dict[str, Any]) -> list[Any]:
    """Render with the user's templates: every failure is a located `TemplateError`."""
    try:
        found = _template(template, override)
    except jinja2.TemplateSyntaxError as exc:
        raise _located(f"template syntax error: {exc.message}", exc.filename or template,
                       exc.lineno) from None
    file = found.filename or str(override / template)
    try:
        documents = _render(template, override, view)
    except jinja2.TemplateSyntaxError as exc:  # in an included template
        raise _located(f"template syntax error: {exc.message}", exc.filename or file,
                       exc.lineno) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise _located(f"the rendered text is not valid YAML (line {line} of the output): "
                       f"{problem}", file, 1) from None
    except (jinja2.TemplateError, ArithmeticError, LookupError, TypeError, ValueError,
            AttributeError, RecursionError) as exc:
        where, line = _where(exc, template, override)
        kind = "undefined name" if isinstance(exc, jinja2.UndefinedError) else (
            "refused by the sandbox" if isinstance(exc, jinja2.exceptions.SecurityError)
            else "error while rendering")
        raise _located(f"{kind}: {type(exc).__name__}: {exc}", where, line) from None
    _check_documents(documents, template, file, view)
    return documents


def _check_documents(documents: list[Any], template: str, file: str,
                     view: dict[str, Any]) -> None:
    """An override must render mappings, each object once, and not nothing where the built-in
    template renders objects."""
    seen: set[tuple[str, str, str, str]] = set()
    for index, doc in enumerate(documents, 1):
        if not isinstance(doc, dict):
            raise _located(f"document {index} is a {type(doc).__name__}, not a mapping (a "
                           "Kubernetes object or a values mapping)", file, 1)
        meta = doc.get("metadata")
        if isinstance(meta, dict) and "kind" in doc:
            key = (str(doc.get("apiVersion")), str(doc["kind"]), str(meta.get("namespace")),
                   str(meta.get("name")))
            if key in seen:
                raise _located(f"document {index} repeats {key[1]} {key[3]!r}: each object "
                               "once", file, 1)
            seen.add(key)
    if not documents and templates_dir().joinpath(template).is_file() and _render(
            template, None, view):
        raise _located(
            "the override renders no document where the built-in template renders objects "
            "(they would be dropped silently)", file, 1,
            "to leave them out, change the profile; to keep the built-in template, delete "
            "the override")


_STR_KEYS = {str}


def _fresh(value: Any) -> Any:
    """What `json.loads(json.dumps(value))` gives (new containers, lists for tuples, plain
    strings), without the text in between for the plain trees components pass."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or kind is float or value is None:
        return value
    if kind is list or kind is tuple:
        return [_fresh(item) for item in value]
    if kind is dict and (not value or set(map(type, value)) == _STR_KEYS):
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
