"""On hypothesis-drawn cases, the fast API equals the definitions, exactly.

Two definitions: the seed chapter's loop functions (2-D, no padding, stride 1) and the
independent direct-sum definition of :mod:`tests.reference.direct` (every parameter, 1-D,
2-D and 3-D). Inputs are small integers, so every sum is exact and equality is required.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given

import reference
from tests.reference import direct
from tests.reference.strategies import ConvCase, PoolCase, conv_cases, pool_cases


@given(conv_cases(simple=True))
def test_conv_equals_seed_corr2d_multi_in_out(case: ConvCase) -> None:
    y = reference.conv(case.x, case.w)
    for n in range(case.x.shape[0]):
        np.testing.assert_array_equal(y[n], reference.corr2d_multi_in_out(case.x[n], case.w))


@given(conv_cases(simple=True))
def test_conv_single_channel_equals_seed_corr2d(case: ConvCase) -> None:
    x, k = case.x[0, 0], case.w[0, 0]
    np.testing.assert_array_equal(reference.conv(x[None, None], k[None, None])[0, 0],
                                  reference.corr2d(x, k))


@given(pool_cases(simple=True))
def test_pools_equal_seed_pool2d(case: PoolCase) -> None:
    y_max = reference.max_pool(case.x, case.kernel_size, **case.params)
    y_avg = reference.avg_pool(case.x, case.kernel_size, **case.params)
    for n in range(case.x.shape[0]):
        for c in range(case.x.shape[1]):
            np.testing.assert_array_equal(y_max[n, c],
                                          reference.pool2d(case.x[n, c], case.kernel_size))
            # The seed averages with .mean() (pairwise sum then divide) and the oracle sums
            # tap by tap: with integer values both sums are exact, so the quotients agree.
            np.testing.assert_array_equal(
                y_avg[n, c], reference.pool2d(case.x[n, c], case.kernel_size, "avg"))


@given(conv_cases())
def test_conv_equals_direct_sum(case: ConvCase) -> None:
    expected = direct.conv(case.x, case.w, case.b, **case.params)
    y = reference.conv(case.x, case.w, case.b, **case.params)
    assert y.dtype == np.float64
    assert y.shape == expected.shape
    np.testing.assert_array_equal(y, expected)


@given(pool_cases())
def test_max_pool_equals_direct_definition(case: PoolCase) -> None:
    expected = direct.max_pool(case.x, case.kernel_size, **case.params)
    y = reference.max_pool(case.x, case.kernel_size, **case.params)
    assert y.shape == expected.shape
    np.testing.assert_array_equal(y, expected)


@given(pool_cases())
def test_avg_pool_equals_direct_definition(case: PoolCase) -> None:
    for include in (True, False):
        expected = direct.avg_pool(case.x, case.kernel_size, count_include_pad=include,
                                   **case.params)
        y = reference.avg_pool(case.x, case.kernel_size, count_include_pad=include,
                               **case.params)
        assert y.shape == expected.shape
        np.testing.assert_array_equal(y, expected)


@given(pool_cases())
def test_output_size_equals_window_count(case: PoolCase) -> None:
    """The one home of the shape arithmetic agrees with counting windows one by one."""
    nd = case.x.ndim - 2
    in_sizes = case.x.shape[2:]
    kernel = case.kernel_size
    stride = reference.normalize_sizes(case.params.get("stride", kernel), nd, "stride")
    dilation = reference.normalize_sizes(case.params.get("dilation", 1), nd, "dilation")
    padding = case.params.get("padding", 0)
    ceil_mode = case.params.get("ceil_mode", False)
    pads = reference.resolve_padding(padding, in_sizes, kernel, stride, dilation)
    assert list(pads) == direct.pads_of(padding, in_sizes, kernel, stride, dilation)
    assert reference.output_size(in_sizes, kernel, stride, pads, dilation, ceil_mode) == \
        direct.output_shape(in_sizes, kernel, stride, padding, dilation, ceil_mode)
