"""The suite evidence of each backend in the committed report: framework version, registry
entries re-checked (their reproducers run as strict expected failures) and their status,
Unsupported reasons. Built from the published suite documents (:func:`report.cpu.publish`):
no counts, nothing that depends on the CPU; those are in :mod:`report.evidence`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import registry
from report.cpu import CPU_REASON, MARKER, condition
from report.evidence import EVIDENCE
from report.model import Block, Bullets, Code, Link, Paragraph, Strong, Table, heading, slug

#: Registry statuses in the order the summary table shows them, with its column headers.
STATUSES = {"reproduced": "entries reproduced", "not-exercised": "not exercised",
            "stale": "stale", MARKER: "depend on the CPU"}


def summary_table(suites: Mapping[str, Mapping[str, Any]]) -> Table:
    """One row per backend: version, and its registry entries by status."""
    rows = []
    for backend, doc in suites.items():
        statuses = [s["status"] for s in doc["registry"].values()]
        rows.append((Link(backend, "#" + slug(f"suite: {backend}")), doc["version"] or "n/a",
                     *(str(statuses.count(s)) for s in STATUSES)))
    header = ("backend", "version", *STATUSES.values())
    return Table(header, tuple(rows))


def backend_blocks(backend: str, doc: Mapping[str, Any],
                   entries: Mapping[str, registry.Entry]) -> list[Block]:
    """The details of one backend's published suite document: registry entries, Unsupported
    reasons, tests that compared nothing, unregistered differences."""
    blocks: list[Block] = [
        heading(3, f"suite: {backend}"),
        Paragraph((Strong("version"), f" {doc['version'] or 'n/a'} · ",
                   Strong("hypothesis profile"), f" {doc.get('hypothesis_profile') or 'n/a'}")),
    ]
    if doc["registry"]:
        rows = []
        for i, s in sorted(doc["registry"].items()):
            if s["status"] == MARKER:
                where = condition(entries[i].cpu) if i in entries else "some CPUs"
                rows.append((Link(i, "#" + i), f"depends on the CPU (applies on {where})", ""))
            else:
                rows.append((Link(i, "#" + i), s["status"], s["reproducer"]))
        blocks += [Paragraph(("Registry entries (a reproducer ", Code("reproduced"),
                              " is a strict expected failure, XFAIL):")),
                   Table(("entry", "status", "reproducer"), tuple(rows))]
    reasons = [(op, r) for op, rs in sorted(doc["unsupported"].items()) for r in rs]
    if reasons:
        blocks += [Paragraph("Cases the backend declines (Unsupported), by reason:"),
                   Table(("op", "reason"), tuple((op, Code(r)) for op, r in reasons))]
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


def section(suites: Mapping[str, Mapping[str, Any]],
            entries: Mapping[str, registry.Entry]) -> list[Block]:
    """The suite evidence of every backend, in the given order."""
    blocks: list[Block] = [
        heading(2, "Suite evidence per backend"),
        Paragraph("The hypothesis conformance suite compares each backend with the oracle on "
                  "generated cases (derandomized, so every run draws the same ones). A case a "
                  "registry entry matches is compared with the oracle called as the entry "
                  "says the framework behaves, or left out when the entry gives no such rule; "
                  "each entry's reproducer runs as a strict expected failure."),
        Paragraph(("Some capabilities depend on the CPU: an adapter that declines a case "
                   "because the framework has no kernel for it on this instruction set says ",
                   Code(CPU_REASON), " in its reason, and a registry entry with a CPU "
                   "condition applies only on the CPUs it names. Such reasons and such "
                   "entries' outcomes, like the counts of tests and compared cases, differ "
                   "between machines and are left out here; ", Code("python -m report build"),
                   " prints the counts and writes all of it to ", Code(EVIDENCE),
                   " (not committed).")),
        summary_table(suites),
    ]
    for backend, doc in suites.items():
        blocks += backend_blocks(backend, doc, entries)
    return blocks
