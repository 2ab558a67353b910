"""Independent slow definitions of the three VJPs, for testing the oracle's backward pass.

Built on :mod:`tests.reference.direct` (nothing here imports :mod:`reference`): every output
position is visited, and every kernel tap of its window that lands on an input cell sends
its share of the output's gradient to that cell (and, for the convolution, to the weight
tap). Ties and NaN follow the rule the oracle documents: the first maximum, or the first
NaN, in the window's row-major tap order.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from tests.reference.direct import _geometry, _taps, expand


def conv_vjp(x: np.ndarray, w: np.ndarray, dy: np.ndarray, *, stride: Any = 1,
             padding: Any = 0, dilation: Any = 1, groups: int = 1
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``dx``, ``dw``, ``db`` of ``sum(conv(x, w, b) * dy)`` by looping over the outputs."""
    n_batch, _, *in_sizes = x.shape
    o_count, cg, *kernel = w.shape
    pads, starts, _, d = _geometry(in_sizes, kernel, stride, padding, dilation, False)
    out = tuple(len(st) for st in starts)
    og = o_count // groups
    dx, dw = np.zeros(x.shape), np.zeros(w.shape)
    db = np.zeros(o_count)
    for p in itertools.product(*(range(m) for m in out)):
        taps = _taps(starts, p, kernel, d, pads, in_sizes)
        for n in range(n_batch):
            for o in range(o_count):
                g, grad = o // og, float(dy[(n, o, *p)])
                db[o] += grad
                for ci in range(cg):
                    for j, src, _ in taps:
                        if src is not None:
                            dx[(n, g * cg + ci, *src)] += grad * float(w[(o, ci, *j)])
                            dw[(o, ci, *j)] += grad * float(x[(n, g * cg + ci, *src)])
    return dx, dw, db


def _pool_vjp(x: np.ndarray, dy: np.ndarray, kernel_size: Any, stride: Any, padding: Any,
              dilation: Any, ceil_mode: bool, route: Any) -> np.ndarray:
    n_batch, c, *in_sizes = x.shape
    kernel = expand(kernel_size, len(in_sizes))
    pads, starts, _, d = _geometry(in_sizes, kernel, kernel if stride is None else stride,
                                   padding, dilation, ceil_mode)
    out = tuple(len(st) for st in starts)
    assert dy.shape == (n_batch, c, *out)
    dx = np.zeros(x.shape)
    for p in itertools.product(*(range(m) for m in out)):
        taps = _taps(starts, p, kernel, d, pads, in_sizes)
        for n in range(n_batch):
            for ch in range(c):
                for src, share in route(x[n, ch], taps, float(dy[(n, ch, *p)])):
                    dx[(n, ch, *src)] += share
    return dx


def max_pool_vjp(x: np.ndarray, dy: np.ndarray, kernel_size: Any, *, stride: Any = None,
                 padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False) -> np.ndarray:
    """The whole gradient to the first NaN of the window, else to its first maximum."""

    def route(plane: np.ndarray, taps: list, grad: float) -> list:
        cells = [src for _, src, _ in taps if src is not None]
        values = [plane[src] for src in cells]
        nans = [i for i, v in enumerate(values) if v != v]
        best = nans[0] if nans else values.index(max(values))
        return [(cells[best], grad)]

    return _pool_vjp(x, dy, kernel_size, stride, padding, dilation, ceil_mode, route)


def avg_pool_vjp(x: np.ndarray, dy: np.ndarray, kernel_size: Any, *, stride: Any = None,
                 padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> np.ndarray:
    """``dy / divisor`` to every input cell of the window; the divisor counts the window's
    cells in the input (``count_include_pad=False``) or in the input or explicit padding."""

    def route(plane: np.ndarray, taps: list, grad: float) -> list:
        cells = [src for _, src, _ in taps if src is not None]
        divisor = (sum(1 for _, _, in_padded in taps if in_padded) if count_include_pad
                   else len(cells))
        return [(src, grad / divisor) for src in cells]

    return _pool_vjp(x, dy, kernel_size, stride, padding, dilation, ceil_mode, route)
