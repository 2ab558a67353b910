"""Golden cases that catch transposition and convention bugs.

Asymmetric on purpose: N > 1, C > 1, H ≠ W, kh ≠ kw, strides and pads that differ per
dimension, dilation, groups, 1-D and 3-D. Expected values are written by hand (small
cases, worked out in the comments) or computed by the independent direct-sum definition
of :mod:`tests.reference.direct`, never taken from the oracle.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import reference
from tests.reference import direct


def arange(*shape: int, start: int = 1) -> np.ndarray:
    return np.arange(start, start + int(np.prod(shape)), dtype=np.float64).reshape(shape)


# --- hand-computed -----------------------------------------------------------------------

def test_conv_1d_by_hand() -> None:
    # x = 1 2 3 4 5, w = (1, 10, 100): y[i] = x[i] + 10 x[i+1] + 100 x[i+2]
    y = reference.conv(arange(1, 1, 5), np.array([[[1.0, 10.0, 100.0]]]))
    np.testing.assert_array_equal(y, [[[321.0, 432.0, 543.0]]])


def test_conv_1d_asymmetric_padding_stride_dilation_by_hand() -> None:
    # padded: 0 | 1 2 3 4 5 | 0 0 ; taps at 0 and 2 (dilation 2), stride 3:
    # p=0: xp[0] + 10 xp[2] = 0 + 20; p=1: xp[3] + 10 xp[5] = 3 + 50
    y = reference.conv(arange(1, 1, 5), np.array([[[1.0, 10.0]]]),
                       padding=[(1, 2)], stride=3, dilation=2)
    np.testing.assert_array_equal(y, [[[20.0, 53.0]]])


def test_conv_is_not_flipped_rows_and_columns_by_hand() -> None:
    # 2×3 input, 1×2 kernel (1, 2): y[i, j] = x[i, j] + 2 x[i, j+1]
    x = np.array([[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]]])
    y = reference.conv(x, np.array([[[[1.0, 2.0]]]]))
    np.testing.assert_array_equal(y, [[[[5.0, 8.0], [14.0, 17.0]]]])
    # 2×1 kernel (1, 2) down the rows: y[0, j] = x[0, j] + 2 x[1, j]
    y = reference.conv(x, np.array([[[[1.0], [2.0]]]]))
    np.testing.assert_array_equal(y, [[[[9.0, 12.0, 15.0]]]])


def test_conv_bias_per_output_channel_by_hand() -> None:
    x = np.ones((2, 1, 2, 3))
    w = np.stack([np.ones((1, 1, 1)), 2 * np.ones((1, 1, 1))])
    y = reference.conv(x, w, np.array([10.0, -10.0]))
    assert y.shape == (2, 2, 2, 3)
    np.testing.assert_array_equal(y[:, 0], np.full((2, 2, 3), 11.0))
    np.testing.assert_array_equal(y[:, 1], np.full((2, 2, 3), -8.0))


def test_conv_groups_by_hand() -> None:
    # C = 4, groups = 2: output 0 reads channels 0-1, output 1 reads channels 2-3.
    x = np.array([1.0, 10.0, 100.0, 1000.0]).reshape(1, 4, 1)
    w = np.array([[[1.0], [2.0]], [[3.0], [4.0]]])
    y = reference.conv(x, w, groups=2)
    np.testing.assert_array_equal(y, [[[21.0], [4300.0]]])


def test_depthwise_conv_by_hand() -> None:
    x = np.array([[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]])
    w = np.array([[[1.0, -1.0]], [[2.0, 1.0]]])
    np.testing.assert_array_equal(reference.conv(x, w, groups=2),
                                  [[[-1.0, -1.0], [13.0, 16.0]]])


def test_same_vs_same_lower_even_kernel_by_hand() -> None:
    # n = 4, k = 2: total padding 1. 'same' pads after: windows (1,2) (2,3) (3,4) (4,0);
    # 'same_lower' pads before: (0,1) (1,2) (2,3) (3,4). Kernel (1, 10).
    x, w = arange(1, 1, 4), np.array([[[1.0, 10.0]]])
    np.testing.assert_array_equal(reference.conv(x, w, padding="same"),
                                  [[[21.0, 32.0, 43.0, 4.0]]])
    np.testing.assert_array_equal(reference.conv(x, w, padding="same_lower"),
                                  [[[10.0, 21.0, 32.0, 43.0]]])
    assert reference.resolve_padding("same", (4,), (2,), (1,), (1,)) == ((0, 1),)
    assert reference.resolve_padding("same_lower", (4,), (2,), (1,), (1,)) == ((1, 0),)


def test_same_padding_with_stride_and_dilation_by_hand() -> None:
    # n = 5, k = 2, d = 2, s = 2: out = 3, total = 2*2 + 2 + 1 - 5 = 2 → (1, 1) either way
    assert reference.resolve_padding("same", (5,), (2,), (2,), (2,)) == ((1, 1),)
    # n = 6, k = 4, s = 1: total 3 → same (1, 2), same_lower (2, 1)
    assert reference.resolve_padding("same", (6,), (4,), (1,), (1,)) == ((1, 2),)
    assert reference.resolve_padding("same_lower", (6,), (4,), (1,), (1,)) == ((2, 1),)
    # n = 7, k = 3, s = 3: out 3, total = 6 + 3 - 7 = 2 → (1, 1); k = 1: total 0
    assert reference.resolve_padding("same", (7,), (3,), (3,), (1,)) == ((1, 1),)
    assert reference.resolve_padding("same", (7,), (1,), (3,), (1,)) == ((0, 0),)
    # stride larger than the kernel never gives negative padding
    assert reference.resolve_padding("same", (8,), (1,), (5,), (1,)) == ((0, 0),)


def test_max_pool_ceil_mode_last_window_rule_by_hand() -> None:
    # n = 5, k = 2, s = 2, no padding: floor → 2 windows, ceil → 3, the last one (4, 5)
    # overhangs: max is x[4].
    x = np.array([[[1.0, 5.0, 2.0, 7.0, 3.0]]])
    np.testing.assert_array_equal(reference.max_pool(x, 2), [[[5.0, 7.0]]])
    np.testing.assert_array_equal(reference.max_pool(x, 2, ceil_mode=True), [[[5.0, 7.0, 3.0]]])
    # n = 4, k = 2, s = 2, padding 1: padded 6, floor 3 windows: (p,1) (5,2) (7,p).
    # ceil: span = 4, 4/2 exact → 3 windows; nothing changes.
    x = np.array([[[1.0, 5.0, 2.0, 7.0]]])
    np.testing.assert_array_equal(reference.max_pool(x, 2, padding=1, ceil_mode=True),
                                  [[[1.0, 5.0, 7.0]]])
    # n = 4, k = 3, s = 2, padding 1: padded (p 1 5 2 7 p), span 3: floor 2 windows
    # (p 1 5) (5 2 7); ceil 3: the third starts at 4 < n + lo = 5, so it is kept:
    # (7, p, beyond).
    np.testing.assert_array_equal(reference.max_pool(x, 3, stride=2, padding=1),
                                  [[[5.0, 7.0]]])
    np.testing.assert_array_equal(reference.max_pool(x, 3, stride=2, padding=1, ceil_mode=True),
                                  [[[5.0, 7.0, 7.0]]])
    # n = 4, k = 2, s = 3, padding 1: padded 6, span 4: floor 2, ceil 3; window 3 would
    # start at 6 >= n + lo = 5, i.e. in the right padding: dropped.
    np.testing.assert_array_equal(reference.max_pool(x, 2, stride=3, padding=1),
                                  [[[1.0, 7.0]]])
    np.testing.assert_array_equal(reference.max_pool(x, 2, stride=3, padding=1, ceil_mode=True),
                                  [[[1.0, 7.0]]])
    assert reference.output_size((4,), (2,), (3,), ((1, 1),), (1,), ceil_mode=True) == (2,)


def test_avg_pool_divisors_by_hand() -> None:
    # x = 1 2 3 4, k = 3, s = 2, padding 1: windows (p,1,2) (2,3,4)
    x = np.array([[[1.0, 2.0, 3.0, 4.0]]])
    np.testing.assert_array_equal(reference.avg_pool(x, 3, stride=2, padding=1),
                                  [[[1.0, 3.0]]])
    np.testing.assert_array_equal(
        reference.avg_pool(x, 3, stride=2, padding=1, count_include_pad=False),
        [[[1.5, 3.0]]])
    # ceil mode adds window (4, p, beyond): include_pad counts x[3] and the padding cell
    # (divisor 2), never the cell past the padding; exclude counts x[3] only.
    np.testing.assert_array_equal(
        reference.avg_pool(x, 3, stride=2, padding=1, ceil_mode=True),
        [[[1.0, 3.0, 2.0]]])
    np.testing.assert_array_equal(
        reference.avg_pool(x, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
        [[[1.5, 3.0, 4.0]]])
    # ceil mode with no padding: x = 1..5, k = 2: last window (5, beyond) divides by 1
    x5 = np.array([[[1.0, 2.0, 3.0, 4.0, 5.0]]])
    for include in (True, False):
        np.testing.assert_array_equal(
            reference.avg_pool(x5, 2, ceil_mode=True, count_include_pad=include),
            [[[1.5, 3.5, 5.0]]])


def test_avg_pool_same_padding_counts_as_padding_by_hand() -> None:
    # n = 4, k = 3, s = 2, 'same': out 2, total 1 → (0, 1): windows (1,2,3) (3,4,p)
    x = np.array([[[1.0, 2.0, 3.0, 4.0]]])
    np.testing.assert_array_equal(reference.avg_pool(x, 3, stride=2, padding="same"),
                                  [[[2.0, 7.0 / 3.0]]])
    np.testing.assert_array_equal(
        reference.avg_pool(x, 3, stride=2, padding="same", count_include_pad=False),
        [[[2.0, 3.5]]])
    # 'same_lower' → (1, 0): windows (p,1,2) (2,3,4)
    np.testing.assert_array_equal(reference.avg_pool(x, 3, stride=2, padding="same_lower"),
                                  [[[1.0, 3.0]]])


def test_avg_pool_2d_corner_divisors_by_hand() -> None:
    # 2×3 ones, k = 2, s = 1, padding 1: include_pad → every window divides by 4, so the
    # value is (cells in input) / 4; exclude → all ones.
    x = np.ones((1, 1, 2, 3))
    y = reference.avg_pool(x, 2, stride=1, padding=1)
    np.testing.assert_array_equal(y[0, 0], np.array([[1, 2, 2, 1], [2, 4, 4, 2],
                                                     [1, 2, 2, 1]]) / 4)
    np.testing.assert_array_equal(
        reference.avg_pool(x, 2, stride=1, padding=1, count_include_pad=False)[0, 0],
        np.ones((3, 4)))


def test_max_pool_dilation_by_hand() -> None:
    x = np.array([[[9.0, 0.0, 1.0, 8.0, 2.0, 3.0]]])
    # k = 2, d = 3, s = 1: windows (0,3) (1,4) (2,5)
    np.testing.assert_array_equal(reference.max_pool(x, 2, stride=1, dilation=3),
                                  [[[9.0, 2.0, 3.0]]])


# --- against the direct-sum definition ----------------------------------------------------

CONV_CASES: list[tuple[tuple[int, ...], tuple[int, ...], dict[str, Any]]] = [
    # (x shape, w shape, params)
    ((2, 3, 5, 7), (4, 3, 2, 3), {}),
    ((2, 3, 5, 7), (4, 3, 2, 3), {"stride": (2, 3)}),
    ((2, 3, 6, 5), (2, 3, 3, 2), {"padding": ((2, 0), (1, 3))}),
    ((2, 3, 6, 5), (2, 3, 3, 2), {"padding": ((0, 2), (3, 1)), "stride": (3, 1)}),
    ((2, 2, 7, 6), (3, 2, 2, 3), {"dilation": (2, 1)}),
    ((2, 2, 7, 6), (3, 2, 2, 3), {"dilation": (1, 2), "padding": (1, 2), "stride": (2, 1)}),
    ((2, 4, 5, 6), (6, 2, 3, 2), {"groups": 2}),
    ((2, 6, 5, 4), (6, 1, 2, 3), {"groups": 6, "padding": "same"}),
    ((2, 3, 6, 5), (2, 3, 2, 4), {"padding": "same"}),
    ((2, 3, 6, 5), (2, 3, 2, 4), {"padding": "same_lower"}),
    ((2, 3, 7, 5), (2, 3, 4, 3), {"padding": "same", "stride": (2, 3), "dilation": (1, 2)}),
    ((3, 2, 9), (4, 2, 3), {"stride": 2, "padding": ((2, 1),)}),
    ((3, 2, 9), (4, 1, 2), {"groups": 2, "dilation": 3, "padding": "same_lower"}),
    ((2, 2, 4, 5, 3), (3, 2, 2, 3, 1), {}),
    ((2, 2, 4, 5, 3), (3, 2, 2, 3, 2), {"stride": (1, 2, 1), "padding": ((1, 0), (0, 2), (1, 1))}),
    ((2, 4, 5, 4, 3), (2, 2, 2, 2, 2), {"groups": 2, "dilation": (2, 1, 1), "padding": "same"}),
]


@pytest.mark.parametrize(("x_shape", "w_shape", "params"), CONV_CASES, ids=str)
def test_conv_golden_against_direct_sum(x_shape: tuple[int, ...], w_shape: tuple[int, ...],
                                        params: dict[str, Any]) -> None:
    rng = np.random.default_rng(sum(x_shape) * 31 + sum(w_shape))
    x = rng.integers(-9, 10, size=x_shape).astype(np.float64)
    w = rng.integers(-9, 10, size=w_shape).astype(np.float64)
    b = rng.integers(-9, 10, size=w_shape[:1]).astype(np.float64)
    expected = direct.conv(x, w, b, **params)
    y = reference.conv(x, w, b, **params)
    assert y.shape == expected.shape
    np.testing.assert_array_equal(y, expected)


POOL_CASES: list[tuple[tuple[int, ...], Any, dict[str, Any]]] = [
    ((2, 3, 5, 7), (2, 3), {}),
    ((2, 3, 5, 7), (3, 2), {"stride": (2, 1), "padding": (1, 1)}),
    ((2, 3, 6, 7), (3, 2), {"stride": (2, 3), "padding": ((1, 0), (0, 1))}),
    ((2, 2, 7, 6), (2, 3), {"stride": 1, "dilation": (3, 1)}),
    ((2, 2, 7, 6), (2, 3), {"stride": (2, 2), "dilation": (2, 2), "padding": (1, 2)}),
    ((2, 2, 7, 6), (3, 2), {"stride": 2, "ceil_mode": True}),
    ((2, 2, 6, 7), (3, 3), {"stride": 2, "padding": 1, "ceil_mode": True}),
    ((2, 2, 5, 8), (3, 2), {"stride": (3, 3), "padding": ((1, 0), (1, 1)), "ceil_mode": True}),
    ((2, 2, 6, 5), (2, 4), {"stride": 2, "padding": "same"}),
    ((2, 2, 6, 5), (2, 4), {"stride": 2, "padding": "same_lower"}),
    ((2, 2, 7, 5), (3, 2), {"stride": (2, 3), "padding": "same", "ceil_mode": True}),
    ((3, 2, 9), 3, {"stride": 2, "padding": 1}),
    ((3, 2, 10), 4, {"stride": 3, "padding": ((2, 1),), "ceil_mode": True}),
    ((2, 2, 4, 5, 6), (2, 3, 2), {}),
    ((2, 2, 5, 4, 6), (3, 2, 2), {"stride": (2, 1, 3), "padding": ((1, 0), (0, 1), (1, 1)),
                                  "ceil_mode": True}),
    ((2, 2, 5, 4, 6), (2, 2, 3), {"stride": 1, "dilation": (2, 1, 2), "padding": "same"}),
]


@pytest.mark.parametrize(("x_shape", "kernel", "params"), POOL_CASES, ids=str)
def test_max_pool_golden_against_direct_definition(x_shape: tuple[int, ...], kernel: Any,
                                                   params: dict[str, Any]) -> None:
    rng = np.random.default_rng(sum(x_shape) * 17)
    x = rng.integers(-50, 50, size=x_shape).astype(np.float64)
    expected = direct.max_pool(x, kernel, **params)
    y = reference.max_pool(x, kernel, **params)
    assert y.shape == expected.shape
    np.testing.assert_array_equal(y, expected)


@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize(("x_shape", "kernel", "params"), POOL_CASES, ids=str)
def test_avg_pool_golden_against_direct_definition(x_shape: tuple[int, ...], kernel: Any,
                                                   params: dict[str, Any],
                                                   count_include_pad: bool) -> None:
    rng = np.random.default_rng(sum(x_shape) * 13)
    # Both sides divide the same exact integer sum by the same integer divisor: one
    # correctly rounded division each, so the results are equal bit for bit.
    x = rng.integers(-50, 50, size=x_shape).astype(np.float64)
    expected = direct.avg_pool(x, kernel, count_include_pad=count_include_pad, **params)
    y = reference.avg_pool(x, kernel, count_include_pad=count_include_pad, **params)
    assert y.shape == expected.shape
    np.testing.assert_array_equal(y, expected)
