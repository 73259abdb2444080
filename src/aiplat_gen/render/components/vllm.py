"""vLLM model servers (`engine: vllm`): a Deployment (or StatefulSet) per model running the
OpenAI-compatible server of the `vllm/vllm-openai` image, with a Service, a weights PVC and a
PodDisruptionBudget (see `serving_common` and `serving_workload` for what every model server
pod gets: placement, GPUs, restricted security, drain, verified weights).

The server container runs `vllm serve <weights folder>` (the command is set explicitly; it is
also the image's entrypoint since the `vllm serve` CLI replaced the `api_server` module), with

- `--served-model-name` (clients' model name), `--port 8000`;
- `--tensor-parallel-size` = `gpus`, `--max-model-len`, `--gpu-memory-utilization`, `--dtype`,
  `--quantization` and `--kv-cache-dtype` when set;
- with LoRA adapters: `--enable-lora --max-loras --max-lora-rank --lora-modules name=path...`
  (adapters are verified into the weights volume like the model);
- `extraArgs` last.

`HF_HUB_OFFLINE=1`: the server never downloads; only the weights Job (`weights_job`), or for
per-replica volumes the init container, talks to the Hub and gets the Hugging Face token.
`VLLM_NO_USAGE_STATS=1` keeps usage reporting off. Health (`startupProbe` while the model
loads, then readiness and liveness) is `GET /health` on port 8000; Prometheus metrics
(`vllm:num_requests_waiting`, ...) are served at `/metrics` on the same port, named `http`.
The default image is `vllm/vllm-openai:v0.11.0`.
"""

from __future__ import annotations

from typing import Any

from aiplat_gen.platform.engines.vllm import VLLM
from aiplat_gen.platform.memory import total_weights_gib
from aiplat_gen.platform.workload_resources import fetches_weights
from aiplat_gen.profile.schema.serving import Model
from aiplat_gen.render.components.base import RenderContext, Rendered
from aiplat_gen.render.components.observability import tracing_args, tracing_env
from aiplat_gen.render.components.serving_common import (
    DEFAULT_VLLM_IMAGE,
    WEIGHTS_MOUNT,
    ModelContext,
    container_ports,
    container_security_context,
    home_env,
    http_probes,
    lora_dir,
    models_of,
    pod_spec,
    prefetch_items,
    prestop,
    profile_env,
    scratch_mounts,
    scratch_volumes,
    server_resources,
    service_ports,
    startup_seconds,
    weights_dir,
    weights_init_container,
    weights_volume,
)
from aiplat_gen.render.components.serving_workload import workload_objects
from aiplat_gen.render.components.weights_job import job_objects

(HTTP,) = VLLM.api_ports


def render(ctx: RenderContext) -> Rendered:
    """Objects of every vLLM model of the profile."""
    objects: list[dict[str, Any]] = []
    for mc in models_of(ctx, VLLM.name):
        image = mc.model.image or DEFAULT_VLLM_IMAGE
        spec = pod_spec(mc, [server_container(mc, image)], init_containers(mc, image),
                        [weights_volume(mc), *scratch_volumes(mc)])
        objects += workload_objects(ctx, mc, image, spec, service_ports(VLLM))
        if fetches_weights(mc.model):
            objects += job_objects(ctx, mc, mc.model.source.prefetch_image or image,
                                   prefetch_items(mc))
    return Rendered(objects=objects)


def engine_args(model: Model, max_model_len_flag: str = "--max-model-len") -> list[str]:
    """Engine flags shared by vLLM and the KServe Hugging Face runtime (which names the
    max-model-len flag `--max_model_len`)."""
    args = ["--tensor-parallel-size", str(model.gpus)]
    if model.max_model_len:
        args += [max_model_len_flag, str(model.max_model_len)]
    args += ["--gpu-memory-utilization", f"{model.gpu_memory_utilization:g}",
             "--dtype", model.dtype]
    if model.quantization:
        args += ["--quantization", model.quantization]
    if model.kv_cache_dtype != "auto":
        args += ["--kv-cache-dtype", model.kv_cache_dtype]
    if model.lora_adapters:
        args += ["--enable-lora", "--max-loras", str(model.max_loras or len(model.lora_adapters)),
                 "--max-lora-rank", str(model.max_lora_rank), "--lora-modules",
                 *(f"{a.name}={lora_dir(a.name, a.revision)}" for a in model.lora_adapters)]
    return args


def server_args(mc: ModelContext) -> list[str]:
    """Arguments of `vllm serve`: the weights folder first, then the flags."""
    model = mc.model
    revision = model.source.revision or ""
    return [weights_dir(revision), "--served-model-name", mc.served_name,
            "--port", str(HTTP.number),
            *engine_args(model), *tracing_args(mc.profile), *model.extra_args]


def server_container(mc: ModelContext, image: str) -> dict[str, Any]:
    """The `vllm serve` container."""
    env = [*home_env(), {"name": "HF_HUB_OFFLINE", "value": "1"},
           {"name": "VLLM_NO_USAGE_STATS", "value": "1"}, *tracing_env(mc),
           *profile_env(mc.model)]
    mounts = [{"name": "weights", "mountPath": WEIGHTS_MOUNT, "readOnly": True},
              *scratch_mounts()]
    name, resources = server_resources(mc)
    container: dict[str, Any] = {
        "name": name,
        "image": image,
        "command": ["vllm", "serve"],
        "args": server_args(mc),
        "env": env,
        "ports": container_ports(VLLM),
        **http_probes(VLLM, startup_seconds(_weights_gib(mc))),
        "lifecycle": prestop(),
        "resources": resources,
        "securityContext": container_security_context(),
        "volumeMounts": mounts,
        "workingDir": env[0]["value"],
    }
    return container


def init_containers(mc: ModelContext, image: str) -> list[dict[str, Any]]:
    """The weights init container (vLLM models always come from the Hub): it waits for the
    weights Job, or downloads itself for per-replica volumes."""
    if not fetches_weights(mc.model):
        return []
    return [weights_init_container(mc, mc.model.source.prefetch_image or image,
                                   prefetch_items(mc))]


def _weights_gib(mc: ModelContext) -> float:
    params = mc.parameters or 0
    return total_weights_gib(params, mc.model.dtype, mc.model.quantization)
