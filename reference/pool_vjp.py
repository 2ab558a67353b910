"""The vector-Jacobian products of :func:`reference.max_pool` and :func:`reference.avg_pool`."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from reference._validate import check_array
from reference.padding import WindowGeometry
from reference.pool import avg_divisor, pool_geometry
from reference.windows import Slab, input_taps, rows_read, slabs

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
    n, c = x.shape[:2]
    dx = np.empty(x.shape, dtype=_F64)  # each batch item zeroed by its first slab
    taps = math.prod(geo.kernel)
    tap_dtype = np.min_scalar_type(taps)
    # per output row, the larger of what the two stages hold at once: the input rows read,
    # split by phase, and per window its maximum, its tap (twice), a mask and the NaN
    # pass's three; then the gradient of those rows, and per window its tap, its cell and
    # dy in float64
    input_rows = c * math.prod(geo.padded[1:]) * geo.stride[0]
    windows = c * math.prod(geo.out[1:])
    bytes_per_row = max(
        input_rows * x.dtype.itemsize + windows * (x.dtype.itemsize + 2 * tap_dtype.itemsize
                                                   + 4),
        input_rows * 8 + windows * (tap_dtype.itemsize + 8 + 8))
    for slab in slabs(n, geo.out, bytes_per_row):
        arg = _first_maxima(x, geo, slab, tap_dtype)
        rows, cell = _routed_cells(arg, x.shape, geo, slab)
        del arg
        weights = np.asarray(dy[slab.batch, :, slab.rows], dtype=_F64).reshape(-1)
        part = np.bincount(cell.reshape(-1), weights=weights, minlength=math.prod(
            (slab.batch.stop - slab.batch.start, *x.shape[1:2], rows.stop - rows.start,
             *x.shape[3:])))
        del cell, weights
        into = dx[slab.batch, :, rows]
        if slab.rows == slice(0, geo.out[0]):  # whole batch items: nothing to add to
            into[...] = part.reshape(into.shape)
            dx[slab.batch, :, :rows.start] = 0  # rows no window reads
            dx[slab.batch, :, rows.stop:] = 0
        else:
            if slab.rows.start == 0:
                dx[slab.batch] = 0
            into += part.reshape(into.shape)
        del part  # free this slab's temporaries before the next is built
    return dx


def _first_maxima(x: np.ndarray, geo: WindowGeometry, slab: Slab, tap_dtype: np.dtype
                  ) -> np.ndarray:
    """Row-major number of the tap each window of ``slab`` routes to: its first NaN, else
    its first maximum; its first input cell where no cell beats the smallest value (all
    ``-inf``, say). Padding is no tap: it absorbs nothing.

    Taps are read from the input split by phase (:func:`_phases`), where each is a
    contiguous block."""
    taps = _window_taps(x.shape[2:], geo, slab)
    phases, first = _phases(x, geo, slab)
    views = []
    for _, outputs, cells in taps:
        phase, at = [], []
        for axis, (cell, s) in enumerate(zip(cells, geo.stride, strict=True)):
            start = cell.start - (first if axis == 0 else 0)
            count = outputs[2 + axis].stop - outputs[2 + axis].start
            phase.append(start % s)
            at.append(slice(start // s, start // s + count))
        views.append(phases[tuple(phase)][(slice(None), slice(None), *at)])
    arg, best = _sweep(taps, views, geo, slab, tap_dtype, nan=False)
    if x.dtype.kind not in "iu" and np.isnan(best).any():
        # a maximum is NaN exactly where its window holds NaN: go again, NaN first
        arg, best = _sweep(taps, views, geo, slab, tap_dtype, nan=True)
    return arg


def _sweep(taps: list[tuple[int, tuple[slice, ...], tuple[slice, ...]]],
           views: list[np.ndarray], geo: WindowGeometry, slab: Slab, tap_dtype: np.dtype,
           nan: bool) -> tuple[np.ndarray, np.ndarray]:
    """One pass over the taps in order for :func:`_first_maxima` (NaN first only if
    ``nan``): the tap numbers, and the maxima."""
    dtype = views[0].dtype
    shape = (*views[0].shape[:2], slab.rows.stop - slab.rows.start, *geo.out[1:])
    best = np.full(shape, np.iinfo(dtype).min if dtype.kind in "iu" else -np.inf,
                   dtype=dtype)
    arg = np.empty(shape, dtype=tap_dtype)
    arg[...] = _first_input_tap(geo, slab)  # where no cell is strictly above the smallest
    better = np.empty(shape, dtype=bool)
    numbered = np.empty(shape, dtype=tap_dtype)
    for (number, outputs, _), tap in zip(taps, views, strict=True):
        hit, most = better[outputs], best[outputs]
        np.greater(tap, most, out=hit)  # strictly: ties keep the first
        if nan:  # the first NaN wins, and stays
            hit |= np.isnan(tap) & ~np.isnan(most)
        # taps come in increasing number: the last better tap is the largest number
        np.multiply(hit, tap_dtype.type(number), out=numbered[outputs])
        np.maximum(arg[outputs], numbered[outputs], out=arg[outputs])
        np.maximum(most, tap, out=most)
    return arg, best


def _first_input_tap(geo: WindowGeometry, slab: Slab) -> np.ndarray:
    """Row-major number of each window's first tap on an input cell (not padding), for
    the windows of ``slab``; broadcastable to them. The input cells of a window form a
    box, so its first tap is the first one along every dimension;
    :func:`reference.pool.pool_geometry` guarantees there is one."""
    number: np.ndarray | int = 0
    nd = len(geo.kernel)
    for axis, k in enumerate(geo.kernel):
        lo, _ = geo.pads[axis]
        start, stop = (slab.rows.start, slab.rows.stop) if axis == 0 else (0, geo.out[axis])
        begin = np.arange(start, stop) * geo.stride[axis] - lo
        tap = np.maximum(0, -(begin // geo.dilation[axis]))  # ceil(-begin / d), >= 0
        number = number * k + tap.reshape((-1,) + (1,) * (nd - 1 - axis))
    return np.asarray(number)


def _phases(x: np.ndarray, geo: WindowGeometry, slab: Slab
            ) -> tuple[dict[tuple[int, ...], np.ndarray], int]:
    """The input rows ``slab`` reads, split by phase: for every ``p`` with
    ``0 <= p < stride``, the contiguous array of the cells ``p + q * stride`` (``q =
    0, 1, ...``), so that the cells one tap reads for consecutive outputs are consecutive.
    With stride 1 that is the input itself. Also the first row read."""
    read = rows_read(x.shape[2], slab.rows, geo.kernel[0], geo.stride[0], geo.dilation[0],
                     geo.pads[0][0])
    first, rows = read.start, x[slab.batch, :, read]
    phases = {}
    for phase in np.ndindex(*geo.stride):
        view = rows[(slice(None), slice(None),
                     *(slice(p, None, s) for p, s in zip(phase, geo.stride, strict=True)))]
        phases[phase] = view if all(s == 1 for s in geo.stride) else view.copy()
    return phases, first


def _routed_cells(arg: np.ndarray, x_shape: tuple[int, ...], geo: WindowGeometry,
                  slab: Slab) -> tuple[slice, np.ndarray]:
    """The input rows that ``slab`` reads, and for each window (tap ``arg``) the flat
    index of its cell among those rows of the slab's batch items."""
    nd = len(geo.kernel)
    lo0 = geo.pads[0][0]
    read = rows_read(x_shape[2], slab.rows, geo.kernel[0], geo.stride[0], geo.dilation[0],
                     lo0)
    first = read.start
    sizes = (read.stop - first, *x_shape[3:])
    step = [math.prod(sizes[axis + 1:]) for axis in range(nd)]  # C order, one channel
    # every tap's place in the window, and every window's first cell (maybe in padding)
    offsets: np.ndarray | int = 0
    origins: np.ndarray | int = 0
    for axis in range(nd):
        along = np.arange(geo.kernel[axis]) * geo.dilation[axis] * step[axis]
        offsets = np.add.outer(offsets, along)
        start = slab.rows.start if axis == 0 else 0
        lo = lo0 + first if axis == 0 else geo.pads[axis][0]
        places = (np.arange(start, start + arg.shape[2 + axis]) * geo.stride[axis] - lo)
        origins = np.add.outer(origins, places * step[axis])
    cell = np.take(np.ravel(offsets), arg)
    cell += np.reshape(origins, (1, 1, *arg.shape[2:]))
    channels = np.arange(arg.shape[0] * arg.shape[1]) * math.prod(sizes)
    cell += channels.reshape(arg.shape[:2] + (1,) * nd)
    return read, cell


def _window_taps(in_sizes: tuple[int, ...], geo: WindowGeometry, slab: Slab
                 ) -> list[tuple[int, tuple[slice, ...], tuple[slice, ...]]]:
    """Every tap of the window that reads input cells for some output of ``slab``, in
    row-major order: its number in that order, the box of the slab's outputs it reads for
    (spatial slices, relative to the slab) and the box of input cells they read (spatial
    slices of the input). :func:`reference.windows.input_taps` in every dimension."""
    per_axis = [input_taps(size, *((slab.rows.start, slab.rows.stop) if axis == 0
                                   else (0, geo.out[axis])),
                           geo.kernel[axis], geo.stride[axis], geo.dilation[axis],
                           geo.pads[axis][0])
                for axis, size in enumerate(in_sizes)]
    lead = (slice(None), slice(None))
    taps = []
    for combo in itertools.product(*per_axis):
        number = 0
        for k, (t, _, _) in zip(geo.kernel, combo, strict=True):
            number = number * k + t
        taps.append((number, (*lead, *(o for _, o, _ in combo)),
                     tuple(cells for _, _, cells in combo)))
    return taps


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
    dx = np.empty(x.shape, dtype=_F64)  # each batch item zeroed by its first slab
    nd = len(geo.out)
    # per output row: dy / divisor, the result of every pass but the last
    passes = [math.prod((*geo.out[1:axis], *geo.padded[axis:])) for axis in range(1, nd)]
    bytes_per_row = 8 * c * (math.prod(geo.out[1:]) + sum(passes))
    for slab in slabs(n, geo.out, bytes_per_row):
        if slab.rows.start == 0:
            dx[slab.batch] = 0
        share = np.divide(dy[slab.batch, :, slab.rows], divisor[slab.rows], dtype=_F64)
        _spread_windows(share, geo, slab, dx)
        del share  # free this slab's temporaries
    return dx


def _spread_windows(share: np.ndarray, geo: WindowGeometry, slab: Slab, dx: np.ndarray
                    ) -> None:
    """Add every window's ``share`` to each of its input cells in ``dx``: the transpose
    of the box sum, separable like it, so one spatial dimension at a time (the last
    first), each in ``kernel`` strided additions, taps in order. What falls on padding is
    dropped (never built)."""
    spread = share
    for axis in reversed(range(len(geo.kernel))):
        at = 2 + axis
        lead = (slice(None),) * at
        start, stop = (slab.rows.start, slab.rows.stop) if axis == 0 else (0, geo.out[axis])
        size = dx.shape[at]
        if axis == 0:
            wider = dx[slab.batch]
        else:
            wider = np.zeros((*spread.shape[:at], size, *spread.shape[at + 1:]))
        for _, outputs, cells in input_taps(size, start, stop, geo.kernel[axis],
                                            geo.stride[axis], geo.dilation[axis],
                                            geo.pads[axis][0]):
            wider[(*lead, cells)] += spread[(*lead, outputs)]
        spread = wider
