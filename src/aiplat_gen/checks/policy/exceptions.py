"""Declared exceptions (`spec.security.policyExceptions`) as scanner annotations.

An exception names a rule of `check --policy`, a reason and the workloads it applies to. Each
workload it applies to gets, next to its other annotations:

- `checkov.io/skip<N>: <CKV id>=<reason>` for each Checkov check of the rule (Checkov reads every
  annotation whose key contains `checkov.io/skip` and splits the value on `=`);
- `ignore-check.kube-linter.io/<check>: <reason>` for each kube-linter check;
- `polaris.fairwinds.com/<check>-exempt: "true"` for each Polaris check;
- `ai.platform/policy-exception.<rule>: <reason>`, which `check --policy` itself reads.

So a scanner run on the rendered tree reports the exception as suppressed, with the reason, and
no exception exists that the profile does not declare.
"""

from __future__ import annotations

from typing import Any

from aiplat_gen.checks.policy.rules import RULES_BY_ID, WORKLOAD_KINDS
from aiplat_gen.profile.schema.profile import Profile
from aiplat_gen.profile.schema.security import PolicyException

EXCEPTION_ANNOTATION = "ai.platform/policy-exception."
CHECKOV_SKIP = "checkov.io/skip"
KUBE_LINTER_IGNORE = "ignore-check.kube-linter.io/"
POLARIS = "polaris.fairwinds.com/"


def exceptions_for(profile: Profile, obj: dict[str, Any]) -> list[PolicyException]:
    """The profile's exceptions that apply to a rendered object."""
    if obj.get("kind") not in WORKLOAD_KINDS:
        return []
    name = str(obj.get("metadata", {}).get("name", ""))
    return [e for e in profile.spec.security.policy_exceptions
            if not e.workloads or name in e.workloads]


def scanner_annotations(exceptions: list[PolicyException]) -> dict[str, str]:
    """The scanner annotations of a list of exceptions, in a stable order."""
    result: dict[str, str] = {}
    skips = 0
    for exception in exceptions:
        rule = RULES_BY_ID[exception.rule]
        result[f"{EXCEPTION_ANNOTATION}{rule.id}"] = exception.reason
        for check in rule.checkov:
            skips += 1
            result[f"{CHECKOV_SKIP}{skips}"] = f"{check}={exception.reason}"
        for check in rule.kube_linter:
            result[f"{KUBE_LINTER_IGNORE}{check}"] = exception.reason
        for check in rule.polaris:
            result[f"{POLARIS}{check}-exempt"] = "true"
    return result


def apply_exceptions(profile: Profile, obj: dict[str, Any]) -> dict[str, Any]:
    """The object with the annotations of the exceptions that apply to it (a copy, when any)."""
    found = exceptions_for(profile, obj)
    if not found:
        return obj
    # Only the top level and metadata change: copy those, share the rest (objects are fresh).
    metadata = dict(obj.get("metadata") or {})
    metadata["annotations"] = {**(metadata.get("annotations") or {}), **scanner_annotations(found)}
    return {**obj, "metadata": metadata}
