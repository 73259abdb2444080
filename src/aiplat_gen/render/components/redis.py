"""Redis caches (`spec.caches`, `engine: redis`): the semantic cache next to the models.

- One Redis primary: a Deployment without volumes for `persistence: none` (a cache that may
  start empty), or a StatefulSet with one volume from the profile's storage class for `rdb`
  (snapshots) and `aof` (append-only file).
- `maxmemory` (in bytes) and `maxmemory-policy` come from the profile.
- The password never reaches a ConfigMap or the rendered tree: the container reads it from the
  Secret (`auth.secret`) into `REDIS_PASSWORD`, and Kubernetes expands `$(REDIS_PASSWORD)` in
  `--requirepass`; the probes' `redis-cli` reads it from `REDISCLI_AUTH`.
- Probes: readiness wants `PONG` from `redis-cli ping`; liveness and startup check the TCP
  port (a Redis that is still loading its data answers PING with an error but is alive).
- `restricted`: UID/GID 999 (the `redis` user of the official image), read-only root file
  system, data in `/data`.
- With `exporter`, the redis_exporter sidecar (pinned image) serves metrics on port 9121,
  reading the same password Secret.
"""

from __future__ import annotations

from typing import Any

from aiplat_gen.platform.facts.images import exporter_image, store_image
from aiplat_gen.platform.pods import REDIS_EXPORTER_PORT, REDIS_PORT
from aiplat_gen.platform.workload_resources import (
    data_container,
    redis_exporter,
    redis_scratch,
)
from aiplat_gen.profile.schema.data import Cache
from aiplat_gen.profile.schema.types import parse_quantity
from aiplat_gen.render.components import datastore
from aiplat_gen.render.components.base import RenderContext, Rendered

COMPONENT = "cache"
RUN_AS = 999
DATA_DIR = "/data"


def render(ctx: RenderContext) -> Rendered:
    """Every Redis cache: its workload, Services and (with persistence) its headless Service."""
    objects: list[dict[str, Any]] = []
    for cache in ctx.profile.spec.caches:
        if cache.engine == "redis":
            objects += _redis(ctx, cache)
    return Rendered(objects=objects)


def max_memory_bytes(cache: Cache) -> int:
    """`maxmemory` in bytes (Redis reads a plain number as bytes)."""
    return int(parse_quantity(cache.redis.max_memory))


def server_args(cache: Cache) -> list[str]:
    """`redis-server` arguments: port, password from the env, memory limit, persistence."""
    args = ["--port", str(REDIS_PORT), "--requirepass", "$(REDIS_PASSWORD)",
            "--maxmemory", str(max_memory_bytes(cache)),
            "--maxmemory-policy", cache.redis.max_memory_policy, "--dir", DATA_DIR]
    persistence = cache.redis.persistence
    if persistence == "none":
        args += ["--save", "", "--appendonly", "no"]
    elif persistence == "rdb":
        args += ["--appendonly", "no"]
    else:
        args += ["--appendonly", "yes"]
    return args


def _containers(cache: Cache) -> list[dict[str, Any]]:
    assert cache.resources is not None
    secret = cache.auth.secret
    # redis-cli exits 0 on error replies (NOAUTH, LOADING): compare the reply instead.
    ping = {"exec": {"command": ["sh", "-c", f"redis-cli -p {REDIS_PORT} ping | grep -qx PONG"]}}
    tcp = {"tcpSocket": {"port": "redis"}}
    server = data_container("redis", cache.resources, scratch=redis_scratch(cache))
    redis = {
        "name": server.name,
        "image": store_image(cache),
        "command": ["redis-server"],
        "args": server_args(cache),
        "ports": [{"name": "redis", "containerPort": REDIS_PORT, "protocol": "TCP"}],
        "env": [datastore.secret_env("REDIS_PASSWORD", secret),
                datastore.secret_env("REDISCLI_AUTH", secret)],
        "resources": server.resources(),
        "startupProbe": {**tcp, "periodSeconds": 5, "failureThreshold": 60},
        "livenessProbe": {**tcp, "periodSeconds": 10, "failureThreshold": 6},
        "readinessProbe": {**ping, "periodSeconds": 10, "timeoutSeconds": 3,
                           "failureThreshold": 3},
        "securityContext": datastore.container_security_context(),
        "volumeMounts": [{"name": "data", "mountPath": DATA_DIR}],
    }
    containers = [redis]
    if cache.redis.exporter:
        exporter = redis_exporter()
        containers.append({
            "name": exporter.name,
            "image": exporter_image(cache),
            "ports": [{"name": "metrics", "containerPort": REDIS_EXPORTER_PORT, "protocol": "TCP"}],
            "env": [{"name": "REDIS_ADDR", "value": f"redis://localhost:{REDIS_PORT}"},
                    datastore.secret_env("REDIS_PASSWORD", secret)],
            "resources": exporter.resources(),
            "livenessProbe": {"tcpSocket": {"port": "metrics"}, "periodSeconds": 20},
            "securityContext": datastore.container_security_context(),
        })
    return containers


def _redis(ctx: RenderContext, cache: Cache) -> list[dict[str, Any]]:
    image = store_image(cache)
    obj_labels = datastore.store_labels(ctx, cache.name, COMPONENT, image)
    sel = datastore.selector(cache.name)
    headless = f"{cache.name}-headless"
    common = {"name": cache.name, "namespace": cache.namespace, "labels": obj_labels,
              "replicas": 1, "selector": sel, "pod_labels": obj_labels}
    if cache.persistent:
        assert cache.storage is not None
        pod = datastore.pod_view(ctx, cache, 1, RUN_AS, _containers(cache), [])
        objects = ctx.render("datastore/statefulset.yaml.j2", **common, **pod,
                             service_name=headless, pod_management_policy="OrderedReady",
                             volume_claims=[datastore.volume_claim("data", cache.storage)])
        objects += datastore.service(ctx, headless, cache.namespace, obj_labels, sel, [
            {"name": "redis", "port": REDIS_PORT, "targetPort": "redis", "protocol": "TCP"}],
            headless=True)
    else:
        pod = datastore.pod_view(ctx, cache, 1, RUN_AS, _containers(cache),
                                 [{"name": "data",
                                   "emptyDir": {"sizeLimit": redis_scratch(cache)[0]}}])
        # Recreate: two caches side by side during a rollout would split the clients.
        objects = ctx.render("datastore/deployment.yaml.j2", **common, **pod,
                             strategy="Recreate")
    ports = [{"name": "redis", "port": REDIS_PORT, "targetPort": "redis", "protocol": "TCP"}]
    if cache.redis.exporter:
        ports.append({"name": "metrics", "port": REDIS_EXPORTER_PORT, "targetPort": "metrics",
                      "protocol": "TCP"})
    objects += datastore.service(ctx, cache.name, cache.namespace, obj_labels, sel, ports)
    return objects
