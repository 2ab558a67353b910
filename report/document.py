"""The discrepancy report as blocks: summary matrix, counts, one section per registry entry
grouped by topic, and the suite evidence of each backend."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import registry
from report.history import DOCUMENT, changes
from report.matrix import CLASSES, LABELS, NO_PROBE, SYMBOLS, Matrix
from report.model import (
    Block,
    Bullets,
    Code,
    Figure,
    Group,
    Inline,
    Link,
    Paragraph,
    Table,
    heading,
)
from report.records import BACKENDS, EVIDENCE, FRAMEWORKS
from report.render import heatmap
from report.sections import (
    Report,
    entry_section,
    evidenced,
    framework_facets,
    since_text,
    suite_sections,
)

TITLE = "Where the frameworks differ from the oracle"
TOPIC_TEXT = {
    "same-padding": "'same' padding: which side gets the odd cell, and which APIs have it.",
    "same-rejected": "'same' padding an API refuses (strides, small inputs).",
    "avg-divisor": "What average pooling divides by where a window covers padding.",
    "max-pool-padding-value": "Whether max pooling's padding can win (zeros instead of -inf).",
    "default-pool-stride": "A pooling's stride when none is given.",
    "ceil-mode": "Ceil mode: the partial last window, and what divides it.",
    "nan-inf": "NaN and infinities in the input.",
    "dtypes": "Integer and half-precision dtypes; kernels that lose precision.",
    "pool-dilation": "Dilated pooling.",
    "groups": "Grouped and depthwise convolution.",
    "asymmetric-padding": "Explicit (lo, hi) padding per side.",
    "layouts": "Channels-last and channels-first layouts on CPU.",
    "empty-input": "Empty inputs the oracle defines: a batch of 0, or 0 channels.",
    "bad-input": "Bad input: stride 0, negative padding, a kernel larger than the input, an "
                 "empty batch, padding over half the window.",
}


def legend() -> Paragraph:
    """What the matrix symbols mean."""
    return Paragraph("".join(f"{SYMBOLS[c]} {LABELS[c]}; " for c in CLASSES)
                     + f"{NO_PROBE} no probe. Counts are probes (one framework API call on one "
                     "case).")


def cell_target(matrix: Matrix, topic: str, column: str) -> str:
    """Where a matrix cell links: the one registry entry its probes name, else the topic's
    section (which holds all of them)."""
    entries = matrix.cell(topic, column).entries
    return "#" + (entries[0] if len(entries) == 1 else topic)


def matrix_table(report: Report, base: str = "") -> Table:
    """The summary matrix; topic names link to their sections at ``base``, cells to their
    registry entry (:func:`cell_target`)."""
    matrix = report.matrix
    rows = tuple(
        (Link(t, f"{base}#{t}"),
         *(Link(cell.text(), base + cell_target(matrix, t, c)) if cell.total else cell.text()
           for c in matrix.columns for cell in (matrix.cell(t, c),)))
        for t in matrix.topics)
    return Table(("topic", *matrix.columns), rows,
                 "Summary matrix: probe verdicts per topic and framework API",
                 column_facets=report.column_facets())


def kind_counts(report: Report) -> Table:
    """Registry entries per framework and kind, how many apply on some CPUs only, and how
    many of the others this run's records show."""
    kinds = registry.KINDS
    rows = []
    for fw in FRAMEWORKS:
        mine = [e for e in report.entries if fw in e.raw["frameworks"]]
        by_kind = Counter(e.kind for e in mine)
        cpu = sum(bool(e.cpu) for e in mine)
        shown = sum(evidenced(e, report) is True for e in mine)
        rows.append((fw, *(str(by_kind[k]) for k in kinds), str(len(mine)), str(cpu),
                     f"{shown} of {len(mine) - cpu}"))
    return Table(("framework", *kinds, "total", "with a CPU condition",
                  "others shown by this run"), tuple(rows),
                 "Registered discrepancies per framework and kind",
                 row_facets=tuple((("framework", fw),) for fw in FRAMEWORKS))


def summary(report: Report, base: str = "") -> list[Block]:
    """The matrix, its legend and the counts (also the README's block)."""
    return [legend(), matrix_table(report, base),
            Paragraph("Registered discrepancies (registry/entries/*.toml) per framework, by "
                      "kind; an entry naming two frameworks counts for both. An entry with a "
                      "CPU condition applies on some CPUs only, so whether a run shows it "
                      "depends on the machine; of the others, the last column counts those "
                      "this run's records show:"),
            kind_counts(report)]


def problems_blocks(problems: Sequence[str]) -> list[Block]:
    """The records' problems, shown first; the build and the check fail while there are any."""
    if not problems:
        return []
    return [heading(2, "Problems"),
            Paragraph("The records of this run list problems; python -m report build and check "
                      "fail until they are fixed:"),
            Bullets(tuple(problems))]


def topic_blocks(report: Report) -> tuple[list[Block], list[str]]:
    """One subsection per topic, one section per registry entry in it."""
    blocks: list[Block] = [heading(2, "Discrepancies by topic")]
    notes: list[str] = []
    for topic in report.matrix.topics:
        part: list[Block] = [heading(3, topic), Paragraph(TOPIC_TEXT.get(topic, ""))]
        cases = list(dict.fromkeys(p["case"] for p in report.probes if p["topic"] == topic))
        if cases:
            parts: list[Inline] = ["Probe cases: "]
            for i, c in enumerate(cases):
                parts += [", " if i else "", Code(c)]
            part.append(Paragraph((*parts, ".")))
        mine = sorted((e for e in report.entries if e.topic == topic), key=lambda e: e.id)
        if not mine:
            part.append(Paragraph("No registered discrepancy."))
        sections = []
        for entry in mine:
            section, entry_notes = entry_section(entry, report)
            sections.append(section)
            notes += entry_notes
        # a topic shows while any of its entries does
        facets = {k: " ".join(dict.fromkeys(w for s in sections for f, v in s.facets
                                            if f == k for w in v.split()))
                  for k, _ in (sections[0].facets if sections else ())}
        blocks.append(Group(tuple(facets.items()), (*part, *sections), "topic"))
    return blocks, notes


def release_text(backend: str, version: str, release: Mapping[str, Any]) -> str:
    """One release of the history: ``3.8.0 (tensorflow 2.17.1)``, and its outcome where
    it did not run."""
    own = BACKENDS[backend][0] if backend in BACKENDS else backend
    others = ", ".join(f"{k} {v}" for k, v in release["frameworks"].items() if k != own)
    outcome = "" if release["outcome"] == "ran" else f" — {release['outcome']}"
    return version + (f" ({others})" if others else "") + outcome


def history_blocks(report: Report) -> list[Block]:
    """The history across framework releases: the releases ``nox -s history`` ran, and
    the entries whose presence changed (since / fixed in); nothing without a history."""
    doc = report.history
    if not doc:
        return []
    blocks: list[Block] = [
        heading(2, "History"),
        Paragraph((Code("nox -s history"), " runs the suite (a short derandomized profile) "
                   "and the probes on several releases of each framework and writes ",
                   Code(DOCUMENT.as_posix()), "; this report reads that file and needs no "
                   "old release installed. Each entry's section shows its status on every "
                   "release; an entry with version bounds is checked not to reproduce outside "
                   "them. The releases run (with what else each installed):")),
        Table(("backend", "releases"),
              tuple((b, "; ".join(release_text(b, v, r) for v, r in vs.items()))
                    for b, vs in doc["releases"].items()),
              "The framework releases of the history",
              row_facets=tuple(framework_facets(b) for b in doc["releases"])),
    ]
    rows = changes(doc)
    known = {e.id for e in report.entries}
    rows = [r for r in rows if r["entry"] in known]
    if not rows:
        blocks.append(Paragraph("No registered discrepancy changed presence across the "
                                "releases run."))
        return blocks
    cells = []
    for r in rows:
        since, fixed = since_text(doc["entries"][r["entry"]][r["backend"]])
        cells.append((Link(r["entry"], "#" + r["entry"]), r["backend"], since, fixed))
    blocks += [Paragraph("Registered discrepancies whose presence changed across the "
                         "releases run: since is the first release where the entry "
                         "reproduces after one where it did not, fixed in the first where it "
                         "is absent after one where it reproduced:"),
               Table(("entry", "backend", "since", "fixed in"), tuple(cells),
                     "Entries whose presence changed across releases",
                     row_facets=tuple(framework_facets(r["backend"]) for r in rows))]
    return blocks


def document(report: Report) -> tuple[list[Block], list[str]]:
    """docs/discrepancies.md (and report.html) as blocks, and notes on entries the records
    do not show or reproducers that could not be given."""
    intro: list[Inline] = [
        "Built by ", Code("python -m report build"), " from the records of every backend's "
        "conformance suite and probes and from the registry ", Code("registry/entries/*.toml"),
        "; do not edit by hand. Frameworks: ",
        frameworks_text(report), ". Machine-readable: ",
        Link("reports/discrepancies.json", "../reports/discrepancies.json"), " (",
        Link("JSON Schema", "discrepancies.schema.json"), ", described in ",
        Link("records-schema.md", "records-schema.md"), "). Which side 'same' pads: ",
        Link("same-padding.md", "same-padding.md"), ". Porting from one framework to "
        "another: ", Link("porting guides", "porting/README.md"), "."]
    topics, notes = topic_blocks(report)
    blocks: list[Block] = [
        heading(1, TITLE), Paragraph(tuple(intro)),
        *problems_blocks(report.problems),
        heading(2, "Summary matrix"),
        Paragraph("Each framework API family, asked the probe cases of each topic with its "
                  "default arguments, against the oracle's default convention."),
        Paragraph(("This report is the same whichever machine builds it: a probe whose result "
                   "depends on the CPU (a registry entry with a CPU condition explains it) is "
                   "shown as such, with its reproducer and the condition, and counts of tests "
                   "and cases are left out. ", Code("python -m report build"), " writes what "
                   "the machine it runs on observed to ", Code(EVIDENCE),
                   " (not committed).")),
        Figure(heatmap(report.matrix, lambda t, c: cell_target(report.matrix, t, c),
                       report.matrix_column_facets),
               "The summary matrix as a heat map; a cell links to the registry entry that "
               "explains it, or to its topic."),
        *summary(report),
        *topics,
        *history_blocks(report),
        *suite_sections(report.evidence.suites, {e.id: e for e in report.entries}),
    ]
    return blocks, notes


def readme_summary(report: Report) -> list[Block]:
    """The README's generated block: the matrix (linking into docs/discrepancies.md)."""
    return [*summary(report, "docs/discrepancies.md"),
            Paragraph(("Frameworks: ", frameworks_text(report), "."))]


def frameworks_text(report: Report) -> str:
    """The run's frameworks and versions, each once (a variant runs its backend's)."""
    versions = report.versions()
    return "; ".join(dict.fromkeys(versions[b] for b in report.evidence.probes))

