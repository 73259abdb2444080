"""The in-process validator agrees with kubeconform v0.7.0 object by object: same schema files
(same location templates), same verdicts, formats asserted for draft-4 CRD schemas only."""

from __future__ import annotations

import copy
import datetime
import functools
import http.server
import json
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from aiplat_gen.core.errors import UsageError
from aiplat_gen.verify.kube.inprocess import InProcessValidator, _uri
from aiplat_gen.verify.kube.kubeconform import find_tool, run_kubeconform
from aiplat_gen.verify.kube.locations import CATALOG_FILE, crd_location, expand
from aiplat_gen.verify.kube.schemas import (
    kubeconform_schema_filename,
    kubeconform_schema_locations,
    prepare_kubernetes_schemas,
)

WIDGET_SCHEMA = {  # a CRD schema in the catalog's form: draft 4 by default, strict objects
    "type": "object",
    "properties": {
        "apiVersion": {"type": "string"}, "kind": {"type": "string"},
        "metadata": {"type": "object"},
        "spec": {
            "type": "object", "additionalProperties": False, "required": ["interval"],
            "properties": {
                "interval": {"type": "string", "format": "duration"},
                "replicas": {"type": "integer", "minimum": 0},
                "mode": {"type": "string", "enum": ["a", "b"]},
            },
        },
    },
}


def _widget(name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": name},
            "spec": spec}


OBJECTS = [
    _widget("go-duration", interval="1h30m", replicas=2, mode="a"),
    _widget("iso-duration", interval="PT1H"),
    _widget("zero-duration", interval="0"),
    _widget("bad-duration", interval="90 minutes"),
    _widget("negative", interval="5m", replicas=-1),
    _widget("bad-enum", interval="5m", mode="c"),
    _widget("unknown-field", interval="5m", colour="red"),
    _widget("missing-required", replicas=1),
    _widget("wrong-type", interval="5m", replicas="2"),
    {"apiVersion": "example.com/v2", "kind": "Widget", "metadata": {"name": "no-schema"}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ok"}, "data": {"a": "b"}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "int-data"}, "data": {"a": 1}},
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "typo"},
     "spec": {"selector": {}, "template": {}, "replica": 1}},
]


@pytest.fixture(scope="module")
def locations(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    root = tmp_path_factory.mktemp("parity")
    crds = root / "crds" / "example.com"
    crds.mkdir(parents=True)
    (crds / "widget_v1.json").write_text(json.dumps(WIDGET_SCHEMA))
    k8s = prepare_kubernetes_schemas("1.33", root / "k8s")
    return kubeconform_schema_locations(k8s, [root / "crds"])


def test_verdicts_agree_with_kubeconform(locations: list[str], tmp_path: Path) -> None:
    report = run_kubeconform(yaml.safe_dump_all(OBJECTS), "1.33", locations,
                             find_tool("kubeconform"))
    theirs = {r.name: r.status for r in report.resources}
    validator = InProcessValidator(tmp_path)
    ours = {o["metadata"]["name"]: validator.validate(o, locations, "1.33").status
            for o in OBJECTS}
    assert ours == theirs
    assert ours == {
        "go-duration": "valid", "iso-duration": "valid", "zero-duration": "valid",
        "bad-duration": "invalid", "negative": "invalid", "bad-enum": "invalid",
        "unknown-field": "invalid", "missing-required": "invalid", "wrong-type": "invalid",
        "no-schema": "error", "ok": "valid", "int-data": "invalid", "typo": "invalid",
    }


def test_messages_name_the_field(locations: list[str], tmp_path: Path) -> None:
    validator = InProcessValidator(tmp_path)
    result = validator.validate(OBJECTS[6], locations, "1.33")
    assert result.messages == ("/spec: Additional properties are not allowed ('colour' was "
                               "unexpected)",)
    assert validator.validate(OBJECTS[9], locations, "1.33").messages == (
        "could not find schema for Widget",)


@pytest.mark.parametrize(("kind", "api_version"), [
    ("Deployment", "apps/v1"), ("Service", "v1"), ("PriorityClass", "scheduling.k8s.io/v1"),
    ("ScaledObject", "keda.sh/v1alpha1"),
])
def test_expand_names_files_as_kubeconform_does(kind: str, api_version: str) -> None:
    k8s = "/k/{{ .ResourceKind }}{{ .KindSuffix }}.json"
    assert expand(k8s, kind, api_version, "1.33") == "/k/" + kubeconform_schema_filename(
        kind, api_version)
    group, _, version = api_version.rpartition("/")
    assert expand(f"/c/{CATALOG_FILE}", kind, api_version, "1.33") == (
        f"/c/{group or version}/{kind.lower()}_{version}.json")
    assert expand("/x/{{.NormalizedKubernetesVersion}}{{ .StrictSuffix }}.json", kind,
                  api_version, "1.33.0") == "/x/v1.33.0-strict.json"


def test_crd_location_forms(tmp_path: Path) -> None:
    assert crd_location(str(tmp_path)) == f"{tmp_path}/{CATALOG_FILE}"
    assert crd_location(tmp_path.as_uri()) == f"{tmp_path}/{CATALOG_FILE}"
    url = "https://raw.githubusercontent.com/datreeio/CRDs-catalog/main"
    assert crd_location(url + "/") == f"{url}/{CATALOG_FILE}"
    assert crd_location(f"{url}/{{{{ .Group }}}}/x.json") == f"{url}/{{{{ .Group }}}}/x.json"
    with pytest.raises(UsageError, match="unknown variables: Nope"):
        crd_location("/s/{{ .Nope }}.json")
    with pytest.raises(UsageError, match="neither a folder"):
        crd_location(str(tmp_path / "missing"))


def test_url_schemas_are_fetched_and_cached(locations: list[str], tmp_path: Path) -> None:
    folder = locations[1].split("/{{")[0]
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=folder)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = crd_location(f"http://127.0.0.1:{server.server_address[1]}")
        first = InProcessValidator(tmp_path)
        assert first.validate(OBJECTS[0], [url], "1.33").status == "valid"
        assert first.validate(OBJECTS[3], [url], "1.33").status == "invalid"
        # 404: no schema at this location, which is a finding, not a skip.
        assert first.validate(OBJECTS[9], [url], "1.33").messages == (
            "could not find schema for Widget",)
    finally:
        server.shutdown()
        server.server_close()
    # The server is gone: a new run reads the schema from the cache folder.
    assert InProcessValidator(tmp_path).validate(OBJECTS[0], [url], "1.33").status == "valid"
    assert len(list((tmp_path / "http").iterdir())) == 1
    offline = InProcessValidator(tmp_path / "empty")
    result = offline.validate(OBJECTS[0], [url], "1.33")
    assert result.status == "error" and "could not fetch schema" in result.messages[0]


# A draft-4 pattern that Python's `re` and Go's RE2 take but jsonschema_rs refuses as a regex (an
# inline flag), as in the Prometheus Operator's PrometheusRule schema.
FLAGGED_SCHEMA = {
    "type": "object",
    "properties": {
        "spec": {"type": "object", "properties": {
            "strategy": {"type": "string", "pattern": "(?i)^(abort|warn)?$"}}},
    },
}


def _gadget(name: str, strategy: str) -> dict[str, Any]:
    return {"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": name},
            "spec": {"strategy": strategy}}


def test_the_rust_validator_gives_every_verdict_here(locations: list[str],
                                                     tmp_path: Path) -> None:
    """Each schema of the parity corpus compiles for the fast path (a regression to jsonschema
    alone would keep the verdicts but cost 100x the time)."""
    validator = InProcessValidator(tmp_path)
    for obj in OBJECTS:
        validator.validate(obj, locations, "1.33")
    compiled = {uri: c for uri, c in validator._validators.items() if c is not None}
    assert compiled and all(c.fast is not None for c in compiled.values())


def test_a_pattern_only_python_takes_is_checked_with_python(tmp_path: Path) -> None:
    crds = tmp_path / "crds" / "example.com"
    crds.mkdir(parents=True)
    (crds / "gadget_v1.json").write_text(json.dumps(FLAGGED_SCHEMA))
    k8s = prepare_kubernetes_schemas("1.33", tmp_path / "k8s")
    locations = kubeconform_schema_locations(k8s, [tmp_path / "crds"])
    objects = [_gadget("upper", "ABORT"), _gadget("empty", ""), _gadget("other", "retry")]
    validator = InProcessValidator(tmp_path)
    ours = {o["metadata"]["name"]: validator.validate(o, locations, "1.33") for o in objects}
    report = run_kubeconform(yaml.safe_dump_all(objects), "1.33", locations,
                             find_tool("kubeconform"))
    assert {n: r.status for n, r in ours.items()} == {r.name: r.status for r in report.resources}
    assert ours["upper"].status == "valid" and ours["other"].status == "invalid"
    assert ours["other"].messages == ("/spec/strategy: 'retry' does not match "
                                      "'(?i)^(abort|warn)?$'",)
    compiled = validator._validators[(tmp_path / "crds/example.com/gadget_v1.json").as_uri()]
    assert compiled is not None and compiled.fast is not None


def test_values_the_rust_validator_cannot_take_go_to_jsonschema(locations: list[str],
                                                                tmp_path: Path) -> None:
    """A YAML date or a non-string key is not JSON: jsonschema gives the verdict, as before."""
    validator = InProcessValidator(tmp_path)
    dated = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "d"},
             "data": {"day": datetime.date(2026, 1, 1)}}
    result = validator.validate(dated, locations, "1.33")
    assert result.status == "invalid"
    assert result.messages == (
        "/data/day: datetime.date(2026, 1, 1) is not of type 'string', 'null'",)
    keyed = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "k"}, "data": {1: "x"}}
    assert validator.validate(keyed, locations, "1.33").status == "valid"


DEPLOYMENT = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "n", "labels": {"app": "web"}},
    "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": {
        "metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{
            "name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}],
            "resources": {"limits": {"memory": "1Gi"}}, "args": ["--port", "80"]}]}}},
}
MUTANTS = [None, True, 0, -1, 1.5, 2**40, "", "x", "5m", "90 minutes", "10Gi", [], ["a"], {},
           {"name": "x"}]


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path inside an object but its apiVersion and kind (which choose the schema)."""
    found = [prefix] if prefix and prefix[0] not in ("apiVersion", "kind") else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for number, value in enumerate(node):
            found += _paths(value, (*prefix, number))
    return found


@pytest.fixture(scope="module")
def validator(tmp_path_factory: pytest.TempPathFactory) -> InProcessValidator:
    return InProcessValidator(tmp_path_factory.mktemp("fast"))


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_the_rust_validator_accepts_exactly_what_jsonschema_accepts(
        locations: list[str], validator: InProcessValidator, data: st.DataObject) -> None:
    """Random edits of valid and invalid objects: both validators agree on every one (if the
    Rust one ever accepted more, `check` would pass an object kubeconform fails)."""
    obj = copy.deepcopy(data.draw(st.sampled_from([DEPLOYMENT, *OBJECTS[:9]])))
    path = data.draw(st.sampled_from(_paths(obj)))
    parent = functools.reduce(lambda node, key: node[key], path[:-1], obj)
    if data.draw(st.booleans()) or not isinstance(parent, dict):
        parent[path[-1]] = data.draw(st.sampled_from(MUTANTS))
    else:
        parent[f"{path[-1]}x"] = data.draw(st.sampled_from(MUTANTS))
    kind, api_version = obj["kind"], obj["apiVersion"]
    compiled = next(c for t in locations
                    if (c := validator._validator(_uri(expand(t, kind, api_version, "1.33")))))
    assert compiled.fast is not None
    assert compiled.fast.is_valid(obj) == (not list(compiled.full.iter_errors(obj)))
