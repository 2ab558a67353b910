"""reports/discrepancies.json: the registry, the published view of every record
(:func:`report.records.publish`) and the matrix, for other tools. The contract is the JSON
Schema docs/discrepancies.schema.json (described in docs/records-schema.md)."""

from __future__ import annotations

import json
import math
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from report.history import presence
from report.matrix import probe_key
from report.records import BACKENDS, condition
from report.reproducers import linked
from report.sections import Report, entry_pass, evidenced

SCHEMA = "conv-conformance report 3"
#: The path, in the document, of the field that names the commit it was built from.
COMMIT = ("generated", "commit")


def plain(value: Any) -> Any:
    """``value`` as JSON data: tuples become lists, non-finite floats the strings "nan",
    "inf", "-inf" (as in the probe records), mapping keys strings."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def head_commit(root: Path) -> str:
    """The commit checked out at ``root`` (``git rev-parse HEAD``), or "unknown"."""
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], check=True,
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def affects(entry: Any, report: Report) -> list[dict[str, str]]:
    """Who the entry concerns, as (backend, API, pass): the probes it explains, then each
    suite backend it lists that no such probe covers (with the entry's ``api``), else every
    backend of its frameworks."""
    out: dict[tuple[str, str], None] = {}
    for p in linked(entry.id, report.probes):
        out[(p["backend"], p["api"])] = None
    covered = {b for b, _ in out}
    backends = [b for b in entry.backends if b not in covered] or (
        [] if out else [b for b, (fw, _, _) in BACKENDS.items()
                        if fw in entry.raw["frameworks"]])
    for b in backends:
        out[(b, str(entry.raw["api"]))] = None
    return [{"backend": b, "api": a, "pass": entry_pass(entry)} for b, a in out]


def across_releases(entry_id: str, report: Report) -> dict[str, Any]:
    """The entry in the history (:mod:`report.history`): ``history`` (per backend and
    release, oldest first, a status), ``since`` and ``fixed_in`` (per backend, the release
    :func:`report.history.presence` finds, where it finds one)."""
    statuses = report.entry_history(entry_id)
    found = {b: presence(vs) for b, vs in statuses.items()}
    return {"history": statuses,
            "since": {b: since for b, (since, _) in found.items() if since},
            "fixed_in": {b: fixed for b, (_, fixed) in found.items() if fixed}}


def discrepancies(report: Report) -> list[dict[str, Any]]:
    """Per registry entry: its fields, who it affects, the probes linked to it, its suite
    statuses, whether the run shows it, its history across releases
    (:func:`across_releases`), and for an entry with a CPU condition the condition in
    words."""
    out = []
    for entry in sorted(report.entries, key=lambda e: e.id):
        suites = {b: d["registry"][entry.id]["status"]
                  for b, d in report.evidence.suites.items() if entry.id in d["registry"]}
        doc = {**plain(dict(entry.raw)), "pass": entry_pass(entry),
               "affects": affects(entry, report),
               "probes": [probe_key(p) for p in linked(entry.id, report.probes)],
               "suite_status": suites, "shown_by_records": evidenced(entry, report),
               **across_releases(entry.id, report)}
        if entry.cpu:
            doc["cpu_condition"] = condition(entry.cpu)
        out.append(doc)
    return out


def matrix(report: Report) -> dict[str, Any]:
    """The summary matrix: topics, columns, one cell per pair that has probes."""
    m = report.matrix
    cells = [{"topic": t, "column": c, "class": m.cell(t, c).cls,
              "counts": m.cell(t, c).counts, "probes": list(m.cell(t, c).probes),
              "entries": list(m.cell(t, c).entries)}
             for t in m.topics for c in m.columns if m.cell(t, c).total]
    return {"topics": list(m.topics), "columns": list(m.columns), "cells": cells}


def document(report: Report, notes: Sequence[str], commit: str = "unknown") -> str:
    """The JSON text (sorted keys, one final newline, no NaN literals); probe ids carry
    their backend (:func:`report.matrix.probe_key`)."""
    versions = {b: d["versions"] for b, d in report.evidence.probes.items()}
    versions.update({b: {b: d["version"]} for b, d in report.evidence.suites.items()
                     if b not in versions})
    probes = {b: {**d, "probes": [{**p, "id": probe_key(p)} for p in d["probes"]]}
              for b, d in report.evidence.probes.items()}
    doc = {
        "schema": SCHEMA,
        "generated": {"by": "python -m report build", "commit": commit,
                      "versions": versions},
        "problems": list(report.problems),
        "notes": list(notes),
        "matrix": matrix(report),
        "discrepancies": discrepancies(report),
        "history_releases": {b: {v: {"outcome": r["outcome"], "frameworks": r["frameworks"]}
                                 for v, r in vs.items()}
                             for b, vs in (report.history or {}).get("releases", {}).items()},
        "suites": plain(report.evidence.suites),
        "probes": plain(probes),
    }
    return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def without_commit(text: str) -> Any:
    """The document with its commit field blanked (for comparing two builds), or the text
    itself when it is not such a document."""
    try:
        doc = json.loads(text)
        doc[COMMIT[0]][COMMIT[1]] = None
    except (ValueError, KeyError, TypeError):
        return text
    return doc
