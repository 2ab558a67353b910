"""Version bounds of registry entries: ``versions = { torch = ">=2.9" }``.

A bound is one or more comma-separated clauses ``<op><release>``, ``op`` one of ``>=``,
``>``, ``<=``, ``<``, ``==``, ``!=`` and ``release`` dot-separated integers
(``">=2.9, <2.15"``). An installed version is compared by its release numbers alone:
``2.13.0+cpu`` and ``1.8.0.post0`` count as ``2.13.0`` and ``1.8.0``, and missing trailing
numbers count as zeros (``2.9`` is ``2.9.0``).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable

__all__ = ["bound_problem", "release", "satisfies"]

_OPS: dict[str, Callable[[tuple[int, ...], tuple[int, ...]], bool]] = {
    ">=": operator.ge, "<=": operator.le, "==": operator.eq, "!=": operator.ne,
    ">": operator.gt, "<": operator.lt}
_CLAUSE = re.compile(r"\s*(>=|<=|==|!=|>|<)\s*(\d+(?:\.\d+)*)\s*")
_RELEASE = re.compile(r"\d+(?:\.\d+)*")


def release(version: str) -> tuple[int, ...] | None:
    """The release numbers at the start of ``version`` (None when it has none)."""
    found = _RELEASE.match(version.strip())
    return tuple(int(p) for p in found.group().split(".")) if found else None


def _padded(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    n = max(len(a), len(b))
    return a + (0,) * (n - len(a)), b + (0,) * (n - len(b))


def bound_problem(bound: object) -> str | None:
    """Why ``bound`` is not a version bound (None when it is one)."""
    if not isinstance(bound, str) or not bound.strip():
        return f"a bound is a string such as '>=2.9' or '>=2.9, <2.15', got {bound!r}"
    bad = [c for c in bound.split(",") if not _CLAUSE.fullmatch(c)]
    if bad:
        return (f"{bound!r}: each clause is an operator ({', '.join(_OPS)}) and a release "
                f"of dot-separated integers, got {bad[0].strip()!r}")
    return None


def satisfies(version: str, bound: str) -> bool:
    """Whether installed ``version`` meets every clause of ``bound``; a version without
    release numbers (``"unknown"``) meets every bound, since nothing is known against it.

    Raises
    ------
    ValueError
        When ``bound`` is malformed (:func:`bound_problem`).
    """
    problem = bound_problem(bound)
    if problem is not None:
        raise ValueError(problem)
    have = release(version)
    if have is None:
        return True
    for clause in bound.split(","):
        found = _CLAUSE.fullmatch(clause)
        assert found is not None
        op, want = found.groups()
        left, right = _padded(have, tuple(int(p) for p in want.split(".")))
        if not _OPS[op](left, right):
            return False
    return True
