"""Gateway objects for Envoy Gateway: plain Gateway API routes (`gateway-api`) or Envoy AI Gateway
routes (`envoy-ai-gateway`), with Envoy Gateway's `SecurityPolicy` (API keys) and
`BackendTrafficPolicy` (rate limits). See `components.gateway` for the whole picture."""

from __future__ import annotations

from typing import Any

from aiplat_gen.profile.schema.gateway import AI_GATEWAY_MODEL_HEADER, Gateway
from aiplat_gen.render.components.base import RenderContext
from aiplat_gen.render.components.gateway_routes import (
    RouteView,
    http_matches,
    object_labels,
    parent_ref,
    rewrite_filters,
)

GATEWAY_API = "gateway.networking.k8s.io"
ENVOY_GATEWAY = "gateway.envoyproxy.io"


def objects(ctx: RenderContext, gateway: Gateway, routes: list[RouteView]) -> list[dict[str, Any]]:
    """The API-key policy of the Gateway, then each route with its rate limit."""
    result = _policy(ctx, "SecurityPolicy", f"{gateway.name}-api-keys", gateway.namespace, {
        "targetRefs": [{"group": GATEWAY_API, "kind": "Gateway", "name": gateway.name}],
        "apiKeyAuth": {
            "credentialRefs": [{"group": "", "kind": "Secret", "name": ref.name}
                               for ref in gateway.auth.secrets],
            "extractFrom": [{"headers": [gateway.auth.header]}],
            # Remove the key before forwarding: the model servers never see it (`sanitize`,
            # SecurityPolicy CRD of envoyproxy/gateway v1.9.0).
            "sanitize": True,
        },
    })
    for view in routes:
        if gateway.provider == "envoy-ai-gateway":
            result += _ai_route(ctx, gateway, view)
        else:
            result += _http_route(ctx, gateway, view)
        limit = view.rate_limit
        result += _policy(ctx, "BackendTrafficPolicy", f"{view.name}-rate-limit", view.namespace, {
            "targetRefs": [{"group": GATEWAY_API, "kind": "HTTPRoute", "name": view.name}],
            "rateLimit": {"local": {"rules": [
                {"limit": {"requests": limit.requests, "unit": limit.per.capitalize()}}]}},
        })
    return result


def _policy(ctx: RenderContext, kind: str, name: str, namespace: str,
            spec: dict[str, Any]) -> list[dict[str, Any]]:
    return ctx.render("gateway/envoy-policy.yaml.j2", kind=kind, name=name, namespace=namespace,
                      labels=object_labels(ctx, name), spec=spec)


def _http_route(ctx: RenderContext, gateway: Gateway, view: RouteView) -> list[dict[str, Any]]:
    rule: dict[str, Any] = {"matches": http_matches(view, gateway.model_header)}
    filters = rewrite_filters(view)
    if filters:
        rule["filters"] = filters
    rule["backendRefs"] = [{"name": view.service, "port": view.service_port}]
    return ctx.render("gateway/httproute.yaml.j2", name=view.name, namespace=view.namespace,
                      labels=object_labels(ctx, view.name), annotations={},
                      parent_refs=[parent_ref(gateway)], hostnames=[gateway.hostname],
                      rules=[rule])


def _ai_route(ctx: RenderContext, gateway: Gateway, view: RouteView) -> list[dict[str, Any]]:
    """Backend (the Service by its cluster DNS name), AIServiceBackend and AIGatewayRoute."""
    host = f"{view.service}.{view.namespace}.svc.cluster.local"
    result = _policy(ctx, "Backend", view.name, view.namespace, {
        "endpoints": [{"fqdn": {"hostname": host, "port": view.service_port}}]})
    for kind, spec in (
        ("AIServiceBackend", {
            # The AI Gateway calls `<prefix>/chat/completions` (AIServiceBackend CRD, v1.1.0).
            "schema": {"name": "OpenAI", "prefix": view.backend_path},
            "backendRef": {"group": ENVOY_GATEWAY, "kind": "Backend", "name": view.name}}),
        ("AIGatewayRoute", {
            "parentRefs": [parent_ref(gateway)],
            "rules": [{"matches": [{"headers": [{"type": "Exact",
                                                 "name": AI_GATEWAY_MODEL_HEADER,
                                                 "value": view.served_name}]}],
                       "backendRefs": [{"name": view.name}]}]}),
    ):
        result += ctx.render("gateway/aigateway.yaml.j2", kind=kind, name=view.name,
                             namespace=view.namespace, labels=object_labels(ctx, view.name),
                             spec=spec)
    return result
