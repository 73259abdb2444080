"""Weights Jobs: the download moves out of the model server's network identity.

A model whose pods mount a shared weights volume (every model with Hub weights or LoRA adapters
and no `storage.perReplica`; every KServe predictor) gets one `batch/v1` Job per set of pinned
revisions, named `<model>-weights-<hash>`. It runs the `fetch` mode of the weights script
(`serving_prefetch`) with the Hugging Face token, writes the volume and its
`.aiplat-verified` markers, and is the only pod of the model that may reach the weight hosts:
its pods are labelled `ai.platform/weights-for: <model>` (and not `ai.platform/model`), so the
network policy `workload-<model>-weights` gives them HTTPS egress, while the server pods, whose
init container only waits for the markers (`wait` mode, read-only volume, no token), get none.

- **Name.** A Job's pod template cannot change after creation (the API server refuses the
  update: Kubernetes `batch/v1` Job, `spec.template` is immutable). The name ends in the first
  10 hex digits of the sha256 of the rendered Job spec, so any change (a new revision, sha256,
  image, token, pool) is a new Job, and ArgoCD prunes the old one with the rest of the
  removed objects. The model part is cut to keep the name at most 63 characters (the Job
  controller copies it into the `batch.kubernetes.io/job-name` pod label).
- **No `ttlSecondsAfterFinished`.** ArgoCD compares the tree with the cluster: a finished Job
  deleted by the TTL controller would be missing, and ArgoCD would create it again. A finished
  Job stays; re-running it costs nothing because the markers make the script skip verified
  revisions. It is a plain resource, not a sync hook: ArgoCD assesses a Job's health as
  Progressing while it runs, Healthy when `Complete` and Degraded when `Failed`
  (argoproj/gitops-engine `pkg/health/health_job.go`), so `argocd app sync` shows the download
  and a failed one, and no `Replace=true` is needed since a changed Job has a new name.
- **Retries.** `restartPolicy: OnFailure` keeps the pod (and its attached volume) and restarts
  the container, which resumes the download (`snapshot_download` skips finished files);
  `backoffLimit` is the default of 6, written out.
- **Placement.** The model's pool (nodeSelector, tolerations) and priority class: a
  ReadWriteOnce volume with `WaitForFirstConsumer` binding is provisioned in the zone of the
  first pod that mounts it, which must be a zone the model's pool has nodes in. Until the Job's
  pod finishes, a server pod on another node cannot attach a ReadWriteOnce volume; it starts
  when the Job's pod has released it.
- **Resources.** `workload_resources.job_fetch` (1 CPU, 2Gi memory), counted by the LimitRange
  and quota checks (`workload_resources.workloads`).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from aiplat_gen.platform.pods import WEIGHTS_FOR_LABEL
from aiplat_gen.platform.scheduling import placement
from aiplat_gen.platform.workload_resources import job_fetch, weights_job
from aiplat_gen.render.components.base import RenderContext, labels
from aiplat_gen.render.components.serving_common import (
    ModelContext,
    image_tag,
    model_annotations,
    pod_security_context,
    prefetch_container,
    scratch_volumes,
    weights_volume,
)
from aiplat_gen.render.components.serving_prefetch import PrefetchItem

COMPONENT = "weights-fetch"
BACKOFF_LIMIT = 6
"""The Job API's default, written out (Kubernetes `batch/v1` JobSpec `backoffLimit`)."""
HASH_DIGITS = 10
MAX_NAME = 63


def job_name(model: str, job_spec: dict[str, Any]) -> str:
    """`<model>-weights-<hash of the spec>`, at most 63 characters."""
    digest = hashlib.sha256(json.dumps(job_spec, sort_keys=True).encode()).hexdigest()
    suffix = f"-weights-{digest[:HASH_DIGITS]}"
    return f"{model[:MAX_NAME - len(suffix)].rstrip('-')}{suffix}"


def job_objects(ctx: RenderContext, mc: ModelContext, image: str, items: list[PrefetchItem],
                revision: str | None = None, sha256: str | None = None
                ) -> list[dict[str, Any]]:
    """The model's weights Job (none for per-replica volumes, which download in the pod)."""
    if not weights_job(mc.model):
        return []
    place = placement(mc.pool)
    job_labels = labels(mc.profile, f"{mc.name}-weights", COMPONENT, image_tag(image),
                        **{WEIGHTS_FOR_LABEL: mc.name})
    pod: dict[str, Any] = {
        # The model's ServiceAccount, without a token: the script calls no Kubernetes API.
        "serviceAccountName": mc.name,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "restartPolicy": "OnFailure",
    }
    if mc.priority_class:
        pod["priorityClassName"] = mc.priority_class
    pod["nodeSelector"] = place.node_selector
    if place.tolerations:
        pod["tolerations"] = place.tolerations
    pod["securityContext"] = pod_security_context()
    pod["containers"] = [prefetch_container(mc, image, items, job_fetch(mc.model))]
    pod["volumes"] = [weights_volume(mc),
                      *(v for v in scratch_volumes(mc) if v["name"] != "shm")]
    spec = {"backoffLimit": BACKOFF_LIMIT,
            "template": {"metadata": {"labels": job_labels}, "spec": pod}}
    return ctx.render("serving/job.yaml.j2", name=job_name(mc.name, spec),
                      namespace=mc.model.namespace, labels=job_labels,
                      annotations=model_annotations(mc, revision, sha256), job_spec=spec)
