"""Convolution as deep-learning frameworks compute it: cross-correlation, no kernel flip."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from reference._validate import check_array, check_input, check_int
from reference.padding import WindowGeometry, window_geometry
from reference.windows import Slab, padded_slab, slabs, sliding_windows

_F64 = np.dtype(np.float64)


def conv_geometry(x: Any, w: Any, b: Any = None, *, stride: Any = 1, padding: Any = 0,
                  dilation: Any = 1, groups: int = 1
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, WindowGeometry]:
    """Check the arguments of :func:`conv` (same signature) and resolve its geometry.

    Returns
    -------
    x, w, b : numpy.ndarray (b may be None)
        The arrays, checked.
    geometry : WindowGeometry
        Kernel, stride, dilation, ``(lo, hi)`` padding and output sizes.

    Raises
    ------
    ValueError, TypeError
        Whatever :func:`conv` raises for bad input.
    """
    args = conv_arguments(x, w, b, stride, padding, dilation, groups)
    return args.x, args.w, args.b, args.geo


def conv(
    x: Any,
    w: Any,
    b: Any = None,
    *,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> np.ndarray:
    """N-dimensional cross-correlation with padding, stride, dilation and groups.

    ``y[n, o, *p] = b[o] + sum over c, *j of xp[n, g*Cg + c, *(p*stride + j*dilation)]
    * w[o, c, *j]`` where ``g = o // (O // groups)``, ``Cg = C // groups`` and ``xp`` is
    ``x`` padded with zeros. The kernel is not flipped: this is what every framework calls
    convolution.

    Parameters
    ----------
    x : array_like, shape (N, C, *spatial)
        Input, channels first, with 1, 2 or 3 spatial dimensions; any integer or floating
        dtype (bfloat16 from ``ml_dtypes`` included).
    w : array_like, shape (O, C // groups, *kernel)
        Weights, same number of spatial dimensions as ``x``.
    b : array_like, shape (O,), optional
        Bias added to every output position of channel ``o``.
    stride, dilation : int or sequence of int, default 1
        Per spatial dimension, ``>= 1``. Dilation spaces the kernel taps ``dilation``
        cells apart.
    padding : int, sequence or str, default 0
        Zero padding; every form of :func:`reference.resolve_padding`: ints, per-dim ints,
        ``(lo, hi)`` pairs, ``"valid"``, ``"same"`` (odd extra cell at the end, as
        TensorFlow) and ``"same_lower"`` (odd extra cell at the beginning).
    groups : int, default 1
        Input and output channels are split into ``groups`` independent convolutions;
        ``C`` and ``O`` must both be divisible by it. ``groups == C`` is depthwise.

    Returns
    -------
    numpy.ndarray, float64, shape (N, O, *out)
        Computed in float64 from the exact float64 values of the inputs; NaN and inf
        propagate as IEEE arithmetic says (``inf * 0`` is NaN). Empty inputs are defined:
        N = 0 gives an empty result of shape ``(0, O, *out)``; C = 0 (weights of shape
        ``(O, 0, *kernel)``, any ``groups`` dividing ``O``) sums no products, so every
        output is the empty sum 0 plus the bias.

    Raises
    ------
    ValueError, TypeError
        For bad input, naming the argument and the offending values.
    """
    args = conv_arguments(x, w, b, stride, padding, dilation, groups)
    x, w, b, geo, groups = args.x, args.w, args.b, args.geo, args.groups
    n, c, *_ = x.shape
    o, cg, *kernel = w.shape
    og, taps = o // groups, math.prod(kernel)
    # (groups, O/g, C/g * taps): each group's filters as rows of one matrix
    wmat = w.astype(_F64).reshape(groups, og, cg * taps)
    bias = None if b is None else b.astype(_F64).reshape(o, *(1,) * (1 + len(kernel)))
    y = np.empty((n, o, *geo.out), dtype=_F64)
    rest_out = math.prod(geo.out[1:])
    bytes_per_row = 8 * (c * math.prod(geo.padded[1:]) * geo.stride[0]  # padded input
                         + c * taps * rest_out                            # im2col columns
                         + o * rest_out)                                  # product
    for slab in slabs(n, geo.out, bytes_per_row):
        cols = columns(x, geo, slab, groups)
        out = (slab.rows.stop - slab.rows.start, *geo.out[1:])
        dst = y[slab.batch, :, slab.rows].swapaxes(0, 1)  # (O, N, *out)
        if dst.shape[1] == 1 and write_product(wmat, cols, dst[:, 0]):
            if bias is not None:
                dst += bias
        else:
            # one matrix product per group over the whole slab: (O, N, *out)
            prod = np.matmul(wmat, cols).reshape(o, -1, *out)
            if bias is None:
                dst[...] = prod
            else:
                np.add(prod, bias, out=dst)
            del prod
        del cols  # free this slab's temporaries before the next is built
    return y


def write_product(wmat: np.ndarray, cols: np.ndarray, dst: np.ndarray) -> bool:
    """``dst[...] = wmat @ cols`` written by the product itself, when ``dst`` (O, *out),
    one batch item's output rows, can be seen as ``(groups, O/g, positions)`` without a
    copy (its positions one contiguous run per channel); False, with nothing written,
    otherwise."""
    groups, og, _ = wmat.shape
    target = dst.reshape(groups, og, -1)
    if not np.may_share_memory(target, dst):  # reshape had to copy
        return False
    np.matmul(wmat, cols, out=target)
    return True


def columns(x: np.ndarray, geo: WindowGeometry, slab: Slab, groups: int) -> np.ndarray:
    """im2col of one slab: ``(groups, C/g * taps, N * positions)``, float64, the batch
    among the columns, so that each group's product with its filters is one matrix
    product however small the output. One copy of the strided window view."""
    xp = padded_slab(x, geo.pads, geo.padded, slab, geo.kernel, geo.stride, geo.dilation,
                     0, _F64)
    out = (slab.rows.stop - slab.rows.start, *geo.out[1:])
    view = sliding_windows(xp, geo.kernel, geo.stride, geo.dilation, out)
    nb, c, nd = view.shape[0], view.shape[1], len(out)
    cols = view.reshape(nb, groups, c // groups, *out, *geo.kernel)
    cols = cols.transpose(1, 2, *range(3 + nd, 3 + 2 * nd), 0, *range(3, 3 + nd))
    return cols.reshape(groups, c // groups * math.prod(geo.kernel), nb * math.prod(out))


@dataclass(frozen=True)
class ConvArguments:
    """A convolution's checked arrays and resolved window geometry."""

    x: np.ndarray
    w: np.ndarray
    b: np.ndarray | None
    geo: WindowGeometry
    groups: int


def conv_arguments(x: Any, w: Any, b: Any, stride: Any, padding: Any, dilation: Any,
                   groups: Any) -> ConvArguments:
    """Check the arguments of :func:`conv` and resolve its geometry; the one home of the
    convolution's argument rules, shared by :func:`conv` and its VJP.

    Raises
    ------
    ValueError, TypeError
        For bad input, naming the argument and the offending values.
    """
    x = check_input(x)
    w = check_array(w, "w")
    if w.ndim != x.ndim:
        raise ValueError(f"w must have shape (O, C // groups, *kernel) with as many spatial "
                         f"dimensions as x: x has shape {x.shape}, w has shape {w.shape}")
    groups = check_int(groups, "groups", 1)
    _, c, *in_sizes = x.shape
    o, cg, *kernel = w.shape
    if c % groups or o % groups:
        raise ValueError(f"input channels C={c} and output channels O={o} must both be "
                         f"divisible by groups={groups}")
    if cg != c // groups:
        raise ValueError(f"w must have C // groups = {c} // {groups} = {c // groups} input "
                         f"channels (w.shape[1]), got w of shape {w.shape}")
    if min(kernel, default=1) < 1 or o < 1:
        raise ValueError(f"w must have at least one output channel and kernel sizes >= 1, "
                         f"got w of shape {w.shape}")
    if b is not None:
        b = check_array(b, "b")
        if b.shape != (o,):
            raise ValueError(f"b must have shape (O,) = ({o},), got shape {b.shape}")
    geo = window_geometry(in_sizes, kernel, stride, padding, dilation, kernel_name="kernel")
    return ConvArguments(x, w, b, geo, groups)
