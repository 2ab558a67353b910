"""The porting guides: for each ordered pair of frameworks (source, target), the registry
entries on which the two behave differently, as docs/porting/<source>-to-<target>.md, and
an index of them. A view of the same entries, probes and blocks as the report.

An entry of the target that the source does not share is what changes on arrival; a value
convention or accepted input of the source that the target does not share is what ported
code relied on. The source shares an entry it names, or whose probe cases its own APIs
answer with the same named convention (``follows:...``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import registry
from report.model import Block, Code, CodeBlock, Heading, Inline, Link, Paragraph, Strong, Table
from report.records import FRAMEWORKS, condition
from report.render import markdown
from report.reproducers import linked
from report.sections import Report, entry_pass

DIRECTORY = "docs/porting"
#: The groups of a guide: key -> heading.
GROUPS = {"values": "Silently changes values", "spelling": "No spelling in the target",
          "errors": "Errors and bad input"}


def page(source: str, target: str) -> str:
    """The guide's file name within :data:`DIRECTORY`."""
    return f"{source}-to-{target}.md"


def shares(entry: registry.Entry, framework: str, probes: Sequence[Mapping[str, Any]]) -> bool:
    """Whether ``framework`` behaves as ``entry`` says: it is one of the entry's frameworks,
    or its APIs answer every probe case the entry explains with the same convention."""
    if framework in entry.raw["frameworks"]:
        return True
    mine = [p for p in linked(entry.id, probes) if p["verdict"].startswith("follows:")]
    theirs = [p for p in probes if p["framework"] == framework
              and p["case"] in {m["case"] for m in mine}]
    return bool(mine) and bool(theirs) and all(
        p["verdict"] in {m["verdict"] for m in mine} for p in theirs)


def group(entry: registry.Entry, arriving: bool) -> str | None:
    """The guide group of ``entry``: of the target (``arriving``), or of the source (what
    ported code relied on: a convention, or input the source accepted; None for what the
    source lacked, rejected or got wrong)."""
    gives_values = entry.claim is not None and entry.claim.form in ("values", "excluded")
    if entry.kind in ("convention", "deviation"):
        return "values" if arriving or entry.kind == "convention" else None
    if entry.kind == "unsupported":
        return "spelling" if arriving else None
    return "errors" if arriving or gives_values else None


def items(entries: Sequence[registry.Entry], probes: Sequence[Mapping[str, Any]],
          source: str, target: str) -> dict[str, list[tuple[registry.Entry, bool]]]:
    """The entries of the guide ``source`` -> ``target`` by group, each with whether it is
    the target's (True) or the source's (False), ordered by topic and id."""
    out: dict[str, list[tuple[registry.Entry, bool]]] = {g: [] for g in GROUPS}
    for entry in sorted(entries, key=lambda e: (e.topic, e.id)):
        for fw, other, arriving in ((target, source, True), (source, target, False)):
            key = group(entry, arriving)
            if fw in entry.raw["frameworks"] and key and not shares(entry, other, probes):
                out[key].append((entry, arriving))
    return out


def workaround_blocks(entry: registry.Entry, label: str = "Workaround") -> list[Block]:
    """The entry's workaround under ``label``: its text and code, or why there is none
    (the registry requires one of an entry about a framework of the report)."""
    w = entry.raw["workaround"]
    if "none" in w:
        return [Paragraph((Strong("No workaround"), ": ", " ".join(w["none"].split())))]
    blocks: list[Block] = [Paragraph((Strong(label), ": ", " ".join(w["text"].split())))]
    return blocks + ([CodeBlock(w["code"])] if w.get("code") else [])


def item_blocks(entry: registry.Entry, arriving: bool, source: str, target: str
                ) -> list[Block]:
    """One item: what happens, where, the workaround, the entry and its reproducer."""
    raw = entry.raw
    where: list[Inline] = (
        [f"In {target}, ", Code(str(raw["api"])), ": "] if arriving else
        [f"{source} code relied on this (", Code(str(raw["api"])), f"); {target} does not "
         "share it: "])
    facts: list[Inline] = [f"{entry.op}, {entry_pass(entry)} pass"]
    if entry.claim is not None:
        facts += [" · ", Code(entry.claim.describe())]
    if entry.cpu:
        facts.append(f" · on {condition(entry.cpu)} only")
    if isinstance(entry.when.get("variant"), str):
        facts.append(f" · under the {entry.when['variant']} variant only")
    repro = entry.reproducer
    link = f"../discrepancies.md#{entry.id}"
    refs: list[Inline] = [Link("entry and reproducers", link)]
    if repro is not None:
        shown = {k: v for k, v in repro.items() if k in ("x_shape", "w_shape", "params",
                                                          "dtype", "variant")}
        refs += [" · reproducer case ", Code(", ".join(f"{k}={v}" for k, v in shown.items()))]
    return [Heading(4, entry.id, entry.id), Paragraph((*where, Strong(entry.summary))),
            Paragraph(tuple(facts)),
            *workaround_blocks(entry, "Workaround" if arriving else
                               f"Workaround (in {source}, before porting)"),
            Paragraph(tuple(refs))]


def guide(report: Report, source: str, target: str) -> list[Block]:
    """The guide ``source`` -> ``target`` as blocks."""
    found = items(report.entries, report.probes, source, target)
    blocks: list[Block] = [
        Heading(1, f"Porting from {source} to {target}", "porting"),
        Paragraph(("Built by ", Code("python -m report build"), " from the registry; do not "
                   "edit by hand. Each item is a registry entry on which ", source, " and ",
                   target, " behave differently on the same case: ", target, "'s own (what "
                   "changes on arrival), and ", source, "'s conventions and accepted input "
                   "that ", target, " does not share (what ported code relied on; ", source,
                   "'s bugs are in ", Link("its entries", "../discrepancies.md"), "). "
                   "Workarounds give the oracle's default convention in the entry's "
                   "framework (", Link("all guides", "README.md"), ").")),
    ]
    if not any(found.values()):
        return [*blocks, Paragraph(f"No registered difference between {source} and "
                                   f"{target}.")]
    for key, title in GROUPS.items():
        rows = tuple((Link(e.id, "#" + e.id), target if arriving else source,
                      f"{e.op} ({entry_pass(e)})", e.summary) for e, arriving in found[key])
        blocks += [Heading(2, title, key),
                   Table(("entry", "whose", "op", "what happens"), rows, title) if rows
                   else Paragraph("None registered.")]
        for entry, arriving in found[key]:
            blocks += item_blocks(entry, arriving, source, target)
    return blocks


def index(report: Report) -> list[Block]:
    """docs/porting/README.md: a source x target grid linking every guide."""
    def cell(source: str, target: str) -> Inline:
        if source == target:
            return "—"
        found = items(report.entries, report.probes, source, target)
        return Link(" / ".join(str(len(found[k])) for k in GROUPS), page(source, target))

    rows = tuple((f"from {s}", *(cell(s, t) for t in FRAMEWORKS)) for s in FRAMEWORKS)
    return [Heading(1, "Porting guides", "porting-guides"),
            Paragraph(("What changes when code moves from one framework to another, built "
                       "from the registry by ", Code("python -m report build"), ". A cell "
                       "counts the items of one guide: " + " / ".join(GROUPS.values())
                       + ".")),
            Table(("source", *(f"to {t}" for t in FRAMEWORKS)), rows,
                  "Porting guides by source and target framework")]


def files(report: Report) -> dict[str, str]:
    """Every guide and the index: path relative to the root -> Markdown text."""
    out = {f"{DIRECTORY}/README.md": markdown(index(report))}
    for s in FRAMEWORKS:
        for t in FRAMEWORKS:
            if s != t:
                out[f"{DIRECTORY}/{page(s, t)}"] = markdown(guide(report, s, t))
    return out
