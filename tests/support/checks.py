"""The one comparison helper: run a case on the backend, judge it against the oracle.

Every conformance test goes through :func:`check_case` (property cases and fixed cases)
or :func:`check_arrays` (literal arrays), which call the backend and :func:`judge` what
it did. Judging applies the registry: a case that matches known discrepancies for the
running backend is checked against their merged claim (values, a raised exception, an
Unsupported reason); one that follows the oracle's default instead fails as stale; a
difference no entry explains fails as unregistered. Every failure message ends with a
reproducer.

What a case counts as (the records keep each apart): *compared* (values checked against
the oracle or against a values claim), *claim checked* (a registered exception or
Unsupported seen as claimed), *unsupported* (declined by the adapter, no claim),
*excluded* (an entry says the values cannot be compared, with its reason).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import registry
from backends import Unsupported
from reference.dtypes import numpy_dtype
from reference.tolerances import Mismatch, compare_any, tolerance
from tests.support.records import Records
from tests.support.repro import reproducer, reproducer_for_arrays
from tests.support.strategies import Case, make_arrays


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
    variant : str
        The variant the backend runs under ('' for the default).
    """

    backend: Any
    name: str
    version: str
    spec: str
    entries: list[registry.Entry]
    records: Records
    variant: str = ""
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


oracle = registry.oracle_call


@dataclass(frozen=True)
class Called:
    """What the backend did with one call: returned ``y``, declined it with an
    Unsupported ``reason``, or raised ``error``."""

    y: Any = None
    reason: str | None = None
    error: BaseException | None = None

    def describe(self) -> str:
        if self.reason is not None:
            return f"declined it: Unsupported({self.reason!r})"
        if self.error is not None:
            return f"raised {type(self.error).__name__}: {self.error}"
        return "returned values"


def call_backend(suite: Suite, op: str, arrays: Mapping[str, Any],
                 params: Mapping[str, Any]) -> Called:
    """Call the backend; an exception is an observation, not a failure (yet)."""
    try:
        with np.errstate(invalid="ignore", over="ignore"):  # inf - inf is meant to be NaN
            return Called(y=call_op(suite.backend, op, arrays, params))
    except Unsupported as exc:
        return Called(reason=exc.reason)
    except Exception as exc:  # judged against the registry
        return Called(error=exc)


def matching_entries(suite: Suite, op: str, arrays: Mapping[str, Any],
                     params: Mapping[str, Any], dtype: str, fill: str) -> list[registry.Entry]:
    """The registry entries that apply to this call on the running backend."""
    facts = registry.case_facts(op, arrays, params, dtype, fill, suite.variant)
    return registry.matching(suite.entries, suite.name, op, facts)


def _differs(op: str, arrays: Mapping[str, Any], params: Mapping[str, Any], dtype: str,
             y: Any, expected: list[np.ndarray], claim: registry.Claim | None = None
             ) -> Mismatch | None:
    """How ``y`` differs from every alternative of ``expected`` (None if it agrees)."""
    if claim is None:
        tols = [tolerance(op, arrays, params, dtype, e) for e in expected]
        return compare_any(y, expected, tols, dtype)
    magnitudes = claim.magnitudes(op, arrays, params, dtype)
    tols = [tolerance(op, arrays, params, dtype, e, claim.accumulation, m)
            for e, m in zip(expected, magnitudes, strict=True)]
    return compare_any(y, expected, tols, claim.result_dtype(dtype))


def _default(op: str, arrays: Mapping[str, Any], params: Mapping[str, Any]) -> np.ndarray:
    return np.asarray(oracle(op, arrays, params), dtype=np.float64)


def _unregistered(suite: Suite, test: str, op: str, text: str) -> AssertionError:
    suite.records.add_unregistered(test, op, text.splitlines()[0])
    return AssertionError(f"UNREGISTERED DIFFERENCE: {suite.name} {suite.version} {op}: {text}")


def judge(suite: Suite, op: str, arrays: Mapping[str, Any], params: Mapping[str, Any],
          dtype: str, fill: str, called: Called, repro: Callable[[Any], str],
          test: str = "") -> str:
    """Judge what the backend did on one valid case, registry applied.

    Returns
    -------
    str
        ``"passed"`` (agrees with the oracle's default), ``"registered"`` (agrees with
        the matching entries' claim), ``"unsupported"`` (declined, no claim about it) or
        ``"excluded"`` (an entry says the case cannot be compared).

    Raises
    ------
    AssertionError
        On an unregistered difference, or a stale registry entry, with the reproducer.
    """
    __tracebackhide__ = True
    entries = matching_entries(suite, op, arrays, params, dtype, fill)
    suite.last_entries = ", ".join(e.id for e in entries)
    ids = [e.id for e in entries]
    if not entries:
        return _judge_default(suite, op, arrays, params, dtype, called, repro, test)
    try:
        claim = registry.merge([e.claim for e in entries], ids)
    except ValueError as exc:
        raise AssertionError(f"registry: {exc}{repro(None)}") from exc
    tally = suite.records.add_entry_case
    if claim.form == "excluded":
        for i in ids:
            tally(i, "excluded")
        suite.records.add_excluded(op)
        return "excluded"
    if claim.form in ("raises", "unsupported"):
        seen = (claim.explains(called.error) if claim.form == "raises" and called.error
                else claim.form == "unsupported" and called.reason is not None
                and claim.matches_text(called.reason))
        if seen:
            for i in ids:
                tally(i, "reproduced")
            suite.records.add_claim_checked(op)
            return "registered"
        if claim.form == "raises" and called.reason is not None:
            suite.last_unsupported = called.reason
            suite.records.add_unsupported(op, called.reason)
            return "unsupported"
        if called.y is not None and _differs(op, arrays, params, dtype, called.y,
                                             [_default(op, arrays, params)]) is None:
            for i in ids:
                tally(i, "stale")
            raise AssertionError(
                f"STALE REGISTRY ENTRY {', '.join(ids)}: {suite.name} {suite.version} now "
                f"computes the oracle's default on a case where the entry claims it "
                f"{claim.describe()}. Update or remove the entry.{repro(None)}")
        raise _unregistered(suite, test, op, (
            f"matches registry entries {', '.join(ids)}, which claim it {claim.describe()}, "
            f"but the backend {called.describe()}.{repro(None)}"))
    # a values claim
    if called.reason is not None:
        suite.last_unsupported = called.reason
        suite.records.add_unsupported(op, called.reason)
        return "unsupported"
    if called.error is not None:
        raise _unregistered(suite, test, op, (
            f"matches registry entries {', '.join(ids)} (claim: {claim.describe()}), but the "
            f"backend {called.describe()}{repro(claim)}"))
    try:
        expected = claim.expected(op, arrays, params, dtype)
    except (ValueError, TypeError) as exc:
        raise AssertionError(f"registry entries {ids}: the oracle rejects the claim "
                             f"{claim.describe()} on this case: {exc}{repro(claim)}") from exc
    suite.records.add_checked(op)
    mismatch = _differs(op, arrays, params, dtype, called.y, expected, claim)
    default = [_default(op, arrays, params)]
    distinct = any(_differs(op, arrays, params, dtype, e, default) is not None
                   for e in expected) or claim.result_dtype(dtype) != dtype
    if mismatch is None:
        for i in ids:
            tally(i, "reproduced" if distinct else "indistinct")
        return "registered"
    if distinct and _differs(op, arrays, params, dtype, called.y, default) is None:
        for i in ids:
            tally(i, "stale")
        raise AssertionError(
            f"STALE REGISTRY ENTRY {', '.join(ids)}: {suite.name} {suite.version} now follows "
            f"the oracle's default on a case where the entry claims {claim.describe()}. "
            f"Update or remove the entry.{repro(claim)}")
    raise _unregistered(suite, test, op, (
        f"matches registry entries {', '.join(ids)} but agrees neither with their claim "
        f"({claim.describe()}) nor with the oracle's default.\nagainst the claim: "
        f"{mismatch.text}{repro(claim)}"))


def _judge_default(suite: Suite, op: str, arrays: Mapping[str, Any],
                   params: Mapping[str, Any], dtype: str, called: Called,
                   repro: Callable[[Any], str], test: str) -> str:
    """A case no entry matches: values must be the oracle's default."""
    __tracebackhide__ = True
    if called.reason is not None:
        suite.last_unsupported = called.reason
        suite.records.add_unsupported(op, called.reason)
        return "unsupported"
    if called.error is not None:
        raise _unregistered(suite, test, op, (
            f"raised {type(called.error).__name__} on a valid call: {called.error}"
            f"{repro(None)}"))
    suite.records.add_checked(op)
    mismatch = _differs(op, arrays, params, dtype, called.y, [_default(op, arrays, params)])
    if mismatch is not None:
        raise _unregistered(suite, test, op, (
            f"differs from the oracle and no registry entry explains it.\n"
            f"{mismatch.text}{repro(None)}"))
    return "passed"


def outcome(suite: Suite, result: str, what: str) -> None:
    """Show a fixed case's result in pytest's outcome: skip with the Unsupported reason,
    xfail naming the registry entries; nothing when it passed."""
    if result == "unsupported":
        pytest.skip(f"Unsupported ({what}): {suite.last_unsupported}")
    if result in ("registered", "excluded"):
        pytest.xfail(f"registered discrepancy ({what}): {suite.last_entries}")


def check_case(suite: Suite, case: Case, test: str = "") -> str:
    """Run one property case on the backend and judge it (see :func:`judge`)."""
    __tracebackhide__ = True
    arrays = make_arrays(case)

    def repro(claim: registry.Claim | None) -> str:
        return reproducer(case, suite.spec, claim)

    called = call_backend(suite, case.op, arrays, case.params)
    return judge(suite, case.op, arrays, case.params, case.dtype, case.fill, called, repro,
                 test)


def check_arrays(suite: Suite, op: str, arrays: Mapping[str, Any], params: Mapping[str, Any],
                 dtype: str, test: str = "") -> str:
    """:func:`check_case` for literal arrays (seed examples, fixed cases)."""
    __tracebackhide__ = True

    def repro(claim: registry.Claim | None) -> str:
        return reproducer_for_arrays(op, arrays, params, dtype, suite.spec)

    called = call_backend(suite, op, arrays, params)
    return judge(suite, op, arrays, params, dtype, "reproducer", called, repro, test)


class ClaimBroken(Exception):
    """A registered entry's reproducer no longer does what the entry claims (and does
    not follow the oracle's default either): not an expected failure."""


def check_reproducer(suite: Suite, entry: registry.Entry) -> None:
    """Run ``entry``'s reproducer: it reproduces when the backend does what the entry
    claims and that differs from the oracle's default.

    The registered entries run this as strict expected failures: the AssertionError is
    the discrepancy reproducing. Agreement with the oracle's default (the entry is
    stale) is recorded before the strict xfail turns it into a failure; a backend that
    declines the reproducer with Unsupported (where the entry claims something else)
    skips it; anything else (another exception, other values, another Unsupported
    reason than an Unsupported claim's) raises :class:`ClaimBroken`, which fails the
    test.
    """
    __tracebackhide__ = True
    call = registry.reproducer_call(entry)
    text = reproducer_for_arrays(call.op, call.arrays, call.params, call.dtype, suite.spec)
    called = call_backend(suite, call.op, call.arrays, call.params)
    claim = entry.claim
    assert claim is not None  # the loader requires a claim of every suite entry
    if called.reason is not None and claim.form != "unsupported":
        # the backend cannot run the reproducer at all (an older release, say): the entry
        # can be neither confirmed nor refuted here
        suite.records.add_reproducer(entry.id, "unsupported")
        pytest.skip(f"Unsupported (reproducer of {entry.id}): {called.reason}")
    try:
        default = [_default(call.op, call.arrays, call.params)]
    except (ValueError, TypeError) as exc:
        default, oracle_error = None, exc
    if default is None:  # a bad-input entry: the oracle's default is to reject the call
        follows_default = called.error is not None and not claim.explains(called.error)
        detail = f"the oracle rejects the call ({oracle_error}); the backend {called.describe()}"
    elif called.y is not None:
        follows_default = _differs(call.op, call.arrays, call.params, call.dtype, called.y,
                                   default) is None
        detail = f"the backend {called.describe()}"
    else:
        follows_default = False
        detail = f"the backend {called.describe()}"
    if follows_default:
        suite.records.add_reproducer(entry.id, "stale")
        return
    holds, why = claim_holds(claim, call, called)
    if not holds:
        suite.records.add_reproducer(entry.id, "broken")
        raise ClaimBroken(f"registry entry {entry.id} claims the backend "
                          f"{claim.describe()}, but {why}{text}")
    suite.records.add_reproducer(entry.id, "reproduced")
    raise AssertionError(f"registered discrepancy {entry.id} reproduces: {detail}{text}")


def claim_holds(claim: registry.Claim, call: registry.ReproducerCall, called: Called
                ) -> tuple[bool, str]:
    """Whether the backend's behaviour on a reproducer is what ``claim`` says, and why
    not."""
    if claim.form == "excluded":
        return called.y is not None, f"the backend {called.describe()}"
    if claim.form == "raises":
        return (called.error is not None and claim.explains(called.error),
                f"the backend {called.describe()}")
    if claim.form == "unsupported":
        return (called.reason is not None and claim.matches_text(called.reason),
                f"the backend {called.describe()}")
    if called.y is None:
        return False, f"the backend {called.describe()}"
    expected = claim.expected(call.op, call.arrays, call.params, call.dtype)
    mismatch = _differs(call.op, call.arrays, call.params, call.dtype, called.y, expected,
                        claim)
    return mismatch is None, "" if mismatch is None else mismatch.text


__all__ = ["Called", "ClaimBroken", "Suite", "call_backend", "call_op", "check_arrays",
           "check_case", "check_reproducer", "claim_holds", "judge", "matching_entries",
           "numpy_dtype", "oracle", "outcome"]
