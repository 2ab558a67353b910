"""Average pooling: the backend agrees with ``reference.avg_pool`` within the error bound.

Kernel, default and explicit stride, every padding form, dilation, ceil mode and the
divisor (``count_include_pad``); NaN and ±inf; low-precision dtypes; realistic shapes.
"""

from __future__ import annotations

import pytest
from hypothesis import given

from tests.support import strategies as sts
from tests.support.checks import check_case, outcome


@given(case=sts.pool_cases("avg_pool"))
def test_avg_pool_matches_oracle(suite, case):
    check_case(suite, case)


@given(case=sts.pool_cases("avg_pool", dtypes=(*sts.LOW_PRECISION_DTYPES, *sts.INT_DTYPES)))
def test_avg_pool_low_precision_and_integer_dtypes(suite, case):
    check_case(suite, case)


@given(case=sts.portable_cases("avg_pool"))
def test_avg_pool_portable_features(suite, case):
    check_case(suite, case)


@given(case=sts.pool_cases("avg_pool", dtypes=sts.FLOAT_DTYPES,
                           fills=("nan-window", "neg-inf-window")))
def test_avg_pool_all_nan_or_neg_inf_windows(suite, case):
    """A window of NaN only gives NaN; a window of -inf only (with its padding) gives
    -inf."""
    check_case(suite, case)


@given(case=sts.pool_cases("avg_pool", dtypes=sts.FLOAT_DTYPES, fills=("extreme",)))
def test_avg_pool_extreme_values(suite, case):
    """Subnormals and values near the dtype's overflow."""
    check_case(suite, case)


@given(case=sts.empty_cases("avg_pool"))
def test_avg_pool_empty_batch_or_channels(suite, case):
    """N = 0 or C = 0: an empty output of the oracle's shape."""
    check_case(suite, case)


@given(case=sts.large_window_cases("avg_pool"))
def test_avg_pool_large_windows_low_precision(suite, case):
    """64 to 8192 cells per window in float16 / bfloat16: within the bound of sums
    accumulated in float32 and rounded once into the dtype."""
    check_case(suite, case)


@pytest.mark.parametrize("case", [c for c in sts.REALISTIC_CASES if c.op == "avg_pool"],
                         ids=lambda c: c.label)
def test_avg_pool_realistic_layer(suite, case):
    outcome(suite, check_case(suite, case), case.label)
