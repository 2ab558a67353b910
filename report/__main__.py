"""Building the report's files in memory, writing them, telling which committed ones are
stale, and the command line: ``python -m report build`` writes the report's files from the
records; ``python -m report check`` rebuilds them in memory and fails when a committed one
differs. Both print this run's counts per backend; ``build`` also writes what depends on the
machine to reports/evidence.md, which is not committed and ``check`` does not compare.

Both exit 1 when records are missing (naming the files and the nox sessions that write
them), malformed, or list problems (unregistered differences, stale registry entries,
failed suite tests); ``build`` still writes the files, with the problems at the top of
docs/discrepancies.md.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from dataclasses import dataclass
from pathlib import Path

import registry
from report import document as doc
from report import evidence as machine
from report import history, jsondoc, porting, same_padding
from report.matrix import build as build_matrix
from report.records import EVIDENCE, MissingRecords, RecordsError, load, problems, publish
from report.render import html, markdown
from report.sections import Report

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
    published view of the records (:func:`report.records.publish`); the evidence of this
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
    kinds = {e.id: e.kind for e in entries}
    report = Report(entries, evidence, build_matrix(probes, registry.TOPICS, kinds), found,
                    history.load(root))
    blocks, notes = doc.document(report)
    columns = report.matrix.columns
    readme = (root / "README.md").read_text()
    readme = replace_block(readme, "summary", markdown(doc.readme_summary(report)))
    readme = replace_block(readme, "same-padding",
                           markdown(same_padding.readme_blocks(probes, columns)))
    files = {
        "docs/discrepancies.md": markdown(blocks),
        "docs/report.html": html(blocks, doc.TITLE),
        "docs/same-padding.md": markdown(same_padding.document(probes, columns)),
        "docs/same-padding.svg": same_padding.picture(),
        "reports/discrepancies.json": jsondoc.document(report, notes, jsondoc.head_commit(root)),
        "README.md": readme,
        **porting.files(report),
    }
    flags = registry.cpu_flags(cpuinfo)
    observed = markdown(machine.document(records, entries, flags))
    return Built(files, list(found), notes, observed, machine.count_table(records.suites))


def same(old: str, new: str) -> bool:
    """Whether two builds of a file say the same: equal text, or, for the JSON document,
    equal but for the commit it names (which changes with every commit, the document
    not)."""
    return old == new or jsondoc.without_commit(old) == jsondoc.without_commit(new)


def write(root: Path, files: dict[str, str]) -> list[str]:
    """Write ``files`` under ``root``; return the paths whose content changed (a file that
    differs only in the commit it names is left as it is)."""
    changed = []
    for rel, text in files.items():
        path = Path(root) / rel
        if path.exists() and same(path.read_text(), text):
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
        if old is not None and same(old, text):
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


def main(argv: list[str] | None = None) -> int:
    """Run the command; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m report", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("build", "check"))
    parser.add_argument("--root", type=Path, default=ROOT,
                        help="repository root the files are written to or compared with")
    parser.add_argument("--records", type=Path, default=None,
                        help="records directory (default: ROOT/reports/records)")
    args = parser.parse_args(argv)
    try:
        built = build(args.root, args.records)
    except (MissingRecords, RecordsError, registry.RegistryError, ReadmeError) as err:
        print(f"report {args.command}: {err}", file=sys.stderr)
        return 1
    status = 0
    print(f"suite counts of this run (machine-dependent, not in the committed files):\n"
          f"{built.counts}")
    if args.command == "build":
        write(args.root, {EVIDENCE: built.evidence})
        changed = write(args.root, built.files)
        print(f"report build: {len(built.files)} files, {len(changed)} changed"
              + (": " + ", ".join(changed) if changed else "")
              + f"; this machine's evidence: {EVIDENCE}")
    else:
        differ = stale(args.root, built.files)
        for rel, diff in differ.items():
            print(f"STALE: {rel}\n{diff}\n", file=sys.stderr)
        if differ:
            print(f"report check: {len(differ)} of {len(built.files)} files are stale; "
                  "rebuild them with: nox -s build_report (or python -m report build)",
                  file=sys.stderr)
            status = 1
        else:
            print(f"report check: the {len(built.files)} committed files are up to date")
    for note in built.notes:
        print(f"note: {note}", file=sys.stderr)
    for problem in built.problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    if built.problems:
        print(f"report {args.command}: the records list {len(built.problems)} problems",
              file=sys.stderr)
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
