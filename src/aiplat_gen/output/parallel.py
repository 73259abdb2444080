"""The full renders of a tree's profiles, in parallel where that wins.

The profiles of a tree (a root and its environments) render independently, and a render is
pure CPU work. With more than one profile and more than one processor, forked worker processes
render some of them while this process renders the others: a child inherits the validated
profiles (only an index crosses the pipe) and sends its render back pickled. The result is the
same objects in the same order as rendering one after the other: each profile's render is
computed by the same code from the same input, and they are put together by position.

A worker that fails for any reason (a template error, a bug, a signal) sends nothing but that
it failed; this process then renders that profile itself, so the error it raises is exactly
the sequential one. Everything renders here where `fork` is unavailable (not Linux or macOS)
and while another thread runs (the progress display on a terminal): a child forked from a
threaded process may inherit a lock that thread held (standard error's, rich's) and hang on it.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from aiplat_gen.profile.schema.profile import Profile
from aiplat_gen.render.components.base import RenderContext
from aiplat_gen.render.pipeline import render_full
from aiplat_gen.render.rendered import FullRender

# What the forked workers render: set before the pool forks, read by `_render_one` in a child.
_JOB: tuple[Sequence[Profile], Path | None] = ((), None)


def _render_one(index: int) -> FullRender | None:
    profiles, templates_dir = _JOB
    try:
        return render_full(RenderContext(profiles[index], templates_dir))
    except BaseException:  # noqa: BLE001 - the parent renders it again and raises the error
        return None


def workers(jobs: int | None, profiles: int) -> int:
    """How many processes to use besides this one (0: render here only)."""
    if (profiles < 2 or "fork" not in multiprocessing.get_all_start_methods()
            or threading.active_count() > 1):
        return 0
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    wanted = jobs if jobs is not None else (cpus or 1)
    return max(0, min(wanted, profiles) - 1)


def render_all(profiles: Sequence[Profile], templates_dir: Path | None, names: Sequence[str],
               step: Callable[[str], None] | None = None, jobs: int | None = None
               ) -> list[FullRender]:
    """Each profile's full render, in order. `jobs`: processes to use in all (default: the
    processors this process may run on)."""
    count = workers(jobs, len(profiles))

    def here(index: int) -> FullRender:
        if step is not None:
            step(names[index])
        return render_full(RenderContext(profiles[index], templates_dir))

    if count == 0:
        return [here(i) for i in range(len(profiles))]
    global _JOB
    _JOB = (profiles, templates_dir)
    # Every (count + 1)-th profile renders here, the others in the workers.
    mine = set(range(0, len(profiles), count + 1))
    results: dict[int, FullRender] = {}
    try:
        with ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("fork")) as pool:
            futures: dict[int, Future[FullRender | None]] = {
                i: pool.submit(_render_one, i) for i in range(len(profiles)) if i not in mine}
            for index in sorted(mine):
                results[index] = here(index)
            for index, future in futures.items():
                if step is not None:
                    step(names[index])
                try:
                    done = future.result()
                except Exception:  # noqa: BLE001 - a worker that died: render it here
                    done = None
                results[index] = done if done is not None else render_full(
                    RenderContext(profiles[index], templates_dir))
    finally:
        _JOB = ((), None)
    return [results[i] for i in range(len(profiles))]
