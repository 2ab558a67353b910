"""Deliberately broken backward passes, built on the oracle, that the suite must catch.

Each object is the numpy backend with one gradient convention wrong; the self-test
(``tests/selftest/test_broken_vjp.py``) runs the backward tests against each with
``--backend tests.support.broken_vjp:NAME`` and asserts that the run fails. These are test
doubles, not adapters: they emulate freely.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import reference
import registry
from backends.numpy_backend import NumpyBackend, in_input_dtype

__all__ = ["BROKEN_VJP"]


class _Broken(NumpyBackend):
    name = "broken-vjp"
    version = "0"


class TiesToLast(_Broken):
    """Max pooling's gradient goes to the LAST maximum of a window (a `>=` comparison)."""

    def max_pool_vjp(self, x: Any, dy: Any, kernel_size: Any, **kw: Any) -> np.ndarray:
        x64 = np.asarray(x, dtype=np.float64)
        # later cells win ties: an increasing offset far below the values' spacing
        order = np.arange(x64.size, dtype=np.float64).reshape(x64.shape) * 1e-9
        lifted = np.where(np.isfinite(x64), x64 + order, x64)
        return in_input_dtype(reference.max_pool_vjp(lifted, dy, kernel_size, **kw), x)


class PaddingAbsorbs(_Broken):
    """Max pooling's gradient computed over zero padding: padding can win and absorb it."""

    def max_pool_vjp(self, x: Any, dy: Any, kernel_size: Any, **kw: Any) -> np.ndarray:
        claim = registry.Claim(values=("zero-padding",))
        dx = claim.expected("max_pool_vjp", {"x": x, "dy": dy},
                            {"kernel_size": kernel_size, **kw}, np.asarray(x).dtype.name)[0]
        return in_input_dtype(dx, x)


class DivisorCountsPadding(_Broken):
    """Average pooling's gradient always divides by the whole window (padding counted)."""

    def avg_pool_vjp(self, x: Any, dy: Any, kernel_size: Any, **kw: Any) -> np.ndarray:
        kw = {**kw, "count_include_pad": True}
        return in_input_dtype(reference.avg_pool_vjp(x, dy, kernel_size, **kw), x)


class BiasGradientDropped(_Broken):
    """Convolution's bias gradient is zero."""

    def conv_vjp(self, x: Any, w: Any, dy: Any, **kw: Any) -> tuple[np.ndarray, ...]:
        dx, dw, db = super().conv_vjp(x, w, dy, **kw)
        return dx, dw, np.zeros_like(db)


class WeightGradientFlipped(_Broken):
    """Convolution's weight gradient with its kernel taps reversed (a true convolution's)."""

    def conv_vjp(self, x: Any, w: Any, dy: Any, **kw: Any) -> tuple[np.ndarray, ...]:
        dx, dw, db = super().conv_vjp(x, w, dy, **kw)
        return dx, np.ascontiguousarray(np.flip(dw, tuple(range(2, dw.ndim)))), db


ties_to_last = TiesToLast()
padding_absorbs = PaddingAbsorbs()
divisor_counts_padding = DivisorCountsPadding()
bias_gradient_dropped = BiasGradientDropped()
weight_gradient_flipped = WeightGradientFlipped()

#: Broken backend name -> the conformance tests that concern its bug.
BROKEN_VJP: dict[str, tuple[str, ...]] = {
    "ties_to_last": ("tests/conformance/test_pool_vjp.py",),
    "padding_absorbs": ("tests/conformance/test_pool_vjp.py",),
    "divisor_counts_padding": ("tests/conformance/test_pool_vjp.py",),
    "bias_gradient_dropped": ("tests/conformance/test_conv_vjp.py",),
    "weight_gradient_flipped": ("tests/conformance/test_conv_vjp.py",),
}
