"""The backward passes of pooling: the backend's gradients agree with
``reference.max_pool_vjp`` and ``reference.avg_pool_vjp``.

Max pooling routes each window's gradient to one cell: ties go to the first maximum in
the window's row-major order, a window holding NaN to its first NaN, a window of -inf
only to its first cell; padding absorbs nothing. The cases draw those on purpose (values
from {-1, 0, 1}, constant inputs, half -inf, NaN and ±inf), overlapping windows (stride
1), windows reaching into padding, ceil mode, 'same', 1-D to 3-D. Routing is compared
exactly, as are sums of integer gradients; average pooling within the bound of
:mod:`reference.tolerances`. A backend without these methods has the tests skipped as
Unsupported.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from tests.support import strategies as sts
from tests.support.checks import check_case, require_op

#: Examples per backward property: two fifths of the profile's (40 in ci).
EXAMPLES = max(10, settings().max_examples * 2 // 5)
OPS = ("max_pool_vjp", "avg_pool_vjp")


@pytest.mark.parametrize("op", OPS)
@settings(max_examples=EXAMPLES)
@given(data=sts.st.data())
def test_pool_vjp_matches_oracle(suite, op, data):
    require_op(suite, op)
    check_case(suite, data.draw(sts.vjp_cases(op), label="case"))


@pytest.mark.parametrize("op", OPS)
@settings(max_examples=EXAMPLES)
@given(data=sts.st.data())
def test_pool_vjp_low_precision_and_integer_dtypes(suite, op, data):
    require_op(suite, op)
    dtypes = (*sts.LOW_PRECISION_DTYPES, *sts.INT_DTYPES)
    check_case(suite, data.draw(sts.vjp_cases(op, dtypes=dtypes), label="case"))


@pytest.mark.parametrize("op", OPS)
@settings(max_examples=EXAMPLES)
@given(data=sts.st.data())
def test_pool_vjp_portable_features(suite, op, data):
    require_op(suite, op)
    check_case(suite, data.draw(sts.portable_vjp_cases(op), label="case"))


@settings(max_examples=EXAMPLES)
@given(case=sts.pool_vjp_cases("max_pool_vjp", fills=(*sts.BACKWARD_FILLS, "special"),
                               padding_forms=("int", "pairs", "same", "valid")))
def test_max_pool_vjp_routing_of_ties_nan_and_minus_inf(suite, case):
    require_op(suite, "max_pool_vjp")
    check_case(suite, case)
