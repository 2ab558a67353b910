"""Conformance tests: the backend under test against the oracle, case by case.

Run them on one backend with ``python -m pytest tests/conformance --backend NAME`` (a
built-in name) or ``--backend package.module:object`` (a plug-in: any object with
``conv``, ``max_pool`` and ``avg_pool`` taking the oracle's arguments).

What each outcome means:

- passed: the backend agrees with the oracle (exactly where the computation is exact,
  else within the error bound of :mod:`tests.support.tolerances`), or with a registered
  claim of ``registry/entries/*.toml``;
- xfailed: a registered discrepancy applies (its id is the reason);
- skipped "Unsupported (...)": the backend cannot express the case natively; in property
  tests such cases are recorded (``--records``, terminal summary) and the test goes on;
- failed "UNREGISTERED DIFFERENCE" / "STALE REGISTRY ENTRY" / "XPASS(strict)": a new
  difference to register, or an entry the framework no longer needs. The message ends
  with a reproducer to paste into ``python -`` at the repository root.
"""
