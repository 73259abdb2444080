"""Profile model of the AI gateway (`spec.gateway`): the one way clients reach the models.

One provider renders the gateway objects: Gateway API (`Gateway`/`HTTPRoute`, implemented by
Envoy Gateway), Kong (`HTTPRoute` with `KongPlugin`s), Envoy AI Gateway (`AIGatewayRoute`/
`AIServiceBackend`) or NGINX Ingress (`Ingress` with annotations). Every route serves one model's
OpenAI-compatible API, by path prefix or by model header, behind API-key authentication and a
rate limit. The proxies themselves run where their controller puts them (`dataPlane`), and the
network policies let only them reach the model servers.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from aiplat_gen.profile.schema.secrets import SecretRef
from aiplat_gen.profile.schema.types import DnsLabel, LabelKey, LabelValue, Strict

Provider = Literal["gateway-api", "kong", "envoy-ai-gateway", "nginx"]
Hostname = Annotated[str, StringConstraints(
    max_length=253,
    pattern=r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$")]
PathPrefix = Annotated[str, StringConstraints(max_length=200,
                                              pattern=r"^(/[A-Za-z0-9][-A-Za-z0-9_.]*)+$")]
HeaderName = Annotated[str, StringConstraints(max_length=100,
                                              pattern=r"^[A-Za-z0-9][-A-Za-z0-9]*$")]

ENVOY_CONTROLLER = "gateway.envoyproxy.io/gatewayclass-controller"
KONG_CONTROLLER = "konghq.com/kic-gateway-controller"
AI_GATEWAY_MODEL_HEADER = "x-ai-eg-model"
"""The header Envoy AI Gateway fills from the request body's `model` before routing."""


class RateLimit(Strict):
    """Requests allowed per time unit on a route. Kong and Envoy count per proxy replica
    (`policy: local`, local rate limit), NGINX per client address and replica."""

    requests: int = Field(ge=1, le=1_000_000, examples=[600])
    """Requests allowed in each unit."""
    per: Literal["second", "minute", "hour"] = "minute"
    """The unit (NGINX supports `second` and `minute` only)."""


class Route(Strict):
    """One model's OpenAI-compatible API behind the gateway."""

    model: DnsLabel = Field(examples=["llama-8b"])
    """A model of `spec.models`."""
    match: Literal["path", "header"] = "path"
    """`path`: clients use `https://<host><pathPrefix>/v1` as their base URL (Triton:
    `<pathPrefix>/v2/models`); the gateway forwards that API only, to where the model's server
    serves it. `header`: clients call `https://<host>/v1/...` with the model header (Envoy AI
    Gateway reads the model from the request body itself)."""
    path_prefix: PathPrefix | None = Field(default=None, examples=["/llama-8b"])
    """With `match: path`; default `/<model>`."""
    rate_limit: RateLimit | None = None
    """This route's limit; default: the gateway's `rateLimit`."""


class ApiKeyAuth(Strict):
    """API-key authentication of every route, from Secrets (never values).

    - Gateway API and Envoy AI Gateway (Envoy Gateway `SecurityPolicy.apiKeyAuth`): every key of
      each Secret is a client id and its value that client's API key; clients send the key in
      the `header` (default `x-api-key`), which is removed before the request reaches a model.
      The reference's `key` is not read; with `remote`, the store entry (or its `property`) is a
      map of client id to API key, synced whole (one Secret key per client).
    - Kong (`key-auth` plugin): one `KongConsumer` per Secret, which must hold the key under
      `key` and carry the label `konghq.com/credential: key-auth`.
    - NGINX (`auth-type: basic`): one htpasswd Secret under the key `auth`; the API key is the
      password of a basic-auth user.
    """

    secrets: list[SecretRef] = Field(min_length=1)
    """The Secrets holding the API keys, in `gateway.namespace`."""
    header: HeaderName = "x-api-key"
    """Request header that carries the key (Envoy Gateway and Kong)."""


class DataPlane(Strict):
    """Where the gateway's proxy pods run: the only pods that may reach the model servers.
    Defaults follow each provider's chart: Envoy Gateway (`envoy-gateway-system`, labelled with
    the owning Gateway), Kong (`kong`, `app.kubernetes.io/name: kong`), ingress-nginx
    (`ingress-nginx`, the controller component)."""

    namespace: DnsLabel | None = Field(default=None, examples=["envoy-gateway-system"])
    """Namespace of the proxy pods."""
    pod_labels: dict[LabelKey, LabelValue] = Field(default_factory=dict)
    """Labels selecting the proxy pods (all must match)."""


class KongSettings(Strict):
    """Kong-only settings."""

    ai_proxy: bool = False
    """Attach Kong's `ai-proxy` plugin to every route (`route_type: llm/v1/chat`, the model's
    served name, the in-cluster upstream URL), for token statistics in Kong's logs. The routes
    then serve chat completions only."""


class Gateway(Strict):
    """The AI gateway in front of the models."""

    provider: Provider = Field(examples=["gateway-api"])
    """`gateway-api` (Gateway API objects, Envoy Gateway policies for auth and limits), `kong`,
    `envoy-ai-gateway` or `nginx` (ingress-nginx)."""
    name: DnsLabel = "ai-gateway"
    """Name of the Gateway (or of the NGINX Ingresses' prefix)."""
    namespace: DnsLabel = Field(examples=["ai-gateway"])
    """A namespace of `spec.namespaces`: the Gateway, its policies and its Secrets live here."""
    class_name: DnsLabel | None = Field(default=None, examples=["envoy-gateway"])
    """GatewayClass (IngressClass for NGINX); default per provider: `envoy-gateway`, `kong`,
    `nginx`. aiplat-gen renders the GatewayClass for Envoy Gateway and Kong."""
    hostname: Hostname = Field(examples=["llm.example.com"])
    """The host clients call."""
    tls_secret_name: DnsLabel = Field(examples=["llm-example-com-tls"])
    """A `kubernetes.io/tls` Secret with the certificate of `hostname`, in `namespace` (NGINX:
    in each model namespace, since an Ingress reads Secrets of its own namespace only)."""
    auth: ApiKeyAuth
    """API keys, by Secret reference."""
    rate_limit: RateLimit = RateLimit(requests=600, per="minute")
    """Default limit of every route."""
    model_header: HeaderName = "x-model"
    """Header routing `match: header` routes (Gateway API, Kong); Envoy AI Gateway always uses
    `x-ai-eg-model`, filled from the request body."""
    routes: list[Route] = Field(default_factory=list)
    """One route per exposed model."""
    data_plane: DataPlane = DataPlane()
    """Where the proxies run (defaults per provider)."""
    kong: KongSettings = KongSettings()
    """Settings of `provider: kong`."""

    @property
    def effective_class(self) -> str:
        """The GatewayClass (or IngressClass) name."""
        default = {"gateway-api": "envoy-gateway", "envoy-ai-gateway": "envoy-gateway",
                   "kong": "kong", "nginx": "nginx"}[self.provider]
        return self.class_name or default

    @property
    def data_plane_namespace(self) -> str:
        """Namespace of the proxy pods."""
        default = {"gateway-api": "envoy-gateway-system", "envoy-ai-gateway":
                   "envoy-gateway-system", "kong": "kong", "nginx": "ingress-nginx"}
        return self.data_plane.namespace or default[self.provider]

    @property
    def data_plane_labels(self) -> dict[str, str]:
        """Labels of the proxy pods."""
        if self.data_plane.pod_labels:
            return dict(self.data_plane.pod_labels)
        if self.provider in ("gateway-api", "envoy-ai-gateway"):
            return {"gateway.envoyproxy.io/owning-gateway-name": self.name,
                    "gateway.envoyproxy.io/owning-gateway-namespace": self.namespace}
        if self.provider == "kong":
            return {"app.kubernetes.io/name": "kong"}
        return {"app.kubernetes.io/name": "ingress-nginx",
                "app.kubernetes.io/component": "controller"}
