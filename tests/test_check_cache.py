"""What makes `check` fast keeps its findings exact: documents parsed once (and kept between runs
only when they read back the same), the output tree indexed from document heads, kustomize builds
reused only while nothing they could read has changed."""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from typer.testing import Result

from aiplat_gen.core import yamlio
from aiplat_gen.verify import sources
from aiplat_gen.verify.kube import kustomize
from aiplat_gen.verify.kube.build_cache import BuildCache, tree_digest
from aiplat_gen.verify.kube.kustomize import Build
from aiplat_gen.verify.sources import DocumentParser, SourceIndex, split_documents

STREAM = """apiVersion: v1
kind: ConfigMap
metadata:
  name: a
data:
  text: |
    ---
    not a separator: indented
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: b
---
# only a comment
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: a
data:
  text: |
    ---
    not a separator: indented
"""


def test_documents_are_split_on_separator_lines_only() -> None:
    chunks = split_documents(STREAM)
    assert chunks is not None and len(chunks) == 4
    parsed = DocumentParser().parse(STREAM)
    assert [d.obj for d in parsed] == yamlio.load_all(STREAM)
    assert parsed[0].obj is parsed[2].obj  # the same text is parsed once
    assert parsed[1].text == "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n"


@pytest.mark.parametrize("stream", [
    "a: 1\n--- !!map\nb: 2\n", "a: 1\n...\n---\nb: 2\n", "%YAML 1.1\n---\na: 1\n",
    "--- {a: 1}\n", "a: 1\n--- |\n  text\n"])
def test_other_markers_make_a_whole_stream_parse(stream: str) -> None:
    assert split_documents(stream) is None
    assert [d.obj for d in DocumentParser().parse(stream)] == yamlio.load_all(stream)


def test_parsed_documents_are_kept_only_when_json_reads_them_back(tmp_path: Path) -> None:
    store = tmp_path / "parsed.json.z"
    stream = "a: 1\n---\nday: 2026-01-01\n---\n1: one\n---\nb: [x, 2.5, null, true]\n"
    first = DocumentParser(store)
    expected = [d.obj for d in first.parse(stream)]
    first.save()
    kept = sources._read_store(store)
    assert sorted(json.dumps(v) for v in kept.values()) == [
        '[{"a": 1}]', '[{"b": ["x", 2.5, null, true]}]']
    second = DocumentParser(store)
    assert [d.obj for d in second.parse(stream)] == expected
    assert isinstance(expected[1]["day"], datetime.date)
    # A kept document is used as it is: the parse is skipped.
    second._kept = {k: [{"kept": True}] for k in second._kept}
    second._parsed.clear()
    assert {"kept": True} in [d.obj for d in second.parse(stream)]


HEAD_CASES = {
    "plain.yaml": "# header\napiVersion: v1\nkind: Service\nmetadata:\n  name: s\n"
                  "  namespace: n\nspec:\n  ports:\n  - port: 80\n",
    "multi.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one\n---\n"
                  "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: two, namespace: x}\n",
    "sequence.yaml": "kind: List\nitems:\n- kind: Pod\n  metadata:\n    name: not-me\n"
                     "metadata:\n  labels:\n    a: b\n  name: list\napiVersion: v1\n",
    "quoted.yaml": '"apiVersion": v1\n"kind": Secret\nmetadata:\n  name: q\n',
    "flow.yaml": "{apiVersion: v1, kind: Namespace, metadata: {name: f}}\n",
    "duplicate.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: first\n"
                      "metadata:\n  name: second\n",
    "scalar.yaml": "just text\n",
}


def test_the_index_reads_heads_as_a_full_parse_would(tmp_path: Path) -> None:
    folder = tmp_path / "out" / "base"
    folder.mkdir(parents=True)
    for name, text in HEAD_CASES.items():
        (folder / name).write_text(text)
    index = SourceIndex(tmp_path / "out").lookup(["base"])
    expected = {}
    for name, text in sorted(HEAD_CASES.items()):
        line = next((n for n, ln in enumerate(text.splitlines(), 1) if ln.startswith("kind:")), 1)
        for doc in yaml.safe_load_all(text):
            if isinstance(doc, dict):
                expected[sources.key(doc)] = (str(folder / name), line)
    assert {k: (str(Path(f).absolute()), n) for k, (f, n) in index.items()} == expected
    assert ("v1", "ConfigMap", "", "second") in index and ("", "Pod", "", "not-me") not in index


def _tree(root: Path) -> Path:
    out = root / "out"
    (out / "base").mkdir(parents=True)
    (out / "overlays" / "dev" / "patches").mkdir(parents=True)
    (out / "base" / "kustomization.yaml").write_text("resources:\n- cm.yaml\n")
    (out / "base" / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
                                          "  name: cm\ndata:\n  a: b\n")
    (out / "overlays" / "dev" / "patches" / "p.yaml").write_text(
        "- op: replace\n  path: /data/a\n  value: c\n")
    (out / "overlays" / "dev" / "kustomization.yaml").write_text(
        "resources:\n- ../../base\npatches:\n- path: patches/p.yaml\n"
        "  target:\n    kind: ConfigMap\n    name: cm\n")
    return out


def test_the_tree_digest_follows_every_byte_and_name(tmp_path: Path) -> None:
    out = _tree(tmp_path)
    first = tree_digest(out)
    assert first is not None and tree_digest(out) == first
    cm = out / "base" / "cm.yaml"
    cm.write_text(cm.read_text().replace("a: b", "a: x"))
    assert tree_digest(out) not in (None, first)
    (out / "base" / "empty").mkdir()
    second = tree_digest(out)
    (out / "base" / "empty").rmdir()
    assert second != tree_digest(out)


@pytest.mark.parametrize("change", [
    "resources:\n- ../../../elsewhere\n",
    "resources:\n- /etc/kustomize\n",
    "resources:\n- https://github.com/example/repo//base?ref=v1\n",
    "resources:\n- github.com/example/repo/base\n",
    "resources:\n- cm.yaml\nconfigMapGenerator:\n- name: x\n  files:\n  - ../../secret\n",
    "resources:\n- cm.yaml\nhelmCharts:\n- name: x\n",
    "resources:\n- cm.yaml\npatches:\n- path: ../../../p.yaml\n",
    "resources: [cm.yaml\n",
])
def test_a_tree_that_could_read_outside_is_never_cached(tmp_path: Path, change: str) -> None:
    out = _tree(tmp_path)
    (out / "base" / "kustomization.yaml").write_text(change)
    assert tree_digest(out) is None
    assert BuildCache.open(tmp_path / "cache", out, ["kustomize", "build"]) is None


def test_a_symlink_in_the_tree_is_never_cached(tmp_path: Path) -> None:
    out = _tree(tmp_path)
    (tmp_path / "outside.yaml").write_text("a: b\n")
    (out / "base" / "link.yaml").symlink_to(tmp_path / "outside.yaml")
    assert tree_digest(out) is None


def test_entries_round_trip_and_failed_builds_are_not_kept(tmp_path: Path) -> None:
    out = _tree(tmp_path)
    cache = BuildCache.open(tmp_path / "cache", out, ["kustomize", "build"])
    assert cache is not None
    key = cache.key("overlays/dev")
    assert key != cache.key("base") and cache.get(key) is None
    built = Build("kind: ConfigMap\n", ("Warning: x",), False, 0)
    cache.put(key, built)
    assert cache.get(key) == built
    failed = cache.key("base")
    cache.put(failed, Build("", ("kustomize build failed (exit 1): no",), False, 1))
    assert cache.get(failed) is None
    (cache.folder / f"{key}.json.z").write_bytes(b"not zlib")
    assert cache.get(key) is None


def test_only_the_most_recently_used_entries_are_kept(tmp_path: Path) -> None:
    out = _tree(tmp_path)
    cache = BuildCache.open(tmp_path / "cache", out, ["kustomize", "build"])
    assert cache is not None
    keys = [cache.key(f"t{n}") for n in range(5)]
    for number, key in enumerate(keys):
        cache.put(key, Build(f"n: {number}\n", (), True))
    for number, key in enumerate(keys):  # distinct modification times, oldest first
        entry = cache.folder / f"{key}.json.z"
        stamp = 1_000_000 + number
        os.utime(entry, (stamp, stamp))
    assert cache.get(keys[0]) is not None  # used now: the newest
    cache.prune(keep=2)
    assert [cache.get(k) is not None for k in keys] == [True, False, False, False, True]


@pytest.fixture
def rendered(workspace: Path, cli: Callable[..., Result], tmp_path: Path,
             monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AIPLAT_GEN_CACHE", str(tmp_path / "cache"))
    result = cli("render", "--all")
    assert result.exit_code == 0, result.output
    return workspace


@pytest.fixture
def checked(rendered: Path, cli: Callable[..., Result],
            shared: Path) -> tuple[tuple[str, ...], Result]:
    """The arguments of an in-process JSON check of the rendered tree, and its first run."""
    args = ("check", "--all", "--kubeconform", "none", "--format", "json",
            "--schema-location", str(shared / "schemas" / "crds"))
    first = cli(*args)
    assert first.exit_code == 0, first.output
    return args, first


def test_a_second_check_reuses_builds_and_documents_with_the_same_report(
        checked: tuple[tuple[str, ...], Result], cli: Callable[..., Result],
        monkeypatch: pytest.MonkeyPatch) -> None:
    args, first = checked

    def no_build(folder: Path, command: list[str]) -> Build:
        raise AssertionError(f"kustomize ran for {folder}")

    parsed_again: list[bool] = []
    save = DocumentParser.save

    def spy(parser: DocumentParser) -> None:
        parsed_again.append(parser._changed)
        save(parser)

    with monkeypatch.context() as patched:
        patched.setattr(kustomize, "build", no_build)
        patched.setattr(DocumentParser, "save", spy)
        second = cli(*args)
    assert second.exit_code == 0, second.output
    assert second.stdout == first.stdout
    assert parsed_again == [False]


def test_any_change_under_output_builds_again(rendered: Path, cli: Callable[..., Result],
                                              shared: Path) -> None:
    args = ("check", "--all", "--kubeconform", "none", "--schema-location",
            str(shared / "schemas" / "crds"))
    assert cli(*args).exit_code == 0
    quota = rendered / "output" / "base" / "cluster" / "resourcequota-llm-serving-quota.yaml"
    quota.write_text(quota.read_text().replace("spec:\n  hard:\n", "spec:\n  hardd: {}\n  hard:\n"))
    seeded = cli(*args)
    assert seeded.exit_code == 1
    assert seeded.stdout.count("'hardd' was unexpected") == 1  # one cause: one line ...
    assert "(4 objects: " in seeded.stdout  # ... for base and the three overlays
    # A kustomization with more than resources and patches is never cached: kustomize runs.
    kustomization = rendered / "output" / "overlays" / "dev" / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text() + "commonLabels:\n  team: ml\n")
    assert tree_digest(rendered / "output") is None
    warned = cli(*args)
    assert warned.exit_code == 1
    assert "overlays/dev: Warning:" in warned.stdout and "commonLabels" in warned.stdout


def test_no_cache_builds_and_parses_everything_again(
        checked: tuple[tuple[str, ...], Result], cli: Callable[..., Result],
        monkeypatch: pytest.MonkeyPatch) -> None:
    args, first = checked
    built: list[Path] = []
    build = kustomize.build

    def counting(folder: Path, command: list[str]) -> Build:
        built.append(folder)
        return build(folder, command)

    monkeypatch.setattr(kustomize, "build", counting)
    again = cli(*args, "--no-cache")
    assert again.exit_code == 0, again.output
    assert again.stdout == first.stdout
    assert len(built) == 7  # base, three overlays, three argocd folders: nothing reused
