"""Independent direct-sum definitions of conv, max_pool and avg_pool, for testing the oracle.

Nothing here imports :mod:`reference`: padding is resolved from the specification's words,
the output positions are enumerated window by window (a window is kept while it fits in the
padded input; ceil mode adds one more window if cells are left uncovered, unless it would
start in the right padding), and every output is a plain sum or maximum over kernel taps
with an explicit "is this tap inside the input?" check. Slow on purpose: only for the
small cases the tests draw.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

Pair = tuple[int, int]


def expand(value: Any, ndim: int) -> tuple[int, ...]:
    """An int or a sequence of ints → one int per spatial dimension."""
    if isinstance(value, int):
        return (value,) * ndim
    return tuple(int(v) for v in value)


def pads_of(padding: Any, in_sizes: Sequence[int], kernel: Sequence[int],
            stride: Sequence[int], dilation: Sequence[int]) -> list[Pair]:
    """``(lo, hi)`` per dimension, from the padding specification's definition."""
    ndim = len(in_sizes)
    if isinstance(padding, str):
        pads = []
        for n, k, s, d in zip(in_sizes, kernel, stride, dilation, strict=True):
            if padding == "valid":
                pads.append((0, 0))
                continue
            out = math.ceil(n / s)
            total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
            small, big = total // 2, total - total // 2
            pads.append((small, big) if padding == "same" else (big, small))
        return pads
    if isinstance(padding, int):
        return [(padding, padding)] * ndim
    return [(p, p) if isinstance(p, int) else (int(p[0]), int(p[1])) for p in padding]


def window_starts(n: int, k: int, s: int, d: int, lo: int, hi: int,
                  ceil_mode: bool = False) -> list[int]:
    """Start of every window along one dimension, in padded coordinates."""
    padded = n + lo + hi
    starts = []
    p = 0
    while p * s + (k - 1) * d <= padded - 1:
        starts.append(p * s)
        p += 1
    if ceil_mode and starts and starts[-1] + (k - 1) * d < padded - 1 and p * s < n + lo:
        starts.append(p * s)
    return starts


def _geometry(in_sizes: Sequence[int], kernel: Sequence[int], stride: Any, padding: Any,
              dilation: Any, ceil_mode: bool) -> tuple[list[Pair], list[list[int]],
                                                       tuple[int, ...], tuple[int, ...]]:
    ndim = len(in_sizes)
    s, d = expand(stride, ndim), expand(dilation, ndim)
    pads = pads_of(padding, in_sizes, kernel, s, d)
    starts = [window_starts(n, k, si, di, lo, hi, ceil_mode)
              for n, k, si, di, (lo, hi) in zip(in_sizes, kernel, s, d, pads, strict=True)]
    return pads, starts, s, d


def output_shape(in_sizes: Sequence[int], kernel: Sequence[int], stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False
                 ) -> tuple[int, ...]:
    """Spatial output sizes by counting windows."""
    _, starts, _, _ = _geometry(in_sizes, kernel, stride, padding, dilation, ceil_mode)
    return tuple(len(st) for st in starts)


def _taps(starts: Sequence[Sequence[int]], out_index: Sequence[int], kernel: Sequence[int],
          dilation: Sequence[int], pads: Sequence[Pair], in_sizes: Sequence[int]
          ) -> list[tuple[tuple[int, ...], tuple[int, ...] | None, bool]]:
    """For one output position: each kernel tap, its input index (None if outside the
    input) and whether it lies in the input or the explicit padding."""
    taps = []
    for j in itertools.product(*(range(k) for k in kernel)):
        src: list[int] | None = []
        in_padded = True
        for axis, (ji, oi) in enumerate(zip(j, out_index, strict=True)):
            lo, hi = pads[axis]
            pos = starts[axis][oi] + ji * dilation[axis]  # padded coordinate
            n = in_sizes[axis]
            if not 0 <= pos < lo + n + hi:
                in_padded = False
            if src is not None and lo <= pos < lo + n:
                src.append(pos - lo)
            else:
                src = None
        taps.append((j, None if src is None else tuple(src), in_padded))
    return taps


def conv(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, *, stride: Any = 1,
         padding: Any = 0, dilation: Any = 1, groups: int = 1) -> np.ndarray:
    """``y[n, o, *p] = b[o] + sum over c, taps of x[n, g*Cg + c, tap] * w[o, c, *j]``, taps
    outside the input contributing zero."""
    x, w = np.asarray(x), np.asarray(w)
    n_batch, _, *in_sizes = x.shape
    o_count, cg, *kernel = w.shape
    pads, starts, _, d = _geometry(in_sizes, kernel, stride, padding, dilation, False)
    out = tuple(len(st) for st in starts)
    og = o_count // groups
    y = np.zeros((n_batch, o_count, *out), dtype=np.float64)
    for p in itertools.product(*(range(m) for m in out)):
        taps = _taps(starts, p, kernel, d, pads, in_sizes)
        for n in range(n_batch):
            for o in range(o_count):
                g = o // og
                acc = 0.0 if b is None else float(b[o])
                for ci in range(cg):
                    for j, src, _ in taps:
                        if src is not None:
                            acc += float(x[(n, g * cg + ci, *src)]) * float(w[(o, ci, *j)])
                y[(n, o, *p)] = acc
    return y


def _pool(x: np.ndarray, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
          ceil_mode: bool, reduce: Any) -> tuple[tuple[int, ...], dict]:
    x = np.asarray(x)
    n_batch, c, *in_sizes = x.shape
    kernel = expand(kernel_size, len(in_sizes))
    pads, starts, _, d = _geometry(in_sizes, kernel, kernel if stride is None else stride,
                                   padding, dilation, ceil_mode)
    out = tuple(len(st) for st in starts)
    results = {}
    for p in itertools.product(*(range(m) for m in out)):
        taps = _taps(starts, p, kernel, d, pads, in_sizes)
        for n in range(n_batch):
            for ch in range(c):
                results[(n, ch, *p)] = reduce(x[n, ch], taps)
    return out, results


def max_pool(x: np.ndarray, kernel_size: Any, *, stride: Any = None, padding: Any = 0,
             dilation: Any = 1, ceil_mode: bool = False) -> np.ndarray:
    """Maximum of the window's input cells (padding ignored); NaN if any of them is NaN."""
    x = np.asarray(x)

    def reduce(plane: np.ndarray, taps: list) -> Any:
        values = [plane[src] for _, src, _ in taps if src is not None]
        if any(v != v for v in values):
            return np.nan
        return max(values)

    out, results = _pool(x, kernel_size, stride, padding, dilation, ceil_mode, reduce)
    y = np.empty((*x.shape[:2], *out), dtype=x.dtype)
    for index, value in results.items():
        y[index] = value
    return y


def avg_pool(x: np.ndarray, kernel_size: Any, *, stride: Any = None, padding: Any = 0,
             dilation: Any = 1, ceil_mode: bool = False, count_include_pad: bool = True
             ) -> np.ndarray:
    """Sum of the window's input cells divided by the number of its cells in the input
    (``count_include_pad=False``) or in the input or explicit padding (True)."""
    x = np.asarray(x)

    def reduce(plane: np.ndarray, taps: list) -> float:
        total = sum(float(plane[src]) for _, src, _ in taps if src is not None)
        if count_include_pad:
            divisor = sum(1 for _, _, in_padded in taps if in_padded)
        else:
            divisor = sum(1 for _, src, _ in taps if src is not None)
        return total / divisor

    out, results = _pool(x, kernel_size, stride, padding, dilation, ceil_mode, reduce)
    y = np.empty((*x.shape[:2], *out), dtype=np.float64)
    for index, value in results.items():
        y[index] = value
    return y
