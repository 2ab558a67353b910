"""The summary matrix: each probe verdict classified, then tallied per topic and framework
API (the probe record's ``column``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from report.cpu import MARKER

#: Cell classes, most telling first: a cell shows its most telling class.
CLASSES = ("differs", "errors", "unsupported", MARKER, "follows")
LABELS = {"follows": "follows the oracle's default",
          "differs": "differs (another convention, or other values)",
          "unsupported": "unsupported (raises for a missing feature)",
          "errors": "errors (raises where the oracle computes, or crashes)",
          MARKER: "depends on the CPU (a registry entry with a CPU condition explains what "
                  "it gives)"}
SYMBOLS = {"follows": "✓", "differs": "≠", "unsupported": "⊘", "errors": "✗", MARKER: "◐"}
#: Shown where a framework API has no probe for a topic.
NO_PROBE = "·"


def classify(verdict: str) -> str:
    """The matrix class of a probe verdict (see :mod:`probes` for the verdicts, and
    :data:`report.cpu.MARKER` for a probe whose result depends on the CPU).

    Raises
    ------
    ValueError
        For a verdict the report does not know.
    """
    if verdict == "follows-oracle":
        return "follows"
    if verdict.startswith("follows:") or verdict == "differs":
        return "differs"
    if verdict in ("unsupported", MARKER):
        return verdict
    if verdict in ("raises", "crashes"):
        return "errors"
    raise ValueError(f"unknown probe verdict {verdict!r}")


@dataclass(frozen=True)
class Cell:
    """The probes of one topic on one framework API."""

    counts: dict[str, int] = field(default_factory=dict)
    probes: tuple[str, ...] = ()

    @property
    def cls(self) -> str | None:
        """The most telling class present, or None for no probe."""
        return next((c for c in CLASSES if self.counts.get(c)), None)

    @property
    def total(self) -> int:
        """Number of probes."""
        return sum(self.counts.values())

    def text(self) -> str:
        """Compact text, e.g. ``≠ 1 · ✓ 3``; :data:`NO_PROBE` for no probe."""
        if not self.total:
            return NO_PROBE
        return " · ".join(f"{SYMBOLS[c]} {self.counts[c]}" for c in CLASSES if self.counts.get(c))


@dataclass(frozen=True)
class Matrix:
    """Topics (rows) × framework API columns, with a :class:`Cell` for each pair."""

    topics: tuple[str, ...]
    columns: tuple[str, ...]
    cells: dict[tuple[str, str], Cell]

    def cell(self, topic: str, column: str) -> Cell:
        """The cell of ``topic`` × ``column`` (empty if no probe)."""
        return self.cells.get((topic, column), Cell())


def columns_of(probes: Iterable[dict[str, Any]]) -> tuple[str, ...]:
    """Framework API columns in order of first appearance."""
    return tuple(dict.fromkeys(p["column"] for p in probes))


def build(probes: Sequence[dict[str, Any]], topics: Sequence[str]) -> Matrix:
    """Tally ``probes`` (probe records) into a matrix. Rows are ``topics`` in order, then
    any other topic the records use, sorted."""
    extra = sorted({p["topic"] for p in probes} - set(topics))
    counts: dict[tuple[str, str], Counter[str]] = {}
    ids: dict[tuple[str, str], list[str]] = {}
    for p in probes:
        key = (p["topic"], p["column"])
        counts.setdefault(key, Counter())[classify(p["verdict"])] += 1
        ids.setdefault(key, []).append(p["id"])
    cells = {k: Cell(dict(sorted(c.items())), tuple(ids[k])) for k, c in counts.items()}
    return Matrix(tuple(topics) + tuple(extra), columns_of(probes), cells)
