"""The vector-Jacobian products of :func:`reference.max_pool` and :func:`reference.avg_pool`."""

from __future__ import annotations

import functools
import itertools
import math
from typing import Any

import numpy as np

from reference._validate import check_array
from reference.padding import WindowGeometry
from reference.parallel import by_plane, run_each
from reference.pool import (
    avg_divisor,
    index_runs,
    pool_geometry,
    reduce_bytes_per_row,
    reduce_slab,
)
from reference.windows import (
    PlaneSlab,
    input_taps,
    phase_layout,
    phase_planes,
    phase_taps,
    phase_windows,
    plane_slabs,
    rows_read,
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
    dx = np.empty(x.shape, dtype=_F64)  # each plane zeroed or assigned by its slabs
    # per output row of one plane: the larger of what the two searches hold (the input
    # split by phase, and per window number its maximum, a mark, its rank and a mask; or
    # the maxima and what computing them holds, and per window the same three), then per
    # window its cell, its first cell and dy in float64, and the gradient of the rows read
    itemsize, rows_out = x.dtype.itemsize, geo.out[0]
    whole = phase_layout(x.shape[2:], geo.out, geo.kernel, geo.stride, geo.dilation,
                         tuple(lo for lo, _ in geo.pads))
    by_phase = -(-(math.prod(whole.shape) * itemsize + whole.length * (itemsize + 5))
                 // rows_out)
    windows = math.prod(geo.out[1:])
    by_box = reduce_bytes_per_row(geo, x.dtype, x.dtype)[0] + windows * (itemsize + 5)
    read = geo.stride[0] * math.prod(geo.padded[1:])
    temporaries = max(by_phase, by_box) + windows * 24 + read * 8
    touched = temporaries + read * x.dtype.itemsize

    def route(plane: list[PlaneSlab]) -> None:
        for slab in plane:
            _route_slab(x, dy, geo, slab, dx)

    run_each(route, by_plane(plane_slabs(n, c, geo.out, temporaries, touched,
                                         _ROUTING_SLAB_BYTES), _plane))
    return dx


def _plane(slab: PlaneSlab) -> tuple[slice, slice]:
    """The planes of ``slab``: its slabs of other rows add into the same cells."""
    return slab.batch, slab.channels


def _route_slab(x: np.ndarray, dy: np.ndarray, geo: WindowGeometry, slab: PlaneSlab,
                dx: np.ndarray) -> None:
    """Send the gradient of the windows of ``slab`` to their cells in ``dx``: assign its
    planes if the slab holds all their rows, else add into them (the first slab of a
    plane zeroes it)."""
    rows = rows_read(x.shape[2], slab.rows, geo.kernel[0], geo.stride[0],
                     geo.dilation[0], geo.pads[0][0])
    part = x[slab.batch, slab.channels, rows]
    cell = _routed_cells(x, part, geo, slab, rows.start)
    weights = np.asarray(dy[slab.batch, slab.channels, slab.rows], dtype=_F64)
    grad = np.bincount(cell.reshape(-1), weights=weights.reshape(-1),
                       minlength=part.size).reshape(part.shape)
    planes = dx[slab.batch, slab.channels]
    if slab.rows == slice(0, geo.out[0]):  # whole planes: nothing to add to
        planes[:, :, rows] = grad
        planes[:, :, :rows.start] = 0  # rows no window reads
        planes[:, :, rows.stop:] = 0
    else:
        if slab.rows.start == 0:
            planes[...] = 0
        planes[:, :, rows] += grad


#: The data of one slab of :func:`max_pool_vjp`, at most: it makes some 40 passes over its
#: windows, whose fixed cost per call larger slabs spread, and on two threads, the GIL
#: handed back and forth between those calls (measured on 8×64×112×112: one thread,
#: 4 MiB is faster than 1 and no slower than 8; two threads, 8 MiB takes 30 ms where
#: 4 MiB takes 40, no faster than one thread).
_ROUTING_SLAB_BYTES = 8 * 2**20


def _routed_cells(x: np.ndarray, part: np.ndarray, geo: WindowGeometry, slab: PlaneSlab,
                  first: int) -> np.ndarray:
    """For each window of ``slab``, the flat index in ``part`` (the input rows the slab
    reads, from row ``first``) of the cell its gradient goes to: its first NaN, else its
    first maximum, in row-major tap order; padding is no tap.

    The windows' maxima come first; then every tap marks the windows where it holds the
    maximum with its rank from the end, ``taps - number``: the largest mark of a window
    is its first tap holding it. (Marks are kept with ``maximum``: a masked copy would
    branch on every window.) :func:`_first_taps` finds the ranks, or
    :func:`_first_taps_by_box` where it cannot.
    """
    rank = _first_taps(part, geo, slab, first)
    if rank is None:
        rank = _first_taps_by_box(x, part, geo, slab, first)
    by_rank, origins = _routing_plan(geo, part.shape[:2], part.shape[2:], slab.rows.start,
                                     slab.rows.stop, first)[1:]
    cell = np.take(by_rank, rank).reshape(origins.shape)
    cell += origins
    return cell


def _first_taps(part: np.ndarray, geo: WindowGeometry, slab: PlaneSlab, first: int
                ) -> np.ndarray | None:
    """The ranks of :func:`_routed_cells`, ``(planes, *out)``, from the input split by
    phase (:func:`reference.windows.phase_planes`), where every tap reads whole runs: the
    padding is the dtype's smallest value (``-inf`` for floats), so never a maximum, and
    never equal to one as long as no input cell holds that value. ``None`` where one
    does, or a NaN (or the dtype has no infinity), for :func:`_first_taps_by_box`."""
    dtype = part.dtype
    if dtype.kind in "iu":
        fill: float | int = np.iinfo(dtype).min
    elif dtype.kind == "f":
        fill = -np.inf
    else:  # ml_dtypes floats: not all have an infinity
        return None
    if not part.min() > fill:  # (False for NaN too)
        return None
    out = (slab.rows.stop - slab.rows.start, *geo.out[1:])
    lo = (geo.pads[0][0] + first - slab.rows.start * geo.stride[0],
          *(lo for lo, _ in geo.pads[1:]))
    layout = phase_layout(part.shape[2:], out, geo.kernel, geo.stride, geo.dilation, lo)
    split = phase_planes(part, layout, fill)
    taps = list(phase_taps(split, layout))
    numbers = (split.shape[0], out[0] * layout.pitch[0])  # whole rows of window numbers
    best = np.empty(numbers, dtype=dtype)[:, :layout.length]
    if len(taps) == 1:
        best[...] = taps[0][1]
    else:
        np.maximum(taps[0][1], taps[1][1], out=best)
    for _, tap in taps[2:]:
        np.maximum(best, tap, out=best)
    count = len(taps)
    mark_dtype = np.min_scalar_type(count)
    ranks = np.zeros(numbers, dtype=mark_dtype)
    rank = ranks[:, :layout.length]
    hit = np.empty(best.shape, dtype=bool)
    mark = np.empty(best.shape, dtype=mark_dtype)
    for number, tap in taps:
        np.equal(tap, best, out=hit)
        _keep_mark(rank, hit, mark, mark_dtype.type(count - number))
    return phase_windows(ranks, layout, out)


def _first_taps_by_box(x: np.ndarray, part: np.ndarray, geo: WindowGeometry,
                       slab: PlaneSlab, first: int) -> np.ndarray:
    """The ranks of :func:`_routed_cells`, every tap reading the box of input cells it
    reaches, NaN first where a maximum is NaN (exactly where its window holds one)."""
    shape = (*part.shape[:2], slab.rows.stop - slab.rows.start, *geo.out[1:])
    best = reduce_slab(x, geo, slab, np.maximum, x.dtype, np.empty(shape, dtype=x.dtype))
    nan = part.dtype.kind not in "iu" and bool(np.isnan(best).any())
    taps = _routing_plan(geo, part.shape[:2], part.shape[2:], slab.rows.start,
                         slab.rows.stop, first)[0]
    count = math.prod(geo.kernel)
    mark_dtype = np.min_scalar_type(count)
    rank = np.zeros(shape, dtype=mark_dtype)  # every window gets a mark: it has a maximum
    hit = np.empty(shape, dtype=bool)
    mark = np.empty(shape, dtype=mark_dtype)
    lead = (slice(None), slice(None))
    for number, outputs, cells in taps:
        tap, at = part[(*lead, *cells)], (*lead, *outputs)
        np.equal(tap, best[at], out=hit[at])
        if nan:
            hit[at] |= np.isnan(tap)
        _keep_mark(rank[at], hit[at], mark[at], mark_dtype.type(count - number))
    return rank


def _keep_mark(rank: np.ndarray, hit: np.ndarray, mark: np.ndarray, value: Any) -> None:
    """``rank`` raised to ``value`` where ``hit`` (``mark`` is scratch of its shape)."""
    np.multiply(hit.view(np.uint8), value, out=mark)
    np.maximum(rank, mark, out=rank)


@functools.lru_cache(maxsize=16)
def _routing_plan(geo: WindowGeometry, lead: tuple[int, ...], sizes: tuple[int, ...],
                  start: int, stop: int, first: int
                  ) -> tuple[tuple[tuple[int, tuple[slice, ...], tuple[slice, ...]], ...],
                             np.ndarray, np.ndarray]:
    """For the windows of output rows ``[start, stop)`` of ``lead`` (batch items,
    channels) planes over input rows from ``first`` (``sizes``: the spatial sizes of those
    rows): every tap that reads input cells for some of them, in row-major order (its
    number, the box of windows, relative to ``start``, and the box of cells, relative to
    ``first``; :func:`input_taps` in every dimension); each tap's place in a window as a
    flat index, by rank (``taps - number``; rank 0 is no tap), and each window's first
    cell (maybe in the padding) as a flat index among the planes' cells."""
    nd = len(sizes)
    per_axis = []
    for axis, size in enumerate(sizes):
        begin, end = (start, stop) if axis == 0 else (0, geo.out[axis])
        lo = geo.pads[axis][0] + (first if axis == 0 else 0)
        per_axis.append(input_taps(size, begin, end, geo.kernel[axis], geo.stride[axis],
                                   geo.dilation[axis], lo))
    taps = []
    for combo in itertools.product(*per_axis):
        number = 0
        for k, (t, _, _) in zip(geo.kernel, combo, strict=True):
            number = number * k + t
        taps.append((number, tuple(o for _, o, _ in combo), tuple(c for _, _, c in combo)))
    step = [math.prod(sizes[axis + 1:]) for axis in range(nd)]  # C order, one plane
    offsets: np.ndarray | int = 0
    origins: np.ndarray | int = 0
    for axis in range(nd):
        offsets = np.add.outer(offsets, np.arange(geo.kernel[axis]) * geo.dilation[axis]
                               * step[axis])
        begin, end = (start, stop) if axis == 0 else (0, geo.out[axis])
        lo = geo.pads[axis][0] + (first if axis == 0 else 0)
        origins = np.add.outer(origins, (np.arange(begin, end) * geo.stride[axis] - lo)
                               * step[axis])
    by_rank = np.concatenate(([0], np.ravel(offsets)[::-1])).astype(np.intp)
    planes = (np.arange(math.prod(lead)) * math.prod(sizes)).reshape(*lead, *(1,) * nd)
    origins = (planes + np.asarray(origins)).astype(np.intp)
    by_rank.flags.writeable = origins.flags.writeable = False
    return tuple(taps), by_rank, origins


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
    dx = np.empty(x.shape, dtype=_F64)  # each plane assigned or zeroed by its slabs
    nd = len(geo.out)
    # per output row of one plane: dy / divisor, the result of every pass but the last;
    # and the gradient rows written
    passes = [math.prod((*geo.out[1:axis], *geo.padded[axis:])) for axis in range(1, nd)]
    temporaries = 8 * (math.prod(geo.out[1:]) + sum(passes))
    touched = temporaries + 8 * geo.stride[0] * math.prod(geo.padded[1:])

    def spread(plane: list[PlaneSlab]) -> None:
        for slab in plane:
            share = np.divide(dy[slab.batch, slab.channels, slab.rows], divisor[slab.rows],
                              dtype=_F64)
            _spread_windows(share, geo, slab, dx)

    run_each(spread, by_plane(plane_slabs(n, c, geo.out, temporaries, touched), _plane))
    return dx


def _spread_windows(share: np.ndarray, geo: WindowGeometry, slab: PlaneSlab, dx: np.ndarray
                    ) -> None:
    """Add every window's ``share`` to each of its input cells in ``dx``: the transpose
    of the box sum, separable like it, so one spatial dimension at a time (the last
    first), each in ``kernel`` strided additions, taps in order. What falls on padding is
    dropped (never built).

    Each pass writes a fresh array (or, for the first dimension, whole planes of ``dx``):
    the first tap to reach a cell writes ``0.0 + share`` there (what adding to zeros
    gives), the next ones add, and cells no tap reaches are zeroed. Where a plane's
    output rows are split over several slabs, they add into it."""
    spread = share
    planes = dx[slab.batch, slab.channels]
    whole = slab.rows == slice(0, geo.out[0])
    if not whole and slab.rows.start == 0:
        planes[...] = 0
    for axis in reversed(range(len(geo.kernel))):
        at = 2 + axis
        lead = (slice(None),) * at
        start, stop = (slab.rows.start, slab.rows.stop) if axis == 0 else (0, geo.out[axis])
        size = dx.shape[at]
        wider = planes if axis == 0 else np.empty(
            (*spread.shape[:at], size, *spread.shape[at + 1:]))
        steps, untouched = spread_plan(size, start, stop, geo.kernel[axis], geo.stride[axis],
                                       geo.dilation[axis], geo.pads[axis][0])
        for add, outputs, cells in steps:
            into, share_ = wider[(*lead, cells)], spread[(*lead, outputs)]
            if add or not (whole or axis > 0):
                np.add(into, share_, out=into)
            else:
                np.add(share_, 0.0, out=into)
        if whole or axis > 0:
            for cells in untouched:
                wider[(*lead, cells)] = 0
        spread = wider


@functools.lru_cache(maxsize=256)
def spread_plan(size: int, start: int, stop: int, kernel: int, stride: int, dilation: int,
                lo: int) -> tuple[tuple[tuple[bool, slice, slice], ...], tuple[slice, ...]]:
    """Along one spatial dimension of ``size`` cells: the taps of outputs ``[start,
    stop)`` (:func:`reference.windows.input_taps`) in order, each cut where the cells it
    reaches go from reached by an earlier tap to not: ``(add, outputs, cells)`` with
    ``add`` False for the cells no earlier tap reached. Also the runs of cells no tap
    reaches."""
    reached = np.zeros(size, dtype=bool)
    steps = []
    for _, outputs, cells in input_taps(size, start, stop, kernel, stride, dilation, lo):
        index = np.arange(cells.start, cells.stop, cells.step)
        seen = reached[index]
        cuts = [0, *(np.flatnonzero(seen[1:] != seen[:-1]) + 1).tolist(), len(index)]
        for a, b in itertools.pairwise(cuts):
            steps.append((bool(seen[a]), slice(outputs.start + a, outputs.start + b),
                          slice(int(index[a]), int(index[b - 1]) + 1, cells.step)))
        reached[index] = True
    runs = index_runs(np.flatnonzero(~reached))
    return tuple(steps), runs
