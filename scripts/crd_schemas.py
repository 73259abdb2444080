#!/usr/bin/env python3
"""Generate `crd-schemas/`: the JSON schemas of exactly the custom kinds aiplat-gen renders, from
the upstream CRDs of the chart versions it pins, so that `aiplat-gen check` works offline.

    python scripts/crd_schemas.py [--crds ../shared/crds] [--out crd-schemas]

The CRDs are byte-for-byte upstream copies (`../shared/crds/SOURCES.md` gives the repository, tag,
commit and path of each). The layout is the CRDs catalog's, which kubeconform's `-schema-location`
reads: `<group>/<kind>_<version>.json`, the kind lower-cased. The conversion follows kubeconform's
`scripts/openapi2jsonschema.py` as the CRDs catalog runs it (datreeio/CRDs-catalog
`Utilities/openapi2jsonschema.py`), with the strict choices made explicit:
- each object schema (`type: object`) with `properties` gets `additionalProperties: false`, the
  root included (the catalog's `DENY_ROOT_ADDITIONAL_PROPERTIES`), so a misspelt field is a
  finding, as kubeconform `-strict` makes it for Kubernetes kinds; except where the CRD sets
  `x-kubernetes-preserve-unknown-fields: true`, where the API server keeps unknown fields;
- `format: int-or-string` becomes `oneOf: [string, integer]` (as the catalog), and
  `x-kubernetes-int-or-string: true` without a type of its own gets `anyOf: [integer, string]`
  (what the API server accepts there; apiextensions "IntOrString").
The output is deterministic (keys in the CRD's order, two-space indent, a final newline), and
`tests/test_crd_schemas.py` regenerates it and compares.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]

# (API group, version, kind) -> the CRD file under ../shared/crds. Exactly the custom kinds the
# templates and components render (templates/*/*.yaml.j2 and render/components/gateway_envoy.py);
# tests/test_crd_schemas.py checks every custom kind of the rendered examples, scaffolds and
# goldens is here. The versions are those of SOURCES.md.
KINDS: dict[tuple[str, str, str], str] = {
    ("aigateway.envoyproxy.io", "v1beta1", "AIGatewayRoute"):
        "aigateway.envoyproxy.io/aigatewayroutes.yaml",  # envoyproxy/ai-gateway v1.1.0
    ("aigateway.envoyproxy.io", "v1beta1", "AIServiceBackend"):
        "aigateway.envoyproxy.io/aiservicebackends.yaml",
    ("argoproj.io", "v1alpha1", "Application"): "argoproj.io/applications.yaml",  # argo-cd v3.5.1
    ("argoproj.io", "v1alpha1", "AppProject"): "argoproj.io/appprojects.yaml",
    ("configuration.konghq.com", "v1", "KongConsumer"):  # Kong/kubernetes-configuration v2.0.1
        "configuration.konghq.com/kongconsumers.yaml",
    ("configuration.konghq.com", "v1", "KongPlugin"): "configuration.konghq.com/kongplugins.yaml",
    ("external-secrets.io", "v1", "ExternalSecret"):  # external-secrets v2.9.0
        "external-secrets.io/externalsecrets.yaml",
    ("gateway.envoyproxy.io", "v1alpha1", "Backend"):  # envoyproxy/gateway v1.9.0
        "gateway.envoyproxy.io/backends.yaml",
    ("gateway.envoyproxy.io", "v1alpha1", "BackendTrafficPolicy"):
        "gateway.envoyproxy.io/backendtrafficpolicies.yaml",
    ("gateway.envoyproxy.io", "v1alpha1", "SecurityPolicy"):
        "gateway.envoyproxy.io/securitypolicies.yaml",
    ("gateway.networking.k8s.io", "v1", "Gateway"):  # kubernetes-sigs/gateway-api v1.4.1
        "gateway.networking.k8s.io/gateways.yaml",
    ("gateway.networking.k8s.io", "v1", "GatewayClass"):
        "gateway.networking.k8s.io/gatewayclasses.yaml",
    ("gateway.networking.k8s.io", "v1", "HTTPRoute"): "gateway.networking.k8s.io/httproutes.yaml",
    ("karpenter.sh", "v1", "NodePool"): "karpenter.sh/nodepools.yaml",  # karpenter v1.14.1
    ("keda.sh", "v1alpha1", "ScaledObject"): "keda.sh/scaledobjects.yaml",  # keda v2.20.2
    ("keda.sh", "v1alpha1", "TriggerAuthentication"): "keda.sh/triggerauthentications.yaml",
    ("monitoring.coreos.com", "v1", "PodMonitor"):  # prometheus-operator v0.89.0
        "monitoring.coreos.com/podmonitors.yaml",
    ("monitoring.coreos.com", "v1", "PrometheusRule"): "monitoring.coreos.com/prometheusrules.yaml",
    ("monitoring.coreos.com", "v1", "ServiceMonitor"): "monitoring.coreos.com/servicemonitors.yaml",
    ("postgresql.cnpg.io", "v1", "Cluster"): "postgresql.cnpg.io/clusters.yaml",  # cnpg v1.28.4
    ("serving.kserve.io", "v1beta1", "InferenceService"):  # kserve v0.20.0
        "serving.kserve.io/inferenceservices.yaml",
}
_INT_OR_STRING = {"oneOf": [{"type": "string"}, {"type": "integer"}]}


def convert(schema: Any) -> Any:
    """The JSON schema kubeconform reads for one CRD version's `openAPIV3Schema`."""
    if isinstance(schema, list):
        return [convert(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if schema.get("format") == "int-or-string":
        return dict(_INT_OR_STRING)
    result = {key: convert(value) for key, value in schema.items()}
    if (result.get("x-kubernetes-int-or-string") is True
            and not {"type", "anyOf", "oneOf"} & result.keys()):
        result["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    kind = result.get("type")
    is_object = kind == "object" or (isinstance(kind, list) and "object" in kind)
    if (is_object and "properties" in result and "additionalProperties" not in result
            and result.get("x-kubernetes-preserve-unknown-fields") is not True):
        result["additionalProperties"] = False
    return result


def _crd_version(crd_file: Path, group: str, version: str, kind: str) -> dict[str, Any]:
    crd = yaml.safe_load(crd_file.read_text(encoding="utf-8"))
    spec = crd["spec"]
    if spec["group"] != group or spec["names"]["kind"] != kind:
        raise SystemExit(f"{crd_file}: defines {spec['names']['kind']} in {spec['group']}, "
                         f"not {kind} in {group}")
    for entry in spec["versions"]:
        if entry["name"] == version:
            if not entry.get("served", False):
                raise SystemExit(f"{crd_file}: {kind} {version} is not served")
            schema: dict[str, Any] = entry["schema"]["openAPIV3Schema"]
            return schema
    raise SystemExit(f"{crd_file}: no version {version} of {kind}")


def generate(crds: Path, out: Path) -> list[Path]:
    """Write every schema of KINDS into `out` (emptied first); return the files written."""
    if out.exists():
        shutil.rmtree(out)
    written = []
    for (group, version, kind), rel in sorted(KINDS.items()):
        schema = convert(_crd_version(crds / rel, group, version, kind))
        target = out / group / f"{kind.lower()}_{version}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n",
                          encoding="utf-8")
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and generate."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crds", type=Path, default=REPO.parent / "shared" / "crds",
                        help="folder of upstream CRDs as <group>/<plural>.yaml")
    parser.add_argument("--out", type=Path, default=REPO / "crd-schemas")
    args = parser.parse_args(argv)
    written = generate(args.crds, args.out)
    print(f"crd_schemas: wrote {len(written)} schemas into {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
