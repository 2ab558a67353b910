"""The tolerance module's bounds at the edges of the dtypes: overflow and subnormals."""

from __future__ import annotations

import numpy as np
import pytest

import reference
from reference import tolerances
from reference.dtypes import numpy_dtype


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32"])
def test_overflow_threshold_is_where_rounding_gives_inf(dtype):
    t = tolerances.overflow_threshold(dtype)
    largest = tolerances.LARGEST_FINITE[dtype]
    below = t - (t - largest) / 2  # a quarter ulp above the largest finite value
    with np.errstate(over="ignore"):
        assert np.isinf(np.asarray(t).astype(numpy_dtype(dtype)))
    assert float(np.asarray(below).astype(numpy_dtype(dtype))) == largest


def _float16_conv(value: float) -> tuple[dict, dict, np.ndarray]:
    """Two float16 inputs of ``value`` times weights 1: the exact result is 2 * value."""
    arrays = {"x": np.full((1, 1, 2), value, dtype=np.float16),
              "w": np.ones((1, 1, 2), dtype=np.float16), "b": None}
    return arrays, {}, reference.conv(arrays["x"], arrays["w"])


def test_a_result_beyond_the_range_may_be_infinite():
    arrays, params, y = _float16_conv(40000.0)  # 80000 > 65520: rounds to +inf
    tol = tolerances.tolerance("conv", arrays, params, "float16", y)
    with np.errstate(over="ignore"):
        assert tolerances.compare(y.astype(np.float16), y, tol, "float16") is None
    assert tolerances.compare(np.full_like(y, np.inf, dtype=np.float16), y, tol) is None
    # the wrong infinity, and a finite value far outside the bound, still fail
    assert tolerances.compare(np.full_like(y, -np.inf, dtype=np.float16), y, tol) is not None
    assert tolerances.compare(np.full_like(y, 65504, dtype=np.float16), y, tol) is not None


def test_infinity_is_wrong_where_no_value_within_the_bound_overflows():
    arrays, params, y = _float16_conv(30000.0)  # 60000: far from the threshold
    tol = tolerances.tolerance("conv", arrays, params, "float16", y)
    assert tolerances.compare(np.full_like(y, np.inf, dtype=np.float16), y, tol) is not None


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32"])
def test_subnormal_results_rounded_into_the_dtype_pass(dtype):
    tiny = tolerances.SMALLEST_SUBNORMAL[dtype]
    rng = np.random.default_rng(1)
    x = (rng.integers(1, 64, size=(2, 3, 9)) * tiny).astype(numpy_dtype(dtype))
    w = rng.uniform(-1, 1, size=(2, 3, 3)).astype(numpy_dtype(dtype))
    arrays = {"x": x, "w": w, "b": None}
    y = reference.conv(x, w)
    tol = tolerances.tolerance("conv", arrays, {}, dtype, y)
    assert tolerances.compare(y.astype(numpy_dtype(dtype)), y, tol, dtype) is None
    # flushing the subnormal results to zero is more than the rounding allows
    flushed = np.where(np.abs(y) < 2 ** -14 if dtype == "float16" else np.abs(y) < 1, 0, y)
    assert tolerances.compare(flushed.astype(numpy_dtype(dtype)), y, tol, dtype) is not None
