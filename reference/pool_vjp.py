"""The vector-Jacobian products of :func:`reference.max_pool` and :func:`reference.avg_pool`."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from reference._validate import check_array, check_input
from reference.padding import WindowGeometry
from reference.pool import avg_divisor, pool_geometry, reduce_bytes_per_row, reduce_slab
from reference.windows import (
    Slab,
    add_slab_to_input,
    padded_slab,
    slab_regions,
    slabs,
    sliding_windows,
    tap_slices,
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


def _inside(geo: WindowGeometry, in_sizes: tuple[int, ...], first_row: int,
            tap: tuple[int, ...], out: tuple[int, ...]) -> np.ndarray | None:
    """Which of the ``out`` windows of a slab (starting at padded row ``first_row``) read
    an input cell, not padding, at kernel tap ``tap``; a boolean array broadcastable to
    ``(*out)``, or None when all of them do."""
    masks, full = [], True
    for axis, (t, o) in enumerate(zip(tap, out, strict=True)):
        lo, _ = geo.pads[axis]
        start = first_row if axis == 0 else 0
        pos = start + np.arange(o) * geo.stride[axis] + t * geo.dilation[axis] - lo
        mask = (pos >= 0) & (pos < in_sizes[axis])
        full = full and bool(mask.all())
        masks.append(mask.reshape((1,) * axis + (o,) + (1,) * (len(out) - 1 - axis)))
    if full:
        return None
    inside = masks[0]
    for mask in masks[1:]:
        inside = inside & mask
    return inside


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
    x = check_input(x)
    geo = pool_geometry(x, kernel_size, stride, padding, dilation, ceil_mode)
    dy = _check_dy(dy, x, geo)
    n, c, *in_sizes = x.shape
    fill = np.iinfo(x.dtype).min if x.dtype.kind in "iu" else -np.inf
    dx = np.zeros(x.shape, dtype=_F64)
    rest_out = math.prod(geo.out[1:])
    bytes_per_row = (reduce_bytes_per_row(geo, c, x.dtype)                # padded input
                     + x.dtype.itemsize * c * rest_out                    # the maxima
                     + 8 * c * math.prod(geo.padded[1:]) * geo.stride[0]  # the gradient
                     + 6 * c * rest_out)                                  # boolean masks
    for slab in slabs(n, geo.out, bytes_per_row):
        out = (slab.rows.stop - slab.rows.start, *geo.out[1:])
        xp = padded_slab(x, geo.pads, geo.padded, slab, geo.kernel, geo.stride, geo.dilation,
                         fill, x.dtype)
        y = reduce_slab(xp, geo, out[0], np.maximum)
        part = _zero_part(x, geo, slab)
        _route_maxima(xp, y, dy[slab.batch, :, slab.rows], part, geo, tuple(in_sizes),
                      slab.rows.start * geo.stride[0])
        add_slab_to_input(dx, part, geo.pads, geo.padded, slab, geo.kernel, geo.stride,
                          geo.dilation)
        del xp, y, part  # free this slab's temporaries before the next is built
    return dx


def _route_maxima(xp: np.ndarray, y: np.ndarray, dy: np.ndarray, part: np.ndarray,
                  geo: WindowGeometry, in_sizes: tuple[int, ...], first_row: int) -> None:
    """Add each window's ``dy`` to the cell of ``part`` (the gradient of the padded slab
    ``xp``) that holds its first NaN, or else its first maximum ``y``, in tap order."""
    nan = np.isnan(y) if y.dtype.kind not in "iu" else None
    if nan is not None and not nan.any():
        nan = None
    out = y.shape[2:]
    windows = sliding_windows(xp, geo.kernel, geo.stride, geo.dilation, out)
    taken = np.zeros(y.shape, dtype=bool)  # windows whose cell is already chosen
    hit = np.empty(y.shape, dtype=bool)
    for j, cells in tap_slices(geo.kernel, geo.stride, geo.dilation, out):
        tap = windows[(..., *j)]
        np.equal(tap, y, out=hit)
        if nan is not None:
            hit |= nan & np.isnan(tap)
        inside = _inside(geo, in_sizes, first_row, j, out)
        if inside is not None:
            hit &= inside
        np.greater(hit, taken, out=hit)  # hit and not taken
        taken |= hit
        dst = part[(slice(None), slice(None), *cells)]
        np.add(dst, dy, out=dst, where=hit)


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
    x = check_input(x)
    if not isinstance(count_include_pad, bool | np.bool_):
        raise TypeError(f"count_include_pad must be a bool, got {count_include_pad!r}")
    geo = pool_geometry(x, kernel_size, stride, padding, dilation, ceil_mode)
    dy = _check_dy(dy, x, geo)
    n, c = x.shape[:2]
    divisor = avg_divisor(geo, x.shape[2:], bool(count_include_pad))
    dx = np.zeros(x.shape, dtype=_F64)
    bytes_per_row = 8 * c * (math.prod(geo.padded[1:]) * geo.stride[0]  # the padded gradient
                             + math.prod(geo.out[1:]))                  # dy / divisor
    for slab in slabs(n, geo.out, bytes_per_row):
        out = (slab.rows.stop - slab.rows.start, *geo.out[1:])
        share = np.divide(dy[slab.batch, :, slab.rows], divisor[slab.rows], dtype=_F64)
        part = _zero_part(x, geo, slab)
        for _, cells in tap_slices(geo.kernel, geo.stride, geo.dilation, out):
            part[(slice(None), slice(None), *cells)] += share
        add_slab_to_input(dx, part, geo.pads, geo.padded, slab, geo.kernel, geo.stride,
                          geo.dilation)
        del share, part  # free this slab's temporaries
    return dx


def _zero_part(x: np.ndarray, geo: WindowGeometry, slab: Slab) -> np.ndarray:
    """Zeros shaped as the padded part of ``x`` that the windows of ``slab`` read."""
    shape, _, _ = slab_regions(x.shape, geo.pads, geo.padded, slab, geo.kernel, geo.stride,
                               geo.dilation)
    return np.zeros(shape, dtype=_F64)
