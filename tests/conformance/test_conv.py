"""Convolution: the backend agrees with ``reference.conv`` on every valid case.

1-D, 2-D and 3-D; stride, every padding form, dilation, groups (depthwise included), bias,
N, C, O > 1, unequal sizes and kernel sides; small-integer inputs compared exactly and
normal inputs within the error bound of :mod:`tests.support.tolerances`; low-precision
and integer dtypes; a handful of realistic layer shapes.
"""

from __future__ import annotations

import pytest
from hypothesis import given

from tests.support import strategies as sts
from tests.support.checks import check_case, outcome


@given(case=sts.conv_cases())
def test_conv_matches_oracle(suite, case):
    check_case(suite, case)


@given(case=sts.conv_cases(dtypes=(*sts.LOW_PRECISION_DTYPES, *sts.INT_DTYPES)))
def test_conv_low_precision_and_integer_dtypes(suite, case):
    check_case(suite, case)


@given(case=sts.portable_cases("conv"))
def test_conv_portable_features(suite, case):
    check_case(suite, case)


@given(case=sts.conv_cases(dtypes=sts.FLOAT_DTYPES,
                           fills=("special", "nan-window", "neg-inf-window")))
def test_conv_special_values(suite, case):
    """NaN and ±inf in the input and the weights (and the bias): NaN where the oracle
    has NaN (``inf * 0``, ``inf - inf``), the same infinity where it has one."""
    check_case(suite, case)


@given(case=sts.conv_cases(dtypes=sts.FLOAT_DTYPES, fills=("extreme",)))
def test_conv_extreme_values(suite, case):
    """Subnormal inputs and weights, inputs near the dtype's overflow; a float16 result
    beyond its range is infinite."""
    check_case(suite, case)


@given(case=sts.empty_cases("conv"))
def test_conv_empty_batch_or_channels(suite, case):
    """N = 0 gives an empty output of the right shape; C = 0 gives the bias (an empty
    sum is 0)."""
    check_case(suite, case)


@given(case=sts.large_window_cases("conv"))
def test_conv_large_windows_low_precision(suite, case):
    """64 to 8192 products per output in float16 / bfloat16: within the bound of sums
    accumulated in float32 and rounded once into the dtype."""
    check_case(suite, case)


@pytest.mark.parametrize("case", [c for c in sts.REALISTIC_CASES if c.op == "conv"],
                         ids=lambda c: c.label)
def test_conv_realistic_layer(suite, case):
    outcome(suite, check_case(suite, case), case.label)
