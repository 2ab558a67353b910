"""The backward pass of convolution: the backend's gradients agree with
``reference.conv_vjp``.

``conv_vjp(x, w, dy, ...) -> (dx, dw, db)`` through the framework's own autograd, on the
cases of the forward (1-D to 3-D, stride, every padding form, dilation, groups and
depthwise) with an output gradient ``dy`` drawn like ``x``; each gradient compared
exactly where its partial sums are exact (small integers), else within the bound of
:mod:`reference.tolerances` (``dx`` sums ``O // groups * prod(kernel)`` products, ``dw``
``N * prod(out)``, ``db`` ``N * prod(out)`` terms). A backend without ``conv_vjp`` has
these tests skipped as Unsupported.
"""

from __future__ import annotations

from hypothesis import given, settings

from tests.support import strategies as sts
from tests.support.checks import check_case, require_op

#: Examples per backward property: two fifths of the profile's (40 in ci).
EXAMPLES = max(10, settings().max_examples * 2 // 5)


@settings(max_examples=EXAMPLES)
@given(case=sts.conv_vjp_cases())
def test_conv_vjp_matches_oracle(suite, case):
    require_op(suite, "conv_vjp")
    check_case(suite, case)


@settings(max_examples=EXAMPLES)
@given(case=sts.conv_vjp_cases(dtypes=(*sts.LOW_PRECISION_DTYPES, *sts.INT_DTYPES)))
def test_conv_vjp_low_precision_and_integer_dtypes(suite, case):
    require_op(suite, "conv_vjp")
    check_case(suite, case)


@settings(max_examples=EXAMPLES)
@given(case=sts.portable_vjp_cases("conv_vjp"))
def test_conv_vjp_portable_features(suite, case):
    require_op(suite, "conv_vjp")
    check_case(suite, case)
