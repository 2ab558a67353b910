"""Max and average pooling over 1-D, 2-D and 3-D windows."""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from reference._validate import check_input
from reference.padding import WindowGeometry, cells_counted, window_geometry
from reference.windows import padded_slab, slabs, sliding_windows

_F64 = np.dtype(np.float64)

_POOL_ARGS_DOC = """
    x : array_like, shape (N, C, *spatial)
        Input, channels first, with 1, 2 or 3 spatial dimensions.
    kernel_size : int or sequence of int
        Window size per spatial dimension, ``>= 1``.
    stride : int, sequence of int, or None, default None
        Window step; ``None`` means the kernel size.
    padding : int, sequence or str, default 0
        Every form of :func:`reference.resolve_padding`. ``"same"`` pads the odd extra
        cell at the end (TensorFlow ``SAME``), ``"same_lower"`` at the beginning.
    dilation : int or sequence of int, default 1
        Spacing of the window's taps.
    ceil_mode : bool, default False
        Round output sizes up instead of down, but drop a last window that would start
        in the right padding or past it (the PyTorch / ONNX rule). The cells a window
        overhangs past the padding are not part of the input.

    An input with N = 0 or C = 0 gives an empty result of shape ``(N, C, *out)``.
"""


def pool_geometry(x: Any, kernel_size: Any, *, stride: Any = None, padding: Any = 0,
                  dilation: Any = 1, ceil_mode: bool = False, count_include_pad: bool = True
                  ) -> tuple[np.ndarray, WindowGeometry]:
    """Check the arguments of :func:`max_pool` and :func:`avg_pool` (same signature) and
    resolve the windows' geometry.

    Returns
    -------
    x : numpy.ndarray
        The input, checked.
    geometry : WindowGeometry
        Kernel, stride, dilation, ``(lo, hi)`` padding and output sizes.

    Raises
    ------
    ValueError, TypeError
        Whatever the poolings raise for bad input, a window of padding only included.
    """
    x = check_input(x)
    if not isinstance(count_include_pad, bool | np.bool_):
        raise TypeError(f"count_include_pad must be a bool, got {count_include_pad!r}")
    geo = window_geometry(x.shape[2:], kernel_size, kernel_size if stride is None else stride,
                          padding, dilation, ceil_mode)
    # A window of padding only has no defined maximum or average: refuse it. (Without
    # padding, every window starts on an input cell.)
    if any(lo or hi for lo, hi in geo.pads):
        for axis, count in enumerate(cells_counted(geo, x.shape[2:], include_pad=False)):
            if not count.all():
                raise ValueError(
                    f"padding {geo.pads} is so large for kernel {geo.kernel}, dilation "
                    f"{geo.dilation} that a window covers padding only along spatial "
                    f"dimension {axis} (input sizes {tuple(x.shape[2:])}); pooling is "
                    f"undefined there"
                )
    return x, geo


def _reduce_windows(x: np.ndarray, geo: WindowGeometry, fill: float | int, dtype: np.dtype,
                    combine: np.ufunc, divisor: np.ndarray | None = None) -> np.ndarray:
    """``combine``-reduce every window of ``x`` padded with ``fill``; result in ``dtype``,
    divided by ``divisor`` (one value per output position) if given.

    A window is a box, so its reduction is one spatial dimension at a time: the windows
    along the first dimension, then along the second on that result, and so on. Each
    element sees its taps in the same order whatever the slabs.
    """
    n, c = x.shape[:2]
    y = np.empty((n, c, *geo.out), dtype=dtype)
    for slab in slabs(n, geo.out, reduce_bytes_per_row(geo, c, dtype)):
        padded = padded_slab(x, geo.pads, geo.padded, slab, geo.kernel, geo.stride,
                             geo.dilation, fill, dtype)
        reduced = reduce_slab(padded, geo, slab.rows.stop - slab.rows.start, combine,
                              y[slab.batch, :, slab.rows])
        del padded
        if divisor is not None:
            reduced /= divisor[slab.rows]
        del reduced  # free this slab's temporaries before the next is built
    return y


def reduce_bytes_per_row(geo: WindowGeometry, c: int, dtype: np.dtype) -> int:
    """Temporaries of :func:`reduce_slab` per output row and batch item: the padded input
    rows, and the result of every pass but the last (which goes to its destination)."""
    nd = len(geo.out)
    passes = [math.prod((*geo.out[1:axis + 1], *geo.padded[axis + 1:]))
              for axis in range(nd - 1)]
    return dtype.itemsize * c * (math.prod(geo.padded[1:]) * geo.stride[0] + sum(passes))


def reduce_slab(padded: np.ndarray, geo: WindowGeometry, rows: int, combine: np.ufunc,
                dst: np.ndarray | None = None) -> np.ndarray:
    """``combine``-reduce the windows of ``rows`` output rows of a padded slab (as
    :func:`reference.windows.padded_slab` builds it), one spatial dimension at a time,
    into ``dst`` (a new array if None)."""
    nd = len(geo.out)
    reduced = padded
    for axis in range(nd):
        size = rows if axis == 0 else geo.out[axis]
        reduced = _reduce_axis(reduced, geo, axis, size, combine,
                               dst if axis == nd - 1 else None)
    return reduced


def avg_divisor(geo: WindowGeometry, in_sizes: tuple[int, ...], count_include_pad: bool
                ) -> np.ndarray:
    """The average's divisor of every output position (one channel): the product of the
    per-dimension :func:`reference.cells_counted`."""
    return functools.reduce(np.multiply.outer,
                            cells_counted(geo, in_sizes, bool(count_include_pad)))


def _reduce_axis(a: np.ndarray, geo: WindowGeometry, axis: int, size: int,
                 combine: np.ufunc, dst: np.ndarray | None) -> np.ndarray:
    """``combine``-reduce the ``size`` windows of ``a`` along spatial dimension ``axis``
    only, taps in order, into ``dst`` (a new array if None)."""
    nd = a.ndim - 2

    def along_axis(value: int) -> tuple[int, ...]:
        return (*(1,) * axis, value, *(1,) * (nd - 1 - axis))

    sizes = (*a.shape[2:2 + axis], size, *a.shape[3 + axis:])
    view = sliding_windows(a, along_axis(geo.kernel[axis]), along_axis(geo.stride[axis]),
                           along_axis(geo.dilation[axis]), sizes)
    taps = view.reshape(*view.shape[:2 + nd], geo.kernel[axis])  # the other sizes are 1
    if dst is None:
        dst = np.empty(taps.shape[:-1], dtype=a.dtype)
    dst[...] = taps[..., 0]
    for j in range(1, geo.kernel[axis]):
        combine(dst, taps[..., j], out=dst)
    return dst


def max_pool(
    x: Any,
    kernel_size: Any,
    *,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
) -> np.ndarray:
    """Maximum over each window.

    Parameters
    ----------""" + _POOL_ARGS_DOC + """
    Returns
    -------
    numpy.ndarray, shape (N, C, *out), the dtype of ``x``
        Padding never wins: it is ``-inf`` for floating dtypes and the dtype's minimum for
        integers. A NaN anywhere in a window makes that output NaN.

    Raises
    ------
    ValueError, TypeError
        For bad input, naming the argument and the offending values, and when a window
        would cover padding only.
    """
    x, geo = pool_geometry(x, kernel_size, stride=stride, padding=padding, dilation=dilation,
                           ceil_mode=ceil_mode)
    fill = np.iinfo(x.dtype).min if x.dtype.kind in "iu" else -np.inf
    return _reduce_windows(x, geo, fill, x.dtype, np.maximum)


def avg_pool(
    x: Any,
    kernel_size: Any,
    *,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> np.ndarray:
    """Mean over each window.

    Parameters
    ----------""" + _POOL_ARGS_DOC + """
    count_include_pad : bool, default True
        The divisor: with True, the number of the window's cells that lie in the input or
        in the padding (explicit, or what ``"same"`` resolves to); with False, the number
        that lie in the input. Cells that only ceil mode adds past the padding never count.

    Returns
    -------
    numpy.ndarray, float64, shape (N, C, *out)
        Sum of the window's input cells (padding adds zero) divided by the divisor.
        NaN and inf propagate as IEEE arithmetic says.

    Raises
    ------
    ValueError, TypeError
        For bad input, naming the argument and the offending values, and when a window
        would cover padding only.
    """
    x, geo = pool_geometry(x, kernel_size, stride=stride, padding=padding, dilation=dilation,
                           ceil_mode=ceil_mode, count_include_pad=count_include_pad)
    divisor = avg_divisor(geo, x.shape[2:], bool(count_include_pad))
    return _reduce_windows(x, geo, 0, _F64, np.add, divisor)
