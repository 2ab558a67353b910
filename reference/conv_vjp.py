"""The vector-Jacobian product of :func:`reference.conv`: its backward pass."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from reference._validate import check_array
from reference.conv import columns, conv, conv_arguments
from reference.padding import WindowGeometry
from reference.windows import input_taps, slabs

_F64 = np.dtype(np.float64)


def conv_vjp(
    x: Any,
    w: Any,
    dy: Any,
    *,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of ``sum(conv(x, w, b, ...) * dy)`` with respect to ``x``, ``w`` and ``b``.

    With ``y = conv(x, w, b, ...)`` (see :func:`reference.conv` for the definition and
    every argument), the convolution is linear in each argument, so the gradients are
    the adjoints applied to ``dy``:

    - ``dw[o, c, *j] = sum over n, *p of dy[n, o, *p] * xp[n, g*Cg + c, *(p*stride +
      j*dilation)]``, ``xp`` being ``x`` zero-padded: the output gradient against the
      im2col columns of the forward;
    - ``dx[n, g*Cg + c, *i] = sum over o in group g and every (p, j) with
      p*stride + j*dilation = i + lo of dy[n, o, *p] * w[o, c, *j]``: ``w``-transpose
      times ``dy``, scattered back over the kernel taps (col2im); what lands in the
      padding is dropped. With stride 1 and a finite ``w`` the same sums are gathered
      instead, as a forward correlation of ``dy`` with the flipped kernel; only the order
      of their additions differs;
    - ``db[o] = sum over n, *p of dy[n, o, *p]``.

    The identity ``<conv(x, w), dy> = <x, dx> = <w, dw>`` holds (exactly on small
    integers). The bias itself is not an argument: no gradient depends on it.

    Parameters
    ----------
    x, w, stride, padding, dilation, groups
        As for :func:`reference.conv`, with the same checks and errors.
    dy : array_like, shape (N, O, *out)
        The gradient with respect to the output: exactly the forward's output shape.

    Returns
    -------
    dx : numpy.ndarray, float64, shape of ``x``
    dw : numpy.ndarray, float64, shape of ``w``
    db : numpy.ndarray, float64, shape (O,)

    Raises
    ------
    ValueError, TypeError
        For bad input as :func:`reference.conv` raises them, and when ``dy`` does not have
        the forward's output shape.
    """
    args = conv_arguments(x, w, None, stride, padding, dilation, groups)
    x, w, geo, groups = args.x, args.w, args.geo, args.groups
    n, c, *_ = x.shape
    o, cg, *kernel = w.shape
    dy = check_array(dy, "dy")
    if dy.shape != (n, o, *geo.out):
        raise ValueError(f"dy must have the forward's output shape (N, O, *out) = "
                         f"{(n, o, *geo.out)}, got shape {dy.shape}")
    og, taps = o // groups, math.prod(kernel)
    dw_t = np.zeros((groups, cg * taps, og), dtype=_F64)  # dw, transposed: as BLAS gives it
    # with stride 1, dx is a correlation of dy, computed as the forward is, after dw (as
    # long as w is finite: that correlation pads dy with zeros, and 0 * inf is NaN);
    # otherwise the columns' gradient is scattered into it slab by slab
    gather = all(s == 1 for s in geo.stride) and c > 0 and bool(np.isfinite(w).all())
    dx = None if gather else np.zeros(x.shape, dtype=_F64)
    # (groups, C/g * taps, O/g): each group's filters as columns, for the scatter
    wmat_t = None if gather else _transposed(w.astype(_F64).reshape(groups, og, cg * taps))
    db = np.sum(dy, axis=(0, *range(2, dy.ndim)), dtype=_F64)
    rest_out = math.prod(geo.out[1:])
    bytes_per_row = 8 * (c * math.prod(geo.padded[1:]) * geo.stride[0]  # padded input
                         + c * taps * rest_out  # im2col columns, then their gradient
                         + o * rest_out)        # dy, grouped
    for slab in slabs(n, geo.out, bytes_per_row):
        out = (slab.rows.stop - slab.rows.start, *geo.out[1:])
        nb, positions = slab.batch.stop - slab.batch.start, math.prod(out)
        # dy as (groups, O/g, N * positions)
        dys = dy[slab.batch, :, slab.rows].reshape(nb, groups, og, positions)
        dys = dys.transpose(1, 2, 0, 3).astype(_F64, order="C").reshape(groups, og, -1)
        cols = columns(x, geo, slab, groups)
        # (columns · dyᵀ)ᵀ rather than dy · columnsᵀ: the same sums, but the long
        # dimension is the product's rows, a shape threaded BLAS splits well
        dw_t += np.matmul(cols, dys.transpose(0, 2, 1))
        del cols
        if dx is None:
            continue
        # col2im: the columns' gradient, scattered over the kernel taps
        dcols = np.matmul(wmat_t, dys).reshape(c, *kernel, nb, *out)
        del dys
        # the taps of each dimension that read input cells, not padding: added straight
        # into dx, each tap's cells distinct
        starts = (slab.rows.start, *(0,) * (len(out) - 1))
        stops = (slab.rows.stop, *geo.out[1:])
        per_dim = [input_taps(size, start, stop, k, s, d, lo)
                   for size, start, stop, k, s, d, (lo, _)
                   in zip(x.shape[2:], starts, stops, geo.kernel, geo.stride, geo.dilation,
                          geo.pads, strict=True)]
        dxs = dx[slab.batch]
        for combo in itertools.product(*per_dim):
            taps_j = tuple(t for t, _, _ in combo)
            outs = tuple(o_ for _, o_, _ in combo)
            cells = tuple(c_ for _, _, c_ in combo)
            dxs[(slice(None), slice(None), *cells)] += (
                dcols[(slice(None), *taps_j, slice(None), *outs)].swapaxes(0, 1))
        del dcols  # free this slab's temporaries before the next is built
    if dx is None:
        dx = _dx_by_correlation(dy, w, geo, groups, x.shape[2:])
    return dx, _transposed(dw_t).reshape(w.shape), db


def _transposed(a: np.ndarray, block: int = 64) -> np.ndarray:
    """``a`` with its last two axes swapped, C-contiguous: copied ``block`` rows of ``a``
    at a time, so that what one copy reads and writes stays in cache (3.5 times faster
    than one strided copy on a 2304×256 matrix)."""
    out = np.empty((*a.shape[:-2], a.shape[-1], a.shape[-2]), dtype=a.dtype)
    for i in range(0, a.shape[-2], block):
        out[..., i:i + block] = a[..., i:i + block, :].swapaxes(-1, -2)
    return out


def _dx_by_correlation(dy: np.ndarray, w: np.ndarray, geo: WindowGeometry, groups: int,
                       in_sizes: tuple[int, ...]) -> np.ndarray:
    """``dx`` of a stride-1 convolution, gathered rather than scattered: along each
    spatial dimension ``dx[i] = sum over j of dy[i + lo - j*dilation] * w[j]``, that is
    :func:`reference.conv` of ``dy`` with the kernel flipped and its channel axes
    swapped (within each group), ``(k - 1) * dilation - lo`` cells of zero padding before
    and ``size + lo - out`` after (dy's cells no window of an input cell reads, where
    either is negative, are cut off instead). The same products and sums as the scatter,
    in one matrix product per slab, with no col2im; the sums in another order, within the
    same error bound (and exact on small integers)."""
    o, cg, *kernel = w.shape
    og = o // groups
    flipped = w[(slice(None), slice(None), *(slice(None, None, -1),) * len(kernel))]
    # (C, O/g, *kernel): filter g*Cg + c of the correlation reads dy's channels of group g
    w_dx = flipped.reshape(groups, og, cg, *kernel).swapaxes(1, 2).reshape(
        groups * cg, og, *kernel)
    cut: list[slice] = [slice(None), slice(None)]
    pads = []
    for size, k, d, (lo, _), out in zip(in_sizes, kernel, geo.dilation, geo.pads, geo.out,
                                        strict=True):
        before, after = (k - 1) * d - lo, size + lo - out
        cut.append(slice(max(0, -before), out - max(0, -after)))
        pads.append((max(0, before), max(0, after)))
    # a zero bias: a sum of negative zeros, or of none, is +0.0, as the scatter leaves it
    return conv(dy[tuple(cut)], w_dx, np.zeros(groups * cg), padding=pads,
                dilation=geo.dilation, groups=groups)
