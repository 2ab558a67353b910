"""The suite evidence of each backend: cases compared, test outcomes, registry entries
re-checked (their reproducers run as strict expected failures), Unsupported reasons."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from report.model import Block, Bullets, Code, Link, Paragraph, Strong, Table, heading

OUTCOMES = ("passed", "failed", "xfailed", "xpassed", "skipped", "unsupported", "error")
OPS = ("conv", "max_pool", "avg_pool")


def summary_table(suites: Mapping[str, Mapping[str, Any]]) -> Table:
    """One row per backend: version, cases compared per op, test outcomes."""
    rows = []
    for backend, doc in suites.items():
        checked, counts = doc["cases_checked"], doc["counts"]
        rows.append((Link(backend, f"#suite-{backend}"), doc["version"] or "n/a",
                     *(str(checked.get(op, 0)) for op in OPS),
                     *(str(counts.get(k, 0)) for k in OUTCOMES)))
    header = ("backend", "version", *(f"{op} cases" for op in OPS), *OUTCOMES)
    return Table(header, tuple(rows))


def backend_blocks(backend: str, doc: Mapping[str, Any]) -> list[Block]:
    """The details of one backend's suite records: registry entries, Unsupported reasons,
    tests that compared nothing, unregistered differences."""
    blocks: list[Block] = [
        heading(3, f"suite: {backend}"),
        Paragraph((Strong("version"), f" {doc['version'] or 'n/a'} · ",
                   Strong("hypothesis profile"), f" {doc.get('hypothesis_profile') or 'n/a'}")),
    ]
    entries = doc["registry"]
    if entries:
        rows = tuple(
            (Link(i, "#" + i), s["status"], s["reproducer"],
             *(str(s.get("cases", {}).get(t, 0)) for t in ("matched", "reproduced", "excluded")))
            for i, s in sorted(entries.items()))
        blocks += [Paragraph(("Registry entries (a reproducer ", Code("reproduced"),
                              " is a strict expected failure, XFAIL):")),
                   Table(("entry", "status", "reproducer", "cases matched",
                          "followed behaves_as", "excluded"), rows)]
    reasons = [(op, r["reason"], r["count"]) for op, rs in sorted(doc["unsupported"].items())
               for r in rs]
    if reasons:
        blocks += [Paragraph("Cases the backend declines (Unsupported), by reason:"),
                   Table(("op", "reason", "cases"),
                         tuple((op, Code(reason), str(n)) for op, reason, n in reasons))]
    if doc["tests_all_unsupported"]:
        blocks += [Paragraph("Property tests that compared nothing (every case Unsupported):"),
                   Bullets(tuple(Code(t) for t in doc["tests_all_unsupported"]))]
    if doc["unregistered"]:
        blocks += [Paragraph(Strong("Unregistered differences:")),
                   Bullets(tuple((Code(u.get("test", "")), f" ({u.get('op')}): ",
                                  str(u.get("difference", "")).splitlines()[0]
                                  if u.get("difference") else "")
                                 for u in doc["unregistered"]))]
    return blocks


def section(suites: Mapping[str, Mapping[str, Any]]) -> list[Block]:
    """The suite evidence of every backend, in the given order."""
    blocks: list[Block] = [
        heading(2, "Suite evidence per backend"),
        Paragraph("The hypothesis conformance suite compares each backend with the oracle on "
                  "generated cases (derandomized, so every run draws the same ones). A case a "
                  "registry entry matches is compared with the oracle called as the entry "
                  "says the framework behaves, or left out when the entry gives no such rule; "
                  "each entry's reproducer runs as a strict expected failure."),
        summary_table(suites),
    ]
    for backend, doc in suites.items():
        blocks += backend_blocks(backend, doc)
    return blocks
