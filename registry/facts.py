"""The facts of one call that ``when`` conditions test, and the matching of conditions.

The facts are named and explained in :data:`registry.vocabulary.FACTS`; this module is the
one place that computes them (with the oracle's own padding and shape arithmetic) and the
one implementation of the condition language.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

import reference
from reference.dtypes import smallest_normal
from registry.vocabulary import PER_DIM, forward_op


def _check_one(cond: Any, value: Any) -> bool:
    if isinstance(cond, Mapping):
        if "not" in cond:
            return not _check_one(cond["not"], value)
        ok = True
        if "min" in cond:
            ok = ok and value is not None and value >= cond["min"]
        if "max" in cond:
            ok = ok and value is not None and value <= cond["max"]
        return ok
    if isinstance(cond, list):
        return any(_check_one(c, value) for c in cond)
    if cond in ("even", "odd") and isinstance(value, int) and not isinstance(value, bool):
        return value % 2 == (0 if cond == "even" else 1)
    if isinstance(cond, bool) or isinstance(value, bool):
        return isinstance(cond, bool) and isinstance(value, bool) and cond == value
    if isinstance(cond, float) != isinstance(value, float):  # groups = 1.0 is not 1
        return False
    return cond == value


def _check_fact(name: str, cond: Any, value: Any) -> bool:
    if name in PER_DIM:
        if isinstance(cond, Mapping) and "all" in cond:
            return all(_check_fact(name, cond["all"], (v,)) for v in value)
        if isinstance(cond, Mapping) and "not" in cond:
            return not _check_fact(name, cond["not"], value)
        return any(_check_one(cond, v) for v in value)
    return _check_one(cond, value)


def matches(when: Mapping[str, Any], facts: Mapping[str, Any]) -> bool:
    """Whether every condition of ``when`` holds for a case's ``facts``.

    A condition is a value (equality), a list (any of its conditions), ``{ min = a }``,
    ``{ max = b }`` or both (inclusive range), ``"even"`` / ``"odd"`` (parity of an
    integer), ``{ not = c }`` (negation), and on per-dimension facts ``{ all = c }``
    (every dimension; otherwise any dimension suffices). A fact the case does not have
    (e.g. ``groups`` on a pooling) never matches.
    """
    for name, cond in when.items():
        if name not in facts:
            return False
        if not _check_fact(name, cond, facts[name]):
            return False
    return True


def _padding_form(padding: Any) -> str:
    if isinstance(padding, str):
        return padding
    if isinstance(padding, Sequence):
        return "pairs" if any(isinstance(p, Sequence) for p in padding) else "per_dim"
    return "int"


def _per_dim(value: Any, nd: int) -> tuple[Any, ...]:
    """``value`` as one entry per dimension, unvalidated (bad input keeps its values)."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        return tuple(value)
    return (value,) * nd


def _special(arrays: Mapping[str, Any], test: Any) -> bool:
    found = False
    for key in ("x", "w", "dy"):
        a = arrays.get(key)
        if a is None:
            continue
        a = np.asarray(a)
        if a.dtype.kind in "fcV":  # V: the ml_dtypes floats, tested as float64
            found = found or bool(test(a.astype(np.float64) if a.dtype.kind == "V"
                                       else a).any())
    return found


def _has_subnormal(arrays: Mapping[str, Any], dtype: str) -> bool:
    """Whether ``x`` (or a conv's ``w``, or a VJP's ``dy``) holds a subnormal value of
    ``dtype`` (nonzero, below its smallest normal value)."""
    try:
        tiny = smallest_normal(dtype)
    except (ImportError, TypeError, ValueError):
        return False
    if not tiny:
        return False
    return _special(arrays, lambda a: (a != 0) & (np.abs(a) < tiny))


def _invalid_window(in_sizes: Sequence[int], kernel: Any, stride: Any, dilation: Any,
                    padding: Any) -> dict[str, Any]:
    """For a call the oracle rejects, the window facts its arguments still give: whether
    the padding is non-zero (``padded``, when it resolves) and whether otherwise valid
    window arguments give no output, the (dilated) window being larger than the padded
    input (``window_larger``)."""
    nd = len(in_sizes)
    try:
        k = reference.normalize_sizes(kernel, nd, "kernel")
        s = reference.normalize_sizes(stride, nd, "stride")
        d = reference.normalize_sizes(dilation, nd, "dilation")
        pads = reference.resolve_padding(padding, in_sizes, k, s, d)
    except (ValueError, TypeError):
        return {"window_larger": False}
    return {"window_larger": min(reference.output_size(in_sizes, k, s, pads, d),
                                 default=1) < 1,
            "padded": any(max(p) > 0 for p in pads)}


def _padding_only_window(in_sizes: Sequence[int], params: Mapping[str, Any]) -> bool:
    """For a pooling the oracle rejects: whether otherwise valid window arguments leave
    some window over padding only (no input cell to count)."""
    try:
        geo = reference.window_geometry(in_sizes, params["kernel_size"],
                                        params.get("stride") or params["kernel_size"],
                                        params.get("padding", 0), params.get("dilation", 1),
                                        bool(params.get("ceil_mode", False)))
        counts = reference.cells_counted(geo, tuple(in_sizes), include_pad=False)
    except (ValueError, TypeError):
        return False
    return any(not np.asarray(c).all() for c in counts)


def _same_undilated_fits(in_sizes: Sequence[int], kernel: Sequence[int],
                         stride: Sequence[int], dilation: Sequence[int], padding: Any) -> bool:
    """Whether the dilated window still fits a 'same' padding computed for the undilated
    window (what a framework that leaves the dilation out of 'same' slides over)."""
    if padding not in ("same", "same_lower"):
        return True
    pads = reference.resolve_padding(padding, in_sizes, kernel, stride, (1,) * len(kernel))
    try:
        reference.window_geometry(in_sizes, kernel, stride, pads, dilation)
    except ValueError:
        return False
    return True


def split_same_pads(in_sizes: Sequence[int], kernel: Sequence[int], stride: Sequence[int],
                    dilation: Sequence[int]) -> tuple[tuple[int, int], ...]:
    """'same' padding split without clamping: per dimension the total ``t`` (unclamped
    :func:`reference.same_total_padding`, ``(k - 1) * d - (n - 1) % s``, negative where the
    window is shorter than the stride), as ``(t // 2, t - t // 2)`` (floor division: a
    negative odd total crops one more cell at the start)."""
    pairs = []
    for n, k, s, d in zip(in_sizes, kernel, stride, dilation, strict=True):
        total = reference.same_total_padding(n, k, s, d, clamped=False)
        pairs.append((total // 2, total - total // 2))
    return tuple(pairs)


def same_reversed(op: str, in_sizes: Sequence[int], kernel: Sequence[int],
                  stride: Sequence[int], dilation: Sequence[int], padding: Any) -> str | None:
    """What 'same' padding gives when, every dimension's (unclamped, :func:`split_same_pads`)
    padding being symmetric, the pads are applied to the dimensions in reverse order (the
    last dimension's to the first): ``"asymmetric"`` (some total is odd: nothing is
    reversed), ``"cropped"`` (some total is odd and one is negative), ``"rejected"`` (a
    reversed pad is below 0 or leaves a window larger than the padded input, or a pool's
    is over half its kernel), ``"unchanged"``, ``"moved"`` (other pads, the same
    output shape) or ``"reshaped"`` (another output shape); None for other padding."""
    if padding != "same":
        return None
    pairs = split_same_pads(in_sizes, kernel, stride, dilation)
    if any(lo != hi for lo, hi in pairs):
        return "cropped" if any(lo < 0 or hi < 0 for lo, hi in pairs) else "asymmetric"
    pads = [lo for lo, _ in pairs]
    moved = pads[::-1]
    extents = [(k - 1) * d + 1 for k, d in zip(kernel, dilation, strict=True)]
    pool = forward_op(op) != "conv"
    if any(p < 0 or n + 2 * p < e or (pool and p > k // 2)
           for p, k, n, e in zip(moved, kernel, in_sizes, extents, strict=True)):
        return "rejected"
    if moved == pads:
        return "unchanged"
    def out(ps: Sequence[int]) -> list[int]:
        return [(n + 2 * p - e) // s + 1
                for n, p, e, s in zip(in_sizes, ps, extents, stride, strict=True)]
    return "moved" if out(moved) == out(pads) else "reshaped"


def _channels_fit(x_shape: Sequence[int], w_shape: Sequence[int] | None, groups: Any) -> bool:
    """Whether a convolution's channels, weight and groups are consistent."""
    if (w_shape is None or len(w_shape) != len(x_shape) or len(x_shape) < 2
            or isinstance(groups, bool) or not isinstance(groups, int)):
        return False
    c, o, cg = x_shape[1], w_shape[0], w_shape[1]
    return groups >= 1 and o % groups == 0 and cg * groups == c


def _windows(x: np.ndarray, geo: Any) -> np.ndarray:
    """Every window's cells, ``(N, C, *out, cells)`` in float64, the padding (and the
    cells ceil mode adds) as NaN."""
    nd = x.ndim - 2
    xp = np.full((*x.shape[:2], *geo.padded), np.nan)
    inner = tuple(slice(lo, lo + n) for (lo, _), n in zip(geo.pads, x.shape[2:], strict=True))
    xp[(slice(None), slice(None), *inner)] = x.astype(np.float64)
    extents = tuple((k - 1) * d + 1 for k, d in zip(geo.kernel, geo.dilation, strict=True))
    view = np.lib.stride_tricks.sliding_window_view(xp, extents, axis=tuple(range(2, nd + 2)))
    view = view[(slice(None), slice(None),
                 *(slice(0, (o - 1) * s + 1, s) for o, s in zip(geo.out, geo.stride,
                                                               strict=True)),
                 *(slice(None, None, d) for d in geo.dilation))]
    return view.reshape(*view.shape[:2 + nd], -1)


def _max_window_facts(x: np.ndarray, geo: Any) -> dict[str, bool]:
    """``has_ties``, ``all_neg_inf_window`` and ``neg_inf_window_from_padding`` of a max
    pooling (padding never counts; a NaN is nobody's tie)."""
    if x.size == 0:
        return {"has_ties": False, "all_neg_inf_window": False,
                "neg_inf_window_from_padding": False}
    inside = ~np.isnan(_windows(np.zeros(x.shape), geo))
    values = np.where(inside, _windows(x, geo), -np.inf)
    with np.errstate(invalid="ignore"):
        top = np.max(np.where(np.isnan(values), -np.inf, values), axis=-1, keepdims=True)
    ties = np.sum(inside & (values == top), axis=-1) > 1
    neg_inf = np.all(~inside | np.isneginf(values), axis=-1)
    # the window's first cell in row-major order is the last axis' first entry
    from_padding = neg_inf & ~inside[..., 0]
    return {"has_ties": bool(ties.any()), "all_neg_inf_window": bool(neg_inf.any()),
            "neg_inf_window_from_padding": bool(from_padding.any())}


def case_facts(op: str, arrays: Mapping[str, Any], params: Mapping[str, Any], dtype: str,
               fill: str, variant: str = "") -> dict[str, Any]:
    """The facts of one call that ``when`` conditions test (see
    :data:`registry.vocabulary.FACTS`).

    ``arrays`` holds ``x`` (and ``w``, ``b`` for a convolution), ``params`` the oracle's
    keyword arguments (``kernel_size`` included for pooling). Arguments the oracle rejects
    give ``invalid = True`` and only the facts that need no padding arithmetic.
    """
    fwd = forward_op(op)
    x = np.asarray(arrays["x"])
    nd = x.ndim - 2
    w = arrays.get("w")
    w_shape = None if w is None else tuple(np.shape(w))
    in_sizes = tuple(x.shape[2:])
    if fwd == "conv":
        kernel = tuple(w_shape[2:]) if w_shape is not None else ()
        stride_arg = params.get("stride", 1)
    else:
        kernel = _per_dim(params["kernel_size"], nd)
        stride_arg = params.get("stride")
    stride = kernel if stride_arg is None else _per_dim(stride_arg, nd)
    dilation = _per_dim(params.get("dilation", 1), nd)
    padding = params.get("padding", 0)
    facts: dict[str, Any] = {
        "dtype": dtype, "ndim": nd, "batch": x.shape[0] if x.ndim else 0,
        "channels": x.shape[1] if x.ndim > 1 else 0, "in_sizes": in_sizes,
        "kernel": kernel, "stride": stride, "dilation": dilation,
        "padding": padding if isinstance(padding, str) else "explicit",
        "padding_form": _padding_form(padding),
        "fill": fill, "variant": variant,
        "has_nan": _special(arrays, np.isnan), "has_inf": _special(arrays, np.isinf),
        "has_subnormal": _has_subnormal(arrays, dtype),
        "input_below_kernel": any(isinstance(k, int) and n < k
                                  for n, k in zip(in_sizes, kernel, strict=False)),
        "window_cells": math.prod(int(k) for k in kernel) if kernel else 0,
    }
    if fwd == "conv":
        groups = params.get("groups", 1)
        implied = (x.shape[1] // w_shape[1] if w_shape and len(w_shape) == x.ndim
                   and w_shape[1] and x.ndim > 1 and x.shape[1] % w_shape[1] == 0 else 0)
        facts.update(groups=groups, groups_consistent=_channels_fit(x.shape, w_shape, groups),
                     same_channels=bool(w_shape) and int(w_shape[0]) == facts["channels"],
                     implied_groups_fit=bool(implied)
                     and _channels_fit(x.shape, w_shape, implied),
                     depthwise=groups == facts["channels"] and groups > 1,
                     out_channels=int(w_shape[0]) if w_shape else 0,
                     bias=arrays.get("b") is not None,
                     bias_fits=arrays.get("b") is None or (
                         bool(w_shape) and np.shape(arrays["b"]) == (int(w_shape[0]),)))
    else:
        ceil_mode = bool(params.get("ceil_mode", False))
        facts.update(stride_default=stride_arg is None, ceil_mode=ceil_mode)
        if fwd == "avg_pool":
            facts["count_include_pad"] = bool(params.get("count_include_pad", True))
    try:  # the oracle's own argument checks: invalid is exactly what it rejects
        if fwd == "conv":
            _, _, _, geometry = reference.conv_geometry(x, w, arrays.get("b"), **params)
        else:
            rest = {k: v for k, v in params.items() if k != "kernel_size"}
            _, geometry = reference.pool_geometry(x, params["kernel_size"], **rest)
    except (ValueError, TypeError):
        facts.update(invalid=True, empty=x.size == 0,
                     **_invalid_window(in_sizes, kernel, stride, dilation, padding))
        if fwd != "conv":
            facts["padding_only_window"] = _padding_only_window(in_sizes, params)
        return facts
    if fwd != "conv":
        facts["padding_only_window"] = False
    kernel_n, stride_n, dilation_n = geometry.kernel, geometry.stride, geometry.dilation
    pads = geometry.pads
    facts.update(
        same_undilated_fits=_same_undilated_fits(in_sizes, kernel_n, stride_n, dilation_n,
                                                 padding),
        invalid=False, window_larger=False,
        same_reversed=same_reversed(op, in_sizes, kernel_n, stride_n, dilation_n, padding),
        same_total_negative=padding in ("same", "same_lower") and any(
            reference.same_total_padding(n, k, s, d, clamped=False) < 0
            for n, k, s, d in zip(in_sizes, kernel_n, stride_n, dilation_n, strict=True)),
        pads=tuple(max(p) for p in pads),
        gap=tuple(s - ((k - 1) * d + 1) for s, k, d in zip(stride_n, kernel_n, dilation_n,
                                                           strict=True)),
        gap_undilated=tuple(s - k for s, k in zip(stride_n, kernel_n, strict=True)),
        padded=any(max(p) > 0 for p in pads),
        asymmetric=any(lo != hi for lo, hi in pads),
        pad_over_half=any(max(p) > k // 2 for p, k in zip(pads, kernel_n, strict=True)),
        empty=x.size == 0,
    )
    if fwd == "max_pool":
        facts.update(_max_window_facts(x, geometry))
    if fwd != "conv":
        floor = reference.output_size(in_sizes, kernel_n, stride_n, pads, dilation_n, False)
        ceil = reference.output_size(in_sizes, kernel_n, stride_n, pads, dilation_n, True)
        facts["ceil_extends"] = facts["ceil_mode"] and ceil != floor
    return facts
