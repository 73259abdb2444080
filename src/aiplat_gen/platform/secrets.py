"""The Secrets the platform syncs from the external store: every `SecretRef` with `remote`,
grouped per namespace and Secret name, and the references that contradict each other. The
`secrets` component renders one ExternalSecret per planned Secret; the `secrets` checks report
the problems at their place in the profile.

A Secret whose every key is a client id (Envoy Gateway's `apiKeyAuth`, the `gateway-api` and
`envoy-ai-gateway` providers) is synced whole: its store entry (or the `property` of it) holds
one field per client, and each becomes a key of the Secret (External Secrets `dataFrom.extract`,
"All Keys, One Secret"). The reference's `key` is then not read."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiplat_gen.profile.schema.profile import Profile
from aiplat_gen.profile.schema.secrets import Loc, RemoteRef, SecretRef, secret_refs
from aiplat_gen.profile.schema.serving import Model


@dataclass
class SyncedSecret:
    """One Secret an ExternalSecret will sync: its keys and where each comes from."""

    namespace: str
    name: str
    secret_type: str
    username: str | None
    entries: dict[str, RemoteRef] = field(default_factory=dict)
    locs: dict[str, Loc] = field(default_factory=dict)
    """Where each key was first defined (for diagnostics)."""
    extract: RemoteRef | None = None
    """Sync every field of this store entry as a key (one key per client); `entries` is then
    empty."""
    extract_loc: Loc = ()


@dataclass(frozen=True)
class SecretProblem:
    """A reference that contradicts another one, with its place in the profile."""

    loc: Loc
    message: str
    hint: str = ""


def hub_token(profile: Profile, model: Model) -> SecretRef | None:
    """The Hugging Face token the model's downloads use: its own `hfToken`, else the first
    `hfToken` another model of the same namespace names (that Secret exists there, synced or
    not). Gated repositories (Meta's Llama, Mistral's) answer 401 without one."""
    if model.hf_token is not None:
        return model.hf_token
    return next((m.hf_token for m in profile.spec.models
                 if m.namespace == model.namespace and m.hf_token is not None), None)


def _describe(remote: RemoteRef) -> str:
    return remote.key + (f" (property {remote.property})" if remote.property else "")


def synced_secrets(profile: Profile) -> tuple[list[SyncedSecret], list[SecretProblem]]:
    """The Secrets to sync, in document order, and the references that conflict."""
    planned: dict[tuple[str, str], SyncedSecret] = {}
    problems: list[SecretProblem] = []
    found = secret_refs(profile)
    whole = per_client_secret_locs(profile)
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
            target = SyncedSecret(item.namespace, ref.name, ref.secret_type, ref.username)
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
        if item.loc in whole or target.extract is not None:
            problem = _extract(target, item.loc, ref.remote, item.loc in whole)
            if problem is not None:
                problems.append(problem)
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
        if target is None or target.extract is not None:
            continue
        keys = sorted({*target.entries, *(["username"] if target.username else [])})
        if ref.key not in keys:
            problems.append(SecretProblem(
                (*item.loc, "key"),
                f"Secret {ref.name!r} in namespace {item.namespace!r} is synced with keys "
                f"{', '.join(keys)}; key {ref.key!r} will not exist",
                "add `remote` here to sync this key too, or read one of the synced keys"))
    return list(planned.values()), problems


def per_client_secret_locs(profile: Profile) -> frozenset[Loc]:
    """Places of the references to Secrets whose every key is a client id: the API-key Secrets
    of Envoy Gateway's `apiKeyAuth` (SecurityPolicy CRD, envoyproxy/gateway v1.9.0:
    "Each API key is stored in the key representing the client id")."""
    gw = profile.spec.gateway
    if gw is None or gw.provider not in ("gateway-api", "envoy-ai-gateway"):
        return frozenset()
    return frozenset(("spec", "gateway", "auth", "secrets", i)
                     for i in range(len(gw.auth.secrets)))


def _extract(target: SyncedSecret, loc: Loc, remote: RemoteRef,
             whole: bool) -> SecretProblem | None:
    """Make `target` a whole-entry sync from `remote`, or say why it cannot be."""
    if whole and not target.entries and target.extract in (None, remote):
        target.extract = remote
        target.extract_loc = target.extract_loc or loc
        return None
    other = target.extract_loc if target.extract is not None else next(iter(target.locs.values()))
    return SecretProblem(
        (*loc, "remote"),
        f"Secret {target.name!r} in namespace {target.namespace!r} holds one key per API "
        f"client (synced whole from {_describe(target.extract or remote)}), and is synced "
        f"differently at {_dotted(other)}",
        "give the gateway's API keys a Secret of their own")


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out
