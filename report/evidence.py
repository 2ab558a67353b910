"""What one machine observed: ``reports/evidence.md`` and the count table that
``python -m report build`` prints. Neither is committed nor checked, as both depend on the
machine: the counts of tests and compared cases, the Unsupported cases per reason, the
status of registry entries with a CPU condition, what the probes that depend on the CPU
gave, and the CPU flags those conditions name."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import registry
from report.model import Block, Code, Paragraph, Table, heading, outcome_text, verdict_text
from report.records import Evidence, condition, cpu_entry, flag_name, gated, is_cpu_reason

OUTCOMES = ("passed", "failed", "xfailed", "xpassed", "skipped", "unsupported", "error")
OPS = ("conv", "max_pool", "avg_pool")
TALLIES = ("matched", "reproduced", "excluded", "stale", "indistinct")
#: The columns of the printed count table.
SHORT = ("passed", "xfailed", "unsupported")


def cases_compared(doc: Mapping[str, Any]) -> int:
    """Cases a backend's suite compared with the oracle, all ops together."""
    return sum(doc["cases_checked"].get(op, 0) for op in OPS)


def count_table(suites: Mapping[str, Mapping[str, Any]]) -> str:
    """Per backend: tests passed, xfailed, declined (Unsupported) and cases compared, as
    plain text with aligned columns."""
    header = ("backend", *SHORT, "cases compared")
    rows = [(b, *(str(d["counts"].get(k, 0)) for k in SHORT), str(cases_compared(d)))
            for b, d in suites.items()]
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                       for i, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip()
             for r in (header, *rows)]
    return "\n".join(lines)


def named_flags(entries: Iterable[registry.Entry]) -> list[str]:
    """Every CPU flag a registry condition names, sorted."""
    out: set[str] = set()
    for e in entries:
        for req in e.cpu:
            out.update(r.lstrip("!") for r in ([req] if isinstance(req, str) else req))
    return sorted(out)


def cpu_blocks(entries: Sequence[registry.Entry], flags: frozenset[str] | None) -> list[Block]:
    """The machine's CPU flags that registry conditions name, and which entries apply."""
    blocks: list[Block] = [heading(2, "CPU")]
    names = named_flags(entries)
    if flags is None:
        blocks.append(Paragraph("The CPU flags of the machine that built this file are unknown "
                                "(/proc/cpuinfo could not be read)."))
    elif names:
        blocks += [Paragraph("The CPU flags the registry's conditions name, on the machine "
                             "that built this file:"),
                   Table(("flag", "this machine"),
                         tuple((flag_name(f), "yes" if f in flags else "no") for f in names))]
    rows = tuple((Code(e.id), condition(e.cpu),
                  "yes" if not e.missing_cpu_flags(flags) else "no")
                 for e in sorted(gated(entries).values(), key=lambda e: e.id))
    if rows:
        blocks.append(Table(("registry entry", "applies on", "applies here"), rows))
    return blocks


def suite_blocks(backend: str, doc: Mapping[str, Any]) -> list[Block]:
    """One backend's registry entries with their case tallies, and every Unsupported
    reason with its count."""
    blocks: list[Block] = [heading(3, f"suite: {backend} {doc['version'] or ''}".rstrip())]
    if doc["registry"]:
        rows = tuple(
            (Code(i), s["status"], s["reproducer"], "; ".join(s.get("cpu_missing", [])),
             *(str(s.get("cases", {}).get(t, 0)) for t in TALLIES))
            for i, s in sorted(doc["registry"].items()))
        blocks.append(Table(("entry", "status", "reproducer", "CPU lacks",
                             *(f"cases {t}" for t in TALLIES)), rows))
    reasons = [(op, r["reason"], r["count"]) for op, rs in sorted(doc["unsupported"].items())
               for r in rs]
    if reasons:
        blocks.append(Table(("op", "reason", "cases", "depends on the CPU"),
                            tuple((op, Code(reason), str(n), "yes" if is_cpu_reason(reason)
                                   else "") for op, reason, n in reasons)))
    return blocks


def probe_table(evidence: Evidence, entries: Sequence[registry.Entry]) -> list[Block]:
    """What each probe that depends on the CPU gave on this machine."""
    gates = gated(entries)
    rows = []
    for p in evidence.probe_records():
        entry = cpu_entry(p, gates)
        if entry is not None:
            rows.append((Code(p["id"]), Code(entry.id), verdict_text(p["verdict"]),
                         Code(outcome_text(p["observed"]))))
    blocks: list[Block] = [heading(2, "Probes that depend on the CPU")]
    if not rows:
        return [*blocks, Paragraph("None.")]
    return [*blocks, Table(("probe", "registry entry", "verdict here", "gives here"),
                           tuple(rows))]


def document(evidence: Evidence, entries: Sequence[registry.Entry],
             flags: frozenset[str] | None) -> list[Block]:
    """reports/evidence.md: ``evidence`` is the run's records as read (not published),
    ``flags`` the CPU flags of the machine that builds the file."""
    blocks: list[Block] = [
        heading(1, "What this machine observed"),
        Paragraph(("Written by ", Code("python -m report build"), " from this run's records; "
                   "not committed, as all of it depends on the machine. The committed report "
                   "is docs/discrepancies.md.")),
        *cpu_blocks(entries, flags),
        heading(2, "Suite counts"),
        Table(("backend", "version", *OUTCOMES, *(f"{op} cases" for op in OPS)),
              tuple((b, d["version"] or "n/a", *(str(d["counts"].get(k, 0)) for k in OUTCOMES),
                     *(str(d["cases_checked"].get(op, 0)) for op in OPS))
                    for b, d in evidence.suites.items())),
    ]
    for backend, doc in evidence.suites.items():
        blocks += suite_blocks(backend, doc)
    return blocks + probe_table(evidence, entries)
