"""The one comparison helper: run a case on the backend, judge it against the oracle.

Every conformance test goes through :func:`check_case` (property cases and fixed cases)
or :func:`check_arrays` (literal arrays), which call the backend and :func:`judge` its
result. Judging applies the registry: a case that matches a known discrepancy for
the running backend is compared with the oracle called with the entry's ``behaves_as``;
one that follows the oracle's default instead fails as stale; a difference no entry
explains fails as unregistered. Every failure message ends with a reproducer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import reference
from backends import Unsupported
from tests.support import registry
from tests.support.records import Records
from tests.support.repro import reproducer, reproducer_for_arrays
from tests.support.strategies import Case, make_arrays, numpy_dtype
from tests.support.tolerances import Mismatch, compare, tolerance


@dataclass(repr=False)
class Suite:
    """What the tests know about the run: the backend and how to judge it.

    Attributes
    ----------
    backend : object
        The backend under test (``conv``, ``max_pool``, ``avg_pool``).
    name, version : str
        Its suite name (registry entries list these) and framework version.
    spec : str
        The ``--backend`` value, for reproducers.
    entries : list of registry.Entry
        Registry entries that apply to this backend.
    records : Records
        Observations of the run.
    """

    backend: Any
    name: str
    version: str
    spec: str
    entries: list[registry.Entry]
    records: Records
    #: The reason of the last Unsupported, and the ids of the registry entries that the
    #: last judged case matched: what a fixed-case test shows as its skip / xfail reason.
    last_unsupported: str = ""
    last_entries: str = ""

    def __repr__(self) -> str:  # hypothesis prints it with every falsifying example
        return f"Suite({self.name} {self.version})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


def call_op(target: Any, op: str, arrays: Mapping[str, Any], params: Mapping[str, Any]
            ) -> Any:
    """Call ``op`` on ``target`` (a backend or :mod:`reference`) the way the protocol says."""
    if op == "conv":
        return target.conv(arrays["x"], arrays["w"], arrays.get("b"), **params)
    rest = dict(params)
    kernel_size = rest.pop("kernel_size")
    return getattr(target, op)(arrays["x"], kernel_size, **rest)


def oracle(op: str, arrays: Mapping[str, Any], params: Mapping[str, Any]) -> np.ndarray:
    """The oracle's result (float64; max pooling in the input dtype)."""
    with np.errstate(invalid="ignore", over="ignore"):
        return call_op(reference, op, arrays, params)


def _tolerance(op: str, arrays: Mapping[str, Any], params: Mapping[str, Any], dtype: str,
               ref: np.ndarray) -> Any:
    return tolerance(op, arrays, params, dtype, np.asarray(ref, dtype=np.float64))


def _differs(op: str, arrays: Mapping[str, Any], params: Mapping[str, Any], dtype: str,
             y: Any, ref: np.ndarray) -> Mismatch | None:
    return compare(y, ref, _tolerance(op, arrays, params, dtype, ref))


def judge(suite: Suite, op: str, arrays: Mapping[str, Any], params: Mapping[str, Any],
          dtype: str, y: Any, fill: str, repro: Callable[[Mapping[str, Any] | None], str],
          test: str = "") -> str:
    """Judge the backend's result ``y`` against the oracle, registry applied.

    Returns
    -------
    str
        ``"passed"`` (agrees with the oracle's default), ``"registered"`` (agrees with a
        registered ``behaves_as``) or ``"excluded"`` (a registered entry without
        ``behaves_as`` takes the case out of the comparison).

    Raises
    ------
    AssertionError
        On an unregistered difference, or a stale registry entry, with the reproducer.
    """
    __tracebackhide__ = True
    ref = oracle(op, arrays, params)
    entries = matching_entries(suite, op, arrays, params, dtype, fill)
    suite.last_entries = ", ".join(e.id for e in entries)
    if not entries:
        mismatch = _differs(op, arrays, params, dtype, y, ref)
        if mismatch is not None:
            suite.records.add_unregistered(test, op, mismatch.text)
            raise AssertionError(
                f"UNREGISTERED DIFFERENCE: {suite.name} {suite.version} {op} differs from the "
                f"oracle and no entry of tests/discrepancies.toml explains it.\n"
                f"{mismatch.text}{repro(None)}")
        return "passed"
    ids = ", ".join(e.id for e in entries)
    behaves_as = registry.merged_behaves_as(entries)
    if behaves_as is None:
        for e in entries:
            suite.records.add_entry_case(e.id, "excluded")
        return "excluded"
    alt_params = {**params, **behaves_as}
    try:
        alt = oracle(op, arrays, alt_params)
    except (ValueError, TypeError) as exc:
        raise AssertionError(f"registry entries {ids}: the oracle rejects behaves_as "
                             f"{behaves_as} on this case: {exc}{repro(behaves_as)}") from exc
    mismatch_alt = _differs(op, arrays, alt_params, dtype, y, alt)
    distinct = _differs(op, arrays, params, dtype, alt, ref) is not None
    if mismatch_alt is None:
        for e in entries:
            suite.records.add_entry_case(e.id, "reproduced" if distinct else "indistinct")
        return "registered"
    if distinct and _differs(op, arrays, params, dtype, y, ref) is None:
        for e in entries:
            suite.records.add_entry_case(e.id, "stale")
        raise AssertionError(
            f"STALE REGISTRY ENTRY {ids}: {suite.name} {suite.version} now follows the "
            f"oracle's default on a case the entry covers (behaves_as {behaves_as} no longer "
            f"describes it). Update or remove the entry.{repro(behaves_as)}")
    suite.records.add_unregistered(test, op, mismatch_alt.text)
    raise AssertionError(
        f"UNREGISTERED DIFFERENCE: {suite.name} {suite.version} {op} matches registry "
        f"entries {ids} but agrees neither with their behaves_as {behaves_as} nor with the "
        f"oracle's default.\nagainst behaves_as: {mismatch_alt.text}{repro(behaves_as)}")


@dataclass(frozen=True)
class Called:
    """A backend call's result: ``status`` is "ok" (``y`` holds the result),
    "unsupported" (Unsupported raised; recorded) or "excluded" (it raised, and a
    registry entry without ``behaves_as`` covers the case)."""

    y: Any
    status: str


def matching_entries(suite: Suite, op: str, arrays: Mapping[str, Any],
                     params: Mapping[str, Any], dtype: str, fill: str) -> list[registry.Entry]:
    """The registry entries that apply to this call on the running backend."""
    w = arrays.get("w")
    facts = registry.case_facts(op, np.asarray(arrays["x"]), params,
                                None if w is None else np.shape(w), arrays.get("b") is not None,
                                dtype, fill)
    return registry.matching(suite.entries, suite.name, op, facts)


def run_backend(suite: Suite, op: str, arrays: Mapping[str, Any], params: Mapping[str, Any],
                repro: Callable[[Mapping[str, Any] | None], str], dtype: str = "float32",
                fill: str = "reproducer") -> Called:
    """Call the backend on a valid case.

    Unsupported is recorded, not a failure. Any other exception fails with the
    reproducer, unless a registry entry without ``behaves_as`` covers the case (a
    framework that rejects a valid call, e.g. ``'same'`` with stride > 1).
    """
    __tracebackhide__ = True
    try:
        with np.errstate(invalid="ignore", over="ignore"):  # inf - inf is meant to be NaN
            return Called(call_op(suite.backend, op, arrays, params), "ok")
    except Unsupported as exc:
        suite.records.add_unsupported(op, exc.reason)
        suite.last_unsupported = exc.reason
        return Called(None, "unsupported")
    except Exception as exc:
        entries = matching_entries(suite, op, arrays, params, dtype, fill)
        if entries and registry.merged_behaves_as(entries) is None:
            suite.last_entries = ", ".join(e.id for e in entries)
            for e in entries:
                suite.records.add_entry_case(e.id, "excluded")
            return Called(None, "excluded")
        raise AssertionError(f"{suite.name} {suite.version} raised {type(exc).__name__} on "
                             f"a valid {op} call: {exc}{repro(None)}") from exc


def outcome(suite: Suite, result: str, what: str) -> None:
    """Show a fixed case's result in pytest's outcome: skip with the Unsupported reason,
    xfail naming the registry entries; nothing when it passed."""
    if result == "unsupported":
        pytest.skip(f"Unsupported ({what}): {suite.last_unsupported}")
    if result in ("registered", "excluded"):
        pytest.xfail(f"registered discrepancy ({what}): {suite.last_entries}")


def check_case(suite: Suite, case: Case, test: str = "") -> str:
    """Run one property case on the backend and judge it.

    Returns
    -------
    str
        ``"unsupported"`` (the backend raised Unsupported: recorded, not a failure),
        ``"excluded"`` (it raised on a case a registry entry covers) or what
        :func:`judge` returns.
    """
    __tracebackhide__ = True
    arrays = make_arrays(case)

    def repro(behaves_as: Mapping[str, Any] | None) -> str:
        return reproducer(case, suite.spec, behaves_as)

    called = run_backend(suite, case.op, arrays, case.params, repro, case.dtype, case.fill)
    if called.status != "ok":
        return called.status
    suite.records.add_checked(case.op)
    return judge(suite, case.op, arrays, case.params, case.dtype, called.y, case.fill, repro,
                 test)


def check_arrays(suite: Suite, op: str, arrays: Mapping[str, Any], params: Mapping[str, Any],
                 dtype: str, test: str = "") -> str:
    """:func:`check_case` for literal arrays (seed examples, fixed cases)."""
    __tracebackhide__ = True

    def repro(behaves_as: Mapping[str, Any] | None) -> str:
        return reproducer_for_arrays(op, arrays, params, dtype, suite.spec)

    called = run_backend(suite, op, arrays, params, repro, dtype)
    if called.status != "ok":
        return called.status
    suite.records.add_checked(op)
    return judge(suite, op, arrays, params, dtype, called.y, "reproducer", repro, test)


def check_reproducer(suite: Suite, entry: registry.Entry) -> None:
    """Run ``entry``'s reproducer and assert the backend agrees with the oracle's default.

    Registered entries are strict expected failures of this check: the AssertionError is
    the discrepancy reproducing. Agreement (the entry is stale) is recorded before the
    strict xfail turns it into a failure. When the oracle rejects the call, agreement
    means the backend raises too.
    """
    __tracebackhide__ = True
    call = registry.reproducer_call(entry, numpy_dtype)
    text = reproducer_for_arrays(call.op, call.arrays, call.params, call.dtype, suite.spec)
    try:
        ref = oracle(call.op, call.arrays, call.params)
    except (ValueError, TypeError) as exc:
        ref, oracle_error = None, exc
    try:
        y = call_op(suite.backend, call.op, call.arrays, call.params)
        backend_error = None
    except Exception as exc:  # Unsupported included: the framework does not do the default
        y, backend_error = None, exc
    if ref is None:
        agrees = backend_error is not None and not isinstance(backend_error, Unsupported)
        detail = (f"the oracle rejects the call ({oracle_error}); the backend "
                  + (f"raised {type(backend_error).__name__}: {backend_error}" if backend_error
                     else "returned a result"))
    elif backend_error is not None:
        agrees = False
        detail = f"the backend raised {type(backend_error).__name__}: {backend_error}"
    else:
        mismatch = _differs(call.op, call.arrays, call.params, call.dtype, y, ref)
        agrees = mismatch is None
        detail = "" if mismatch is None else mismatch.text
    suite.records.add_reproducer(entry.id, "stale" if agrees else "reproduced")
    assert agrees, f"registered discrepancy {entry.id} reproduces: {detail}{text}"


def check_behaves_as(suite: Suite, entry: registry.Entry) -> str:
    """Assert that on ``entry``'s reproducer the backend agrees with the oracle called
    with the entry's ``behaves_as``: the registered description is itself checked."""
    __tracebackhide__ = True
    assert entry.behaves_as is not None
    call = registry.reproducer_call(entry, numpy_dtype)
    params = {**call.params, **entry.behaves_as}
    text = reproducer_for_arrays(call.op, call.arrays, params, call.dtype, suite.spec)
    try:
        y = call_op(suite.backend, call.op, call.arrays, call.params)
    except Unsupported as exc:
        suite.records.add_unsupported(call.op, exc.reason)
        return "unsupported"
    ref = oracle(call.op, call.arrays, params)
    mismatch = _differs(call.op, call.arrays, params, call.dtype, y, ref)
    assert mismatch is None, (f"registry entry {entry.id}: the backend does not behave as "
                              f"its behaves_as {entry.behaves_as} says: {mismatch.text}{text}")
    return "passed"

