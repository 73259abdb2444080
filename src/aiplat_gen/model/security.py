"""Profile model of the platform's security settings (`spec.security`)."""

from __future__ import annotations

from aiplat_gen.model.secrets import SecretStore
from aiplat_gen.model.types import Strict


class Security(Strict):
    """Security settings of the whole platform: where credentials come from (and, in later
    releases, RBAC groups and network-policy mode)."""

    secret_store: SecretStore | None = None
    """The External Secrets store every secret reference with `remote` is synced from. Without
    it, every secret reference must name a Secret that already exists."""
