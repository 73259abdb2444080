"""Secrets never touch the repository: references only, ExternalSecrets for synced ones, literal
values refused with their place (and never echoed), and a rendered tree in which detect-secrets
finds nothing."""

from __future__ import annotations

import copy
import hashlib
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from detect_secrets import SecretsCollection
from detect_secrets.settings import default_settings
from pydantic import ValidationError
from typer.testing import Result

from aiplat_gen.checks.secrets import classify, secret_key
from aiplat_gen.checks.validate import validate_file
from aiplat_gen.profile.schema.secrets import SecretRef, secret_refs, walk
from aiplat_gen.profile.schema.types import Strict
from conftest import REPO
from test_data_layer_support import REDIS, WEAVIATE, find, problems, profile, render, write

GOLDEN = REPO / "tests" / "golden"

# --- references ---------------------------------------------------------------------------------


def test_a_string_is_not_a_secret_reference() -> None:
    with pytest.raises(ValidationError) as info:
        SecretRef.model_validate("hunter2-but-longer")
    assert "literal secret value is not allowed" in str(info.value)
    assert "hunter2" not in str(info.value).replace("input_value='hunter2-but-longer'", "")


def test_basic_auth_reference_reads_the_password() -> None:
    with pytest.raises(ValidationError, match="must be `password`"):
        SecretRef.model_validate({"name": "db", "key": "pw", "username": "app"})


class _Holder(Strict):
    namespace: str
    token: SecretRef


class _Outer(Strict):
    entries: list[_Holder]
    orphan: SecretRef | None = None


def test_collector_finds_refs_with_their_namespace() -> None:
    outer = _Outer.model_validate({
        "entries": [{"namespace": "a", "token": {"name": "t1"}},
                    {"namespace": "b", "token": {"name": "t2"}}],
        "orphan": {"name": "t3"}})
    found = [(f.loc, f.ref.name, f.namespace) for f in secret_refs(outer)]
    assert found == [(("entries", 0, "token"), "t1", "a"), (("entries", 1, "token"), "t2", "b"),
                     (("orphan",), "t3", None)]


def test_refs_to_one_secret_share_an_external_secret(tmp_path: Path) -> None:
    db = copy.deepcopy(WEAVIATE)
    db["weaviate"] = {"modules": [
        {"name": "text2vec-openai", "apiKey": {"name": "providers", "key": "openai",
                                               "remote": {"key": "p", "property": "openai"}}},
        {"name": "generative-openai", "apiKey": {"name": "providers", "key": "openai",
                                                 "remote": {"key": "p", "property": "openai"}}},
        {"name": "text2vec-cohere", "apiKey": {"name": "providers", "key": "cohere",
                                               "remote": {"key": "p", "property": "cohere"}}}]}
    objects = render(tmp_path, profile(vectorDatabases=[db]))
    secrets = [o for o in objects if o["kind"] == "ExternalSecret"]
    assert sorted(o["metadata"]["name"] for o in secrets) == ["providers", "vectors-keys"]
    providers = find(objects, "ExternalSecret", "providers")["spec"]
    assert providers["data"] == [
        {"secretKey": "cohere", "remoteRef": {"key": "p", "property": "cohere"}},
        {"secretKey": "openai", "remoteRef": {"key": "p", "property": "openai"}}]
    assert providers["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": "vault"}
    assert not [o for o in objects if o["kind"] == "Secret"]


def test_existing_secrets_render_nothing(tmp_path: Path) -> None:
    db = copy.deepcopy(WEAVIATE)
    del db["auth"]["secret"]["remote"]
    doc = profile(vectorDatabases=[db])
    del doc["spec"]["security"]
    assert not [o for o in render(tmp_path, doc) if o["kind"] == "ExternalSecret"]


def test_synced_secret_needs_a_store(tmp_path: Path) -> None:
    doc = profile(caches=[REDIS])
    del doc["spec"]["security"]
    [diag] = problems(tmp_path, doc)
    assert diag.path == "spec.caches[0].auth.secret.remote"
    assert diag.message == ("secret 'cache-redis' is synced from the secret store, but the "
                            "profile names none")


def test_every_remote_ref_of_the_examples_is_synced_in_its_namespace(tmp_path: Path) -> None:
    from aiplat_gen.render.components.base import RenderContext
    from aiplat_gen.render.pipeline import render_full

    checked = 0
    for path in sorted((REPO / "profiles").glob("*.yaml")):
        vp = validate_file(path)
        objects = {(o.obj["kind"], o.obj["metadata"].get("namespace"), o.obj["metadata"]["name"])
                   for o in render_full(RenderContext(vp.profile)).objects}
        for found in secret_refs(vp.profile):
            if found.ref.remote is not None:
                assert ("ExternalSecret", found.namespace, found.ref.name) in objects, found.loc
                checked += 1
    assert checked >= 4


# --- literal values -----------------------------------------------------------------------------

TOKENS = {
    "a Hugging Face token": "hf_QwErTyUiOpAsDfGhJkLzXcVbNm1234567890",
    "an OpenAI-style API key": "sk-proj-Zx9Kq2LmN4pR7sT1vW3yB5dF8hJ0gA6c",
    "a GitHub token": "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5",
    "an AWS access key": "AKIA" + "Q3ZJ7XUVBF2NQ5M7",
    "a Google API key": "AIza" + "SyD-4vQ2xT9pL7mK3nR8sW1yB6cF0hJ5gE2",
    "a Slack token": "xoxb-" + "1234567890-abcdefghij",
    "a GitLab token": "glpat-" + "Ab3De5Fg7Hj9Kl1Mn3Pq",
    "a private key": "-----BEGIN RSA PRIVATE KEY-----",
    "a JSON Web Token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJl",
    "a URI with a password": "postgres://app:Tr0ub4dor-3@db.example.com:5432/app",
}


@pytest.mark.parametrize(("kind", "value"), sorted(TOKENS.items()))
def test_known_token_shapes(kind: str, value: str) -> None:
    assert classify(value) == kind


@pytest.mark.parametrize("value", [
    "sk-learn-models-production-cluster", "hf_transfer", "hf://meta-llama/Llama-3.1-8B-Instruct",
    "https://github.com/acme/ai-platform.git", "redis://localhost:6379", "$(REDIS_PASSWORD)",
    "0e9e39f249a16976918f6564b8830bc894c89659", "vllm/vllm-openai:v0.11.0",
    "ssh://git@github.com/acme/platform.git",
])
def test_ordinary_values_are_not_secrets(value: str) -> None:
    assert classify(value) is None


@pytest.mark.parametrize(("key", "secret"), [
    ("HF_TOKEN", True), ("apiKey", True), ("OPENAI_API_KEY", True), ("password", True),
    ("clientSecret", True), ("db-passwd", True), ("tokenizer", False), ("maxTokens", False),
    ("secretName", False), ("TOKENIZERS_PARALLELISM", False), ("keyFile", False),
])
def test_secret_named_keys(key: str, secret: bool) -> None:
    assert secret_key(key) is secret


def test_value_under_a_secret_key_is_refused_unless_harmless() -> None:
    assert classify("plain-text-pw", key="DB_PASSWORD") is not None
    for harmless in ("", "true", "8", "$(DB_PASSWORD)", "${DB_PASSWORD}"):
        assert classify(harmless, key="DB_PASSWORD") is None


def test_literal_secrets_are_located_and_never_echoed(tmp_path: Path,
                                                       cli: Callable[..., Result]) -> None:
    db = copy.deepcopy(WEAVIATE)
    db["auth"]["users"] = [TOKENS["an OpenAI-style API key"]]
    doc = profile(vectorDatabases=[db])
    doc["spec"]["namespaces"][0]["labels"] = {"hub": TOKENS["a Hugging Face token"]}
    doc["spec"]["gitops"] = {"repoURL": "https://bot:Tr0ub4dor-3@git.example.com/a/b.git"}
    path = write(tmp_path, doc)
    result = cli("validate", str(path))
    assert result.exit_code == 1
    lines = [ln for ln in result.stderr.splitlines() if "literal secret" in ln]
    assert [ln.split(": ")[1] for ln in lines] == [
        "spec.namespaces[0].labels.hub", "spec.vectorDatabases[0].auth.users[0]",
        "spec.gitops.repoURL"]
    for secret in (TOKENS["an OpenAI-style API key"], TOKENS["a Hugging Face token"],
                   "Tr0ub4dor"):
        assert secret not in result.output


def test_walk_skips_nothing() -> None:
    outer = _Outer.model_validate({"entries": [{"namespace": "a", "token": {"name": "t"}}]})
    locs = [v.loc for v in walk(outer)]
    assert ("entries", 0, "namespace") in locs and ("entries", 0, "token", "key") in locs


# --- detect-secrets on the rendered trees -------------------------------------------------------

HEX = set("0123456789abcdef")


def scan(tree: Path) -> list[tuple[str, int, str, str]]:
    """detect-secrets (every default plugin and filter) over every file of a tree."""
    collection = SecretsCollection(root=str(tree))
    files = sorted(str(p.relative_to(tree)) for p in tree.rglob("*") if p.is_file())
    with default_settings():
        for rel in files:
            collection.scan_file(rel)
    return sorted((name, s.line_number, s.type, s.secret_value or "")
                  for name, found in collection.data.items() for s in found)


def pinned_hashes(profiles: Path) -> set[str]:
    """Commit ids and sha256 digests the profiles pin (public content hashes)."""
    result: set[str] = set()
    for path in profiles.glob("*.yaml"):
        for visit in walk(validate_file(path).profile):
            if visit.loc and visit.loc[-1] in ("revision", "sha256") \
                    and isinstance(visit.value, str) and set(visit.value) <= HEX:
                result.add(visit.value)
    return result


def explain(tree: Path, finding: tuple[str, int, str, str], pinned: set[str]) -> str | None:
    """Why a finding is not a secret, checked against the tree itself; None if unexplained."""
    rel, _, kind, value = finding
    if rel == ".aiplat-gen.json":
        record = json.loads((tree / rel).read_text())["files"]
        digests = {hashlib.sha256((tree / f).read_bytes()).hexdigest() for f in record}
        return "the writer's record of a file's sha256" if value in digests else None
    if kind == "Hex High Entropy String" and value in pinned:
        return "a revision or weights sha256 the profile pins"
    # A folder named after a pinned revision (the scanner keeps a trailing line-folding `\`).
    parts = value.rstrip("\\").split("/")
    if kind.endswith("High Entropy String") and re.fullmatch(r"[-/._A-Za-z0-9\\]+", value) \
            and pinned.intersection(parts):
        return "a path named after a revision the profile pins"
    if kind == "Secret Keyword":
        docs = [d for d in yaml.safe_load_all((tree / rel).read_text()) if d]
        keys = {e["secretKey"] for d in docs if d.get("kind") == "ExternalSecret"
                for e in d["spec"]["data"]}
        if value in keys:
            return "the name of a key in a synced Secret"
        # A scanner suppression key (e.g. `ignore-check.kube-linter.io/env-var-secret`) whose
        # value is the reason of a policy exception the profile declares.
        reasons = {v for d in docs for k, v in
                   ((d.get("metadata") or {}).get("annotations") or {}).items()
                   if k.startswith("ai.platform/policy-exception.")}
        if value in reasons:
            return "the reason of a declared policy exception"
        # The names of the Secrets an Ingress reads (its TLS certificate, ingress-nginx's
        # `auth-secret` as namespace/name), never their content.
        names = {t.get("secretName") for d in docs if d.get("kind") == "Ingress"
                 for t in d["spec"].get("tls") or []}
        names |= {(d["metadata"].get("annotations") or {}).get(
            "nginx.ingress.kubernetes.io/auth-secret") for d in docs if d.get("kind") == "Ingress"}
        return "the name of a Secret an Ingress reads" if value in names else None
    return None


def _render(profiles: Path, out: Path, cli: Callable[..., Result]) -> Path:
    result = cli("render", "--all", "--profiles-dir", str(profiles), "--out", str(out))
    assert result.exit_code == 0, result.output
    return out


TREES = [REPO / "profiles", *sorted(p / "profiles" for p in GOLDEN.iterdir()
                                    if (p / "profiles").is_dir())]


@pytest.mark.parametrize("profiles", TREES, ids=[p.parent.name for p in TREES])
def test_detect_secrets_finds_nothing(profiles: Path, tmp_path: Path,
                                      cli: Callable[..., Result]) -> None:
    tree = _render(profiles, tmp_path / "out", cli)
    pinned = pinned_hashes(profiles)
    unexplained = [f for f in scan(tree) if explain(tree, f, pinned) is None]
    assert unexplained == []


def test_detect_secrets_would_catch_a_leak(tmp_path: Path, cli: Callable[..., Result]) -> None:
    tree = _render(REPO / "profiles", tmp_path / "out", cli)
    leaked = tmp_path / "leaked"
    shutil.copytree(tree, leaked)
    target = next(leaked.glob("base/redis/deployment-*.yaml"))
    doc: dict[str, Any] = yaml.safe_load(target.read_text())
    container = doc["spec"]["template"]["spec"]["containers"][0]
    container["env"].append({"name": "AWS_ACCESS_KEY_ID", "value": TOKENS["an AWS access key"]})
    doc["metadata"]["annotations"] = {"redis-password": "s3cr3t-Redis-passw0rd"}
    target.write_text(yaml.safe_dump(doc))
    pinned = pinned_hashes(REPO / "profiles")
    unexplained = [f for f in scan(leaked) if explain(leaked, f, pinned) is None]
    kinds = {kind for _, _, kind, _ in unexplained}
    assert {"AWS Access Key", "Secret Keyword"} <= kinds
