"""PostgreSQL with pgvector (`spec.vectorDatabases`, `engine: pgvector`).

`pgvector.operator: cloudnative-pg` (default) renders a CloudNativePG `Cluster`
(postgresql.cnpg.io/v1; the operator must be installed):

- `instances` = `replicas` (one primary, the rest streaming replicas with automatic failover),
  the storage size and class of the profile, requests and limits;
- `imageName`: the CloudNativePG PostgreSQL image, which ships the pgvector extension;
- `bootstrap.initdb`: the application database and its owner, the owner's credentials from the
  `kubernetes.io/basic-auth` Secret of `auth.secret`, and
  `CREATE EXTENSION IF NOT EXISTS vector` in `postInitApplicationSQL`;
- instances on different nodes (required anti-affinity), on the store's node pool; the
  operator's PodDisruptionBudgets only with more than one instance.

`pgvector.operator: none` renders a plain StatefulSet for clusters without the operator: one
instance of the `pgvector/pgvector` image (pinned), `POSTGRES_USER`/`POSTGRES_DB` from the
profile, `POSTGRES_PASSWORD` from the Secret, and an init script (a ConfigMap mounted in
`/docker-entrypoint-initdb.d`) that creates the extension. It runs `restricted` as UID 999 (the
image's `postgres` user) with a read-only root file system (`/var/run/postgresql` and `/tmp` are
emptyDirs, `/dev/shm` a memory emptyDir) and `pg_isready` probes. A plain StatefulSet cannot
replicate: more instances need the operator.
"""

from __future__ import annotations

from typing import Any

from aiplat_gen.platform.facts.images import store_image
from aiplat_gen.platform.pods import POSTGRES_PORT
from aiplat_gen.platform.workload_resources import data_container, postgres_scratch
from aiplat_gen.profile.schema.data import VectorDatabase
from aiplat_gen.render.components import datastore
from aiplat_gen.render.components.base import RenderContext, Rendered

COMPONENT = "vector-database"
CREATE_EXTENSION = "CREATE EXTENSION IF NOT EXISTS vector"
RUN_AS = 999
DATA_MOUNT = "/var/lib/postgresql/data"
# A subfolder, so initdb never meets the volume's own files (e.g. lost+found).
PGDATA = f"{DATA_MOUNT}/pgdata"
SHM_SIZE = "256Mi"


def render(ctx: RenderContext) -> Rendered:
    """Every pgvector database: a CloudNativePG Cluster or a plain StatefulSet."""
    objects: list[dict[str, Any]] = []
    for db in ctx.profile.spec.vector_databases:
        if db.engine != "pgvector":
            continue
        if db.pgvector_settings.operator == "cloudnative-pg":
            objects += _cnpg_cluster(ctx, db)
        else:
            objects += _statefulset(ctx, db)
    return Rendered(objects=objects)


def owner(db: VectorDatabase) -> str:
    """The database owner: the user name of the credentials Secret."""
    assert db.auth.secret.username is not None
    return db.auth.secret.username


def _cnpg_cluster(ctx: RenderContext, db: VectorDatabase) -> list[dict[str, Any]]:
    assert db.storage is not None and db.resources is not None
    image = store_image(db)
    sched = datastore.scheduling(ctx, db, db.replicas)
    affinity: dict[str, Any] = {"enablePodAntiAffinity": True,
                                "podAntiAffinityType": "required",
                                "topologyKey": datastore.HOSTNAME_TOPOLOGY,
                                "nodeSelector": sched["node_selector"]}
    if sched["tolerations"]:
        affinity["tolerations"] = sched["tolerations"]
    storage: dict[str, Any] = {"size": db.storage.size}
    if db.storage.storage_class is not None:
        storage["storageClass"] = db.storage.storage_class
    initdb = {"database": db.pgvector_settings.database, "owner": owner(db),
              "secret": {"name": db.auth.secret.name},
              "postInitApplicationSQL": [CREATE_EXTENSION]}
    return ctx.render(
        "postgres/cluster.yaml.j2", name=db.name, namespace=db.namespace,
        labels=datastore.store_labels(ctx, db.name, COMPONENT, image), instances=db.replicas,
        image=image, storage=storage,
        # The operator gives these to the `postgres` container and its init container.
        resources=data_container("postgres", db.resources, scratch=None).resources(),
        affinity=affinity, initdb=initdb, enable_pdb=db.replicas > 1,
    )


def _container(db: VectorDatabase) -> dict[str, Any]:
    assert db.resources is not None
    database = db.pgvector_settings.database
    ready = {"exec": {"command": ["pg_isready", "-U", owner(db), "-d", database,
                                  "-h", "127.0.0.1", "-p", str(POSTGRES_PORT)]}}
    spec = data_container("postgres", db.resources, scratch=postgres_scratch())
    return {
        "name": spec.name,
        "image": store_image(db),
        "ports": [{"name": "postgres", "containerPort": POSTGRES_PORT, "protocol": "TCP"}],
        "env": [
            *datastore.plain_env([("POSTGRES_USER", owner(db)), ("POSTGRES_DB", database),
                                  ("PGDATA", PGDATA)]),
            datastore.secret_env("POSTGRES_PASSWORD", db.auth.secret),
        ],
        "resources": spec.resources(),
        "startupProbe": {**ready, "periodSeconds": 5, "failureThreshold": 120},
        "livenessProbe": {**ready, "periodSeconds": 10, "timeoutSeconds": 5,
                          "failureThreshold": 6},
        "readinessProbe": {**ready, "periodSeconds": 10, "timeoutSeconds": 5,
                           "failureThreshold": 3},
        "securityContext": datastore.container_security_context(),
        "volumeMounts": [
            {"name": "data", "mountPath": DATA_MOUNT},
            {"name": "initdb", "mountPath": "/docker-entrypoint-initdb.d", "readOnly": True},
            {"name": "run", "mountPath": "/var/run/postgresql"},
            {"name": "tmp", "mountPath": "/tmp"},
            {"name": "shm", "mountPath": "/dev/shm"},
        ],
    }


def _statefulset(ctx: RenderContext, db: VectorDatabase) -> list[dict[str, Any]]:
    assert db.storage is not None
    image = store_image(db)
    obj_labels = datastore.store_labels(ctx, db.name, COMPONENT, image)
    sel = datastore.selector(db.name)
    initdb_name = f"{db.name}-initdb"
    run, tmp = postgres_scratch()
    volumes = [
        {"name": "initdb", "configMap": {"name": initdb_name}},
        {"name": "run", "emptyDir": {"sizeLimit": run}},
        {"name": "tmp", "emptyDir": {"sizeLimit": tmp}},
        {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": SHM_SIZE}},
    ]
    objects = ctx.render("datastore/configmap.yaml.j2", name=initdb_name,
                         namespace=db.namespace, labels=obj_labels,
                         data={"10-pgvector.sql": CREATE_EXTENSION + ";\n"})
    headless = f"{db.name}-headless"
    objects += ctx.render(
        "datastore/statefulset.yaml.j2", name=db.name, namespace=db.namespace,
        labels=obj_labels, replicas=1, service_name=headless,
        pod_management_policy="OrderedReady", selector=sel, pod_labels=obj_labels,
        volume_claims=[datastore.volume_claim("data", db.storage)],
        **datastore.pod_view(ctx, db, 1, RUN_AS, [_container(db)], volumes,
                             termination_grace=60),
    )
    port = [{"name": "postgres", "port": POSTGRES_PORT, "targetPort": "postgres",
             "protocol": "TCP"}]
    objects += datastore.service(ctx, headless, db.namespace, obj_labels, sel, port,
                                 headless=True)
    objects += datastore.service(ctx, db.name, db.namespace, obj_labels, sel, port)
    return objects
