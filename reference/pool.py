"""Max and average pooling over 1-D, 2-D and 3-D windows."""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from reference._validate import check_input
from reference.padding import WindowGeometry, cells_counted, window_geometry
from reference.parallel import run_each
from reference.windows import PlaneSlab, input_taps, plane_slabs, rows_read

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


def _reduce_windows(x: np.ndarray, geo: WindowGeometry, dtype: np.dtype, combine: np.ufunc,
                    divisor: np.ndarray | None = None) -> np.ndarray:
    """``combine``-reduce every window of ``x`` over its input cells; result in ``dtype``,
    divided by ``divisor`` (one value per output position) if given: the average, whose
    padding adds zero.
    """
    n, c = x.shape[:2]
    y = np.empty((n, c, *geo.out), dtype=dtype)

    def reduce(slab: PlaneSlab) -> None:
        reduced = reduce_slab(x, geo, slab, combine, dtype,
                              y[slab.batch, slab.channels, slab.rows],
                              zero_padding=divisor is not None)
        if divisor is not None:
            reduced /= divisor[slab.rows]

    run_each(reduce, plane_slabs(n, c, geo.out, *reduce_bytes_per_row(geo, x.dtype, dtype)))
    return y


def reduce_bytes_per_row(geo: WindowGeometry, in_dtype: np.dtype, dtype: np.dtype
                         ) -> tuple[int, int]:
    """Per output row of one plane, the temporaries of :func:`reduce_slab` (the result of
    every pass but the last, which goes to its destination, and the input rows converted
    to ``dtype`` if ``in_dtype`` differs), and all the memory it touches (those, the
    input rows it reads and its result)."""
    nd = len(geo.out)
    passes = [math.prod((*geo.out[1:axis + 1], *geo.padded[axis + 1:]))
              for axis in range(nd - 1)]
    read = math.prod(geo.padded[1:]) * geo.stride[0]
    converted = read if in_dtype != dtype else 0
    temporaries = dtype.itemsize * (converted + sum(passes))
    return temporaries, (temporaries + in_dtype.itemsize * read
                         + dtype.itemsize * math.prod(geo.out[1:]))


@functools.lru_cache(maxsize=256)
def axis_plan(size: int, start: int, stop: int, kernel: int, stride: int, dilation: int,
              lo: int) -> tuple[tuple[Step, ...], tuple[slice, ...]]:
    """Along one spatial dimension: the :func:`axis_steps` of the
    :func:`reference.windows.input_taps` of outputs ``[start, stop)``, and the runs of
    outputs (relative to ``start``) whose window holds padding (fewer taps than ``kernel``
    read the input)."""
    taps = input_taps(size, start, stop, kernel, stride, dilation, lo)
    counts = np.zeros(stop - start, dtype=np.intp)
    for _, outputs, _ in taps:
        counts[outputs] += 1
    return axis_steps(taps), index_runs(np.flatnonzero(counts < kernel))


def index_runs(indices: np.ndarray) -> tuple[slice, ...]:
    """Ascending ``indices`` as runs of consecutive ones: one slice per run."""
    cuts = [0, *(np.flatnonzero(np.diff(indices) != 1) + 1).tolist(), len(indices)]
    return tuple(slice(int(indices[a]), int(indices[b - 1]) + 1)
                 for a, b in itertools.pairwise(cuts) if a < b)


def reduce_slab(x: np.ndarray, geo: WindowGeometry, slab: PlaneSlab, combine: np.ufunc,
                dtype: np.dtype, dst: np.ndarray, *, zero_padding: bool = False
                ) -> np.ndarray:
    """``combine``-reduce the windows of ``slab`` over their input cells, in ``dtype``,
    into ``dst`` (returned).

    A window is a box, so its reduction is one spatial dimension at a time: the windows
    along the first dimension, then along the second on that result, and so on, each
    over its taps in order. The padding is not built: a tap that reads it is skipped,
    which changes nothing for the maximum (padding is the smallest value, and never
    wins). For the sum (``zero_padding``), padding adds ``+0.0``, which changes one thing
    only: a sum of negative zeros becomes ``+0.0``; that ``+0.0`` is added to the outputs
    whose windows hold padding, so the result is exactly that of summing the padded
    input. Each output sees its taps in the same order whatever the slabs.
    """
    rows = slab.rows
    # the input rows the slab reads, in dtype (a view if x has it)
    read = rows_read(x.shape[2], rows, geo.kernel[0], geo.stride[0], geo.dilation[0],
                     geo.pads[0][0])
    first, reduced = read.start, x[slab.batch, slab.channels, read]
    if reduced.dtype != dtype:
        reduced = reduced.astype(dtype)
    nd = len(geo.out)
    for axis in range(nd):
        start, stop = (rows.start, rows.stop) if axis == 0 else (0, geo.out[axis])
        lo = geo.pads[axis][0] + (first if axis == 0 else 0)
        steps, padded = axis_plan(reduced.shape[2 + axis], start, stop, geo.kernel[axis],
                                  geo.stride[axis], geo.dilation[axis], lo)
        shape = (*reduced.shape[:2 + axis], stop - start, *reduced.shape[3 + axis:])
        into = dst if axis == nd - 1 else np.empty(shape, dtype=dtype)
        reduce_axis(reduced, into, axis, steps, combine)
        if zero_padding:
            for run in padded:
                into[(slice(None),) * (2 + axis) + (run,)] += 0.0
        reduced = into
    return reduced


def avg_divisor(geo: WindowGeometry, in_sizes: tuple[int, ...], count_include_pad: bool
                ) -> np.ndarray:
    """The average's divisor of every output position (one channel): the product of the
    per-dimension :func:`reference.cells_counted`, in float64 (exact: a count), so that
    dividing by it casts nothing."""
    return functools.reduce(np.multiply.outer,
                            cells_counted(geo, in_sizes, bool(count_include_pad))
                            ).astype(_F64)


#: One operation of :func:`reduce_axis`: ``"both"`` combines two taps of the input,
#: ``"copy"`` copies one, ``"add"`` combines the result so far with one; the input's cells
#: (or ``None``), the input's cells (or ``None``), the outputs (slices along the axis).
Step = tuple[str, slice | None, slice | None, slice]


def reduce_axis(a: np.ndarray, dst: np.ndarray, axis: int, steps: Sequence[Step],
                combine: np.ufunc) -> None:
    """``combine``-reduce ``a`` along spatial dimension ``axis`` into ``dst`` by the
    ``steps`` of :func:`axis_steps`."""
    lead = (slice(None),) * (2 + axis)
    for kind, first, second, outputs in steps:
        into = dst[(*lead, outputs)]
        if kind == "copy":
            into[...] = a[(*lead, first)]
        elif kind == "both":
            combine(a[(*lead, first)], a[(*lead, second)], out=into)
        else:
            combine(into, a[(*lead, second)], out=into)


def axis_steps(taps: Sequence[tuple[int, slice, slice]]) -> tuple[Step, ...]:
    """The operations that reduce one spatial dimension, the taps of each output in order
    (from :func:`reference.windows.input_taps`): its first two taps combined (or its one
    tap copied), then the next ones combined into it.

    The outputs of a tap are an interval that starts and ends no later than those of the
    taps before it; ``held`` is where the outputs that have a value begin."""

    def src(i: int, lo: int, hi: int) -> slice:  # the cells tap i reads for [lo, hi)
        _, outputs, cells = taps[i]
        step = cells.step
        begin = cells.start + (lo - outputs.start) * step
        return slice(begin, begin + (hi - lo - 1) * step + 1, step)

    steps: list[Step] = []
    first = taps[0][1]
    if len(taps) == 1:
        return (("copy", src(0, first.start, first.stop), None, first),)
    second = taps[1][1]
    assert second.start <= first.start and second.stop <= first.stop
    if first.start < second.stop:  # outputs of both
        steps.append(("both", src(0, first.start, second.stop),
                      src(1, first.start, second.stop), slice(first.start, second.stop)))
    only = max(second.stop, first.start)
    if only < first.stop:  # of the first tap only
        steps.append(("copy", src(0, only, first.stop), None, slice(only, first.stop)))
    only = min(first.start, second.stop)
    if second.start < only:  # of the second only: it is their first
        steps.append(("copy", src(1, second.start, only), None, slice(second.start, only)))
    held = second.start
    for i in range(2, len(taps)):
        outputs = taps[i][1]
        split = min(max(held, outputs.start), outputs.stop)
        if outputs.start < split:  # their first tap
            steps.append(("copy", src(i, outputs.start, split), None,
                          slice(outputs.start, split)))
        if split < outputs.stop:
            steps.append(("add", None, src(i, split, outputs.stop),
                          slice(split, outputs.stop)))
        held = min(held, outputs.start)
    return tuple(steps)


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
    return _reduce_windows(x, geo, x.dtype, np.maximum)


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
    return _reduce_windows(x, geo, _F64, np.add, divisor)
