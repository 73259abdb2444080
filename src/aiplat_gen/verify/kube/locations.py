"""Schema locations, shared by kubeconform and the in-process validator so both read the same files.

The JSON schemas of the custom kinds aiplat-gen renders ship with it (`builtin_crd_schemas`,
made by `scripts/crd_schemas.py` from the upstream CRDs of the pinned chart versions), so `check`
needs no network; `--schema-location` adds locations, searched before the shipped ones.

A location is what kubeconform's `-schema-location` takes: a path or URL template with
`{{ .Group }}`, `{{ .ResourceKind }}`, `{{ .ResourceAPIVersion }}`, `{{ .KindSuffix }}`,
`{{ .NormalizedKubernetesVersion }}` and `{{ .StrictSuffix }}`. Users give a folder or URL in the
CRDs-catalog layout (`<group>/<kind>_<version>.json`), which `crd_location` turns into a template;
`expand` fills a template exactly as kubeconform v0.7.0 does (`schemaPath` in
`pkg/registry/registry.go`), always in strict mode.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from urllib.parse import unquote, urlparse

from aiplat_gen.core.errors import UsageError

CATALOG_FILE = "{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json"
KUBERNETES_FILE = "{{ .ResourceKind }}{{ .KindSuffix }}.json"
_VARIABLE = re.compile(r"\{\{\s*\.(\w+)\s*\}\}")
_VARIABLES = {"Group", "ResourceKind", "ResourceAPIVersion", "KindSuffix",
              "NormalizedKubernetesVersion", "StrictSuffix"}


BUILTIN_CRD_SCHEMAS = "crd-schemas"
"""The folder of the package (and of a source checkout) with the shipped CRD schemas."""


def builtin_crd_schemas() -> Path:
    """The CRD schemas shipped with the package; from a source checkout, the top-level folder."""
    packaged = resources.files("aiplat_gen") / BUILTIN_CRD_SCHEMAS
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[4] / BUILTIN_CRD_SCHEMAS
    if checkout.is_dir():
        return checkout
    raise RuntimeError("aiplat-gen's CRD schemas are missing from the installation")


def crd_locations(given: tuple[str, ...] | list[str]) -> list[str]:
    """The CRD schema location templates to search, in order: those given (`--schema-location`,
    so they override), then the shipped ones."""
    return [*(crd_location(loc) for loc in given), crd_location(str(builtin_crd_schemas()))]


def is_url(location: str) -> bool:
    """True for an http(s) location (kubeconform fetches those; a folder is read from disk)."""
    return location.startswith(("http://", "https://"))


def crd_location(given: str) -> str:
    """The location template for a `--schema-location`: a folder or URL in the CRDs-catalog
    layout, a `file://` URL, or an explicit template ending in `.json`."""
    text = given.strip()
    if text.startswith("file://"):
        text = unquote(urlparse(text).path)
    if text.endswith(".json"):
        template = text
    elif is_url(text):
        template = f"{text.rstrip('/')}/{CATALOG_FILE}"
    elif Path(text).expanduser().is_dir():
        template = f"{Path(text).expanduser().absolute()}/{CATALOG_FILE}"
    else:
        raise UsageError(f"schema location {given!r} is neither a folder, a URL nor a template "
                         "ending in .json")
    _check_template(template)
    return template


def _check_template(template: str) -> None:
    unknown = sorted(set(_VARIABLE.findall(template)) - _VARIABLES)
    if unknown:
        raise UsageError(f"schema location {template!r} uses unknown variables: "
                         + ", ".join(unknown))


def expand(template: str, kind: str, api_version: str, kubernetes_version: str) -> str:
    """The schema path or URL for one resource, as kubeconform computes it (strict mode)."""
    group_parts = api_version.split("/")
    kind_suffix = "-" + group_parts[0].split(".")[0].lower()
    if len(group_parts) > 1:
        kind_suffix += "-" + group_parts[1].lower()
    values = {
        "NormalizedKubernetesVersion": f"v{kubernetes_version}",
        "StrictSuffix": "-strict",
        "ResourceKind": kind.lower(),
        "ResourceAPIVersion": group_parts[-1],
        "Group": group_parts[0],
        "KindSuffix": kind_suffix,
    }
    return _VARIABLE.sub(lambda m: values[m.group(1)], template)
