"""KServe (`engine: kserve`): one `InferenceService` (serving.kserve.io/v1beta1) per model, with
the Hugging Face runtime (`modelFormat: huggingface`, vLLM backend) or Triton (`triton`), plus
the weights PVC and a PodDisruptionBudget. KServe itself must be installed (its CRDs and the
`huggingface`/`triton` ClusterServingRuntimes).

- Same pod as the other engines: pool placement, priority class, topology spread, GPUs in
  requests and limits, `restricted` security contexts, drain, and the verified-weights init
  container. The weights are *not* fetched through `storageUri`: KServe's injected
  `storage-initializer` has no `restricted` security context (kserve/kserve#5373) and cannot
  check a weights manifest. The weights Job (`weights_job`) verifies the pinned revision into
  the PVC, the predictor's init container waits for it, and the server mounts the PVC
  read-only at `/mnt/models` (the runtime's `--model_dir`).
- Hugging Face runtime arguments: `--model_name` (the served name), `--model_dir=/mnt/models`,
  then the vLLM engine flags (`--tensor-parallel-size`, `--max_model_len`,
  `--gpu-memory-utilization`, `--dtype`, ...), then `extraArgs`. Triton runtime: the listed
  models are loaded with `--model-control-mode=explicit --load-model=...`.
- `serving.kserve.io/deploymentMode` is `Standard` (plain Deployments; KServe's recommendation
  for LLMs) or `Knative`; KServe rejects a change of mode on an existing InferenceService, so
  choose Knative from the start for a model you will roll out by canary. `minReplicas` =
  `maxReplicas` = `replicas`. KServe appends the predictor's `args` to the runtime's.
- Canary: with `kserve.canary`, the predictor runs the canary revision with
  `canaryTrafficPercent`; KServe keeps the rest of the traffic on the last revision rolled out
  at 100%. KServe supports canaries only in Knative mode, where Knative must allow init
  containers, PVCs, node selectors, tolerations, topology spread, priority classes and pod
  security contexts (`config-features` flags `kubernetes.podspec-*`). Promote by moving the
  canary revision into `source` and removing `canary`.
"""

from __future__ import annotations

from typing import Any

from aiplat_gen.platform.engines import runtime_of
from aiplat_gen.platform.engines.kserve import KSERVE, declared_ports
from aiplat_gen.platform.workload_resources import fetches_weights
from aiplat_gen.render.components.base import RenderContext, Rendered
from aiplat_gen.render.components.serving_common import (
    DEFAULT_VLLM_IMAGE,
    ModelContext,
    container_security_context,
    home_env,
    model_annotations,
    model_labels,
    models_of,
    pod_annotations,
    pod_spec,
    prefetch_items,
    prestop,
    profile_env,
    pvc_name,
    scratch_mounts,
    scratch_volumes,
    selector,
    server_resources,
    weights_init_container,
    weights_volume,
)
from aiplat_gen.render.components.serving_workload import claim_spec
from aiplat_gen.render.components.vllm import engine_args
from aiplat_gen.render.components.weights_job import job_objects

MODEL_DIR = "/mnt/models"
DEPLOYMENT_MODE_ANNOTATION = "serving.kserve.io/deploymentMode"
STABLE_REVISION_ANNOTATION = "ai.platform/stable-revision"


def render(ctx: RenderContext) -> Rendered:
    """Objects of every KServe model of the profile."""
    objects: list[dict[str, Any]] = []
    for mc in models_of(ctx, KSERVE.name):
        labels = model_labels(mc, mc.model.image)
        common = {"name": mc.name, "namespace": mc.model.namespace, "labels": labels}
        objects += ctx.render("serving/inferenceservice.yaml.j2", **common,
                              annotations=isvc_annotations(mc), predictor=predictor(mc))
        objects += ctx.render("serving/pvc.yaml.j2", **{**common, "name": pvc_name(mc)},
                              claim_spec=claim_spec(mc))
        objects += ctx.render("serving/pdb.yaml.j2", **common, selector=selector(mc))
        if fetches_weights(mc.model):
            revision, sha256 = serving_revision(mc)
            objects += job_objects(ctx, mc, mc.model.source.prefetch_image or DEFAULT_VLLM_IMAGE,
                                   prefetch_items(mc, revision, sha256), revision, sha256)
    return Rendered(objects=objects)


def serving_revision(mc: ModelContext) -> tuple[str, str]:
    """(revision, sha256) the predictor runs: the canary's while a canary is named."""
    settings = mc.model.kserve
    if settings is not None and settings.canary is not None:
        return settings.canary.revision, settings.canary.sha256
    return mc.model.source.revision or "", mc.model.source.sha256 or ""


def isvc_annotations(mc: ModelContext) -> dict[str, str]:
    """Deployment mode, weights source and the revisions in play."""
    settings = mc.model.kserve
    mode = settings.deployment_mode if settings else "Standard"
    revision, sha256 = serving_revision(mc)
    result = {DEPLOYMENT_MODE_ANNOTATION: mode, **model_annotations(mc, revision, sha256)}
    if settings is not None and settings.canary is not None and mc.model.source.revision:
        result[STABLE_REVISION_ANNOTATION] = mc.model.source.revision
    return result


def predictor(mc: ModelContext) -> dict[str, Any]:
    """The predictor: replicas, canary, the shared pod settings and the model container."""
    model = mc.model
    revision, sha256 = serving_revision(mc)
    init = [weights_init_container(mc, model.source.prefetch_image or DEFAULT_VLLM_IMAGE,
                                   prefetch_items(mc, revision, sha256))
            ] if fetches_weights(model) else []
    pod = pod_spec(mc, [], init, [weights_volume(mc), *scratch_volumes(mc)])
    pod.pop("containers")
    result: dict[str, Any] = {"minReplicas": model.replicas, "maxReplicas": model.replicas}
    if model.kserve is not None and model.kserve.canary is not None:
        result["canaryTrafficPercent"] = model.kserve.canary.traffic_percent
    result["labels"] = model_labels(mc, model.image)
    if annotations := pod_annotations(mc):
        result["annotations"] = annotations
    result.update(pod)
    result["model"] = model_container(mc, revision)
    return result


def model_container(mc: ModelContext, revision: str) -> dict[str, Any]:
    """`predictor.model`: runtime format, arguments, resources and mounts."""
    model = mc.model
    runtime = model.kserve.runtime if model.kserve else "huggingface"
    env = [*home_env(), {"name": "HF_HUB_OFFLINE", "value": "1"},
           {"name": "VLLM_NO_USAGE_STATS", "value": "1"}, *profile_env(model)]
    if runtime == "huggingface":
        args = [f"--model_name={mc.served_name}", f"--model_dir={MODEL_DIR}",
                *engine_args(model, max_model_len_flag="--max_model_len")]
    else:
        names = model.triton.models if model.triton else []
        args = ["--model-control-mode=explicit", *(f"--load-model={n}" for n in names)]
    container: dict[str, Any] = {"modelFormat": {"name": runtime}}
    # Declared so the PodMonitor can select the metrics port (`engines.kserve`).
    ports = [{"name": p.name, "containerPort": p.number, "protocol": "TCP"}
             for p in declared_ports(model, runtime_of(model))]
    if model.image:
        container["image"] = model.image
    container.update({
        "args": [*args, *model.extra_args],
        "env": env,
        **({"ports": ports} if ports else {}),
        "lifecycle": prestop(),
        # KServe names the container (its descriptor's `server_container`).
        "resources": server_resources(mc)[1],
        "securityContext": container_security_context(),
        "volumeMounts": [{"name": "weights", "mountPath": MODEL_DIR, "readOnly": True,
                          "subPath": f"model/{revision}"}, *scratch_mounts()],
    })
    return container
