"""Winograd minimal filtering F(2, 3): 3-tap convolutions with fewer multiplications.

A stride-1, undilated cross-correlation with a kernel of 3 cells along every spatial
dimension is computed tile by tile: 2 outputs per dimension (2×2 in 2-D, 2×2×2 in 3-D)
from 4 input cells per dimension, as::

    Y = A^T [ (G g G^T) ⊙ (B^T d B) ] A        (2-D; one transform per dimension in n-D)

with, from Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks" (CVPR 2016,
arXiv:1509.09308), section 4.1, the F(2, 3) matrices (interpolation points 0, 1, -1, ∞)::

    B^T = [[1,  0, -1,  0],      G = [[  1,    0,    0],      A^T = [[1, 1,  1,  0],
           [0,  1,  1,  0],           [1/2,  1/2,  1/2],             [0, 1, -1, -1]]
           [0, -1,  1,  0],           [1/2, -1/2,  1/2],
           [0,  1,  0, -1]]           [  0,    0,    1]]

``d`` is a 4-cell (4×4, 4×4×4) tile of the padded input, ``g`` the 3-cell (3×3, 3×3×3)
kernel of one (output, input) channel pair, and the sum over input channels is taken
between the transforms: for each of the ``4**nd`` transformed positions one matrix
product ``(tiles, C) @ (C, O)``. Per output that is ``(4/2)**nd`` products of ``C`` terms
instead of ``3**nd``: 2.25 times fewer in 2-D, 3.4 times fewer in 3-D. The bias is added
once per tile, to the transformed position ``(1, ..., 1)``, which ``A^T`` passes to every
output of the tile with weight 1.

Exactness: every entry of ``B`` and ``A`` is 0 or ±1 and every entry of ``G`` is 0, ±1/2 or
±1, so on integer inputs every intermediate value is a multiple of ``1/2**nd``; while
those stay below ``2**53 / 2**nd`` in magnitude every operation is exact in float64 and
the result equals the direct sum exactly.

Error: on general float64 inputs the result differs from the direct sum by a few units in
the last place of the largest partial sums. The transforms add and subtract the cells of
one tile (and the taps of one kernel) before multiplying, so the rounding error scales
with the transformed magnitudes ``|B^T| |d| |B|`` and ``|G| |g| |G^T|`` rather than with
``sum |x_k w_k|``: on inputs whose cells differ by many orders of magnitude within one
tile it can exceed the direct sum's error bound. F(4, 3), with 4 outputs per tile, would
save more products but its ``G`` has entries 1/6, 1/12 and 1/24, which are not exact in
binary floating point: integer inputs would no longer give exact results.

The input is read in slabs of tile rows (:func:`reference.windows.slabs`) whose
temporaries fit the memory budget (the transformed filters, like the direct path's
weight matrix, are built once per call, outside it), channels last, the last dimension
split by parity, so that every elementwise step of the input transform runs over
contiguous cells. The output transform is one matrix product with the Kronecker product
of the ``A^T``, which BLAS runs on every thread.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

from reference.padding import Pads
from reference.windows import Slab, slab_regions, slabs

_F64 = np.dtype(np.float64)

#: Lavin & Gray (2016), F(2, 3): input transform, filter transform, output transform.
BT = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], dtype=_F64)
G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]], dtype=_F64)
AT = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], dtype=_F64)

#: Fewest input and output channels, per number of spatial dimensions, for which the
#: transforms (elementwise NumPy passes over 4**nd / 2**nd times the output) pay for
#: the products they save (2.25 times fewer in 2-D, 3.4 times fewer in 3-D); in 1-D,
#: 1.5 times fewer products never do. At these sizes the difference to the direct sum
#: measured below the direct sum's error bound ``gamma_n(2**-53) * conv(|x|, |w|)``,
#: also on inputs whose magnitudes spread over 16 orders; with 32 channels in 3-D
#: such inputs exceeded it (up to 6 times, one element in 8000).
MIN_CHANNELS = {2: 128, 3: 64}


def applies(x: np.ndarray, w: np.ndarray, stride: Sequence[int], dilation: Sequence[int],
            pads: Pads, groups: int) -> bool:
    """Whether the oracle computes this convolution with :func:`correlate`: float64 ``x``
    and ``w``, one group, 2 or 3 spatial dimensions, a kernel of 3 cells along every
    one, stride and dilation 1, padding of at most 2 cells on each side (so that the
    VJP's full correlation is one too), and at least :data:`MIN_CHANNELS` input and
    output channels. Every other case, other dtypes (integers among them) included,
    keeps the direct sum; so do values outside :func:`in_range`."""
    o, c, *kernel = w.shape
    return (x.dtype == _F64 and w.dtype == _F64 and groups == 1
            and len(kernel) in MIN_CHANNELS and all(k == 3 for k in kernel)
            and all(s == 1 for s in stride) and all(d == 1 for d in dilation)
            and all(0 <= p <= 2 for pair in pads for p in pair)
            and min(c, o) >= MIN_CHANNELS[len(kernel)])


def in_range(a: np.ndarray, w: np.ndarray) -> bool:
    """Whether the values of ``a`` (input, or output gradient) and ``w`` let the
    transforms reach only what the direct sum does: all finite (the transforms combine
    the cells of a tile, so one infinite cell would make ``inf - inf`` = NaN of outputs
    whose direct sum is infinite), and small enough that no intermediate overflows
    (each is at most ``C * 9**nd * max|a| * max|w|``). Two passes over each array."""
    nd, c = w.ndim - 2, a.shape[1]
    if a.size == 0 or w.size == 0:
        return True
    scale = max(a.max(), -a.min()) * max(w.max(), -w.min())
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(scale * (c * 9**nd) < np.finfo(_F64).max)


def filter_transform(w: np.ndarray) -> np.ndarray:
    """``G g G^T`` (one ``G`` per dimension) of every kernel ``g`` of ``w`` (O, C, 3, ...):
    shape ``(4**nd, C, O)``, each transformed position's filters as one matrix (a
    transposed view of a ``(4**nd, O, C)`` array). Computed as one product with the
    Kronecker product of the ``G`` (entries 0, ±1/4, ±1/2, ±1: exact products)."""
    o, c, *kernel = w.shape
    gs = G
    for _ in kernel[1:]:
        gs = np.kron(gs, G)
    taps = w.astype(_F64, copy=False).reshape(o * c, -1)
    return np.matmul(gs, taps.T).reshape(-1, o, c).swapaxes(1, 2)


def correlate(x: np.ndarray, u: np.ndarray, b: np.ndarray | None, pads: Pads,
              y: np.ndarray) -> None:
    """``y[...] = `` the stride-1 correlation of ``x`` (N, C, *spatial), zero-padded by
    ``pads``, with the 3-cell filters whose transform is ``u`` (:func:`filter_transform`),
    plus the bias ``b`` (O,) if given; ``y`` has shape ``(N, O, *out)``."""
    n, c, *_ = x.shape
    out = y.shape[2:]
    nd, (positions, _, o) = len(out), u.shape
    tiles = [-(-size // 2) for size in out]
    padded = [2 * t + 2 for t in tiles]  # whole tiles; cells past the padding read zero
    rest_in, rest_t = math.prod(padded[1:]), math.prod(tiles[1:])
    # per tile row of one item (4 padded rows: the 2 a slab shares with the next
    # counted as its own), the largest two stages alive together
    stages_in = [4 * c * rest_in] + [4 ** (nd - d) * c * (4 if d else 1)
                                     * math.prod(padded[1:d]) * math.prod(tiles[max(d, 1):])
                                     for d in reversed(range(nd))]
    pairs = [a + b for a, b in itertools.pairwise(stages_in)]
    # then V and M; then M, its output transform and (odd sizes) that cut to size
    bytes_per_row = 8 * max(*pairs, positions * (c + o) * rest_t,
                            (positions + 2 * 2 ** nd) * o * rest_t)
    for slab in slabs(n, tiles, bytes_per_row):
        v = input_transform(padded_channels_last(x, pads, padded, slab))
        nb, t = v.shape[nd], v.shape[nd + 1:-1]
        m = np.matmul(v.reshape(positions, -1, c), u).reshape((4,) * nd + (nb, *t, o))
        del v
        if b is not None:
            m[(1,) * nd] += b
        first, last = 2 * slab.rows.start, min(2 * slab.rows.stop, out[0])
        output_transform(m, y[slab.batch, :, first:last])
        del m


def padded_channels_last(x: np.ndarray, pads: Pads, padded: Sequence[int], slab: Slab
                         ) -> np.ndarray:
    """The padded input cells that the tiles of ``slab`` (rows in tiles) read, channels
    last and the last dimension split by parity: ``(N, 2 * tile rows + 2, *padded[1:-1],
    2, padded[-1] // 2, C)``, element ``[..., p, k, c]`` the padded cell ``2k + p``; zero
    outside ``x``."""
    nd = len(padded)
    rows = Slab(slab.batch, slice(2 * slab.rows.start, 2 * slab.rows.stop))
    shape, src, dst = slab_regions(x.shape, pads, padded, rows, (3,) * nd, (1,) * nd,
                                   (1,) * nd)
    out = np.zeros((shape[0], *shape[2:-1], 2, shape[-1] // 2, shape[1]), dtype=_F64)
    inside = np.moveaxis(x[src], 1, -1)
    cells = dst[-1]  # where the input lies along the last dimension
    for p in range(2):
        first = cells.start + (cells.start + p) % 2  # the first cell of parity p
        if first < cells.stop:
            out[(slice(None), *dst[2:-1], p, slice(first // 2, (cells.stop - p + 1) // 2))] \
                = inside[..., first - cells.start::2, :]
    return out


def input_transform(xp: np.ndarray) -> np.ndarray:
    """``B^T d B`` of every 4-cell tile (step 2) of ``xp`` (:func:`padded_channels_last`):
    shape ``(4,)*nd + (N, *tiles, C)``, one dimension at a time, the last first (each
    step frees the previous one's array). Along the last dimension the tiles' cells are
    ``even[k], odd[k], even[k + 1], odd[k + 1]``: contiguous runs of the parity split."""
    a, nd = xp, xp.ndim - 3
    del xp
    even, odd = a[..., 0, :-1, :], a[..., 1, :-1, :]
    even1, odd1 = a[..., 0, 1:, :], a[..., 1, 1:, :]
    r = np.empty((4, *even.shape), dtype=_F64)
    np.subtract(even, even1, out=r[0])
    np.add(odd, even1, out=r[1])
    np.subtract(even1, odd, out=r[2])
    np.subtract(odd, odd1, out=r[3])
    del even, odd, even1, odd1
    a = r
    for d in reversed(range(nd - 1)):
        axis = (nd - 1 - d) + 1 + d  # a: (4,)*(nd-1-d) + (N,) + padded[:d+1] + tiles[d+1:] + (C,)
        t = (a.shape[axis] - 2) // 2
        cell = [a[(slice(None),) * axis + (slice(i, i + 2 * t - 1, 2),)] for i in range(4)]
        r = np.empty((4, *a.shape[:axis], t, *a.shape[axis + 1:]), dtype=_F64)
        np.subtract(cell[0], cell[2], out=r[0])
        np.add(cell[1], cell[2], out=r[1])
        np.subtract(cell[2], cell[1], out=r[2])
        np.subtract(cell[1], cell[3], out=r[3])
        del cell
        a = r
    return a


def output_transform(m: np.ndarray, dst: np.ndarray) -> None:
    """``dst[...] = A^T M A`` of every transformed tile of ``m`` ``(4,)*nd + (N, *tiles,
    C)``: one product with the Kronecker product of the ``A^T`` (entries 0, ±1), then
    the ``2**nd`` outputs of every tile put in their places in ``dst`` (N, C, *out), cut
    to its sizes."""
    nd = (m.ndim - 2) // 2
    at = AT
    for _ in range(nd - 1):
        at = np.kron(at, AT)
    n, *tiles, c = m.shape[nd:]
    z = np.matmul(at, m.reshape(4 ** nd, -1)).reshape((2,) * nd + (n, *tiles, c))
    # (2,)*nd + (N, *tiles, C) -> (N, C, t0, 2, t1, 2, ...) -> (N, C, 2*t0, 2*t1, ...)
    order = [nd, 2 * nd + 1] + [a for d in range(nd) for a in (nd + 1 + d, d)]
    z = z.transpose(order)
    out = dst.shape[2:]
    if all(2 * t == size for t, size in zip(tiles, out, strict=True)):
        whole = dst
    else:  # odd sizes: the last tile's second output falls outside, cut after
        whole = np.empty((n, c, *(2 * t for t in tiles)), dtype=_F64)
    # (N, C, 2*t0, ...) seen as (N, C, t0, 2, ...): each axis split in two, no copy
    split = np.lib.stride_tricks.as_strided(
        whole, z.shape, whole.strides[:2] + tuple(
            a for s in whole.strides[2:] for a in (2 * s, s)))
    split[...] = z
    if whole is not dst:
        dst[...] = whole[(slice(None), slice(None), *(slice(0, s) for s in out))]
