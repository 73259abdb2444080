"""The profiles of a tree render in forked workers where there are several (output/parallel.py):
the same files as rendering one after the other, and a worker's failure is the sequential one."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiplat_gen.checks.selection import family, select, validate_many
from aiplat_gen.checks.validate import ValidatedProfile
from aiplat_gen.core.settings import Settings
from aiplat_gen.output import parallel, tree
from conftest import REPO


def _family() -> list[ValidatedProfile]:
    settings = Settings(profiles_dir=REPO / "profiles")
    return list(family(validate_many(select(["prod"], False, settings),
                                     with_parents=True)).profiles)


def test_parallel_renders_are_the_sequential_ones() -> None:
    profiles = _family()
    assert len(profiles) >= 3 and parallel.workers(2, len(profiles)) == 1
    steps: list[str] = []
    one = tree.lay_out(tree.render_tree(profiles, None, jobs=1)).files
    two = tree.lay_out(tree.render_tree(profiles, None, steps.append, jobs=2)).files
    assert list(one) == list(two) and one == two
    assert sorted(steps) == sorted(vp.name for vp in profiles)  # each once


def test_a_failed_worker_is_rendered_here(monkeypatch: pytest.MonkeyPatch) -> None:
    profiles = _family()
    expected = tree.lay_out(tree.render_tree(profiles, None, jobs=1)).files
    monkeypatch.setattr(parallel, "_render_one", lambda index: None)  # inherited by the fork
    assert tree.lay_out(tree.render_tree(profiles, None, jobs=2)).files == expected


def test_an_error_in_a_worker_profile_is_the_sequential_error(tmp_path: Path) -> None:
    profiles = _family()
    broken = tmp_path / "templates"
    (broken / "cluster").mkdir(parents=True)
    (broken / "cluster" / "namespace.yaml.j2").write_text("kind: {{ no_such_name }}\n")
    errors = []
    for jobs in (1, 2):
        with pytest.raises(Exception) as caught:  # noqa: PT011 - compared below
            tree.render_tree(profiles, broken, jobs=jobs)
        errors.append((type(caught.value), str(caught.value)))
    assert errors[0] == errors[1]


@pytest.mark.parametrize(("jobs", "profiles", "expected"),
                         [(None, 1, 0), (1, 4, 0), (2, 4, 1), (3, 4, 2), (8, 3, 2)])
def test_workers(jobs: int | None, profiles: int, expected: int) -> None:
    assert parallel.workers(jobs, profiles) == expected


def test_no_fork_while_another_thread_runs() -> None:
    import threading

    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert parallel.workers(4, 4) == 0
    finally:
        stop.set()
        other.join()
    assert parallel.workers(4, 4) == 3
