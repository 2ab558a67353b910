"""Max pooling: the backend agrees exactly with ``reference.max_pool``.

Kernel, default and explicit stride, every padding form, dilation, ceil mode; all-negative
inputs (padding must never win), NaN and ±inf (NaN in a window gives NaN); integer and
low-precision dtypes; realistic layer shapes.
"""

from __future__ import annotations

import pytest
from hypothesis import given

from tests.support import strategies as sts
from tests.support.checks import check_case, outcome


@given(case=sts.pool_cases("max_pool"))
def test_max_pool_matches_oracle(suite, case):
    check_case(suite, case)


@given(case=sts.pool_cases("max_pool", dtypes=(*sts.LOW_PRECISION_DTYPES, *sts.INT_DTYPES)))
def test_max_pool_low_precision_and_integer_dtypes(suite, case):
    check_case(suite, case)


@given(case=sts.portable_cases("max_pool"))
def test_max_pool_portable_features(suite, case):
    check_case(suite, case)


@given(case=sts.pool_cases("max_pool", dtypes=sts.FLOAT_DTYPES,
                           fills=("nan-window", "neg-inf-window")))
def test_max_pool_all_nan_or_neg_inf_windows(suite, case):
    """A window of NaN only gives NaN; a window of -inf only (with its padding) gives
    -inf."""
    check_case(suite, case)


@given(case=sts.pool_cases("max_pool", dtypes=sts.FLOAT_DTYPES, fills=("extreme",)))
def test_max_pool_extreme_values(suite, case):
    """Subnormals and values near the dtype's overflow."""
    check_case(suite, case)


@given(case=sts.empty_cases("max_pool"))
def test_max_pool_empty_batch_or_channels(suite, case):
    """N = 0 or C = 0: an empty output of the oracle's shape."""
    check_case(suite, case)


@pytest.mark.parametrize("case", [c for c in sts.REALISTIC_CASES if c.op == "max_pool"],
                         ids=lambda c: c.label)
def test_max_pool_realistic_layer(suite, case):
    outcome(suite, check_case(suite, case), case.label)
