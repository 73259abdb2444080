"""Checks that keep secret values out of the profile (and so out of the rendered tree).

- `literal_secrets`: a string anywhere in the profile that looks like a credential (the one
  detector of `core.redact`: a known token, a URI with a password, `password=...` inside a
  string, a long random string), a value under a key named like one (`HF_TOKEN`, `apiKey`,
  `password`, `clientSecret`), a value after a flag named like one (`["--api-key", "..."]`), or a
  map key shaped like a token. The diagnostic names the place and the kind of secret, never the
  value, and `validate` takes the value out of every other message.

  Every string of the typed profile is walked (`schema.secrets.visits`), not a list of fields:
  whichever field a future component renders, a credential in it is refused at its line. A
  string where a `SecretRef` is expected is refused by the schema already; the fields of a
  reference (its name, key, remote key) are walked like any other.
- `secret_store`: a reference with `remote` needs `spec.security.secretStore`.
- `secret_conflicts`: two references that define the same synced Secret differently, or read a
  key it will not hold (see `components.secrets`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from aiplat_gen.core.errors import Diagnostic
from aiplat_gen.core.memo import per_object
from aiplat_gen.core.redact import HARMLESS, secret_key, secret_kind
from aiplat_gen.platform.secrets import synced_secrets
from aiplat_gen.profile.locator import Locator
from aiplat_gen.profile.schema.profile import Profile
from aiplat_gen.profile.schema.secrets import Loc, secret_refs, visits

HINT = ("keep the value in your secret store and reference it: a SecretRef {name, key} "
        "with `remote` to sync it")


def classify(value: str, key: str | None = None) -> str | None:
    """What kind of secret a profile string looks like (under `key`, if given), or None."""
    kind = secret_kind(value)
    if kind is None and key is not None and secret_key(key) and not HARMLESS.match(value.strip()):
        kind = f"a value under the secret-named key {key!r}"
    return kind


@dataclass(frozen=True)
class LiteralSecret:
    """A profile string that looks like a credential: where, what kind, and the value (only to
    take it out of other messages; never printed)."""

    loc: Loc
    kind: str
    value: str


def _after_secret_flag(items: list[object]) -> Iterator[tuple[int, str, str]]:
    """`["--api-key", "value"]`: (index, flag, value) for each value after a secret-named flag."""
    for index in range(1, len(items)):
        flag, value = items[index - 1], items[index]
        if (isinstance(flag, str) and isinstance(value, str) and flag.startswith("-")
                and "=" not in flag and secret_key(flag) and not value.startswith("-")
                and not HARMLESS.match(value.strip())):
            yield index, flag, value


@per_object(4)
def find_literal_secrets(profile: Profile) -> tuple[LiteralSecret, ...]:
    """Every string of the profile that looks like a credential, once per place (computed once
    per profile: `validate` reads it twice)."""
    found: dict[Loc, LiteralSecret] = {}
    for visit in visits(profile):
        last = visit.loc[-1] if visit.loc else None
        if isinstance(visit.value, list | tuple):
            for index, flag, value in _after_secret_flag(list(visit.value)):
                loc = (*visit.loc, index)
                found.setdefault(loc, LiteralSecret(
                    loc, f"a value after the secret-named flag {flag!r}", value))
            continue
        if isinstance(visit.value, str):
            key = next((p for p in reversed(visit.loc) if isinstance(p, str)), None)
            kind = classify(visit.value, key)
            if kind is not None:
                found.setdefault(visit.loc, LiteralSecret(visit.loc, kind, visit.value))
                continue
        if isinstance(last, str) and isinstance(visit.value, str | int | bool):
            # A map key itself (e.g. a label or env name) holding a token.
            kind = secret_kind(last)
            if kind is not None:
                found.setdefault(visit.loc, LiteralSecret(visit.loc, kind, last))
    return tuple(found.values())


def literal_secrets(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """No string in the profile may look like a credential."""
    for secret in find_literal_secrets(profile):
        yield at.diagnostic(secret.loc, f"looks like a literal secret ({secret.kind}); a profile "
                            "must hold no secret values", HINT)


def secret_store(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """A reference with `remote` is synced from `spec.security.secretStore`: it must exist."""
    if profile.spec.security.secret_store is not None:
        return
    for found in secret_refs(profile):
        if found.ref.remote is not None:
            yield at.diagnostic((*found.loc, "remote"),
                                f"secret {found.ref.name!r} is synced from the secret store, but "
                                "the profile names none",
                                "set spec.security.secretStore (kind, name, provider), or drop "
                                "`remote` and create the Secret yourself")


def secret_conflicts(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """References that contradict each other about one synced Secret."""
    _, problems = synced_secrets(profile)
    for problem in problems:
        yield at.diagnostic(problem.loc, problem.message, problem.hint)
