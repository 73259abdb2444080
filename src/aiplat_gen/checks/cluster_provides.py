"""Checks that everything the tree refers to and does not create comes from somewhere.

- `provided_objects`: every StorageClass a volume names (and the default class, for a volume
  that names none), the namespace of the alert rules when the profile does not create it, the
  External Secrets store once a secret is synced, every Karpenter node class and the
  gateway's TLS Secret are declared under `spec.clusterProvides` (aiplat-gen renders none of
  them).
- `provided_controllers`: every controller the rendered platform needs is installed by an
  operator Application or declared under `spec.clusterProvides.controllers`, and none is both
  (two installations of one operator fight over its CRDs and webhooks).

What counts as a reference is decided in `aiplat_gen.platform.provided`, which
`output/README.md` uses too.
"""

from __future__ import annotations

from collections.abc import Iterator

from aiplat_gen.core.errors import Diagnostic
from aiplat_gen.core.hints import did_you_mean
from aiplat_gen.platform.facts.controllers import CONTROLLERS
from aiplat_gen.platform.provided import (
    Reference,
    controllers,
    declared,
    default_class_volumes,
    installed_by_application,
    namespaces,
    node_classes,
    secret_stores,
    storage_classes,
    tls_secrets,
)
from aiplat_gen.profile.locator import Locator
from aiplat_gen.profile.schema.profile import Profile

PROVIDES = "spec.clusterProvides"


def _hint(name: str, section: str, known: list[str]) -> str:
    where = f"declare it under {PROVIDES}.{section}"
    close = did_you_mean(name, known)
    if close.startswith("did you mean"):
        return f"{close} else {where}"
    return f"{where}; {close}" if close else where


def provided_objects(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """StorageClasses, the secret store, node classes and the TLS Secret are declared."""
    groups: dict[tuple[object, ...], list[Reference]] = {}
    for ref in (*storage_classes(profile), *namespaces(profile), *secret_stores(profile),
                *node_classes(profile), *tls_secrets(profile)):
        if ref.name not in declared(profile, ref.section):
            groups.setdefault((ref.loc, ref.section, ref.name), []).append(ref)
    for refs in groups.values():
        ref = refs[0]
        places = sorted({r.namespace for r in refs if r.namespace is not None})
        where = ""
        if places:
            where = f" in namespace{'s' if len(places) > 1 else ''} {', '.join(places)}"
        yield at.diagnostic(ref.loc, f"{ref.kind} {ref.name!r}{where} is not declared as "
                            "provided by the cluster, and aiplat-gen does not create it",
                            _hint(ref.name, ref.section, declared(profile, ref.section)))
    if profile.spec.cluster_provides.default_storage_class is None:
        for ref in default_class_volumes(profile):
            yield at.diagnostic(
                ref.loc, f"the volume of {ref.user} names no storageClass, so it gets the "
                "cluster's default StorageClass, which is not declared",
                f"name one with `storageClass:`, or declare the cluster's default class under "
                f"{PROVIDES}.defaultStorageClass")


def provided_controllers(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """Every needed controller is installed by an operator Application or declared, not both;
    reported once per controller, at its first use."""
    named = declared(profile, "controllers")
    first: dict[str, Reference] = {}
    for ref in controllers(profile):
        first.setdefault(ref.name, ref)
    for name, ref in first.items():
        if name in named or installed_by_application(profile, name):
            continue
        info = CONTROLLERS[name]
        if info.chart is None:
            why = "which no operator Application installs and"
            hint = f"declare `{name}` under {PROVIDES}.controllers once the cluster runs it"
        else:
            why = f"whose operator Application is off ({_switch(name)}: false) and which"
            hint = (f"declare `{name}` under {PROVIDES}.controllers, or let the operator "
                    "Application install it")
        yield at.diagnostic(ref.loc, f"{ref.user} needs {info.title}, {why} "
                            f"{PROVIDES}.controllers does not declare", hint)
    for index, name in enumerate(named):
        if CONTROLLERS[name].chart is not None and installed_by_application(profile, name):
            yield at.diagnostic(
                ("spec", "clusterProvides", "controllers", index),
                f"`{name}` is declared as provided by the cluster, but the operator Application "
                f"{CONTROLLERS[name].chart!r} installs it too",
                f"set {_switch(name)}: false to use the cluster's, or remove it here")


def _switch(controller: str) -> str:
    """The setting that turns the operator Application of a controller off."""
    if controller == "gpu-operator":
        return "spec.gpuOperator.enabled"
    return f"spec.gitops.charts.{CONTROLLERS[controller].chart}.enabled"
