"""The oracle's threads: the same result, bit for bit, whatever their number."""

from __future__ import annotations

import multiprocessing
import sys
import threading

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import reference
from reference import parallel
from tests.reference.strategies import PoolCase, pool_cases

MiB = 2**20


def test_threads_api() -> None:
    before = parallel.get_threads()
    assert before >= 1
    with parallel.threads(3):
        assert parallel.get_threads() == 3
        assert parallel.set_threads(1) == 3
        assert parallel.get_threads() == 1
    assert parallel.get_threads() == before
    with pytest.raises(ValueError, match="count"):
        parallel.set_threads(0)
    with pytest.raises(TypeError):
        parallel.set_threads(1.5)  # type: ignore[arg-type]


def test_run_each_calls_every_task_once_on_several_threads() -> None:
    seen: dict[int, str] = {}
    gate = threading.Barrier(2, timeout=10)

    def work(task: int) -> None:
        if task in (0, 50):  # the first task of each run: both runs are under way at once
            gate.wait()
        seen[task] = threading.current_thread().name

    with parallel.threads(2):
        parallel.run_each(work, range(100))
    assert sorted(seen) == list(range(100))
    assert len(set(seen.values())) == 2


def test_run_each_raises_a_tasks_exception_after_every_run_ended() -> None:
    done: list[int] = []

    def work(task: int) -> None:
        if task == 7:
            raise KeyError("task 7")
        done.append(task)

    with parallel.threads(2), pytest.raises(KeyError, match="task 7"):
        parallel.run_each(work, range(20))
    # the other run (tasks 10-19) ended; the failing one stopped at its task 7
    assert set(range(10, 20)) <= set(done)
    assert not set(range(8, 10)) & set(done)


def test_run_each_inside_a_task_runs_inline() -> None:
    inner: list[str] = []

    def work(task: int) -> None:
        parallel.run_each(lambda _: inner.append(threading.current_thread().name), range(3))

    with parallel.threads(2):
        parallel.run_each(work, range(2))
    assert len(inner) == 6


def test_by_plane_groups_consecutive_slabs_of_one_plane() -> None:
    assert list(parallel.by_plane([1, 1, 2, 3, 3, 3, 1], lambda s: s)) == [
        [1, 1], [2], [3, 3, 3], [1]]
    assert list(parallel.by_plane([], lambda s: s)) == []


def _poolings(x: np.ndarray, dy: np.ndarray, kernel: object, params: dict) -> list:
    return [reference.max_pool(x, kernel, **params), reference.avg_pool(x, kernel, **params),
            reference.max_pool_vjp(x, dy, kernel, **params),
            reference.avg_pool_vjp(x, dy, kernel, **params)]


def test_large_poolings_are_identical_on_one_and_two_threads() -> None:
    """Real floats, ties and NaN, many slabs: each output sees the same operations in the
    same order on any thread."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 24, 70, 66))
    x[:, :, ::7, ::5] = np.round(x[:, :, ::7, ::5])  # ties
    x[1, 3, 10:13, 20] = np.nan
    params = {"stride": 2, "padding": 1, "ceil_mode": True}
    dy = rng.standard_normal(reference.max_pool(x, 3, **params).shape)
    with parallel.threads(1):
        expected = _poolings(x, dy, 3, params)
    for count in (2, 3):
        with parallel.threads(count):
            for got, want in zip(_poolings(x, dy, 3, params), expected, strict=True):
                np.testing.assert_array_equal(got, want)


@given(pool_cases(), st.sampled_from([1, 4096, 64 * 2**10]), st.sampled_from([2, 3]))
def test_threads_give_what_their_share_of_the_budget_gives_one(
        case: PoolCase, budget: int, count: int) -> None:
    """Every thread holds one slab, so the slabs of ``count`` threads under ``budget`` are
    those of one thread under ``budget // count``: the same result, bit for bit."""
    x = np.asarray(case.x, dtype=np.float64) + 0.25  # not integers: rounding happens
    dy = np.random.default_rng(0).standard_normal(
        reference.max_pool(x, case.kernel_size, **case.params).shape)
    with parallel.threads(1), reference.memory_budget(max(1, budget // count)):
        expected = _poolings(x, dy, case.kernel_size, case.params)
    with parallel.threads(count), reference.memory_budget(budget):
        got = _poolings(x, dy, case.kernel_size, case.params)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_array_equal(g, e)


def _pool_in_child(queue: multiprocessing.Queue) -> None:
    with parallel.threads(2):
        seen: list[int] = []
        parallel.run_each(seen.append, range(10))
    queue.put(sorted(seen))


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
def test_a_forked_child_runs_slabs_on_its_own_pool() -> None:
    with parallel.threads(2):  # the parent's pool exists before the fork
        parallel.run_each(lambda _: None, range(4))
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_pool_in_child, args=(queue,))
    child.start()
    child.join(timeout=60)
    if child.is_alive():
        child.kill()
        pytest.fail("the forked child hung waiting for its parent's pool threads")
    assert queue.get(timeout=5) == list(range(10))
