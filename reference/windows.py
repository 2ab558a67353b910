"""The windows, and the memory budget that bounds their temporaries.

One geometry, read two ways, in 1-D, 2-D and 3-D alike. :func:`sliding_windows` returns a
strided (copy-free) view ``(N, C, *out, *kernel)`` of a padded input: all the taps at once,
what the convolution's im2col copies. :func:`input_taps` gives the same windows one tap
and one dimension at a time, without building the padding: the poolings reduce over it,
and their gradients, the convolution's among them, add into it.
Large inputs are processed in slabs (:func:`slabs`) over the batch and the first spatial
dimension, so that no temporary exceeds the budget whatever the input size.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from reference._validate import check_int
from reference.padding import Pads, extent

DEFAULT_MEMORY_BUDGET = 256 * 2**20
_budget = DEFAULT_MEMORY_BUDGET

#: Temporaries of one slab, at most, whatever the budget: the size of a cache.
SLAB_BYTES = 16 * 2**20
#: Kept out of the budget for what NumPy buffers while it loops over strided arrays
#: (up to three operands of 8192 elements of up to 16 bytes).
UFUNC_BUFFERS = 3 * 8192 * 16


def get_memory_budget() -> int:
    """Bytes of temporary memory one call may use (default 256 MiB)."""
    return _budget


def set_memory_budget(nbytes: int) -> int:
    """Set the temporary-memory budget in bytes; returns the previous one.

    Raises
    ------
    ValueError
        If ``nbytes`` is below 1.
    """
    global _budget
    previous, _budget = _budget, check_int(nbytes, "nbytes", 1)
    return previous


@contextlib.contextmanager
def memory_budget(nbytes: int) -> Iterator[None]:
    """Context manager: use ``nbytes`` as the temporary-memory budget inside the block."""
    previous = set_memory_budget(nbytes)
    try:
        yield
    finally:
        set_memory_budget(previous)


@dataclass(frozen=True)
class Slab:
    """One piece of the work: batch items ``batch`` and output rows ``rows`` (first dim)."""

    batch: slice
    rows: slice


def slabs(n: int, out: Sequence[int], bytes_per_row: int) -> Iterator[Slab]:
    """Split ``n`` batch items × ``out[0]`` output rows into pieces that fit the budget.

    ``bytes_per_row`` is the temporary memory one batch item needs per output row. Whole
    batch items are grouped while they fit; a single item too large is split by rows;
    pieces are of about the same size. One row of one item is the smallest piece.

    Pieces are also kept within :data:`SLAB_BYTES` whatever the budget: temporaries of
    that size stay in the cache, and the C allocator hands the same memory to the next
    piece, where larger ones (past its mmap threshold, at most 32 MiB in glibc) are
    paged in afresh for every piece and streamed through memory.
    """
    if n == 0:  # an empty batch: nothing to compute
        return
    usable = min(_budget, SLAB_BYTES) - UFUNC_BUFFERS
    rows_fit = max(1, usable // max(bytes_per_row, 1))
    if rows_fit >= out[0]:
        per_batch = _even_step(n, rows_fit // out[0])
        for b in range(0, n, per_batch):
            yield Slab(slice(b, min(b + per_batch, n)), slice(0, out[0]))
        return
    per_slab = _even_step(out[0], rows_fit)
    for b in range(n):
        for r in range(0, out[0], per_slab):
            yield Slab(slice(b, b + 1), slice(r, min(r + per_slab, out[0])))


def _even_step(total: int, most: int) -> int:
    """The step that cuts ``total`` into as few pieces of at most ``most`` as possible,
    all of about the same size (no small last piece)."""
    pieces = -(-total // most)
    return -(-total // pieces)


def padded_slab(
    x: np.ndarray,
    pads: Pads,
    padded_sizes: Sequence[int],
    slab: Slab,
    kernel: Sequence[int],
    stride: Sequence[int],
    dilation: Sequence[int],
    fill: float | int,
    dtype: np.dtype,
) -> np.ndarray:
    """The part of the padded input that the windows of ``slab`` read, in ``dtype``.

    The padded input is ``x`` surrounded by ``fill``: ``lo`` cells before and enough after
    to reach ``padded_sizes`` (explicit padding plus, in ceil mode, the cells the last
    window overhangs). Only the rows of the first spatial dimension that ``slab.rows``
    needs are built. Where those windows read no padding and ``x`` already has ``dtype``,
    the result is a read-only view of ``x``; otherwise a fresh array.
    """
    shape, src, dst = slab_regions(x.shape, pads, padded_sizes, slab, kernel, stride,
                                   dilation)
    if x.dtype == dtype and all(d.stop - d.start == size
                                for d, size in zip(dst[2:], shape[2:], strict=True)):
        view = x[src]
        view.flags.writeable = False
        return view
    out = np.empty(shape, dtype=dtype)
    out[dst] = x[src]
    # the rest is padding: before and after the input along each dimension
    for axis, inside in enumerate(dst[2:]):
        index = [slice(None)] * out.ndim
        for border in (slice(0, inside.start), slice(inside.stop, shape[2 + axis])):
            if border.start < border.stop:
                index[2 + axis] = border
                out[tuple(index)] = fill
    return out


def slab_regions(
    x_shape: Sequence[int],
    pads: Pads,
    padded_sizes: Sequence[int],
    slab: Slab,
    kernel: Sequence[int],
    stride: Sequence[int],
    dilation: Sequence[int],
) -> tuple[tuple[int, ...], tuple[slice, ...], tuple[slice, ...]]:
    """The shape of the padded part that the windows of ``slab`` read (see
    :func:`padded_slab`), and where the input lies in it: ``part[dst]`` is ``x[src]``."""
    first = slab.rows.start * stride[0]
    last = (slab.rows.stop - 1) * stride[0] + (kernel[0] - 1) * dilation[0] + 1
    shape = (slab.batch.stop - slab.batch.start, x_shape[1], last - first, *padded_sizes[1:])
    # per spatial dimension: the input cells this slab reads, and where they go
    src, dst = [slab.batch, slice(None)], [slice(None), slice(None)]
    for axis, (lo, _) in enumerate(pads):
        begin, end = (first, last) if axis == 0 else (0, padded_sizes[axis])
        n = x_shape[2 + axis]
        a, b = max(begin, lo), min(end, lo + n)
        src.append(slice(a - lo, max(b - lo, a - lo)))
        dst.append(slice(a - begin, max(b - begin, a - begin)))
    return shape, tuple(src), tuple(dst)


def sliding_windows(
    padded: np.ndarray,
    kernel: Sequence[int],
    stride: Sequence[int],
    dilation: Sequence[int],
    out: Sequence[int],
) -> np.ndarray:
    """Strided view ``(N, C, *out, *kernel)`` of ``padded``: element ``[n, c, *o, *j]`` is
    ``padded[n, c, *(o * stride + j * dilation)]``. No data is copied."""
    lead, spatial = padded.strides[:2], padded.strides[2:]
    for o, k, s, d, size in zip(out, kernel, stride, dilation, padded.shape[2:], strict=True):
        assert extent(o, k, s, d) <= size, "window reaches past the padded slab"
    return np.lib.stride_tricks.as_strided(
        padded,
        shape=(*padded.shape[:2], *out, *kernel),
        strides=(*lead, *(st * s for st, s in zip(spatial, stride, strict=True)),
                 *(st * d for st, d in zip(spatial, dilation, strict=True))),
        writeable=False,
    )


def rows_read(size: int, rows: slice, kernel: int, stride: int, dilation: int, lo: int
              ) -> slice:
    """The input rows (first spatial dimension, ``size`` cells, ``lo`` cells of padding
    before) that the windows of output rows ``rows`` read."""
    return slice(max(0, rows.start * stride - lo),
                 min(size, (rows.stop - 1) * stride + (kernel - 1) * dilation - lo + 1))


def input_taps(
    size: int, start: int, stop: int, kernel: int, stride: int, dilation: int, lo: int,
) -> list[tuple[int, slice, slice]]:
    """Along one spatial dimension of an input of ``size`` cells padded with ``lo`` cells
    before it: every kernel tap ``t`` in ascending order, with the outputs in
    ``[start, stop)`` whose tap ``t`` reads an input cell (not padding, nor what ceil mode
    adds past it) and the cells they read. Taps that read no input cell are left out.

    Output ``o`` reads cell ``o * stride + t * dilation - lo`` at tap ``t``: as ``o`` grows
    so does the cell, so the outputs of one tap are one interval. The outputs come as a
    slice relative to ``start``, the cells as a slice of the input (step ``stride``):
    ``a[..., cells]`` lines up with ``b[..., outputs]``. This is :func:`sliding_windows`
    one tap at a time, without building the padding: poolings reduce over it and their
    gradients add into it (the cells of one tap are distinct).
    """
    taps = []
    for t in range(kernel):
        offset = t * dilation - lo
        first = max(start, -(offset // stride))                # o * stride + offset >= 0
        last = min(stop, (size - 1 - offset) // stride + 1)    # ... <= size - 1
        if first < last:
            taps.append((t, slice(first - start, last - start),
                         slice(first * stride + offset, (last - 1) * stride + offset + 1,
                               stride)))
    return taps
