"""The Kubernetes objects around a model server pod: Deployment or StatefulSet, Service,
weights PVC and PodDisruptionBudget (vLLM and Triton; KServe builds its own InferenceService).

- A Deployment rolls out with `maxSurge: 0, maxUnavailable: 1`: a surge pod would need GPUs
  beyond the model's `replicas x gpus`, which the namespace quota and the pools are sized to,
  and would wait for them; the rollout replaces one replica at a time instead.
- With `storage.perReplica` the workload is a StatefulSet (`podManagementPolicy: Parallel`)
  whose claim template gives every replica its own weights volume, retained on scale-down.
  Kubernetes never updates claim templates: changing `storage` of such a model means deleting
  the StatefulSet (`--cascade=orphan`) and resizing the existing PVCs by hand. Its
  `serviceName` is the headless Service `<name>-headless` (`clusterIP: None`): the governing
  Service gives each pod its DNS name and must be headless (Kubernetes docs, StatefulSets,
  "Limitations": "StatefulSets currently require a Headless Service to be responsible for the
  network identity of the Pods"); clients keep using the ClusterIP Service `<name>`.
  `serviceName` cannot change on an existing StatefulSet: one rendered before this Service
  existed is replaced with `kubectl delete statefulset <name> --cascade=orphan` and a sync
  (its pods and claims are adopted again).
- The PodDisruptionBudget allows one replica down at a time, so a node drain is never blocked,
  even for a single-replica model.
"""

from __future__ import annotations

from typing import Any

from aiplat_gen.render.components.base import RenderContext
from aiplat_gen.render.components.serving_common import (
    ModelContext,
    model_annotations,
    model_labels,
    pod_annotations,
    pvc_name,
    selector,
)

VERSION_LABEL = "app.kubernetes.io/version"


def headless_name(mc: ModelContext) -> str:
    """The headless Service governing a per-replica model's StatefulSet."""
    return f"{mc.name}-headless"


def claim_spec(mc: ModelContext) -> dict[str, Any]:
    """Spec of the weights PVC (or of the StatefulSet's claim template)."""
    storage = mc.model.storage
    assert storage is not None
    spec: dict[str, Any] = {"accessModes": [storage.access_mode]}
    if storage.storage_class:
        spec["storageClassName"] = storage.storage_class
    spec["volumeMode"] = "Filesystem"
    spec["resources"] = {"requests": {"storage": storage.size}}
    return spec


def workload_objects(ctx: RenderContext, mc: ModelContext, image: str,
                     pod_spec: dict[str, Any], ports: list[dict[str, Any]]
                     ) -> list[dict[str, Any]]:
    """Workload, Service, weights PVC (shared storage) and PodDisruptionBudget of a model."""
    model = mc.model
    labels = model_labels(mc, image)
    common = {"name": mc.name, "namespace": model.namespace, "labels": labels,
              "selector": selector(mc)}
    objects: list[dict[str, Any]] = []
    # An autoscaled workload carries no replicas: the autoscaler owns them (see `autoscaling`).
    replicas = None if model.autoscaling is not None else model.replicas
    per_replica = model.storage is not None and model.storage.per_replica
    if per_replica:
        spec = dict(pod_spec)
        spec["volumes"] = [v for v in pod_spec["volumes"] if v["name"] != "weights"]
        # volumeClaimTemplates cannot change after creation: no version label on them.
        claim_labels = {k: v for k, v in labels.items() if k != VERSION_LABEL}
        objects += ctx.render("serving/statefulset.yaml.j2", **common, replicas=replicas,
                              service_name=headless_name(mc),
                              annotations=model_annotations(mc),
                              pod_annotations={**model_annotations(mc), **pod_annotations(mc)},
                              pod_spec=spec,
                              claim_labels=claim_labels, claim_spec=claim_spec(mc))
    else:
        objects += ctx.render("serving/deployment.yaml.j2", **common, replicas=replicas,
                              annotations=model_annotations(mc),
                              pod_annotations={**model_annotations(mc), **pod_annotations(mc)},
                              pod_spec=pod_spec)
    if model.storage is not None and not model.storage.per_replica:
        objects += ctx.render("serving/pvc.yaml.j2", name=pvc_name(mc),
                              namespace=model.namespace, labels=labels,
                              claim_spec=claim_spec(mc))
    objects += ctx.render("serving/service.yaml.j2", **common, ports=ports, headless=False)
    if per_replica:
        objects += ctx.render("serving/service.yaml.j2", **{**common, "name": headless_name(mc)},
                              ports=ports, headless=True)
    objects += ctx.render("serving/pdb.yaml.j2", **common)
    return objects
