"""The windows, and the memory budget that bounds their temporaries.

One geometry, read three ways, in 1-D, 2-D and 3-D alike. :func:`sliding_windows` returns
a strided (copy-free) view ``(N, C, *out, *kernel)`` of a padded input: all the taps at
once, what the convolution's im2col copies. :func:`input_taps` gives the same windows one
tap and one dimension at a time, without building the padding: the poolings reduce over
it, and their gradients, the convolution's among them, add into it. :func:`phase_planes`
copies an input split by stride phase, padding included, where every tap reads one
contiguous run for all the windows: the max-pool gradient searches each window's first
maximum there.
Large inputs are processed in slabs, so that no temporary exceeds the budget whatever the
input size: the convolution's (:func:`slabs`) over the batch and the first spatial
dimension, the poolings' (:func:`plane_slabs`) over planes (a channel of a batch item)
and the first spatial dimension, small enough to stay in a core's cache.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from reference._settings import Count, scoped
from reference.padding import Pads, extent
from reference.parallel import get_threads

DEFAULT_MEMORY_BUDGET = 256 * 2**20
_budget = Count("nbytes", DEFAULT_MEMORY_BUDGET)

#: Temporaries of one slab, at most, whatever the budget: the size of a cache.
SLAB_BYTES = 16 * 2**20
#: Kept out of the budget for what NumPy buffers while it loops over strided arrays
#: (up to three operands of 8192 elements of up to 16 bytes).
UFUNC_BUFFERS = 3 * 8192 * 16


def get_memory_budget() -> int:
    """Bytes of temporary memory one call may use (default 256 MiB)."""
    return _budget.value


def set_memory_budget(nbytes: int) -> int:
    """Set the temporary-memory budget in bytes; returns the previous one.

    Raises
    ------
    ValueError
        If ``nbytes`` is below 1.
    """
    return _budget.set(nbytes)


memory_budget = scoped(set_memory_budget, """Context manager: use ``nbytes`` as the
temporary-memory budget inside the block.""")


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
    usable = min(_budget.value, SLAB_BYTES) - UFUNC_BUFFERS
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


#: Temporaries of one pooling slab, at most, whatever the budget. The poolings make a few
#: cheap passes over each slab, so they run at the speed their data comes from: slabs
#: that stay in a core's own cache are several times faster than slabs that spill out.
#: Not much smaller, though: two threads calling NumPy on small arrays hand the GIL back
#: and forth more than they compute (measured on 8×64×112×112, two threads: 2 MiB runs
#: both poolings in 7.4 and 9.2 ms, 1 MiB in 8.7 and 11.3, 4 MiB in 10.3 and 9.0).
POOL_SLAB_BYTES = 2 * 2**20


@dataclass(frozen=True)
class PlaneSlab:
    """One piece of a pooling: channels ``channels`` of batch items ``batch`` (every pair
    one plane, pooled on its own), output rows ``rows`` (first dim)."""

    batch: slice
    channels: slice
    rows: slice


def plane_slabs(n: int, c: int, out: Sequence[int], bytes_per_row: int, touched_per_row: int,
                cache: int | None = None) -> Iterator[PlaneSlab]:
    """Split ``n`` batch items × ``c`` channels × ``out[0]`` output rows into pieces whose
    temporaries fit the budget and whose data fit ``cache`` bytes (default
    :data:`POOL_SLAB_BYTES`).

    Per output row of one plane (one channel of one batch item), ``bytes_per_row`` is the
    temporary memory the piece needs, ``touched_per_row`` all the memory it reads or
    writes (its input, temporaries and result). Whole batch items are grouped while they
    fit; else the channels of one item; else a single plane is split by rows. Pieces are
    of about the same size. One row of one plane is the smallest piece. The budget is
    shared by the slabs that run at once, one per thread (:mod:`reference.parallel`).
    """
    if n == 0 or c == 0:  # an empty input: nothing to compute
        return
    usable = _budget.value // get_threads() - UFUNC_BUFFERS  # every thread holds a slab
    cache = POOL_SLAB_BYTES if cache is None else cache
    rows_fit = max(1, min(usable // max(bytes_per_row, 1),
                          cache // max(touched_per_row, 1)))
    planes = rows_fit // out[0]
    if planes >= c:
        per_batch = _even_step(n, planes // c)
        for b in range(0, n, per_batch):
            yield PlaneSlab(slice(b, min(b + per_batch, n)), slice(0, c), slice(0, out[0]))
    elif planes >= 1:
        per_slab = _even_step(c, planes)
        for b in range(n):
            for ch in range(0, c, per_slab):
                yield PlaneSlab(slice(b, b + 1), slice(ch, min(ch + per_slab, c)),
                                slice(0, out[0]))
    else:
        per_slab = _even_step(out[0], rows_fit)
        for b in range(n):
            for ch in range(c):
                for r in range(0, out[0], per_slab):
                    yield PlaneSlab(slice(b, b + 1), slice(ch, ch + 1),
                                    slice(r, min(r + per_slab, out[0])))


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


@dataclass(frozen=True)
class PhaseLayout:
    """Where the windows of one slab read a copy of its input split by phase
    (:func:`phase_layout`).

    Attributes
    ----------
    shape : tuple of int
        Per plane: the number of phases (``prod(stride)``), then their sizes ``E``.
    length : int
        ``L``: the windows of a plane, numbered ``sum(o[i] * pitch[i])`` with ``pitch`` the
        C-order strides of ``E``, run from 0 to ``L - 1`` (numbers whose ``o`` is past
        the output along a dimension are junk, and only those).
    taps : tuple of (int, int, int)
        Every kernel tap in row-major order: its number, its phase and the flat offset in
        that phase where window 0 reads it; window ``e`` reads it ``e`` cells further on.
    copies : tuple of (int, tuple of slice, tuple of slice)
        Per phase: its number, the box of it that input cells fill, and those cells.
    """

    shape: tuple[int, ...]
    length: int
    taps: tuple[tuple[int, int, int], ...]
    copies: tuple[tuple[int, tuple[slice, ...], tuple[slice, ...]], ...]

    @property
    def pitch(self) -> tuple[int, ...]:
        """The C-order strides of the phases' sizes ``E``."""
        return tuple(math.prod(self.shape[2 + axis:]) for axis in range(len(self.shape) - 1))


@functools.lru_cache(maxsize=64)
def phase_layout(sizes: tuple[int, ...], out: tuple[int, ...], kernel: tuple[int, ...],
                 stride: tuple[int, ...], dilation: tuple[int, ...], lo: tuple[int, ...]
                 ) -> PhaseLayout:
    """The layout of :func:`phase_planes` for windows ``0 <= o < out`` over an input of
    ``sizes`` cells with ``lo`` cells of padding before it, per spatial dimension.

    Along one dimension, window ``o`` reads cell ``o * stride + t * dilation - lo`` at tap
    ``t``; with ``t * dilation - lo = q * stride + p`` (``0 <= p < stride``) that is cell
    ``(o + q) * stride + p``: entry ``o + q - min(q)`` of phase ``p``, the cells ``p, p +
    stride, ...``. A phase holds ``E = out + max(q) - min(q)`` entries, what the taps
    reach, input cells or not. Each tap then reads a contiguous run of every phase,
    whatever the dimension: a shift, the same for every window.
    """
    nd = len(sizes)
    qs, ps, extents = [], [], []
    for axis in range(nd):
        offset = [t * dilation[axis] - lo[axis] for t in range(kernel[axis])]
        qs.append([o // stride[axis] for o in offset])
        ps.append([o % stride[axis] for o in offset])
        extents.append(out[axis] + max(qs[axis]) - min(qs[axis]))
    pitch = [math.prod(extents[axis + 1:]) for axis in range(nd)]
    length = sum((o - 1) * p for o, p in zip(out, pitch, strict=True)) + 1
    taps = []
    for number, tap in enumerate(np.ndindex(*kernel)):
        phase = 0
        offset = 0
        for axis, t in enumerate(tap):
            phase = phase * stride[axis] + ps[axis][t]
            offset += (qs[axis][t] - min(qs[axis])) * pitch[axis]
        taps.append((number, phase, offset))
    copies = []
    for number, phase in enumerate(np.ndindex(*stride)):
        box, cells = [], []
        for axis, p in enumerate(phase):
            q0 = min(qs[axis])
            # entry u holds cell (u + q0) * stride + p, an input cell for 0 <= it < size
            first = max(0, -q0)
            last = min(extents[axis], (sizes[axis] - 1 - p) // stride[axis] - q0 + 1)
            last = max(first, last)
            box.append(slice(first, last))
            start = (first + q0) * stride[axis] + p
            cells.append(slice(start, start + (last - first - 1) * stride[axis] + 1,
                               stride[axis]) if last > first else slice(0, 0))
        copies.append((number, tuple(box), tuple(cells)))
    return PhaseLayout((math.prod(stride), *extents), length, tuple(taps), tuple(copies))


def phase_planes(part: np.ndarray, layout: PhaseLayout, fill: float | int,
                 dtype: np.dtype | None = None) -> np.ndarray:
    """``part`` (``(N, C, *sizes)``) split by phase as :func:`phase_layout` says, in
    ``dtype`` (default its own), the cells no input is at filled with ``fill``; shape
    ``(N * C, phases, prod(E))``, the last axis each phase's entries in C order."""
    planes = math.prod(part.shape[:2])
    split = np.empty((planes, *layout.shape), dtype=part.dtype if dtype is None else dtype)
    flat = part.reshape(planes, *part.shape[2:])
    lead = (slice(None),)
    for number, box, cells in layout.copies:
        phase = split[:, number]
        if not all(b.stop > b.start for b in box):
            phase[...] = fill
            continue
        phase[(*lead, *box)] = flat[(*lead, *cells)]
        for axis, b in enumerate(box):  # the rest: before and after the box
            for border in (slice(0, b.start), slice(b.stop, phase.shape[1 + axis])):
                if border.start < border.stop:
                    phase[(*lead, *(slice(None),) * axis, border)] = fill
    return split.reshape(planes, layout.shape[0], -1)


def phase_taps(split: np.ndarray, layout: PhaseLayout
               ) -> Iterator[tuple[int, np.ndarray]]:
    """Every tap's number and what it reads, for every window ``0 <= e < L`` of every
    plane: views ``(planes, L)`` of ``split`` (from :func:`phase_planes`)."""
    for number, phase, offset in layout.taps:
        yield number, split[:, phase, offset:offset + layout.length]


def phase_windows(values: np.ndarray, layout: PhaseLayout, out: Sequence[int]
                  ) -> np.ndarray:
    """The real windows of ``values``, ``(planes, n)`` with one value per window number
    (``n >= out[0] * pitch[0]``; the first ``L`` are the windows): a view
    ``(planes, *out)``."""
    planes = values.shape[0]
    grid = values[:, :out[0] * layout.pitch[0]].reshape(planes, out[0], *layout.shape[2:])
    return grid[(slice(None), slice(None), *(slice(0, o) for o in out[1:]))]
