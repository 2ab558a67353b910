"""The sections of the report: one per registry entry (what differs, who does what, the
source, reproducers) and one per backend's suite evidence (framework version, registry
entries re-checked and their status, Unsupported reasons), from the published view of the
records (:func:`report.records.publish`): no counts, nothing that depends on the CPU."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import registry
from report.history import JUDGED, presence
from report.matrix import SYMBOLS, Matrix, case_grid, classify
from report.model import (
    MARKER,
    Block,
    Bullets,
    Code,
    CodeBlock,
    Details,
    Facets,
    Group,
    Heading,
    Inline,
    Link,
    Paragraph,
    Strong,
    Table,
    heading,
    linkify,
    outcome_text,
    slug,
    verdict_text,
)
from report.records import BACKENDS, CPU_REASON, EVIDENCE, Evidence, condition
from report.reproducers import Reproducer, for_entry, linked

#: Registry statuses in the order the suite summary shows them, with its column headers.
STATUSES = {"reproduced": "entries reproduced", "not-exercised": "not exercised",
            "stale": "stale", MARKER: "depend on the CPU"}


@dataclass(frozen=True)
class Report:
    """Everything a report is built from. ``evidence`` is the published view of the
    records (:func:`report.records.publish`): nothing in it depends on the machine."""

    entries: Sequence[registry.Entry]
    evidence: Evidence
    matrix: Matrix
    problems: Sequence[str]
    #: The committed history across releases (:mod:`report.history`), None without one.
    history: Mapping[str, Any] | None = None

    def entry_history(self, entry_id: str) -> dict[str, dict[str, str]]:
        """The entry's status per backend and release in the history ({} where the
        history does not concern it)."""
        return dict((self.history or {}).get("entries", {}).get(entry_id, {}))

    @property
    def probes(self) -> list[dict[str, Any]]:
        """Every probe record."""
        return self.evidence.probe_records()

    @property
    def kinds(self) -> dict[str, str]:
        """Each registry entry's kind, by id."""
        return {e.id: e.kind for e in self.entries}

    def column_facets(self) -> tuple[Facets, ...]:
        """The facets of a table whose first column heads the rows and whose others are
        the matrix's columns: each column's framework."""
        return ((), *(self.matrix_column_facets(c) for c in self.matrix.columns))

    def matrix_column_facets(self, column: str) -> Facets:
        """The facets of one of the matrix's columns: its framework."""
        return next(((("framework", p["framework"]),) for p in self.probes
                     if p["column"] == column), ())

    def versions(self) -> dict[str, str]:
        """Per probe or suite backend, its frameworks and versions as one label."""
        out = {b: f"{b} {d['version']}" for b, d in self.evidence.suites.items()}
        for b, d in self.evidence.probes.items():
            out[b] = ", ".join(f"{k} {v}" for k, v in d["versions"].items())
        return out


def evidenced(entry: registry.Entry, report: Report) -> bool | None:
    """Whether this run's records show the entry (a linked probe or a reproduced suite
    entry); None for an entry with a CPU condition, which a run shows or not depending on
    the machine."""
    if entry.cpu:
        return None
    if any(p["registry"] == entry.id for p in report.probes):
        return True
    return any(d["registry"].get(entry.id, {}).get("status") == "reproduced"
               for d in report.evidence.suites.values())


def entry_pass(entry: registry.Entry) -> str:
    """The pass an entry concerns: its ``pass`` key, "forward" where it has none."""
    return str(entry.raw.get("pass", "forward"))


def entry_facets(entry: registry.Entry) -> Facets:
    """What the page filters an entry's section by."""
    return (("framework", " ".join(entry.raw["frameworks"])), ("op", entry.op),
            ("pass", entry_pass(entry)), ("kind", entry.kind))


def framework_facets(backend: str) -> Facets:
    """The facet of a row or section about one backend."""
    return (("framework", BACKENDS[backend][0]),) if backend in BACKENDS else ()


def _short(verdict: str, kind: str | None) -> str:
    sym = SYMBOLS[classify(verdict, kind)]
    return f"{sym} {verdict.removeprefix('follows:')}" if verdict.startswith("follows:") else sym


def who_does_what(entry_id: str, report: Report) -> Table | None:
    """Cases linked to the entry × every framework API: each probe's verdict, in bold where
    this entry explains it, linked where another entry does."""
    probes, kinds, columns = report.probes, report.kinds, report.matrix.columns
    cases = list(dict.fromkeys(p["case"] for p in linked(entry_id, probes)))
    if not cases:
        return None

    def show(found: list[Mapping[str, Any]]) -> Inline:
        parts: list[Inline] = []
        for p in found:
            text = _short(p["verdict"], kinds.get(p["registry"]))
            parts += [" ", Strong(text) if p["registry"] == entry_id else
                      Link(text, "#" + p["registry"]) if p["registry"] else text]
        return tuple(parts[1:])

    return Table(("case", *columns), case_grid(probes, cases, columns, show),
                 "Each framework API's verdict on the cases this entry concerns",
                 column_facets=report.column_facets())


def probe_details(entry_id: str, probes: Sequence[Mapping[str, Any]]) -> Table | None:
    """The linked probes: framework API, verdict, what the framework gave and what the
    oracle gives, both channels first (the reproducers of channels-last APIs print
    channels last)."""
    mine = linked(entry_id, probes)
    if not mine:
        return None
    rows = tuple(
        (p["column"], Code(p["api"]), Code(p["case"]), verdict_text(p["verdict"]),
         Code(outcome_text(p["observed"])), Code(outcome_text(p["candidates"]["oracle"])))
        for p in mine)
    return Table(("framework API", "API", "case", "verdict", "gives (channels first)",
                  "the oracle's default gives"), rows,
                 "The probes this entry explains, results channels first",
                 row_facets=tuple((("framework", p["framework"]),) for p in mine))


def suite_table(entry: registry.Entry, suites: Mapping[str, Mapping[str, Any]]) -> Table | None:
    """How the suite run of each backend the entry lists treated it (published suite
    documents: an entry with a CPU condition has the status :data:`report.model.MARKER`)."""
    rows = []
    for backend in entry.backends:
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
    return Table(("suite backend", "version", "status", "reproducer"), tuple(rows),
                 "This entry in each backend's conformance suite",
                 row_facets=tuple(framework_facets(b) for b in entry.backends))


def since_text(statuses: Mapping[str, str]) -> tuple[str, str]:
    """The "since" and "fixed in" cells of one backend's statuses (oldest first): the
    releases :func:`report.history.presence` finds, "… or earlier" for an entry that
    reproduces on the oldest release judged, "—" for neither."""
    since, fixed = presence(statuses)
    judged = [s for s in statuses.values() if s in JUDGED]
    if not since and judged and judged[0] == "reproduces":
        since = next(v for v, s in statuses.items() if s in JUDGED) + " or earlier"
    return since or "—", fixed or "—"


def history_table(entry_id: str, report: Report) -> Table | None:
    """The entry on each framework release of the history (``nox -s history``): its
    status per release, since which release it shows and in which it was fixed; None
    where the history judged it on no release."""
    rows, facets = [], []
    for backend, statuses in report.entry_history(entry_id).items():
        if not any(s in JUDGED for s in statuses.values()):
            continue
        rows.append((backend, "; ".join(f"{v} {s}" for v, s in statuses.items()),
                     *since_text(statuses)))
        facets.append(framework_facets(backend))
    if not rows:
        return None
    return Table(("backend", "status per release", "since", "fixed in"), tuple(rows),
                 "This entry on each release the history ran",
                 row_facets=tuple(facets))


def _unshown(entry: registry.Entry, suites: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Why no record of the run shows ``entry`` (which has no linked probe), if none does.
    Nothing for an entry with a CPU condition: whether a run shows it depends on the
    machine, and its section says so."""
    if entry.cpu:
        return []
    found = [(suites.get(b) or {}).get("registry", {}).get(entry.id, {}) for b in entry.backends]
    statuses = sorted({f.get("status", "absent") for f in found})
    if "reproduced" in statuses:
        return []
    seen = f" (suite status: {', '.join(statuses)})" if statuses else ""
    return [f"{entry.id}: no record of this run shows it{seen}"]


def reproducer_blocks(r: Reproducer, versions: Mapping[str, str]) -> Details:
    """A reproducer under its heading line, with what it printed (or what the oracle
    gives); what a channels-last API printed is said to be channels last."""
    where = f"case {r.case}" if r.case else "the registry's reproducer"
    head: list[Inline] = [Strong(r.column), " — ", Code(r.api), f", {where}"]
    if versions.get(r.backend):
        head.append(f" ({versions[r.backend]})")
    blocks: list[Block] = [CodeBlock(r.code)]
    if r.observed is not None and "depends_on_cpu" in r.observed:
        blocks.append(Paragraph("What it gives depends on the CPU (the entry's condition, "
                                "above)."))
    elif r.observed is not None:
        if "exception" in r.observed or "crash" in r.observed:
            blocks.append(Paragraph(("In this run it ", "raised " if "exception" in r.observed
                                     else "", Code(outcome_text(r.observed)), ".")))
        elif r.observed.get("printed"):
            layout = (" (channels last, as the layer computes; the tables above give it "
                      "channels first)" if r.channels_last else "")
            blocks += [Paragraph(f"In this run it printed{layout}:"),
                       CodeBlock(r.observed["printed"], "text")]
        else:
            blocks.append(Paragraph(("In this run it gave ", Code(outcome_text(r.observed)),
                                     ".")))
    blocks.append(Paragraph(("The oracle's default gives ", Code(outcome_text(r.oracle)),
                             " (channels first).")))
    return Details(tuple(head), tuple(blocks))


def _facts(entry: registry.Entry) -> Paragraph:
    raw = entry.raw
    facts: list[Inline] = [Strong("kind"), f" {entry.kind} · ", Strong("op"), f" {entry.op} · ",
                           Strong("pass"), f" {entry_pass(entry)} · ",
                           Strong("API"), " ", Code(str(raw["api"])), " · ",
                           Strong("frameworks"), " " + ", ".join(raw["frameworks"])]
    if entry.backends:
        facts += [" · ", Strong("suite backends"), " " + ", ".join(entry.backends)]
    if entry.cpu:
        facts += [" · ", Strong("CPU"), " applies on " + condition(entry.cpu)]
    return Paragraph(tuple(facts))


def entry_section(entry: registry.Entry, report: Report) -> tuple[Group, list[str]]:
    """The entry's section, and notes on reproducers that could not be given."""
    raw, suites = entry.raw, report.evidence.suites
    blocks: list[Block] = [
        Heading(4, entry.id, entry.id),
        Paragraph(Strong(entry.summary)),
        _facts(entry),
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
    grid = who_does_what(entry.id, report)
    if grid is not None:
        blocks += [Paragraph(Strong("Who does what")), grid]
    details = probe_details(entry.id, report.probes)
    if details is not None:
        blocks.append(details)
    suite = suite_table(entry, suites)
    if suite is not None:
        blocks += [Paragraph(Strong("In the conformance suite")), suite]
    across = history_table(entry.id, report)
    if across is not None:
        blocks += [Paragraph((Strong("Across releases"), " (", Link("history", "#history"),
                              ")")), across]
    reproducers, notes = for_entry(entry, report.probes)
    if reproducers:
        blocks.append(Paragraph(Strong("Reproducers")))
        versions = report.versions()
        blocks += [reproducer_blocks(r, versions) for r in reproducers]
    if grid is None:
        notes += _unshown(entry, suites)
    for note in notes:
        blocks.append(Paragraph(("⚠ ", note.split(": ", 1)[1] + ".")))
    return Group(entry_facets(entry), tuple(blocks)), notes


def suite_summary(suites: Mapping[str, Mapping[str, Any]]) -> Table:
    """One row per backend: version, and its registry entries by status."""
    rows = []
    for backend, doc in suites.items():
        statuses = [s["status"] for s in doc["registry"].values()]
        rows.append((Link(backend, "#" + slug(f"suite: {backend}")), doc["version"] or "n/a",
                     *(str(statuses.count(s)) for s in STATUSES)))
    return Table(("backend", "version", *STATUSES.values()), tuple(rows),
                 "Registry entries re-checked by each backend's suite, by status",
                 row_facets=tuple(framework_facets(b) for b in suites))


def backend_section(backend: str, doc: Mapping[str, Any],
                    entries: Mapping[str, registry.Entry]) -> Group:
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
                   Table(("entry", "status", "reproducer"), tuple(rows),
                         f"Registry entries in the suite on {backend}")]
    reasons = [(op, r) for op, rs in sorted(doc["unsupported"].items()) for r in rs]
    if reasons:
        blocks += [Paragraph("Cases the backend declines (Unsupported), by reason:"),
                   Table(("op", "reason"), tuple((op, Code(r)) for op, r in reasons),
                         f"Unsupported reasons on {backend}")]
    if doc["tests_all_unsupported"]:
        blocks += [Paragraph("Property tests that compared nothing (every case Unsupported):"),
                   Bullets(tuple(Code(t) for t in doc["tests_all_unsupported"]))]
    if doc["unregistered"]:
        blocks += [Paragraph(Strong("Unregistered differences:")),
                   Bullets(tuple((Code(u.get("test", "")), f" ({u.get('op')}): ",
                                  str(u.get("difference", "")).splitlines()[0]
                                  if u.get("difference") else "")
                                 for u in doc["unregistered"]))]
    return Group(framework_facets(backend), tuple(blocks), "suite")


def suite_sections(suites: Mapping[str, Mapping[str, Any]],
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
        suite_summary(suites),
    ]
    return blocks + [backend_section(b, d, entries) for b, d in suites.items()]
