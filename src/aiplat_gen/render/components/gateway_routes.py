"""What every gateway provider shares: the route view of a model and the Gateway API pieces."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiplat_gen.platform.engines import EngineDescriptor, descriptor
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
    def upstream_url(self) -> str:
        """The model's chat completions URL inside the cluster."""
        return (f"http://{self.service}.{self.namespace}.svc.cluster.local:{self.service_port}"
                f"{self.engine.chat_completions_path}")


def object_labels(ctx: RenderContext, name: str) -> dict[str, str]:
    """The gateway component's labels."""
    return labels(ctx.profile, name, COMPONENT)


def parent_ref(gateway: Gateway) -> dict[str, Any]:
    """A route's reference to the Gateway's HTTPS listener."""
    return {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": gateway.name,
            "namespace": gateway.namespace, "sectionName": "https"}


def http_matches(view: RouteView, header: str) -> list[dict[str, Any]]:
    """Gateway API matches of a route: its path prefix, or `/v1` and the model header."""
    if view.route.match == "path":
        return [{"path": {"type": "PathPrefix", "value": view.prefix}}]
    return [{"path": {"type": "PathPrefix", "value": view.engine.api_prefix},
             "headers": [{"type": "Exact", "name": header, "value": view.served_name}]}]
