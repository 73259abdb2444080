"""External Secrets: one `ExternalSecret` (external-secrets.io/v1) per synced Secret.

Every `SecretRef` with `remote`, anywhere in the profile (model tokens, data store credentials,
module API keys, gateway keys), becomes an `ExternalSecret` in the namespace of the entry that
holds the reference, against `spec.security.secretStore` (a `ClusterSecretStore` or a namespaced
`SecretStore`). The ExternalSecret owns the Secret it creates (`creationPolicy: Owner`).

- References to the same Secret in the same namespace share one ExternalSecret: its keys are the
  union of their keys. Two different sources for one key, or a reference that reads a key the
  synced Secret will not hold, are errors (the `secrets` checks report them with their place).
- A reference with `username` (database credentials) makes a `kubernetes.io/basic-auth` Secret:
  the user name is written by the template next to the password from the store.
- References without `remote` name Secrets that must already exist; nothing is rendered for them.

The output never holds a secret value: only Secret names, keys and paths in the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiplat_gen.profile.schema.profile import Profile
from aiplat_gen.profile.schema.secrets import BASIC_AUTH, Loc, RemoteRef, secret_refs
from aiplat_gen.render.components.base import RenderContext, Rendered, labels

COMPONENT = "secrets"


@dataclass
class PlannedSecret:
    """One Secret an ExternalSecret will sync: its keys and where each comes from."""

    namespace: str
    name: str
    secret_type: str
    username: str | None
    entries: dict[str, RemoteRef] = field(default_factory=dict)
    locs: dict[str, Loc] = field(default_factory=dict)
    """Where each key was first defined (for diagnostics)."""


@dataclass(frozen=True)
class SecretProblem:
    """A reference that contradicts another one, with its place in the profile."""

    loc: Loc
    message: str
    hint: str = ""


def _describe(remote: RemoteRef) -> str:
    return remote.key + (f" (property {remote.property})" if remote.property else "")


def plan(profile: Profile) -> tuple[list[PlannedSecret], list[SecretProblem]]:
    """The Secrets to sync, in document order, and the references that conflict."""
    planned: dict[tuple[str, str], PlannedSecret] = {}
    problems: list[SecretProblem] = []
    found = secret_refs(profile)
    for item in found:
        ref = item.ref
        if ref.remote is None:
            continue
        if item.namespace is None:
            problems.append(SecretProblem(item.loc, f"secret reference {ref.name!r} is not inside "
                                          "an entry with a namespace, so it cannot be synced"))
            continue
        target = planned.get((item.namespace, ref.name))
        if target is None:
            target = PlannedSecret(item.namespace, ref.name, ref.secret_type, ref.username)
            planned[(item.namespace, ref.name)] = target
        elif (target.secret_type, target.username) != (ref.secret_type, ref.username):
            first = next(iter(target.locs.values()))
            problems.append(SecretProblem(
                (*item.loc, "username"),
                f"Secret {ref.name!r} in namespace {item.namespace!r} is defined twice "
                f"differently: here as {ref.secret_type}"
                + (f" for user {ref.username!r}" if ref.username else "")
                + f", at {_dotted(first)} as {target.secret_type}"
                + (f" for user {target.username!r}" if target.username else ""),
                "use one Secret name per credential"))
            continue
        known = target.entries.get(ref.key)
        if known is not None and known != ref.remote:
            problems.append(SecretProblem(
                (*item.loc, "remote"),
                f"key {ref.key!r} of Secret {ref.name!r} in namespace {item.namespace!r} comes "
                f"from {_describe(ref.remote)} here but from {_describe(known)} at "
                f"{_dotted(target.locs[ref.key])}",
                "a Secret key has one source: rename one of the Secrets"))
            continue
        target.entries.setdefault(ref.key, ref.remote)
        target.locs.setdefault(ref.key, item.loc)
    for item in found:
        ref = item.ref
        if ref.remote is not None or item.namespace is None:
            continue
        target = planned.get((item.namespace, ref.name))
        if target is None:
            continue
        keys = sorted({*target.entries, *(["username"] if target.username else [])})
        if ref.key not in keys:
            problems.append(SecretProblem(
                (*item.loc, "key"),
                f"Secret {ref.name!r} in namespace {item.namespace!r} is synced with keys "
                f"{', '.join(keys)}; key {ref.key!r} will not exist",
                "add `remote` here to sync this key too, or read one of the synced keys"))
    return list(planned.values()), problems


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def target(secret: PlannedSecret) -> dict[str, Any]:
    """`spec.target`: the Secret's name, ownership and (for basic-auth) its template."""
    result: dict[str, Any] = {"name": secret.name, "creationPolicy": "Owner",
                              "deletionPolicy": "Retain"}
    if secret.secret_type == BASIC_AUTH:
        assert secret.username is not None
        # The store holds only the password; the template adds the (non-secret) user name.
        result["template"] = {"type": BASIC_AUTH, "engineVersion": "v2", "data": {
            "username": secret.username,
            "password": "{{ .password }}",
        }}
    return result


def data(secret: PlannedSecret) -> list[dict[str, Any]]:
    """`spec.data`: one entry per key, sorted by key."""
    result = []
    for key in sorted(secret.entries):
        remote = secret.entries[key]
        ref: dict[str, str] = {"key": remote.key}
        if remote.property is not None:
            ref["property"] = remote.property
        result.append({"secretKey": key, "remoteRef": ref})
    return result


def render(ctx: RenderContext) -> Rendered:
    """An ExternalSecret for every Secret synced from the store."""
    store = ctx.profile.spec.security.secret_store
    planned, _ = plan(ctx.profile)
    if store is None or not planned:
        return Rendered()
    objects: list[dict[str, Any]] = []
    for secret in planned:
        objects += ctx.render(
            "secrets/externalsecret.yaml.j2", name=secret.name, namespace=secret.namespace,
            labels=labels(ctx.profile, secret.name, COMPONENT), refresh_interval=
            store.refresh_interval, store_kind=store.kind, store_name=store.name,
            target=target(secret), data=data(secret),
        )
    return Rendered(objects=objects)
