"""The records every backend session writes (reports/records/): the list of backends,
loading and validation, problems, and the machine-independent view the committed files are
built from.

``suite-<backend>.json`` comes from the conformance suite (tests/support/records.py),
``probes-<backend>.json`` from the probes (probes/run.py). The report reads nothing else
of a run. Fields that describe the machine rather than the framework (the Python patch
version) are dropped on loading.

Some behaviour lives in kernels that a library picks by instruction set (oneDNN;
TensorFlow runs it by default only on CPUs with AVX512_VNNI, AVX512_BF16, AVX_VNNI or AMX),
so the records of two machines differ although nothing is stale. Three things depend on the
CPU:

- registry entries with a ``cpu`` condition (their suite status is ``not-on-this-cpu`` on a
  machine that does not meet it);
- probes whose registry entry (:func:`registry.probe_entry`) has a ``cpu``
  condition: what they observe, and so their verdict;
- the suite's counts (tests, compared cases, Unsupported cases per reason), and the
  Unsupported reasons that say ``"on this CPU"``: the adapters' convention for a capability
  the framework has on some instruction sets only.

:func:`publish` turns the records into the view the committed files are built from, with
those parts replaced by :data:`report.model.MARKER` or left out; the machine's own evidence
goes to the uncommitted ``reports/evidence.md`` (:mod:`report.evidence`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import registry
from backends import ON_THIS_CPU
from backends.table import BACKENDS as TABLE
from backends.table import TEST_COMMAND_VARIANT_SESSIONS, variant_keys
from report.model import MARKER

#: Every backend the report knows, in report order, each followed by its variants that the
#: test command runs (``torch[channels_last]``: a variant is one more backend key of the
#: records): suite backend -> (framework, display name, the nox session that writes its
#: records). The probe backends are all but numpy.
BACKENDS: dict[str, tuple[str, str, str]] = {}
for _spec in TABLE:
    BACKENDS[_spec.name] = (_spec.framework, _spec.display, _spec.nox_session)
    if f"{_spec.session}_variants" not in TEST_COMMAND_VARIANT_SESSIONS:
        continue
    for _key in variant_keys(_spec, on_demand=False):
        BACKENDS[_key] = (_spec.framework, f"{_spec.display} [{_key.partition('[')[2][:-1]}]",
                          f"{_spec.session}_variants")
SUITE_BACKENDS = tuple(BACKENDS)
PROBE_BACKENDS = tuple(b for b in BACKENDS if b != "numpy")
#: The frameworks the registry's entries name, in report order.
FRAMEWORKS = tuple(dict.fromkeys(BACKENDS[b][0] for b in PROBE_BACKENDS))
#: Where ``python -m report build`` writes the machine's own evidence (not committed).
EVIDENCE = "reports/evidence.md"

SUITE_SCHEMA = "conv-conformance suite records 1"
PROBE_SCHEMA = "conv-conformance probe records 1"
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
        lines += [f"  {_shown(path)}   <- nox -s \"{BACKENDS[backend][2]}\""
                  for path, backend in missing]
        names = " ".join(f'"{BACKENDS[b][2]}"' for b in sessions)
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


#: Record files by kind: the file name's prefix, the schema, the document's keys, and (for
#: probes) each listed record's keys.
KINDS = {"suite": ("suite", SUITE_SCHEMA, SUITE_KEYS, ()),
         "probes": ("probes", PROBE_SCHEMA, PROBE_DOC_KEYS, PROBE_KEYS)}


def expected_files(directory: Path) -> list[tuple[Path, str, str]]:
    """Every record file a complete run writes: (path, kind, the backend that writes it)."""
    return [(Path(directory) / f"{kind}-{b}.json", kind, b)
            for kind, backends in (("suite", SUITE_BACKENDS), ("probes", PROBE_BACKENDS))
            for b in backends]


def validate(doc: Any, kind: str, where: str) -> list[str]:
    """Problems with a records document of ``kind`` ("suite" or "probes"): its type, keys,
    schema and (for probes) each probe's keys; empty if it is well-formed."""
    _, schema, keys, record_keys = KINDS[kind]
    if not isinstance(doc, dict):
        return [f"{where}: not a JSON object"]
    problems = [f"{where}: missing key {k!r}" for k in keys if k not in doc]
    if doc.get("schema") != schema:
        problems.append(f"{where}: schema {doc.get('schema')!r}, expected {schema!r}")
    for i, record in enumerate(doc.get("probes", []) if record_keys else []):
        problems += [f"{where}: probe #{i}: missing key {k!r}" for k in record_keys
                     if k not in record]
    return problems


def load(directory: Path) -> Evidence:
    """Read and validate every record file in ``directory``; the suite documents lose
    their :data:`MACHINE_FIELDS`.

    Raises
    ------
    MissingRecords
        When any of :func:`expected_files` is absent (all of them are named).
    RecordsError
        When a file is not valid JSON or lacks a key the report needs.
    """
    files = expected_files(directory)
    missing = [(p, b) for p, _, b in files if not p.exists()]
    if missing:
        raise MissingRecords(missing)
    docs: dict[str, dict[str, Any]] = {"suite": {}, "probes": {}}
    problems: list[str] = []
    for path, kind, backend in files:
        try:
            doc = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise RecordsError(f"{path}: not valid JSON ({err})") from err
        problems += validate(doc, kind, path.name)
        docs[kind][backend] = ({k: v for k, v in doc.items() if k not in MACHINE_FIELDS}
                               if kind == "suite" and isinstance(doc, dict) else doc)
    if problems:
        raise RecordsError("malformed records:\n  " + "\n  ".join(problems))
    return Evidence(docs["suite"], docs["probes"])


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


#: The text by which an adapter's Unsupported reason says the capability depends on the CPU.
CPU_REASON = ON_THIS_CPU
#: Suite record keys kept in the published view (counts and per-reason tallies are not).
PUBLISHED_SUITE_KEYS = ("backend", "version", "hypothesis_profile", "tests_all_unsupported")


def flag_name(flag: str) -> str:
    """A Linux CPU flag as Intel's documentation spells it: ``avx512_vnni`` -> ``AVX512_VNNI``."""
    return flag.upper()


def _any_of(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def condition(cpu: Iterable[str | list[str]]) -> str:
    """A registry entry's ``cpu`` requirements in words, e.g. "CPUs with AVX512F" or "CPUs
    without AVX512_VNNI or AMX_BF16" (lacking each of them).

    Requirements all hold: ``"flag"`` (the CPU has it), ``"!flag"`` (it lacks it), or a list
    of them (any one suffices). Consecutive single negative requirements are one "without"
    clause; an any-of list is one "with ... or ..." clause (its negative members "without").
    """
    clauses: list[str] = []
    lacking: list[str] = []
    for req in cpu:
        if isinstance(req, str) and req.startswith("!"):
            lacking.append(flag_name(req[1:]))
            continue
        if lacking:
            clauses.append("without " + _any_of(lacking))
            lacking = []
        if isinstance(req, str):
            clauses.append("with " + flag_name(req))
            continue
        parts = [("without " if r.startswith("!") else "") + flag_name(r.lstrip("!"))
                 for r in req]
        clauses.append(("" if parts[0].startswith("without ") else "with ") + _any_of(parts))
    if lacking:
        clauses.append("without " + _any_of(lacking))
    return "CPUs " + " and ".join(clauses) if clauses else "every CPU"


def gated(entries: Iterable[registry.Entry]) -> dict[str, registry.Entry]:
    """The registry entries with a ``cpu`` condition, by id."""
    return {e.id: e for e in entries if e.cpu}


def cpu_entry(probe: Mapping[str, Any], gates: Mapping[str, registry.Entry]
              ) -> registry.Entry | None:
    """The entry with a ``cpu`` condition that explains ``probe`` where the condition holds
    (whether or not it holds on this machine), or None for a probe whose result does not
    depend on the CPU."""
    if probe["registry"] in gates:
        return gates[probe["registry"]]
    return registry.probe_entry(list(gates.values()), probe["api"], probe["column"],
                                probe["case"])


def is_cpu_reason(reason: str) -> bool:
    """Whether an Unsupported reason says that the capability depends on the CPU."""
    return CPU_REASON in reason


def publish_probe(probe: Mapping[str, Any], entry: registry.Entry | None) -> dict[str, Any]:
    """``probe`` as the committed files show it: for a probe that depends on the CPU
    (``entry`` is its entry), the verdict is :data:`MARKER`, ``observed`` is
    ``{"depends_on_cpu": <the entry's condition>}`` and ``registry`` names the entry.

    A framework that rejects bad input as the oracle does shows the exception's type
    only: its message may come from a kernel the CPU picks (TensorFlow's stride check
    reads "Stride must be > 0" under oneDNN and "Row and column strides should be larger
    than 0" in its own kernels), and no verdict depends on it."""
    if entry is None:
        observed = probe.get("observed") or {}
        if probe.get("verdict") == "follows-oracle" and "exception" in observed:
            return {**probe, "observed": {**observed, "exception": {
                "type": observed["exception"].get("type")}}}
        return dict(probe)
    return {**probe, "verdict": MARKER, "registry": entry.id,
            "observed": {"depends_on_cpu": condition(entry.cpu)}}


def publish_suite(doc: Mapping[str, Any], gates: Mapping[str, registry.Entry]
                  ) -> dict[str, Any]:
    """A suite records document less what depends on the machine: no counts; per registry
    entry its status and its reproducer's outcome (status :data:`MARKER` for an entry with a
    ``cpu`` condition); per op the Unsupported reasons that do not depend on the CPU; the
    unregistered differences without their case counts."""
    out: dict[str, Any] = {k: doc.get(k) for k in PUBLISHED_SUITE_KEYS}
    out["registry"] = {i: ({"status": MARKER} if i in gates else
                           {"status": s["status"], "reproducer": s["reproducer"]})
                       for i, s in sorted(doc["registry"].items())}
    reasons = {op: sorted(r["reason"] for r in rs if not is_cpu_reason(r["reason"]))
               for op, rs in sorted(doc["unsupported"].items())}
    out["unsupported"] = {op: rs for op, rs in reasons.items() if rs}
    out["unregistered"] = [{k: v for k, v in u.items() if k != "cases"}
                           for u in doc["unregistered"]]
    return out


def publish(evidence: Evidence, entries: Iterable[registry.Entry]) -> Evidence:
    """The machine-independent view of ``evidence`` (see :func:`publish_probe`,
    :func:`publish_suite`)."""
    gates = gated(entries)
    suites = {b: publish_suite(d, gates) for b, d in evidence.suites.items()}
    probes = {b: {**d, "probes": [publish_probe(p, cpu_entry(p, gates)) for p in d["probes"]]}
              for b, d in evidence.probes.items()}
    return Evidence(suites, probes)
