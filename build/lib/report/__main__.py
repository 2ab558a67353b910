"""Command line: ``python -m report build`` writes the report's files from the records;
``python -m report check`` rebuilds them in memory and fails when a committed one differs.
Both print this run's counts per backend; ``build`` also writes what depends on the
machine to reports/evidence.md, which is not committed and ``check`` does not compare.

Both exit 1 when records are missing (naming the files and the nox sessions that write
them), malformed, or list problems (unregistered differences, stale registry entries,
failed suite tests); ``build`` still writes the files, with the problems at the top of
docs/discrepancies.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from registry import RegistryError
from report.build import ROOT, ReadmeError, build, stale, write
from report.evidence import EVIDENCE
from report.records import MissingRecords, RecordsError


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
    except (MissingRecords, RecordsError, RegistryError, ReadmeError) as err:
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
