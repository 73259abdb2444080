"""What a credential looks like, written once, and the redaction of every message the tool prints.

One detector serves two ends. The literal-secret check (`checks.secrets`) refuses any profile
string it matches, at its line; and `redact` replaces what it matches in every message (each
`Diagnostic`'s path, message and hint, each error's message: see `core.errors`), so no error
echoes a credential, whichever check or schema rule quoted the value.

A string is credential-shaped when it holds
- a known token (`TOKEN_PATTERNS`: Hugging Face, OpenAI, GitHub, AWS, Google, Slack, GitLab, JWT,
  private keys);
- a URI with a password (`scheme://user:password@host`);
- in a profile string, an assignment to a credential-named name (`password=...`,
  `?token=...`, `--api-key=...`, `API_KEY: ...`), unless the value is plainly not one
  (`HARMLESS`); `redact` leaves these alone in messages (the tool's own words say "Secret: ..."),
  and the literal-secret check's findings are taken out of every other message instead;
- a long random-looking string: 32 or more characters of the base64 alphabet with upper case,
  lower case and digits and a Shannon entropy of at least 4.5 bits per character (the limit and
  alphabet of detect-secrets' `Base64HighEntropyString`, Yelp/detect-secrets v1.5.0,
  `detect_secrets/plugins/high_entropy_strings.py`; the length and the mix of cases are ours, so
  that model names such as `DeepSeek-R1-Distill-Qwen-32B-Instruct-AWQ`, 4.3 bits, pass). Hex
  strings (digests, commit ids) never reach 4.5 bits and pass too.

Token prefixes: GitHub "Behind GitHub's new authentication token formats" (github.blog, 2021:
`ghp_ gho_ ghu_ ghs_ ghr_`, and `github_pat_` for fine-grained tokens); Hugging Face "User access
tokens" (`hf_`); AWS IAM "Unique identifiers" (`AKIA` access keys, `ASIA` temporary ones); Slack
"Token types" (`xoxb- xoxp- xoxa- xoxr-`); GitLab "Token prefixes" (`glpat-`).
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator

REDACTED = "<redacted>"

SECRET_WORDS = frozenset({"password", "passwd", "passphrase", "secret", "token", "apikey",
                          "credential", "credentials", "privatekey", "accesskey", "secretkey",
                          "clientsecret", "bearer", "pwd"})
# Values that are plainly not credentials even under a secret-sounding name: booleans, numbers,
# and references to a variable the container gets from a Secret (`$(API_KEY)`, `${API_KEY}`).
HARMLESS = re.compile(r"^(|true|false|yes|no|on|off|none|null|[0-9.]+|\$\([A-Za-z_][A-Za-z0-9_]*\)"
                      r"|\$\{[A-Za-z_][A-Za-z0-9_]*\})$", re.IGNORECASE)
_MIXED = r"(?=[A-Za-z0-9_-]*[A-Z])(?=[A-Za-z0-9_-]*[a-z])(?=[A-Za-z0-9_-]*[0-9])"
# A token starts where no token character precedes it. (With `\b`, each `sk-` of a long run
# `sk-sk-sk-...` would start a scan to the run's end: quadratic time on a long value.)
_START = r"(?<![A-Za-z0-9_-])"
TOKEN_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a Hugging Face token", re.compile(_START + r"hf_(?=[A-Za-z0-9]*[A-Z])(?=[A-Za-z0-9]*[a-z])"
                                        r"[A-Za-z0-9]{30,}")),
    ("an OpenAI-style API key", re.compile(_START + r"sk-" + _MIXED + r"[A-Za-z0-9_-]{20,}")),
    ("a GitHub token", re.compile(_START + r"(gh[pousr]_[A-Za-z0-9]{36,}"
                                           r"|github_pat_[A-Za-z0-9_]{22,})")),
    ("an AWS access key", re.compile(r"(?<![A-Za-z0-9])(AKIA|ASIA)[0-9A-Z]{16}(?![A-Za-z0-9])")),
    ("a Google API key", re.compile(_START + r"AIza[0-9A-Za-z_-]{35}")),
    ("a Slack token", re.compile(_START + r"xox[abposr]-[A-Za-z0-9-]{10,}")),
    ("a GitLab token", re.compile(_START + r"glpat-[A-Za-z0-9_-]{20,}")),
    ("a private key", re.compile(r"-----BEGIN [A-Z ]{0,40}PRIVATE KEY-----")),
    ("a JSON Web Token", re.compile(_START + r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\."
                                             r"[A-Za-z0-9_-]*")),
)
# The password of `scheme://user:password@host` is group 1.
_URI_PASSWORD = re.compile(r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,30}://[^/\s:@]*:"
                           r"([^/\s@]+)@")
# `name=value`, `name: value` inside a string (not `scheme://`); the name is at most 64
# characters (linear time); the value, up to a separator of arguments or URL parameters, is
# group 2.
_ASSIGNMENT = re.compile(r"(?<![A-Za-z0-9_.])([A-Za-z][A-Za-z0-9_.-]{0,63})"
                         r"(?:\s*=\s*|:(?!//)[ \t]*)" r"""([^\s&;,?#'"]+)""")
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/=_-]{32,}")
ENTROPY_LIMIT = 4.5


@functools.lru_cache(maxsize=65536)
def key_words(key: str) -> tuple[str, ...]:
    """`HF_TOKEN` -> [hf, token]; `openaiApiKey` -> [openai, api, key]; `--api-key` ->
    [api, key]."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", key)
    return tuple(w.lower() for w in re.split(r"[\s_.\-/]+", spaced) if w)


def secret_key(key: str) -> bool:
    """True when a name names a credential: its last word (or last two words) is a secret word,
    so `HF_TOKEN`, `apiKey` and `--api-key` count, `tokenizer`, `maxTokens` and `secretName` do
    not."""
    words = key_words(key)
    if not words:
        return False
    return words[-1] in SECRET_WORDS or (len(words) > 1 and words[-2] + words[-1] in SECRET_WORDS)


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


# `Kind/namespace/name`: how findings name a Kubernetes object. Its only upper case is the
# kind's, its digits the name's (a generated suffix such as a weights Job's hash), so together
# they can look random; a credential is not spelled that way.
_OBJECT_REFERENCE = re.compile(r"[A-Z][A-Za-z]*(/[a-z0-9]([-a-z0-9.]*[a-z0-9])?){1,2}")


def _random_looking(run: str) -> bool:
    if _OBJECT_REFERENCE.fullmatch(run):
        return False
    return (any(c.isupper() for c in run) and any(c.islower() for c in run)
            and any(c.isdigit() for c in run) and entropy(run) >= ENTROPY_LIMIT)


# Something every pattern below needs (a prefix, `://`, a long run): text without any of them
# has no credential-shaped part, found with one scan instead of eleven.
_MAYBE = re.compile(r"hf_|sk-|gh[pousr]_|github_pat_|AKIA|ASIA|AIza|xox[abposr]-|glpat-"
                    r"|PRIVATE KEY-----|eyJ|://|[A-Za-z0-9+/=_-]{32}")


def shape_spans(text: str) -> Iterator[tuple[int, int, str]]:
    """Each part of text shaped like a credential whatever surrounds it (a known token, a URI's
    password, a long random string): (start, end, what it looks like)."""
    if not _MAYBE.search(text):
        return
    for kind, pattern in TOKEN_PATTERNS:
        for match in pattern.finditer(text):
            yield match.start(), match.end(), kind
    for match in _URI_PASSWORD.finditer(text):
        if not HARMLESS.match(match.group(1)):
            yield match.start(1), match.end(1), "a URI with a password"
    for match in _BASE64_RUN.finditer(text):
        if _random_looking(match.group()):
            yield match.start(), match.end(), "a long random string"


def assignment_kind(text: str) -> str | None:
    """`password=...`, `?token=...`, `--api-key=...` inside a profile string: the kind, or None.
    (Only for profile values: the tool's own messages say things like "Secret: its key".)"""
    for match in _ASSIGNMENT.finditer(text):
        if secret_key(match.group(1)) and not HARMLESS.match(match.group(2)):
            return f"a value assigned to the secret-named {match.group(1)!r}"
    return None


@functools.lru_cache(maxsize=65536)
def secret_kind(text: str) -> str | None:
    """What kind of credential a profile string holds (the first found), or None. (Cached: a
    fleet's profile repeats most of its strings once per model.)"""
    return next((kind for _, _, kind in shape_spans(text)), None) or assignment_kind(text)


def redact(text: str) -> str:
    """text with every credential-shaped part (`shape_spans`) replaced by `<redacted>`."""
    spans = sorted((start, end) for start, end, _ in shape_spans(text))
    if not spans:
        return text
    out: list[str] = []
    last = 0
    for start, end in spans:
        if end <= last:
            continue
        out.append(text[last:max(start, last)])
        out.append(REDACTED)
        last = end
    out.append(text[last:])
    return "".join(out)


def scrub(text: str, values: Iterable[str]) -> str:
    """text with each of values (the literal secrets a check found) replaced by `<redacted>`."""
    for value in sorted({v for v in values if v}, key=len, reverse=True):
        text = text.replace(value, REDACTED)
    return text
