"""Gateway objects for ingress-nginx: one Ingress per model with the controller's rate-limit and
basic-auth annotations. See `components.gateway` for the whole picture."""

from __future__ import annotations

from typing import Any

from aiplat_gen.profile.schema.gateway import Gateway
from aiplat_gen.render.components.base import RenderContext
from aiplat_gen.render.components.gateway_routes import RouteView, object_labels

PREFIX = "nginx.ingress.kubernetes.io/"


def objects(ctx: RenderContext, gateway: Gateway, routes: list[RouteView]) -> list[dict[str, Any]]:
    """An Ingress per path route (ingress-nginx cannot match headers)."""
    result: list[dict[str, Any]] = []
    secret = gateway.auth.secrets[0]
    for view in routes:
        limit = view.rate_limit
        annotations = {
            f"{PREFIX}auth-type": "basic",
            f"{PREFIX}auth-secret": f"{gateway.namespace}/{secret.name}",
            f"{PREFIX}auth-realm": f"{gateway.hostname} API",
            f"{PREFIX}limit-{'rps' if limit.per == 'second' else 'rpm'}": str(limit.requests),
            f"{PREFIX}use-regex": "true",
            f"{PREFIX}rewrite-target": f"{view.backend_path}/$2",
        }
        backend = {"service": {"name": view.service, "port": {"number": view.service_port}}}
        rules = [{"host": gateway.hostname, "http": {"paths": [
            {"path": f"{view.client_path}(/|$)(.*)", "pathType": "ImplementationSpecific",
             "backend": backend}]}}]
        result += ctx.render("gateway/ingress.yaml.j2", name=view.name, namespace=view.namespace,
                             labels=object_labels(ctx, view.name), annotations=annotations,
                             class_name=gateway.effective_class,
                             tls=[{"hosts": [gateway.hostname],
                                   "secretName": gateway.tls_secret_name}],
                             rules=rules)
    return result
