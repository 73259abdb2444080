"""What every component shares: its input context, its output, the common labels."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiplat_gen.profile.schema.profile import Profile

MANAGED_BY = "aiplat-gen"


@dataclass(frozen=True)
class RenderContext:
    """What a component reads: the validated profile and where templates come from."""

    profile: Profile
    templates_dir: Path | None = None

    def render(self, template: str, **view: Any) -> list[dict[str, Any]]:
        """Render one template into parsed Kubernetes objects (or values mappings). A string
        the template places with `{{ }}` is written as a quoted scalar (see `Placed`)."""
        from aiplat_gen.render import templating  # jinja2 loads only when something renders

        placed = {key: Placed(value) if type(value) is str else value
                  for key, value in view.items()}
        return templating.render_documents(template, self.templates_dir, **placed)


# Characters a YAML reader folds or refuses even inside double quotes; written as escapes.
_YAML_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")


class Placed(str):
    """A string a template writes with `{{ }}`. It prints as a double-quoted scalar, so values
    such as `on`, `null`, `0755` or `2026-01-01` (all valid Kubernetes names) stay strings when the
    rendered text is parsed; filters (`to_yaml`) and tests (`{% if %}`) see the plain string."""

    __slots__ = ()

    def __str__(self) -> str:
        quoted = json.dumps(str.__str__(self), ensure_ascii=False)
        return _YAML_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


@dataclass(frozen=True)
class Rendered:
    """A component's output: Kubernetes objects and Helm values per chart."""

    objects: list[dict[str, Any]] = field(default_factory=list)
    helm_values: dict[str, dict[str, Any]] = field(default_factory=dict)


def labels(profile: Profile, name: str, component: str, version: str | None = None,
           **extra: str) -> dict[str, str]:
    """The recommended labels every object carries (docs/output.md)."""
    result = {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/instance": name,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": profile.spec.platform.name,
        "app.kubernetes.io/managed-by": MANAGED_BY,
    }
    result["app.kubernetes.io/version"] = version or profile.spec.platform.version
    result.update(extra)
    return result
