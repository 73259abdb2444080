"""Gateway objects for the Kong Ingress Controller: Gateway API routes with KongPlugins attached
by the `konghq.com/plugins` annotation, and one KongConsumer per API-key Secret. See
`components.gateway` for the whole picture."""

from __future__ import annotations

from typing import Any

from aiplat_gen.profile.schema.gateway import Gateway
from aiplat_gen.render.components.base import RenderContext
from aiplat_gen.render.components.gateway_routes import (
    RouteView,
    http_matches,
    object_labels,
    parent_ref,
    rewrite_filters,
)

INGRESS_CLASS = "kubernetes.io/ingress.class"
PLUGINS_ANNOTATION = "konghq.com/plugins"
STRIP_PATH_ANNOTATION = "konghq.com/strip-path"


def objects(ctx: RenderContext, gateway: Gateway, routes: list[RouteView]) -> list[dict[str, Any]]:
    """Per route its plugins and HTTPRoute; then the consumers holding the API keys."""
    result: list[dict[str, Any]] = []
    for view in routes:
        plugins = _plugins(gateway, view)
        for name, (plugin, config) in plugins.items():
            result += ctx.render("gateway/kongplugin.yaml.j2", name=name,
                                 namespace=view.namespace, labels=object_labels(ctx, name),
                                 annotations={INGRESS_CLASS: gateway.effective_class},
                                 plugin=plugin, config=config)
        # The URLRewrite filter replaces the matched prefix (Kong Ingress Controller 3.2+,
        # "Rewriting paths"); stripping it as well would lose the served prefix.
        annotations = {PLUGINS_ANNOTATION: ",".join(plugins), STRIP_PATH_ANNOTATION: "false"}
        rule: dict[str, Any] = {"matches": http_matches(view, gateway.model_header)}
        filters = rewrite_filters(view)
        if filters:
            rule["filters"] = filters
        rule["backendRefs"] = [{"name": view.service, "port": view.service_port}]
        result += ctx.render("gateway/httproute.yaml.j2", name=view.name,
                             namespace=view.namespace, labels=object_labels(ctx, view.name),
                             annotations=annotations, parent_refs=[parent_ref(gateway)],
                             hostnames=[gateway.hostname], rules=[rule])
    for ref in gateway.auth.secrets:
        result += ctx.render("gateway/kongconsumer.yaml.j2", name=ref.name,
                             namespace=gateway.namespace, labels=object_labels(ctx, ref.name),
                             annotations={INGRESS_CLASS: gateway.effective_class},
                             username=ref.name, credentials=[ref.name])
    return result


def _plugins(gateway: Gateway, view: RouteView) -> dict[str, tuple[str, dict[str, Any]]]:
    """KongPlugin name -> (plugin, config) of a route, in execution-independent order."""
    limit = view.rate_limit
    plugins: dict[str, tuple[str, dict[str, Any]]] = {
        f"{view.name}-key-auth": ("key-auth", {"key_names": [gateway.auth.header],
                                               "hide_credentials": True}),
        f"{view.name}-rate-limit": ("rate-limiting", {limit.per: limit.requests,
                                                      "policy": "local",
                                                      "limit_by": "consumer"}),
    }
    if gateway.kong.ai_proxy and view.upstream_url is not None:
        plugins[f"{view.name}-ai-proxy"] = ("ai-proxy", {
            "route_type": "llm/v1/chat",
            "model": {"provider": "openai", "name": view.served_name,
                      "options": {"upstream_url": view.upstream_url}},
            "logging": {"log_statistics": True, "log_payloads": False},
        })
    return plugins
