"""Bad input: every call the oracle rejects, the backend must reject too.

The cases (:data:`tests.support.strategies.BAD_INPUTS`) cover every kind of bad input
the oracle rejects (``tests/reference/test_errors.py``): wrong ranks, channels that do not
fit the weights or the groups, zero, negative, non-integer or wrongly many sizes,
negative or unknown padding, windows larger than the padded input or of padding only, a
bias of the wrong shape, bool and complex arrays. The backend passes by raising (any
exception); an Unsupported is recorded as declining. A registry entry whose ``when``
matches (``invalid = true`` among the facts) may register what the framework does
instead (e.g. returns an empty output, crops on negative padding). Values returned
without such an entry fail as an UNREGISTERED DIFFERENCE with a reproducer (see
:func:`tests.support.checks.judge_invalid`).
"""

from __future__ import annotations

import pytest

from tests.support import strategies as sts
from tests.support.checks import call_backend, judge, oracle, outcome
from tests.support.repro import reproducer_for_arrays


@pytest.mark.parametrize("bad", sts.BAD_INPUTS, ids=lambda b: f"{b.op}-{b.label}")
def test_bad_input_is_rejected(suite, bad):
    arrays = bad.arrays()
    with pytest.raises((ValueError, TypeError)):  # the case is bad input to the oracle
        oracle(bad.op, arrays, bad.params)

    def repro(_claim):
        return reproducer_for_arrays(bad.op, arrays, bad.params, _dtype_name(bad.dtype),
                                     suite.spec)

    # in a worker process: bad input can kill a framework's process, an observation too
    called = call_backend(suite, bad.op, arrays, bad.params, isolated=True)
    result = judge(suite, bad.op, arrays, bad.params, bad.dtype, "bad-input", called, repro)
    outcome(suite, result, f"{bad.op}-{bad.label}")


def _dtype_name(name: str) -> str:
    """A dtype name the reproducer can spell with every NumPy (``np.bool_`` for "bool")."""
    return "bool_" if name == "bool" else name
