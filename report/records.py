"""Loading and validating the records every backend session writes (reports/records/).

``suite-<backend>.json`` comes from the conformance suite (tests/support/records.py),
``probes-<backend>.json`` from the probes (probes/run.py). The report reads nothing else
of a run. Fields that describe the machine rather than the framework (the Python patch
version) are dropped here, so that the published report is the same on every machine.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backends.table import BACKENDS, variant_keys
from probes import BACKENDS as PROBE_BACKENDS

#: Suite backends: the probe backends and the oracle itself, each followed by its variants
#: (``torch[channels_last]``: a variant is one more backend key of the records).
SUITE_BACKENDS = tuple(key for spec in BACKENDS for key in (spec.name, *variant_keys(spec)))
SUITE_SCHEMA = "conv-conformance suite records 1"
PROBE_SCHEMA = "conv-conformance probe records 1"
#: The nox session that writes each backend's records.
SESSIONS = {**{spec.name: spec.nox_session for spec in BACKENDS},
            **{key: f"{spec.session}_variants" for spec in BACKENDS
               for key in variant_keys(spec)}}
#: Suite record fields that describe the machine, left out of the report.
MACHINE_FIELDS = ("python",)
SUITE_KEYS = ("schema", "backend", "version", "counts", "cases_checked", "unsupported",
              "registry", "unregistered", "tests_all_unsupported")
PROBE_DOC_KEYS = ("schema", "backend", "framework", "versions", "probes", "problems")
PROBE_KEYS = ("id", "backend", "column", "api", "op", "topic", "case", "title", "dtype",
              "params", "candidates", "observed", "verdict", "registry", "code")


class MissingRecords(Exception):
    """Some record files are missing; the message names them and the sessions to run."""

    def __init__(self, missing: list[tuple[Path, str]]) -> None:
        self.missing = missing
        sessions = sorted({backend for _, backend in missing}, key=SUITE_BACKENDS.index)
        lines = ["missing records (each backend's nox session writes its own):"]
        lines += [f"  {_shown(path)}   <- nox -s \"{SESSIONS[backend]}\""
                  for path, backend in missing]
        names = " ".join(f'"{SESSIONS[b]}"' for b in sessions)
        lines += [f"run: nox -s {names}", "or everything at once: nox -s report"]
        super().__init__("\n".join(lines))


def _shown(path: Path) -> str:
    """``path`` relative to the working directory where it lies below it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class RecordsError(ValueError):
    """A records file is malformed; the message lists every problem found."""


@dataclass(frozen=True)
class Evidence:
    """The records of one run: per backend, the suite document and the probe document."""

    suites: dict[str, dict[str, Any]]
    probes: dict[str, dict[str, Any]]

    def probe_records(self) -> list[dict[str, Any]]:
        """Every probe record, backend by backend in :data:`SUITE_BACKENDS` order."""
        return [p for b in PROBE_BACKENDS if b in self.probes for p in self.probes[b]["probes"]]


def suite_path(directory: Path, backend: str) -> Path:
    """Where ``backend``'s suite records live."""
    return Path(directory) / f"suite-{backend}.json"


def probe_path(directory: Path, backend: str) -> Path:
    """Where ``backend``'s probe records live."""
    return Path(directory) / f"probes-{backend}.json"


def expected_files(directory: Path) -> list[tuple[Path, str]]:
    """Every record file a complete run writes, with the backend that writes it."""
    out = [(suite_path(directory, b), b) for b in SUITE_BACKENDS]
    return out + [(probe_path(directory, b), b) for b in PROBE_BACKENDS]


def _missing_keys(doc: dict[str, Any], keys: Iterable[str], where: str) -> list[str]:
    return [f"{where}: missing key {k!r}" for k in keys if k not in doc]


def _validate_document(doc: Any, keys: Iterable[str], schema: str, where: str) -> list[str]:
    """Problems with a records document's top level: its type, keys and schema."""
    if not isinstance(doc, dict):
        return [f"{where}: not a JSON object"]
    problems = _missing_keys(doc, keys, where)
    if doc.get("schema") != schema:
        problems.append(f"{where}: schema {doc.get('schema')!r}, expected {schema!r}")
    return problems


def validate_suite(doc: Any, where: str) -> list[str]:
    """Problems with a suite records document (empty if it is well-formed)."""
    return _validate_document(doc, SUITE_KEYS, SUITE_SCHEMA, where)


def validate_probes(doc: Any, where: str) -> list[str]:
    """Problems with a probe records document (empty if it is well-formed)."""
    problems = _validate_document(doc, PROBE_DOC_KEYS, PROBE_SCHEMA, where)
    if not isinstance(doc, dict):
        return problems
    for i, probe in enumerate(doc.get("probes", [])):
        problems += _missing_keys(probe, PROBE_KEYS, f"{where}: probe #{i}")
    return problems


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise RecordsError(f"{path}: not valid JSON ({err})") from err


def load(directory: Path) -> Evidence:
    """Read and validate every record file in ``directory``.

    Raises
    ------
    MissingRecords
        When any of :func:`expected_files` is absent (all of them are named).
    RecordsError
        When a file is not valid JSON or lacks a key the report needs.
    """
    missing = [(p, b) for p, b in expected_files(directory) if not p.exists()]
    if missing:
        raise MissingRecords(missing)
    suites, probes, problems = {}, {}, []
    for backend in SUITE_BACKENDS:
        path = suite_path(directory, backend)
        doc = _read(path)
        problems += validate_suite(doc, path.name)
        suites[backend] = {k: v for k, v in doc.items() if k not in MACHINE_FIELDS}
    for backend in PROBE_BACKENDS:
        path = probe_path(directory, backend)
        doc = _read(path)
        problems += validate_probes(doc, path.name)
        probes[backend] = doc
    if problems:
        raise RecordsError("malformed records:\n  " + "\n  ".join(problems))
    return Evidence(suites, probes)


def problems(evidence: Evidence, entry_ids: set[str]) -> list[str]:
    """What the records say is wrong: unregistered differences, stale registry entries,
    failed or erroring suite tests, references to registry entries that do not exist."""
    out: list[str] = []
    for backend, doc in evidence.suites.items():
        label = f"{backend} {doc['version']}".strip()
        failed, errors = doc["counts"].get("failed", 0), doc["counts"].get("error", 0)
        if failed or errors:
            out.append(f"suite on {label}: {failed} failed, {errors} errors")
        for u in doc["unregistered"]:
            first = str(u.get("difference", "")).splitlines()[:1] or [""]
            out.append(f"unregistered difference in the suite on {label}: {u.get('test')} "
                       f"({u.get('op')}): {first[0]}")
        for entry_id, status in sorted(doc["registry"].items()):
            if status.get("status") == "stale":
                out.append(f"stale: registry entry {entry_id!r} no longer reproduces in the "
                           f"suite on {label}")
            if entry_id not in entry_ids:
                out.append(f"suite on {label} names registry entry {entry_id!r}, which does "
                           "not exist")
    for backend, doc in evidence.probes.items():
        out += [f"probes on {backend}: {p}" for p in doc["problems"]]
        for probe in doc["probes"]:
            if probe["registry"] is not None and probe["registry"] not in entry_ids:
                out.append(f"probe {probe['id']} on {backend} names registry entry "
                           f"{probe['registry']!r}, which does not exist")
    return list(dict.fromkeys(out))
