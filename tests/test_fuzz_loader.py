"""Fuzzing the loader: hostile YAML and random mutations of the example profiles.

Every outcome must be a success or a located error (`file:line:col`) with exit 1 or 2: never a
traceback or an internal error (exit 4), never a hang (each run has a deadline), never a partial
output folder. `test_properties.py` mutates the profiles' *data*; here the *text* is attacked:
nesting, numbers, encodings, line endings, unicode, anchors, aliases, merge keys and every tag.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from test_fuzz_support import (
    EXCERPT,
    PROFILE_TEXTS,
    assert_clean,
    python,
    run,
    write_profile,
)

BASE = PROFILE_TEXTS["base"]
HEADER = ("apiVersion: aiplat.dev/v1alpha1\nkind: PlatformProfile\nmetadata:\n  name: base\n"
          "spec:\n  x: ")
DESCRIPTION = "description: Online inference; may preempt batch work."


def _with(old: str, new: str, text: str = BASE) -> str:
    assert text.count(old) >= 1, old
    return text.replace(old, new, 1)


TAGS = ["!!str 3", "!!int '16'", "!!float 16", "!!bool 'true'", "!!null ''", "!!binary aGk=",
        "!!timestamp 2026-01-01T10:00:00Z", "!!omap [a: 1]", "!!pairs [a: 1]", "!!set {a, b}",
        "!!seq [a]", "!!map {a: 1}", "!!merge <<", "!!value =", "!!yaml '!'",
        "!!python/object/apply:os.system [ls]", "!!python/name:os.system ''", "!local 16",
        "!<tag:yaml.org,2002:str> 16", "!<tag:example.com,2026:x> 16", "!!custom 16",
        # ruamel's constructors raise AttributeError, KeyError, IndexError on these
        "!!set x", "!!bool x", "!!int ''", "!!float", "!!python/tuple x"]

# name -> (text or bytes, extra CLI arguments). The oracle applies to each.
HOSTILE: dict[str, str | bytes] = {
    "deep-flow-maps-10000": HEADER + "{a: " * 10_000 + "1" + "}" * 10_000 + "\n",
    "deep-block-maps-200": HEADER + "\n" + "".join(
        "  " * (i + 2) + "a:\n" for i in range(200)) + "  " * 202 + "1\n",
    "deep-block-seqs-10000": HEADER + "\n    " + "- " * 10_000 + "x\n",
    "int-10000-digits": _with("nodes: 3", "nodes: " + "9" * 10_000),
    "int-4000-digits": _with("nodes: 3", "nodes: " + "9" * 4000),
    "int-2-to-63": _with("nodes: 3", f"nodes: {2**63 - 1}"),
    "float-1e400": _with("pricePerGpuHour: 6.0", "pricePerGpuHour: 1e400"),
    "float-nan": _with("pricePerGpuHour: 6.0", "pricePerGpuHour: .nan"),
    "float-minus-inf": _with("gpuMemoryUtilization: 0.9", "gpuMemoryUtilization: -.inf"),
    "float-1e-400": _with("gpuMemoryUtilization: 0.9", "gpuMemoryUtilization: 1e-400"),
    "float-10000-digits": _with("pricePerGpuHour: 6.0", "pricePerGpuHour: 1." + "1" * 10_000),
    "quantity-huge": _with("memory: 64Gi", 'memory: "9e999999"'),
    "quantity-exa": _with("memory: 64Gi", "memory: 1Ei"),
    "quantity-exa-shm": _with("shmSize: 8Gi", "shmSize: 1E"),
    "name-rtl": _with("name: acme-ai", "name: \u05d0\u05e7\u05de\u05d4"),
    "name-combining": _with("name: acme-ai", "name: acme\u0301-ai"),
    "name-emoji": _with("name: acme-ai", "name: acme-\U0001F916"),
    "name-control-escape": _with("name: acme-ai", 'name: "acme\\u0007ai"'),
    "description-unicode": _with(DESCRIPTION, 'description: "\u202eRTL e\u0301 \U0001F916 '
                                 '\\u0007 \\x85 \\u2028 \\0 \\ufeff"'),
    "raw-control-character": _with(DESCRIPTION, "description: bell\x07here"),
    "raw-del-character": _with(DESCRIPTION, "description: del\x7fhere"),
    "scalar-1mb": _with(DESCRIPTION, "description: " + "x" * (1_040_000 - len(BASE))),
    "scalar-over-bound": _with(DESCRIPTION, "description: " + "x" * 1_100_000),
    "key-2000-characters": _with("nodes: 3", "nodes: 3\n      " + "k" * 2000 + ": 1"),
    "values-expand-101000": HEADER + "\n    a: &a [" + "1, " * 999 + "1]\n    b: ["
    + ", ".join(["*a"] * 101) + "]\n",
    "anchor-alias-reuse": _with("limitRange:\n        defaultMemory",
                                "limitRange: &lr\n        defaultMemory").replace(
        "    - name: ai-gateway\n      purpose: gateway\n",
        "    - name: ai-gateway\n      purpose: gateway\n      limitRange: *lr\n"),
    "alias-undefined": _with("nodes: 3", "nodes: *nowhere"),
    "alias-recursive": _with("nodes: 3", "nodes: &loop [*loop]"),
    "alias-bomb": HEADER + "\n" + "    a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"    a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 7)),
    "merge-key": _with("      cpu: \"16\"\n      memory: 64Gi\n",
                       "      <<: {cpu: \"16\", memory: 64Gi}\n"),
    "merge-key-list": _with("      cpu: \"16\"\n      memory: 64Gi\n",
                            "      <<: [{cpu: \"16\"}, {memory: 64Gi}]\n"),
    "merge-key-scalar": _with("      cpu: \"16\"\n", "      <<: 16\n"),
    "merge-key-anchor": _with("  gpuOperator:\n", "  gpuOperator: &op\n").replace(
        "    migStrategy: single\n", "    migStrategy: single\n  x-operator:\n    <<: *op\n"),
    "bom": "\ufeff" + BASE,
    "bom-crlf": "\ufeff" + BASE.replace("\n", "\r\n"),
    "crlf": BASE.replace("\n", "\r\n"),
    "crlf-with-an-error": BASE.replace("nodes: 3", "nodes: three").replace("\n", "\r\n"),
    "cr-only": BASE.replace("\n", "\r"),
    "no-final-newline": BASE.rstrip("\n"),
    "utf16": BASE.encode("utf-16"),
    "utf32": BASE.encode("utf-32"),
    "latin1": _with(DESCRIPTION, "description: caf\u00e9").encode("latin-1"),
    "nul-byte": BASE.encode() + b"\x00",
    "directive-yaml-1.1": "%YAML 1.1\n---\n" + BASE,
    "directive-yaml-2.0": "%YAML 2.0\n---\n" + BASE,
    "directive-tag": "%TAG !e! tag:example.com,2026:\n---\n" + BASE,
    "two-documents": BASE + "---\nkind: Other\n",
    "document-end-marker": BASE + "...\n",
    "only-markers": "---\n...\n",
    "whitespace-only": " \n\n   \n",
    "comment-only": "# nothing\n",
    "scalar-root": "42\n",
    "list-root": "- a\n- b\n",
    "keys-not-strings": _with("nodes: 3", "nodes: 3\n      1: a\n      ~: b\n      2.5: c\n"
                              "      2026-01-01: d\n      [x]: e\n      {y: 1}: f"),
    "keys-equal-in-python": _with("nodes: 3", "nodes: 3\n      1: a\n      true: b"),
    "extends-list": _with("metadata:", "extends: [a]\nmetadata:"),
    "extends-path": _with("metadata:", "extends: ../../etc/passwd\nmetadata:"),
    "extends-self": _with("metadata:", "extends: base\nmetadata:"),
    "tab-indent": _with("      nodes: 3", "\tnodes: 3"),
    # each tag on a value of a small profile (the loader is what these reach)
    **{f"tag-{i:02d}-{t.split()[0].strip('!<>').replace('/', '-')[:20]}": HEADER + t + "\n"
       for i, t in enumerate(TAGS)},
    "tag-on-a-real-field": _with('cpu: "16"', "cpu: !!str 16"),
}
# Deadlines in seconds (every other case has 5; these runs take well under a second unloaded).
# 10,000 nested flow lists would take ruamel 4 s; the libyaml pre-scan refuses them in 1 ms.
SLOW = {"scalar-1mb": 10.0, "deep-flow-lists-10000": 1.0}


REUSED_ANCHOR = "anchor-defined-twice"
HOSTILE[REUSED_ANCHOR] = _with("nodes: 3", "nodes: &n 3").replace("nodes: 2", "nodes: &n 2", 1)


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_profile(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_profile(tmp_path, "base", HOSTILE[case])
    monkeypatch.chdir(tmp_path)
    assert_clean(run("validate", "base", seconds=SLOW.get(case, 5.0)), tmp_path)


MORE_HOSTILE = {
    "deep-flow-lists-10000": HEADER + "[" * 10_000 + "]" * 10_000 + "\n",
    "hex-int-4000-digits": _with("gpus: 16", "gpus: 0x" + "f" * 4000),
    "surrogate-escape": _with(DESCRIPTION, 'description: "\\ud800"'),
}
# The first diagnostic of a case: (text on the line it must point at, or None for any line;
# the message).
EXPECTED: dict[str, tuple[str | None, str]] = {
    "deep-block-maps-200": (None, "nesting deeper than 64 levels"),
    "int-2-to-63": ("nodes: 9223", r"spec\.nodePools\[0\]\.nodes: Input should be less"),
    "float-1e400": ("pricePerGpuHour: 1e400", r".*pricePerGpuHour: Input should be less"),
    "float-nan": ("pricePerGpuHour: .nan", r".*pricePerGpuHour: Input should be less"),
    "quantity-huge": ("memory: \"9e999999\"", r"spec\.nodePools\[0\]\.memory: '9e999999' is "
                      "more than Kubernetes quantities hold"),
    "quantity-exa-shm": ("shmSize: 1E", r"spec\.models\[0\]\.resources\.shmSize: /dev/shm of 1E "
                         "leaves nothing of the 40Gi memory limit"),
    "name-rtl": ("name: \u05d0", "spec\\.platform\\.name: '\u05d0.*' must be a DNS-1123 label"),
    "name-emoji": ("name: acme-\U0001F916", r"spec\.platform\.name: .* must be a DNS-1123"),
    "name-control-escape": ("name: \"acme", r"spec\.platform\.name: 'acme\\x07ai' must be"),
    "scalar-over-bound": (None, r"file is [0-9]+ bytes, over the 1048576 byte limit"),
    "crlf-with-an-error": ("nodes: three", r"spec\.nodePools\[0\]\.nodes: Input should be "
                              "a valid integer"),
    "alias-undefined": ("nodes: *nowhere", "invalid YAML: found undefined alias"),
    "merge-key-scalar": ("<<: 16", ""),
    "values-expand-101000": (None, "profile expands to more than 100000 values"),
    "utf16": (None, "file is binary"),
    "latin1": ("caf", "file is not valid UTF-8"),
    "extends-path": ("extends:", r"extends: '\.\./\.\./etc/passwd' is not a profile name"),
    "tab-indent": ("\tnodes", "tab character"),
    "keys-not-strings": ("1: a", r"spec\.nodePools\[0\]: key 1 is not a string"),
    "deep-flow-lists-10000": ("  x: [", "nesting deeper than 64 levels"),
    "deep-flow-maps-10000": ("  x: {", "nesting deeper than 64 levels"),
    "deep-block-seqs-10000": ("- - ", "nesting deeper than 64 levels"),
    "int-10000-digits": ("nodes: 9999", "number of 10000 digits is out of range"),
    "raw-control-character": ("bell", r"invalid YAML: character '\\x07' \(U\+0007\) is not"),
    "hex-int-4000-digits": ("gpus: 0x", r".*gpus: integer out of range"),
    "surrogate-escape": ("ud800", r".*description: escape of U\+D800 is not a character"),
}


def _line_of(text: str | bytes, needle: str | None) -> str:
    if needle is None:
        return "[0-9]+"
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    at = data.index(needle.encode("utf-8"))
    return str(data[:at].count(b"\n") + 1)


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_hostile_profile_diagnostic(case: str, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The precise diagnostic at the right line, and nothing written."""
    text = {**HOSTILE, **MORE_HOSTILE}[case]
    write_profile(tmp_path, "base", text)
    monkeypatch.chdir(tmp_path)
    result = run("render", "base", "--out", str(tmp_path / "output"),
                 seconds=SLOW.get(case, 5.0))
    assert_clean(result, tmp_path, tmp_path / "output")
    assert result.exit_code == 1, result.output
    needle, message = EXPECTED[case]
    # The first error (warnings, such as the example's placeholder sha256, may come before it).
    first = next(line for line in result.stderr.splitlines() if ": warning: " not in line)
    assert re.match(rf"profiles/base\.yaml:{_line_of(text, needle)}:[0-9]+: {message}",
                    first), first


# --- random mutations of the example profiles' text -------------------------------------------

HOSTILE_SCALARS = [
    "", "~", "null", "on", "0755", "0x1F", "0o17", "0b101", "1_000", "12:30", "1e3", "2026-01-01",
    "2026-01-01T10:00:00Z", ".inf", "-.inf", ".nan", "1e400", "-1e400", "9" * 300, "-9" * 100,
    "0x" + "f" * 15, "'quoted'", '"dq \\u00e9 \\t \\0"', "\u05e9\u05dc\u05d5\u05dd", "e\u0301",
    "\U0001F916", "a\u200bb", "|\n  literal\n", ">-\n  folded\n", "[a, {b: c}, [d]]",
    "{a: [1, 2], b: {c: d}}", "&anchor value", "*anchor", "!!str 5", "!!binary aGk=",
    "!!set {a}", "!!omap [a: 1]", "!custom x", "<<: {a: 1}", "- item", "? complex", "@reserved",
    "`reserved", "%directive", "#comment", "a: b: c", "{", "[", "]", "}", "'", '"', "&", "*",
    "!", "|", ">", "-", "? ", ": ", "x" * 2000, "\ufeff", "\t", "\r", "\x85", "\u2028",
]
_LINE = re.compile(r"^(?P<indent> *)(?P<key>- |[^:#\n]+: )(?P<value>.*)$", re.M)


_WORKSPACES: dict[str, Path] = {}


def _workspace(factory: pytest.TempPathFactory, name: str) -> Path:
    """One folder per test for all its examples: profiles keep their paths, so the loader's
    cache spares re-parsing the unchanged parent of a mutated child."""
    if name not in _WORKSPACES:
        _WORKSPACES[name] = factory.mktemp(name)
    return _WORKSPACES[name]


@st.composite
def mutated_text(draw: st.DrawFn) -> tuple[str, str]:
    """A profile's text after one to four random edits of lines, values and characters."""
    name = draw(st.sampled_from(sorted(PROFILE_TEXTS)))
    text = PROFILE_TEXTS[name]
    for _ in range(draw(st.integers(1, 4))):
        lines = text.split("\n")
        at = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "duplicate", "swap", "indent", "value",
                                       "insert", "characters", "anchor", "endings"]))
        if action == "delete":
            del lines[at:at + draw(st.integers(1, 5))]
        elif action == "duplicate":
            lines.insert(at, lines[at])
        elif action == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[at], lines[other] = lines[other], lines[at]
        elif action == "indent":
            shift = draw(st.integers(-4, 4))
            lines[at] = " " * max(0, shift) + lines[at][max(0, -shift):]
        elif action in ("value", "anchor"):
            candidates = [i for i, line in enumerate(lines) if _LINE.match(line)]
            if candidates:
                i = draw(st.sampled_from(candidates))
                match = _LINE.match(lines[i])
                assert match is not None
                scalar = draw(st.sampled_from(HOSTILE_SCALARS)) if action == "value" else (
                    draw(st.sampled_from(["&a ", "*a", "!!str ", "!!map ", "<<: *a", "&a [*a]"]))
                    + match["value"])
                lines[i] = match["indent"] + match["key"] + scalar
        elif action == "insert":
            lines.insert(at, " " * draw(st.integers(0, 8)) + draw(st.sampled_from(
                HOSTILE_SCALARS)))
        elif action == "characters":
            line = lines[at]
            pos = draw(st.integers(0, len(line)))
            lines[at] = line[:pos] + draw(st.text(alphabet=st.sampled_from(
                list("{}[]:,&*!|>'\"%@`#-?~ \t\\") + ["\u00e9", "\u202e", "\U0001F916", "\u0301"]),
                min_size=1, max_size=4)) + line[pos:]
        else:
            text = "\n".join(lines)
            text = draw(st.sampled_from([text.replace("\n", "\r\n"), "\ufeff" + text,
                                         text.rstrip("\n"), text.replace("\n", "\r")]))
            continue
        text = "\n".join(lines)
    return name, text


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=mutated_text())
def test_mutated_profile_text(case: tuple[str, str], tmp_path_factory: pytest.TempPathFactory,
                              ) -> None:
    """Validate a mutated profile (the loader, the merge of `extends`, the schema)."""
    name, text = case
    folder = _workspace(tmp_path_factory, "mutated")
    write_profile(folder, name, text)
    assert_clean(run("validate", str(folder / "profiles" / f"{name}.yaml"), "--profiles-dir",
                     str(folder / "profiles")), Path.cwd())


@st.composite
def mutated_bytes(draw: st.DrawFn) -> bytes:
    """A profile's bytes with random byte-level damage: inserted, deleted, flipped, repeated."""
    data = bytearray(PROFILE_TEXTS[draw(st.sampled_from(sorted(PROFILE_TEXTS)))].encode())
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["insert", "delete", "flip", "repeat", "prefix"]))
        if action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif action == "delete":
            del data[at:at + draw(st.integers(1, 40))]
        elif action == "flip" and at < len(data):
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif action == "repeat":
            data[at:at] = bytes(data[at:at + draw(st.integers(1, 40))]) * draw(st.integers(2, 50))
        else:
            data[0:0] = draw(st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff",
                                              b"\x00\x00\xfe\xff", b"%YAML 1.2\n---\n"]))
    return bytes(data)


@settings(max_examples=30, deadline=None)
@given(data=mutated_bytes())
def test_damaged_profile_bytes(data: bytes, tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = _workspace(tmp_path_factory, "bytes")
    path = write_profile(folder, "base", data)
    assert_clean(run("validate", str(path), "--profiles-dir", str(path.parent)), Path.cwd())


# --- generated YAML values in place of a real one ----------------------------------------------

_scalar_text = st.one_of(
    st.sampled_from(HOSTILE_SCALARS[:30]),
    st.integers(-(2**63) + 1, 2**63 - 1).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr).map(
        lambda f: {"inf": ".inf", "-inf": "-.inf", "nan": ".nan"}.get(f, f)),
    st.text(st.characters(exclude_categories=["Cs", "Cc"]), max_size=20).map(
        lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'),
)


def _flow(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.lists(children, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
        st.lists(st.tuples(st.sampled_from(["a", "b", "name", "cpu", "'on'", '"1"', "<<"]),
                           children), max_size=4).map(
            lambda pairs: "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"),
        st.tuples(st.sampled_from(["!!str", "!!seq", "!!map", "!!set", "!!omap", "!!binary",
                                   "!!timestamp", "!!null", "!!bool", "!!int", "!!float",
                                   "!local", "&x"]), children).map(" ".join),
    )


yaml_values = st.recursive(_scalar_text, _flow, max_leaves=12)
PROD = PROFILE_TEXTS["prod"]  # a child: its parent stays parsed (cached), so examples are quick
_VALUE_LINES = [i for i, line in enumerate(PROD.split("\n")) if _LINE.match(line)]


@settings(max_examples=25, deadline=None)
@given(at=st.sampled_from(_VALUE_LINES), value=yaml_values, alias=st.booleans())
def test_generated_yaml_value(at: int, value: str, alias: bool,
                              tmp_path_factory: pytest.TempPathFactory) -> None:
    """A generated flow value (tags, anchors, merge keys, nesting, numbers, unicode) replaces a
    value of the prod profile; with `alias`, an anchor on it is referenced from the next line."""
    lines = PROD.split("\n")
    match = _LINE.match(lines[at])
    assert match is not None
    lines[at] = match["indent"] + match["key"] + ("&gen " if alias else "") + value
    if alias:
        lines.insert(at + 1, match["indent"] + "x-alias: *gen")
    assume(not (alias and "&gen" in value))
    folder = _workspace(tmp_path_factory, "generated")
    path = write_profile(folder, "prod", "\n".join(lines))
    assert_clean(run("validate", str(path), "--profiles-dir", str(path.parent)), Path.cwd())


# --- the real command line, with a real timeout ------------------------------------------------

REAL_CLI = {
    "deep-flow-maps-10000": HOSTILE["deep-flow-maps-10000"],
    "tag-python": _with("cpu: \"16\"", "cpu: !!python/object/apply:os.system [ls]"),
}


@pytest.mark.parametrize("case", sorted(REAL_CLI))
def test_real_cli_process(case: str, tmp_path: Path) -> None:
    """The installed command in its own process, killed after 30 s: exit 0 or 1, no traceback,
    located diagnostics, no output folder after a failure."""
    path = write_profile(tmp_path, "base", REAL_CLI[case])
    out = tmp_path / "output"
    proc = subprocess.run(
        [python(), "-m", "aiplat_gen", "render", "base", "--profiles-dir", str(path.parent),
         "--out", str(out)], capture_output=True, text=True, timeout=30, cwd=tmp_path,
        check=False)
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    for line in proc.stderr.splitlines():
        assert line.startswith(("aiplat-gen:", "profiles/base.yaml:")) or EXCERPT.match(line), line
    if proc.returncode:
        assert not out.exists()
    else:
        assert (out / ".aiplat-gen.json").is_file()
