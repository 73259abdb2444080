"""No message echoes a credential, and no credential reaches the rendered tree (issue 16, items 8
and 9).

- A corpus of token shapes injected into every kind of field whose value a message may quote
  (schema errors, did-you-mean hints, `extends` errors, check messages): validation fails,
  located, and no output of any format holds the token.
- Literal secrets wherever a profile string can reach a manifest (env values, extra arguments
  in both spellings, a Git URL's query or user info, descriptions, a secret store path) are
  refused at their line, and nothing is written.
- The detector passes every string of the example profiles and the committed output.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import Result

from aiplat_gen.checks.secrets import classify
from aiplat_gen.core.errors import Diagnostic
from aiplat_gen.core.redact import REDACTED, redact, secret_kind, shape_spans
from aiplat_gen.render.scaffold import EXAMPLES, example_files
from conftest import REPO

TOKENS = {
    "github": "ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5",
    "github-fine-grained": "github_pat_11ABCDEFG0123456789_abcdefghijKLMNOPqrstuv",
    "hugging-face": "hf_QwErTyUiOpAsDfGhJkLzXcVbNm1234567890",
    "aws": "AKIAIOSFODNN7EXAMPLX",
    "openai": "sk-proj-Zx9Kq2LmN4pR7sT1vW3yB5dF8hJ0gA6c",
    "slack": "xoxb-1234567890-abcdefghijkl",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9Pl",
    "random": "Q7vX9kLm2Pz8RtY4wB6nJc3Hf5Gd1Sa0Ke7Ux",
}
# Each places {v} in a profile extending the example base.
FIELDS = {
    "kubernetesVersion": "spec:\n  kubernetesVersion: {v}\n",
    "architecture": "spec:\n  models:\n    - name: llama-8b\n      architecture: {v}\n",
    "gpu.product": "spec:\n  nodePools:\n    - name: gpu-l4\n      gpu:\n        product: {v}\n"
                   "        count: 4\n",
    "engine": "spec:\n  models:\n    - name: llama-8b\n      engine: {v}\n",
    "image": "spec:\n  models:\n    - name: llama-8b\n      image: {v}\n",
    "secret-name": "spec:\n  models:\n    - name: llama-8b\n      hfToken:\n        name: {v}\n",
    "secret-key": "spec:\n  models:\n    - name: llama-8b\n      hfToken:\n        name: hf-token\n"
                  "        key: {v}\n",
    "remote-key": "spec:\n  models:\n    - name: llama-8b\n      hfToken:\n        name: hf-token\n"
                  "        remote:\n          key: {v}\n",
    "unknown-key": "spec:\n  models:\n    - name: llama-8b\n      {v}: 1\n",
    "label-key": "spec:\n  namespaces:\n    - name: llm-serving\n      labels:\n"
                 "        {v}: x\n",
    "node-pool-ref": "spec:\n  models:\n    - name: llama-8b\n      nodePool: {v}\n",
    "env-value": "spec:\n  models:\n    - name: llama-8b\n      env:\n        FOO: {v}\n",
    "mig-profile": "spec:\n  nodePools:\n    - name: gpu-a100-mig\n      gpu:\n"
                   "        product: a100-80gb\n        count: 8\n        sharing:\n"
                   "          mode: mig\n          migProfile: {v}\n",
    "duration": "spec:\n  gpuOperator:\n    scrapeInterval: {v}\n",
    "extends": None,
}
LOCATED = re.compile(r"^[^:\s]+\.yaml:\d+:\d+: ")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    profiles = tmp_path_factory.mktemp("redaction") / "profiles"
    profiles.mkdir()
    shutil.copy(REPO / "profiles" / "base.yaml", profiles / "base.yaml")
    return profiles


def _write(folder: Path, body: str, extends: str = "base") -> Path:
    path = folder / "p.yaml"
    path.write_text("apiVersion: aiplat.dev/v1alpha1\nkind: PlatformProfile\nmetadata:\n  name: p\n"
                    f"extends: {extends}\n{body}", encoding="utf-8")
    return path


@pytest.mark.parametrize("token", sorted(TOKENS))
@pytest.mark.parametrize("field", sorted(FIELDS))
def test_no_message_echoes_a_token(field: str, token: str, folder: Path,
                                   cli: Callable[..., Result]) -> None:
    value = TOKENS[token]
    template = FIELDS[field]
    if template is None:
        _write(folder, "spec: {}\n", extends=value)
    else:
        _write(folder, template.format(v=value))
    for fmt in ("text", "json", "github"):
        result = cli("validate", "p", "--profiles-dir", str(folder), "--format", fmt)
        assert result.exit_code == 1, result.output
        shown = result.stdout + result.stderr
        assert value not in shown and value[:12] not in shown, shown
        if fmt == "text":
            lines = [line for line in result.stderr.splitlines()
                     if not line.startswith("aiplat-gen:")]
            assert lines and all(LOCATED.match(line) for line in lines), result.stderr
        elif fmt == "json":
            found = json.loads(result.stderr[:result.stderr.rindex("]") + 1])
            assert found and all(d["line"] > 0 for d in found)


def test_every_token_shape_is_detected_and_redacted() -> None:
    for name, value in TOKENS.items():
        assert secret_kind(value) is not None, name
        for text in (value, f"'{value}' is not valid", f"x={value}", f"{value}\n{value}"):
            assert value not in redact(text), (name, text)
            assert REDACTED in redact(text)


def test_diagnostics_and_errors_redact_every_field() -> None:
    token = TOKENS["github"]
    diag = Diagnostic(None, f"spec.labels.{token}", f"{token!r} is bad", f"did you mean {token!r}?")
    assert token not in str(diag)
    from aiplat_gen.core.errors import ProfileError
    assert token not in ProfileError(f"no profile {token!r}").message


# --- literal secrets that would reach a manifest ------------------------------------------------

# (profile body, dotted path of the refused value)
SECRET_CASES = {
    "env-secret-name": ("spec:\n  models:\n    - name: llama-8b\n      env:\n"
                        "        DB_PASSWORD: Hunter2-but-longer\n",
                        "spec.models[0].env.DB_PASSWORD"),
    "env-flag": ("spec:\n  models:\n    - name: llama-8b\n      env:\n"
                 "        ARGS: '--api-key=Hunter2-but-longer'\n", "spec.models[0].env.ARGS"),
    "extra-arg-joined": ("spec:\n  models:\n    - name: llama-8b\n      extraArgs:\n"
                         "        - --api-key=Hunter2-but-longer\n", "spec.models[0].extraArgs[0]"),
    "extra-arg-split": ("spec:\n  models:\n    - name: llama-8b\n      extraArgs:\n"
                        "        - --enable-prefix-caching\n        - --api-key\n"
                        "        - Hunter2-but-longer\n", "spec.models[0].extraArgs[2]"),
    "repo-url-query": ("spec:\n  gitops:\n    repoURL: "
                       "https://git.example.com/a/b.git?token=Hunter2-but-longer\n",
                       "spec.gitops.repoURL"),
    "repo-url-password": ("spec:\n  gitops:\n    repoURL: "
                          "https://deploy:Hunter2-but-longer@git.example.com/a/b.git\n",
                          "spec.gitops.repoURL"),
    "description": ("spec:\n  priorityClasses:\n    - name: batch-low\n"
                    "      description: 'Batch; password: Hunter2-but-longer'\n",
                    "spec.priorityClasses[1].description"),
    "remote-key": ("spec:\n  models:\n    - name: llama-8b\n      hfToken:\n"
                   "        name: hf-token\n        remote:\n"
                   "          key: " + TOKENS["hugging-face"] + "\n",
                   "spec.models[0].hfToken.remote.key"),
    "policy-reason": ("spec:\n  security:\n    policyExceptions:\n      - name: cpu-limits\n"
                      "        reason: " + TOKENS["random"] + "\n",
                      "spec.security.policyExceptions[0].reason"),
}


@pytest.mark.parametrize("case", sorted(SECRET_CASES))
def test_literal_secret_is_refused_at_its_line(case: str, folder: Path, tmp_path: Path,
                                               cli: Callable[..., Result]) -> None:
    body, path = SECRET_CASES[case]
    _write(folder, body)
    result = cli("validate", "p", "--profiles-dir", str(folder))
    assert result.exit_code == 1, result.output
    assert "Hunter2" not in result.stderr and TOKENS["random"] not in result.stderr
    assert all(t not in result.stderr for t in TOKENS.values())
    mine = [line for line in result.stderr.splitlines() if f" {path}: looks like a literal secret"
            in line]
    assert len(mine) == 1 and LOCATED.match(mine[0]), result.stderr
    out = tmp_path / "output"
    rendered = cli("render", "p", "--profiles-dir", str(folder), "--out", str(out))
    assert rendered.exit_code == 1, rendered.output
    assert not out.exists()


def test_harmless_values_under_secret_names_pass() -> None:
    assert classify("--api-key=$(API_KEY)") is None
    assert classify("--api-key=${API_KEY}") is None
    assert classify("https://github.com/acme/platform.git") is None
    assert classify("PruneLast=true") is None
    assert classify("max-tokens=4096") is None


# --- the detector passes what the examples hold --------------------------------------------------


def _leaves(node: Any, key: str | None = None) -> Iterator[tuple[str | None, str]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield None, str(k)
            yield from _leaves(v, str(k))
    elif isinstance(node, list):
        for item in node:
            yield from _leaves(item, key)
    elif isinstance(node, str):
        yield key, node


def _example_texts() -> Iterator[tuple[str, str]]:
    paths = [*REPO.glob("profiles/*.yaml"), *REPO.glob("tests/profiles/valid/*.yaml"),
             *REPO.glob("tests/golden/*/profiles/*.yaml"),
             *REPO.glob("tests/golden_plan/**/*.yaml")]
    for path in sorted(paths):
        yield str(path.relative_to(REPO)), path.read_text(encoding="utf-8")
    for example in EXAMPLES:
        for name, text in example_files(example).items():
            if name.endswith(".yaml"):
                yield f"init {example}: {name}", text


def test_every_string_of_the_examples_passes() -> None:
    count = 0
    for where, text in _example_texts():
        for key, value in _leaves(yaml.safe_load(text)):
            count += 1
            assert classify(value, key) is None, (where, key, value)
            assert redact(value) == value, (where, value)
    assert count > 1000


def test_committed_output_holds_nothing_secret_shaped() -> None:
    for path in sorted((REPO / "output").rglob("*")):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            assert not list(shape_spans(text)), path


def test_object_references_are_not_redacted() -> None:
    """Findings name objects as `Kind/namespace/name`; a generated name (a weights Job's hash)
    makes the whole look random, but it is not a credential. A random run is still redacted."""
    from aiplat_gen.core.redact import REDACTED, redact

    ref = "Job/llm-serving/mistral-7b-weights-b6e3d9d8c0"
    assert redact(f"{ref}: policy probes") == f"{ref}: policy probes"
    random_run = "Job/llm-serving/Qx7vK2pLm9Rt4wZ8yB3nF6hJ1sD5gA0c"
    assert REDACTED in redact(random_run)


_PIECES = ["hf_", "sk-", "ghp_", "github_pat_", "AKIA", "ASIA", "AIza", "xoxb-", "glpat-",
           "-----BEGIN RSA PRIVATE KEY-----", "eyJ", ".", "://", "u:p@h", "Ab3", "Zz9", "x" * 7,
           "Q7wErTy9", "-", "_", " ", "=", "/"]


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=14))
def test_the_prefilter_never_hides_a_credential(pieces: list[str]) -> None:
    """`shape_spans` skips text its one-scan prefilter clears: with the prefilter matching
    everything, the spans are the same."""
    import re

    from aiplat_gen.core import redact

    text = "".join(pieces)
    filtered = list(redact.shape_spans(text))
    original = redact._MAYBE
    try:
        redact._MAYBE = re.compile("")
        assert list(redact.shape_spans(text)) == filtered, text
    finally:
        redact._MAYBE = original


@pytest.mark.parametrize("token", [
    "AKIAIOSFODNN7EXAMPLE", "ASIAIOSFODNN7EXAMPLE", "sk-Ab3Cd4Ef5Gh6Ij7Kl8Mn",
    "xoxb-1234567890", "glpat-Ab3Cd4Ef5Gh6Ij7Kl8Mn", "eyJhbGciOiJIUzI1.eyJzdWIiOiIxMjM0.abc",
    "-----BEGIN PRIVATE KEY-----", "postgres://user:s3cretpw@db",
    "hf_Ab3Cd4Ef5Gh6Ij7Kl8Mn9Op0Qr1St",
    "ghp_" + "Ab3" * 12, "AIza" + "Ab3Cd4Ef5G" * 3 + "h6Ij7"])
def test_the_prefilter_passes_each_kind_of_credential(token: str) -> None:
    import re

    from aiplat_gen.core import redact

    text = f"value: {token} (x)"
    filtered = list(redact.shape_spans(text))
    original = redact._MAYBE
    try:
        redact._MAYBE = re.compile("")
        unfiltered = list(redact.shape_spans(text))
    finally:
        redact._MAYBE = original
    assert unfiltered, token  # a credential, as the patterns see it
    assert filtered == unfiltered
