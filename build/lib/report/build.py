"""Building the report's files in memory, writing them, and telling which committed ones
are stale."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

import registry
from report import document as doc
from report import evidence as machine
from report import html, jsondoc, markdown, same_padding
from report.cpu import publish
from report.matrix import build as build_matrix
from report.records import load, problems

ROOT = Path(__file__).resolve().parent.parent
RECORDS = Path("reports", "records")
#: README blocks the report owns: marker name -> what goes between the markers.
README_BLOCKS = ("summary", "same-padding")
#: Lines of diff shown per stale file.
DIFF_LINES = 40


class ReadmeError(ValueError):
    """README.md lacks the markers of a generated block."""


@dataclass(frozen=True)
class Built:
    """The report's files (path relative to the root -> text; the same on every machine),
    the records' problems, notes on entries without evidence or reproducer, and what
    depends on the machine: the text of reports/evidence.md and a table of counts."""

    files: dict[str, str]
    problems: list[str]
    notes: list[str]
    evidence: str = ""
    counts: str = ""


def markers(name: str) -> tuple[str, str]:
    """The start and end markers of README block ``name``."""
    return f"<!-- report:{name}:start -->", f"<!-- report:{name}:end -->"


def replace_block(text: str, name: str, content: str) -> str:
    """``text`` with the lines between block ``name``'s markers replaced by ``content``.

    Raises
    ------
    ReadmeError
        When a marker is missing or the end comes before the start.
    """
    start, end = markers(name)
    i, j = text.find(start), text.find(end)
    if i < 0 or j < i:
        raise ReadmeError(f"README.md needs the lines {start} and {end} (in that order) "
                          f"around the generated {name!r} block")
    return text[: i + len(start)] + "\n\n" + content.strip() + "\n\n" + text[j:]


def build(root: Path = ROOT, records_dir: Path | None = None,
          registry_path: Path | None = None,
          cpuinfo: str | Path = "/proc/cpuinfo") -> Built:
    """Every file of the report, built from the records in ``records_dir`` (default
    ``root/reports/records``) and the registry. The committed files come from the
    published view of the records (:func:`report.cpu.publish`); the evidence of this
    machine (with the CPU flags in ``cpuinfo``) is kept apart.

    Raises
    ------
    report.records.MissingRecords, report.records.RecordsError
        When records are missing or malformed.
    registry.RegistryError, ReadmeError
        When the registry is malformed or README.md lacks a block's markers.
    """
    root = Path(root)
    entries = registry.load(registry_path)
    records = load(Path(records_dir) if records_dir is not None else root / RECORDS)
    found = problems(records, {e.id for e in entries})
    evidence = publish(records, entries)
    probes = evidence.probe_records()
    report = doc.Report(entries, evidence, build_matrix(probes, registry.TOPICS), found)
    blocks, notes = doc.document(report)
    columns = report.matrix.columns
    readme = (root / "README.md").read_text()
    readme = replace_block(readme, "summary", markdown.render(doc.readme_summary(report)))
    readme = replace_block(readme, "same-padding",
                           markdown.render(same_padding.readme_blocks(probes, columns)))
    files = {
        "docs/discrepancies.md": markdown.render(blocks),
        "docs/report.html": html.render(blocks, doc.TITLE),
        "docs/same-padding.md": markdown.render(same_padding.document(probes, columns)),
        "docs/same-padding.svg": same_padding.picture(),
        "reports/discrepancies.json": jsondoc.document(report, notes),
        "README.md": readme,
    }
    flags = registry.cpu_flags(cpuinfo)
    observed = markdown.render(machine.document(records, entries, flags))
    return Built(files, list(found), notes, observed, machine.count_table(records.suites))


def write(root: Path, files: dict[str, str]) -> list[str]:
    """Write ``files`` under ``root``; return the paths whose content changed."""
    changed = []
    for rel, text in files.items():
        path = Path(root) / rel
        if path.exists() and path.read_text() == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        changed.append(rel)
    return changed


def stale(root: Path, files: dict[str, str]) -> dict[str, str]:
    """Files whose committed text differs from ``files``: path -> a short unified diff."""
    out = {}
    for rel, text in files.items():
        path = Path(root) / rel
        old = path.read_text() if path.exists() else None
        if old == text:
            continue
        if old is None:
            out[rel] = "(the file does not exist)"
            continue
        diff = list(difflib.unified_diff(old.splitlines(), text.splitlines(),
                                         f"{rel} (committed)", f"{rel} (rebuilt)", n=1,
                                         lineterm=""))
        more = len(diff) - DIFF_LINES
        out[rel] = "\n".join(diff[:DIFF_LINES] + ([f"... ({more} more diff lines)"]
                                                  if more > 0 else []))
    return out
