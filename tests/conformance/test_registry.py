"""Registered discrepancies of the running backend, each re-checked on every run.

``test_registered_discrepancy_reproduces`` runs an entry's reproducer as a strict expected
failure: it XFAILs only when the backend does exactly what the entry claims (the values,
the exception and its message, or the Unsupported reason) and that differs from the
oracle's default. When the backend starts to follow the default, XPASS(strict) fails the
run and names the entry as stale; when it does something else, the test fails with what
it did. An entry whose version bounds the installed framework does not meet runs its
reproducer as a plain test instead: it fails if the entry reproduces there.
"""

from __future__ import annotations

import pytest

import registry
from reference.dtypes import HAS_BFLOAT16
from tests.support.checks import ClaimBroken, check_arrays, check_reproducer, oracle


def _entries_or_none() -> list[registry.Entry]:
    """The entries, or none when the registry is malformed (test_registry_is_valid says
    why)."""
    try:
        return registry.load()
    except registry.RegistryError:
        return []


def test_registry_is_valid():
    entries = registry.load()
    assert len({e.id for e in entries}) == len(entries)


@pytest.mark.parametrize("entry", [pytest.param(e, id=e.id) for e in _entries_or_none()
                                   if e.reproducer is not None])
def test_registry_reproducer_is_well_formed(entry):
    """Every reproducer builds, and the oracle accepts it (and the entry's value claim
    computes on it), unless the entry is about bad input."""
    if entry.reproducer.get("dtype") == "bfloat16" and not HAS_BFLOAT16:
        pytest.skip("bfloat16 needs ml_dtypes")
    call = registry.reproducer_call(entry)
    if entry.kind == "error-behaviour" or entry.topic == "bad-input" or entry.when.get(
            "invalid"):
        return
    oracle(call.op, call.arrays, call.params)
    if entry.claim is not None and entry.claim.form == "values":
        entry.claim.expected(call.op, call.arrays, call.params, call.dtype)


def test_registered_discrepancy_reproduces(suite, registered_entry):
    bounds = suite.records.outside.get(registered_entry.id)
    if not bounds:
        check_reproducer(suite, registered_entry)
        return
    # outside its version bounds the entry does not apply: the backend must not do what
    # it claims there (else the bounds are too narrow); it follows the default, or does
    # something else again that the entries bounded to this release explain
    try:
        check_reproducer(suite, registered_entry)
    except ClaimBroken:
        call = registry.reproducer_call(registered_entry)
        check_arrays(suite, call.op, call.arrays, call.params, call.dtype)
        return
    except AssertionError as exc:
        raise AssertionError(
            f"registry entry {registered_entry.id} is bounded to {', '.join(bounds)} yet "
            f"reproduces on {suite.name} {suite.version}: widen its versions bounds\n{exc}"
        ) from None
