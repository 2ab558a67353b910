"""Command line: ``python -m probes BACKEND --out FILE [--only CASE ...]``."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from backends.table import BACKENDS
from probes.run import run


def main(argv: list[str] | None = None) -> int:
    """Run one backend's probes, write the records, report problems (exit 1 if any)."""
    parser = argparse.ArgumentParser(prog="python -m probes", description=__doc__)
    parser.add_argument("backend", choices=sorted(b.name for b in BACKENDS if b.probes))
    parser.add_argument("--out", required=True, help="records file (JSON) to write")
    parser.add_argument("--only", nargs="*", default=(), help="case keys to run")
    args = parser.parse_args(argv)
    doc, problems = run(args.backend, args.only)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1) + "\n")
    verdicts = Counter(p["verdict"].split(":")[0] for p in doc["probes"])
    print(f"probes {args.backend} ({', '.join(f'{k} {v}' for k, v in doc['versions'].items())}):"
          f" {len(doc['probes'])} probes, "
          + ", ".join(f"{n} {v}" for v, n in sorted(verdicts.items())) + f"; wrote {out}")
    for p in doc["probes"]:
        if p["verdict"] != "follows-oracle":
            print(f"  {p['verdict']:<40} {p['id']}  [{p['registry'] or 'UNREGISTERED'}]")
    for problem in problems:
        print("PROBLEM:", problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
