"""Algebraic properties of the oracle, on hypothesis-drawn cases with exact (integer) values.

Linearity, groups as independent convolutions, 1×1 convolution as a matrix product, pooling
as convolution, shift invariance of max pooling, dilation as a zero-stuffed kernel, "same"
output shapes and which side gets the odd padding cell, NaN propagation, dtypes kept by
max pooling, inputs never modified and outputs never aliased.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import reference
from tests.reference.strategies import ConvCase, PoolCase, conv_cases, int_array, pool_cases


@given(conv_cases(), st.data())
def test_conv_is_linear_in_x(case: ConvCase, data: st.DataObject) -> None:
    x2 = int_array(data.draw, case.x.shape)
    a, c = data.draw(st.integers(-3, 3)), data.draw(st.integers(-3, 3))
    lhs = reference.conv(a * case.x + c * x2, case.w, **case.params)
    rhs = a * reference.conv(case.x, case.w, **case.params) + c * reference.conv(
        x2, case.w, **case.params)
    np.testing.assert_array_equal(lhs, rhs)


@given(conv_cases(), st.data())
def test_conv_is_linear_in_w(case: ConvCase, data: st.DataObject) -> None:
    w2 = int_array(data.draw, case.w.shape)
    a, c = data.draw(st.integers(-3, 3)), data.draw(st.integers(-3, 3))
    lhs = reference.conv(case.x, a * case.w + c * w2, **case.params)
    rhs = a * reference.conv(case.x, case.w, **case.params) + c * reference.conv(
        case.x, w2, **case.params)
    np.testing.assert_array_equal(lhs, rhs)


@given(conv_cases())
def test_bias_is_added_per_output_channel(case: ConvCase) -> None:
    b = np.arange(1, case.w.shape[0] + 1, dtype=np.float64)
    with_bias = reference.conv(case.x, case.w, b, **case.params)
    without = reference.conv(case.x, case.w, **case.params)
    nd = case.x.ndim - 2
    np.testing.assert_array_equal(with_bias, without + b.reshape(-1, *(1,) * nd))


@given(conv_cases())
def test_groups_are_concatenated_independent_convolutions(case: ConvCase) -> None:
    groups = case.params["groups"]
    c, o = case.x.shape[1], case.w.shape[0]
    cg, og = c // groups, o // groups
    params = {**case.params, "groups": 1}
    parts = [reference.conv(case.x[:, g * cg:(g + 1) * cg], case.w[g * og:(g + 1) * og],
                            **params) for g in range(groups)]
    np.testing.assert_array_equal(reference.conv(case.x, case.w, **case.params),
                                  np.concatenate(parts, axis=1))


@given(conv_cases(), st.data())
def test_1x1_conv_is_a_matrix_product(case: ConvCase, data: st.DataObject) -> None:
    nd = case.x.ndim - 2
    o = data.draw(st.integers(1, 4))
    w = int_array(data.draw, (o, case.x.shape[1], *(1,) * nd))
    expected = np.einsum("oc,nc...->no...", w.reshape(o, -1), case.x)
    np.testing.assert_array_equal(reference.conv(case.x, w), expected)
    if nd == 2:
        for n in range(case.x.shape[0]):
            np.testing.assert_array_equal(reference.corr2d_multi_in_out_1x1(case.x[n], w),
                                          expected[n])


@given(pool_cases())
def test_avg_pool_is_conv_with_ones_divided_by_the_divisor(case: PoolCase) -> None:
    """The sum of a window is a depthwise convolution with a kernel of ones; the divisor is
    that same convolution applied to an indicator of the counted cells."""
    c = case.x.shape[1]
    params = dict(case.params)
    # conv has no ceil mode: compare floor mode only
    stride = params.pop("stride", case.kernel_size)
    params.pop("ceil_mode", None)
    ones = np.ones((c, 1, *case.kernel_size))
    sums = reference.conv(case.x, ones, stride=stride, groups=c, **params)
    # divisor, count_include_pad=False: number of input cells = conv of ones(x)
    in_cells = reference.conv(np.ones_like(case.x), ones, stride=stride, groups=c, **params)
    y = reference.avg_pool(case.x, case.kernel_size, stride=stride, count_include_pad=False,
                           **params)
    np.testing.assert_array_equal(y, sums / in_cells)
    # count_include_pad=True with no ceil mode: every window lies inside the padded input,
    # so the divisor is the number of taps
    y = reference.avg_pool(case.x, case.kernel_size, stride=stride, count_include_pad=True,
                           **params)
    np.testing.assert_array_equal(y, sums / math.prod(case.kernel_size))


@given(pool_cases(), st.integers(-1000, 1000))
def test_max_pool_commutes_with_adding_a_constant(case: PoolCase, c: int) -> None:
    np.testing.assert_array_equal(
        reference.max_pool(case.x + c, case.kernel_size, **case.params),
        reference.max_pool(case.x, case.kernel_size, **case.params) + c)


@given(pool_cases())
def test_max_pool_of_negated_input_ignores_padding(case: PoolCase) -> None:
    """All-negative inputs: a zero-padded maximum would show up as 0."""
    x = -np.abs(case.x) - 1
    assert (reference.max_pool(x, case.kernel_size, **case.params) < 0).all()


def zero_stuffed(w: np.ndarray, dilation: tuple[int, ...]) -> np.ndarray:
    """The kernel with ``d - 1`` zeros between taps along each spatial dimension."""
    nd = w.ndim - 2
    shape = (*w.shape[:2], *((k - 1) * d + 1 for k, d in zip(w.shape[2:], dilation,
                                                              strict=True)))
    out = np.zeros(shape)
    out[(slice(None), slice(None), *(slice(None, None, d) for d in dilation))] = w
    assert out.ndim == nd + 2
    return out


@given(conv_cases())
def test_dilation_is_a_zero_stuffed_kernel(case: ConvCase) -> None:
    nd = case.x.ndim - 2
    dilation = reference.normalize_sizes(case.params["dilation"], nd, "dilation")
    params = {**case.params, "dilation": 1}
    stride = reference.normalize_sizes(case.params["stride"], nd, "stride")
    # 'same' depends on the dilated extent, which the stuffed kernel has too
    padding = reference.resolve_padding(case.params["padding"], case.x.shape[2:],
                                        case.w.shape[2:], stride, dilation)
    params["padding"] = padding
    np.testing.assert_array_equal(
        reference.conv(case.x, case.w, case.b, **{**case.params, "padding": padding}),
        reference.conv(case.x, zero_stuffed(case.w, dilation), case.b, **params))


@given(pool_cases())
def test_max_pool_dilation_is_max_over_the_stuffed_taps(case: PoolCase) -> None:
    """Dilated max pooling equals taking every d-th tap of an undilated window."""
    nd = case.x.ndim - 2
    # the drawn input holds at least one dilated window, so no padding is needed
    dilation = reference.normalize_sizes(case.params.get("dilation", 1), nd, "dilation")
    kernel = case.kernel_size
    stride = case.params.get("stride", kernel)
    y = reference.max_pool(case.x, kernel, stride=stride, dilation=dilation)
    # Each dilated tap alone, as a 1-cell pool over the shifted input, then the maximum.
    parts = []
    out = y.shape[2:]
    s = reference.normalize_sizes(stride, nd, "stride")
    for tap in np.ndindex(*kernel):
        index = tuple(slice(t * d, t * d + (o - 1) * si + 1, si)
                      for t, d, o, si in zip(tap, dilation, out, s, strict=True))
        parts.append(case.x[(slice(None), slice(None), *index)])
    np.testing.assert_array_equal(y, functools.reduce(np.maximum, parts))


@given(st.integers(1, 3), st.data())
def test_same_output_shape_and_side_of_the_odd_cell(nd: int, data: st.DataObject) -> None:
    sizes = [data.draw(st.integers(1, 12)) for _ in range(nd)]
    kernel = [data.draw(st.integers(1, 5)) for _ in range(nd)]
    stride = [data.draw(st.integers(1, 4)) for _ in range(nd)]
    dilation = [data.draw(st.integers(1, 3)) for _ in range(nd)]
    same = reference.resolve_padding("same", sizes, kernel, stride, dilation)
    lower = reference.resolve_padding("same_lower", sizes, kernel, stride, dilation)
    for (lo, hi), (llo, lhi) in zip(same, lower, strict=True):
        assert lo == hi or hi == lo + 1  # odd extra cell at the end
        assert (llo, lhi) == (hi, lo)     # ... or at the beginning
    expected = tuple(math.ceil(n / s) for n, s in zip(sizes, stride, strict=True))
    for pads in (same, lower):
        assert reference.output_size(sizes, kernel, stride, pads, dilation) == expected
    x = np.ones((1, 1, *sizes))
    w = np.ones((1, 1, *kernel))
    assert reference.conv(x, w, stride=stride, padding="same", dilation=dilation
                          ).shape[2:] == expected
    assert reference.conv(x, w, stride=stride, padding="same_lower", dilation=dilation
                          ).shape[2:] == expected


@given(st.integers(1, 3), st.data())
def test_same_with_stride_1_keeps_the_input_shape(nd: int, data: st.DataObject) -> None:
    case = data.draw(conv_cases(nd))
    params = {**case.params, "stride": 1, "padding": "same"}
    assert reference.conv(case.x, case.w, **params).shape[2:] == case.x.shape[2:]


# --- NaN ----------------------------------------------------------------------------------

@given(pool_cases(), st.data())
def test_nan_propagates_through_pooling_and_conv(case: PoolCase, data: st.DataObject) -> None:
    x = case.x.copy()
    where = tuple(data.draw(st.integers(0, s - 1)) for s in x.shape)
    x[where] = np.nan
    mask = np.zeros(x.shape)
    mask[where] = 1
    # outputs whose window reads the NaN cell: a max pool of the indicator
    reads = reference.max_pool(mask, case.kernel_size, **case.params) > 0
    for y in (reference.max_pool(x, case.kernel_size, **case.params),
              reference.avg_pool(x, case.kernel_size, **case.params)):
        np.testing.assert_array_equal(np.isnan(y), reads)
    # conv: depthwise ones kernel, no ceil mode
    c = x.shape[1]
    params = {k: v for k, v in case.params.items() if k != "ceil_mode"}
    params.setdefault("stride", case.kernel_size)
    y = reference.conv(x, np.ones((c, 1, *case.kernel_size)), groups=c, **params)
    reads = reference.conv(mask, np.ones((c, 1, *case.kernel_size)), groups=c, **params) > 0
    np.testing.assert_array_equal(np.isnan(y), reads)


def test_nan_beats_inf_and_max_pool_keeps_inf() -> None:
    x = np.array([[[np.inf, np.nan, -np.inf, 1.0, np.inf, 2.0]]])
    np.testing.assert_array_equal(reference.max_pool(x, 2), [[[np.nan, 1.0, np.inf]]])
    np.testing.assert_array_equal(reference.max_pool(x[..., 2:], 2), [[[1.0, np.inf]]])


def test_nan_first_and_last_in_the_window() -> None:
    # np.maximum propagates NaN from either operand; a "greater-than" scan would not
    for x in ([np.nan, 1.0, 2.0], [1.0, 2.0, np.nan], [1.0, np.nan, 2.0]):
        y = reference.max_pool(np.array([[x]]), 3)
        assert np.isnan(y).all()


# --- dtypes -------------------------------------------------------------------------------

INT_DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
              np.uint64]


@pytest.mark.parametrize("dtype", INT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_max_pool_keeps_integer_dtypes_and_padding_never_wins(dtype: Any) -> None:
    info = np.iinfo(dtype)
    x = np.full((2, 3, 4, 5), info.min, dtype=dtype)
    x[0, 1, 2, 3] = info.max
    x[1, 2, 0, 0] = info.min + 1
    y = reference.max_pool(x, (3, 2), stride=(2, 1), padding=1)
    assert y.dtype == np.dtype(dtype)
    expected = reference.max_pool(x.astype(np.float64), (3, 2), stride=(2, 1), padding=1)
    # the extremes of int64/uint64 do not fit float64 exactly: compare on the dtype
    np.testing.assert_array_equal(y, expected.astype(dtype) if info.bits < 64 else y)
    assert y.min() == info.min  # the dtype minimum survives: padding did not win with 0
    assert y.max() == info.max
    assert y[1, 2, 0, 0] == info.min + 1


@pytest.mark.parametrize("dtype", INT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_max_pool_integer_extremes_exact(dtype: Any) -> None:
    info = np.iinfo(dtype)
    x = np.array([[[info.max, info.max - 1, info.min, info.min + 1]]], dtype=dtype)
    y = reference.max_pool(x, 2, padding=1)
    assert y.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(y, np.array([[[info.max, info.max - 1, info.min + 1]]],
                                              dtype=dtype))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64],
                         ids=lambda d: np.dtype(d).name)
def test_max_pool_keeps_float_dtypes(dtype: Any) -> None:
    x = (np.arange(2 * 3 * 5 * 4).reshape(2, 3, 5, 4) * 0.1 - 3).astype(dtype)
    y = reference.max_pool(x, 2, padding=1)
    assert y.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(y, reference.max_pool(x.astype(np.float64), 2, padding=1)
                                  .astype(dtype))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.int8, np.uint8, np.int64],
                         ids=lambda d: np.dtype(d).name)
def test_conv_and_avg_pool_compute_in_float64(dtype: Any) -> None:
    x = np.arange(2 * 2 * 4 * 3).reshape(2, 2, 4, 3).astype(dtype)
    w = np.ones((3, 2, 2, 2), dtype=dtype)
    assert reference.conv(x, w).dtype == np.float64
    assert reference.avg_pool(x, 2).dtype == np.float64
    # uint8 sums past 255 and int8 past 127: no wrap-around
    big = np.full((1, 1, 4, 4), np.iinfo(np.uint8).max, dtype=np.uint8)
    np.testing.assert_array_equal(reference.conv(big, np.ones((1, 1, 4, 4), np.uint8)),
                                  [[[[255.0 * 16]]]])
    np.testing.assert_array_equal(reference.avg_pool(big, 4), [[[[255.0]]]])


# --- no mutation, no aliasing -------------------------------------------------------------

@given(conv_cases())
def test_conv_never_modifies_inputs_nor_aliases_them(case: ConvCase) -> None:
    x, w = case.x.copy(), case.w.copy()
    b = None if case.b is None else case.b.copy()
    y = reference.conv(case.x, case.w, case.b, **case.params)
    np.testing.assert_array_equal(case.x, x)
    np.testing.assert_array_equal(case.w, w)
    if b is not None:
        np.testing.assert_array_equal(case.b, b)
    for arr in (case.x, case.w, case.b):
        if arr is not None:
            assert not np.shares_memory(y, arr)
    assert y.flags.writeable


@given(pool_cases())
def test_pools_never_modify_inputs_nor_alias_them(case: PoolCase) -> None:
    x = case.x.copy()
    for op in (reference.max_pool, reference.avg_pool):
        y = op(case.x, case.kernel_size, **case.params)
        np.testing.assert_array_equal(case.x, x)
        assert not np.shares_memory(y, case.x)
        assert y.flags.writeable
        y[...] = 0  # writing the result must not touch the input
        np.testing.assert_array_equal(case.x, x)


def test_identity_pool_does_not_alias() -> None:
    """Kernel 1, stride 1: the output equals the input and must still be a new array."""
    for dtype in (np.float64, np.int32):
        x = np.arange(12, dtype=dtype).reshape(1, 2, 2, 3)
        y = reference.max_pool(x, 1)
        np.testing.assert_array_equal(y, x)
        assert not np.shares_memory(y, x)
        y[...] = 0
        assert x.sum() == 66


def test_read_only_and_non_contiguous_inputs() -> None:
    base = np.arange(2 * 3 * 8 * 10, dtype=np.float64).reshape(2, 3, 8, 10)
    x = base[:, ::-1, ::2, 1::3]
    x.flags.writeable = False
    w = np.ones((2, 3, 2, 2))[..., ::-1]
    np.testing.assert_array_equal(reference.conv(x, w), reference.conv(x.copy(), w.copy()))
    np.testing.assert_array_equal(reference.max_pool(x, 2), reference.max_pool(x.copy(), 2))
    np.testing.assert_array_equal(reference.avg_pool(x, 2), reference.avg_pool(x.copy(), 2))


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_empty_batch_gives_an_empty_output_of_the_right_shape(nd: int) -> None:
    """N = 0 is valid input: the output has N = 0 and the sizes a non-empty batch gets."""
    x = np.ones((0, 2, *[5] * nd), dtype=np.float32)
    w = np.ones((3, 2, *[2] * nd))
    one = np.ones((1, *x.shape[1:]), dtype=np.float32)
    for op, args in ((reference.conv, (w,)), (reference.max_pool, (2,)),
                     (reference.avg_pool, (2,))):
        y = op(x, *args, padding=1)
        assert y.shape == (0, *op(one, *args, padding=1).shape[1:])
        assert y.dtype == op(one, *args, padding=1).dtype


@pytest.mark.parametrize(("nd", "groups"), [(1, 1), (2, 1), (3, 1), (2, 3)])
def test_no_channels_is_the_empty_sum(nd: int, groups: int) -> None:
    """C = 0 is valid input: a convolution sums no products, so every output is its bias
    (0 without one); pooling gives an empty output of the sizes a channel gets."""
    x = np.ones((2, 0, *[5] * nd), dtype=np.float32)
    w = np.ones((3, 0, *[2] * nd))
    b = np.array([1.5, -2.0, 4.0])
    y = reference.conv(x, w, b, padding=1, groups=groups)
    assert y.shape == (2, 3, *[6] * nd)
    np.testing.assert_array_equal(y, np.broadcast_to(b.reshape(1, 3, *[1] * nd), y.shape))
    np.testing.assert_array_equal(reference.conv(x, w, stride=2), 0.0)
    for op in (reference.max_pool, reference.avg_pool):
        assert op(x, 2, stride=1).shape == (2, 0, *[4] * nd)
