"""The profile's JSON Schema (for editors) and `explain`, both generated from the pydantic models.

Every property carries a description (the field's docstring) and examples; where a field gives
no explicit example, its default serves as one.
"""

from __future__ import annotations

import ast
import copy
import functools
import inspect
import itertools
import json
import re
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from aiplat_gen.core.errors import UsageError
from aiplat_gen.profile.schema.profile import Profile

SCHEMA_ID = "https://aiplat.dev/schemas/platform-profile-v1alpha1.json"
SCHEMA_TITLE = "aiplat-gen platform profile"


@functools.cache
def _raw_schema() -> dict[str, Any]:
    return Profile.model_json_schema(by_alias=True, mode="validation",
                                     schema_generator=_DocumentedSchema)


class _DocumentedSchema(GenerateJsonSchema):
    """Field descriptions from attribute docstrings, read here rather than by pydantic's
    `use_attribute_docstrings`, which parses every model's source at import (and so on every
    `validate`) although only `schema` and `explain` show descriptions."""

    def model_schema(self, schema: core_schema.ModelSchema) -> JsonSchemaValue:
        json_schema = super().model_schema(schema)
        cls: type[BaseModel] = schema["cls"]
        properties = json_schema.get("properties", {})
        for name, info in cls.model_fields.items():
            key = (info.alias or name) if self.by_alias else name
            doc = _field_docstring(cls, name)
            if info.description is None and doc and key in properties:
                properties[key] = {**properties[key], "description": doc}
        return json_schema


def _field_docstring(cls: type, name: str) -> str | None:
    """The docstring of a field, from the class that annotates it (a base class for an
    inherited field)."""
    for klass in cls.__mro__:
        if name in inspect.get_annotations(klass):
            return _attribute_docstrings(klass).get(name)
    return None


@functools.cache
def _attribute_docstrings(cls: type) -> dict[str, str]:
    """Each annotated attribute of a class body that is followed by a string literal, with that
    string cleaned like a docstring (pydantic's rule for `use_attribute_docstrings`)."""
    node = _class_nodes(cls.__module__).get(cls.__qualname__)
    if node is None:
        return {}
    return {stmt.target.id: inspect.cleandoc(after.value.value)
            for stmt, after in itertools.pairwise(node.body)
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
            and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)}


@functools.cache
def _class_nodes(module: str) -> dict[str, ast.ClassDef]:
    """The class definitions of a module by qualified name, parsing its source once (none
    when the source is not installed, as pydantic does)."""
    found: dict[str, ast.ClassDef] = {}

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                found[prefix + node.name] = node
                visit(node.body, f"{prefix}{node.name}.")

    try:
        source = inspect.getsource(sys.modules[module])
    except (OSError, TypeError):
        return found
    visit(ast.parse(source).body, "")
    return found


EXTENDS = {
    "type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
    "description": "Name of the parent profile in the same folder; the chain ends at a root "
                   "profile.", "examples": ["base"]}


def profile_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a profile file.

    A root profile must be complete. A profile with `extends` is checked against a partial
    variant of every definition: no required keys, and `null` allowed wherever a value is,
    because null removes an inherited key.
    """
    full = copy.deepcopy(_raw_schema())
    defs = full.pop("$defs", {})
    defs["Profile"] = full
    for definition in defs.values():
        for prop in definition.get("properties", {}).values():
            if "examples" not in prop and prop.get("default") not in (None, {}, []):
                prop["examples"] = [prop["default"]]
    defs["Profile"]["properties"]["extends"] = EXTENDS
    partial = {f"Partial{name}": _partial(d) for name, d in defs.items()}
    partial["PartialProfile"]["required"] = ["extends"]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": SCHEMA_TITLE,
        "description": defs["Profile"].get("description", ""),
        "if": {"type": "object", "required": ["extends"]},
        "then": {"$ref": "#/$defs/PartialProfile"},
        "else": {"$ref": "#/$defs/Profile"},
        "$defs": {**defs, **partial},
    }


def _partial(node: Any) -> Any:
    """A copy of a schema node with no required keys, refs to partial definitions, and null
    allowed for every property."""
    if isinstance(node, list):
        return [_partial(n) for n in node]
    if not isinstance(node, dict):
        return node
    result: dict[str, Any] = {}
    for key, value in node.items():
        if key == "required":
            continue
        if key == "$ref" and isinstance(value, str):
            result[key] = value.replace("#/$defs/", "#/$defs/Partial")
        elif key == "properties" and isinstance(value, dict):
            result[key] = {name: {"anyOf": [_partial(sub), {"type": "null"}]}
                           for name, sub in value.items()}
        else:
            result[key] = _partial(value)
    return result


def schema_text() -> str:
    """The schema as stable, indented JSON."""
    return json.dumps(profile_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while True:
        if "$ref" in node:
            extra = {k: v for k, v in node.items() if k != "$ref"}
            node = {**schema["$defs"][node["$ref"].rsplit("/", 1)[-1]], **extra}
        elif "anyOf" in node:
            options = [n for n in node["anyOf"] if n.get("type") != "null"]
            extra = {k: v for k, v in node.items() if k != "anyOf"}
            if len(options) != 1:
                return node
            node = {**options[0], **extra}
        elif node.get("type") == "array" and "items" in node:
            return node
        else:
            return node


def _type_name(schema: dict[str, Any], node: dict[str, Any]) -> str:
    node = _resolve(schema, node)
    if "enum" in node:
        return " | ".join(json.dumps(v) for v in node["enum"])
    if "const" in node:
        return json.dumps(node["const"])
    if "anyOf" in node:
        return " | ".join(_type_name(schema, n) for n in node["anyOf"])
    kind = node.get("type", "object")
    if kind == "array":
        return f"list of {_type_name(schema, node.get('items', {}))}"
    if kind == "object" and "properties" in node:
        return "mapping"
    if kind == "object":
        # Label maps constrain their keys with patternProperties, not additionalProperties.
        values = node.get("additionalProperties") or next(
            iter(node.get("patternProperties", {}).values()), None)
        if not isinstance(values, dict) or not values:
            return "mapping"
        return "mapping of string to " + _type_name(schema, values)
    return str(kind)


def explain(path: str, known: Mapping[str, Iterable[str]] | None = None) -> str:
    """Describe the profile field at a dotted path (list indexes optional): its documentation
    (the field's docstring, then its model's), type, allowed values and bounds, default,
    examples, the values `known` lists for it (by dotted path without indexes), and the keys
    below it."""
    schema = profile_schema()
    node: dict[str, Any] = schema["$defs"]["Profile"]
    parts = [p for p in re.split(r"\.|\[\d*\]", path.strip()) if p]
    walked: list[str] = []
    for part in parts:
        node = _resolve(schema, node)
        while node.get("type") == "array":
            node = _resolve(schema, node.get("items", {}))
        props = node.get("properties", {})
        if part not in props:
            import difflib

            close = difflib.get_close_matches(part, list(props), n=1)
            where = ".".join(walked) or "the profile"
            hint = f"; did you mean {close[0]!r}?" if close else ""
            known_keys = ", ".join(sorted(props)) or "none"
            raise UsageError(f"{where} has no key {part!r}{hint} (keys: {known_keys})")
        walked.append(part)
        node = props[part]
    name = ".".join(walked)
    return _describe(schema, name or "(profile)", node, list((known or {}).get(name, ())))


WIDTH = 96
"""Column at which `explain` wraps its paragraphs."""

BOUNDS = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<",
          "minLength": "length >=", "maxLength": "length <=", "minItems": "items >=",
          "maxItems": "items <=", "pattern": "matches"}


def _paragraphs(text: str, indent: str = "  ") -> list[str]:
    """A docstring's paragraphs, each wrapped at `WIDTH`. A `code span` stays on one line with
    its spacing (`<sha256>  ./<path>` is sha256sum's format), so a command can be copied."""
    import textwrap

    def keep(span: re.Match[str]) -> str:
        return re.sub(r"\s*\n\s*", " ", span.group()).replace(" ", NBSP)

    lines: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        lines += [""] if lines else []
        words = re.sub(r"[ \t\n]+", " ", re.sub(r"`[^`]*`", keep, paragraph)).strip()
        lines += [line.replace(NBSP, " ") for line in textwrap.wrap(
            words, WIDTH, initial_indent=indent, subsequent_indent=indent,
            break_on_hyphens=False, break_long_words=False)]
    return lines


NBSP = "\u00a0"
"""Stands for a space inside a code span while wrapping (textwrap splits only at ASCII
whitespace; `str.split()` would split at it too)."""


def _summary(text: str) -> str:
    """The first sentence of a description, on one line."""
    first = re.split(r"(?<=\.)\s+(?=[A-Z0-9])", text.strip(), maxsplit=1)[0]
    return " ".join(first.split())


def _innermost(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """The resolved node, or for a list (of lists) the resolved node of its items."""
    inner = _resolve(schema, node)
    while inner.get("type") == "array":
        inner = _resolve(schema, inner.get("items", {}))
    return inner


def _definition_doc(schema: dict[str, Any], node: dict[str, Any]) -> str | None:
    """The docstring of the model a field holds (through lists and optionals), which the
    field's own description hides in the resolved node."""
    while True:
        if "$ref" in node:
            doc = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]].get("description")
            return doc if isinstance(doc, str) else None
        options = [n for n in node.get("anyOf", []) if n.get("type") != "null"]
        if len(options) == 1:
            node = options[0]
        elif node.get("type") == "array" and isinstance(node.get("items"), dict):
            node = node["items"]
        else:
            return None


def _describe(schema: dict[str, Any], name: str, node: dict[str, Any],
              known: list[str]) -> str:
    resolved = _resolve(schema, node)
    inner = _innermost(schema, node)
    lines = [name, f"  type: {_type_name(schema, node)}"]
    description = node.get("description") or resolved.get("description")
    if description:
        lines += _paragraphs(description)
    model_doc = _definition_doc(schema, node)
    if model_doc and model_doc != description:
        lines += ["", *_paragraphs(model_doc), ""]
    if "enum" in inner:
        lines.append("  allowed: " + ", ".join(json.dumps(v) for v in inner["enum"]))
    bounds = [f"{word} {json.dumps(inner[key])}" for key, word in BOUNDS.items() if key in inner]
    if bounds:
        lines.append("  constraints: " + "; ".join(bounds))
    if "default" in node:
        default = node["default"]
        lines.append("  default: none (optional)" if default is None
                     else f"  default: {json.dumps(default)}")
    examples = node.get("examples") or resolved.get("examples")
    if examples:
        label = "example" if len(examples) == 1 else "examples"
        lines.append(f"  {label}: " + ", ".join(json.dumps(e) for e in examples))
    if known:
        lines += _paragraphs(f"known values ({len(known)}): " + ", ".join(known))
    props = inner.get("properties", {})
    if props:
        required = set(inner.get("required", []))
        lines.append("  keys:")
        for key, sub in props.items():
            mark = " (required)" if key in required else ""
            text = sub.get("description") or _resolve(schema, sub).get("description") or ""
            first = _summary(text)
            lines.append(f"    {key}{mark}: {_type_name(schema, sub)}" + (f" - {first}"
                                                                         if first else ""))
    return "\n".join(lines).rstrip("\n") + "\n"
