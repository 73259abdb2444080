"""Validate Kubernetes objects in-process with jsonschema, the way kubeconform v0.7.0 does, for
machines without kubeconform.

Both read the same schema locations (see `locations`): the first location that has a schema for an
object's kind and apiVersion wins, and an object no location has a schema for is an error
("could not find schema"), never a skip. Like kubeconform, a schema without `$schema` is read as
draft 4 and its formats are asserted (with Kubernetes' Go durations accepted for `duration`),
while the 2020-12 Kubernetes schemas only annotate formats. Each schema is compiled once per run;
schemas from a URL are cached on disk.

Each schema is compiled twice: with `jsonschema_rs` (Rust, about a hundred times faster) for the
verdict, and with `jsonschema` for the messages. An object the Rust validator accepts is valid;
any other (or one it cannot take, such as a YAML date) goes to `jsonschema`, whose verdict and
messages are the ones reported. So the Rust validator must accept nothing `jsonschema` rejects: it
gets the same draft and, where formats are asserted, `jsonschema`'s own function for every format
`jsonschema` knows (a property test holds the two to the same verdicts). A `pattern`
the Rust validator does not take as a regex (`^(?i)(abort|warn)?$` in the Prometheus Operator's
schemas) is checked by a keyword that calls Python's `re.search`, as `jsonschema` does. A schema
it still refuses to compile (or a draft it lacks) is validated by `jsonschema` alone.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import jsonschema_rs
from jsonschema import (  # type: ignore[import-untyped]
    Draft3Validator,
    Draft4Validator,
    Draft6Validator,
    Draft7Validator,
    Draft201909Validator,
    Draft202012Validator,
    FormatChecker,
)
from jsonschema.protocols import Validator  # type: ignore[import-untyped]
from jsonschema.validators import validator_for  # type: ignore[import-untyped]
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT4

from aiplat_gen.core.errors import capped
from aiplat_gen.core.files import UnreadableFileError, read_bounded
from aiplat_gen.verify.kube.locations import expand, is_url
from aiplat_gen.verify.kube.schemas import MAX_SCHEMA_BYTES

_TIMEOUT_SECONDS = 30
# Go's time.ParseDuration, or ISO 8601 (what kubeconform's `duration` format accepts).
_GO_DURATION = re.compile(r"^[-+]?(0|([0-9]*(\.[0-9]*)?(ns|us|µs|μs|ms|s|m|h))+)$")
_ISO_DURATION = re.compile(
    r"^P(?!$)([0-9]+W|([0-9]+Y)?([0-9]+M)?([0-9]+D)?(T(?=[0-9])([0-9]+H)?([0-9]+M)?([0-9]+S)?)?)$")
# kubeconform's compiler asserts formats for drafts before 2019-09 only.
_DRAFTS_WITH_FORMAT_ASSERTION = (Draft3Validator, Draft4Validator, Draft6Validator,
                                 Draft7Validator)
_PYTHON_PATTERN = "x-aiplat-python-pattern"
# The Rust validator of the same draft (jsonschema_rs has no draft 3).
_FAST_DRAFTS: dict[type[Any], type[jsonschema_rs.Validator]] = {
    Draft4Validator: jsonschema_rs.Draft4Validator,
    Draft6Validator: jsonschema_rs.Draft6Validator,
    Draft7Validator: jsonschema_rs.Draft7Validator,
    Draft201909Validator: jsonschema_rs.Draft201909Validator,
    Draft202012Validator: jsonschema_rs.Draft202012Validator,
}


@dataclass(frozen=True)
class _Compiled:
    """One schema, compiled for the verdict (`fast`, when it compiles) and for messages."""

    full: Validator
    fast: jsonschema_rs.Validator | None


@dataclass(frozen=True)
class Result:
    """The verdict on one object: `valid`, `invalid` or `error` (kubeconform's statuses)."""

    status: str
    messages: tuple[str, ...] = ()


class SchemaFetchError(Exception):
    """A schema URL could not be read (network, HTTP error other than 404, bad JSON)."""


def _duration(value: object) -> bool:
    return not isinstance(value, str) or bool(
        _GO_DURATION.match(value) or _ISO_DURATION.match(value))


class InProcessValidator:
    """Validates objects against schema location templates; compiles each schema once."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = cache_dir
        self._documents: dict[str, Any] = {}
        self._validators: dict[str, _Compiled | None] = {}
        self._formats = FormatChecker()
        self._formats.checks("duration")(_duration)
        self._fast_formats: dict[str, Callable[[str], bool]] = {
            str(name): functools.partial(self._conforms, name) for name in self._formats.checkers}

    def validate(self, obj: dict[str, Any], locations: Sequence[str],
                 kubernetes_version: str) -> Result:
        """Validate one object; the first location with a schema for it is used."""
        kind, api_version = str(obj.get("kind", "")), str(obj.get("apiVersion", ""))
        if not kind:
            return Result("error", ("resource missing a Kind",))
        for template in locations:
            uri = _uri(expand(template, kind, api_version, kubernetes_version))
            try:
                validator = self._validator(uri)
                if validator is None:
                    continue
                if validator.fast is not None and _fast_accepts(validator.fast, obj):
                    return Result("valid")
                errors = sorted(validator.full.iter_errors(obj),
                                key=lambda e: list(map(str, e.path)))
            except SchemaFetchError as exc:
                return Result("error", (str(exc),))
            except Exception as exc:  # noqa: BLE001 - a schema is input: a bad one is a finding
                # e.g. `{"type": 5}` (UnknownType), a `$ref` that cannot be resolved
                # (referencing's Unresolvable), a `$ref` to a URL that cannot be fetched.
                return Result("error", (f"schema {_shown(uri)} cannot be used: "
                                        f"{type(exc).__name__}: {capped(str(exc))}",))
            if not errors:
                return Result("valid")
            return Result("invalid", tuple(
                f"/{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors))
        return Result("error", (f"could not find schema for {kind}",))

    def _validator(self, uri: str) -> _Compiled | None:
        if uri not in self._validators:
            document = self._document(uri)
            if document is not None and not isinstance(document, dict):
                raise SchemaFetchError(f"schema {_shown(uri)} is not a JSON object (it is "
                                       f"{_json_kind(document)})")
            self._validators[uri] = None if document is None else self._compile(uri, document)
        return self._validators[uri]

    def _compile(self, uri: str, document: dict[str, Any]) -> _Compiled:
        cls = validator_for(document, default=Draft4Validator)
        # referencing's attrs classes take keyword arguments mypy does not see.
        registry: Registry[Any] = Registry(  # type: ignore[call-arg]
            retrieve=self._retrieve).with_resource(
            uri, Resource.from_contents(document, default_specification=DRAFT4))
        asserts = cls in _DRAFTS_WITH_FORMAT_ASSERTION
        full = cls({"$ref": uri}, registry=registry,
                   format_checker=self._formats if asserts else None)
        return _Compiled(full, self._compile_fast(cls, uri, document, asserts))

    def _compile_fast(self, cls: type[Any], uri: str, document: dict[str, Any],
                      asserts: bool) -> jsonschema_rs.Validator | None:
        fast_cls = _FAST_DRAFTS.get(cls)
        if fast_cls is None:
            return None
        # First as it is; then with Python's regexes where jsonschema_rs refused a pattern.
        for python_patterns in (False, True):
            schema = _python_patterns(document, fast_cls) if python_patterns else document
            retrieve = functools.partial(self._retrieve_fast, fast_cls if python_patterns else None)
            try:
                return fast_cls(schema, base_uri=uri, retriever=retrieve,
                                formats=self._fast_formats if asserts else None,
                                validate_formats=asserts,
                                keywords={_PYTHON_PATTERN: _PythonPattern})
            except (jsonschema_rs.ReferencingError, ValueError):  # ValidationError: ValueError
                continue
        # Still not a schema jsonschema_rs accepts: jsonschema validates this kind alone.
        return None

    def _conforms(self, format_name: str, value: str) -> bool:
        return bool(self._formats.conforms(value, format_name))

    def _retrieve_fast(self, patterns_for: type[jsonschema_rs.Validator] | None,
                       uri: str) -> Any:
        document = self._document(uri)
        if document is None:
            raise ValueError(f"no schema at {uri}")
        return document if patterns_for is None else _python_patterns(document, patterns_for)

    def _retrieve(self, uri: str) -> Resource[Any]:
        document = self._document(uri)
        if document is None:
            raise NoSuchResource(ref=uri)  # type: ignore[call-arg]
        return Resource.from_contents(document, default_specification=DRAFT4)

    def _document(self, uri: str) -> Any:
        """The parsed schema at uri, or None when there is none (kubeconform: not found).

        A schema that exists but cannot be read (not a regular file, too large) or does not
        parse raises SchemaFetchError, remembered for the next object: it is reported as what
        it is, not as "could not find schema"."""
        if uri not in self._documents:
            try:
                text = self._fetch(uri) if is_url(uri) else _read_file(uri)
                self._documents[uri] = None if text is None else json.loads(text)
            except ValueError as exc:
                self._documents[uri] = SchemaFetchError(
                    f"schema {_shown(uri)} does not parse as JSON: {capped(str(exc))}")
            except SchemaFetchError as exc:
                self._documents[uri] = exc
        found = self._documents[uri]
        if isinstance(found, SchemaFetchError):
            raise found
        return found

    def _fetch(self, url: str) -> str | None:
        cached = self.cache_dir / "http" / (hashlib.sha256(url.encode()).hexdigest() + ".json")
        if cached.is_file():
            return _read_file(cached.as_uri())
        try:
            with urllib.request.urlopen(url, timeout=_TIMEOUT_SECONDS) as response:  # noqa: S310
                data = response.read(MAX_SCHEMA_BYTES + 1)
                if len(data) > MAX_SCHEMA_BYTES:
                    raise SchemaFetchError(f"could not fetch schema {url}: over the "
                                           f"{MAX_SCHEMA_BYTES} byte limit")
                text = str(data.decode("utf-8"))
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise SchemaFetchError(f"could not fetch schema {url}: HTTP {exc.code}") from exc
        except (urllib.error.URLError, OSError, UnicodeDecodeError) as exc:
            raise SchemaFetchError(f"could not fetch schema {url}: {exc}") from exc
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_text(text, encoding="utf-8")
        return text


class _PythonPattern:
    """`pattern` with Python's `re.search`, for regexes jsonschema_rs does not accept."""

    def __init__(self, parent_schema: dict[str, Any], value: Any,
                 schema_path: list[str | int]) -> None:
        self.pattern = str(value)

    def validate(self, instance: Any) -> None:
        """Raise when a string does not match (what the `pattern` keyword asserts)."""
        if isinstance(instance, str) and not re.search(self.pattern, instance):
            raise ValueError(f"{instance!r} does not match {self.pattern!r}")


def _python_patterns(node: Any, fast_cls: type[jsonschema_rs.Validator]) -> Any:
    """A copy of a schema where each `pattern` jsonschema_rs rejects uses `_PythonPattern`."""
    if isinstance(node, list):
        return [_python_patterns(item, fast_cls) for item in node]
    if not isinstance(node, dict):
        return node
    copy = {k: _python_patterns(v, fast_cls) for k, v in node.items()}
    # A property named "pattern" holds a schema; the keyword holds a string.
    if isinstance(copy.get("pattern"), str) and not _fast_regex(copy["pattern"], fast_cls):
        copy[_PYTHON_PATTERN] = copy.pop("pattern")
    return copy


_FAST_REGEX: dict[tuple[str, type[jsonschema_rs.Validator]], bool] = {}


def _fast_regex(pattern: str, fast_cls: type[jsonschema_rs.Validator]) -> bool:
    """True when jsonschema_rs takes `pattern` (its meta-schema asserts the `regex` format for
    drafts 4 to 7)."""
    if (pattern, fast_cls) not in _FAST_REGEX:
        try:
            fast_cls({"pattern": pattern})
            _FAST_REGEX[pattern, fast_cls] = True
        except ValueError:
            _FAST_REGEX[pattern, fast_cls] = False
    return _FAST_REGEX[pattern, fast_cls]


def _fast_accepts(fast: jsonschema_rs.Validator, obj: Any) -> bool:
    """The Rust validator's verdict; False when it cannot take the object (a YAML date or bytes,
    a non-string key), so that jsonschema decides."""
    try:
        return bool(fast.is_valid(obj))
    except Exception:  # noqa: BLE001 - whatever it is, jsonschema gives the verdict
        return False


def _uri(location: str) -> str:
    return location if is_url(location) else Path(location).absolute().as_uri()


def _shown(uri: str) -> str:
    return unquote(urlparse(uri).path) if uri.startswith("file:") else uri


def _json_kind(document: Any) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(document), "a number")


def _read_file(uri: str) -> str | None:
    """The text of a schema file; None when there is none (or a folder in its place, which
    kubeconform does not read either)."""
    path = Path(unquote(urlparse(uri).path))
    try:
        return read_bounded(path, MAX_SCHEMA_BYTES).decode("utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return None
    except UnreadableFileError as exc:
        if path.is_dir():
            return None
        raise SchemaFetchError(f"schema {path}: {exc.reason}") from None
    except UnicodeDecodeError:
        raise SchemaFetchError(f"schema {path} is not UTF-8 text") from None
    except OSError as exc:
        raise SchemaFetchError(f"schema {path}: cannot read it: {exc.strerror}") from None
