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

Bad input (a call the oracle rejects) has its own rule, :func:`judge_invalid`: the
backend must reject it too, unless an entry claims what it does instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import registry
from backends import Unsupported, load
from backends.table import key
from reference.dtypes import numpy_dtype
from reference.tolerances import (
    Mismatch,
    compare_any,
    is_integer_dtype,
    tolerance,
    whole_array_tolerance,
)
from registry.claims import as_float64
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
    budget : bool
        Whether the run is budgeted: a compiling variant under the ``variant`` profile,
        whose capability table runs in :data:`backends.table.BUDGET_DTYPES` only.
    """

    backend: Any
    name: str
    version: str
    spec: str
    entries: list[registry.Entry]
    records: Records
    variant: str = ""
    budget: bool = False
    #: The worker process of :meth:`isolated` (started on first use).
    _worker: Any = None
    #: The reason of the last Unsupported, and the ids of the registry entries that the
    #: last judged case matched: what a fixed-case test shows as its skip / xfail reason.
    last_unsupported: str = ""
    last_entries: str = ""

    def isolated(self) -> Any:
        """The backend in a worker process (started on first use; see
        :mod:`tests.support.isolation`)."""
        if self._worker is None:
            from tests.support.isolation import IsolatedBackend
            self._worker = IsolatedBackend(self.spec)
        return self._worker

    def __repr__(self) -> str:  # hypothesis prints it with every falsifying example
        return f"Suite({self.name} {self.version})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


def call_op(target: Any, op: str, arrays: Mapping[str, Any], params: Mapping[str, Any]
            ) -> Any:
    """Call ``op`` on ``target`` (a backend or :mod:`reference`) the way the protocol says.

    A VJP op (``conv_vjp``, ``max_pool_vjp``, ``avg_pool_vjp``) is optional on a backend:
    one without it raises :class:`Unsupported` saying so.
    """
    method = getattr(target, op, None)
    if method is None or not callable(method):
        raise Unsupported(f"the backend has no {op} (no backward pass)")
    if op == "conv":
        return method(arrays["x"], arrays["w"], arrays.get("b"), **params)
    if op == "conv_vjp":
        return method(arrays["x"], arrays["w"], arrays["dy"], **params)
    rest = dict(params)
    kernel_size = rest.pop("kernel_size")
    if op.endswith("_vjp"):
        return method(arrays["x"], arrays["dy"], kernel_size, **rest)
    return method(arrays["x"], kernel_size, **rest)


oracle = registry.oracle_call


@dataclass(frozen=True)
class Called:
    """What the backend did with one call: returned ``y``, declined it with an
    Unsupported ``reason``, raised ``error``, or died (``crash``: how, in a worker)."""

    y: Any = None
    reason: str | None = None
    error: BaseException | None = None
    crash: str | None = None

    def describe(self) -> str:
        if self.reason is not None:
            return f"declined it: Unsupported({self.reason!r})"
        if self.error is not None:
            return f"raised {getattr(self.error, 'names', [type(self.error).__name__])[0]}: " \
                   f"{self.error}"
        if self.crash is not None:
            return f"crashed ({self.crash})"
        return "returned values"

    def as_claimed(self, claim: registry.Claim) -> bool:
        """Whether this is the exception, Unsupported or crash that ``claim`` names."""
        if claim.form == "raises":
            return self.error is not None and claim.explains(self.error)
        if claim.form == "unsupported":
            return self.reason is not None and claim.matches_text(self.reason)
        if claim.form == "crashes":
            return self.crash is not None and claim.matches_text(self.crash)
        return False


def call_backend(suite: Suite, op: str, arrays: Mapping[str, Any],
                 params: Mapping[str, Any], isolated: bool = False) -> Called:
    """Call the backend; an exception is an observation, not a failure (yet). With
    ``isolated`` the call runs in a worker process (:mod:`tests.support.isolation`), so
    that a call that kills its process is observed as a crash."""
    if isolated:
        kind, value = suite.isolated().call(op, arrays, params)
        return Called(**{{"values": "y", "unsupported": "reason", "error": "error",
                          "crash": "crash"}[kind]: value})
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
             y: Any, expected: list[np.ndarray], claim: registry.Claim | None = None,
             values_only: bool = False) -> Mismatch | None:
    """How ``y`` differs from every alternative of ``expected`` (None if it agrees); with
    ``values_only`` its dtype is not checked (``y`` is itself an expectation, in float64)."""
    if claim is None:
        tols = [tolerance(op, arrays, params, dtype, e) for e in expected]
        return compare_any(y, expected, tols, None if values_only else dtype)
    magnitudes = claim.magnitudes(op, arrays, params, dtype)
    # an integer input whose claimed result is floating is not rounded into the input's
    # dtype: the result's own dtype bounds it
    tol_dtype = dtype
    if is_integer_dtype(dtype) and not is_integer_dtype(claim.result_dtype(dtype)):
        tol_dtype = claim.result_dtype(dtype)
    tols = [tolerance(op, arrays, params, tol_dtype, e, claim.accumulation, m)
            for e, m in zip(expected, magnitudes, strict=True)]
    return compare_any(y, expected, tols, None if values_only else claim.result_dtype(dtype))


def _default(op: str, arrays: Mapping[str, Any], params: Mapping[str, Any]) -> Any:
    return as_float64(oracle(op, arrays, params))


def _declined(suite: Suite, op: str, reason: str) -> str:
    """Record a call the adapter declined with Unsupported(``reason``)."""
    suite.last_unsupported = reason
    suite.records.add_unsupported(op, reason)
    return "unsupported"


def _claim_for(entries: list[registry.Entry], called: Called
               ) -> tuple[registry.Claim, list[str]]:
    """The claim that applies to what the backend did, and the ids of the entries that
    make it: each entry explains what it claims.

    An exception, Unsupported or crash is explained by the entry that claims it; values
    by an excluded claim if one matches, else by the value claims combined (their
    overrides must agree, their models apply in order). When nothing fits, the first
    claim stands, and the judge reports the difference.

    Raises
    ------
    ValueError
        When value claims disagree on an override.
    """
    claims = [(e.claim, e.id) for e in entries if e.claim is not None]
    if called.y is None:
        seen = [(c, i) for c, i in claims if called.as_claimed(c)]
        if seen:
            return seen[0][0], [i for c, i in seen if c == seen[0][0]]
    for form in ("excluded", "values"):
        chosen = [(c, i) for c, i in claims if c.form == form]
        if chosen:
            return (registry.merge([c for c, _ in chosen], [i for _, i in chosen]),
                    [i for _, i in chosen])
    return claims[0][0], [i for c, i in claims if c == claims[0][0]]


def _unregistered(suite: Suite, test: str, op: str, text: str) -> AssertionError:
    suite.records.add_unregistered(test, op, text.splitlines()[0])
    return AssertionError(f"UNREGISTERED DIFFERENCE: {suite.name} {suite.version} {op}: {text}")


def judge(suite: Suite, op: str, arrays: Mapping[str, Any], params: Mapping[str, Any],
          dtype: str, fill: str, called: Called, repro: Callable[[Any], str],
          test: str = "") -> str:
    """Judge what the backend did on one case, registry applied; a call the oracle
    rejects goes to :func:`judge_invalid`.

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
    try:
        default = [_default(op, arrays, params)]
    except (ValueError, TypeError) as exc:  # bad input: the oracle's default is to reject
        return judge_invalid(suite, op, arrays, params, dtype, fill, called, repro, exc, test)
    entries = matching_entries(suite, op, arrays, params, dtype, fill)
    suite.last_entries = ", ".join(e.id for e in entries)
    ids = [e.id for e in entries]
    if not entries:
        return _judge_default(suite, op, arrays, params, dtype, called, repro, test, default)
    try:
        claim, ids = _claim_for(entries, called)
    except ValueError as exc:
        raise AssertionError(f"registry: {exc}{repro(None)}") from exc
    tally = suite.records.add_entry_case
    if claim.form == "excluded":
        for i in ids:
            tally(i, "excluded")
        suite.records.add_excluded(op)
        return "excluded"
    if claim.form in ("raises", "unsupported", "crashes"):
        if called.as_claimed(claim):
            for i in ids:
                tally(i, "reproduced")
            suite.records.add_claim_checked(op)
            return "registered"
        if claim.form == "raises" and called.reason is not None:
            return _declined(suite, op, called.reason)
        if called.y is not None and _differs(op, arrays, params, dtype, called.y,
                                             default) is None:
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
        return _declined(suite, op, called.reason)
    if called.error is not None or called.crash is not None:
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
    distinct = any(_differs(op, arrays, params, dtype, e, default, values_only=True)
                   is not None for e in expected) or claim.result_dtype(dtype) != dtype
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
                   repro: Callable[[Any], str], test: str, default: list[np.ndarray]) -> str:
    """A case no entry matches: values must be the oracle's default."""
    __tracebackhide__ = True
    if called.reason is not None:
        return _declined(suite, op, called.reason)
    if called.error is not None or called.crash is not None:
        raise _unregistered(suite, test, op, (
            f"{called.describe()} on a valid call{repro(None)}"))
    suite.records.add_checked(op)
    mismatch = _differs(op, arrays, params, dtype, called.y, default)
    if mismatch is not None:
        raise _unregistered(suite, test, op, (
            f"differs from the oracle and no registry entry explains it.\n"
            f"{mismatch.text}{repro(None)}"))
    return "passed"


def _claimed_mismatch(op: str, arrays: Mapping[str, Any], params: Mapping[str, Any],
                      dtype: str, y: Any, claim: registry.Claim, invalid: bool
                      ) -> Mismatch | None:
    """How ``y`` differs from what a values ``claim`` says (None if it agrees). For bad
    input (``invalid``) the bound is the whole-array one: the call has no geometry."""
    expected = claim.expected(op, arrays, params, dtype)
    if not invalid:
        return _differs(op, arrays, params, dtype, y, expected, claim)
    tols = [whole_array_tolerance(op, arrays, dtype, e, claim.accumulation) for e in expected]
    return compare_any(y, expected, tols, claim.result_dtype(dtype))


def judge_invalid(suite: Suite, op: str, arrays: Mapping[str, Any],
                  params: Mapping[str, Any], dtype: str, fill: str, called: Called,
                  repro: Callable[[Any], str], rejection: BaseException, test: str = ""
                  ) -> str:
    """Judge what the backend did on a call the oracle rejects (``rejection``).

    The oracle's default is to reject: the backend must raise (any exception; an
    Unsupported counts as declining and is recorded as such), unless registry entries
    whose ``when`` matches (``invalid = true`` among the facts) claim what it does
    instead: values (through value models such as ``negative-padding-crops`` or
    ``window-larger-empty``), an exception and message, an Unsupported reason, or values
    that cannot be compared (excluded). A backend that rejects the call where an entry
    claims values (or excluded values) makes that entry stale; an adapter that declines
    it (Unsupported) is recorded as such.

    Returns
    -------
    str
        ``"passed"`` (rejected, as the oracle does), ``"registered"``, ``"unsupported"``
        or ``"excluded"``.

    Raises
    ------
    AssertionError
        Values returned where the oracle rejects the call and no entry claims them
        (UNREGISTERED DIFFERENCE), behaviour neither claimed nor the default, or a stale
        entry; with the reproducer.
    """
    __tracebackhide__ = True
    entries = matching_entries(suite, op, arrays, params, dtype, fill)
    suite.last_entries = ", ".join(e.id for e in entries)
    ids = [e.id for e in entries]
    why = f"the oracle rejects the call ({type(rejection).__name__}: {rejection})"
    if not entries:
        if called.reason is not None:
            return _declined(suite, op, called.reason)
        if called.error is not None:
            suite.records.add_checked(op)
            return "passed"
        if called.crash is not None:
            raise _unregistered(suite, test, op, (
                f"{called.describe()} where {why}, and no registry entry explains it (a "
                f"crash ends the user's process: it is not a rejection).{repro(None)}"))
        shape = getattr(called.y, "shape", "?")
        raise _unregistered(suite, test, op, (
            f"returned values (shape {shape}) where {why}, and no registry entry explains "
            f"it.{repro(None)}"))
    try:
        claim, ids = _claim_for(entries, called)
    except ValueError as exc:
        raise AssertionError(f"registry: {exc}{repro(None)}") from exc
    tally = suite.records.add_entry_case
    if claim.form in ("raises", "unsupported", "crashes"):
        if called.as_claimed(claim):
            for i in ids:
                # an exception rejects the call as the oracle does; a crash does not
                tally(i, "indistinct" if claim.form != "crashes" else "reproduced")
            suite.records.add_claim_checked(op)
            return "registered"
        raise _unregistered(suite, test, op, (
            f"{why}; registry entries {', '.join(ids)} claim it {claim.describe()}, but the "
            f"backend {called.describe()}.{repro(None)}"))
    if called.reason is not None:  # the adapter declines: nothing to judge the claim by
        return _declined(suite, op, called.reason)
    if called.crash is not None:
        raise _unregistered(suite, test, op, (
            f"{why}; registry entries {', '.join(ids)} claim it {claim.describe()}, but the "
            f"backend {called.describe()}.{repro(None)}"))
    if called.error is not None:
        for i in ids:
            tally(i, "stale")
        raise AssertionError(
            f"STALE REGISTRY ENTRY {', '.join(ids)}: {suite.name} {suite.version} now "
            f"rejects a call the oracle rejects ({called.describe()}), where the entry claims "
            f"it {claim.describe()}. Update or remove the entry.{repro(None)}")
    if claim.form == "excluded":
        for i in ids:
            tally(i, "excluded")
        suite.records.add_excluded(op)
        return "excluded"
    try:
        mismatch = _claimed_mismatch(op, arrays, params, dtype, called.y, claim, True)
    except (ValueError, TypeError) as exc:
        raise AssertionError(f"registry entries {ids}: the claim {claim.describe()} cannot "
                             f"be computed on this bad input: {exc}{repro(claim)}") from exc
    suite.records.add_checked(op)
    if mismatch is None:
        for i in ids:
            tally(i, "reproduced")
        return "registered"
    raise _unregistered(suite, test, op, (
        f"{why}; it matches registry entries {', '.join(ids)}, but the values agree not "
        f"with their claim ({claim.describe()}).\nagainst the claim: {mismatch.text}"
        f"{repro(claim)}"))


def outcome(suite: Suite, result: str, what: str) -> None:
    """Show a fixed case's result in pytest's outcome: skip with the Unsupported reason,
    xfail naming the registry entries; nothing when it passed."""
    if result == "unsupported":
        pytest.skip(f"Unsupported ({what}): {suite.last_unsupported}")
    if result in ("registered", "excluded"):
        pytest.xfail(f"registered discrepancy ({what}): {suite.last_entries}")


def require_op(suite: Suite, op: str) -> None:
    """Skip the test as Unsupported when the backend lacks the optional method ``op``
    (the backward passes: ``conv_vjp``, ``max_pool_vjp``, ``avg_pool_vjp``)."""
    if not callable(getattr(suite.backend, op, None)):
        reason = f"the backend has no {op} (no backward pass)"
        suite.records.add_unsupported(op, reason)
        pytest.skip(f"Unsupported ({op}): {reason}")


def check_case(suite: Suite, case: Case, test: str = "") -> str:
    """Run one property case on the backend and judge it (see :func:`judge`); in a worker
    process when a matching entry claims the call crashes (:func:`crash_claimed`)."""
    __tracebackhide__ = True
    arrays = make_arrays(case)
    suite.records.cases_run[suite.records.current_test] += 1

    def repro(claim: registry.Claim | None) -> str:
        return reproducer(case, suite.spec, claim)

    isolated = crash_claimed(suite, case.op, arrays, case.params, case.dtype, case.fill)
    called = call_backend(suite, case.op, arrays, case.params, isolated=isolated)
    return judge(suite, case.op, arrays, case.params, case.dtype, case.fill, called, repro,
                 test)


def crash_claimed(suite: Suite, op: str, arrays: Mapping[str, Any], params: Mapping[str, Any],
                  dtype: str, fill: str) -> bool:
    """Whether an entry matching the call claims that it crashes (kills its process or
    never returns): such a call runs in a worker process, where that is observed."""
    return any(e.claim is not None and e.claim.form == "crashes"
               for e in matching_entries(suite, op, arrays, params, dtype, fill))


def check_arrays(suite: Suite, op: str, arrays: Mapping[str, Any], params: Mapping[str, Any],
                 dtype: str, test: str = "") -> str:
    """:func:`check_case` for literal arrays (seed examples, fixed cases)."""
    __tracebackhide__ = True

    def repro(claim: registry.Claim | None) -> str:
        return reproducer_for_arrays(op, arrays, params, dtype, suite.spec)

    isolated = crash_claimed(suite, op, arrays, params, dtype, "reproducer")
    called = call_backend(suite, op, arrays, params, isolated=isolated)
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
    suite = reproducer_suite(suite, entry)
    call = registry.reproducer_call(entry)
    text = reproducer_for_arrays(call.op, call.arrays, call.params, call.dtype, suite.spec)
    called = call_backend(suite, call.op, call.arrays, call.params,
                          isolated=entry.claim is not None and entry.claim.form == "crashes")
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
    holds, why = claim_holds(claim, call, called, invalid=default is None)
    if not holds:
        suite.records.add_reproducer(entry.id, "broken")
        raise ClaimBroken(f"registry entry {entry.id} claims the backend "
                          f"{claim.describe()}, but {why}{text}")
    suite.records.add_reproducer(entry.id, "reproduced")
    raise AssertionError(f"registered discrepancy {entry.id} reproduces: {detail}{text}")


def reproducer_suite(suite: Suite, entry: registry.Entry) -> Suite:
    """The suite that runs ``entry``'s reproducer: ``suite`` itself, or, when the
    reproducer names another variant of the running built-in backend, the same backend
    loaded under that variant in this process (its records stay the run's)."""
    variant = (entry.reproducer or {}).get("variant")
    if variant is None or variant == suite.variant:
        return suite
    spec = key(suite.name, variant)
    return dataclasses.replace(suite, backend=load(spec), spec=spec, variant=variant)


def claim_holds(claim: registry.Claim, call: registry.ReproducerCall, called: Called,
                invalid: bool = False) -> tuple[bool, str]:
    """Whether the backend's behaviour on a reproducer is what ``claim`` says, and why
    not (``invalid``: the oracle rejects the call)."""
    if claim.form == "excluded":
        return called.y is not None, f"the backend {called.describe()}"
    if claim.form in ("raises", "unsupported", "crashes"):
        return called.as_claimed(claim), f"the backend {called.describe()}"
    if called.y is None:
        return False, f"the backend {called.describe()}"
    mismatch = _claimed_mismatch(call.op, call.arrays, call.params, call.dtype, called.y,
                                 claim, invalid)
    return mismatch is None, "" if mismatch is None else mismatch.text


__all__ = ["Called", "ClaimBroken", "Suite", "call_backend", "call_op", "check_arrays",
           "check_case", "check_reproducer", "claim_holds", "judge", "judge_invalid",
           "matching_entries", "numpy_dtype", "oracle", "outcome", "reproducer_suite",
           "require_op"]
