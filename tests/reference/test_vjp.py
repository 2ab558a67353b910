"""The backward passes against what defines them, on hypothesis-drawn cases.

- The adjoint identity ``<f(x), dy> = <x, dx>`` (and ``= <w, dw>``, ``<b, db>`` for the
  convolution), exact on small integers: JAX's ``check_grads`` idea, where a linear op
  needs no tolerance. Max pooling is linear in ``x`` where its arg-max stays put, so the
  identity holds there too.
- The independent slow definitions of :mod:`tests.reference.direct_vjp`, exactly.
- Central finite differences on random float64 data, with a tolerance tied to the step
  and the float64 rounding (truncation error is zero: every op here is piecewise linear).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import reference
from tests.reference import direct_vjp
from tests.reference.strategies import ConvCase, PoolCase, conv_cases, int_array, pool_cases

#: Every pooling divisor of the drawn cases (at most 4, 9 and 8 taps in 1-D, 2-D, 3-D)
#: divides this, so ``dy / divisor`` is an integer when ``dy`` is a multiple of it.
DIVISORS_LCM = math.lcm(*range(1, 10))
EPS = np.finfo(np.float64).eps


def inner(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sum(a * b))


def conv_dy(data: st.DataObject, case: ConvCase) -> np.ndarray:
    shape = reference.conv(case.x, case.w, **case.params).shape
    return int_array(data.draw, shape)


def pool_dy(data: st.DataObject, case: PoolCase, scale: int = 1) -> np.ndarray:
    shape = reference.max_pool(case.x, case.kernel_size, **case.params).shape
    return int_array(data.draw, shape) * scale


# --- the adjoint identity, exact -----------------------------------------------------------

@given(conv_cases(), st.data())
def test_conv_adjoint_identity_is_exact(case: ConvCase, data: st.DataObject) -> None:
    dy = conv_dy(data, case)
    dx, dw, db = reference.conv_vjp(case.x, case.w, dy, **case.params)
    assert dx.shape == case.x.shape and dw.shape == case.w.shape
    assert db.shape == (case.w.shape[0],)
    assert dx.dtype == dw.dtype == db.dtype == np.float64
    y = reference.conv(case.x, case.w, **case.params)
    assert inner(y, dy) == inner(case.x, dx) == inner(case.w, dw)
    b = int_array(data.draw, (case.w.shape[0],))
    bias_part = reference.conv(case.x, case.w, b, **case.params) - y
    assert inner(bias_part, dy) == inner(b, db)


@given(pool_cases(), st.data(), st.booleans())
def test_avg_pool_adjoint_identity_is_exact(case: PoolCase, data: st.DataObject,
                                            include_pad: bool) -> None:
    """``x`` and ``dy`` multiples of every divisor: the averages and shares are integers."""
    x = case.x * DIVISORS_LCM
    dy = pool_dy(data, case, DIVISORS_LCM)
    dx = reference.avg_pool_vjp(x, dy, case.kernel_size, count_include_pad=include_pad,
                                **case.params)
    y = reference.avg_pool(x, case.kernel_size, count_include_pad=include_pad, **case.params)
    assert dx.shape == x.shape and dx.dtype == np.float64
    assert inner(y, dy) == inner(x, dx)


@given(pool_cases(), st.data())
def test_max_pool_adjoint_identity_is_exact(case: PoolCase, data: st.DataObject) -> None:
    """Each output is the input cell it routes its gradient to."""
    dy = pool_dy(data, case)
    dx = reference.max_pool_vjp(case.x, dy, case.kernel_size, **case.params)
    y = reference.max_pool(case.x, case.kernel_size, **case.params)
    assert dx.shape == case.x.shape and dx.dtype == np.float64
    assert inner(y, dy) == inner(case.x, dx)
    # the whole gradient arrives, nothing is lost to the padding
    assert dx.sum() == dy.sum()


# --- the independent slow definitions, exact ----------------------------------------------

@given(conv_cases(), st.data())
def test_conv_vjp_equals_direct_definition(case: ConvCase, data: st.DataObject) -> None:
    dy = conv_dy(data, case)
    got = reference.conv_vjp(case.x, case.w, dy, **case.params)
    expected = direct_vjp.conv_vjp(case.x, case.w, dy, **case.params)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_array_equal(g, e)


@given(conv_cases(), st.data())
def test_conv_vjp_with_infinite_weights_equals_direct_definition(
        case: ConvCase, data: st.DataObject) -> None:
    """The gradient reaching padding is dropped, not multiplied: where only padding lies
    between an inf weight and an input cell, that cell's gradient stays finite."""
    w = np.array(case.w, dtype=np.float64)
    if w.size:
        mask = int_array(data.draw, w.shape, 0, 3) == 0
        w[mask] = np.where(int_array(data.draw, w.shape, 0, 2) == 0, np.nan, np.inf)[mask]
    dy = conv_dy(data, case)
    with np.errstate(invalid="ignore"):  # inf * 0 is NaN, as it should be
        got = reference.conv_vjp(case.x, w, dy, **case.params)
        expected = direct_vjp.conv_vjp(case.x, w, dy, **case.params)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_array_equal(g, e)


@given(pool_cases(), st.data())
def test_max_pool_vjp_equals_direct_definition(case: PoolCase, data: st.DataObject) -> None:
    # few distinct values: ties in most windows
    x = np.floor(case.x / 25)
    dy = pool_dy(data, case)
    np.testing.assert_array_equal(
        reference.max_pool_vjp(x, dy, case.kernel_size, **case.params),
        direct_vjp.max_pool_vjp(x, dy, case.kernel_size, **case.params))


@given(pool_cases(), st.data())
def test_max_pool_vjp_with_nan_equals_direct_definition(case: PoolCase,
                                                        data: st.DataObject) -> None:
    x = case.x.copy()
    x[np.abs(x) > 30] = np.nan  # about 40 % NaN, often several in a window
    x[x < -20] = -np.inf
    dy = pool_dy(data, case)
    np.testing.assert_array_equal(
        reference.max_pool_vjp(x, dy, case.kernel_size, **case.params),
        direct_vjp.max_pool_vjp(x, dy, case.kernel_size, **case.params))


@given(pool_cases(), st.data(), st.booleans())
def test_avg_pool_vjp_equals_direct_definition(case: PoolCase, data: st.DataObject,
                                               include_pad: bool) -> None:
    dy = pool_dy(data, case, DIVISORS_LCM)
    np.testing.assert_array_equal(
        reference.avg_pool_vjp(case.x, dy, case.kernel_size, count_include_pad=include_pad,
                               **case.params),
        direct_vjp.avg_pool_vjp(case.x, dy, case.kernel_size, count_include_pad=include_pad,
                                **case.params))


@pytest.mark.parametrize("include_pad", [True, False])
def test_avg_pool_vjp_ceil_mode_divisors_equal_direct_definition(include_pad: bool) -> None:
    """Ceil mode with padding: the last window overhangs the padding; those cells never
    count, and the divisors differ with ``count_include_pad`` at both ends."""
    x = np.arange(2 * 3 * 8 * 7, dtype=np.float64).reshape(2, 3, 8, 7)
    params: dict[str, Any] = {"stride": (3, 2), "padding": (1, 1), "ceil_mode": True}
    y = reference.avg_pool(x, 3, **params)
    assert y.shape == (2, 3, 3, 4)
    dy = (np.arange(y.size).reshape(y.shape) % 7 - 3) * DIVISORS_LCM
    np.testing.assert_array_equal(
        reference.avg_pool_vjp(x, dy, 3, count_include_pad=include_pad, **params),
        direct_vjp.avg_pool_vjp(x, dy, 3, count_include_pad=include_pad, **params))


# --- finite differences on float64 data ----------------------------------------------------

#: A power of two: ``x ± H * v`` and the division by ``2 * H`` add no rounding of their own.
H = 2.0**-12


def central_difference(loss: Any, a: np.ndarray, v: np.ndarray) -> float:
    return (loss(a + H * v) - loss(a - H * v)) / (2 * H)


def fd_tolerance(magnitude: float) -> float:
    """Rounding of two losses of terms summing to ``magnitude`` in absolute value, divided
    by ``2 * H``; the truncation error of a piecewise-linear function is zero."""
    return 64 * EPS * magnitude / H


def floats_like(data: st.DataObject, *arrays: np.ndarray) -> list[np.ndarray]:
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    return [rng.standard_normal(a.shape) for a in arrays]


@given(conv_cases(), st.data())
def test_conv_vjp_matches_finite_differences(case: ConvCase, data: st.DataObject) -> None:
    bias = np.zeros(case.w.shape[0])
    x, w, b, vx, vw, vb = floats_like(data, case.x, case.w, bias, case.x, case.w, bias)
    p = case.params
    dy = floats_like(data, reference.conv(x, w, **p))[0]
    dx, dw, db = reference.conv_vjp(x, w, dy, **p)
    magnitude = inner(reference.conv(np.abs(x) + np.abs(vx), np.abs(w) + np.abs(vw),
                                     np.abs(b) + np.abs(vb), **p), np.abs(dy))
    tol = fd_tolerance(magnitude)
    for grad, v, loss, at in [
        (dx, vx, lambda a: inner(reference.conv(a, w, b, **p), dy), x),
        (dw, vw, lambda a: inner(reference.conv(x, a, b, **p), dy), w),
        (db, vb, lambda a: inner(reference.conv(x, w, a, **p), dy), b),
    ]:
        assert abs(central_difference(loss, at, v) - inner(grad, v)) <= tol


@given(pool_cases(), st.data(), st.booleans())
def test_avg_pool_vjp_matches_finite_differences(case: PoolCase, data: st.DataObject,
                                                 include_pad: bool) -> None:
    x, v = floats_like(data, case.x, case.x)
    kw = {**case.params, "count_include_pad": include_pad}
    dy = floats_like(data, reference.avg_pool(x, case.kernel_size, **kw))[0]
    dx = reference.avg_pool_vjp(x, dy, case.kernel_size, **kw)
    magnitude = inner(reference.avg_pool(np.abs(x) + np.abs(v), case.kernel_size, **kw),
                      np.abs(dy))
    fd = central_difference(lambda a: inner(reference.avg_pool(a, case.kernel_size, **kw),
                                            dy), x, v)
    assert abs(fd - inner(dx, v)) <= fd_tolerance(magnitude)


@given(pool_cases(), st.data())
def test_max_pool_vjp_matches_finite_differences(case: PoolCase, data: st.DataObject) -> None:
    """Distinct values at least 1 apart, a step far smaller: no arg-max moves."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    x = rng.permutation(case.x.size).reshape(case.x.shape) + rng.uniform(0, 0.5, case.x.shape)
    v = rng.uniform(-1, 1, x.shape)
    dy = floats_like(data, reference.max_pool(x, case.kernel_size, **case.params))[0]
    dx = reference.max_pool_vjp(x, dy, case.kernel_size, **case.params)
    magnitude = inner(reference.max_pool(np.abs(x) + 1, case.kernel_size, **case.params),
                      np.abs(dy))
    fd = central_difference(
        lambda a: inner(reference.max_pool(a, case.kernel_size, **case.params), dy), x, v)
    assert abs(fd - inner(dx, v)) <= fd_tolerance(magnitude)
