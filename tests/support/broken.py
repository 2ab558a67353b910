"""Deliberately broken backends, built on the oracle, that the suite must catch.

Each object below gets one classic convention wrong and is otherwise the oracle. The
self-test (``tests/selftest``) runs the conformance suite against each with
``--backend tests.support.broken:NAME`` and asserts that the run fails in the test that
concerns the bug (:data:`BROKEN`): detection power is a tested property. A second group
follows one registered convention exactly (a value model of :mod:`registry.claims`, a
result dtype, an accumulation dtype, an exception, an Unsupported reason): the registry's
semantics are checked on them. These backends may emulate freely (np.pad and the like):
they are test doubles, not adapters.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import reference
from backends import Unsupported
from backends.numpy_backend import in_input_dtype
from reference.dtypes import lowest_finite
from tests.support.strategies import Case


def _in_input_dtype(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method``'s float64 result in the input's dtype, as the numpy backend returns it
    (the doubles break one convention, not the dtype)."""
    @functools.wraps(method)
    def wrapped(self: Any, x: Any, *args: Any, **kw: Any) -> np.ndarray:
        return in_input_dtype(method(self, x, *args, **kw), x)
    return wrapped


class _Oracle:
    """The oracle through the protocol; subclasses break one thing."""

    name = "broken"
    version = "0"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for op in ("conv", "max_pool", "avg_pool"):
            if op in cls.__dict__ and not getattr(cls.__dict__[op], "_cast", False):
                wrapped = _in_input_dtype(cls.__dict__[op])
                wrapped._cast = True  # type: ignore[attr-defined]
                setattr(cls, op, wrapped)

    @_in_input_dtype
    def conv(self, x: Any, w: Any, b: Any = None, **kw: Any) -> np.ndarray:
        return reference.conv(x, w, b, **kw)

    def max_pool(self, x: Any, kernel_size: Any, **kw: Any) -> np.ndarray:
        return reference.max_pool(x, kernel_size, **kw)

    @_in_input_dtype
    def avg_pool(self, x: Any, kernel_size: Any, **kw: Any) -> np.ndarray:
        return reference.avg_pool(x, kernel_size, **kw)


class FlippedKernel(_Oracle):
    """True convolution instead of cross-correlation: the kernel is flipped."""

    name = "broken-flipped-kernel"

    def conv(self, x: Any, w: Any, b: Any = None, **kw: Any) -> np.ndarray:
        w = np.asarray(w)
        return reference.conv(x, np.flip(w, axis=tuple(range(2, w.ndim))).copy(), b, **kw)


class SameWrongSide(_Oracle):
    """'same' puts the odd extra padding at the beginning (and 'same_lower' at the end)."""

    name = "broken-same-wrong-side"

    @staticmethod
    def _swap(kw: dict[str, Any]) -> dict[str, Any]:
        swap = {"same": "same_lower", "same_lower": "same"}
        padding = kw.get("padding", 0)
        if isinstance(padding, str) and padding in swap:
            return {**kw, "padding": swap[padding]}
        return kw

    def conv(self, x: Any, w: Any, b: Any = None, **kw: Any) -> np.ndarray:
        return super().conv(x, w, b, **self._swap(kw))

    def max_pool(self, x: Any, kernel_size: Any, **kw: Any) -> np.ndarray:
        return super().max_pool(x, kernel_size, **self._swap(kw))

    def avg_pool(self, x: Any, kernel_size: Any, **kw: Any) -> np.ndarray:
        return super().avg_pool(x, kernel_size, **self._swap(kw))


class AvgDivisorIgnoresPadding(_Oracle):
    """Average pooling always divides by the cells inside the input."""

    name = "broken-avg-divisor"

    def avg_pool(self, x: Any, kernel_size: Any, **kw: Any) -> np.ndarray:
        return super().avg_pool(x, kernel_size, **{**kw, "count_include_pad": False})


class MaxPoolZeroPadding(_Oracle):
    """Max pooling pads with zeros, so padding wins over negative inputs."""

    name = "broken-max-pool-zero-padding"

    def max_pool(self, x: Any, kernel_size: Any, *, stride: Any = None, padding: Any = 0,
                 dilation: Any = 1, ceil_mode: bool = False) -> np.ndarray:
        x = np.asarray(x)
        nd = x.ndim - 2
        kernel = reference.normalize_sizes(kernel_size, nd, "kernel_size")
        strides = kernel if stride is None else reference.normalize_sizes(stride, nd, "stride")
        dilations = reference.normalize_sizes(dilation, nd, "dilation")
        pads = reference.resolve_padding(padding, x.shape[2:], kernel, strides, dilations)
        padded = np.pad(x, ((0, 0), (0, 0), *pads))
        return reference.max_pool(padded, kernel, stride=strides, dilation=dilations,
                                  ceil_mode=ceil_mode)


class StrideReversed(_Oracle):
    """Per-dimension strides applied in reverse order (a height/width mix-up)."""

    name = "broken-stride-reversed"

    @staticmethod
    def _reverse(kw: dict[str, Any]) -> dict[str, Any]:
        stride = kw.get("stride")
        if isinstance(stride, tuple | list):
            return {**kw, "stride": tuple(reversed(stride))}
        return kw

    def conv(self, x: Any, w: Any, b: Any = None, **kw: Any) -> np.ndarray:
        return super().conv(x, w, b, **self._reverse(kw))

    def max_pool(self, x: Any, kernel_size: Any, **kw: Any) -> np.ndarray:
        return super().max_pool(x, kernel_size, **self._reverse(kw))

    def avg_pool(self, x: Any, kernel_size: Any, **kw: Any) -> np.ndarray:
        return super().avg_pool(x, kernel_size, **self._reverse(kw))


class OneUlpOff(_Oracle):
    """Convolution correct to the last unit only: the result, in the input's dtype, is
    nudged one ulp towards +inf. Exact cases must catch it."""

    name = "broken-one-ulp-off"

    def conv(self, x: Any, w: Any, b: Any = None, **kw: Any) -> np.ndarray:
        x = np.asarray(x)
        y = reference.conv(x, w, b, **kw)
        if x.dtype.kind != "f":
            return y
        y = y.astype(x.dtype)
        return np.nextafter(y, np.asarray(np.inf, dtype=x.dtype))


class MaxPoolIgnoresNan(_Oracle):
    """Max pooling skips NaN (``fmax`` semantics): a window with a NaN and a number gives
    the number."""

    name = "broken-max-pool-ignores-nan"

    def max_pool(self, x: Any, kernel_size: Any, **kw: Any) -> np.ndarray:
        x = np.asarray(x)
        if x.dtype.kind in "iu":
            return super().max_pool(x, kernel_size, **kw)
        y = super().max_pool(np.where(np.isnan(x), -np.inf, x).astype(x.dtype), kernel_size,
                             **kw)
        all_nan = super().max_pool(np.where(np.isnan(x), -np.inf, 0.0), kernel_size, **kw)
        return np.where(np.isneginf(all_nan) & np.isneginf(y), np.nan, y).astype(x.dtype)


class BiasDropped(_Oracle):
    """Convolution ignores its bias."""

    name = "broken-bias-dropped"

    def conv(self, x: Any, w: Any, b: Any = None, **kw: Any) -> np.ndarray:
        return reference.conv(x, w, None, **kw)


class PoolDilationIgnored(_Oracle):
    """Pooling ignores its dilation argument."""

    name = "broken-pool-dilation-ignored"

    def max_pool(self, x: Any, kernel_size: Any, **kw: Any) -> np.ndarray:
        return super().max_pool(x, kernel_size, **{**kw, "dilation": 1})

    def avg_pool(self, x: Any, kernel_size: Any, **kw: Any) -> np.ndarray:
        return super().avg_pool(x, kernel_size, **{**kw, "dilation": 1})


class HealedAvgDivisor(_Oracle):
    """Correct, but named like ``AvgDivisorIgnoresPadding``: a framework that fixed its
    bug in a new version. A registry entry written for the broken one must go stale."""

    name = "broken-avg-divisor"
    version = "1"


class ConvNanToZero(_Oracle):
    """Convolution replaces NaN in its input and weights by 0 (a ``nan_to_num`` before
    the product)."""

    name = "broken-conv-nan-to-zero"

    def conv(self, x: Any, w: Any, b: Any = None, **kw: Any) -> np.ndarray:
        x, w = np.asarray(x), np.asarray(w)
        if x.dtype.kind in "iu":
            return reference.conv(x, w, b, **kw)
        x = np.where(np.isnan(x.astype(np.float64)), 0, x).astype(x.dtype)
        w = np.where(np.isnan(w.astype(np.float64)), 0, w).astype(w.dtype)
        return reference.conv(x, w, b, **kw)


class ConvFloat64Result:
    """Convolution returns float64 for float32 input (the values are right)."""

    name = "broken-conv-float64-result"
    version = "0"

    def conv(self, x: Any, w: Any, b: Any = None, **kw: Any) -> np.ndarray:
        y = reference.conv(x, w, b, **kw)
        return y if np.asarray(x).dtype == np.float32 else in_input_dtype(y, x)

    def max_pool(self, x: Any, kernel_size: Any, **kw: Any) -> np.ndarray:
        return reference.max_pool(x, kernel_size, **kw)

    def avg_pool(self, x: Any, kernel_size: Any, **kw: Any) -> np.ndarray:
        return in_input_dtype(reference.avg_pool(x, kernel_size, **kw), x)


class DeclinesEverything:
    """Raises Unsupported for every call: a run on it compares nothing."""

    name = "broken-declines-everything"
    version = "0"

    def conv(self, x: Any, w: Any, b: Any = None, **kw: Any) -> np.ndarray:
        raise Unsupported("this backend declines every convolution")

    def max_pool(self, x: Any, kernel_size: Any, **kw: Any) -> np.ndarray:
        raise Unsupported("this backend declines every max pooling")

    def avg_pool(self, x: Any, kernel_size: Any, **kw: Any) -> np.ndarray:
        raise Unsupported("this backend declines every average pooling")


class IntAvgZeros(_Oracle):
    """int64 average pooling returns zeros. Run with a registry entry claiming that it
    truncates (``int-truncated``): a bug inside a registered region."""

    name = "broken-int-avg"

    def avg_pool(self, x: Any, kernel_size: Any, **kw: Any) -> np.ndarray:
        y = reference.avg_pool(x, kernel_size, **kw)
        return np.zeros_like(y) if np.asarray(x).dtype == np.int64 else y


class EmptyBatchWrongShape(_Oracle):
    """For an empty batch (N = 0) every operation returns an array shaped like the input,
    not like the output."""

    name = "broken-empty-batch"

    def conv(self, x: Any, w: Any, b: Any = None, **kw: Any) -> np.ndarray:
        x = np.asarray(x)
        return np.empty(x.shape) if x.shape[0] == 0 else reference.conv(x, w, b, **kw)

    def max_pool(self, x: Any, kernel_size: Any, **kw: Any) -> np.ndarray:
        x = np.asarray(x)
        return x.copy() if x.shape[0] == 0 else reference.max_pool(x, kernel_size, **kw)

    def avg_pool(self, x: Any, kernel_size: Any, **kw: Any) -> np.ndarray:
        x = np.asarray(x)
        return np.empty(x.shape) if x.shape[0] == 0 else reference.avg_pool(x, kernel_size,
                                                                             **kw)


class SaturatesLarge(_Oracle):
    """float32 and float64 results are clipped to [-6e4, 6e4] (a float16 limit applied to
    the wider dtypes)."""

    name = "broken-saturates"
    LIMIT = 6.0e4

    def _clip(self, y: np.ndarray, x: Any) -> np.ndarray:
        if np.asarray(x).dtype not in (np.float32, np.float64):
            return y
        return np.clip(y, -self.LIMIT, self.LIMIT)

    def conv(self, x: Any, w: Any, b: Any = None, **kw: Any) -> np.ndarray:
        return self._clip(reference.conv(x, w, b, **kw), x)

    def max_pool(self, x: Any, kernel_size: Any, **kw: Any) -> np.ndarray:
        return self._clip(reference.max_pool(x, kernel_size, **kw), x)

    def avg_pool(self, x: Any, kernel_size: Any, **kw: Any) -> np.ndarray:
        return self._clip(reference.avg_pool(x, kernel_size, **kw), x)


def _window_taps(x: np.ndarray, kernel: Any, stride: Any, padding: Any, dilation: Any,
                 ceil_mode: bool = False) -> tuple[np.ndarray, reference.WindowGeometry]:
    """Every window's taps, ``(N, C, *out, K)`` (the input padded with zeros), and the
    geometry, from the oracle's window arithmetic."""
    nd = x.ndim - 2
    geo = reference.window_geometry(x.shape[2:], kernel, stride, padding, dilation, ceil_mode)
    grown = [(lo, hi + max(0, p - (n + lo + hi))) for (lo, hi), p, n
             in zip(geo.pads, geo.padded, x.shape[2:], strict=True)]
    xp = np.pad(x, ((0, 0), (0, 0), *grown))
    spans = [(k - 1) * d + 1 for k, d in zip(geo.kernel, geo.dilation, strict=True)]
    view = np.lib.stride_tricks.sliding_window_view(xp, spans, axis=tuple(range(2, 2 + nd)))
    pick = (slice(None), slice(None),
            *(slice(0, o * s, s) for o, s in zip(geo.out, geo.stride, strict=True)),
            *(slice(None, None, d) for d in geo.dilation))
    taps = view[pick]
    return taps.reshape(*taps.shape[:2 + nd], math.prod(geo.kernel)), geo


class Float16Accumulation(_Oracle):
    """float16 convolution and average pooling sum in float16, one rounding per term
    (the products rounded to float16 as well)."""

    name = "broken-float16-accumulation"

    def conv(self, x: Any, w: Any, b: Any = None, *, stride: Any = 1, padding: Any = 0,
             dilation: Any = 1, groups: int = 1) -> np.ndarray:
        x, w = np.asarray(x), np.asarray(w)
        if x.dtype != np.float16:
            return reference.conv(x, w, b, stride=stride, padding=padding,
                                  dilation=dilation, groups=groups)
        nd = x.ndim - 2
        o, cg = w.shape[:2]
        og = o // groups
        out = []
        for oc in range(o):
            g = oc // og
            xs = x[:, g * cg:(g + 1) * cg]
            taps, _ = _window_taps(xs, w.shape[2:], stride, padding, dilation)
            # (N, Cg, *out, K) times the filter's (Cg, K), every product in float16
            prods = taps * w[oc].reshape(cg, *(1,) * nd, -1)
            prods = np.moveaxis(prods, 1, -2).reshape(*prods.shape[:1], *prods.shape[2:-1], -1)
            total = np.cumsum(prods.astype(np.float16), axis=-1, dtype=np.float16)[..., -1]
            if b is not None:
                total = (total + np.float16(np.asarray(b)[oc])).astype(np.float16)
            out.append(total)
        return np.stack(out, axis=1)

    def avg_pool(self, x: Any, kernel_size: Any, *, stride: Any = None, padding: Any = 0,
                 dilation: Any = 1, ceil_mode: bool = False, count_include_pad: bool = True
                 ) -> np.ndarray:
        x = np.asarray(x)
        if x.dtype != np.float16:
            return reference.avg_pool(x, kernel_size, stride=stride, padding=padding,
                                      dilation=dilation, ceil_mode=ceil_mode,
                                      count_include_pad=count_include_pad)
        taps, geo = _window_taps(x, kernel_size, kernel_size if stride is None else stride,
                                 padding, dilation, ceil_mode)
        total = np.cumsum(taps, axis=-1, dtype=np.float16)[..., -1]
        divisor = functools.reduce(np.multiply.outer,
                                   reference.cells_counted(geo, x.shape[2:], count_include_pad))
        return (total / divisor.astype(np.float16)).astype(np.float16)


class Conv3dDepthFlipped(_Oracle):
    """3-D convolution flips its kernel along the first spatial (depth) axis; 1-D and 2-D
    are right."""

    name = "broken-conv3d-depth-flipped"

    def conv(self, x: Any, w: Any, b: Any = None, **kw: Any) -> np.ndarray:
        w = np.asarray(w)
        if w.ndim == 5:
            w = np.flip(w, axis=2).copy()
        return reference.conv(x, w, b, **kw)


class MaxPoolStrideClampedToKernel(_Oracle):
    """Max pooling uses the kernel size as the stride wherever the stride is larger (the
    windows are then contiguous); strides up to the kernel size are right."""

    name = "broken-max-pool-stride-clamped"

    def max_pool(self, x: Any, kernel_size: Any, *, stride: Any = None, **kw: Any
                 ) -> np.ndarray:
        x = np.asarray(x)
        nd = x.ndim - 2
        kernel = reference.normalize_sizes(kernel_size, nd, "kernel_size")
        if stride is not None:
            strides = reference.normalize_sizes(stride, nd, "stride")
            stride = tuple(min(s, k) for s, k in zip(strides, kernel, strict=True))
        return reference.max_pool(x, kernel, stride=stride, **kw)


# ------------------------------------------------ doubles that follow one convention
class _Named:
    """``inner`` (a backend) under another name and version: a framework that changed
    between versions, or a second bug in a registered region."""

    def __init__(self, inner: Any, name: str, version: str = "1",
                 transform: Callable[[np.ndarray], np.ndarray] | None = None) -> None:
        self.inner, self.name, self.version = inner, name, version
        self.transform = transform or (lambda y: y)

    def conv(self, *args: Any, **kw: Any) -> np.ndarray:
        return self.transform(self.inner.conv(*args, **kw))

    def max_pool(self, *args: Any, **kw: Any) -> np.ndarray:
        return self.transform(self.inner.max_pool(*args, **kw))

    def avg_pool(self, *args: Any, **kw: Any) -> np.ndarray:
        return self.transform(self.inner.avg_pool(*args, **kw))


def renamed(inner: Any, name: str, version: str = "1") -> _Named:
    """``inner`` under ``name``: the oracle named like a broken double is that framework
    healed."""
    return _Named(inner, name, version)


def off_by_one(inner: Any, name: str) -> _Named:
    """``inner`` under ``name`` with 1 added to every result: neither the oracle's default
    nor any registered convention."""
    return _Named(inner, name, "2", transform=lambda y: (y + 1).astype(y.dtype))


class MaxPoolLowestStart(_Oracle):
    """Max pooling that starts each window at the dtype's lowest finite value: a window of
    -inf (and padding) gives the lowest finite instead of -inf."""

    name = "convention-max-pool-lowest-start"

    def max_pool(self, x: Any, kernel_size: Any, **kw: Any) -> np.ndarray:
        x = np.asarray(x)
        y = reference.max_pool(x, kernel_size, **kw)
        if x.dtype.kind in "iu":
            return y
        low = np.asarray(lowest_finite(x.dtype.name), dtype=x.dtype)
        return np.maximum(y, low)


class MaxPoolNanPerChannel(_Oracle):
    """Max pooling that skips NaN in odd channels and propagates it in even ones."""

    name = "convention-max-pool-nan-per-channel"

    def max_pool(self, x: Any, kernel_size: Any, **kw: Any) -> np.ndarray:
        x = np.asarray(x)
        skipped = max_pool_ignores_nan.max_pool(x, kernel_size, **kw)
        y = reference.max_pool(x, kernel_size, **kw)
        y[:, 1::2] = skipped[:, 1::2]
        return y


class IntAvgTruncates(_Oracle):
    """Integer average pooling divides with C semantics: the sum over the divisor,
    truncated toward zero."""

    name = "convention-int-avg-truncates"

    def avg_pool(self, x: Any, kernel_size: Any, *, stride: Any = None, padding: Any = 0,
                 dilation: Any = 1, ceil_mode: bool = False, count_include_pad: bool = True
                 ) -> np.ndarray:
        x = np.asarray(x)
        if x.dtype.kind not in "iu":
            return super().avg_pool(x, kernel_size, stride=stride, padding=padding,
                                    dilation=dilation, ceil_mode=ceil_mode,
                                    count_include_pad=count_include_pad)
        taps, geo = _window_taps(x.astype(np.int64), kernel_size,
                                 kernel_size if stride is None else stride, padding,
                                 dilation, ceil_mode)
        total = taps.sum(axis=-1)
        divisor = functools.reduce(np.multiply.outer,
                                   reference.cells_counted(geo, x.shape[2:], count_include_pad))
        quotient = np.abs(total) // divisor  # C division truncates toward zero
        return (np.sign(total) * quotient).astype(x.dtype)


class AvgEdgeReplicated(_Oracle):
    """Average pooling over the input padded with copies of its edge values."""

    name = "convention-avg-edge-replicated"

    def avg_pool(self, x: Any, kernel_size: Any, *, stride: Any = None, padding: Any = 0,
                 dilation: Any = 1, ceil_mode: bool = False, count_include_pad: bool = True
                 ) -> np.ndarray:
        x = np.asarray(x)
        nd = x.ndim - 2
        kernel = reference.normalize_sizes(kernel_size, nd, "kernel_size")
        strides = kernel if stride is None else reference.normalize_sizes(stride, nd, "stride")
        dilations = reference.normalize_sizes(dilation, nd, "dilation")
        pads = reference.resolve_padding(padding, x.shape[2:], kernel, strides, dilations)
        padded = np.pad(x, ((0, 0), (0, 0), *pads), mode="edge")
        return super().avg_pool(padded, kernel, stride=strides, dilation=dilations,
                                ceil_mode=ceil_mode)


class MaxPoolSameUnclamped1d(_Oracle):
    """1-D max pooling whose 'same' total padding is not clamped at 0: a negative total
    (window shorter than the stride) crops the input, half of it (rounded toward zero)
    at the start."""

    name = "convention-max-pool-same-unclamped"

    def max_pool(self, x: Any, kernel_size: int, *, stride: int | None = None,
                 padding: Any = 0, **kw: Any) -> np.ndarray:
        x = np.asarray(x)
        if padding != "same" or x.ndim != 3:
            return reference.max_pool(x, kernel_size, stride=stride, padding=padding, **kw)
        n, s = x.shape[2], stride or kernel_size
        total = (-(-n // s) - 1) * s + kernel_size - n
        start = -int(total / 2) if total < 0 else 0
        if total >= 0:
            return reference.max_pool(x, kernel_size, stride=s, padding="same", **kw)
        cropped = x[:, :, start:n + (total - int(total / 2))]
        return reference.max_pool(cropped, kernel_size, stride=s, **kw)


class MaxPoolSameReversed2d(_Oracle):
    """2-D max pooling whose 'same' pads, when symmetric in both dimensions, are applied
    to the dimensions the other way round (the rows' to the columns and back)."""

    name = "convention-max-pool-same-reversed"

    def max_pool(self, x: Any, kernel_size: Any, *, stride: Any = None, padding: Any = 0,
                 **kw: Any) -> np.ndarray:
        x = np.asarray(x)
        if padding != "same" or x.ndim != 4:
            return reference.max_pool(x, kernel_size, stride=stride, padding=padding, **kw)
        kernel = reference.normalize_sizes(kernel_size, 2, "kernel_size")
        strides = reference.normalize_sizes(stride or kernel, 2, "stride")
        (a, b), (c, d) = reference.resolve_padding("same", x.shape[2:], kernel, strides,
                                                   (1, 1))
        if a != b or c != d:
            return reference.max_pool(x, kernel, stride=strides, padding="same", **kw)
        return reference.max_pool(x, kernel, stride=strides, padding=(c, a), **kw)


class MaxPoolFullCeil1d(_Oracle):
    """1-D max pooling in ceil mode with Caffe's 'full' output count: no last-window rule;
    a window of padding only gives the lowest finite value."""

    name = "convention-max-pool-full-ceil"

    def max_pool(self, x: Any, kernel_size: int, *, stride: int | None = None,
                 padding: int = 0, ceil_mode: bool = False, **kw: Any) -> np.ndarray:
        x = np.asarray(x)
        if not ceil_mode or x.ndim != 3:
            return reference.max_pool(x, kernel_size, stride=stride, padding=padding,
                                      ceil_mode=ceil_mode, **kw)
        s, n = stride or kernel_size, x.shape[2]
        count = -(-(n + 2 * padding - kernel_size) // s) + 1
        low = lowest_finite(x.dtype.name)
        xp = np.full((*x.shape[:2], padding + max(n + padding, (count - 1) * s + kernel_size)),
                     -np.inf)
        xp[:, :, padding:padding + n] = x
        out = np.stack([xp[:, :, i * s:i * s + kernel_size].max(axis=-1)
                        for i in range(count)], axis=-1)
        return np.where(np.isneginf(out), low, out).astype(x.dtype)


class AvgPoolCeilWholeKernel1d(_Oracle):
    """1-D average pooling in ceil mode (count_include_pad) that divides every window by
    the kernel size, the cells a last window reaches past the padded input included."""

    name = "convention-avg-pool-ceil-whole-kernel"

    def avg_pool(self, x: Any, kernel_size: int, *, stride: int | None = None,
                 padding: int = 0, ceil_mode: bool = False, count_include_pad: bool = True,
                 **kw: Any) -> np.ndarray:
        x = np.asarray(x)
        if not (ceil_mode and count_include_pad) or x.ndim != 3:
            return reference.avg_pool(x, kernel_size, stride=stride, padding=padding,
                                      ceil_mode=ceil_mode,
                                      count_include_pad=count_include_pad, **kw)
        s, n = stride or kernel_size, x.shape[2]
        (count,) = reference.output_size((n,), (kernel_size,), (s,), ((padding, padding),),
                                         (1,), True)
        xp = np.zeros((*x.shape[:2], max(n + 2 * padding, (count - 1) * s + kernel_size)))
        xp[:, :, padding:padding + n] = x
        return np.stack([xp[:, :, i * s:i * s + kernel_size].sum(axis=-1) / kernel_size
                         for i in range(count)], axis=-1)


class RaisesOnPadding(_Oracle):
    """Average pooling with padding raises RuntimeError("padded pooling has no kernel")."""

    name = "convention-raises-on-padding"
    exception: type[Exception] = RuntimeError
    message = "padded pooling has no kernel"

    def avg_pool(self, x: Any, kernel_size: Any, **kw: Any) -> np.ndarray:
        if kw.get("padding", 0) not in (0, "valid"):
            raise self.exception(self.message)
        return super().avg_pool(x, kernel_size, **kw)


class DeclinesPadding(_Oracle):
    """Average pooling with padding is declined: Unsupported("no padded pooling")."""

    name = "convention-declines-padding"
    reason = "no padded pooling"

    def avg_pool(self, x: Any, kernel_size: Any, **kw: Any) -> np.ndarray:
        if kw.get("padding", 0) not in (0, "valid"):
            raise Unsupported(self.reason)
        return super().avg_pool(x, kernel_size, **kw)


class ConvNegativePaddingCrops(_Oracle):
    """Convolution takes negative explicit padding as cropping: ``-p`` cells off that
    side of the input (bad input to the oracle)."""

    name = "convention-conv-negative-padding-crops"

    def conv(self, x: Any, w: Any, b: Any = None, *, padding: Any = 0, **kw: Any
             ) -> np.ndarray:
        x = np.asarray(x)
        nd = x.ndim - 2
        if isinstance(padding, str):
            return reference.conv(x, w, b, padding=padding, **kw)
        if isinstance(padding, int):
            padding = (padding,) * nd
        pairs = [p if isinstance(p, tuple | list) else (p, p) for p in padding]
        for axis, (lo, hi) in enumerate(pairs):
            n = x.shape[2 + axis]
            x = np.take(x, np.arange(max(-lo, 0), n - max(-hi, 0)), axis=2 + axis)
        return reference.conv(x, w, b, padding=tuple((max(lo, 0), max(hi, 0))
                                                     for lo, hi in pairs), **kw)


class MaxPoolEmptyWhenWindowLarger(_Oracle):
    """Max pooling returns an empty output where the window is larger than the padded
    input (bad input to the oracle), sized ``max(0, floor((n + 2p - k) / s) + 1)``."""

    name = "convention-max-pool-empty-when-window-larger"

    def max_pool(self, x: Any, kernel_size: Any, *, stride: Any = None, padding: int = 0,
                 **kw: Any) -> np.ndarray:
        x = np.asarray(x)
        nd = x.ndim - 2
        kernel = reference.normalize_sizes(kernel_size, nd, "kernel_size")
        strides = kernel if stride is None else reference.normalize_sizes(stride, nd, "stride")
        sizes = [(n + 2 * padding - k) // s + 1
                 for n, k, s in zip(x.shape[2:], kernel, strides, strict=True)]
        if min(sizes) >= 1:
            return reference.max_pool(x, kernel, stride=strides, padding=padding, **kw)
        return np.empty((*x.shape[:2], *(max(0, o) for o in sizes)), dtype=x.dtype)


class MaxPoolIdentityPadding(_Oracle):
    """Max pooling over the input padded beforehand with -inf (lax.reduce_window's
    identity): a window of padding only gives -inf instead of an error (bad input to the
    oracle)."""

    name = "convention-max-pool-identity-padding"

    def max_pool(self, x: Any, kernel_size: Any, *, stride: Any = None, padding: int = 0,
                 **kw: Any) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        nd = x.ndim - 2
        padded = np.pad(x, ((0, 0), (0, 0), *[(padding, padding)] * nd),
                        constant_values=-np.inf)
        return reference.max_pool(padded, kernel_size, stride=stride, **kw)


class ConvEmptyChannelsAsInput(_Oracle):
    """A convolution of 0 input channels returns its empty input as it is."""

    name = "convention-conv-empty-channels-as-input"

    def conv(self, x: Any, w: Any, b: Any = None, **kw: Any) -> np.ndarray:
        x = np.asarray(x)
        if x.shape[1] == 0:
            return x.copy()
        return reference.conv(x, w, b, **kw)


class ConvEmptyBatchSpaceToBatchShaped(_Oracle):
    """A convolution of an empty batch returns its input as it is, padded by the 'same'
    padding where a dilation is above 1 (TensorFlow's atrous path)."""

    name = "convention-conv-empty-batch-space-to-batch-shaped"

    def conv(self, x: Any, w: Any, b: Any = None, **kw: Any) -> np.ndarray:
        x = np.asarray(x)
        if x.shape[0] != 0:
            return reference.conv(x, w, b, **kw)
        geometry = reference.conv_geometry(x, w, b, **kw)[3]
        if kw.get("padding") == "same" and max(geometry.dilation) > 1:
            return np.pad(x, ((0, 0), (0, 0), *geometry.pads))
        return x.copy()


class ConvEmptyChannelsOut(_Oracle):
    """A convolution of 0 input channels returns an empty (N, 0, *out) result."""

    name = "convention-conv-empty-channels-out"

    def conv(self, x: Any, w: Any, b: Any = None, **kw: Any) -> np.ndarray:
        y = reference.conv(x, w, b, **kw)
        return y[:, :0] if np.shape(x)[1] == 0 else y


class FlushesSubnormals(_Oracle):
    """Subnormal inputs read as zero and subnormal results written as zero."""

    name = "convention-flushes-subnormals"

    def avg_pool(self, x: Any, kernel_size: Any, **kw: Any) -> np.ndarray:
        tiny = float(np.finfo(np.asarray(x).dtype).tiny)
        x64 = np.asarray(x).astype(np.float64)
        y = reference.avg_pool(np.where(np.abs(x64) < tiny, 0.0, x64), kernel_size, **kw)
        return np.where(np.abs(y) < tiny, 0.0, y)


class MaxPoolSubnormalsTie(_Oracle):
    """1-D max pooling (no padding) that compares with subnormals read as zero and
    returns the first cell of a window that ties with the maximum, unflushed, written as
    loops."""

    name = "convention-max-pool-subnormals-tie"

    def max_pool(self, x: Any, kernel_size: Any, **kw: Any) -> np.ndarray:
        tiny = float(np.finfo(np.asarray(x).dtype).tiny)
        x64 = np.asarray(x).astype(np.float64)
        k = int(kernel_size)
        s = int(kw.get("stride") or k)
        out = np.empty((*x64.shape[:2], (x64.shape[2] - k) // s + 1))
        for n, c, o in np.ndindex(*out.shape):
            cells = x64[n, c, o * s:o * s + k]
            read = [0.0 if abs(v) < tiny else v for v in cells]
            out[n, c, o] = cells[read.index(max(read))]
        return out


class ConvBiasAfterRounding(_Oracle):
    """A convolution rounded into the input's dtype before the bias is added in that
    dtype (float16: a sum beyond 65504 is already infinite when the bias comes)."""

    name = "convention-conv-bias-after-rounding"

    def conv(self, x: Any, w: Any, b: Any = None, **kw: Any) -> np.ndarray:
        dtype = np.asarray(x).dtype
        with np.errstate(over="ignore"):
            y = reference.conv(x, w, None, **kw).astype(dtype)
            if b is not None:
                y = y + np.asarray(b, dtype=dtype).reshape(1, -1, *(1,) * (y.ndim - 2))
        return y.astype(np.float64)


class ConvGroupsFromShapes(_Oracle):
    """A convolution that ignores its groups argument and uses ``C // w.shape[1]``."""

    name = "convention-conv-groups-from-shapes"

    def conv(self, x: Any, w: Any, b: Any = None, **kw: Any) -> np.ndarray:
        groups = np.shape(x)[1] // np.shape(w)[1]
        return reference.conv(x, w, b, **{**kw, "groups": groups})


class ConvSkipsPaddingTaps(_Oracle):
    """A 1-D convolution (stride 1, one group) whose taps over the padding contribute
    nothing, written as loops."""

    name = "convention-conv-skips-padding-taps"

    def conv(self, x: Any, w: Any, b: Any = None, **kw: Any) -> np.ndarray:
        x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
        (lo, hi), = reference.resolve_padding(kw.get("padding", 0), x.shape[2:],
                                              w.shape[2:], (1,), (1,))
        n, _, length = x.shape
        o, k = w.shape[0], w.shape[2]
        y = np.zeros((n, o, length + lo + hi - k + 1))
        for i in range(y.shape[2]):
            for t in range(k):
                cell = i + t - lo
                if 0 <= cell < length:
                    y[:, :, i] += x[:, :, cell] @ w[:, :, t].T
        return y


class ConvNanAcrossGroups(_Oracle):
    """A grouped convolution computed with a block-diagonal kernel: a NaN in one group
    reaches every output (its zeros times the NaN)."""

    name = "convention-conv-nan-across-groups"

    def conv(self, x: Any, w: Any, b: Any = None, **kw: Any) -> np.ndarray:
        y = reference.conv(x, w, b, **kw)
        if kw.get("groups", 1) > 1 and np.isnan(np.asarray(x, np.float64)).any():
            y[:] = np.nan
        return y


class MaxPoolSameUndilatedPads(_Oracle):
    """'same' max pooling whose padding is computed as if the window were not dilated."""

    name = "convention-max-pool-same-undilated-pads"

    def max_pool(self, x: Any, kernel_size: Any, **kw: Any) -> np.ndarray:
        x = np.asarray(x)
        if kw.get("padding") in ("same", "same_lower"):
            nd = x.ndim - 2
            kernel = reference.normalize_sizes(kernel_size, nd, "kernel_size")
            stride = reference.normalize_sizes(kw.get("stride") or kernel, nd, "stride")
            kw = {**kw, "padding": reference.resolve_padding(kw["padding"], x.shape[2:],
                                                             kernel, stride, (1,) * nd)}
        return reference.max_pool(x, kernel_size, **kw)


class CrashesOnGroupsZero(_Oracle):
    """A convolution with groups=0 kills its process with SIGFPE (the process, not an
    exception: the suite runs such calls in a worker)."""

    name = "convention-crashes-on-groups-zero"

    def conv(self, x: Any, w: Any, b: Any = None, **kw: Any) -> np.ndarray:
        if kw.get("groups") == 0:
            import os
            import signal

            os.kill(os.getpid(), signal.SIGFPE)
        return reference.conv(x, w, b, **kw)


crashes_on_groups_zero = CrashesOnGroupsZero()
flipped_kernel = FlippedKernel()
same_wrong_side = SameWrongSide()
avg_divisor_ignores_padding = AvgDivisorIgnoresPadding()
max_pool_zero_padding = MaxPoolZeroPadding()
stride_reversed = StrideReversed()
one_ulp_off = OneUlpOff()
max_pool_ignores_nan = MaxPoolIgnoresNan()
bias_dropped = BiasDropped()
pool_dilation_ignored = PoolDilationIgnored()
healed_avg_divisor = HealedAvgDivisor()
conv_nan_to_zero = ConvNanToZero()
conv_float64_result = ConvFloat64Result()
declines_everything = DeclinesEverything()
int_avg_zeros = IntAvgZeros()
empty_batch_wrong_shape = EmptyBatchWrongShape()
saturates_large = SaturatesLarge()
float16_accumulation = Float16Accumulation()
conv3d_depth_flipped = Conv3dDepthFlipped()
max_pool_stride_clamped = MaxPoolStrideClampedToKernel()

INT_AVG_TRUNCATES_ENTRY = """
[[discrepancy]]
id = "broken-int-avg-truncates"
backends = ["broken-int-avg"]
frameworks = ["broken"]
api = "tests.support.broken.IntAvgZeros.avg_pool"
op = "avg_pool"
topic = "dtypes"
kind = "convention"
summary = "int64 average pooling truncates toward zero"
description = "A test double: the entry claims truncation, the double returns zeros."
source = "https://example.org/broken"
when = { dtype = "int64" }
claim = { values = ["int-truncated"] }
"""


@dataclass(frozen=True)
class Detection:
    """Where and how the suite must catch one broken backend.

    Attributes
    ----------
    test : str
        The node id (``path::function``, with ``[param]`` for a parametrized test) that
        must fail; the self-test runs only this test on the double.
    message : tuple of str
        Regular expressions the failure's message must match: the kind of failure and
        the difference that shows the bug.
    case : callable or None
        For a property test, what the falsifying case must satisfy: the parameter that
        triggers the bug (the case is rebuilt from the failure report).
    registry : str or None
        TOML of the registry the run uses instead of the real one.
    """

    test: str
    message: tuple[str, ...]
    case: Callable[[Case], bool] | None = None
    registry: str | None = None


_CONV = "tests/conformance/test_conv.py::"
_MAX = "tests/conformance/test_max_pool.py::"
_AVG = "tests/conformance/test_avg_pool.py::"
_UNREGISTERED = r"UNREGISTERED DIFFERENCE"
_DIFFER = r"\d+ of \d+ elements differ"


def _padded(case: Case) -> bool:
    return any(lo or hi for lo, hi in case.pads)


#: Each broken backend, the test that must catch it and what its failure must show.
BROKEN: dict[str, Detection] = {
    "flipped_kernel": Detection(f"{_CONV}test_conv_matches_oracle", (_UNREGISTERED, _DIFFER),
                                lambda c: max(c.kernel) >= 2),
    "same_wrong_side": Detection(
        "tests/conformance/test_same_asymmetry.py::test_same_puts_odd_extra_padding_at_end"
        "[conv]", (_UNREGISTERED, _DIFFER), lambda c: c.params["padding"] == "same"),
    "avg_divisor_ignores_padding": Detection(
        f"{_AVG}test_avg_pool_matches_oracle", (_UNREGISTERED, _DIFFER),
        lambda c: _padded(c) and c.params["count_include_pad"]),
    "max_pool_zero_padding": Detection(f"{_MAX}test_max_pool_matches_oracle",
                                       (_UNREGISTERED, _DIFFER), _padded),
    "stride_reversed": Detection(f"{_CONV}test_conv_matches_oracle",
                                 (_UNREGISTERED, r"shape|elements differ"),
                                 lambda c: len(set(c.stride)) > 1),
    "one_ulp_off": Detection(f"{_CONV}test_conv_matches_oracle",
                             (_UNREGISTERED, _DIFFER, r"exact: integer values"),
                             lambda c: c.fill == "exact"),
    "max_pool_ignores_nan": Detection(f"{_MAX}test_max_pool_matches_oracle",
                                      (_UNREGISTERED, r"oracle nan"),
                                      lambda c: c.fill == "special"),
    "bias_dropped": Detection(f"{_CONV}test_conv_matches_oracle", (_UNREGISTERED, _DIFFER),
                              lambda c: c.bias),
    "pool_dilation_ignored": Detection(f"{_AVG}test_avg_pool_matches_oracle",
                                       (_UNREGISTERED, r"shape|elements differ"),
                                       lambda c: max(c.dilation) > 1),
    "conv_nan_to_zero": Detection(f"{_CONV}test_conv_special_values",
                                  (_UNREGISTERED, _DIFFER, r"backend [^,]+, oracle nan"),
                                  lambda c: c.fill in ("special", "nan-window")),
    "conv_float64_result": Detection(f"{_CONV}test_conv_matches_oracle",
                                     (_UNREGISTERED, r"result dtype float64, expected float32"),
                                     lambda c: c.dtype == "float32"),
    "int_avg_zeros": Detection(
        f"{_AVG}test_avg_pool_low_precision_and_integer_dtypes",
        (_UNREGISTERED, r"matches registry entries broken-int-avg-truncates but agrees "
                        r"neither with their claim", _DIFFER),
        lambda c: c.dtype == "int64", registry=INT_AVG_TRUNCATES_ENTRY),
    "empty_batch_wrong_shape": Detection(f"{_CONV}test_conv_empty_batch_or_channels",
                                         (_UNREGISTERED, r"shape \(0, .*\) != oracle shape "
                                                         r"\(0, "),
                                         lambda c: c.x_shape[0] == 0),
    "saturates_large": Detection(f"{_MAX}test_max_pool_extreme_values",
                                 (_UNREGISTERED, _DIFFER, r"backend -?60000\.0"),
                                 lambda c: c.fill == "extreme"
                                 and c.dtype in ("float32", "float64")),
    "float16_accumulation": Detection(
        f"{_AVG}test_avg_pool_large_windows_low_precision",
        (_UNREGISTERED, _DIFFER, r"gamma_\d+\(u_float32"),
        lambda c: c.dtype == "float16" and c.terms >= 64),
    "conv3d_depth_flipped": Detection(f"{_CONV}test_conv_matches_oracle",
                                      (_UNREGISTERED, _DIFFER), lambda c: c.ndim == 3),
    "max_pool_stride_clamped": Detection(
        f"{_MAX}test_max_pool_matches_oracle", (_UNREGISTERED, r"shape|elements differ"),
        lambda c: any(s > k for s, k in zip(c.stride, c.kernel, strict=True))),
}
