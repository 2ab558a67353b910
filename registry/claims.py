"""Claims: what a registered discrepancy says the framework does, in a checkable form.

An entry's claim is one of four forms (see ``docs/registry.md``):

``values``
    The framework returns numbers: the oracle called with the entry's ``behaves_as``
    overrides, then the named value models of :data:`VALUE_MODELS` applied in order, in
    the result dtype ``dtype`` (default: the input's), within the tolerance of sums
    accumulated in ``accumulation``. A model may allow several alternatives per element
    (NaN propagated by some channels and dropped by others).
``raises``
    The framework raises an exception of the named class whose message matches ``match``.
``unsupported``
    The adapter declines the case with :class:`backends.Unsupported` whose reason matches
    ``match``.
``crashes``
    The call kills the process (a signal such as SIGFPE, named by ``match``); the suite
    runs such calls in a worker process.
``excluded``
    The matched cases cannot be compared at all; the written reason says why. They are
    counted and shown apart from every compared case.

The value models are the one home of the alternative conventions the probes also test
(:mod:`probes.cases` builds its candidates from them). Two of them describe what a
framework does with bad input the oracle rejects (``negative-padding-crops``,
``window-larger-empty``); on such a call a claimed value is compared within the
whole-array bound of :func:`reference.tolerances.whole_array_tolerance`, the call having no
window geometry of its own.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import reference
from reference.dtypes import lowest_finite
from reference.padding import extent
from reference.tolerances import magnitude_arrays, overflow_threshold
from registry.facts import split_same_pads

#: An oracle computation: (op, arrays, params, dtype) -> alternative expected arrays.
Computation = Callable[[str, Mapping[str, Any], Mapping[str, Any], str], list[np.ndarray]]


def oracle_call(op: str, arrays: Mapping[str, Any], params: Mapping[str, Any]) -> Any:
    """The oracle's ``op`` with ``params`` (``kernel_size`` among them for pooling).

    A VJP op (``"conv_vjp"``, ``"max_pool_vjp"``, ``"avg_pool_vjp"``) takes the output
    gradient ``arrays["dy"]``; ``conv_vjp`` returns the tuple ``(dx, dw, db)``.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        if op == "conv":
            return reference.conv(arrays["x"], arrays["w"], arrays.get("b"), **params)
        if op == "conv_vjp":
            return reference.conv_vjp(arrays["x"], arrays["w"], arrays["dy"], **params)
        rest = dict(params)
        kernel = rest.pop("kernel_size")
        if op.endswith("_vjp"):
            return getattr(reference, op)(arrays["x"], arrays["dy"], kernel, **rest)
        return getattr(reference, op)(arrays["x"], kernel, **rest)


# ----------------------------------------------------------------------- value models
def _with_x(arrays: Mapping[str, Any], x: np.ndarray) -> dict[str, Any]:
    return {**arrays, "x": x}


def _pool_geometry(op: str, x: np.ndarray, params: Mapping[str, Any]) -> Any:
    return reference.window_geometry(x.shape[2:], params["kernel_size"],
                                     params.get("stride") or params["kernel_size"],
                                     params.get("padding", 0), params.get("dilation", 1),
                                     bool(params.get("ceil_mode", False)))


def nan_skipped(inner: Computation) -> Computation:
    """Max pooling that skips NaN: the maximum of a window's other values (a window of
    NaN only gives -inf, which ``neg-inf-lowest`` may turn into the lowest finite)."""
    def run(op, arrays, params, dtype):
        x = np.asarray(arrays["x"])
        return inner(op, _with_x(arrays, np.where(np.isnan(x.astype(np.float64)), -np.inf,
                                                  x.astype(np.float64)).astype(x.dtype)),
                     params, dtype)
    return run


def nan_skipped_or_propagated(inner: Computation) -> Computation:
    """Each element either propagates a window's NaN or skips it (a framework whose
    vectorised and scalar paths differ)."""
    skipped = nan_skipped(inner)

    def run(op, arrays, params, dtype):
        return inner(op, arrays, params, dtype) + skipped(op, arrays, params, dtype)
    return run


def neg_inf_lowest(inner: Computation) -> Computation:
    """A -inf result becomes the dtype's lowest finite value (a maximum started at the
    lowest finite value instead of -inf)."""
    def run(op, arrays, params, dtype):
        low = lowest_finite(dtype)
        return [np.where(np.isneginf(r), low, r) for r in inner(op, arrays, params, dtype)]
    return run


def neg_inf_maybe_lowest(inner: Computation) -> Computation:
    """A -inf result is either -inf or the dtype's lowest finite value (a framework whose
    kernels start a maximum at different values)."""
    lowest = neg_inf_lowest(inner)

    def run(op, arrays, params, dtype):
        return inner(op, arrays, params, dtype) + lowest(op, arrays, params, dtype)
    return run


def int_truncated(inner: Computation) -> Computation:
    """The result rounded toward zero (C integer division of an integer average)."""
    def run(op, arrays, params, dtype):
        return [np.trunc(r) for r in inner(op, arrays, params, dtype)]
    return run


def _unpad(grad: np.ndarray, pads: Sequence[tuple[int, int]], mode: str) -> np.ndarray:
    """The adjoint of ``np.pad(x, pads, mode)`` applied to a gradient of the padded array:
    zero padding drops the padding's gradient; edge padding adds it to the edge cell it
    copies."""
    for axis, (lo, hi) in enumerate(pads, start=2):
        n = grad.shape[axis] - lo - hi
        if mode == "edge":
            grad = grad.copy()
            first = [slice(None)] * grad.ndim
            last = [slice(None)] * grad.ndim
            first[axis], last[axis] = slice(lo, lo + 1), slice(lo + n - 1, lo + n)
            head, tail = list(first), list(last)
            head[axis], tail[axis] = slice(0, lo), slice(lo + n, lo + n + hi)
            grad[tuple(first)] += grad[tuple(head)].sum(axis=axis, keepdims=True)
            grad[tuple(last)] += grad[tuple(tail)].sum(axis=axis, keepdims=True)
        keep = [slice(None)] * grad.ndim
        keep[axis] = slice(lo, lo + n)
        grad = grad[tuple(keep)]
    return grad


def _padded_beforehand(mode: str, doc: str) -> Callable[[Computation], Computation]:
    def model(inner: Computation) -> Computation:
        def run(op, arrays, params, dtype):
            x = np.asarray(arrays["x"])
            geo = _pool_geometry(op, x, params)
            padded = np.pad(x, ((0, 0), (0, 0), *geo.pads), mode=mode)
            rest = {k: v for k, v in params.items() if k != "padding"}
            out = inner(op, _with_x(arrays, padded), rest, dtype)
            if op.endswith("_vjp"):  # the gradient of the padding goes where it came from
                return [_unpad(r, geo.pads, mode) for r in out]
            return out
        return run
    model.__doc__ = doc
    return model


edge_replicated = _padded_beforehand(
    "edge", "Pooling over the input padded beforehand with copies of its edge values (the "
            "padded cells then count as input; a gradient reaching a copy goes to its edge "
            "cell).")
zero_padding = _padded_beforehand(
    "constant", "Pooling over the input padded beforehand with zeros (padding that can win "
                "a maximum and counts in an average).")


def _window_sizes(op: str, arrays: Mapping[str, Any], params: Mapping[str, Any]
                  ) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """Per spatial dimension, the window's kernel, stride and dilation of a call (a
    pooling's stride defaulting to its kernel)."""
    nd = np.ndim(arrays["x"]) - 2
    if op in ("conv", "conv_vjp"):
        kernel = tuple(np.shape(arrays["w"])[2:])
        stride = reference.normalize_sizes(params.get("stride", 1), nd, "stride")
    else:
        kernel = reference.normalize_sizes(params["kernel_size"], nd, "kernel_size")
        stride = reference.normalize_sizes(params.get("stride") or kernel, nd, "stride")
    return kernel, stride, reference.normalize_sizes(params.get("dilation", 1), nd, "dilation")


def same_unclamped(inner: Computation) -> Computation:
    """'same' padding whose total is not clamped at 0: where the window is shorter than
    the stride the negative total crops the input instead (half of it, rounded toward
    zero, at the start), which moves every window into the input."""
    def run(op, arrays, params, dtype):
        x = np.asarray(arrays["x"])
        kernel, stride, dilation = _window_sizes(op, arrays, params)
        pairs, crop = [], [slice(None), slice(None)]
        for n, k, s, d in zip(x.shape[2:], kernel, stride, dilation, strict=True):
            total = reference.same_total_padding(n, k, s, d, clamped=False)
            lo = int(total / 2)  # toward zero, as C++ divides
            hi = total - lo
            if params.get("padding") == "same_lower":
                lo, hi = hi, lo
            crop.append(slice(max(-lo, 0), n - max(-hi, 0)))
            pairs.append((max(lo, 0), max(hi, 0)))
        return inner(op, _with_x(arrays, x[tuple(crop)]),
                     {**params, "padding": tuple(pairs)}, dtype)
    return run


def _grow(grad: np.ndarray, crop: Sequence[tuple[int, int]]) -> np.ndarray:
    """A gradient of the cropped input put back in the input's shape (the cropped cells
    get none)."""
    return np.pad(grad, ((0, 0), (0, 0), *crop))


def same_reversed_pads(inner: Computation) -> Computation:
    """'same' padding split without clamping (``registry.facts.split_same_pads``: the
    total ``(k - 1) * d - (n - 1) % s``, its floor half at the start). Symmetric in every
    dimension, the pads are applied to the dimensions in reverse order (the last
    dimension's to the first). Otherwise each dimension gets its own: a negative side
    crops the input, a positive one pads it with copies of the edge values (pooling) or
    zeros (convolution), and the window slides over the result unpadded. Output sizes
    round down, as 'same' itself never leaves a partial window (ceil mode adds none)."""
    def run(op, arrays, params, dtype):
        if params.get("padding") != "same":
            return inner(op, arrays, params, dtype)
        x = np.asarray(arrays["x"])
        conv = op in ("conv", "conv_vjp")
        kernel, stride, dilation = _window_sizes(op, arrays, params)
        pairs = split_same_pads(x.shape[2:], kernel, stride, dilation)
        if not conv:  # 'same' leaves no partial window: ceil mode has nothing to add
            params = {**params, "ceil_mode": False}
        if all(lo == hi for lo, hi in pairs):
            return inner(op, arrays, {**params, "padding": tuple(pairs[::-1])}, dtype)
        crop = [(max(-lo, 0), max(-hi, 0)) for lo, hi in pairs]
        pads = tuple((max(lo, 0), max(hi, 0)) for lo, hi in pairs)
        cut = x[(slice(None), slice(None),
                 *(slice(a, n - b) for (a, b), n in zip(crop, x.shape[2:], strict=True)))]
        if conv:
            out = inner(op, _with_x(arrays, cut), {**params, "padding": pads}, dtype)
            if op == "conv":
                return out
            return [(_grow(dx, crop), *rest) for dx, *rest in out]
        padded = np.pad(cut, ((0, 0), (0, 0), *pads), mode="edge")
        out = inner(op, _with_x(arrays, padded), {**params, "padding": 0}, dtype)
        if op.endswith("_vjp"):  # a copy's gradient goes to the edge cell it copies
            return [_grow(_unpad(r, pads, "edge"), crop) for r in out]
        return out
    return run


def same_pads_without_dilation(inner: Computation) -> Computation:
    """'same' pooling whose padding is computed for the undilated window (kernel size,
    not its dilated reach), then the dilated window slid over it: fewer outputs than
    ``ceil(n / stride)`` where the dilation needed more padding."""
    def run(op, arrays, params, dtype):
        padding = params.get("padding")
        if padding not in ("same", "same_lower"):
            return inner(op, arrays, params, dtype)
        x = np.asarray(arrays["x"])
        nd = x.ndim - 2
        kernel = reference.normalize_sizes(params["kernel_size"], nd, "kernel_size")
        stride = reference.normalize_sizes(params.get("stride") or kernel, nd, "stride")
        pads = reference.resolve_padding(padding, x.shape[2:], kernel, stride, (1,) * nd)
        return inner(op, arrays, {**params, "padding": pads}, dtype)
    return run


def full_convention(inner: Computation) -> Computation:
    """Caffe's 'full' ceil mode: ``ceil((n + lo + hi - extent) / s) + 1`` outputs with no
    last-window rule. A window that covers no input cell gives the lowest finite value
    (max pooling); in average pooling it sums to 0 and divides by what its kernel counts
    there, which is 0 or NaN (0 / 0) depending on the kernel (MXNet's own kernels and
    oneDNN's differ): either is the claim."""
    def run(op, arrays, params, dtype):
        x = np.asarray(arrays["x"])
        geo = _pool_geometry(op, x, params)
        full = tuple(math.ceil((n + lo + hi - ((k - 1) * d + 1)) / s) + 1
                     for n, (lo, hi), k, s, d in zip(x.shape[2:], geo.pads, geo.kernel,
                                                     geo.stride, geo.dilation, strict=True))
        fills = [lowest_finite(dtype)] if op == "max_pool" else [0.0, np.nan]
        out = []
        for r in inner(op, arrays, params, dtype):
            shape = (*r.shape[:2], *(max(f, o) for f, o in zip(full, r.shape[2:], strict=True)))
            for fill in fills:
                grown = np.full(shape, fill, dtype=np.float64)
                grown[tuple(slice(0, o) for o in r.shape)] = r
                out.append(grown)
        return out
    return run


def ceil_overhang_counted(inner: Computation) -> Computation:
    """Average pooling whose divisor counts the cells a ceil-mode window reaches past the
    padded input: the input padded beforehand at the end of each dimension with the zeros
    that make the last window fit, and pooled without ceil mode. With count_include_pad
    every window then divides by the whole kernel; without it the divisor is unchanged."""
    def run(op, arrays, params, dtype):
        if not params.get("ceil_mode"):
            return inner(op, arrays, params, dtype)
        x = np.asarray(arrays["x"])
        geo = _pool_geometry(op, x, params)
        out = reference.output_size(x.shape[2:], geo.kernel, geo.stride, geo.pads,
                                    geo.dilation, True)
        pads = tuple((lo, hi + max(extent(o, k, s, d) - (n + lo + hi), 0))
                     for n, o, (lo, hi), k, s, d in zip(x.shape[2:], out, geo.pads, geo.kernel,
                                                        geo.stride, geo.dilation, strict=True))
        return inner(op, arrays, {**params, "padding": pads, "ceil_mode": False}, dtype)
    return run


def _raw_pairs(padding: Any, nd: int) -> tuple[tuple[Any, Any], ...] | None:
    """Explicit padding as ``(lo, hi)`` pairs without validation (negative values kept);
    None for the named forms."""
    if isinstance(padding, str):
        return None
    if isinstance(padding, Sequence):
        if any(isinstance(p, Sequence) for p in padding):
            return tuple((p[0], p[1]) for p in padding)
        return tuple((p, p) for p in padding)
    return ((padding, padding),) * nd


def negative_padding_crops(inner: Computation) -> Computation:
    """Explicit padding below 0 crops the input instead: ``-p`` cells off that side (bad
    input to the oracle, which rejects negative padding)."""
    def run(op, arrays, params, dtype):
        x = np.asarray(arrays["x"])
        pairs = _raw_pairs(params.get("padding", 0), x.ndim - 2)
        if pairs is None:
            return inner(op, arrays, params, dtype)
        crop = (slice(None), slice(None),
                *(slice(max(-lo, 0), n - max(-hi, 0))
                  for n, (lo, hi) in zip(x.shape[2:], pairs, strict=True)))
        kept = tuple((max(lo, 0), max(hi, 0)) for lo, hi in pairs)
        return inner(op, _with_x(arrays, x[crop]), {**params, "padding": kept}, dtype)
    return run


def identity_padding(inner: Computation) -> Computation:
    """Pooling over the input padded beforehand with the reduction's identity: -inf (an
    integer dtype's minimum) for max pooling, 0 for average pooling, whose divisor counts
    the padded cells (``count_include_pad``) or else the input cells only (0 / 0 = NaN in a
    window of padding only). A window of padding only then gives -inf, 0 or NaN instead of
    an error (bad input to the oracle). Forward passes only."""
    def run(op, arrays, params, dtype):
        x = np.asarray(arrays["x"])
        geo = _pool_geometry(op, x, params)
        pads = ((0, 0), (0, 0), *geo.pads)
        rest = {k: v for k, v in params.items() if k != "padding"}
        if op == "max_pool":
            fill = np.iinfo(x.dtype).min if x.dtype.kind in "iu" else -np.inf
            return inner(op, _with_x(arrays, np.pad(x, pads, constant_values=fill)), rest,
                         dtype)
        include = bool(rest.pop("count_include_pad", True))
        padded = np.pad(x, pads)
        if include:
            return inner(op, _with_x(arrays, padded), rest, dtype)
        cells = math.prod(geo.kernel)
        counts = reference.avg_pool(np.pad(np.ones(x.shape), pads), **rest) * cells
        with np.errstate(invalid="ignore", divide="ignore"):
            return [np.asarray(r, dtype=np.float64) * cells / counts
                    for r in inner(op, _with_x(arrays, padded), rest, dtype)]
    return run


def window_larger_empty(inner: Computation) -> Computation:
    """A window larger than the padded input gives an empty output (size 0 in that
    dimension) instead of an error (bad input to the oracle)."""
    def run(op, arrays, params, dtype):
        x = np.asarray(arrays["x"])
        nd = x.ndim - 2
        if op == "conv":
            kernel = tuple(np.shape(arrays["w"])[2:])
            stride = reference.normalize_sizes(params.get("stride", 1), nd, "stride")
            channels = np.shape(arrays["w"])[0]
        else:
            kernel = reference.normalize_sizes(params["kernel_size"], nd, "kernel_size")
            stride = reference.normalize_sizes(params.get("stride") or kernel, nd, "stride")
            channels = x.shape[1]
        dilation = reference.normalize_sizes(params.get("dilation", 1), nd, "dilation")
        pads = reference.resolve_padding(params.get("padding", 0), x.shape[2:], kernel,
                                         stride, dilation)
        out = reference.output_size(x.shape[2:], kernel, stride, pads, dilation,
                                    bool(params.get("ceil_mode", False)))
        if min(out) >= 1:
            return inner(op, arrays, params, dtype)
        return [np.empty((x.shape[0], channels, *(max(o, 0) for o in out)))]
    return run


#: The smallest normal magnitude each floating dtype is computed at (bfloat16 and float16
#: in float32): below it a value is subnormal.
_SMALLEST_NORMAL = {"float32": 2.0 ** -126, "bfloat16": 2.0 ** -126, "float64": 2.0 ** -1022}


def _flushed(a: np.ndarray, dtype: str) -> np.ndarray:
    tiny = _SMALLEST_NORMAL.get(dtype, 0.0)
    with np.errstate(invalid="ignore"):
        return np.where(np.abs(a) < tiny, 0.0, a)


def subnormals_flushed(inner: Computation) -> Computation:
    """Subnormal inputs read as zero and subnormal results written as zero (the CPU's
    denormals-are-zero and flush-to-zero modes) for dtypes computed in float32 or
    float64; float16 is computed in float32, where its subnormals are normal."""
    def run(op, arrays, params, dtype):
        flushed = {k: None if v is None else
                   _flushed(np.asarray(v).astype(np.float64), dtype) for k, v in arrays.items()}
        return [_flushed(r, dtype) for r in inner(op, flushed, params, dtype)]
    return run


def subnormals_tie(inner: Computation) -> Computation:
    """Max pooling that compares with subnormals read as zero (the CPU's
    denormals-are-zero mode) for dtypes computed in float32 or float64: the maximum of the
    flushed cells, returned either flushed (``subnormals-flushed``) or as the unflushed
    value of any input cell of the window that ties with it (a kernel that copies the
    cell it selected). A subnormal maximum may so come out as zero, or as another subnormal
    or zero of the window, of either sign. Computed directly from the windows; other ops
    are the inner computation's."""
    flushed = subnormals_flushed(inner)

    def run(op, arrays, params, dtype):
        if op != "max_pool":
            return inner(op, arrays, params, dtype)
        maxima = flushed(op, arrays, params, dtype)
        x = np.asarray(arrays["x"]).astype(np.float64)
        win = _windows(op, x, params)
        out = list(maxima)
        for top in maxima:
            for k in range(win.cells.shape[-1]):
                cell = win.cells[..., k]
                ties = win.inside[..., k] & (_flushed(cell, dtype) == top)
                out.append(np.where(ties, cell, top))
        return out
    return run


def bias_after_rounding(inner: Computation) -> Computation:
    """A convolution whose bias-free sum is rounded into the dtype before the bias is
    added (a separate addition): where that sum overflows the dtype (its magnitude
    reaches :func:`reference.tolerances.overflow_threshold`) and a bias of the opposite
    sign would bring the result back into range, the result is the sum's infinity.
    Elsewhere the result is the inner computation's (the first rounding's error is within
    the bound of sums accumulated in the dtype, ``accumulation = "input"``; where the bias
    has the sum's sign the result overflows anyway). A sum of magnitudes never has a bias
    of the opposite sign, so the error bound is the inner computation's."""
    def run(op, arrays, params, dtype):
        results = inner(op, arrays, params, dtype)
        b = arrays.get("b")
        if op != "conv" or b is None:
            return results
        sums = inner(op, {**arrays, "b": None}, params, dtype)
        limit = overflow_threshold(dtype)
        shape = (1, -1, *(1,) * (np.ndim(arrays["x"]) - 2))
        bias = np.asarray(b).astype(np.float64).reshape(shape)
        out = []
        for y, s in zip(results, sums, strict=True):
            with np.errstate(invalid="ignore"):
                cut = np.isfinite(y) & np.isfinite(s) & (np.abs(s) >= limit) & (s * bias < 0)
            out.append(np.where(cut, np.copysign(np.inf, s), y))
        return out
    return run


def groups_from_shapes(inner: Computation) -> Computation:
    """A convolution whose groups are what the shapes imply, ``C // w.shape[1]``,
    whatever the groups argument says (an API that has no groups argument)."""
    def run(op, arrays, params, dtype):
        groups = np.shape(arrays["x"])[1] // max(np.shape(arrays["w"])[1], 1)
        return inner(op, arrays, {**params, "groups": groups}, dtype)
    return run


def padding_taps_skipped(inner: Computation) -> Computation:
    """A convolution whose taps over the padding contribute nothing (instead of the zero
    padding times the weight, which is NaN for a NaN or infinite weight): the sum over the
    taps that fall on input cells only. Computed directly, tap by tap."""
    def run(op, arrays, params, dtype):
        inner(op, arrays, params, dtype)  # the call must be one the oracle accepts
        x = np.asarray(arrays["x"]).astype(np.float64)
        w = np.asarray(arrays["w"]).astype(np.float64)
        b = arrays.get("b")
        _, _, _, geo = reference.conv_geometry(x, w, b, **params)
        groups = int(params.get("groups", 1))
        n, c = x.shape[:2]
        o = w.shape[0]
        xp = np.pad(x, ((0, 0), (0, 0), *geo.pads))
        inside = np.pad(np.ones(x.shape[2:], dtype=bool), geo.pads)
        y = np.zeros((n, o, *geo.out))
        cg, og = c // groups, o // groups
        for tap in np.ndindex(*geo.kernel):
            sl = tuple(slice(t * d, t * d + (m - 1) * s + 1, s) for t, d, m, s
                       in zip(tap, geo.dilation, geo.out, geo.stride, strict=True))
            cells, real = xp[(slice(None), slice(None), *sl)], inside[sl]
            for g in range(groups):
                xs = cells[:, g * cg:(g + 1) * cg]                    # (n, cg, *out)
                ws = w[(slice(g * og, (g + 1) * og), slice(None), *tap)]  # (og, cg)
                with np.errstate(invalid="ignore", over="ignore"):
                    terms = xs[:, None] * ws[(None, slice(None), slice(None),
                                              *(None,) * len(geo.out))]
                    y[:, g * og:(g + 1) * og] += np.where(real, terms, 0.0).sum(axis=2)
        if b is not None:
            y += np.asarray(b, dtype=np.float64).reshape(o, *(1,) * len(geo.out))
        return [y]
    return run


def may_be_nan(inner: Computation) -> Computation:
    """Each element either the computed value or NaN (a NaN or an infinity that reaches
    outputs whose windows do not hold it)."""
    def run(op, arrays, params, dtype):
        results = inner(op, arrays, params, dtype)
        return results + [np.full_like(r, np.nan) for r in results]
    return run


def input_channels_empty(inner: Computation) -> Computation:
    """An empty result with the input's channel count (0) in place of the output's:
    ``(N, C, *out)`` (a framework that passes an input of zero channels through)."""
    def run(op, arrays, params, dtype):
        results = inner(op, arrays, params, dtype)
        c = np.shape(arrays["x"])[1]
        return [np.empty((r.shape[0], c, *r.shape[2:])) for r in results]
    return run


def input_shaped_empty(inner: Computation) -> Computation:
    """An empty array of the input's shape (a framework that returns its empty input
    as it is)."""
    def run(op, arrays, params, dtype):
        inner(op, arrays, params, dtype)  # the call must still be one the oracle accepts
        return [np.empty(np.shape(arrays["x"]), dtype=np.float64)]
    return run


def space_to_batch_shaped_empty(inner: Computation) -> Computation:
    """An empty array shaped like the input TensorFlow's convolution kernel receives, and
    returns as it is: the input itself, except where a dilation is above 1 and the
    padding is 'same'. There ``tf.nn.convolution`` takes its atrous path
    (``tf.nn.with_space_to_batch``): the input padded by the 'same' padding goes through
    ``space_to_batch_nd``, and ``batch_to_space_nd`` crops only what was added to reach a
    multiple of the dilation, so the result has the padded input's spatial sizes (and
    still the input's channels)."""
    def run(op, arrays, params, dtype):
        inner(op, arrays, params, dtype)  # the call must still be one the oracle accepts
        shape = np.shape(arrays["x"])
        geometry = reference.conv_geometry(arrays["x"], arrays["w"], arrays.get("b"),
                                           **params)[3]
        if params.get("padding") == "same" and max(geometry.dilation) > 1:
            shape = (*shape[:2], *(n + lo + hi for n, (lo, hi)
                                   in zip(shape[2:], geometry.pads, strict=True)))
        return [np.empty(shape, dtype=np.float64)]
    return run


def nan_last(inner: Computation) -> Computation:
    """Max pooling's gradient routed to the LAST NaN of a window holding NaN (a maximum
    updated on every NaN it meets) instead of the first: each NaN becomes a value above
    every other value of the input, larger the later it comes in row-major order, so
    the oracle routes there (windows without NaN are unchanged)."""
    def run(op, arrays, params, dtype):
        x = np.asarray(arrays["x"]).astype(np.float64)
        nan = np.isnan(x)
        if not nan.any():
            return inner(op, arrays, params, dtype)
        finite = np.abs(x[np.isfinite(x)])
        top = float(finite.max(initial=1.0))
        # +inf stays above every finite value and below every NaN
        lifted = np.where(np.isposinf(x), 4 * top + 4, x)
        order = np.arange(x.size, dtype=np.float64).reshape(x.shape) % (
            math.prod(x.shape[2:]) or 1)
        lifted = np.where(nan, 8 * top + 8 + order, lifted)
        return inner(op, _with_x(arrays, lifted), params, dtype)
    return run


@dataclass(frozen=True)
class _Windows:
    """A pooling's windows: ``cells`` ``(N, C, *out, K)`` (float64, row-major tap order,
    padding cells 0), ``inside`` (whether each is an input cell, broadcast to ``cells``),
    ``where`` (each cell's flat index in the padded input, ``(*out, K)``), the padded
    spatial shape and the slices of the input within it."""

    cells: np.ndarray
    inside: np.ndarray
    where: np.ndarray
    padded: tuple[int, ...]
    inner_cells: tuple[slice, ...]


def _windows(op: str, x: np.ndarray, params: Mapping[str, Any]) -> _Windows:
    """The windows of pooling ``x`` (float64) with ``params``."""
    geo = _pool_geometry(op, x, params)
    nd = x.ndim - 2
    inner_cells = tuple(slice(lo, lo + n) for (lo, _), n in zip(geo.pads, x.shape[2:],
                                                               strict=True))
    xp = np.zeros((*x.shape[:2], *geo.padded))
    xp[(slice(None), slice(None), *inner_cells)] = x
    inside = np.zeros(geo.padded, dtype=bool)
    inside[inner_cells] = True
    number = np.arange(math.prod(geo.padded), dtype=np.float64).reshape(geo.padded)
    extents = tuple((k - 1) * d + 1 for k, d in zip(geo.kernel, geo.dilation, strict=True))

    def windows(a: np.ndarray, first: int) -> np.ndarray:
        view = np.lib.stride_tricks.sliding_window_view(
            a, extents, axis=tuple(range(first, first + nd)))
        view = view[(slice(None),) * first + tuple(
            slice(0, (o - 1) * s + 1, s) for o, s in zip(geo.out, geo.stride, strict=True))
            + tuple(slice(None, None, d) for d in geo.dilation)]
        return view.reshape(*view.shape[:first + nd], -1)

    cells = windows(xp, 2)
    return _Windows(cells, np.broadcast_to(windows(inside, 0), cells.shape),
                    windows(number, 0), tuple(geo.padded), inner_cells)


def _routed(op: str, arrays: Mapping[str, Any], params: Mapping[str, Any],
            pick: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> list[np.ndarray]:
    """Max pooling's gradient routed window by window: ``pick(cells, inside)`` gets each
    window's cells in row-major tap order (``(N, C, *out, K)``, float64) and whether each
    cell is an input cell (not padding), and says which cells get the window's gradient,
    whole; gradients of overlapping windows that pick the same cell add up."""
    x = np.asarray(arrays["x"]).astype(np.float64)
    dy = np.asarray(arrays["dy"], dtype=np.float64)
    win = _windows(op, x, params)
    hit = pick(win.cells, win.inside)
    grad = np.zeros((*x.shape[:2], math.prod(win.padded)))
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            share = np.broadcast_to(dy[n, c][..., None], hit.shape[2:])
            np.add.at(grad[n, c], win.where[hit[n, c]].astype(np.intp), share[hit[n, c]])
    grad = grad.reshape(*x.shape[:2], *win.padded)
    return [grad[(slice(None), slice(None), *win.inner_cells)]]


def ties_all(inner: Computation) -> Computation:
    """Max pooling's gradient given, whole, to EVERY cell of a window that equals its
    maximum (a backward pass that compares the input with the pooled output instead of
    keeping the index of one maximum). Computed directly from the windows; the inner
    computation is not used for ``max_pool_vjp``."""
    def pick(cells: np.ndarray, inside: np.ndarray) -> np.ndarray:
        real = inside & ~np.isnan(cells)
        top = np.max(np.where(real, cells, -np.inf), axis=-1, keepdims=True)
        return (cells == top) & real

    def run(op, arrays, params, dtype):
        if op != "max_pool_vjp":
            return inner(op, arrays, params, dtype)
        return _routed(op, arrays, params, pick)
    return run


def _ge_scan(padding_competes: bool) -> Callable[[Computation], Computation]:
    """The value model of XLA's SelectAndScatter with a ``>=`` select: each window's cells in
    row-major tap order, the kept cell replaced by the next one unless ``kept >= next``.
    Ties keep the first maximum, as the oracle does; a comparison with NaN is false, so a
    NaN replaces the kept cell and is itself replaced by the next cell: the gradient goes to
    the last NaN when it ends the window, else to the scan's winner among the cells after
    the last NaN. With ``padding_competes`` the padding cells take part as -inf cells (a
    window of -inf that starts in the padding keeps the padding, and its gradient is
    dropped); without it padding is never picked."""
    def pick(cells: np.ndarray, inside: np.ndarray) -> np.ndarray:
        if padding_competes:
            cells = np.where(inside, cells, -np.inf)
            inside = np.ones_like(inside)
        best = np.full(cells.shape[:-1], np.nan)
        where = np.full(cells.shape[:-1], -1)
        seen = np.zeros(cells.shape[:-1], dtype=bool)
        for k in range(cells.shape[-1]):
            value, real = cells[..., k], inside[..., k]
            with np.errstate(invalid="ignore"):
                take = real & (~seen | ~(best >= value))
            best = np.where(take, value, best)
            where = np.where(take, k, where)
            seen |= real
        return np.arange(cells.shape[-1]) == where[..., None]

    def model(inner: Computation) -> Computation:
        def run(op, arrays, params, dtype):
            if op != "max_pool_vjp":
                return inner(op, arrays, params, dtype)
            return _routed(op, arrays, params, pick)
        return run
    return model


#: XLA's max-pool gradient (TensorFlow under jit_compile): padding is never picked.
#: Computed directly from the windows; the inner computation is not used for
#: ``max_pool_vjp``.
select_ge_scan = _ge_scan(padding_competes=False)
#: JAX's on CPU: the operand padded with real -inf cells first
#: (``_select_and_scatter_add_impl``, ``expand_padding=True``), so padding competes.
select_ge_padded = _ge_scan(padding_competes=True)


def minus_inf_dropped(inner: Computation) -> Computation:
    """Max pooling's gradient of a window whose input cells are all -inf goes nowhere (a
    maximum started at the lowest finite value, which no -inf beats, leaves the window
    without a cell to route to); other windows route as the inner computation does."""
    def run(op, arrays, params, dtype):
        if op != "max_pool_vjp":
            return inner(op, arrays, params, dtype)
        rest = {k: v for k, v in params.items() if k != "kernel_size"}
        with np.errstate(invalid="ignore"):
            y = reference.max_pool(arrays["x"], params["kernel_size"], **rest)
        dy = np.where(np.isneginf(np.asarray(y, dtype=np.float64)), 0, arrays["dy"])
        return inner(op, {**arrays, "dy": dy}, params, dtype)
    return run


#: Named value models a claim can apply to the oracle's result, in the order listed.
VALUE_MODELS: dict[str, Callable[[Computation], Computation]] = {
    "nan-skipped": nan_skipped,
    "nan-skipped-or-propagated": nan_skipped_or_propagated,
    "neg-inf-lowest": neg_inf_lowest,
    "neg-inf-maybe-lowest": neg_inf_maybe_lowest,
    "int-truncated": int_truncated,
    "edge-replicated": edge_replicated,
    "zero-padding": zero_padding,
    "same-unclamped": same_unclamped,
    "same-reversed-pads": same_reversed_pads,
    "same-pads-without-dilation": same_pads_without_dilation,
    "full-convention": full_convention,
    "ceil-overhang-counted": ceil_overhang_counted,
    "negative-padding-crops": negative_padding_crops,
    "window-larger-empty": window_larger_empty,
    "identity-padding": identity_padding,
    "input-shaped-empty": input_shaped_empty,
    "space-to-batch-shaped-empty": space_to_batch_shaped_empty,
    "input-channels-empty": input_channels_empty,
    "may-be-nan": may_be_nan,
    "subnormals-flushed": subnormals_flushed,
    "subnormals-tie": subnormals_tie,
    "bias-after-rounding": bias_after_rounding,
    "groups-from-shapes": groups_from_shapes,
    "padding-taps-skipped": padding_taps_skipped,


    "nan-last": nan_last,
    "ties-all": ties_all,
    "select-ge-scan": select_ge_scan,
    "select-ge-padded": select_ge_padded,
    "minus-inf-dropped": minus_inf_dropped,
}


def as_float64(result: Any) -> Any:
    """An oracle result in float64: an array, or a tuple of arrays (``conv_vjp``)."""
    if isinstance(result, tuple):
        return tuple(np.asarray(r, dtype=np.float64) for r in result)
    return np.asarray(result, dtype=np.float64)


def _oracle(op: str, arrays: Mapping[str, Any], params: Mapping[str, Any], dtype: str
            ) -> list[Any]:
    return [as_float64(oracle_call(op, arrays, params))]


# ---------------------------------------------------------------------------- claims
@dataclass(frozen=True)
class Claim:
    """What an entry says the framework does (see the module docstring).

    Attributes
    ----------
    overrides : mapping
        The oracle's keyword arguments that reproduce the framework (``behaves_as``).
    values : tuple of str
        Value models (keys of :data:`VALUE_MODELS`), applied in order.
    dtype : str or None
        The result's dtype name, when it is not the input's.
    accumulation : str or None
        The dtype the framework accumulates sums in, when it is not the default.
    raises, match : str or None
        The exception class name and a message pattern (``raises`` form), or the
        Unsupported reason's pattern (``unsupported`` form).
    unsupported : bool
        The adapter declines the case.
    excluded : str or None
        Why the cases cannot be compared.
    """

    overrides: Mapping[str, Any] = field(default_factory=dict)
    values: tuple[str, ...] = ()
    dtype: str | None = None
    accumulation: str | None = None
    raises: str | None = None
    match: str | None = None
    unsupported: bool = False
    excluded: str | None = None
    crashes: bool = False

    @property
    def form(self) -> str:
        """``"excluded"``, ``"crashes"``, ``"raises"``, ``"unsupported"`` or
        ``"values"``."""
        if self.excluded:
            return "excluded"
        if self.crashes:
            return "crashes"
        if self.raises:
            return "raises"
        if self.unsupported:
            return "unsupported"
        return "values"

    def computation(self) -> Computation:
        """The claimed result's computation: the oracle with the overrides, through the
        value models."""
        run: Computation = _oracle
        for name in reversed(self.values):
            run = VALUE_MODELS[name](run)
        overrides = dict(self.overrides)

        def claimed(op, arrays, params, dtype):
            return run(op, arrays, {**params, **overrides}, dtype)
        return claimed

    def expected(self, op: str, arrays: Mapping[str, Any], params: Mapping[str, Any],
                 dtype: str) -> list[np.ndarray]:
        """The claimed result's alternatives (float64); an element agrees with the claim
        when it agrees with one of them."""
        return self.computation()(op, arrays, params, dtype)

    def magnitudes(self, op: str, arrays: Mapping[str, Any], params: Mapping[str, Any],
                   dtype: str) -> list[np.ndarray]:
        """The claimed computation on ``|x|``, ``|w|``, ``|b|``: the sums of magnitudes
        that the tolerance of each alternative of :meth:`expected` scales with."""
        magnitudes = magnitude_arrays(arrays)
        if op == "max_pool_vjp":  # the routing depends on x's values, not on |x|
            magnitudes["x"] = arrays["x"]
        return self.computation()(op, magnitudes, params, dtype)

    def result_dtype(self, dtype: str) -> str:
        """The dtype name the claim says the result has, for input dtype ``dtype``."""
        return self.dtype or dtype

    def explains(self, exc: BaseException) -> bool:
        """Whether exception ``exc`` is the one a ``raises`` claim names."""
        if not self.raises:
            return False
        # an exception from a worker process carries its class names (the MRO)
        names = set(getattr(exc, "names", ())) or {cls.__name__ for cls in type(exc).__mro__}
        return self.raises in names and self.matches_text(str(exc))

    def matches_text(self, text: str) -> bool:
        """Whether ``text`` matches the claim's ``match`` pattern (any text without one)."""
        return self.match is None or re.search(self.match, text) is not None

    def describe(self) -> str:
        """The claim in one line, for failure messages and the report."""
        if self.form == "excluded":
            return f"not compared: {self.excluded}"
        if self.form == "raises":
            return f"raises {self.raises}" + (f" matching {self.match!r}" if self.match else "")
        if self.form == "crashes":
            return "crashes (the process dies)" + (f" matching {self.match!r}" if self.match
                                                   else "")
        if self.form == "unsupported":
            return "Unsupported" + (f" matching {self.match!r}" if self.match else "")
        parts = [f"oracle with {dict(self.overrides)}" if self.overrides else "oracle"]
        parts += [f"then {v}" for v in self.values]
        if self.dtype:
            parts.append(f"result in {self.dtype}")
        if self.accumulation:
            parts.append(f"sums accumulated in {self.accumulation}")
        return ", ".join(parts)


def parse(table: Mapping[str, Any]) -> tuple[Claim | None, list[str]]:
    """An entry's claim from its TOML table (``behaves_as`` and ``claim``), and the
    problems found; None when the entry states no claim."""
    problems: list[str] = []
    raw = dict(table.get("claim", {}))
    overrides = {k: _tomlish(v) for k, v in table.get("behaves_as", {}).items()}
    if not raw and not overrides:
        return None, problems
    values = tuple(raw.get("values", ()))
    problems += [f"claim: unknown value model {v!r} (known: {sorted(VALUE_MODELS)})"
                 for v in values if v not in VALUE_MODELS]
    if raw.get("match") is not None:
        try:
            re.compile(raw["match"])
        except re.error as exc:
            problems.append(f"claim: match is not a regular expression: {exc}")
    claim = Claim(overrides=overrides, values=values, dtype=raw.get("dtype"),
                  accumulation=raw.get("accumulation"), raises=raw.get("raises"),
                  match=raw.get("match"), unsupported=bool(raw.get("unsupported", False)),
                  excluded=raw.get("excluded"), crashes=bool(raw.get("crashes", False)))
    forms = [f for f in ("raises", "unsupported", "excluded", "crashes") if raw.get(f)]
    if len(forms) > 1 or (forms and (values or overrides or claim.dtype)):
        problems.append(f"claim: one form only (values, raises, unsupported or excluded), "
                        f"got {forms + (['values'] if values or overrides else [])}")
    if claim.match is not None and claim.form not in ("raises", "unsupported", "crashes"):
        problems.append("claim: match belongs to a raises, unsupported or crashes claim")
    return claim, problems


def merge(claims: Sequence[Claim], ids: Sequence[str]) -> Claim:
    """One claim of several entries' claims of one form (the suite's judge picks which
    entries explain a call, :func:`tests.support.checks._claim_for`).

    Value claims combine their overrides (which must agree) and their models, in order;
    claims of another form must be the same claim.

    Raises
    ------
    ValueError
        When two entries' overrides disagree, or two non-value claims differ.
    """
    special = [c for c in claims if c.form != "values"]
    if special and all(c.form == "excluded" for c in claims):
        return special[0]  # every entry takes the case out of the comparison
    if special:
        if len({(c.form, c.raises, c.match, c.excluded, c.crashes) for c in special}) > 1 \
                or len(special) < len(claims):
            raise ValueError(f"entries {list(ids)} all match one case but make different "
                             f"claims: {[c.describe() for c in claims]}")
        return special[0]
    overrides: dict[str, Any] = {}
    values: list[str] = []
    dtype = accumulation = None
    for c in claims:
        for key, value in c.overrides.items():
            if key in overrides and overrides[key] != value:
                raise ValueError(f"entries {list(ids)} all match one case but disagree on "
                                 f"behaves_as {key!r}")
            overrides[key] = value
        values += [v for v in c.values if v not in values]
        dtype = c.dtype or dtype
        accumulation = c.accumulation or accumulation
    return Claim(overrides=overrides, values=tuple(values), dtype=dtype,
                 accumulation=accumulation)


def _tomlish(value: Any) -> Any:
    """TOML arrays become tuples, so that (lo, hi) pairs read as the oracle expects."""
    if isinstance(value, list):
        return tuple(_tomlish(v) for v in value)
    return value
