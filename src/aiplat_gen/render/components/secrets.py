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
- The API-key Secrets of Envoy Gateway (`gateway-api`, `envoy-ai-gateway`) hold one key per
  client: their store entry (or its `property`, a map) is synced whole with `dataFrom.extract`,
  each field a client id and its value that client's key (External Secrets v1, "All Keys, One
  Secret"; `property` on `extract` needs a provider that supports it, as Vault and AWS Secrets
  Manager do for JSON values).
- References without `remote` name Secrets that must already exist; nothing is rendered for them.

The output never holds a secret value: only Secret names, keys and paths in the store.
"""

from __future__ import annotations

from typing import Any

from aiplat_gen.platform.secrets import SyncedSecret, synced_secrets
from aiplat_gen.profile.schema.secrets import BASIC_AUTH
from aiplat_gen.render.components.base import RenderContext, Rendered, labels

COMPONENT = "secrets"


def target(secret: SyncedSecret) -> dict[str, Any]:
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


def data(secret: SyncedSecret) -> list[dict[str, Any]]:
    """`spec.data`: one entry per key, sorted by key."""
    result = []
    for key in sorted(secret.entries):
        remote = secret.entries[key]
        ref: dict[str, str] = {"key": remote.key}
        if remote.property is not None:
            ref["property"] = remote.property
        result.append({"secretKey": key, "remoteRef": ref})
    return result


def data_from(secret: SyncedSecret) -> list[dict[str, Any]]:
    """`spec.dataFrom`: the whole store entry, for a Secret of one key per client."""
    if secret.extract is None:
        return []
    extract: dict[str, str] = {"key": secret.extract.key}
    if secret.extract.property is not None:
        extract["property"] = secret.extract.property
    return [{"extract": extract}]


def render(ctx: RenderContext) -> Rendered:
    """An ExternalSecret for every Secret synced from the store."""
    store = ctx.profile.spec.security.secret_store
    planned, _ = synced_secrets(ctx.profile)
    if store is None or not planned:
        return Rendered()
    objects: list[dict[str, Any]] = []
    for secret in planned:
        objects += ctx.render(
            "secrets/externalsecret.yaml.j2", name=secret.name, namespace=secret.namespace,
            labels=labels(ctx.profile, secret.name, COMPONENT), refresh_interval=
            store.refresh_interval, store_kind=store.kind, store_name=store.name,
            target=target(secret), data=data(secret), data_from=data_from(secret),
        )
    return Rendered(objects=objects)
