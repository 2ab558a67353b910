"""The vector-Jacobian product of :func:`reference.conv`: its backward pass."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from reference import winograd
from reference._validate import check_array
from reference.conv import columns, conv_arguments
from reference.padding import WindowGeometry
from reference.windows import (
    Slab,
    add_slab_to_input,
    slab_regions,
    slabs,
    tap_slices,
)

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
      padding is dropped;
    - ``db[o] = sum over n, *p of dy[n, o, *p]``.

    The identity ``<conv(x, w), dy> = <x, dx> = <w, dw>`` holds (exactly on small
    integers). Where the forward uses Winograd's F(2, 3) (:mod:`reference.winograd`), so
    does ``dx``, as the stride-1 correlation of ``dy`` with the flipped kernels. The bias
    itself is not an argument: no gradient depends on it.

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
    dw = np.zeros((groups, og, cg * taps), dtype=_F64)
    db = np.sum(dy, axis=(0, *range(2, dy.ndim)), dtype=_F64)
    if (winograd.applies(x, w, geo.stride, geo.dilation, geo.pads, groups)
            and dy.dtype == _F64 and winograd.in_range(dy, w)):
        # stride 1: dx is the correlation of dy, padded by 2 - lo and 2 - hi, with the
        # flipped kernels, input and output channels swapped
        dx = np.empty(x.shape, dtype=_F64)
        flipped = np.flip(w, axis=tuple(range(2, w.ndim))).swapaxes(0, 1)
        winograd.correlate(dy, winograd.filter_transform(flipped), None,
                           tuple((2 - lo, 2 - hi) for lo, hi in geo.pads), dx)
        wmat_t = None
    else:
        dx = np.zeros(x.shape, dtype=_F64)
        # (groups, C/g * taps, O/g): each group's filters as columns
        wmat_t = np.ascontiguousarray(w.astype(_F64).reshape(groups, og, cg * taps)
                                      .transpose(0, 2, 1))
    rest_out = math.prod(geo.out[1:])
    bytes_per_row = 8 * ((1 if wmat_t is None else 2)  # xp, and its grad for col2im
                         * c * math.prod(geo.padded[1:]) * geo.stride[0]
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
        dw += np.matmul(cols, dys.transpose(0, 2, 1)).transpose(0, 2, 1)
        del cols
        if wmat_t is not None:
            col2im(dx, wmat_t, dys, geo, slab, out)
        del dys  # free this slab's temporaries before the next is built
    return dx, dw.reshape(w.shape), db


def col2im(dx: np.ndarray, wmat_t: np.ndarray, dys: np.ndarray, geo: WindowGeometry,
           slab: Slab, out: tuple[int, ...]) -> None:
    """``dx += `` one slab's share of the input gradient: the columns' gradient
    ``wmat_t @ dys`` scattered back over the kernel taps."""
    c, nb = dx.shape[1], slab.batch.stop - slab.batch.start
    dcols = np.matmul(wmat_t, dys).reshape(c, *geo.kernel, nb, *out)
    shape, _, _ = slab_regions(dx.shape, geo.pads, geo.padded, slab, geo.kernel,
                               geo.stride, geo.dilation)
    part = np.zeros(shape, dtype=_F64)
    for j, cells in tap_slices(geo.kernel, geo.stride, geo.dilation, out):
        part[(slice(None), slice(None), *cells)] += dcols[(slice(None), *j)].swapaxes(0, 1)
    del dcols
    add_slab_to_input(dx, part, geo.pads, geo.padded, slab, geo.kernel, geo.stride,
                      geo.dilation)
