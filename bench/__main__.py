"""``python -m bench``: time the oracle against PyTorch float64 on CPU, print a Markdown table.

Per case: the oracle's time and torch's (medians of repeats, torch on float64 tensors with
``torch.set_num_threads(2)``, conversion from NumPy excluded), their ratio, the oracle's
GFLOP/s as a fraction of the machine's float64 matmul rate (NumPy's BLAS, measured once
at start, with torch's own rate on the same matrices beside it in the header), the
oracle's peak temporary memory (tracemalloc peak of one call minus its output; NumPy
reports its allocations to tracemalloc) and the largest relative difference to torch.
The geometric mean of the time ratio over the layer shapes closes the table (the tiny
cases, where per-call overhead dominates, are listed but not in the mean).

A second table does the same for the backward passes: one call of ``conv_vjp`` (dx, dw and
db) against one ``torch.autograd.grad`` of the output with respect to x and w for the same
``dy`` (the graph is built once, outside the timing), and ``max_pool_vjp`` /
``avg_pool_vjp`` against the gradient with respect to x. The oracle's VJP starts from
``x`` and ``dy`` only: max pooling recomputes its maxima, where torch's backward reads the
indices its forward saved. Backward GFLOP/s count both products of the convolution (twice
the forward) and one operation per window tap for pooling.

Options: ``--quick`` (fewer repeats), ``--threads N`` (torch threads, default 2),
``--rounds N`` (time each case in N rounds, the oracle's repeats then torch's, and report
the median of the rounds: on a shared machine a burst of load then spoils one round of
one side, not the table).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import reference

MiB = 2**20


@dataclass
class Case:
    """One benchmark case: an op, its input shapes and parameters."""

    name: str
    op: str  # conv | max_pool | avg_pool
    x_shape: tuple[int, ...]
    w_shape: tuple[int, ...] | None = None
    kernel_size: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    tiny: bool = False


CASES = [
    Case("conv 8×64×56×56 k3 p1 (O=64)", "conv", (8, 64, 56, 56), (64, 64, 3, 3),
         params={"padding": 1}),
    Case("conv 4×3×224×224 k7 s2 p3 (O=64)", "conv", (4, 3, 224, 224), (64, 3, 7, 7),
         params={"stride": 2, "padding": 3}),
    Case("conv 8×256×14×14 k3 p1 (O=256)", "conv", (8, 256, 14, 14), (256, 256, 3, 3),
         params={"padding": 1}),
    Case("conv3d 8×32×16×32×32 k3 p1 (O=32)", "conv", (8, 32, 16, 32, 32), (32, 32, 3, 3, 3),
         params={"padding": 1}),
    Case("max_pool 8×64×112×112 k3 s2 p1", "max_pool", (8, 64, 112, 112), kernel_size=3,
         params={"stride": 2, "padding": 1}),
    Case("avg_pool 8×64×112×112 k3 s2 p1", "avg_pool", (8, 64, 112, 112), kernel_size=3,
         params={"stride": 2, "padding": 1}),
    Case("tiny conv 1×2×5×5 k3 p1 (O=2)", "conv", (1, 2, 5, 5), (2, 2, 3, 3),
         params={"padding": 1}, tiny=True),
    Case("tiny max_pool 1×2×5×5 k2", "max_pool", (1, 2, 5, 5), kernel_size=2, tiny=True),
    Case("tiny avg_pool 1×2×5×5 k3 s1 p1", "avg_pool", (1, 2, 5, 5), kernel_size=3,
         params={"stride": 1, "padding": 1}, tiny=True),
]


def median_time(call: Callable[[], Any], min_total: float, max_repeats: int) -> float:
    """Median wall time of ``call`` after one warm-up, repeated until ``min_total`` seconds
    have passed (at least 3 and at most ``max_repeats`` runs)."""
    call()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < 3 or (time.perf_counter() - start < min_total
                             and len(times) < max_repeats):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def matmul_gflops(quick: bool) -> tuple[float, float]:
    """The machine's float64 matmul rate in GFLOP/s on the same square 1536 matrices:
    NumPy's BLAS, then torch's (with the threads the benchmark gives torch)."""
    import torch

    n = 1536
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    min_total = 0.5 if quick else 2.0
    t_numpy = median_time(lambda: a @ b, min_total, 20)
    t_torch = median_time(lambda: ta @ tb, min_total, 20)
    return 2 * n**3 / t_numpy / 1e9, 2 * n**3 / t_torch / 1e9


def flops(case: Case, out_shape: tuple[int, ...]) -> float:
    """Multiply-adds count 2 for conv; one operation per window tap for pooling."""
    out = math.prod(out_shape)
    if case.op == "conv":
        assert case.w_shape is not None
        return 2.0 * out * math.prod(case.w_shape[1:])
    nd = len(case.x_shape) - 2
    return float(out) * (case.kernel_size or 1) ** nd


def oracle_call(case: Case, x: np.ndarray, w: np.ndarray | None) -> Callable[[], np.ndarray]:
    if case.op == "conv":
        return lambda: reference.conv(x, w, **case.params)
    op = reference.max_pool if case.op == "max_pool" else reference.avg_pool
    return lambda: op(x, case.kernel_size, **case.params)


def torch_call(case: Case, x: np.ndarray, w: np.ndarray | None) -> Callable[[], Any]:
    import torch

    tx = torch.from_numpy(x)
    tw = None if w is None else torch.from_numpy(w)
    return lambda: _torch_forward(case, tx, tw)


def oracle_vjp_call(case: Case, x: np.ndarray, w: np.ndarray | None, dy: np.ndarray
                    ) -> Callable[[], tuple[np.ndarray, ...]]:
    if case.op == "conv":
        return lambda: reference.conv_vjp(x, w, dy, **case.params)
    op = reference.max_pool_vjp if case.op == "max_pool" else reference.avg_pool_vjp
    return lambda: (op(x, dy, case.kernel_size, **case.params),)


def torch_vjp_call(case: Case, x: np.ndarray, w: np.ndarray | None, dy: np.ndarray
                   ) -> Callable[[], tuple[Any, ...]]:
    """One backward through the graph of one forward (built here, not timed)."""
    import torch

    tx = torch.from_numpy(x).requires_grad_()
    inputs = [tx]
    if w is not None:
        inputs.append(torch.from_numpy(w).requires_grad_())
    ty = _torch_forward(case, *inputs)
    tdy = torch.from_numpy(dy)
    return lambda: torch.autograd.grad(ty, inputs, tdy, retain_graph=True)


def _torch_forward(case: Case, tx: Any, tw: Any = None) -> Any:
    import torch.nn.functional as F

    nd = tx.dim() - 2
    if case.op == "conv":
        return {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[nd](tx, tw, **case.params)
    pool = {("max_pool", 2): F.max_pool2d, ("max_pool", 3): F.max_pool3d,
            ("avg_pool", 2): F.avg_pool2d, ("avg_pool", 3): F.avg_pool3d}[(case.op, nd)]
    return pool(tx, case.kernel_size, **case.params)


def peak_temporary(call: Callable[[], Any]) -> int:
    """tracemalloc peak of one call minus its result's size (one array or a tuple)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        y = call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - sum(a.nbytes for a in (y if isinstance(y, tuple) else (y,)))


def rel_diff(ours: tuple[np.ndarray, ...], theirs: tuple[np.ndarray, ...]) -> float:
    """Largest difference relative to the largest magnitude, over paired results."""
    assert len(ours) >= len(theirs)
    worst = 0.0
    for a, b in zip(ours, theirs, strict=False):
        assert a.shape == b.shape, (a.shape, b.shape)
        worst = max(worst, float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300)))
    return worst


def as_tuple(result: Any) -> tuple[Any, ...]:
    return result if isinstance(result, tuple) else (result,)


def fmt_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="rounds per case, median reported (default 1)")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    rate, torch_rate = matmul_gflops(args.quick)
    min_total, max_repeats = (0.3, 5) if args.quick else (2.0, 15)

    print(f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, NumPy {np.__version__}, torch {torch.__version__} "
          f"(torch.set_num_threads({args.threads})), float64 throughout.")
    print(f"Measured float64 matmul (1536²): NumPy's BLAS {rate:.1f} GFLOP/s, torch "
          f"{torch_rate:.1f} GFLOP/s. "
          f"Times are medians of repeats (median of {args.rounds} round(s)); "
          f"ratio = oracle / torch (< 1: oracle faster).\n")
    rng = np.random.default_rng(0)
    data = []
    for case in CASES:
        x = rng.standard_normal(case.x_shape)
        w = None if case.w_shape is None else rng.standard_normal(case.w_shape)
        data.append((case, x, w))

    def timed(ours: Callable[[], Any], theirs: Callable[[], Any], tiny: bool
              ) -> tuple[float, float]:
        repeats = 1000 if tiny else max_repeats
        rounds = [(median_time(ours, min_total, repeats), median_time(theirs, min_total, repeats))
                  for _ in range(args.rounds)]
        return (statistics.median(t for t, _ in rounds),
                statistics.median(t for _, t in rounds))

    def table(title: str, rows: Callable[[Case, np.ndarray, np.ndarray | None],
                                          tuple[Callable[[], Any], Callable[[], Any], float]]
              ) -> None:
        print(f"{title}\n")
        print("| case | oracle | torch f64 | ratio | oracle GFLOP/s (% of matmul) "
              "| peak temp. memory | max rel. diff |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        ratios = []
        for case, x, w in data:
            ours, theirs, work = rows(case, x, w)
            diff = rel_diff(as_tuple(ours()), tuple(t.numpy() for t in as_tuple(theirs())))
            t_ours, t_torch = timed(ours, theirs, case.tiny)
            ratio = t_ours / t_torch
            if not case.tiny:
                ratios.append(ratio)
            gf = work / t_ours / 1e9
            temp = peak_temporary(ours)
            print(f"| {case.name} | {fmt_time(t_ours)} | {fmt_time(t_torch)} | {ratio:.2f} "
                  f"| {gf:.1f} ({100 * gf / rate:.0f}%) | {temp / MiB:.1f} MiB | {diff:.1e} |",
                  flush=True)
        geomean = math.exp(statistics.fmean(math.log(r) for r in ratios))
        print(f"\nGeometric-mean time ratio oracle / torch float64 over the {len(ratios)} "
              f"layer shapes: **{geomean:.2f}**.\n", flush=True)

    def forward(case: Case, x: np.ndarray, w: np.ndarray | None
                ) -> tuple[Callable[[], Any], Callable[[], Any], float]:
        ours = oracle_call(case, x, w)
        return ours, torch_call(case, x, w), flops(case, ours().shape)

    def backward(case: Case, x: np.ndarray, w: np.ndarray | None
                 ) -> tuple[Callable[[], Any], Callable[[], Any], float]:
        y = oracle_call(case, x, w)()
        dy = np.random.default_rng(1).standard_normal(y.shape)
        work = flops(case, y.shape) * (2 if case.op == "conv" else 1)
        return oracle_vjp_call(case, x, w, dy), torch_vjp_call(case, x, w, dy), work

    table("Forward:", forward)
    table("Backward (x and dy to dx; for conv also dw, db):", backward)
    print(f"Memory budget: {reference.get_memory_budget() / MiB:.0f} MiB.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
