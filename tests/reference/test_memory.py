"""The temporary-memory budget: chunked results are identical, and the peak stays bounded.

Peak memory is measured with :mod:`tracemalloc`, to which NumPy reports its array
allocations. What a call may use is the budget, plus its output, plus ``SLACK``: the
Python objects, index arrays and, for the average, the divisor table (one value per
output position of one channel), none of which the budget accounts for.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import reference
from reference.tolerances import compare, conv_tolerance
from tests.reference.strategies import ConvCase, PoolCase, conv_cases, pool_cases

#: Untracked small allocations a call may make besides the budgeted temporaries.
SLACK = 64 * 2**10
MiB = 2**20


def peak_of(call: Callable[[], np.ndarray]) -> tuple[np.ndarray, int]:
    """Run ``call`` under tracemalloc; its result and the peak bytes allocated during it."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        y = call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return y, peak


# --- the API -----------------------------------------------------------------------------

def test_default_budget_and_context_manager_restore() -> None:
    assert reference.DEFAULT_MEMORY_BUDGET == 256 * MiB
    before = reference.get_memory_budget()
    with reference.memory_budget(1234):
        assert reference.get_memory_budget() == 1234
        with reference.memory_budget(99):
            assert reference.get_memory_budget() == 99
        assert reference.get_memory_budget() == 1234
    assert reference.get_memory_budget() == before
    with pytest.raises(RuntimeError), reference.memory_budget(7):
        raise RuntimeError
    assert reference.get_memory_budget() == before


def test_set_memory_budget_returns_the_previous_one() -> None:
    before = reference.get_memory_budget()
    try:
        assert reference.set_memory_budget(4096) == before
        assert reference.set_memory_budget(8192) == 4096
        assert reference.get_memory_budget() == 8192
    finally:
        reference.set_memory_budget(before)


# --- chunking gives identical results -----------------------------------------------------

@given(conv_cases(), st.sampled_from([1, 512, 4096]))
def test_conv_under_a_tiny_budget_is_identical(case: ConvCase, budget: int) -> None:
    expected = reference.conv(case.x, case.w, case.b, **case.params)
    with reference.memory_budget(budget):
        y = reference.conv(case.x, case.w, case.b, **case.params)
    np.testing.assert_array_equal(y, expected)


@given(pool_cases(), st.sampled_from([1, 512, 4096]))
def test_pools_under_a_tiny_budget_are_identical(case: PoolCase, budget: int) -> None:
    for op in (reference.max_pool, reference.avg_pool):
        expected = op(case.x, case.kernel_size, **case.params)
        with reference.memory_budget(budget):
            y = op(case.x, case.kernel_size, **case.params)
        np.testing.assert_array_equal(y, expected)


def test_chunking_over_batch_and_rows_with_real_floats() -> None:
    """Non-integer values: pooling is bit-identical whatever the slabs (the same float
    operations in the same order); convolution sums through BLAS, whose blocking may
    depend on the matrix width, so a chunked result is held to the float64 error bound."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 4, 17, 11))
    w = rng.standard_normal((6, 2, 3, 2))
    params: dict[str, Any] = {"stride": (2, 1), "padding": ((2, 1), (0, 1)),
                              "dilation": (1, 2), "groups": 2}
    expected = reference.conv(x, w, **params)
    tol = conv_tolerance({"x": x, "w": w}, params, "float64", expected)
    pooled = {op: op(x, 3, stride=2, padding=1, ceil_mode=True)
              for op in (reference.max_pool, reference.avg_pool)}
    for budget in (1, 3000, 20000, 100000):
        with reference.memory_budget(budget):
            assert compare(reference.conv(x, w, **params), expected, tol) is None
            for op, free in pooled.items():
                np.testing.assert_array_equal(op(x, 3, stride=2, padding=1, ceil_mode=True),
                                              free)


# --- the peak is bounded -------------------------------------------------------------------

RNG = np.random.default_rng(11)
X_MID = RNG.standard_normal((8, 16, 64, 64))
W_MID = RNG.standard_normal((8, 16, 3, 3))
OPS: dict[str, Callable[[], np.ndarray]] = {
    "conv k3 p1": lambda: reference.conv(X_MID, W_MID, padding=1),
    "conv k3 p1 s2": lambda: reference.conv(X_MID, W_MID, padding=1, stride=2),
    "conv 1-D": lambda: reference.conv(X_MID.reshape(8, 16, 4096), W_MID[..., 0], padding=1),
    "max_pool k3 s2 p1": lambda: reference.max_pool(X_MID, 3, stride=2, padding=1),
    "avg_pool k3 s2 p1": lambda: reference.avg_pool(X_MID, 3, stride=2, padding=1),
    "max_pool k2": lambda: reference.max_pool(X_MID, 2),
}


@pytest.mark.parametrize("budget", [1 * MiB, 3 * MiB, 4 * MiB], ids=lambda b: f"{b // MiB}MiB")
@pytest.mark.parametrize("op", sorted(OPS))
def test_peak_temporary_memory_within_budget(op: str, budget: int) -> None:
    with reference.memory_budget(budget):
        y, peak = peak_of(OPS[op])
    assert peak - y.nbytes <= budget + SLACK, (
        f"{op}: peak {peak / MiB:.2f} MiB = output {y.nbytes / MiB:.2f} MiB + temporaries "
        f"{(peak - y.nbytes) / MiB:.2f} MiB > budget {budget / MiB:.2f} MiB + slack")


def test_large_conv_stays_within_the_default_budget() -> None:
    """32×64×128×128 k3 p1 float64: its im2col would be 2.25 GiB; the budget is 256 MiB."""
    rng = np.random.default_rng(0)
    # small integers: every sum exact, so a spot check can be exact
    x = rng.integers(-4, 5, size=(32, 64, 128, 128)).astype(np.float64)
    w = rng.integers(-4, 5, size=(64, 64, 3, 3)).astype(np.float64)
    assert reference.get_memory_budget() == reference.DEFAULT_MEMORY_BUDGET
    y, peak = peak_of(lambda: reference.conv(x, w, padding=1))
    assert y.shape == (32, 64, 128, 128)
    assert peak - y.nbytes <= reference.DEFAULT_MEMORY_BUDGET + SLACK
    # spot checks against the definition: a corner (padding on two sides) and the middle
    window = np.zeros((64, 3, 3))
    window[:, 1:, :2] = x[31, :, :2, 126:]
    assert y[31, 5, 0, 127] == np.sum(window * w[5])
    assert y[7, 63, 60, 61] == np.sum(x[7, :, 59:62, 60:63] * w[63])
