"""Deliberately broken backends, built on the oracle, that the suite must catch.

Each object below gets one classic convention wrong and is otherwise the oracle. The
self-test (``tests/selftest``) runs the conformance suite against each with
``--backend tests.support.broken:NAME`` and asserts that the run fails: detection power
is a tested property. These backends may emulate freely (np.pad and the like): they are
test doubles, not adapters.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

import reference
from backends.numpy_backend import in_input_dtype


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

#: Each broken backend and the conformance test files that must fail on it.
BROKEN: dict[str, tuple[str, ...]] = {
    "flipped_kernel": ("tests/conformance/test_conv.py",),
    "same_wrong_side": ("tests/conformance/test_same_asymmetry.py",),
    "avg_divisor_ignores_padding": ("tests/conformance/test_avg_pool.py",),
    "max_pool_zero_padding": ("tests/conformance/test_max_pool.py",),
    "stride_reversed": ("tests/conformance/test_conv.py",),
    "one_ulp_off": ("tests/conformance/test_conv.py",),
    "max_pool_ignores_nan": ("tests/conformance/test_max_pool.py",),
    "bias_dropped": ("tests/conformance/test_conv.py",),
    "pool_dilation_ignored": ("tests/conformance/test_avg_pool.py",),
}
