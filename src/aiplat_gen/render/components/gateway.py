"""The AI gateway (`spec.gateway`): one route per exposed model, behind TLS, API keys and rate
limits, rendered for the chosen provider.

Common to every provider:

- the route of a model lives in the model's namespace, next to its Service, so no
  `ReferenceGrant` is needed; clients call `https://<hostname><pathPrefix>/v1/...` (`match:
  path`) or `https://<hostname>/v1/...` with the model header (`match: header`), `/v2/models/...`
  for Triton; the route forwards only that API, rewritten to where the model's runtime serves it
  (`/v1` for vLLM, `/openai/v1` for KServe's Hugging Face runtime, `/v2/models` for Triton: the
  `ServedApi` of the engine descriptor), never the servers' health, metrics or admin paths;
- the backend is the model's Service: `<model>` on port 8000 for vLLM and Triton,
  `<model>-predictor` on port 80 for KServe (its Standard deployment mode);
- API keys come from Secrets (`auth.secrets`) and are never rendered;
- only the gateway's proxy pods may reach the models (`components.network_policies`).

Providers:

- `gateway-api`: a `GatewayClass` for Envoy Gateway (`gateway.envoyproxy.io/gatewayclass-
  controller`), a `Gateway` with one HTTPS listener for `hostname` (TLS terminated with
  `tlsSecretName`) that accepts routes only from the models' namespaces, and per model an
  `HTTPRoute` (a `URLRewrite` filter replaces the matched prefix with the served one). Gateway
  API has no standard API-key or rate-limit filter, so Envoy Gateway's own policies carry them:
  a `SecurityPolicy` (`apiKeyAuth`, key read from `auth.header` and removed before the request
  is forwarded, `sanitize`) on the Gateway, and per route a `BackendTrafficPolicy` with a local
  rate limit (counted per Envoy replica).
- `envoy-ai-gateway`: the same Gateway and policies, and per model an `AIGatewayRoute`
  (aigateway.envoyproxy.io/v1beta1) matching `x-ai-eg-model` (which the AI Gateway fills from
  the request body's `model`), an `AIServiceBackend` (schema `OpenAI`, prefix: the served one)
  and the Envoy Gateway `Backend` it requires (the Service's cluster DNS name and port). The
  rate limit targets the `HTTPRoute` the AI Gateway generates with the route's name. Envoy
  Gateway must run with its `Backend` API enabled (the AI Gateway's installation does this).
  Routes are header-based only.
- `kong`: a `GatewayClass` for the Kong Ingress Controller (unmanaged mode, annotation
  `konghq.com/gatewayclass-unmanaged`), the Gateway, and per model an `HTTPRoute` carrying
  `konghq.com/plugins` with a `key-auth` and a `rate-limiting` KongPlugin (`policy: local`) in
  its namespace (a `URLRewrite` filter, Kong Ingress Controller 3.2+, replaces the matched
  prefix; `konghq.com/strip-path: "false"`), plus the `ai-proxy` plugin with `kong.aiProxy`;
  one `KongConsumer` per API-key Secret, in the gateway namespace.
- `nginx`: per model an `Ingress` (class `nginx`) with `nginx.ingress.kubernetes.io/`
  annotations: `auth-type: basic` and `auth-secret: <gateway namespace>/<secret>` (an htpasswd
  Secret under the key `auth`), `limit-rps` or `limit-rpm` (per client address), `use-regex`
  and `rewrite-target: <served prefix>/$2`. ingress-nginx cannot route on headers.
"""

from __future__ import annotations

from typing import Any

from aiplat_gen.profile.schema.gateway import ENVOY_CONTROLLER, KONG_CONTROLLER, Gateway
from aiplat_gen.render.components import gateway_envoy, gateway_kong, gateway_nginx
from aiplat_gen.render.components.base import RenderContext, Rendered
from aiplat_gen.render.components.gateway_routes import RouteView, object_labels

NAMESPACE_LABEL = "kubernetes.io/metadata.name"


def render(ctx: RenderContext) -> Rendered:
    """The gateway objects of the profile's provider (nothing without `spec.gateway`)."""
    gateway = ctx.profile.spec.gateway
    if gateway is None:
        return Rendered()
    models = {m.name: m for m in ctx.profile.spec.models}
    routes = [RouteView(gateway, r, models[r.model]) for r in gateway.routes
              if r.model in models]
    objects: list[dict[str, Any]] = []
    if gateway.provider == "nginx":
        return Rendered(objects=gateway_nginx.objects(ctx, gateway, routes))
    objects += gateway_class(ctx, gateway)
    objects += ctx.render("gateway/gateway.yaml.j2", name=gateway.name,
                          namespace=gateway.namespace, labels=object_labels(ctx, gateway.name),
                          class_name=gateway.effective_class,
                          listeners=[listener(gateway, routes)])
    if gateway.provider == "kong":
        objects += gateway_kong.objects(ctx, gateway, routes)
    else:
        objects += gateway_envoy.objects(ctx, gateway, routes)
    return Rendered(objects=objects)


def gateway_class(ctx: RenderContext, gateway: Gateway) -> list[dict[str, Any]]:
    """The GatewayClass binding the class name to Envoy Gateway or Kong."""
    name = gateway.effective_class
    if gateway.provider == "kong":
        return ctx.render("gateway/gatewayclass.yaml.j2", name=name,
                          labels=object_labels(ctx, name), controller=KONG_CONTROLLER,
                          annotations={"konghq.com/gatewayclass-unmanaged": "true"})
    return ctx.render("gateway/gatewayclass.yaml.j2", name=name, labels=object_labels(ctx, name),
                      controller=ENVOY_CONTROLLER, annotations={})


def listener(gateway: Gateway, routes: list[RouteView]) -> dict[str, Any]:
    """The HTTPS listener: TLS from `tlsSecretName`, routes only from the models' namespaces."""
    namespaces = sorted({r.namespace for r in routes}) or [gateway.namespace]
    return {
        "name": "https", "protocol": "HTTPS", "port": 443, "hostname": gateway.hostname,
        "tls": {"mode": "Terminate",
                "certificateRefs": [{"kind": "Secret", "name": gateway.tls_secret_name}]},
        "allowedRoutes": {"namespaces": {"from": "Selector", "selector": {"matchExpressions": [
            {"key": NAMESPACE_LABEL, "operator": "In", "values": namespaces}]}}},
    }
