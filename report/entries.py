"""One section per registry entry: what differs, who does what, the source, reproducers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import registry
from report.cpu import MARKER, condition
from report.evidence import EVIDENCE
from report.matrix import SYMBOLS, classify
from report.model import (
    Block,
    Code,
    CodeBlock,
    Heading,
    Inline,
    Link,
    Paragraph,
    Strong,
    Table,
)
from report.reproducers import Reproducer, for_entry, linked
from report.text import linkify, outcome_text, verdict_text


def _short(verdict: str) -> str:
    sym = SYMBOLS[classify(verdict)]
    return f"{sym} {verdict.removeprefix('follows:')}" if verdict.startswith("follows:") else sym


def who_does_what(entry_id: str, probes: Sequence[Mapping[str, Any]],
                  columns: Sequence[str]) -> Table | None:
    """Cases linked to the entry × every framework API: each probe's verdict, in bold where
    this entry explains it, linked where another entry does."""
    cases = list(dict.fromkeys(p["case"] for p in linked(entry_id, probes)))
    if not cases:
        return None
    rows = []
    for case in cases:
        row: list[Inline] = [Code(case)]
        for column in columns:
            cell: list[Inline] = []
            for p in (p for p in probes if p["case"] == case and p["column"] == column):
                text = _short(p["verdict"])
                if p["registry"] == entry_id:
                    cell.append(Strong(text))
                elif p["registry"]:
                    cell.append(Link(text, "#" + p["registry"]))
                else:
                    cell.append(text)
                cell.append(" ")
            row.append(tuple(cell[:-1]) if cell else "·")
        rows.append(tuple(row))
    return Table(("case", *columns), tuple(rows))


def probe_details(entry_id: str, probes: Sequence[Mapping[str, Any]]) -> Table | None:
    """The linked probes: verdict, what the framework gave, what the oracle gives."""
    rows = tuple(
        (Code(p["api"]), Code(p["case"]), verdict_text(p["verdict"]),
         Code(outcome_text(p["observed"])), Code(outcome_text(p["candidates"]["oracle"])))
        for p in linked(entry_id, probes))
    if not rows:
        return None
    return Table(("API", "case", "verdict", "gives", "the oracle's default gives"), rows)


def _suite_keys(entry: registry.Entry, suites: Mapping[str, Any]) -> list[str]:
    """The records keys of the backends the entry lists, each followed by its variants'
    (``torch``, ``torch[channels_last]``, ...)."""
    return [key for b in entry.backends
            for key in (b, *(k for k in suites if k.startswith(f"{b}[")))]


def suite_table(entry: registry.Entry, suites: Mapping[str, Mapping[str, Any]]) -> Table | None:
    """How the suite run of each backend the entry lists, and of its variants, treated it
    (published suite documents: an entry with a CPU condition has the status
    :data:`report.cpu.MARKER`)."""
    rows = []
    for backend in _suite_keys(entry, suites):
        doc = suites.get(backend)
        status = (doc or {}).get("registry", {}).get(entry.id)
        if status is None:
            rows.append((backend, (doc or {}).get("version") or "", "not in the records", ""))
        elif status["status"] == MARKER:
            rows.append((backend, doc["version"] or "n/a", "depends on the CPU", ""))
        else:
            rows.append((backend, doc["version"] or "n/a", status["status"],
                         status["reproducer"]))
    if not rows:
        return None
    return Table(("suite backend", "version", "status", "reproducer"), tuple(rows))


def _unshown(entry: registry.Entry, suites: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Why no record of the run shows ``entry`` (which has no linked probe), if none does.
    Nothing for an entry with a CPU condition: whether a run shows it depends on the
    machine, and its section says so."""
    if entry.cpu:
        return []
    found = [(suites.get(b) or {}).get("registry", {}).get(entry.id, {})
             for b in _suite_keys(entry, suites)]
    statuses = sorted({f.get("status", "absent") for f in found})
    if "reproduced" in statuses:
        return []
    seen = f" (suite status: {', '.join(statuses)})" if statuses else ""
    return [f"{entry.id}: no record of this run shows it{seen}"]


def reproducer_blocks(r: Reproducer, versions: Mapping[str, str]) -> list[Block]:
    """A reproducer with its heading line, and what it printed (or what the oracle gives)."""
    where = f"case {r.case}" if r.case else "the registry's reproducer"
    head: list[Inline] = [Strong(r.column), " — ", Code(r.api), f", {where}"]
    if versions.get(r.backend):
        head.append(f" ({versions[r.backend]})")
    blocks: list[Block] = [Paragraph((*head, ":")), CodeBlock(r.code)]
    if r.observed is not None and "depends_on_cpu" in r.observed:
        blocks.append(Paragraph("What it gives depends on the CPU (the entry's condition, "
                                "above)."))
    elif r.observed is not None:
        if "exception" in r.observed or "crash" in r.observed:
            blocks.append(Paragraph(("In this run it ", "raised " if "exception" in r.observed
                                     else "", Code(outcome_text(r.observed)), ".")))
        elif r.observed.get("printed"):
            blocks += [Paragraph("In this run it printed:"),
                       CodeBlock(r.observed["printed"], "text")]
        else:
            blocks.append(Paragraph(("In this run it gave ", Code(outcome_text(r.observed)),
                                     ".")))
    blocks.append(Paragraph(("The oracle's default gives ", Code(outcome_text(r.oracle)),
                             ".")))
    return blocks


def section(entry: registry.Entry, probes: Sequence[Mapping[str, Any]],
            suites: Mapping[str, Mapping[str, Any]], columns: Sequence[str],
            versions: Mapping[str, str]) -> tuple[list[Block], list[str]]:
    """The entry's section, and notes on reproducers that could not be given."""
    raw = entry.raw
    facts: list[Inline] = [Strong("kind"), f" {entry.kind} · ", Strong("op"), f" {entry.op} · ",
                           Strong("API"), " ", Code(str(raw["api"])), " · ",
                           Strong("frameworks"), " " + ", ".join(raw["frameworks"])]
    if entry.backends:
        facts += [" · ", Strong("suite backends"), " " + ", ".join(entry.backends)]
    if entry.cpu:
        facts += [" · ", Strong("CPU"), " applies on " + condition(entry.cpu)]
    blocks: list[Block] = [
        Heading(4, entry.id, entry.id),
        Paragraph(Strong(entry.summary)),
        Paragraph(tuple(facts)),
        Paragraph(linkify(" ".join(str(raw["description"]).split()))),
        Paragraph(("Source: ", Link(str(raw["source"]), str(raw["source"])))),
    ]
    if raw.get("notes"):
        blocks.append(Paragraph(("Notes: ", *linkify(" ".join(str(raw["notes"]).split())))))
    if entry.cpu:
        blocks.append(Paragraph((
            f"This entry applies on {condition(entry.cpu)}. Whether a run shows it depends on "
            "the CPU it runs on, so this report gives its reproducers and its condition but "
            "not one machine's results; ", Code("python -m report build"), " writes those of "
            "the machine it runs on to ", Code(EVIDENCE), " (not committed).")))
    if entry.claim is not None:
        blocks.append(Paragraph(("Claim, checked on every case the entry matches: ",
                                 Code(entry.claim.describe()), ".")))
    grid = who_does_what(entry.id, probes, columns)
    if grid is not None:
        blocks += [Paragraph(Strong("Who does what")), grid]
    details = probe_details(entry.id, probes)
    if details is not None:
        blocks.append(details)
    suite = suite_table(entry, suites)
    if suite is not None:
        blocks += [Paragraph(Strong("In the conformance suite")), suite]
    reproducers, notes = for_entry(entry, probes)
    if reproducers:
        blocks.append(Paragraph(Strong("Reproducers")))
        for r in reproducers:
            blocks += reproducer_blocks(r, versions)
    if grid is None:
        notes += _unshown(entry, suites)
    for note in notes:
        blocks.append(Paragraph(("⚠ ", note.split(": ", 1)[1] + ".")))
    return blocks, notes
