"""The oracle's threads: independent slabs of one call run side by side.

NumPy releases the GIL inside its loops, so slabs that write disjoint parts of the result
run in parallel on a pool of threads, one slab per thread at a time. Every output is
computed by the same operations in the same order whatever the threads, so the result is
the same, bit for bit, with one thread or many. The memory budget bounds the temporaries
of all the slabs in flight together (:func:`reference.windows.plane_slabs` divides it).

The gain needs large operations: each NumPy call releases the GIL and takes it back, and
two threads making calls of a few microseconds spend more time handing it over than
computing (the poolings' slabs are sized for it).

The convolution's slabs are not run here: their matrix products already use every core
(NumPy's BLAS), and two products at once would contend for them. Nor are the copies
around them (im2col, col2im) split among threads: after a product, BLAS's own threads
keep spinning on the cores for a while, waiting for the next one, and a copy split in
two ran no faster (measured on 8×256×14×14).
"""

from __future__ import annotations

import concurrent.futures
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from reference._settings import Count, scoped

T = TypeVar("T")


def _available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


_threads = Count("count", _available_cpus())
_pool: concurrent.futures.ThreadPoolExecutor | None = None
_pool_workers = 0
_pool_lock = threading.Lock()


def _forget_pool() -> None:
    """In a child process made by ``fork``: the parent's pool threads do not exist there,
    so the child starts its own pool when it needs one."""
    global _pool, _pool_workers, _pool_lock
    _pool, _pool_workers, _pool_lock = None, 0, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def get_threads() -> int:
    """Threads one call may run its slabs on (default: the CPUs this process may use)."""
    return _threads.value


def set_threads(count: int) -> int:
    """Set the number of threads; returns the previous one. 1 runs every slab in the
    calling thread.

    Raises
    ------
    ValueError
        If ``count`` is below 1.
    """
    return _threads.set(count)


threads = scoped(set_threads, """Context manager: run slabs on ``count`` threads inside
the block.""")


def _executor(workers: int) -> concurrent.futures.ThreadPoolExecutor:
    global _pool, _pool_workers
    with _pool_lock:
        if _pool is None or _pool_workers != workers:
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool = concurrent.futures.ThreadPoolExecutor(workers, _THREAD_PREFIX)
            _pool_workers = workers
        return _pool


_THREAD_PREFIX = "reference-slab"


def run_each(work: Callable[[T], object], tasks: Iterable[T]) -> None:
    """Call ``work`` on every task, on up to :func:`get_threads` threads at once.

    The tasks must write disjoint memory. They are cut into one run of consecutive tasks
    per thread, the calling thread taking the first: neighbouring slabs stay on one core,
    and the threads meet once, at the end (handing out tasks one at a time costs more
    than it balances). An exception a task raises ends its run and is raised here once
    every run has ended. Called from one of the pool's own threads, it runs every task
    in that thread.
    """
    count = 1 if threading.current_thread().name.startswith(_THREAD_PREFIX) else _threads.value
    if count > 1:
        tasks = list(tasks)
        count = min(count, len(tasks))
    if count <= 1:
        for task in tasks:
            work(task)
        return
    runs = [tasks[i * len(tasks) // count:(i + 1) * len(tasks) // count]
            for i in range(count)]
    futures = [_executor(count - 1).submit(_run_all, work, run) for run in runs[1:]]
    try:
        _run_all(work, runs[0])
    finally:
        concurrent.futures.wait(futures)
    for future in futures:
        future.result()


def _run_all(work: Callable[[T], object], tasks: list[T]) -> None:
    for task in tasks:
        work(task)


def by_plane(slabs: Iterable[T], plane: Callable[[T], object]) -> Iterator[list[T]]:
    """Consecutive ``slabs`` of the same ``plane(slab)`` grouped in one task, in order:
    for work whose slabs of one plane add into the same cells."""
    group: list[T] = []
    for slab in slabs:
        if group and plane(slab) != plane(group[-1]):
            yield group
            group = []
        group.append(slab)
    if group:
        yield group
