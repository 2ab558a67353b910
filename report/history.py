"""The history across releases: per registry entry, backend and framework release, whether
the entry's discrepancy shows; written to ``reports/history.json`` by ``nox -s history``.

``nox -s history`` runs the suite and the probes on each release in the backend table's
``history`` columns (``backends/table.py``) and leaves per release, in ``reports/history/``
(not committed), ``run-<backend>-<version>.json`` (requirements, outcome, installed
framework versions, seconds), ``suite-<backend>-<version>.json`` (the suite records,
:mod:`tests.support.records`) and ``probes-<backend>-<version>.json`` (the probe records).
:func:`history` turns them into one document; it keeps nothing that depends on the machine
(no timings, no counts, no Python version, and entries with a CPU condition are
``not-run``), so any machine that runs the same releases writes the same file.

Usage: ``python -m report.history RECORDS_DIR OUT`` (``OUT`` ``-`` prints it).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

from registry.versions import release as release_numbers

__all__ = ["DOCUMENT", "JUDGED", "SCHEMA", "STATUSES", "changes", "entry_status", "history", "load",
           "load_runs", "main", "markdown_changes", "presence"]

SCHEMA = "conv-conformance history 1"
#: The committed history document, relative to the repository root: ``nox -s history``
#: alone rebuilds it; the report reads it and needs no old release installed.
DOCUMENT = Path("reports", "history.json")

#: What each status of an entry on one release means, from that release's records.
STATUSES: dict[str, str] = {
    "reproduces": "the entry's reproducer did what the entry claims, where that differs "
                  "from the oracle's default (its strict xfail xfailed); without a "
                  "reproducer run, a suite case followed the claim; for a backend the "
                  "suite does not check the entry on, a probe the entry names was "
                  "explained by it",
    "absent": "the entry's reproducer followed the oracle's default: the entry is stale "
              "there, or it lies outside its version bounds and the suite checked that it "
              "does not reproduce; without a reproducer run, a suite case followed the "
              "default; for a probe-checked entry, every probe it names followed the "
              "oracle",
    "unsupported": "the backend declined the entry's reproducer with Unsupported (the "
                   "reproducer was skipped): the release cannot run the case at all",
    "other": "the entry's reproducer ran and did neither what the entry claims nor the "
             "oracle's default (its test failed: see that release's suite records); for a "
             "probe-checked entry, a probe it names differs but is not explained by it",
    "not-run": "the release was not run or did not install; or the entry does not apply "
               "to the backend; or it has a CPU condition (whether it shows depends on the "
               "machine); or neither its reproducer, nor a suite case, nor a probe "
               "exercised it",
}

#: The statuses that judge an entry on a release (the others pass it over).
JUDGED = ("reproduces", "absent", "other")

#: Suite reproducer outcomes (tests/support/records.py) and the status each gives.
_REPRODUCER = {"reproduced": "reproduces", "stale": "absent", "unsupported": "unsupported",
               "broken": "other"}
#: Suite entry statuses, when the reproducer did not run.
_SUITE_STATUS = {"reproduced": "reproduces", "stale": "absent"}


def entry_status(entry: Any, backend: str, run: Mapping[str, Any] | None) -> str:
    """The status (a key of :data:`STATUSES`) of registry ``entry`` on one release of
    ``backend``.

    Parameters
    ----------
    entry : registry.Entry
        The entry (its ``id``, ``backends``, ``probes`` and ``cpu`` are read).
    backend : str
        The suite backend name.
    run : mapping or None
        The release's run: ``{"outcome": ..., "suite": suite records or None,
        "probes": probe records or None}``; None when the release was not run.
    """
    if run is None or run.get("outcome") != "ran" or entry.cpu:
        return "not-run"
    if backend in entry.backends:
        suite = run.get("suite") or {}
        record = suite.get("registry", {}).get(entry.id)
        if record is None or record.get("status") == "not-on-this-cpu":
            return "not-run"
        by_reproducer = _REPRODUCER.get(record.get("reproducer", "not-run"))
        if by_reproducer is not None:
            return by_reproducer
        return _SUITE_STATUS.get(record.get("status", ""), "not-run")
    named = [p for p in (run.get("probes") or {}).get("probes", [])
             if p["case"] in entry.probes.get(p["api"], ())
             or p["case"] in entry.probes.get(p["column"], ())]
    if not named:
        return "not-run"
    if any(p.get("registry") == entry.id for p in named):
        return "reproduces"
    if all(p["verdict"] == "follows-oracle" for p in named):
        return "absent"
    return "other"


def _version_key(version: str) -> tuple[tuple[int, ...], str]:
    return release_numbers(version) or (), version


def history(entries: Iterable[Any], releases: Mapping[str, Sequence[str]],
            runs: Mapping[tuple[str, str], Mapping[str, Any]]) -> dict[str, Any]:
    """The history document.

    Parameters
    ----------
    entries : iterable of registry.Entry
        The registry.
    releases : mapping of str to sequence of str
        Per backend (in the order the document lists them), the releases of the history.
    runs : mapping of (backend, version) to mapping
        The releases that were run or tried: ``{"outcome": "ran" | "install-failed" |
        ..., "frameworks": {framework: installed version}, "requirements": [...],
        "suite": suite records or None, "probes": probe records or None}``.

    Returns
    -------
    dict
        ``schema``, ``statuses`` (:data:`STATUSES`), ``releases`` (per backend and
        version: ``outcome`` — ``ran``, ``install-failed``, ``suite-error`` (pytest
        stopped short of a result: a usage or internal error) or ``not-run`` — the
        ``requirements`` and the installed ``frameworks``, without local version labels
        such as ``+cpu``) and ``entries`` (per entry id,
        sorted, per backend it concerns, per version oldest first: a status). An entry
        concerns a backend it lists, or one of whose probes it names.
    """
    ordered = {b: sorted(vs, key=_version_key) for b, vs in releases.items()}
    out_releases: dict[str, dict[str, Any]] = {}
    for backend, versions in ordered.items():
        out_releases[backend] = {}
        for version in versions:
            run = runs.get((backend, version))
            out_releases[backend][version] = {
                "outcome": run.get("outcome", "not-run") if run else "not-run",
                "requirements": list(run.get("requirements", [])) if run else [],
                # the local label (+cpu, +cu121) says where the wheel came from, not
                # which release ran: left out, so the document is the same everywhere
                "frameworks": {name: str(v).partition("+")[0] for name, v in
                               sorted((run or {}).get("frameworks", {}).items())},
            }
    out_entries: dict[str, dict[str, dict[str, str]]] = {}
    for entry in sorted(entries, key=lambda e: e.id):
        per_backend: dict[str, dict[str, str]] = {}
        for backend, versions in ordered.items():
            statuses = {v: entry_status(entry, backend, runs.get((backend, v)))
                        for v in versions}
            if backend in entry.backends or _names_probes_of(entry, backend, versions, runs):
                per_backend[backend] = statuses
        if per_backend:
            out_entries[entry.id] = per_backend
    return {"schema": SCHEMA, "statuses": dict(STATUSES), "releases": out_releases,
            "entries": out_entries}


def _names_probes_of(entry: Any, backend: str, versions: Sequence[str],
                     runs: Mapping[tuple[str, str], Mapping[str, Any]]) -> bool:
    """Whether ``entry`` names a probe that some run of ``backend`` recorded."""
    for version in versions:
        for p in ((runs.get((backend, version)) or {}).get("probes") or {}).get("probes", []):
            if p["case"] in entry.probes.get(p["api"], ()) \
                    or p["case"] in entry.probes.get(p["column"], ()):
                return True
    return False


def presence(statuses: Mapping[str, str]) -> tuple[str, str]:
    """``(since, fixed_in)`` of an entry on one backend, from its status per release
    (oldest first): ``since`` is the first release where it reproduces after one where it
    was absent or did something else, ``fixed_in`` the first release where it is absent
    after one where it reproduced; "" where there is none (an entry that reproduces on the
    oldest release judged has no ``since``: it may be older). Releases ``unsupported`` or
    ``not-run`` are passed over."""
    seen = [(v, s) for v, s in statuses.items() if s in JUDGED]
    since = fixed = ""
    for (_, before), (version, after) in pairwise(seen):
        if before != "reproduces" and after == "reproduces" and not since:
            since = version
        if before == "reproduces" and after == "absent" and not fixed:
            fixed = version
    return since, fixed


def changes(doc: Mapping[str, Any]) -> list[dict[str, str]]:
    """Where an entry's presence changed across a backend's releases: one row per entry
    and backend with ``since`` and ``fixed_in`` (:func:`presence`), where either is
    found."""
    rows = []
    for ident, per_backend in doc["entries"].items():
        for backend, statuses in per_backend.items():
            since, fixed = presence(statuses)
            if since or fixed:
                rows.append({"entry": ident, "backend": backend, "since": since,
                             "fixed_in": fixed})
    return rows


def load(root: Path) -> dict[str, Any] | None:
    """The committed history document under ``root`` (:data:`DOCUMENT`), or None when
    there is none."""
    doc = _read(Path(root) / DOCUMENT)
    if doc is not None and doc.get("schema") != SCHEMA:
        raise ValueError(f"{DOCUMENT} is not a {SCHEMA!r} document")
    return doc


def markdown_changes(doc: Mapping[str, Any]) -> str:
    """:func:`changes` as a Markdown table (a line saying there are none otherwise)."""
    rows = changes(doc)
    if not rows:
        return "No registered discrepancy changed presence across the releases run.\n"
    lines = ["| entry | backend | since | fixed in |", "| --- | --- | --- | --- |"]
    lines += [f"| `{r['entry']}` | {r['backend']} | {r['since'] or '—'} | "
              f"{r['fixed_in'] or '—'} |" for r in rows]
    return "\n".join(lines) + "\n"


def _read(path: Path) -> Any:
    return json.loads(path.read_text()) if path.exists() else None


def load_runs(directory: Path, releases: Mapping[str, Sequence[str]]
              ) -> dict[tuple[str, str], dict[str, Any]]:
    """The runs found in ``directory`` (see the module's docstring), keyed by (backend,
    version); a release without a ``run-`` file is left out (not run)."""
    runs = {}
    for backend, versions in releases.items():
        for version in versions:
            stem = f"{backend}-{version}"
            run = _read(Path(directory) / f"run-{stem}.json")
            if run is None:
                continue
            run["suite"] = _read(Path(directory) / f"suite-{stem}.json")
            run["probes"] = _read(Path(directory) / f"probes-{stem}.json")
            runs[(backend, version)] = run
    return runs


def _findings(runs: Mapping[tuple[str, str], Mapping[str, Any]]) -> list[str]:
    """Per release run: seconds taken, failed tests, unregistered differences and probe
    problems (what the committed document leaves out)."""
    lines = []
    for (backend, version), run in runs.items():
        seconds = ", ".join(f"{k} {v} s" for k, v in run.get("seconds", {}).items())
        lines.append(f"{backend} {version}: {run.get('outcome')} ({seconds})")
        suite = run.get("suite") or {}
        counts = suite.get("counts", {})
        if counts:
            lines.append("  suite: " + ", ".join(f"{k} {v}" for k, v in counts.items() if v))
        for u in suite.get("unregistered", []):
            lines.append(f"  UNREGISTERED {u['test']} ({u['op']}): {u['difference']}")
        for i, rec in sorted(suite.get("registry", {}).items()):
            if rec.get("reproducer") == "broken" or rec.get("status") == "broken":
                lines.append(f"  OTHER BEHAVIOUR of {i}'s reproducer")
        for problem in (run.get("probes") or {}).get("problems", []):
            lines.append(f"  probes: {problem}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Write the history document from a records directory; print the changes and each
    release's findings."""
    parser = argparse.ArgumentParser(prog="python -m report.history", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("records", type=Path, help="directory of the history's records")
    parser.add_argument("out", help="the document to write, or - to print it")
    args = parser.parse_args(argv)

    import registry
    from backends.table import BACKENDS

    releases = {spec.name: [r.version for r in spec.history] for spec in BACKENDS
                if spec.history}
    runs = load_runs(args.records, releases)
    doc = history(registry.load(), releases, runs)
    text = json.dumps(doc, indent=2) + "\n"
    if args.out == "-":
        sys.stdout.write(text)
    else:
        Path(args.out).write_text(text)
    print("\n".join(_findings(runs)))
    print(markdown_changes(doc), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
