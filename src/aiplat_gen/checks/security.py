"""Checks of the security settings: the gateway, the platform graph's references, network policy
prerequisites, RBAC groups, declared policy exceptions, and environment variables that would
bypass the GPU allocation.

- `gateway`: its namespace exists; every route names a model, once, with a distinct path; the
  provider supports the route's match and rate unit; an OpenAI-only provider (Envoy AI Gateway,
  Kong's `ai-proxy`) routes only to models whose server speaks the OpenAI API (not Triton's
  KServe v2 protocol); the API-key Secrets have the shape the provider reads (Kong: key `key`;
  NGINX: one htpasswd Secret under `auth`).
- `graph_references`: `usesModels` names other models; a model and a data store of the same name
  in one namespace would share a ServiceAccount and a NetworkPolicy.
- `network_prerequisites`: parties that aiplat-gen does not render (the gateway's proxies,
  Prometheus) must not run in a namespace it locks down with `default-deny`.
- `model_env`: `NVIDIA_VISIBLE_DEVICES` is refused (set in a container it exposes GPUs the pod
  was not allocated), as are the variables aiplat-gen sets itself.
- `rbac_and_exceptions`: group namespaces exist; each exception names existing workloads, and no
  rule is excepted twice for one workload.
"""

from __future__ import annotations

from collections.abc import Iterator

from aiplat_gen.core.errors import Diagnostic
from aiplat_gen.core.hints import did_you_mean
from aiplat_gen.platform.engines import runtime_of
from aiplat_gen.platform.graph import prometheus_namespace
from aiplat_gen.profile.locator import Locator
from aiplat_gen.profile.schema.cluster import UNPROTECTED_PURPOSES
from aiplat_gen.profile.schema.gateway import Gateway
from aiplat_gen.profile.schema.profile import Profile
from aiplat_gen.profile.schema.secrets import Loc
from aiplat_gen.profile.schema.serving import Model

BYPASS_ENV = "NVIDIA_VISIBLE_DEVICES"
MANAGED_ENV = frozenset({"HOME", "USER", "HF_HOME", "HF_HUB_OFFLINE", "HF_TOKEN",
                         "VLLM_NO_USAGE_STATS", "AIPLAT_PREFETCH"})


def gateway(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """The gateway's namespace, routes and API-key Secrets fit its provider."""
    gw = profile.spec.gateway
    if gw is None:
        return
    loc = ("spec", "gateway")
    namespaces = [n.name for n in profile.spec.namespaces]
    if gw.namespace not in namespaces:
        yield at.diagnostic((*loc, "namespace"), f"namespace {gw.namespace!r} is not in "
                            "spec.namespaces", did_you_mean(gw.namespace, namespaces))
    models = {m.name: m for m in profile.spec.models}
    seen: dict[str, int] = {}
    prefixes: dict[str, int] = {}
    for i, route in enumerate(gw.routes):
        rloc = (*loc, "routes", i)
        if route.model not in models:
            yield at.diagnostic((*rloc, "model"), f"no model named {route.model!r} in "
                                "spec.models", did_you_mean(route.model, list(models)))
        if route.model in seen:
            yield at.diagnostic((*rloc, "model"), f"model {route.model!r} has two routes",
                                f"first at routes[{seen[route.model]}]")
        seen.setdefault(route.model, i)
        if route.match == "path":
            prefix = route.path_prefix or f"/{route.model}"
            if prefix in prefixes:
                yield at.diagnostic((*rloc, "pathPrefix"), f"path prefix {prefix!r} is used "
                                    f"by routes[{prefixes[prefix]}] too")
            prefixes.setdefault(prefix, i)
            if gw.provider == "envoy-ai-gateway":
                yield at.diagnostic((*rloc, "match"), "Envoy AI Gateway routes on the model "
                                    "name (header x-ai-eg-model, read from the request body), "
                                    "not on paths", "set `match: header`")
        elif gw.provider == "nginx":
            yield at.diagnostic((*rloc, "match"), "ingress-nginx cannot route on a header",
                                "set `match: path`")
        if route.path_prefix is not None and route.match == "header":
            yield at.diagnostic((*rloc, "pathPrefix"), "`pathPrefix` needs `match: path`")
        if route.model in models:
            yield from _openai_only(gw, models[route.model], rloc, at)
    limits = [((*loc, "rateLimit"), gw.rate_limit)] + [
        ((*loc, "routes", i, "rateLimit"), r.rate_limit) for i, r in enumerate(gw.routes)
        if r.rate_limit is not None]
    for lloc, limit in limits:
        if gw.provider == "nginx" and limit.per == "hour":
            yield at.diagnostic((*lloc, "per"), "ingress-nginx limits per second or minute, "
                                f"not per hour ({limit.requests} per hour)",
                                f"use e.g. {max(1, limit.requests // 60)} per minute")
    yield from _auth(profile, at)


def _openai_only(gw: Gateway, model: Model, rloc: Loc, at: Locator) -> Iterator[Diagnostic]:
    """Envoy AI Gateway and Kong's ai-proxy speak only the OpenAI API to their backends."""
    reader = ("Envoy AI Gateway" if gw.provider == "envoy-ai-gateway" else
              "Kong's ai-proxy plugin" if gw.provider == "kong" and gw.kong.ai_proxy else None)
    api = runtime_of(model).api
    if reader is not None and api.chat_completions is None:
        yield at.diagnostic((*rloc, "model"), f"{reader} sends OpenAI chat completions, but "
                            f"model {model.name!r} serves the {api.protocol} protocol under "
                            f"{api.prefix} (no OpenAI API)",
                            "route it with `provider: gateway-api`, or serve it with vLLM")


def _auth(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    gw = profile.spec.gateway
    assert gw is not None
    loc = ("spec", "gateway", "auth", "secrets")
    if gw.provider == "nginx" and len(gw.auth.secrets) > 1:
        yield at.diagnostic(loc, f"ingress-nginx reads one htpasswd Secret, not "
                            f"{len(gw.auth.secrets)}", "put every user in one Secret")
    for i, ref in enumerate(gw.auth.secrets):
        wanted = {"kong": "key", "nginx": "auth"}.get(gw.provider)
        if wanted is not None and ref.key != wanted:
            reader = "Kong's key-auth credential" if gw.provider == "kong" else \
                "ingress-nginx's auth-secret (an htpasswd file)"
            yield at.diagnostic((*loc, i, "key"), f"{reader} is read from the key {wanted!r}, "
                                f"not {ref.key!r}", f"set `key: {wanted}`")


def graph_references(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """`usesModels` names other models; workload names are unique per namespace."""
    spec = profile.spec
    names = [m.name for m in spec.models]
    for i, model in enumerate(spec.models):
        for j, other in enumerate(model.uses_models):
            if other == model.name:
                yield at.diagnostic(("spec", "models", i, "usesModels", j),
                                    f"model {model.name!r} lists itself")
            elif other not in names:
                yield at.diagnostic(("spec", "models", i, "usesModels", j),
                                    f"no model named {other!r} in spec.models",
                                    did_you_mean(other, names))
    stores = [("vectorDatabases", k, s) for k, s in enumerate(spec.vector_databases)] + \
        [("caches", k, s) for k, s in enumerate(spec.caches)]
    for collection, k, store in stores:
        clash = next((i for i, m in enumerate(spec.models)
                      if m.name == store.name and m.namespace == store.namespace), None)
        if clash is not None:
            yield at.diagnostic(("spec", collection, k, "name"),
                                f"{store.name!r} is also the name of models[{clash}] in "
                                f"namespace {store.namespace!r}: they would share a "
                                "ServiceAccount and a NetworkPolicy", "rename one of them")


def network_prerequisites(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """Unrendered peers (the gateway's proxies, Prometheus) outside locked-down namespaces."""
    spec = profile.spec
    policies = spec.security.network_policies
    if not policies.enabled:
        return
    locked = {n.name for n in spec.namespaces if n.purpose not in UNPROTECTED_PURPOSES}
    gw = spec.gateway
    if gw is not None and gw.data_plane_namespace in locked:
        yield at.diagnostic(("spec", "gateway", "dataPlane", "namespace"),
                            f"the gateway's proxies run in {gw.data_plane_namespace!r}, which "
                            "aiplat-gen locks down with a default-deny policy: they could not "
                            "reach their controller", "run the proxies in the controller's own "
                            "namespace, or give the namespace `purpose: observability`")
    prometheus = prometheus_namespace(profile)
    if prometheus in locked:
        yield at.diagnostic(("spec", "security", "networkPolicies", "prometheus", "namespace"),
                            f"Prometheus runs in {prometheus!r}, which aiplat-gen locks down "
                            "with a default-deny policy: it could not scrape anything",
                            "give that namespace `purpose: observability`")


def model_env(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """No GPU-allocation bypass, no variable aiplat-gen sets."""
    for i, model in enumerate(profile.spec.models):
        for name in model.env:
            loc = ("spec", "models", i, "env", name)
            if name == BYPASS_ENV:
                yield at.diagnostic(loc, f"{BYPASS_ENV} bypasses the GPU allocation: the "
                                    "container would see GPUs the pod was not given",
                                    "request GPUs with `gpus`; the device plugin sets it")
            elif name in MANAGED_ENV:
                yield at.diagnostic(loc, f"{name} is set by aiplat-gen",
                                    "remove it from env")


def rbac_and_exceptions(profile: Profile, at: Locator) -> Iterator[Diagnostic]:
    """Group namespaces exist; exceptions name workloads and do not repeat a rule."""
    spec = profile.spec
    namespaces = [n.name for n in spec.namespaces]
    for i, group in enumerate(spec.security.rbac_groups):
        for j, ns in enumerate(group.namespaces):
            if ns not in namespaces:
                yield at.diagnostic(("spec", "security", "rbacGroups", i, "namespaces", j),
                                    f"namespace {ns!r} is not in spec.namespaces",
                                    did_you_mean(ns, namespaces))
        if group.cluster_wide and group.namespaces:
            yield at.diagnostic(("spec", "security", "rbacGroups", i, "namespaces"),
                                "`namespaces` does not apply with `clusterWide: true`")
    workloads = [m.name for m in spec.models] + \
        [d.name for d in spec.vector_databases if d.runs_in_cluster] + \
        [c.name for c in spec.caches]
    exceptions = spec.security.policy_exceptions
    for i, exception in enumerate(exceptions):
        loc = ("spec", "security", "policyExceptions", i)
        for j, name in enumerate(exception.workloads):
            if name not in workloads:
                yield at.diagnostic((*loc, "workloads", j), f"no workload named {name!r}",
                                    did_you_mean(name, workloads))
        earlier = next((k for k, other in enumerate(exceptions[:i]) if other.rule ==
                        exception.rule and (not other.workloads or not exception.workloads or
                                            set(other.workloads) & set(exception.workloads))),
                       None)
        if earlier is not None:
            yield at.diagnostic((*loc, "rule"), f"rule {exception.rule!r} is already excepted "
                                f"for these workloads by policyExceptions[{earlier}]",
                                "merge the two exceptions")
