"""Registered discrepancies of the running backend, each re-checked on every run.

``test_registered_discrepancy_reproduces`` runs an entry's reproducer against the oracle's
default as a strict expected failure: while the framework still differs it XFAILs; when
it starts to agree, XPASS(strict) fails the run and names the entry as stale.
``test_registered_behaviour_holds`` checks the entry's own claim: with ``behaves_as``
applied, the oracle reproduces what the framework returns.
"""

from __future__ import annotations

import pytest

from tests.support import registry
from tests.support import strategies as sts
from tests.support.checks import check_behaves_as, check_reproducer, oracle


def _entries_or_none() -> list[registry.Entry]:
    """The entries, or none when the file is malformed (test_registry_is_valid says why)."""
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
    """Every reproducer builds, and the oracle accepts it (with ``behaves_as`` too),
    unless the entry is about bad input."""
    if entry.reproducer.get("dtype") == "bfloat16" and "bfloat16" not in sts.FLOAT_DTYPES:
        pytest.skip("bfloat16 needs ml_dtypes")
    call = registry.reproducer_call(entry, sts.numpy_dtype)
    if entry.kind == "error-behaviour" or entry.topic == "bad-input":
        return
    oracle(call.op, call.arrays, call.params)
    if entry.behaves_as is not None:
        oracle(call.op, call.arrays, {**call.params, **entry.behaves_as})


def test_registered_discrepancy_reproduces(suite, registered_entry):
    check_reproducer(suite, registered_entry)


def test_registered_behaviour_holds(suite, described_entry):
    if check_behaves_as(suite, described_entry) == "unsupported":
        pytest.skip(f"Unsupported on the reproducer of {described_entry.id}")
