"""reports/discrepancies.json: the registry, the published view of every record
(:func:`report.cpu.publish`) and the matrix, for other tools (documented in
docs/records-schema.md)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from report.cpu import condition
from report.document import Report, evidenced
from report.reproducers import linked

SCHEMA = "conv-conformance report 2"


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


def discrepancies(report: Report) -> list[dict[str, Any]]:
    """Per registry entry: its fields, the probes linked to it, its suite statuses, whether
    the run shows it, and for an entry with a CPU condition the condition in words."""
    out = []
    for entry in sorted(report.entries, key=lambda e: e.id):
        suites = {b: d["registry"][entry.id]["status"]
                  for b, d in report.evidence.suites.items() if entry.id in d["registry"]}
        doc = {**plain(dict(entry.raw)), "pass": entry.pass_,
               "probes": [p["id"] for p in linked(entry.id, report.probes)],
               "suite_status": suites, "shown_by_records": evidenced(entry, report)}
        if entry.cpu:
            doc["cpu_condition"] = condition(entry.cpu)
        out.append(doc)
    return out


def matrix(report: Report) -> dict[str, Any]:
    """The summary matrix: topics, columns, one cell per pair that has probes."""
    m = report.matrix
    cells = [{"topic": t, "column": c, "class": m.cell(t, c).cls,
              "counts": m.cell(t, c).counts, "probes": list(m.cell(t, c).probes)}
             for t in m.topics for c in m.columns if m.cell(t, c).total]
    return {"topics": list(m.topics), "columns": list(m.columns), "cells": cells}


def document(report: Report, notes: Sequence[str]) -> str:
    """The JSON text (sorted keys, one final newline, no NaN literals)."""
    doc = {
        "schema": SCHEMA,
        "problems": list(report.problems),
        "notes": list(notes),
        "matrix": matrix(report),
        "discrepancies": discrepancies(report),
        "suites": plain(report.evidence.suites),
        "probes": plain(report.evidence.probes),
    }
    return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"
