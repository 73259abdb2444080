"""Validate Kubernetes objects in-process with jsonschema, the way kubeconform v0.7.0 does, for
machines without kubeconform.

Both read the same schema locations (see `locations`): the first location that has a schema for an
object's kind and apiVersion wins, and an object no location has a schema for is an error
("could not find schema"), never a skip. Like kubeconform, a schema without `$schema` is read as
draft 4 and its formats are asserted (with Kubernetes' Go durations accepted for `duration`),
while the 2020-12 Kubernetes schemas only annotate formats. Each schema is compiled once per run;
schemas from a URL are cached on disk.
"""

from __future__ import annotations

import hashlib
import json
import re
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from jsonschema import (  # type: ignore[import-untyped]
    Draft3Validator,
    Draft4Validator,
    Draft6Validator,
    Draft7Validator,
    FormatChecker,
)
from jsonschema.protocols import Validator  # type: ignore[import-untyped]
from jsonschema.validators import validator_for  # type: ignore[import-untyped]
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT4

from aiplat_gen.kube.locations import expand, is_url

_TIMEOUT_SECONDS = 30
# Go's time.ParseDuration, or ISO 8601 (what kubeconform's `duration` format accepts).
_GO_DURATION = re.compile(r"^[-+]?(0|([0-9]*(\.[0-9]*)?(ns|us|µs|μs|ms|s|m|h))+)$")
_ISO_DURATION = re.compile(
    r"^P(?!$)([0-9]+W|([0-9]+Y)?([0-9]+M)?([0-9]+D)?(T(?=[0-9])([0-9]+H)?([0-9]+M)?([0-9]+S)?)?)$")
# kubeconform's compiler asserts formats for drafts before 2019-09 only.
_DRAFTS_WITH_FORMAT_ASSERTION = (Draft3Validator, Draft4Validator, Draft6Validator,
                                 Draft7Validator)


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
        self._validators: dict[str, Validator | None] = {}
        self._formats = FormatChecker()
        self._formats.checks("duration")(_duration)

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
            except SchemaFetchError as exc:
                return Result("error", (str(exc),))
            if validator is None:
                continue
            errors = sorted(validator.iter_errors(obj), key=lambda e: list(map(str, e.path)))
            if not errors:
                return Result("valid")
            return Result("invalid", tuple(
                f"/{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors))
        return Result("error", (f"could not find schema for {kind}",))

    def _validator(self, uri: str) -> Validator | None:
        if uri not in self._validators:
            document = self._document(uri)
            self._validators[uri] = None if not isinstance(document, dict) else self._compile(
                uri, document)
        return self._validators[uri]

    def _compile(self, uri: str, document: dict[str, Any]) -> Validator:
        cls = validator_for(document, default=Draft4Validator)
        # referencing's attrs classes take keyword arguments mypy does not see.
        registry: Registry[Any] = Registry(  # type: ignore[call-arg]
            retrieve=self._retrieve).with_resource(
            uri, Resource.from_contents(document, default_specification=DRAFT4))
        asserts = cls in _DRAFTS_WITH_FORMAT_ASSERTION
        return cls({"$ref": uri}, registry=registry,
                   format_checker=self._formats if asserts else None)

    def _retrieve(self, uri: str) -> Resource[Any]:
        document = self._document(uri)
        if document is None:
            raise NoSuchResource(ref=uri)  # type: ignore[call-arg]
        return Resource.from_contents(document, default_specification=DRAFT4)

    def _document(self, uri: str) -> Any:
        """The parsed schema at uri, or None when there is none (kubeconform: not found)."""
        if uri not in self._documents:
            try:
                text = self._fetch(uri) if is_url(uri) else _read_file(uri)
                self._documents[uri] = None if text is None else json.loads(text)
            except ValueError:
                self._documents[uri] = None  # kubeconform skips a location it cannot parse
        return self._documents[uri]

    def _fetch(self, url: str) -> str | None:
        cached = self.cache_dir / "http" / (hashlib.sha256(url.encode()).hexdigest() + ".json")
        if cached.is_file():
            return cached.read_text(encoding="utf-8")
        try:
            with urllib.request.urlopen(url, timeout=_TIMEOUT_SECONDS) as response:  # noqa: S310
                text = str(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise SchemaFetchError(f"could not fetch schema {url}: HTTP {exc.code}") from exc
        except (urllib.error.URLError, OSError, UnicodeDecodeError) as exc:
            raise SchemaFetchError(f"could not fetch schema {url}: {exc}") from exc
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_text(text, encoding="utf-8")
        return text


def _uri(location: str) -> str:
    return location if is_url(location) else Path(location).absolute().as_uri()


def _read_file(uri: str) -> str | None:
    path = Path(unquote(urlparse(uri).path))
    try:
        return path.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
