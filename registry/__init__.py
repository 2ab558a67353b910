"""The registry of known discrepancies: the data model tests, probes and report share.

``registry/entries/<framework>.toml`` hold one ``[[discrepancy]]`` table per known
difference between a framework and the oracle's default convention (format:
``docs/registry.md``). Each entry states a checkable claim of what the framework does
(:mod:`registry.claims`), the cases it applies to (``when``, over the facts of
:mod:`registry.facts`), a reproducer, the probes it explains and its source.
"""

from registry.claims import VALUE_MODELS, Claim, merge, oracle_call
from registry.entry import Entry, cpu_flags
from registry.facts import case_facts, matches
from registry.load import DEFAULT_PATH, RegistryError, load
from registry.reproducer import ReproducerCall, reproducer_call
from registry.vocabulary import CLAIM_KEYS, FACTS, KINDS, OPS, PASSES, TOPICS

__all__ = ["CLAIM_KEYS", "DEFAULT_PATH", "FACTS", "KINDS", "OPS", "PASSES", "TOPICS",
           "VALUE_MODELS", "Claim", "Entry", "RegistryError", "ReproducerCall", "case_facts",
           "cpu_flags", "load", "matches", "matching", "merge", "oracle_call",
           "probe_entry", "reproducer_call"]


def matching(entries: list[Entry], backend: str, op: str, facts: dict) -> list[Entry]:
    """The entries that apply to ``backend`` running ``op`` on a case with ``facts``."""
    return [e for e in entries if e.applies(backend, op, facts)]


def probe_entry(entries: list[Entry], api: str, column: str, case: str, variant: str = ""
                ) -> Entry | None:
    """The entry that explains probe ``case`` of ``api`` (report column ``column``), if
    any; an entry naming the exact API wins over one naming its column.

    A variant's probe (``variant`` given, ``column`` written ``base[variant]``) is explained
    by an entry naming that column, else by one naming its API or base column whose ``when``
    admits the variant; an entry whose ``when`` names variants explains no other probe."""
    def admits(e: Entry) -> bool:
        return "variant" not in e.when or matches({"variant": e.when["variant"]},
                                                  {"variant": variant})

    own = [e for e in entries if case in e.probes.get(column, ())] if variant else []
    if own:
        return own[0]
    base = column.removesuffix(f"[{variant}]") if variant else column
    candidates = [e for e in entries if admits(e)]
    exact = [e for e in candidates if case in e.probes.get(api, ())]
    if exact:
        return exact[0]
    return next((e for e in candidates if case in e.probes.get(base, ())), None)
