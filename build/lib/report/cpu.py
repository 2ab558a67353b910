"""What depends on the CPU, and the machine-independent view of a run's records.

Some behaviour lives in kernels that a library picks by instruction set (oneDNN;
TensorFlow runs it by default only on CPUs with AVX512_VNNI, AVX512_BF16, AVX_VNNI or AMX).
The records of a run on one machine then differ from those of a run on another although
nothing is stale. Three things depend on the CPU:

- registry entries with a ``cpu`` condition (their suite status is ``not-on-this-cpu`` on a
  machine that does not meet it);
- probes whose registry entry (:func:`registry.probe_entry`) has a ``cpu``
  condition: what they observe, and so their verdict;
- the suite's counts (tests, compared cases, Unsupported cases per reason), and the
  Unsupported reasons that say ``"on this CPU"``: the adapters' convention for a capability
  the framework has on some instruction sets only.

:func:`publish` turns the records into the view the committed files are built from, with
those parts replaced by :data:`MARKER` or left out; the machine's own evidence goes to the
uncommitted ``reports/evidence.md`` (:mod:`report.evidence`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import registry
from backends import ON_THIS_CPU
from report.records import Evidence

#: The verdict and suite status that stand for "what this shows depends on the CPU".
MARKER = "depends-on-cpu"
#: The text by which an adapter's Unsupported reason says the capability depends on the CPU.
CPU_REASON = ON_THIS_CPU
#: Suite record keys kept in the published view (counts and per-reason tallies are not).
SUITE_KEYS = ("backend", "version", "hypothesis_profile", "tests_all_unsupported")


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
    explained = registry.probe_entry(list(gates.values()), probe["api"], probe["column"],
                                     probe["case"])
    return explained


def is_cpu_reason(reason: str) -> bool:
    """Whether an Unsupported reason says that the capability depends on the CPU."""
    return CPU_REASON in reason


def publish_probe(probe: Mapping[str, Any], entry: registry.Entry | None) -> dict[str, Any]:
    """``probe`` as the committed files show it: for a probe that depends on the CPU
    (``entry`` is its entry), the verdict is :data:`MARKER`, ``observed`` is
    ``{"depends_on_cpu": <the entry's condition>}`` and ``registry`` names the entry."""
    if entry is None:
        return dict(probe)
    return {**probe, "verdict": MARKER, "registry": entry.id,
            "observed": {"depends_on_cpu": condition(entry.cpu)}}


def publish_suite(doc: Mapping[str, Any], gates: Mapping[str, registry.Entry]
                  ) -> dict[str, Any]:
    """A suite records document less what depends on the machine: no counts; per registry
    entry its status and its reproducer's outcome (status :data:`MARKER` for an entry with a
    ``cpu`` condition); per op the Unsupported reasons that do not depend on the CPU; the
    unregistered differences without their case counts."""
    out: dict[str, Any] = {k: doc.get(k) for k in SUITE_KEYS}
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
