"""`output/README.md`: written on every render, the same whichever profiles were rendered, with
the models, quotas, charts, graph and how to apply; and `aiplat-gen graph` (Mermaid)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from typer.testing import Result

from aiplat_gen.platform.facts.charts import CHARTS

README = Path("output/README.md")


def test_a_partial_render_keeps_every_environment(workspace: Path,
                                                  cli: Callable[..., Result]) -> None:
    assert cli("render", "--all").exit_code == 0
    full = README.read_text("utf-8")
    for env in ("base", "dev", "prod", "staging"):
        assert f"\n## {env}\n" in full
    prod = workspace / "profiles" / "prod.yaml"
    prod.write_text(prod.read_text().replace("maxReplicas: 4", "maxReplicas: 3"))
    result = cli("render", "prod")
    assert result.exit_code == 0, result.output
    partial = README.read_text("utf-8")
    assert partial != full  # prod's section changed ...
    for env in ("dev", "staging"):  # ... and the others are still there
        assert f"\n## {env}\n" in partial
    assert "| llama-70b | vllm | llm-serving | gpu-h100 | h100-80gb | 4 | 1-3 | 4-12 |" in partial
    assert cli("render", "--all", "--check").exit_code == 0  # same page as a full render
    record = json.loads(Path("output/.aiplat-gen.json").read_text())["files"]
    assert record["README.md"]["profile"] == "base"


def test_readme_content(workspace: Path, cli: Callable[..., Result]) -> None:
    assert cli("render", "--all").exit_code == 0
    text = README.read_text("utf-8")
    assert text.startswith("# acme-ai 2026.11.0: the rendered platform\n")
    assert str(workspace) not in text  # no absolute path: the page is the same everywhere
    assert "| prod | base | `overlays/prod/` |" in text
    for env in ("dev", "prod", "staging"):
        assert f"kubectl apply -k argocd/{env}\n" in text
        assert f"kubectl apply -k overlays/{env}\n" in text
    # One block per environment: each goes to its own cluster, never "run all of these".
    how = text[text.index("## How to apply\n"):text.index("\n## base\n")]
    blocks = re.findall(r"```sh\n(.*?)```", how, re.S)
    # The argocd-cm health-check patch is a block of its own, after the environments'.
    patch = [b for b in blocks if b.startswith("kubectl -n argocd patch configmap argocd-cm")]
    assert len(patch) == 1
    assert [b for b in blocks if b not in patch] == [
        *(f"kubectl apply -k argocd/{env}\n" for env in ("dev", "prod", "staging")),
        *(f"kubectl apply -k {folder}\n" for folder in
          ("base", "overlays/dev", "overlays/prod", "overlays/staging"))]
    assert blocks.index(patch[0]) == 3
    assert "prod:\n\n```sh\nkubectl apply -k argocd/prod\n```" in how
    prod = text[text.index("\n## prod\n"):text.index("\n## staging\n")]
    assert "| llama-8b | vllm | llm-serving | gpu-l4 | l4 | 1 | 2-6 | 2-6 |" in prod
    assert "| llm-serving | inference | restricted | 40 | 768 | 6Ti | 200 |" in prod
    versions = {c.name: c.version for c in CHARTS}
    assert f"| keda | {versions['keda']} |" in prod  # prod autoscales with KEDA
    assert ("helm upgrade --install gpu-operator gpu-operator --repo "
            "https://helm.ngc.nvidia.com/nvidia --version v26.7.0 --namespace gpu-operator "
            "--create-namespace -f helm/gpu-operator/values.yaml "
            "-f helm/gpu-operator/values-prod.yaml") in prod
    for path in re.findall(r"-f (helm/\S+)", text):
        assert (Path("output") / path).is_file(), path
    graph = re.search(r"```mermaid\n(.*?)```", prod, re.S)
    assert graph is not None
    assert 'gateway_ai_gateway -->|"8000/TCP http"| model_llama_70b' in graph.group(1)


def _section(text: str, env: str) -> str:
    start = text.index(f"\n## {env}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end >= 0 else len(text)]


def test_readme_lists_what_the_cluster_must_provide(workspace: Path,
                                                    cli: Callable[..., Result]) -> None:
    assert cli("render", "--all").exit_code == 0
    text = README.read_text("utf-8")
    for env in ("base", "dev", "prod", "staging"):
        assert "### What the cluster must provide\n" in _section(text, env)
    prod = _section(text, "prod")
    provided = prod[prod.index("### What the cluster must provide"):prod.index("### Charts")]
    for row in ("| StorageClass | `gp3` | - | model 'llama-8b', model 'llama-70b', vector database "
                "'weaviate', vector database 'docs-pg' |",
                "| StorageClass | `efs-sc` | - | model 'mistral-7b' |",
                "| EC2NodeClass | `gpu` | - | node pool 'gpu-h100', node pool 'gpu-l4', node pool "
                "'gpu-a100-mig' |",
                "| TLS Secret | `llm-acme-example-tls` | ai-gateway | gateway 'ai-gateway' |",
                "| controller: Karpenter | `karpenter` | - | node pool 'gpu-h100', node pool "
                "'gpu-l4', node pool 'gpu-a100-mig' |",
                "| controller: KServe | `kserve` | - | model 'mistral-7b' |"):
        assert row in provided, row
    assert "| ClusterSecretStore | `vault` | - | Secret llm-serving/hf-token, " in provided
    # What installs the rest: prod's KEDA comes from its operator Application, and base has none.
    installed = "- Installed by the operator Applications (see Charts): "
    assert "`keda` (KEDA, chart `keda`)" in provided.split(installed)[1]
    base = _section(text, "base")
    assert "`kserve`" not in base and "`keda`" not in base.split(installed)[1].split("\n")[0]
    # The minimal scaffold declares only the default class its volume gets, with the volume.
    profiles = workspace / "profiles"
    for path in profiles.glob("*.yaml"):
        path.unlink()
    assert cli("init", "--example", "minimal").exit_code == 0
    assert cli("render", "--all").exit_code == 0
    minimal = _section(README.read_text("utf-8"), "base")
    assert "| default StorageClass | `standard` | - | model 'qwen-7b' |\n" in minimal


def test_invalid_and_foreign_siblings(workspace: Path, cli: Callable[..., Result]) -> None:
    profiles = workspace / "profiles"
    dev = profiles / "dev.yaml"
    dev.write_text(dev.read_text().replace("replicas: 1\n", "replicas: one\n", 1))
    other = profiles / "lab.yaml"
    other.write_text((profiles / "base.yaml").read_text().replace("name: base", "name: lab"))
    result = cli("render", "prod")
    assert result.exit_code == 0, result.output
    text = README.read_text("utf-8")
    assert "Not summarised because they do not validate (run `aiplat-gen validate --all`): " \
           "dev.\n" in text
    assert "\n## dev\n" not in text and "\n## lab\n" not in text  # lab is another tree's root
    assert "\n## staging\n" in text


def _nodes_and_edges(chart: str) -> tuple[set[str], list[tuple[str, str]]]:
    nodes = set(re.findall(r"^\s+([A-Za-z0-9_]+)[\[\(\{]", chart, re.M))
    edges = re.findall(r"^\s+([A-Za-z0-9_]+) -->\|\"[^\"]+\"\| ([A-Za-z0-9_]+)$", chart, re.M)
    return nodes, edges


def test_graph_command(workspace: Path, cli: Callable[..., Result]) -> None:
    result = cli("graph", "prod")
    assert result.exit_code == 0, result.output
    chart = result.stdout
    assert chart.startswith("flowchart LR\n")
    nodes, edges = _nodes_and_edges(chart)
    assert len(edges) == chart.count("-->")  # every arrow has the expected shape
    assert {s for s, _ in edges} | {t for _, t in edges} <= nodes  # and declared ends
    assert ("model_llama_70b", "store_weaviate") in edges
    assert '-->|"8080/TCP http, 50051/TCP grpc"| store_weaviate' in chart
    assert "prometheus" not in nodes
    everything = cli("graph", "prod", "--all-flows")
    assert everything.exit_code == 0
    all_nodes, all_edges = _nodes_and_edges(everything.stdout)
    assert {"prometheus", "dns"} <= all_nodes and len(all_edges) > len(edges)
    assert cli("graph", "nope").exit_code == 2


MERMAID = Path(__file__).resolve().parents[1] / ".tools" / "mermaid"


def test_graphs_parse_with_mermaid(workspace: Path, cli: Callable[..., Result],
                                   tmp_path: Path) -> None:
    assert (MERMAID / "node_modules" / "mermaid").is_dir() and shutil.which("node"), (
        "mermaid is not installed in .tools/mermaid: run scripts/install-tools.sh")
    files = []
    for env in ("base", "dev", "prod", "staging"):
        for extra in ((), ("--all-flows",)):
            result = cli("graph", env, *extra)
            assert result.exit_code == 0
            path = tmp_path / f"{env}{len(extra)}.mmd"
            path.write_text(result.stdout)
            files.append(str(path))
    script = ("import {JSDOM} from 'jsdom'; import fs from 'fs';"
              "const d = new JSDOM('<body></body>'); globalThis.window = d.window;"
              "globalThis.document = d.window.document;"
              "const {default: m} = await import('mermaid'); m.initialize({startOnLoad: false});"
              "for (const f of process.argv.slice(1)) await m.parse(fs.readFileSync(f, 'utf8'));")
    run = subprocess.run(["node", "--input-type=module", "-e", script, *files], cwd=MERMAID,
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
