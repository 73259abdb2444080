"""Print a check report as text, JSON, JUnit XML (for CI test tabs) or GitHub annotations.

Findings are diagnostics located at the file of the output that defines the object (or at the
kustomization that failed to build), so editors and GitHub point at the right file.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable

from aiplat_gen.checks.policy.engine import Finding
from aiplat_gen.checks.policy.rules import RULES_BY_ID
from aiplat_gen.core.errors import Diagnostic, Position
from aiplat_gen.reports import diagnostics as diagnostics_report
from aiplat_gen.verify.check import CheckReport, ObjectResult, TargetResult

MAX_NAMED = 3
"""Objects named in a grouped finding; the rest are counted."""


def findings(report: CheckReport) -> list[Diagnostic]:
    """Every problem as a located diagnostic, in report order. Objects of one kind that fail for
    one cause (a missing schema, say) make one finding, at the first of them, with the count."""
    result: list[Diagnostic] = []
    groups: dict[tuple[str, str, str, tuple[str, ...]], list[tuple[TargetResult, ObjectResult]]]
    groups = {}
    slots: dict[tuple[str, str, str, tuple[str, ...]], int] = {}
    for target in report.targets:
        build = Position(target.kustomization, 1, 1)
        result += [Diagnostic(build, target.target, problem) for problem in target.problems]
        for obj in target.objects:
            if obj.status == "valid":
                continue
            cause = (obj.api_version, obj.kind, obj.status, obj.messages)
            groups.setdefault(cause, []).append((target, obj))
            if cause not in slots:
                slots[cause] = len(result)
                result.append(_finding(target, obj))
        result += [_policy_finding(target, f) for f in target.policy if f.suppressed is None]
    for cause, members in groups.items():
        if len(members) > 1:
            result[slots[cause]] = _grouped(members)
    return result


def _grouped(members: list[tuple[TargetResult, ObjectResult]]) -> Diagnostic:
    """One finding for objects of one kind failing for one cause: located at the first, naming
    a few and counting all."""
    first = _finding(*members[0])
    targets = list(dict.fromkeys(target.target for target, _ in members))
    named = [f"{target.target}: {obj.label}" for target, obj in members[:MAX_NAMED]]
    rest = len(members) - len(named)
    listed = ", ".join(named) + (f" and {rest} more" if rest > 0 else "")
    return Diagnostic(first.position, f"{', '.join(targets)}: {members[0][1].kind}",
                      f"{first.message} ({len(members)} objects: {listed})", first.hint)


def _policy_finding(target: TargetResult, finding: Finding) -> Diagnostic:
    where = Position(finding.file, finding.line, 1) if finding.file else \
        Position(target.kustomization, 1, 1)
    rule = RULES_BY_ID[finding.rule]
    hint = f"{rule.title}; or declare an exception with a reason under " \
        "spec.security.policyExceptions" if rule.exceptable else \
        f"{rule.title}; put the manifest sha256 of your reviewed copy in the profile"
    return Diagnostic(where, f"{target.target}: {finding.label}",
                      f"policy {finding.rule}: {finding.message}", hint)


def _finding(target: TargetResult, obj: ObjectResult) -> Diagnostic:
    where = Position(obj.file, obj.line, 1) if obj.file else Position(target.kustomization, 1, 1)
    message = "; ".join(obj.messages) or obj.status
    hint = ""
    if any(m.startswith("could not find schema") for m in obj.messages):
        hint = (f"no schema for {obj.api_version} {obj.kind} among those aiplat-gen ships or "
                "in any --schema-location; pass --schema-location with a folder or URL in the "
                "CRDs-catalog layout (<group>/<kind>_<version>.json)")
    return Diagnostic(where, f"{target.target}: {obj.label}", message, hint)


def summary(report: CheckReport) -> str:
    """One line: what was checked, with what, and how many findings."""
    objects = sum(len(t.objects) for t in report.targets)
    count = len(findings(report))
    verdict = "ok" if report.ok else f"{count} finding(s)"
    suppressed = sum(f.suppressed is not None for t in report.targets for f in t.policy)
    policy = f", {suppressed} policy exception(s) declared" if suppressed else ""
    return (f"checked {objects} objects in {len(report.targets)} folder(s) with "
            f"{report.validator}: {verdict}{policy}")


def to_text(report: CheckReport) -> str:
    """One line per finding, then the summary line."""
    return diagnostics_report.format_diagnostics(findings(report), "text") + summary(report) + "\n"


def to_github(report: CheckReport) -> str:
    """GitHub Actions annotations per finding, then the summary line."""
    return (diagnostics_report.format_diagnostics(findings(report), "github") + summary(report)
            + "\n")


def to_json(report: CheckReport) -> str:
    """The report as indented JSON."""
    return json.dumps(_as_json(report), indent=2) + "\n"


def format_report(report: CheckReport, fmt: str) -> str:
    """The report in one of FORMATS."""
    return REPORTERS[fmt](report)


def _as_json(report: CheckReport) -> dict[str, object]:
    return {
        "ok": report.ok,
        "validator": report.validator,
        "targets": [{
            "target": t.target, "profile": t.profile, "kubernetesVersion": t.kubernetes_version,
            "ok": t.ok, "problems": list(t.problems),
            "objects": [{
                "apiVersion": o.api_version, "kind": o.kind, "namespace": o.namespace,
                "name": o.name, "file": o.file, "line": o.line, "status": o.status,
                "messages": list(o.messages),
            } for o in t.objects],
            "policy": [{
                "rule": f.rule, "kind": f.kind, "namespace": f.namespace, "name": f.name,
                "message": f.message, "suppressed": f.suppressed, "file": f.file,
                "line": f.line,
            } for f in t.policy],
        } for t in report.targets],
        "findings": json.loads(diagnostics_report.format_diagnostics(findings(report), "json")),
    }


def _junit(report: CheckReport) -> str:
    suites = ET.Element("testsuites", name="aiplat-gen check")
    total = failures = 0
    for target in report.targets:
        suite = ET.SubElement(suites, "testsuite", name=target.target)
        cases = [("kustomize build", target.kustomization, list(target.problems))]
        cases += [(o.label, o.file, [] if o.status == "valid" else list(o.messages) or [o.status])
                  for o in target.objects]
        for name, file, problems in cases:
            case = ET.SubElement(suite, "testcase", classname=target.target, name=name, file=file)
            if problems:
                failure = ET.SubElement(case, "failure", message=problems[0])
                failure.text = "\n".join(problems)
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(sum(bool(p) for _, _, p in cases)))
        total += len(cases)
        failures += sum(bool(p) for _, _, p in cases)
    suites.set("tests", str(total))
    suites.set("failures", str(failures))
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


REPORTERS: dict[str, Callable[[CheckReport], str]] = {
    "text": to_text, "json": to_json, "junit": _junit, "github": to_github}
FORMATS = tuple(REPORTERS)
