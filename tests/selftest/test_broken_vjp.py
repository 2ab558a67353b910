"""Detection power of the backward tests: they fail on every deliberately broken backward
pass of :mod:`tests.support.broken_vjp` (run in a subprocess with the ``ci`` profile), and
pass on the oracle. NumPy only, so they run in the numpy session."""

from __future__ import annotations

import pytest

from tests.selftest.test_broken_backends import run_suite
from tests.support.broken_vjp import BROKEN_VJP


@pytest.fixture(scope="module", autouse=True)
def _numpy_session_only(suite):
    if suite.name != "numpy":
        pytest.skip("the self-test runs in the numpy session (it does not depend on the backend)")


@pytest.mark.parametrize("name", sorted(BROKEN_VJP))
def test_backward_suite_catches_broken_vjp(name):
    result = run_suite(f"tests.support.broken_vjp:{name}", BROKEN_VJP[name])
    assert result.returncode == 1, (
        f"the backward suite did not fail on {name!r} (exit code {result.returncode}):\n"
        f"{result.output[-3000:]}")
    failed = [node for node, (outcome, _) in result.outcomes.items() if outcome == "failure"]
    assert failed and all(node.split("::")[0] in BROKEN_VJP[name] for node in failed), failed
    assert all("UNREGISTERED DIFFERENCE" in result.outcomes[node][1] for node in failed), (
        result.output[-3000:])


def test_backward_subsets_pass_on_the_oracle():
    paths = tuple(sorted({p for ps in BROKEN_VJP.values() for p in ps}))
    result = run_suite("numpy", paths)
    assert result.returncode == 0, result.output[-3000:]
