"""NVIDIA Triton Inference Server (`engine: triton`): one Deployment (or StatefulSet) per model
repository, serving the repository's models listed in `triton.models`, with a Service, a
PodDisruptionBudget and, for a repository kept on the Hub, a weights PVC.

- The repository comes from `source.uri`: `hf://<org>/<repo>` is downloaded at its pinned
  revision and verified (sha256 of the weights manifest) into the weights volume by the weights
  Job (`weights_job`), like vLLM weights; `s3://` and `gs://` repositories are read by Triton
  itself with the credentials `source.credentials` names (`platform.cloud_credentials`: the
  ServiceAccount's role annotation, `AWS_REGION`/`AWS_DEFAULT_REGION`, keys by reference, and
  the egress they need), without a volume.
- `tritonserver --model-repository=<repo> --model-control-mode=explicit --load-model=<m>...`:
  only the listed models are loaded at start, and the server is ready when all of them are.
- Ports: 8000 HTTP (`http`), 8001 gRPC (`grpc`), 8002 Prometheus metrics (`metrics`, path
  `/metrics`). `startupProbe` and readiness on `/v2/health/ready`, liveness on
  `/v2/health/live`.
- The default image is `nvcr.io/nvidia/tritonserver:25.12-py3`; the pod runs as UID 1000, the
  image's own `triton-server` user.
"""

from __future__ import annotations

from typing import Any

from aiplat_gen.platform import cloud_credentials
from aiplat_gen.platform.engines.triton import TRITON
from aiplat_gen.platform.memory import total_weights_gib
from aiplat_gen.platform.workload_resources import fetches_weights
from aiplat_gen.render.components.base import RenderContext, Rendered
from aiplat_gen.render.components.serving_common import (
    DEFAULT_TRITON_IMAGE,
    DEFAULT_VLLM_IMAGE,
    WEIGHTS_MOUNT,
    ModelContext,
    container_ports,
    container_security_context,
    home_env,
    http_probes,
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

HTTP, GRPC = TRITON.api_ports
METRICS = TRITON.metrics_port


def render(ctx: RenderContext) -> Rendered:
    """Objects of every Triton model repository of the profile."""
    objects: list[dict[str, Any]] = []
    for mc in models_of(ctx, TRITON.name):
        image = mc.model.image or DEFAULT_TRITON_IMAGE
        init = []
        volumes = scratch_volumes(mc)
        prefetch_image = mc.model.source.prefetch_image or DEFAULT_VLLM_IMAGE
        if fetches_weights(mc.model):
            init = [weights_init_container(mc, prefetch_image, prefetch_items(mc))]
        if mc.model.storage is not None:
            volumes = [weights_volume(mc), *volumes]
        spec = pod_spec(mc, [server_container(mc, image)], init, volumes)
        objects += workload_objects(ctx, mc, image, spec, service_ports(TRITON))
        if fetches_weights(mc.model):
            objects += job_objects(ctx, mc, prefetch_image, prefetch_items(mc))
    return Rendered(objects=objects)


def repository(mc: ModelContext) -> str:
    """Where Triton finds the model repository."""
    source = mc.model.source
    if source.uri.startswith("hf://"):
        return weights_dir(source.revision or "")
    return source.uri


def server_args(mc: ModelContext) -> list[str]:
    """Arguments of `tritonserver`."""
    assert mc.model.triton is not None
    args = [f"--model-repository={repository(mc)}", "--model-control-mode=explicit"]
    args += [f"--load-model={name}" for name in mc.model.triton.models]
    args += [f"--http-port={HTTP.number}", f"--grpc-port={GRPC.number}",
             f"--metrics-port={METRICS.number}"]
    return [*args, *mc.model.extra_args]


def server_container(mc: ModelContext, image: str) -> dict[str, Any]:
    """The `tritonserver` container."""
    mounts = scratch_mounts()
    if mc.model.storage is not None:
        mounts = [{"name": "weights", "mountPath": WEIGHTS_MOUNT, "readOnly": True}, *mounts]
    params = mc.parameters or 0
    weights_gib = total_weights_gib(params, mc.model.dtype, mc.model.quantization)
    env = [*home_env(), *cloud_credentials.server_env(mc.model), *profile_env(mc.model)]
    name, resources = server_resources(mc)
    return {
        "name": name,
        "image": image,
        "command": ["tritonserver"],
        "args": server_args(mc),
        "env": env,
        "ports": container_ports(TRITON),
        **http_probes(TRITON, startup_seconds(weights_gib)),
        "lifecycle": prestop(),
        "resources": resources,
        "securityContext": container_security_context(),
        "volumeMounts": mounts,
        "workingDir": env[0]["value"],
    }
