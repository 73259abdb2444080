"""Serving engines as descriptors: one module per engine holds everything aiplat-gen knows about
it (ports, probes, metrics, managed flags, capabilities; see `base.EngineDescriptor`), and every
consumer reads the descriptor instead of comparing engine names.

Adding an engine: add it to `Engine` (`profile.schema.serving`), write its module here, add its
arm to `descriptor`, and its component to `render.components.registry.serving_component`. mypy
reports both `match` statements until they handle it.
"""

from __future__ import annotations

from typing import assert_never, get_args

from aiplat_gen.platform.engines.base import (
    EngineDescriptor,
    EngineMetrics,
    EnginePort,
    ErrorSignal,
    Probes,
    Runtime,
    ServedApi,
    Timing,
    WeightFiles,
)
from aiplat_gen.platform.engines.kserve import KSERVE
from aiplat_gen.platform.engines.triton import TRITON
from aiplat_gen.platform.engines.vllm import VLLM
from aiplat_gen.profile.schema.serving import Engine, Model

__all__ = ["ENGINES", "EngineDescriptor", "EngineMetrics", "EnginePort", "ErrorSignal",
           "Probes", "Runtime", "ServedApi", "Timing", "WeightFiles", "descriptor",
           "metrics_of", "runtime_of"]

ENGINES: tuple[Engine, ...] = get_args(Engine)
"""Every engine, in the order of the `Engine` literal (the order components render in)."""


def descriptor(engine: Engine) -> EngineDescriptor:
    """The descriptor of an engine."""
    match engine:
        case "vllm":
            return VLLM
        case "triton":
            return TRITON
        case "kserve":
            return KSERVE
        case _:
            assert_never(engine)


def runtime_of(model: Model) -> Runtime:
    """The runtime in the model's server container: its engine's runtime, or the one it picks
    with `kserve.runtime` among its engine's (a `kserve` section on another engine is reported by
    the serving checks and changes nothing here)."""
    engine = descriptor(model.engine)
    if engine.kserve_settings and model.kserve is not None:
        return next(r for r in engine.runtimes if r.name == model.kserve.runtime)
    return engine.default_runtime


def metrics_of(model: Model) -> EngineMetrics | None:
    """The series the model's server exports, as aiplat-gen queries them: its runtime's where
    they differ by runtime (KServe), else its engine's; None: none aiplat-gen knows."""
    return runtime_of(model).metrics or descriptor(model.engine).metrics
