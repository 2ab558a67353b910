"""The vector-Jacobian products of :func:`reference.max_pool` and :func:`reference.avg_pool`."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from reference._validate import check_array
from reference.padding import WindowGeometry
from reference.pool import avg_divisor, pool_geometry
from reference.windows import (
    add_slab_to_input,
    padded_slab,
    slab_regions,
    slabs,
    sliding_windows,
)

_F64 = np.dtype(np.float64)

_VJP_ARGS_DOC = """
    x, kernel_size, stride, padding, dilation, ceil_mode
        As for the forward pooling, with the same checks and errors.
    dy : array_like, shape (N, C, *out)
        The gradient with respect to the output: exactly the forward's output shape.
"""


def _check_dy(dy: Any, x: np.ndarray, geo: WindowGeometry) -> np.ndarray:
    dy = check_array(dy, "dy")
    expected = (*x.shape[:2], *geo.out)
    if dy.shape != expected:
        raise ValueError(f"dy must have the forward's output shape (N, C, *out) = "
                         f"{expected}, got shape {dy.shape}")
    return dy


def _first_input_tap(geo: WindowGeometry, in_sizes: tuple[int, ...], first_row: int,
                     out: tuple[int, ...]) -> np.ndarray:
    """Row-major number of each window's first tap on an input cell (not padding), for the
    ``out`` windows of a slab starting at padded row ``first_row``; broadcastable to
    ``out``. The input cells of a window form a box, so its first tap is the first one
    along every dimension; :func:`reference.pool.pool_geometry` guarantees there is one."""
    number: np.ndarray | int = 0
    for axis, (o, k) in enumerate(zip(out, geo.kernel, strict=True)):
        lo, _ = geo.pads[axis]
        start = (first_row if axis == 0 else 0) + np.arange(o) * geo.stride[axis] - lo
        first = np.maximum(0, -(start // geo.dilation[axis]))  # ceil(-start / d), >= 0
        assert (start + first * geo.dilation[axis] < in_sizes[axis]).all()
        number = number * k + first.reshape((o,) + (1,) * (len(out) - 1 - axis))
    return np.asarray(number)


def _argmax_taps(xp: np.ndarray, geo: WindowGeometry, out: tuple[int, ...],
                 first_tap: np.ndarray, fill: float | int) -> np.ndarray:
    """Row-major number of the tap each window of the padded slab ``xp`` routes to: its
    first NaN, else its first maximum; ``first_tap`` where no input cell beats the
    padding's ``fill`` (padding equals ``fill`` and is never strictly greater)."""
    windows = sliding_windows(xp, geo.kernel, geo.stride, geo.dilation, out)
    arg, best = _first_maxima(windows, geo, first_tap, fill, nan=False)
    if xp.dtype.kind not in "iu" and np.isnan(best).any():
        # a maximum is NaN exactly where its window holds NaN: go again, NaN first
        arg, best = _first_maxima(windows, geo, first_tap, fill, nan=True)
    return arg


def _first_maxima(windows: np.ndarray, geo: WindowGeometry, first_tap: np.ndarray,
                  fill: float | int, nan: bool) -> tuple[np.ndarray, np.ndarray]:
    """The taps of :func:`_argmax_taps` (NaN first only if ``nan``), and the maxima."""
    shape = windows.shape[:windows.ndim - len(geo.kernel)]
    best = np.full(shape, fill, dtype=windows.dtype)
    arg = np.empty(shape, dtype=np.min_scalar_type(math.prod(geo.kernel) - 1))
    arg[...] = first_tap
    better = np.empty(shape, dtype=bool)
    numbered = np.empty(shape, dtype=arg.dtype)
    for number, j in enumerate(np.ndindex(*geo.kernel)):
        tap = windows[(..., *j)]
        np.greater(tap, best, out=better)  # strictly: ties keep the first
        if nan:  # the first NaN wins, and stays
            better |= np.isnan(tap) & ~np.isnan(best)
        # taps come in increasing number, and none before a window's first input tap is
        # ever better: the last better tap is the largest number
        np.multiply(better, arg.dtype.type(number), out=numbered)
        np.maximum(arg, numbered, out=arg)
        np.maximum(best, tap, out=best)
    return arg, best


def _scatter_to_taps(arg: np.ndarray, dy: np.ndarray, geo: WindowGeometry,
                     part_shape: tuple[int, ...]) -> np.ndarray:
    """A float64 array of ``part_shape`` (a padded slab) holding the sum of the ``dy`` of
    every window at the cell of its tap ``arg``."""
    nd = len(geo.kernel)
    cell = [math.prod(part_shape[i + 1:]) for i in range(len(part_shape))]  # C order
    offsets = np.zeros(geo.kernel, dtype=np.intp)
    for axis in range(nd):
        along = np.arange(geo.kernel[axis]) * geo.dilation[axis] * cell[2 + axis]
        offsets += along.reshape((-1,) + (1,) * (nd - 1 - axis))
    # the first cell of every window: its batch item and channel, then its place
    origins: np.ndarray | int = 0
    for axis, size in enumerate(arg.shape[2:]):
        along = np.arange(size) * geo.stride[axis] * cell[2 + axis]
        origins = np.add.outer(origins, along)
    index = offsets.reshape(-1)[arg].reshape(arg.shape[0] * arg.shape[1], -1)
    index += (np.arange(index.shape[0]) * cell[1])[:, np.newaxis]  # (N, C) with C-order
    index += np.reshape(origins, (1, -1))
    weights = np.asarray(dy, dtype=_F64).reshape(-1)
    return np.bincount(index.reshape(-1), weights=weights,
                       minlength=math.prod(part_shape)).reshape(part_shape)


def max_pool_vjp(
    x: Any,
    dy: Any,
    kernel_size: Any,
    *,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
) -> np.ndarray:
    """Gradient of ``sum(max_pool(x, ...) * dy)`` with respect to ``x``.

    Each output's gradient ``dy[n, c, *p]`` goes, whole, to the one input cell whose value
    the forward returned for window ``p``; every other cell of the window gets nothing.
    Gradients of overlapping windows that pick the same cell add up.

    Which cell, when several could be it:

    - Ties: the FIRST cell holding the maximum, in the window's row-major tap order
      (the last spatial dimension varying fastest), as PyTorch and ``np.argmax`` pick.
    - NaN: a window holding NaN returns NaN, and sends its gradient to its first NaN in
      the same order.
    - Padding absorbs nothing: it never wins in the forward. A window whose input cells
      are all ``-inf`` sends its gradient to the first of them.

    Parameters
    ----------""" + _VJP_ARGS_DOC + """
    Returns
    -------
    numpy.ndarray, float64, shape of ``x``

    Raises
    ------
    ValueError, TypeError
        For bad input as :func:`reference.max_pool` raises them, and when ``dy`` does not
        have the forward's output shape.
    """
    x, geo = pool_geometry(x, kernel_size, stride=stride, padding=padding, dilation=dilation,
                           ceil_mode=ceil_mode)
    dy = _check_dy(dy, x, geo)
    n, c, *in_sizes = x.shape
    fill = np.iinfo(x.dtype).min if x.dtype.kind in "iu" else -np.inf
    dx = np.zeros(x.shape, dtype=_F64)
    rest_out = math.prod(geo.out[1:])
    # per output row: the padded input and its gradient; per window, the maxima and tap
    # numbers of two passes (the second where NaN is found), masks, the scatter's indices
    # and weights
    bytes_per_row = (c * math.prod(geo.padded[1:]) * geo.stride[0] * (x.dtype.itemsize + 8)
                     + c * rest_out * (2 * (x.dtype.itemsize + 2) + 3 + 8 + 8))
    for slab in slabs(n, geo.out, bytes_per_row):
        out = (slab.rows.stop - slab.rows.start, *geo.out[1:])
        first_row = slab.rows.start * geo.stride[0]
        xp = padded_slab(x, geo.pads, geo.padded, slab, geo.kernel, geo.stride, geo.dilation,
                         fill, x.dtype)
        arg = _argmax_taps(xp, geo, out, _first_input_tap(geo, tuple(in_sizes), first_row,
                                                          out), fill)
        del xp
        part = _scatter_to_taps(arg, dy[slab.batch, :, slab.rows], geo,
                                slab_regions(x.shape, geo.pads, geo.padded, slab, geo.kernel,
                                             geo.stride, geo.dilation)[0])
        del arg
        add_slab_to_input(dx, part, geo.pads, geo.padded, slab, geo.kernel, geo.stride,
                          geo.dilation)
        del part  # free this slab's temporaries before the next is built
    return dx


def avg_pool_vjp(
    x: Any,
    dy: Any,
    kernel_size: Any,
    *,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> np.ndarray:
    """Gradient of ``sum(avg_pool(x, ...) * dy)`` with respect to ``x``.

    Each output's gradient divided by the forward's divisor goes to every input cell of
    its window: ``dx[n, c, *i] = sum over windows p holding cell i of dy[n, c, *p] /
    divisor[p]``. Padding cells absorb their share and are dropped (they are not input).

    Parameters
    ----------""" + _VJP_ARGS_DOC + """    count_include_pad : bool, default True
        The forward's divisor rule (see :func:`reference.avg_pool`): with True, the
        window's cells in the input or the explicit padding; with False, those in the
        input. Cells that only ceil mode adds never count.

    Returns
    -------
    numpy.ndarray, float64, shape of ``x``

    Raises
    ------
    ValueError, TypeError
        For bad input as :func:`reference.avg_pool` raises them, and when ``dy`` does not
        have the forward's output shape.
    """
    x, geo = pool_geometry(x, kernel_size, stride=stride, padding=padding, dilation=dilation,
                           ceil_mode=ceil_mode, count_include_pad=count_include_pad)
    dy = _check_dy(dy, x, geo)
    n, c = x.shape[:2]
    divisor = avg_divisor(geo, x.shape[2:], bool(count_include_pad))
    dx = np.zeros(x.shape, dtype=_F64)
    nd = len(geo.out)
    # per output row: dy / divisor, the result of every pass but the last, the padded
    # gradient
    passes = [math.prod((*geo.out[1:axis], *geo.padded[axis:])) for axis in range(1, nd)]
    bytes_per_row = 8 * c * (math.prod(geo.out[1:]) + sum(passes)
                             + math.prod(geo.padded[1:]) * geo.stride[0])
    for slab in slabs(n, geo.out, bytes_per_row):
        share = np.divide(dy[slab.batch, :, slab.rows], divisor[slab.rows], dtype=_F64)
        part = _spread_windows(share, geo, slab_regions(
            x.shape, geo.pads, geo.padded, slab, geo.kernel, geo.stride, geo.dilation)[0])
        add_slab_to_input(dx, part, geo.pads, geo.padded, slab, geo.kernel, geo.stride,
                          geo.dilation)
        del share, part  # free this slab's temporaries
    return dx


def _spread_windows(share: np.ndarray, geo: WindowGeometry, part_shape: tuple[int, ...]
                    ) -> np.ndarray:
    """Add every window's ``share`` to each of its cells: the transpose of the box sum,
    separable like it, so one spatial dimension at a time (the last first), each in
    ``kernel`` strided additions. The result has ``part_shape``, a padded slab."""
    spread = share
    for axis in reversed(range(len(geo.kernel))):
        at = 2 + axis
        wider = np.zeros((*spread.shape[:at], part_shape[at], *spread.shape[at + 1:]))
        o, s, d = spread.shape[at], geo.stride[axis], geo.dilation[axis]
        for t in range(geo.kernel[axis]):
            wider[(slice(None),) * at + (slice(t * d, t * d + (o - 1) * s + 1, s),)] += spread
        spread = wider
    return spread
