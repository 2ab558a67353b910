"""The TensorFlow "same" asymmetry, as a named property of every backend offering "same".

When "same" needs an odd total padding, the extra row/column goes at the END (TensorFlow
``SAME``, Keras ``'same'``, ONNX ``SAME_UPPER``; the oracle's ``padding="same"``). On cases
that show it (even kernels, stride > 1, odd total padding in every dimension) the backend
must agree with the oracle's "same" and must differ from the result with the extra cell
at the beginning (``"same_lower"``). A padding split symmetrically cannot give the same
output size at all when the total is odd. A backend without "same" raises Unsupported
(recorded). Where a registry entry applies, the case is judged by the registry, and the
side of the padding is still checked under the entry's ``behaves_as`` (unless that
overrides the padding itself).
"""

from __future__ import annotations

import pytest
from hypothesis import given

import registry
from reference.tolerances import Tolerance, compare, tolerance
from tests.support import strategies as sts
from tests.support.checks import call_backend, judge, matching_entries, oracle
from tests.support.repro import reproducer


def check_extra_at_end(suite, case: sts.Case) -> None:
    arrays = sts.make_arrays(case)
    lower = case.with_params(padding="same_lower")
    ref_same = oracle(case.op, arrays, case.params)
    ref_lower = oracle(case.op, arrays, lower.params)
    assert compare(ref_same, ref_lower, Tolerance(True, None, "exact")) is not None, (
        f"strategy drew a case that does not show the side of the padding: {case}")

    def repro(claim):
        return reproducer(case, suite.spec, claim)

    called = call_backend(suite, case.op, arrays, case.params)
    result = judge(suite, case.op, arrays, case.params, case.dtype, case.fill, called, repro)
    if result not in ("passed", "registered"):
        return
    overrides: dict = {}
    if result == "registered":
        # e.g. a registered divisor rule: the side of the padding is still checked under it
        entries = matching_entries(suite, case.op, arrays, case.params, case.dtype, case.fill)
        claim = registry.merge([e.claim for e in entries], [e.id for e in entries])
        if claim.form != "values" or claim.values:
            return
        overrides = dict(claim.overrides)
    if "padding" in overrides:
        return
    lower_params = {**lower.params, **overrides}
    ref_lower = oracle(case.op, arrays, lower_params)
    tol = tolerance(case.op, arrays, lower_params, case.dtype, ref_lower)
    assert compare(called.y, ref_lower, tol) is not None, (
        f"{suite.name}: 'same' put the odd extra padding at the beginning{repro(None)}")


@pytest.mark.parametrize("op", ["conv", "max_pool", "avg_pool"])
def test_same_puts_odd_extra_padding_at_end(suite, op):
    @given(case=sts.same_asymmetric_cases(op))
    def prop(case):
        check_extra_at_end(suite, case)

    prop()
