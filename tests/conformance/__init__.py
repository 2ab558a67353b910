"""Conformance tests: the backend under test against the oracle, case by case.

Run them on one backend with ``python -m pytest tests/conformance --backend NAME`` (a
built-in name) or ``--backend package.module:object`` (a plug-in: any object with
``conv``, ``max_pool`` and ``avg_pool`` taking the oracle's arguments).

What each outcome means:

- passed: the backend agrees with the oracle (exactly where the computation is exact,
  else within the error bound of :mod:`reference.tolerances`), or rejects a call the
  oracle rejects (``test_bad_input.py``);
- xfailed: a registered discrepancy applies (its id is the reason): the backend does what
  the entry's claim in ``registry/entries/<framework>.toml`` says;
- skipped "Unsupported (...)": the backend cannot express the case natively; in property
  tests such cases are recorded (``--records``, terminal summary) and the test goes on; a
  test whose every case was declined is reported as skipped with the reasons, and a run
  that compared nothing fails;
- failed "UNREGISTERED DIFFERENCE" / "STALE REGISTRY ENTRY" / "XPASS(strict)": a new
  difference to register, or an entry the framework no longer needs. The message ends
  with a reproducer to paste into ``python -`` at the repository root.
"""
