"""YAML output safety: strings that a YAML 1.1 reader would take for numbers, booleans, nulls or
dates (`1e3`, `on`, `0755`, `2026-01-01`, `12:30`, ...) stay strings in every file aiplat-gen
writes, and after kustomize builds the overlays.

The profiles are the example profiles with such strings put into every free-form field that
takes them (labels and their keys, taints, instance types, extra args, env names and values,
descriptions, names where the DNS pattern allows, secret keys and store paths, headers, RBAC
group names, exception reasons, Git revisions, sync options, cluster names, ...), written as JSON
so the input itself is unambiguous. Three readers check the result: PyYAML (YAML 1.1, what Helm's
Go YAML and older tools do), ruamel.yaml (YAML 1.2) and kubeconform (Go, `-strict` against the
schemas, where a string read as a boolean or number is an error).
"""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from ruamel.yaml import YAML
from typer.testing import CliRunner

from aiplat_gen.checks.validate import validate_file
from aiplat_gen.cli import app
from aiplat_gen.core import yamlio
from aiplat_gen.render.components.base import RenderContext
from aiplat_gen.render.pipeline import render_full
from aiplat_gen.verify.kube.kubeconform import find_tool, run_kubeconform
from aiplat_gen.verify.kube.schemas import kubeconform_schema_locations, prepare_kubernetes_schemas
from conftest import REPO

# The list: what YAML 1.1 (or 1.2) reads as a number, boolean, null or date.
AMBIGUOUS = ["1e3", "on", "off", "yes", "no", "y", "n", "~", "null", "0755", "0x1F", "1_000",
             "12:30", "2026-01-01", ".inf", "-.nan", "+1", "0o17"]
# More forms for the emitter itself: case variants, binary, sexagesimal floats, timestamps,
# YAML 1.1's value and merge keys, and strings that only look odd (`-.nan` is a string).
MORE = ["True", "FALSE", "NULL", "Off", "Y", "N", "NO", "0b101", "1_000.5", "190:20:30", ".5",
        "1.", "-0", "00", "+.inf", "-.INF", ".NaN", "1E3", "1e+3", "-1e-3", "0x_1F", "+12",
        "2026-01-01T10:00:00Z", "2026-1-1 10:00", "=", "<<", "1:1", "0o", "0x"]

# YAML 1.1's value (`=`) and merge (`<<`) types: kustomize writes these unquoted.
YAML11_TYPES = ["=", "<<"]

RENAMES = {"llm-serving": "null", "rag-data": "0755", "ai-gateway": "yes", "llama-8b": "on",
           "inference-critical": "true", "batch-low": "false", "gpu-l4": "y", "gpu-h100": "n",
           "cpu-general": "off", "weaviate": "no", "semantic-cache": "n", "hf-token": "null",
           "vault": "on", "acme-ai": "yes"}
KEEP = {"engine", "provider", "defaultVectorizer", "architecture"}  # enums, not names


def _renamed(node: Any, key: str | None = None) -> Any:
    if isinstance(node, dict):
        return {k: _renamed(v, k) for k, v in node.items()}
    if isinstance(node, list):
        return [_renamed(v, key) for v in node]
    if isinstance(node, str) and key not in KEEP:
        return RENAMES.get(node, node)
    return node


def _root(base: dict[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = _renamed(copy.deepcopy(base))
    doc["metadata"]["name"] = "no"
    s = doc["spec"]
    s["platform"]["version"] = "1e3"
    s["gpuOperator"].update(driverVersion="0755", namespace="1e3")
    for pool in s["nodePools"]:
        pool["labels"] = {"on": "off", "y": "n", "0x1F": "1_000", "1e3": "0755",
                          "null": "2026-01-01", "0o17": "True"}
        for taint in pool.get("taints", []):
            taint.update(key="yes", value="on")
        if "karpenter" in pool:
            # Instance types are label values now: the ambiguous strings that are label values.
            pool["karpenter"]["instanceTypes"] = ["1e3", "0755", "2026-01-01", "0x1F", "null",
                                                  "0o17", "1_000", "y"]
            pool["karpenter"]["nodeClassRef"].update(group="on", kind="Null")
    for ns in s["namespaces"]:
        ns["labels"] = {"on": "yes", "n": "y", "0755": "0x1F", "2026-01-01": "null"}
    for pc, text in zip(s["priorityClasses"], ["on", "2026-01-01"], strict=False):
        pc["description"] = text
    for model in s["models"]:
        model["servedModelName"] = "1e3"
        model["extraArgs"] = ["--enable-prefix-caching", *AMBIGUOUS]
        model["env"] = {"on": "off", "y": "n", "null": "~", "YES": "2026-01-01", "T1": "12:30",
                        "T2": "0755", "T3": ".inf", "T4": "-.nan", "T5": "+1", "T6": "0o17",
                        "T7": "1_000", "T8": "0x1F", "T9": "1e3"}
        if "hfToken" in model:
            model["hfToken"].update(key="1e3", remote={"key": "2026-01-01", "property": "12:30"})
    for store in s["vectorDatabases"] + s["caches"]:
        auth = store["auth"]
        if "users" in auth:
            auth["users"] = ["12:30"]
        if "username" in auth["secret"]:
            auth["secret"]["username"] = "yes"
        else:
            auth["secret"]["key"] = "0755"
        if "remote" in auth["secret"]:
            auth["secret"]["remote"] = {"key": "0755", "property": "~"}
        if "pgvector" in store:
            store["pgvector"]["database"] = "null"
        if "weaviate" in store:
            store["weaviate"]["metrics"] = False  # the overlay turns it on: new policy rules
    obs = s["observability"]
    obs["namespace"] = "off"
    obs["prometheus"]["monitorLabels"] = {"release": "on", "y": "n"}
    obs["prometheus"]["ruleLabels"] = {"0755": "1e3", "null": "off"}
    obs["grafana"] = {"sidecarLabel": "on", "sidecarLabelValue": "yes"}
    sec = s["security"]
    sec["networkPolicies"]["prometheus"] = {"podLabels": {"on": "yes",
                                                          "app.kubernetes.io/name": "0x1F"}}
    # (Not `on`: a Group subject named like a ServiceAccount of the build gets a namespace from
    # kustomize v5.8.1 when an overlay patches that ServiceAccount, a kustomize quirk.)
    sec["rbacGroups"] = [{"name": "12:30", "role": "deployer"}, {"name": "~", "role": "viewer"},
                         {"name": "+1", "role": "viewer"}]
    reasons = ["2026-01-01", "1_000_000_0", "0x1F1F1F1F", "12:30:45:10"]  # 10+ characters
    for exception, reason in zip(sec["policyExceptions"], reasons, strict=False):
        exception["reason"] = reason
    gw = s["gateway"]
    gw.update(name="off", className="on", tlsSecretName="null", modelHeader="0755")
    s["clusterProvides"]["tlsSecrets"] = ["null"]
    s["clusterProvides"]["namespaces"] = ["off"]  # the rules' namespace, made by no one here
    gw["auth"]["header"] = "1e3"
    gw["dataPlane"] = {"namespace": "0x1f", "podLabels": {"on": "y", "1e3": "null"}}
    for ref in gw["auth"]["secrets"]:
        ref.update(key="y", remote={"key": "+1", "property": ".inf"})
    s["gitops"].update(targetRevision="0755", path="1e3", argocdNamespace="0o17",
                       # Sync options are `Name=value` now, which YAML never reads as another type.
                       sync={"syncOptions": ["PruneLast=true", "Validate=false"]})
    return doc


def _overlay(prod: dict[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = _renamed(copy.deepcopy(prod))
    doc["metadata"]["name"] = "on"
    doc["extends"] = "no"
    s = doc["spec"]
    s["platform"] = {"version": "0755"}  # every object's version label: patches everywhere
    s["models"][0]["env"] = {"T1": "y", "T2": "12:30", "T3": "~", "NEW": "-.nan",
                             "NEW2": "2026-01-01", "on": "0o17"}
    s["models"][0]["extraArgs"] = ["--enable-prefix-caching", *reversed(AMBIGUOUS)]
    s["gitops"].update(targetRevision="2026-01-01", destination={"name": "12:30"},
                       sync={"syncOptions": ["Replace=false"]})
    s["namespaces"].append({"name": "y", "purpose": "batch",
                            "labels": {"on": "off", "1_000": "0o17"}})
    s["vectorDatabases"] = [{"name": "no", "weaviate": {"metrics": True}},
                            *s.get("vectorDatabases", [])]
    for model in s["models"]:
        if "triton" in model:
            model["triton"]["models"] = ["on", "1e3", "0755", "null"]
    return doc


def _walk(raw: Any, typed: Any, found: dict[str, int], bad: list[str], where: str) -> None:
    """Walk a document read two ways: `raw` with every scalar a string (BaseLoader) and `typed`
    by the reader under test; a raw string from AMBIGUOUS must be read as that string."""
    if isinstance(raw, dict):
        assert isinstance(typed, dict) and len(raw) == len(typed), where
        for (raw_key, raw_value), (key, value) in zip(raw.items(), typed.items(), strict=True):
            _check(raw_key, key, found, bad, f"{where} key")
            _walk(raw_value, value, found, bad, f"{where}.{raw_key}")
    elif isinstance(raw, list):
        assert isinstance(typed, list) and len(raw) == len(typed), where
        for index, (item, value) in enumerate(zip(raw, typed, strict=True)):
            _walk(item, value, found, bad, f"{where}[{index}]")
    else:
        _check(raw, typed, found, bad, where)


def _check(raw: Any, typed: Any, found: dict[str, int], bad: list[str], where: str) -> None:
    if raw in found:
        found[raw] += 1
        if typed != raw or not isinstance(typed, str):
            bad.append(f"{where}: {raw!r} read as {typed!r}")


def _readers(yaml11_ruamel: bool) -> dict[str, Callable[[str], list[Any]]]:
    ruamel12 = YAML(typ="safe", pure=True)
    ruamel11 = YAML(typ="safe", pure=True)
    ruamel11.version = (1, 1)
    readers: dict[str, Callable[[str], list[Any]]] = {
        "PyYAML": lambda text: list(yaml.load_all(text, Loader=yaml.SafeLoader)),
        "ruamel YAML 1.2": lambda text: list(ruamel12.load_all(text)),
    }
    if yaml11_ruamel:
        readers["ruamel YAML 1.1"] = lambda text: list(ruamel11.load_all(text))
    return readers


def _assert_strings(texts: dict[str, str], strings: list[str],
                    yaml11_ruamel: bool = False) -> dict[str, int]:
    """Every occurrence of `strings` in `texts` is read as a string by every reader (PyYAML,
    ruamel 1.2, and on request ruamel in 1.1 mode); returns how often each was seen."""
    found = dict.fromkeys(strings, 0)
    bad: list[str] = []
    for reader, load in _readers(yaml11_ruamel).items():
        seen = dict.fromkeys(strings, 0)
        for name, text in texts.items():
            raw = list(yaml.load_all(text, Loader=yaml.BaseLoader))
            for index, (raw_doc, typed_doc) in enumerate(zip(raw, load(text), strict=True)):
                _walk(raw_doc, typed_doc, seen, bad, f"{reader}: {name}#{index}")
        found = seen
    assert not bad, "\n".join(bad[:20])
    return found


@pytest.fixture(scope="module")
def schema_locations(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    cache = tmp_path_factory.mktemp("k8s-schemas-yaml")
    return kubeconform_schema_locations(prepare_kubernetes_schemas("1.33", cache),
                                        [shared / "schemas" / "crds"])


def _kubeconform(text: str, locations: list[str]) -> int:
    report = run_kubeconform(text, "1.33", locations, find_tool("kubeconform"))
    problems = [f"{r.kind}/{r.name}: {r.status} {r.msg}" for r in report.problems]
    assert report.ok and not problems, problems
    assert report.summary.skipped == 0
    return report.summary.valid


def test_the_emitter_quotes_every_ambiguous_string(schema_locations: list[str]) -> None:
    strings = AMBIGUOUS + MORE
    doc = {"values": {f"k{i}": s for i, s in enumerate(strings)},
           "keys": {s: s for s in strings}, "items": strings}
    _assert_strings({"values": yamlio.dump(doc), "documents": yamlio.dump_all([doc, doc])},
                    strings, yaml11_ruamel=True)
    # Go's YAML (kubeconform, -strict): a ConfigMap's data must all be strings.
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ambiguous"},
                  "data": {f"k{i}": s for i, s in enumerate(strings)}}
    assert _kubeconform(yamlio.dump(config_map), schema_locations) == 1


@pytest.fixture(scope="module")
def ambiguous_tree(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("ambiguous")
    profiles = root / "profiles"
    profiles.mkdir()
    ruamel = YAML(typ="safe", pure=True)
    base = ruamel.load((REPO / "profiles" / "base.yaml").read_text(encoding="utf-8"))
    prod = ruamel.load((REPO / "profiles" / "prod.yaml").read_text(encoding="utf-8"))
    (profiles / "no.yaml").write_text(json.dumps(_root(base), indent=2), encoding="utf-8")
    (profiles / "on.yaml").write_text(json.dumps(_overlay(prod), indent=2), encoding="utf-8")
    out = root / "output"
    result = CliRunner().invoke(app, ["render", "--all", "--profiles-dir", str(profiles),
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    return {"profiles": profiles, "out": out}


def _emitted(out: Path) -> Iterator[tuple[str, str]]:
    for path in sorted(out.rglob("*.yaml")):
        yield str(path.relative_to(out)), path.read_text(encoding="utf-8")


def test_every_emitted_file_keeps_them_strings(ambiguous_tree: dict[str, Path]) -> None:
    texts = dict(_emitted(ambiguous_tree["out"]))
    assert any(name.startswith("helm/") for name in texts)
    assert any(name.startswith("argocd/") for name in texts)
    found = _assert_strings(texts, AMBIGUOUS)
    assert all(found.values()), f"never emitted: {[s for s, n in found.items() if not n]}"
    # Names that are YAML 1.1 values stay names: Namespace `null`, model `on`, pool `y`, ...
    namespace = yaml.safe_load(texts["base/cluster/namespace-null.yaml"])
    assert namespace["metadata"]["name"] == "null"
    assert namespace["metadata"]["labels"]["on"] == "yes"


def _kustomize(folder: Path) -> str:
    proc = subprocess.run([str(find_tool("kustomize")), "build", str(folder)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "Warning" not in proc.stderr, proc.stderr
    return proc.stdout


def test_kustomize_builds_keep_them_strings(ambiguous_tree: dict[str, Path],
                                            schema_locations: list[str]) -> None:
    out = ambiguous_tree["out"]
    builds = {folder: _kustomize(out / folder)
              for folder in ("base", "overlays/on", "argocd/on")}
    found = _assert_strings(builds, AMBIGUOUS)
    assert all(found.values()), f"not in any build: {[s for s, n in found.items() if not n]}"
    # The overlay invariant holds with these values: build == the tool's full render of `on`.
    vp = validate_file(ambiguous_tree["profiles"] / "on.yaml")
    full = [o.obj for o in render_full(RenderContext(vp.profile)).objects]
    built = [d for d in yaml.safe_load_all(builds["overlays/on"]) if d is not None]
    assert sorted(json.dumps(o, sort_keys=True) for o in built) == sorted(
        json.dumps(o, sort_keys=True) for o in full)
    # Go's reading of kustomize's own output, unmodified (one kubeconform run for all three).
    assert _kubeconform("\n---\n".join(builds.values()), schema_locations) == sum(
        len([d for d in yaml.safe_load_all(text) if d]) for text in builds.values())


def _patched_by_kustomize(tmp_path: Path, strings: list[str]) -> str:
    """kustomize's build of a ConfigMap whose data an overlay sets to `strings` with RFC 6902
    patches (as the overlays do): kustomize re-encodes every value of a patched object."""
    base, overlay = tmp_path / "base", tmp_path / "overlay"
    base.mkdir()
    overlay.mkdir()
    kustomization = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"}
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "forms"},
                  "data": {f"k{i}": "x" for i in range(len(strings))}}
    (base / "configmap.yaml").write_text(yamlio.dump(config_map))
    (base / "kustomization.yaml").write_text(yamlio.dump({**kustomization,
                                                          "resources": ["configmap.yaml"]}))
    ops = [{"op": "replace", "path": f"/data/k{i}", "value": s} for i, s in enumerate(strings)]
    ops += [{"op": "add", "path": f"/data/{s.replace('~', '~0')}", "value": s} for s in strings
            if s not in YAML11_TYPES]
    (overlay / "patch.yaml").write_text(yamlio.dump(ops))
    (overlay / "kustomization.yaml").write_text(yamlio.dump({
        **kustomization, "resources": ["../base"],
        "patches": [{"path": "patch.yaml", "target": {"kind": "ConfigMap", "name": "forms"}}]}))
    return _kustomize(overlay)


def test_kustomize_patches_carry_every_form(tmp_path: Path) -> None:
    strings = [s for s in AMBIGUOUS + MORE if s not in YAML11_TYPES]
    found = _assert_strings({"build": _patched_by_kustomize(tmp_path, strings)}, strings,
                            yaml11_ruamel=True)
    assert all(found.values()), [s for s, n in found.items() if not n]


def test_aiplat_gen_reads_kustomize_unquoted_value_and_merge_scalars(tmp_path: Path) -> None:
    """kustomize (Go YAML) writes `=` and `<<` unquoted when it re-encodes a patched object;
    PyYAML's and ruamel's safe loaders resolve them to YAML 1.1's value and merge types, which
    have no constructor, and raise. aiplat-gen reads kustomize output (`check`) with yamlio."""
    build = _patched_by_kustomize(tmp_path, YAML11_TYPES)
    assert "k0: =\n" in build and "k1: <<\n" in build  # kustomize's own output, unquoted
    (config_map,) = yamlio.load_all(build)
    assert config_map["data"]["k0"] == "=" and config_map["data"]["k1"] == "<<"
