"""Detection power: the conformance suite fails on every deliberately broken backend.

Each broken backend of :mod:`tests.support.broken` is run through the conformance tests
that concern its bug, in a subprocess with the ``ci`` hypothesis profile (derandomized),
and that run must fail with an unregistered difference. Also checked: the same subset
passes on the correct oracle backend, so the failures are the bug's and not the setup's.
These runs need only NumPy and are the same for every backend, so they run in the numpy
session only.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.broken import BROKEN

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", autouse=True)
def _numpy_session_only(suite):
    if suite.name != "numpy":
        pytest.skip("the self-test runs in the numpy session (it does not depend on the backend)")


def run_suite(backend: str, paths: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", *paths, f"--backend={backend}",
         "--hypothesis-profile=ci", "-q", "-x", "-p", "no:cacheprovider", "-W",
         "ignore::pytest.PytestAssertRewriteWarning"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_suite_catches_broken_backend(name):
    result = run_suite(f"tests.support.broken:{name}", BROKEN[name])
    output = result.stdout + result.stderr
    assert result.returncode == 1, (
        f"the suite did not fail on broken backend {name!r} "
        f"(exit code {result.returncode}):\n{output[-3000:]}")
    assert "UNREGISTERED DIFFERENCE" in output, output[-3000:]
    assert "---- reproducer" in output, output[-3000:]


def test_subsets_pass_on_the_oracle():
    paths = tuple(sorted({p for ps in BROKEN.values() for p in ps}))
    result = run_suite("numpy", paths)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
