"""The summary matrix: each probe verdict classified (with the kind of the registry entry
that explains it), then tallied per topic and framework API (the probe record's
``column``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from report.model import MARKER, Code, Inline

#: Cell classes, most telling first: a cell shows its most telling class.
CLASSES = ("deviation", "errors", "convention", "unsupported", MARKER, "follows")
LABELS = {"follows": "follows the oracle's default",
          "deviation": "deviates (values no documented convention gives)",
          "convention": "another convention (documented; the oracle has it as an option)",
          "unsupported": "unsupported (raises for a missing feature)",
          "errors": "errors (raises where the oracle computes, or crashes)",
          MARKER: "depends on the CPU (a registry entry with a CPU condition explains what "
                  "it gives)"}
SYMBOLS = {"follows": "✓", "deviation": "≠", "convention": "⇄", "unsupported": "⊘",
           "errors": "✗", MARKER: "◐"}
#: Shown where a framework API has no probe for a topic.
NO_PROBE = "·"


def classify(verdict: str, kind: str | None = None) -> str:
    """The matrix class of a probe verdict (see :mod:`probes` for the verdicts, and
    :data:`report.model.MARKER` for a probe whose result depends on the CPU). A verdict
    other than the oracle's values is a ``convention`` where the registry entry that
    explains it (of kind ``kind``) is one, or where there is no such entry and the probe
    followed a named candidate; else a ``deviation``.

    Raises
    ------
    ValueError
        For a verdict the report does not know.
    """
    if verdict == "follows-oracle":
        return "follows"
    if verdict.startswith("follows:") or verdict == "differs":
        named = verdict != "differs" if kind is None else kind == "convention"
        return "convention" if named else "deviation"
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
    entries: tuple[str, ...] = ()

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


def probe_key(probe: Mapping[str, Any]) -> str:
    """A probe's id, unique across backends: ``<backend>/<api>:<case>`` (the two Keras
    backends call the same APIs on the same cases)."""
    return f"{probe['backend']}/{probe['id']}"


def columns_of(probes: Iterable[dict[str, Any]]) -> tuple[str, ...]:
    """Framework API columns in order of first appearance."""
    return tuple(dict.fromkeys(p["column"] for p in probes))


def build(probes: Sequence[dict[str, Any]], topics: Sequence[str],
          kinds: Mapping[str, str] | None = None) -> Matrix:
    """Tally ``probes`` (probe records) into a matrix, with ``kinds`` the kind of each
    registry entry by id. Rows are ``topics`` in order, then any other topic the records
    use, sorted. A cell keeps the probes' keys (:func:`probe_key`) and the registry
    entries they name."""
    kinds = kinds or {}
    extra = sorted({p["topic"] for p in probes} - set(topics))
    counts: dict[tuple[str, str], Counter[str]] = {}
    ids: dict[tuple[str, str], list[str]] = {}
    entries: dict[tuple[str, str], list[str]] = {}
    for p in probes:
        key = (p["topic"], p["column"])
        counts.setdefault(key, Counter())[classify(p["verdict"], kinds.get(p["registry"]))] += 1
        ids.setdefault(key, []).append(probe_key(p))
        if p["registry"]:
            entries.setdefault(key, []).append(p["registry"])
    cells = {k: Cell(dict(sorted(c.items())), tuple(ids[k]),
                     tuple(dict.fromkeys(entries.get(k, ())))) for k, c in counts.items()}
    return Matrix(tuple(topics) + tuple(extra), columns_of(probes), cells)


def case_grid(probes: Sequence[Mapping[str, Any]], cases: Sequence[str],
              columns: Sequence[str], show: Callable[[list[Mapping[str, Any]]], Inline]
              ) -> tuple[tuple[Inline, ...], ...]:
    """Rows of ``cases`` × ``columns``: the case, then per column ``show`` of its probes
    of that case, or :data:`NO_PROBE` where it has none."""
    rows = []
    for case in cases:
        found = [[p for p in probes if p["case"] == case and p["column"] == c] for c in columns]
        rows.append((Code(case), *(show(ps) if ps else NO_PROBE for ps in found)))
    return tuple(rows)
