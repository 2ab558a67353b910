"""Winograd F(2, 3) (:mod:`reference.winograd`) against the direct sum.

The convolutions it computes must be the direct sum's: exactly on small integers (the
transforms' 1/2 factors are exact in float64), within a small multiple of the direct
sum's error bound on random float64 data; the VJP's input gradient the same, and the
adjoint identity exact. The channel thresholds that decide where the oracle uses it are
lowered inside a test, so that small cases exercise it.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import reference
from reference import winograd
from reference.tolerances import gamma
from tests.reference import direct, direct_vjp
from tests.reference.strategies import ConvCase, int_array

U64 = 2.0**-53


@contextlib.contextmanager
def thresholds(channels: int | None) -> Iterator[None]:
    """Use Winograd from ``channels`` channels on (None: never) inside the block."""
    saved = dict(winograd.MIN_CHANNELS)
    try:
        for nd in saved:
            winograd.MIN_CHANNELS[nd] = 10**9 if channels is None else channels
        yield
    finally:
        winograd.MIN_CHANNELS.update(saved)


@st.composite
def winograd_cases(draw: Any) -> ConvCase:
    """Cases Winograd applies to: 2-D or 3-D, kernel 3, stride and dilation 1, padding
    0 to 2 cells per side (asymmetric too), odd and even output sizes, small integers."""
    nd = draw(st.integers(2, 3))
    pads = [(draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(nd)]
    sizes = [max(1, draw(st.integers(1, 7 if nd == 2 else 5)) + 2 - lo - hi)
             for lo, hi in pads]
    n, c, o = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    x = int_array(draw, (n, c, *sizes))
    w = int_array(draw, (o, c, *(3,) * nd))
    b = int_array(draw, (o,)) if draw(st.booleans()) else None
    return ConvCase(x, w, b, {"padding": tuple(pads)})


def test_the_documented_matrices_compute_a_3_tap_correlation() -> None:
    """``A^T [(G g) ⊙ (B^T d)]`` is the 2-output correlation of a 4-cell tile ``d`` with
    a 3-tap kernel ``g``: the F(2, 3) identity, checked on integers (exact)."""
    rng = np.random.default_rng(0)
    for _ in range(100):
        d, g = rng.integers(-9, 10, 4).astype(float), rng.integers(-9, 10, 3).astype(float)
        expected = [d[0:3] @ g, d[1:4] @ g]
        assert (winograd.AT @ ((winograd.G @ g) * (winograd.BT @ d))).tolist() == expected


@given(winograd_cases())
def test_forward_equals_the_direct_sum_exactly(case: ConvCase) -> None:
    with thresholds(1):
        assert winograd.applies(case.x, case.w, (1,) * (case.x.ndim - 2),
                                (1,) * (case.x.ndim - 2),
                                tuple(case.params["padding"]), 1)
        y = reference.conv(case.x, case.w, case.b, **case.params)
    np.testing.assert_array_equal(y, direct.conv(case.x, case.w, case.b, **case.params))


@given(winograd_cases(), st.data())
def test_vjp_equals_the_direct_definition_and_the_adjoint_identity_is_exact(
        case: ConvCase, data: st.DataObject) -> None:
    with thresholds(1):
        y = reference.conv(case.x, case.w, **case.params)
        dy = int_array(data.draw, y.shape)
        dx, dw, db = reference.conv_vjp(case.x, case.w, dy, **case.params)
    for got, want in zip((dx, dw, db), direct_vjp.conv_vjp(case.x, case.w, dy, **case.params),
                         strict=True):
        np.testing.assert_array_equal(got, want)
    assert float(np.sum(y * dy)) == float(np.sum(case.x * dx)) == float(np.sum(case.w * dw))


@given(winograd_cases(), st.sampled_from([1, 512, 4096]))
def test_tiny_budgets_give_identical_results(case: ConvCase, budget: int) -> None:
    with thresholds(1):
        expected = reference.conv(case.x, case.w, case.b, **case.params)
        with reference.memory_budget(budget):
            y = reference.conv(case.x, case.w, case.b, **case.params)
    np.testing.assert_array_equal(y, expected)


@pytest.mark.parametrize("shape", [(3, 5, 9, 8), (2, 4, 5, 6, 7)])
def test_random_floats_within_a_small_multiple_of_the_direct_bound(
        shape: tuple[int, ...]) -> None:
    """On standard normal data the difference to the direct sum stays below
    ``2 * gamma_n(u64) * conv(|x|, |w|)``: what the tolerances allow the oracle."""
    rng = np.random.default_rng(3)
    nd = len(shape) - 2
    for _ in range(20):
        x = rng.standard_normal(shape)
        w = rng.standard_normal((6, shape[1], *(3,) * nd))
        dy = rng.standard_normal((shape[0], 6, *shape[2:]))
        with thresholds(1):
            y = reference.conv(x, w, padding=1)
            dx, _, _ = reference.conv_vjp(x, w, dy, padding=1)
        with thresholds(None):
            y_direct = reference.conv(x, w, padding=1)
            dx_direct, _, _ = reference.conv_vjp(x, w, dy, padding=1)
            magnitude = reference.conv(np.abs(x), np.abs(w), padding=1)
            dx_magnitude, _, _ = reference.conv_vjp(np.abs(x), np.abs(w), np.abs(dy),
                                                    padding=1)
        n = shape[1] * 3**nd + 2
        assert np.all(np.abs(y - y_direct) <= 2 * gamma(n, U64) * magnitude)
        n = 6 * 3**nd + 2
        assert np.all(np.abs(dx - dx_direct) <= 2 * gamma(n, U64) * dx_magnitude)


def test_where_it_applies() -> None:
    x3 = np.zeros((1, 64, 4, 4, 4))
    w3 = np.zeros((64, 64, 3, 3, 3))
    ones, pads = (1, 1, 1), ((1, 1),) * 3
    assert winograd.applies(x3, w3, ones, ones, pads, 1)
    assert not winograd.applies(x3.astype(np.float32), w3, ones, ones, pads, 1)
    assert not winograd.applies(x3.astype(np.int64), w3, ones, ones, pads, 1)
    assert not winograd.applies(x3, w3[:32], ones, ones, pads, 1)       # 32 outputs
    assert not winograd.applies(x3, w3, (1, 2, 1), ones, pads, 1)       # stride
    assert not winograd.applies(x3, w3, ones, (1, 1, 2), pads, 1)       # dilation
    assert not winograd.applies(x3, w3, ones, ones, ((3, 0),) * 3, 1)   # padding 3
    assert not winograd.applies(x3, w3[:, :32], ones, ones, pads, 2)    # groups
    assert not winograd.applies(x3, w3[..., :2], ones, ones, pads, 1)   # kernel 2
    x2, w2 = np.zeros((1, 128, 4, 4)), np.zeros((128, 128, 3, 3))
    assert winograd.applies(x2, w2, (1, 1), (1, 1), ((0, 2), (2, 0)), 1)
    assert not winograd.applies(x2[:, :64], w2[:, :64], (1, 1), (1, 1), ((1, 1),) * 2, 1)
    assert not winograd.applies(x2[..., 0], w2[..., 0], (1,), (1,), ((1, 1),), 1)  # 1-D


def test_at_its_real_thresholds_with_the_memory_budget() -> None:
    """A 3-D case above the threshold: exact on small integers against the definition,
    and its temporaries within a small budget."""
    import tracemalloc

    rng = np.random.default_rng(7)
    x = rng.integers(-4, 5, size=(1, 64, 3, 3, 4)).astype(np.float64)
    w = rng.integers(-4, 5, size=(64, 64, 3, 3, 3)).astype(np.float64)
    assert winograd.applies(x, w, (1,) * 3, (1,) * 3, ((1, 1),) * 3, 1)
    budget = 2**20
    with reference.memory_budget(budget):
        tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            y = reference.conv(x, w, padding=1)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    # the transformed filters (4**3 * 32 * 32 cells) are built once, outside the slabs
    filters = 8 * 4**3 * math.prod(w.shape[:2])
    assert peak - y.nbytes <= budget + filters + 64 * 2**10
    np.testing.assert_array_equal(y, direct.conv(x, w, padding=1))


@pytest.mark.parametrize("special", [np.inf, -np.inf, np.nan, 1e306])
def test_non_finite_and_huge_values_keep_the_direct_sum(special: float) -> None:
    """An infinite cell gives ±inf where the direct sum does (the transforms would give
    ``inf - inf`` = NaN); a huge one would overflow in the transforms. The same for the
    output gradient's cells and dx."""
    rng = np.random.default_rng(1)
    x = rng.integers(1, 4, size=(1, 2, 4, 5)).astype(np.float64)
    w = rng.integers(1, 4, size=(2, 2, 3, 3)).astype(np.float64)
    odd = x.copy()
    odd[0, 1, 2, 2] = special
    with thresholds(1):
        assert winograd.in_range(x, w) and not winograd.in_range(odd, w)
        y = reference.conv(odd, w, padding=1)
        dx, _, _ = reference.conv_vjp(x, w, odd, padding=1)
    with thresholds(None):
        np.testing.assert_array_equal(y, reference.conv(odd, w, padding=1))
        np.testing.assert_array_equal(dx, reference.conv_vjp(x, w, odd, padding=1)[0])
    if special == np.inf:
        assert np.isposinf(y).any() and not np.isnan(y).any()
