"""Validate a merged profile: pydantic schema first, then the cross-layer checks.

Every problem is reported at once, located at the file, line and column the value came from
(which may be a parent profile's file) with its dotted path in the profile.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from aiplat_gen.checks import run_checks
from aiplat_gen.checks.secrets import classify, find_literal_secrets
from aiplat_gen.core.errors import Diagnostic, ProfileError, ProfileRef, Severity
from aiplat_gen.core.hints import listed
from aiplat_gen.core.redact import scrub
from aiplat_gen.profile.loader import display_path, to_plain
from aiplat_gen.profile.locator import Loc, Locator, format_path
from aiplat_gen.profile.merge import PROFILE_SUFFIX, ProfileSource, load_profile
from aiplat_gen.profile.schema.cluster import MIG_PROFILE_PATTERN
from aiplat_gen.profile.schema.gitops import SYNC_OPTION_PATTERN
from aiplat_gen.profile.schema.profile import KUBERNETES_VERSION_PATTERN, Profile
from aiplat_gen.profile.schema.types import (
    API_GROUP_PATTERN,
    DNS_LABEL_PATTERN,
    DURATION_PATTERN,
    IMAGE_TAG_PATTERN,
    KARPENTER_DURATION_PATTERN,
    KIND_PATTERN,
    LABEL_VALUE_PATTERN,
    PROMETHEUS_DURATION_PATTERN,
    QUANTITY_PATTERN,
)

# Friendlier words for the regular expressions of constrained types.
PATTERN_MESSAGES: dict[str, tuple[str, str]] = {
    DNS_LABEL_PATTERN: ("must be a DNS-1123 label",
                        "lower-case letters, digits and '-', starting and ending with a letter "
                        "or digit"),
    QUANTITY_PATTERN: ("is not a Kubernetes quantity", "e.g. 500m, 4, 16Gi"),
    DURATION_PATTERN: ("is not a duration", "e.g. 30s, 5m, 1h"),
    KARPENTER_DURATION_PATTERN: ("is not a Karpenter duration",
                                 "s, m or h, e.g. 30s, 10m, 1h30m, or Never"),
    PROMETHEUS_DURATION_PATTERN: ("is not a Prometheus duration", "e.g. 15s, 30s, 1m"),
    KIND_PATTERN: ("is not a Kubernetes kind", "letters, digits and '-', e.g. EC2NodeClass"),
    API_GROUP_PATTERN: ("is not an API group", "a DNS subdomain without a version, e.g. "
                        "karpenter.k8s.aws"),
    LABEL_VALUE_PATTERN: ("is not a Kubernetes label value",
                          "at most 63 letters, digits, '-', '_' or '.', starting and ending with "
                          "a letter or digit"),
    IMAGE_TAG_PATTERN: ("is not an image tag", "letters, digits, '_', '.' and '-', e.g. "
                        "580.95.05"),
    MIG_PROFILE_PATTERN: ("is not a MIG profile name", "e.g. 1g.10gb, 3g.40gb"),
    SYNC_OPTION_PATTERN: ("is not an ArgoCD sync option", "Name=value, e.g. PruneLast=true"),
    KUBERNETES_VERSION_PATTERN: ("must be a Kubernetes minor version from 1.25 to 1.37",
                                 'quote it, e.g. "1.33"'),
}
KEY_HINTS: dict[str, str] = {
    "limits.nvidia.com/gpu": "GPU quota is `gpus`, written as requests.nvidia.com/gpu; "
    "Kubernetes allows no `limits.` quota for extended resources",
    "requests.nvidia.com/gpu": "write GPU quota as `gpus: <count>`",
}
_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "a boolean",
               list: "a list", dict: "a mapping", type(None): "null"}


@dataclass(frozen=True)
class ValidatedProfile:
    """A profile that passed every check, with the warnings found on the way."""

    source: ProfileSource
    profile: Profile
    warnings: tuple[Diagnostic, ...]

    @property
    def name(self) -> str:
        """The profile name (= file name)."""
        return self.source.name


def validate_file(path: Path) -> ValidatedProfile:
    """Load, merge, and validate a profile; raise ProfileError with every problem found."""
    return validate_source(load_profile(path))


def validate_source(source: ProfileSource) -> ValidatedProfile:
    """Validate a loaded and merged profile; raise ProfileError with every problem found. Each
    diagnostic names the profile and its `extends` chain."""
    ref = ProfileRef(source.name, source.chain)
    try:
        return _validate(source)
    except ProfileError as exc:
        raise ProfileError(exc.message, [d.for_profile(ref) for d in exc.diagnostics]) from None


def _validate(source: ProfileSource) -> ValidatedProfile:
    plain, positions = to_plain(source.tree)
    files = tuple(display_path(source.path.parent / f"{n}{PROFILE_SUFFIX}") for n in source.chain)
    locator = Locator(positions, source.tree.pos, files)
    ref = ProfileRef(source.name, source.chain)
    try:
        profile = Profile.model_validate(plain)
    except ValidationError as exc:
        raise ProfileError("invalid profile", _schema_diagnostics(exc, plain, locator)) from None
    diagnostics: list[Diagnostic] = []
    if profile.metadata.name != source.name:
        diagnostics.append(locator.diagnostic(
            ("metadata", "name"), f"name {profile.metadata.name!r} does not match the file name",
            f"rename the file to {profile.metadata.name}.yaml or set `name: {source.name}`"))
    diagnostics.extend(run_checks(profile, locator))
    diagnostics = _without_secrets(diagnostics, [s.value for s in find_literal_secrets(profile)])
    errors = [d for d in diagnostics if d.severity is Severity.ERROR]
    if errors:
        raise ProfileError("invalid profile", diagnostics)
    warnings = sorted((d.for_profile(ref) for d in diagnostics), key=Diagnostic.sort_key)
    return ValidatedProfile(source, profile, tuple(warnings))


def _without_secrets(diagnostics: list[Diagnostic], values: list[str]) -> list[Diagnostic]:
    """Once the literal-secret check has refused a value, no other message repeats it (values
    shaped like a token are redacted in every message anyway: `core.redact`)."""
    if not values:
        return diagnostics
    return [dataclasses.replace(d, message=scrub(d.message, values), hint=scrub(d.hint, values),
                                path=scrub(d.path, values)) for d in diagnostics]


def _schema_diagnostics(exc: ValidationError, plain: Any, locator: Locator) -> list[Diagnostic]:
    diagnostics = []
    secrets: list[str] = []
    misspelled_top = False
    missing: list[Diagnostic] = []
    for error in exc.errors(include_url=False):
        loc: Loc = tuple(error["loc"])
        kind = error["type"]
        given_value = error.get("input")
        key = next((p for p in reversed(loc) if isinstance(p, str)), None)
        if isinstance(given_value, str) and classify(given_value, key) is not None:
            secrets.append(given_value)
        message = str(error["msg"]).removeprefix("Value error, ")
        hint = ""
        if kind == "extra_forbidden":
            key = str(loc[-1])
            allowed = allowed_keys(loc[:-1])
            if len(loc) == 1:  # `extends` is read (and removed) by the merge, before the schema
                allowed = sorted([*allowed, "extends"])
            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            message = f"unknown key {key!r}"
            if len(loc) == 1 and close:
                misspelled_top = True
            if key in KEY_HINTS:
                hint = KEY_HINTS[key]
            elif close and len(loc) == 1:  # few top-level keys: name them all
                hint = f"did you mean {close[0]!r}? allowed: {listed(allowed)}"
            elif close:
                hint = f"did you mean {close[0]!r}?"
            elif allowed:
                hint = "allowed: " + listed(allowed)
        elif kind == "missing":
            message = f"missing required key {loc[-1]!r}"
            missing.append(Diagnostic(locator.at(loc[:-1]), format_path(loc), message, hint))
            continue
        elif kind == "literal_error":
            choices = re.findall(r"'([^']*)'", str(error.get("ctx", {}).get("expected", "")))
            given = error.get("input")
            close = difflib.get_close_matches(str(given), choices, n=1) if choices else []
            message = f"{given!r} is not one of: " + ", ".join(choices)
            hint = f"did you mean {close[0]!r}?" if close else ""
        elif kind == "string_pattern_mismatch":
            pattern = str(error.get("ctx", {}).get("pattern", ""))
            if pattern in PATTERN_MESSAGES:
                words, hint = PATTERN_MESSAGES[pattern]
                message = f"{error.get('input')!r} {words}"
        elif kind.endswith("_type") or kind.endswith("_parsing"):
            given = _TYPE_NAMES.get(type(error.get("input")), "something else")
            message = f"{message.rstrip('.')}, got {given}"
            if isinstance(error.get("input"), str) and kind in ("int_type", "float_type",
                                                                 "bool_type"):
                hint = "remove the quotes"
            elif kind == "string_type" and not isinstance(error.get("input"), (dict, list)):
                hint = "quote the value"
        diagnostics.append(Diagnostic(locator.at(loc), format_path(loc), message, hint))
    if not misspelled_top:
        # A misspelled top-level key (`extend: base`, `spc:`) leaves out a parent or a whole
        # section; the keys "missing" because of it would bury the one error that matters.
        diagnostics.extend(missing)
    return _without_secrets(diagnostics, secrets)


@functools.cache
def _schema() -> dict[str, Any]:
    return Profile.model_json_schema(by_alias=True)


def allowed_keys(loc: Loc) -> list[str]:
    """The keys the profile schema allows in the mapping at loc (list indexes are skipped)."""
    schema = _schema()
    node: dict[str, Any] = schema
    for part in loc:
        node = _resolve(schema, node)
        if isinstance(part, int):
            node = node.get("items", {})
        else:
            node = node.get("properties", {}).get(part) or node.get("additionalProperties") or {}
            if not isinstance(node, dict):
                return []
    node = _resolve(schema, node)
    return sorted(node.get("properties", {}))


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while True:
        if "$ref" in node:
            node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
        elif "anyOf" in node:
            objects = [n for n in node["anyOf"] if n.get("type") != "null"]
            node = objects[0] if objects else {}
        elif "allOf" in node and len(node["allOf"]) == 1:
            node = node["allOf"][0]
        else:
            return node
