"""Credentials by reference. The profile never holds a secret value, only where to find it.

Every credential of the platform (Hugging Face token, Weaviate API keys, Redis password, database
credentials, gateway keys) is a `SecretRef`: the name and key of a Kubernetes Secret in the
namespace of the entry that uses it. With `remote`, aiplat-gen also renders an External Secrets
`ExternalSecret` that keeps the Secret in sync with the profile's secret store; without it, the
Secret must already exist.

`walk` visits every value of a typed profile with its location and the namespace of its nearest
enclosing entry, so checks and components can find every `SecretRef` (and every free-form string)
without knowing which part of the profile holds it.
"""

from __future__ import annotations

import functools
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, Field, model_validator

from aiplat_gen.core.memo import per_object
from aiplat_gen.profile.schema.types import DnsLabel, Strict

# A Go duration as External Secrets reads it (`1h`, `30m`, `1h30m`).
GO_DURATION_PATTERN = r"^([0-9]+(ns|us|ms|s|m|h))+$"

BASIC_AUTH = "kubernetes.io/basic-auth"


class RemoteRef(Strict):
    """Where the value lives in the external secret store (External Secrets `remoteRef`)."""

    key: str = Field(min_length=1, max_length=512, pattern=r"^[^\s]+$",
                     examples=["ai/prod/hf-token"])
    """The secret's path or name in the store."""
    property: str | None = Field(default=None, pattern=r"^[^\s]+$", examples=["token"])
    """A field inside a structured secret (JSON or a Vault KV entry)."""


class SecretRef(Strict):
    """A Kubernetes Secret a workload reads, by name and key. With `remote`, aiplat-gen also
    renders an `ExternalSecret` that syncs it from the profile's secret store; without, the
    Secret must already exist. A literal value (a string here) is refused."""

    name: DnsLabel = Field(examples=["hf-token"])
    """Name of the Secret in the namespace of the entry that uses it."""
    key: str = Field(default="token", pattern=r"^[-._a-zA-Z0-9]+$", max_length=253)
    """Key within the Secret."""
    username: str | None = Field(default=None, pattern=r"^[a-z_][a-z0-9_]{0,62}$",
                                 examples=["app"])
    """For database credentials: the user name. The Secret is then a `kubernetes.io/basic-auth`
    Secret with keys `username` and `password` (`key` must be `password`); a synced one gets the
    user name written next to the password from the store."""
    remote: RemoteRef | None = None
    """Sync the Secret from the external store (needs `spec.security.secretStore`)."""

    @model_validator(mode="before")
    @classmethod
    def _no_literal(cls, data: Any) -> Any:
        if isinstance(data, str | int | float) and not isinstance(data, bool):
            # Never echo the value: it may be a real credential.
            raise ValueError("a literal secret value is not allowed here; reference a Kubernetes "
                             "Secret instead: {name: <secret>, key: <key>} (add `remote` to sync "
                             "it from the secret store)")
        return data

    @model_validator(mode="after")
    def _basic_auth_key(self) -> SecretRef:
        if self.username is not None and self.key != "password":
            raise ValueError("a reference with `username` is a kubernetes.io/basic-auth Secret: "
                             "its `key` must be `password`")
        return self

    @property
    def secret_type(self) -> str:
        """The Kubernetes Secret type this reference expects."""
        return BASIC_AUTH if self.username is not None else "Opaque"


class SecretStore(Strict):
    """The External Secrets store every `remote` secret reference is synced from. The store
    itself (its provider address and authentication) is installed by the platform team; with
    `kind: SecretStore` one must exist in every namespace that holds a synced Secret."""

    kind: Literal["ClusterSecretStore", "SecretStore"] = "ClusterSecretStore"
    """`ClusterSecretStore` (one for the cluster) or a namespaced `SecretStore`."""
    name: DnsLabel = Field(examples=["vault"])
    """Name of the store object."""
    provider: Literal["vault", "aws", "gcp", "azure"] = Field(examples=["vault"])
    """The backing store: HashiCorp Vault, AWS Secrets Manager, GCP Secret Manager or Azure Key
    Vault (for documentation and provider-specific defaults)."""
    refresh_interval: str = Field(default="1h", pattern=GO_DURATION_PATTERN, examples=["1h"])
    """How often External Secrets re-reads each secret (a Go duration: `1h`, `15m`)."""


# --- walking a typed profile --------------------------------------------------------------------

Loc = tuple[str | int, ...]


class Visit(NamedTuple):
    """One value of a typed profile: where it is, what it is, and its context (a NamedTuple:
    a large profile has a million of them)."""

    loc: Loc
    """Path with the profile's (camelCase) keys and list indexes, for `Locator.diagnostic`."""
    value: object
    namespace: str | None
    """The `namespace` of the nearest enclosing entry that has one (None at the top)."""
    markers: tuple[object, ...]
    """Annotation markers of the field the value belongs to (e.g. `RefersTo`)."""
    owner: BaseModel | None
    """The model whose field (or field's list or map) holds the value."""


def walk(model: BaseModel, loc: Loc = (), namespace: str | None = None) -> list[Visit]:
    """Every value below a model, depth first, in field order (appended to one list: a chain
    of nested generators would pass each value up through every level above it)."""
    found: list[Visit] = []
    _walk_model(found, model, loc, namespace)
    return found


def _walk_model(found: list[Visit], model: BaseModel, loc: Loc, namespace: str | None) -> None:
    plan = _field_plan(type(model))
    if plan.has_namespace:
        ns = getattr(model, "namespace", None)
        if isinstance(ns, str):
            namespace = ns
    for name, key, markers in plan.fields:
        _walk_value(found, getattr(model, name), (*loc, key), namespace, markers, model)


@per_object(2)  # a large profile has a million values: keep few
def visits(model: BaseModel) -> tuple[Visit, ...]:
    """`walk(model)`, kept for the last two models: the checks and the components walk the same
    profile several times."""
    return tuple(walk(model))


@dataclass(frozen=True)
class _FieldPlan:
    has_namespace: bool
    fields: tuple[tuple[str, str, tuple[object, ...]], ...]  # (attribute, key, markers)


@functools.cache
def _field_plan(cls: type[BaseModel]) -> _FieldPlan:
    """What `walk` needs of a model class, computed once per class (annotations are static)."""
    fields = cls.model_fields
    return _FieldPlan("namespace" in fields, tuple(
        (name, info.alias or name, tuple(info.metadata) + _markers(info.annotation))
        for name, info in fields.items()))


def _walk_value(found: list[Visit], value: object, loc: Loc, namespace: str | None,
                markers: tuple[object, ...], owner: BaseModel) -> None:
    found.append(Visit(loc, value, namespace, markers, owner))
    if isinstance(value, BaseModel):
        _walk_model(found, value, loc, namespace)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _walk_value(found, item, (*loc, index), namespace, markers, owner)
    elif isinstance(value, dict):
        for key, item in value.items():
            _walk_value(found, item, (*loc, str(key)), namespace, markers, owner)


def _markers(annotation: object) -> tuple[object, ...]:
    """Metadata objects nested anywhere in a type annotation (inside Optional, list, dict)."""
    found: list[object] = []
    if typing.get_origin(annotation) is typing.Annotated:
        found.extend(getattr(annotation, "__metadata__", ()))
    for arg in typing.get_args(annotation):
        if isinstance(arg, type | types.GenericAlias | types.UnionType) or typing.get_origin(arg):
            found.extend(_markers(arg))
    return tuple(found)


@dataclass(frozen=True)
class FoundSecretRef:
    """A secret reference found in the profile, with where it is and the namespace it is in."""

    loc: Loc
    ref: SecretRef
    namespace: str | None


@per_object(4)
def secret_refs(model: BaseModel) -> tuple[FoundSecretRef, ...]:
    """Every `SecretRef` anywhere in the profile, in document order."""
    return tuple(FoundSecretRef(v.loc, v.value, v.namespace) for v in visits(model)
            if isinstance(v.value, SecretRef))
