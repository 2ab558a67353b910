"""Detection power: the conformance suite catches every deliberately broken backend, in
the test that concerns its bug, on the case that shows it.

Each broken backend of :mod:`tests.support.broken` is run, in a subprocess with the
``ci`` hypothesis profile (derandomized), on the one conformance test that must catch it
(:data:`tests.support.broken.BROKEN`). The JUnit XML report of the run must show that
test failed with an unregistered difference whose message names the difference that
shows the bug, with a reproducer, and for a property test the falsifying case (rebuilt
from the report) must have the parameter that triggers the bug. Also checked: the same
tests pass on the oracle, so the failures are the bugs' and not the setup's; a backend
that declines every call compares nothing, each test is reported as skipped with the
reason, and the run fails. The runs need only NumPy and are the same for every
backend, so they run in the numpy session only, two at a time.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.broken import BROKEN
from tests.support.strategies import Case

ROOT = Path(__file__).resolve().parents[2]
#: The conformance tests a backend that declines every call runs.
DECLINED_TESTS = ("tests/conformance/test_conv.py::test_conv_matches_oracle",
                  "tests/conformance/test_max_pool.py::test_max_pool_matches_oracle")


@dataclass(frozen=True)
class Run:
    """One pytest run: exit status, output, and per test node id its outcome and the
    failure's (or skip's) message."""

    returncode: int
    output: str
    outcomes: dict[str, tuple[str, str]]


def _node_id(case: ET.Element) -> str:
    path = case.get("classname", "").replace(".", "/") + ".py"
    return f"{path}::{case.get('name')}"


def run_suite(backend: str, tests: tuple[str, ...], registry: str | None = None) -> Run:
    """Run ``tests`` on ``backend`` (with the registry TOML ``registry``, if given)."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        if registry is not None:
            path = Path(tmp) / "registry.toml"
            path.write_text(registry)
            env["CONFORMANCE_REGISTRY"] = str(path)
        junit = Path(tmp) / "junit.xml"
        result = subprocess.run(
            [sys.executable, "-m", "pytest", *tests, f"--backend={backend}",
             "--hypothesis-profile=ci", "-q", "-p", "no:cacheprovider",
             f"--junitxml={junit}", "-W", "ignore::pytest.PytestAssertRewriteWarning"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
        outcomes: dict[str, tuple[str, str]] = {}
        if junit.exists():
            for case in ET.parse(junit).iter("testcase"):
                outcome, text = "passed", ""
                for kind in ("failure", "error", "skipped"):
                    element = case.find(kind)
                    if element is not None:
                        outcome = kind
                        text = (element.get("message") or "") + "\n" + (element.text or "")
                outcomes[_node_id(case)] = (outcome, text)
    return Run(result.returncode, result.stdout + result.stderr, outcomes)


def falsifying_case(text: str) -> Case:
    """The ``case=Case(...)`` of hypothesis' failing test case in a failure report."""
    lines = [re.sub(r"^E\s?", "", line) for line in text.splitlines()]
    body = "\n".join(lines)
    start = body.rindex("case=Case(") + len("case=")
    depth = 0
    for end in range(start, len(body)):
        depth += {"(": 1, ")": -1}.get(body[end], 0)
        if depth == 0 and body[end] == ")":
            break
    return eval(body[start:end + 1], {"Case": Case})  # the repr of a dataclass of literals


@pytest.fixture(scope="module", autouse=True)
def _numpy_session_only(suite):
    if suite.name != "numpy":
        pytest.skip("the self-test runs in the numpy session (it does not depend on the backend)")


@pytest.fixture(scope="module")
def runs(_numpy_session_only) -> Iterator[dict[str, Run]]:
    """Every run of this module, two at a time: each broken backend on its test, the
    oracle on all of them, the declining backend."""
    jobs = {name: (f"tests.support.broken:{name}", (d.test,), d.registry)
            for name, d in BROKEN.items()}
    jobs["oracle"] = ("numpy", tuple(sorted({d.test for d in BROKEN.values()})), None)
    jobs["declines_everything"] = ("tests.support.broken:declines_everything",
                                   DECLINED_TESTS, None)
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        futures = {name: pool.submit(run_suite, *job) for name, job in jobs.items()}
        yield {name: f.result() for name, f in futures.items()}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_suite_catches_broken_backend(runs, name):
    detection = BROKEN[name]
    run = runs[name]
    tail = run.output[-3000:]
    assert run.returncode == 1, f"the suite did not fail on {name!r} ({run.returncode}):\n{tail}"
    assert detection.test in run.outcomes, (detection.test, sorted(run.outcomes), tail)
    outcome, text = run.outcomes[detection.test]
    assert outcome == "failure", f"{detection.test} {outcome} on {name!r}:\n{tail}"
    for pattern in detection.message:
        assert re.search(pattern, text), f"{name}: {pattern!r} not in the failure:\n{text[:3000]}"
    assert "---- reproducer" in text, text[:3000]
    if detection.case is not None:
        case = falsifying_case(text)
        assert detection.case(case), f"{name}: the falsifying case does not show the bug: {case}"


def test_the_same_tests_pass_on_the_oracle(runs):
    run = runs["oracle"]
    assert run.returncode == 0, run.output[-3000:]
    assert {d.test for d in BROKEN.values()} <= set(run.outcomes)
    assert all(outcome == "passed" for outcome, _ in run.outcomes.values()), run.outcomes


def test_a_backend_declining_everything_compares_nothing_and_fails(runs):
    """conftest's makereport hook turns each test that compared nothing into a skip with
    the Unsupported reasons, and the session fails: the run tested nothing."""
    run = runs["declines_everything"]
    assert run.returncode == 1, run.output[-3000:]
    assert set(run.outcomes) == set(DECLINED_TESTS), run.outcomes
    for test, (outcome, text) in run.outcomes.items():
        assert outcome == "skipped", (test, outcome, text)
        assert "Unsupported (every case this test drew)" in text, text
        assert "this backend declines every" in text, text
    assert "compared no case with the oracle" in run.output, run.output[-3000:]
