"""Checks that keep secret values out of the profile (and so out of the rendered tree).

- `literal_secrets`: a string anywhere in the profile that looks like a credential: a value under
  a key named like one (`HF_TOKEN`, `apiKey`, `password`, `clientSecret`), a value shaped like a
  known token (Hugging Face, OpenAI, GitHub, AWS, Google, Slack, GitLab, JWT, private keys), or a
  URI with a password (`scheme://user:password@host`). The diagnostic names the place and the kind
  of secret, never the value. (A string where a `SecretRef` is expected is refused by the schema
  already.)
- `secret_store`: a reference with `remote` needs `spec.security.secretStore`.
- `secret_conflicts`: two references that define the same synced Secret differently, or read a
  key it will not hold (see `components.secrets`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from aiplat_gen.core.errors import Diagnostic
from aiplat_gen.platform.secrets import synced_secrets
from aiplat_gen.profile.locator import Locator
from aiplat_gen.profile.schema.profile import Profile
from aiplat_gen.profile.schema.secrets import RemoteRef, SecretRef, secret_refs, visits

HINT = ("keep the value in your secret store and reference it: a SecretRef {name, key} "
        "with `remote` to sync it")

SECRET_WORDS = frozenset({"password", "passwd", "passphrase", "secret", "token", "apikey",
                          "credential", "credentials", "privatekey", "accesskey", "secretkey",
                          "clientsecret", "bearer"})
# Values that are plainly not credentials even under a secret-sounding key.
_HARMLESS = re.compile(r"^(|true|false|yes|no|on|off|none|null|[0-9.]+|\$\([A-Za-z_][A-Za-z0-9_]*\)"
                       r"|\$\{[A-Za-z_][A-Za-z0-9_]*\})$", re.IGNORECASE)
_MIXED = r"(?=[A-Za-z0-9_-]*[A-Z])(?=[A-Za-z0-9_-]*[a-z])(?=[A-Za-z0-9_-]*[0-9])"
# A token starts where no token character precedes it. (With `\b`, each `sk-` of a long run
# `sk-sk-sk-...` would start a scan to the run's end: quadratic time on a long value.)
_START = r"(?<![A-Za-z0-9_-])"
TOKEN_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a Hugging Face token", re.compile(r"\bhf_(?=[A-Za-z0-9]*[A-Z])(?=[A-Za-z0-9]*[a-z])"
                                        r"[A-Za-z0-9]{30,}")),
    ("an OpenAI-style API key", re.compile(_START + r"sk-" + _MIXED + r"[A-Za-z0-9_-]{20,}")),
    ("a GitHub token", re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{22,})")),
    ("an AWS access key", re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}")),
    ("a Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("a GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}")),
    ("a private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    ("a JSON Web Token", re.compile(_START + r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.")),
)
_URI_PASSWORD = re.compile(r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:([^/\s@]+)@")


def key_words(key: str) -> list[str]:
    """`HF_TOKEN` -> [hf, token]; `openaiApiKey` -> [openai, api, key]."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", key)
    return [w.lower() for w in re.split(r"[\s_.\-/]+", spaced) if w]


def secret_key(key: str) -> bool:
    """True when a key names a credential: its last word (or last two words) is a secret word,
    so `HF_TOKEN` and `apiKey` count, `tokenizer`, `maxTokens` and `secretName` do not."""
    words = key_words(key)
    if not words:
        return False
    return words[-1] in SECRET_WORDS or (len(words) > 1 and words[-2] + words[-1] in SECRET_WORDS)


def classify(value: str, key: str | None = None) -> str | None:
    """What kind of secret a string looks like, or None."""
    for kind, pattern in TOKEN_PATTERNS:
        if pattern.search(value):
            return kind
    match = _URI_PASSWORD.search(value)
    if match and not _HARMLESS.match(match.group(1)):
        return "a URI with a password"
    if key is not None and secret_key(key) and not _HARMLESS.match(value.strip()):
        return f"a value under the secret-named key {key!r}"
    return None


def literal_secrets(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """No string in the profile may look like a credential."""
    seen: set[tuple[str | int, ...]] = set()
    for visit in visits(profile):
        if isinstance(visit.owner, SecretRef | RemoteRef):
            continue
        last = visit.loc[-1] if visit.loc else None
        key = next((p for p in reversed(visit.loc) if isinstance(p, str)), None)
        kind = None
        if isinstance(visit.value, str):
            kind = classify(visit.value, key)
        if kind is None and isinstance(last, str) and isinstance(visit.value, str | int | bool):
            # A map key itself (e.g. a label or env name) holding a token.
            kind = next((k for k, p in TOKEN_PATTERNS if p.search(last)), None)
        if kind is not None and visit.loc not in seen:
            seen.add(visit.loc)
            yield at.diagnostic(visit.loc, f"looks like a literal secret ({kind}); a profile "
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
