"""What every gateway provider shares: the route view of a model and the Gateway API pieces.

Every provider forwards the same paths: a route matches `<pathPrefix><client prefix>` (or the
client prefix and the model header) and replaces that with the prefix the model's runtime
serves its API under (`ServedApi` on the engine descriptor): `/v1` for vLLM, `/openai/v1` for
KServe's Hugging Face runtime, `/v2/models` for Triton. Health, metrics and administration
paths are never forwarded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiplat_gen.platform.engines import EngineDescriptor, ServedApi, descriptor, runtime_of
from aiplat_gen.profile.schema.gateway import Gateway, RateLimit, Route
from aiplat_gen.profile.schema.serving import Model
from aiplat_gen.render.components.base import RenderContext, labels

COMPONENT = "gateway"


@dataclass(frozen=True)
class RouteView:
    """One route with everything a provider needs."""

    gateway: Gateway
    route: Route
    model: Model

    @property
    def name(self) -> str:
        """Object name of the route (the model's name)."""
        return self.model.name

    @property
    def namespace(self) -> str:
        """The model's namespace."""
        return self.model.namespace

    @property
    def engine(self) -> EngineDescriptor:
        """The model's serving engine."""
        return descriptor(self.model.engine)

    @property
    def api(self) -> ServedApi:
        """The HTTP API the model's runtime serves."""
        return runtime_of(self.model).api

    @property
    def client_path(self) -> str:
        """The path prefix the route matches: `<pathPrefix>/v1` (or `/v1` with the header)."""
        if self.route.match == "path":
            return self.prefix + self.api.client_prefix
        return self.api.client_prefix

    @property
    def backend_path(self) -> str:
        """The prefix `client_path` is replaced with before the model sees the request."""
        return self.api.prefix

    @property
    def service(self) -> str:
        """The model's Service."""
        return self.model.name + self.engine.service_suffix

    @property
    def service_port(self) -> int:
        """The Service port of the model's HTTP API."""
        return self.engine.service_port

    @property
    def served_name(self) -> str:
        """The model name clients send."""
        return self.model.served_model_name or self.model.name

    @property
    def prefix(self) -> str:
        """The path prefix of a path route."""
        return self.route.path_prefix or f"/{self.model.name}"

    @property
    def rate_limit(self) -> RateLimit:
        """The route's limit, or the gateway's."""
        return self.route.rate_limit or self.gateway.rate_limit

    @property
    def upstream_url(self) -> str | None:
        """The model's chat completions URL inside the cluster (None: its runtime has none)."""
        if self.api.chat_completions is None:
            return None
        return (f"http://{self.service}.{self.namespace}.svc.cluster.local:{self.service_port}"
                f"{self.api.chat_completions}")


def object_labels(ctx: RenderContext, name: str) -> dict[str, str]:
    """The gateway component's labels."""
    return labels(ctx.profile, name, COMPONENT)


def parent_ref(gateway: Gateway) -> dict[str, Any]:
    """A route's reference to the Gateway's HTTPS listener."""
    return {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": gateway.name,
            "namespace": gateway.namespace, "sectionName": "https"}


def http_matches(view: RouteView, header: str) -> list[dict[str, Any]]:
    """Gateway API matches of a route: its client path, and the model header for `header`."""
    match: dict[str, Any] = {"path": {"type": "PathPrefix", "value": view.client_path}}
    if view.route.match == "header":
        match["headers"] = [{"type": "Exact", "name": header, "value": view.served_name}]
    return [match]


def rewrite_filters(view: RouteView) -> list[dict[str, Any]]:
    """The `URLRewrite` filter replacing the client path with the served one (none if equal)."""
    if view.client_path == view.backend_path:
        return []
    return [{"type": "URLRewrite", "urlRewrite": {
        "path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": view.backend_path}}}]
