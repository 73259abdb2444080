"""Credentials by reference. The profile never holds a secret value, only where to find it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from aiplat_gen.model.types import DnsLabel, Strict


class RemoteRef(Strict):
    """Where the value lives in the external secret store (External Secrets `remoteRef`)."""

    key: str = Field(min_length=1, examples=["ai/prod/hf-token"])
    """The secret's path or name in the store."""
    property: str | None = Field(default=None, examples=["token"])
    """A field inside a structured secret (JSON or a Vault KV entry)."""


class SecretRef(Strict):
    """A Kubernetes Secret a workload reads, by name and key. With `remote`, aiplat-gen also
    renders an `ExternalSecret` that syncs it from the profile's secret store; without, the
    Secret must already exist."""

    name: DnsLabel = Field(examples=["hf-token"])
    """Name of the Secret in the workload's namespace."""
    key: str = Field(default="token", pattern=r"^[-._a-zA-Z0-9]+$")
    """Key within the Secret."""
    remote: RemoteRef | None = None
    """Sync the Secret from the external store (needs `spec.security.secretStore`)."""


class SecretStore(Strict):
    """The External Secrets store every `remote` secret reference is synced from."""

    kind: Literal["ClusterSecretStore", "SecretStore"] = "ClusterSecretStore"
    name: DnsLabel = Field(examples=["vault"])
    provider: Literal["vault", "aws", "gcp", "azure"] = Field(examples=["vault"])
    """The backing store, for documentation and provider-specific defaults."""
    refresh_interval: str = Field(default="1h", examples=["1h"])
    """How often External Secrets re-reads each secret."""
