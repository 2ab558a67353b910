"""What a suite run observed, kept as data and written as JSON by ``--records PATH``.

The conformance helpers add to one :class:`Records` per session: Unsupported reasons per
operation, per registry entry how the cases that matched it behaved, and unregistered
differences. ``conftest.py`` adds the pytest outcome counts and writes the file; the
report is built from these files, never from logs.
"""

from __future__ import annotations

import json
import platform
from collections import Counter, defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: Per-entry case tallies: matched the entry's condition; did what the entry claims, where
#: that differs from the oracle's default; matched the default there instead (stale);
#: excluded (the entry's claim is that the case cannot be compared); did what the claim
#: says on a case where claim and default agree.
CASE_TALLIES = ("matched", "reproduced", "stale", "excluded", "indistinct")


class Records:
    """Observations of one run.

    Parameters
    ----------
    backend, version : str
        The backend's suite name and its framework version.
    entry_ids : list of str
        Registry entries that apply to this backend.
    off_cpu : mapping of str to tuple of str, optional
        Those of them that need CPU features this machine lacks, with the missing flags.
    outside : mapping of str to tuple of str, optional
        Those of them whose version bounds the installed frameworks do not meet, with the
        bounds not met (their reproducers run to check that they do not reproduce).
    """

    def __init__(self, backend: str, version: str, entry_ids: list[str],
                 off_cpu: Mapping[str, tuple[str, ...]] | None = None,
                 outside: Mapping[str, tuple[str, ...]] | None = None) -> None:
        self.backend = backend
        self.version = version
        self.unsupported: dict[str, Counter[str]] = defaultdict(Counter)
        self.entries: dict[str, Counter[str]] = {i: Counter() for i in entry_ids}
        self.reproducers: dict[str, str] = {}
        #: Entries that need CPU features this machine lacks, with the missing flags.
        self.off_cpu: dict[str, tuple[str, ...]] = dict(off_cpu or {})
        #: Entries outside their version bounds here, with the bounds not met.
        self.outside: dict[str, tuple[str, ...]] = dict(outside or {})
        self.unregistered: list[dict[str, Any]] = []
        self.outcomes: Counter[str] = Counter()
        #: Per op: cases whose values were compared (with the oracle's default or a claim),
        #: cases whose registered exception or Unsupported was seen as claimed, and cases
        #: an entry excludes from any comparison.
        self.checked: Counter[str] = Counter()
        self.claim_checked: Counter[str] = Counter()
        self.excluded: Counter[str] = Counter()
        #: Node id of the running test, set by conftest.py, for unregistered differences.
        self.current_test = ""
        #: Per test: cases compared and cases Unsupported (to flag tests that compared none).
        self.per_test: dict[str, Counter[str]] = defaultdict(Counter)
        #: Per test: the Unsupported reasons (and exclusions) it met, with counts.
        self.reasons: dict[str, Counter[str]] = defaultdict(Counter)
        #: The hypothesis profile of the run, set by conftest.py.
        self.profile = ""
        #: The backend's kernel-learning loop against the oracle's (set by
        #: tests/conformance/test_learn_kernel.py): final kernel, deviations, bounds.
        self.learn_kernel: dict[str, Any] | None = None
        #: Node ids of the hypothesis tests that ran (set by conftest.py), and per test the
        #: cases it ran: the examples a profile gave.
        self.property_tests: set[str] = set()
        self.cases_run: Counter[str] = Counter()

    def add_unsupported(self, op: str, reason: str) -> None:
        """A case the backend declined with ``Unsupported(reason)``."""
        self.unsupported[op][reason] += 1
        self.per_test[self.current_test]["unsupported"] += 1
        self.reasons[self.current_test][reason] += 1

    def add_checked(self, op: str) -> None:
        """A case that was compared with the oracle (passed or not)."""
        self.checked[op] += 1
        self.per_test[self.current_test]["checked"] += 1

    def add_claim_checked(self, op: str) -> None:
        """A case whose registered exception or Unsupported was seen as claimed."""
        self.claim_checked[op] += 1
        self.per_test[self.current_test]["claim_checked"] += 1

    def add_excluded(self, op: str) -> None:
        """A case a registry entry excludes from every comparison."""
        self.excluded[op] += 1
        self.per_test[self.current_test]["excluded"] += 1
        self.reasons[self.current_test]["excluded by a registry entry"] += 1

    def compared_nothing(self, test: str) -> bool:
        """Whether ``test`` compared no case: every case it drew was declined (or
        excluded)."""
        c = self.per_test.get(test, Counter())
        return bool(c["unsupported"] or c["excluded"]) and not (c["checked"]
                                                                 or c["claim_checked"])

    def reasons_of(self, test: str) -> list[str]:
        """The Unsupported reasons and exclusions ``test`` met, most frequent first."""
        counts = self.reasons.get(test, Counter())
        return [f"{reason} ({n} cases)" for reason, n in counts.most_common()]

    def total_compared(self) -> int:
        """Cases compared or claim-checked in the whole run."""
        return sum(self.checked.values()) + sum(self.claim_checked.values())

    def add_entry_case(self, entry_id: str, tally: str) -> None:
        """A case that matched registry entry ``entry_id``; ``tally`` from :data:`CASE_TALLIES`."""
        counts = self.entries.setdefault(entry_id, Counter())
        counts["matched"] += 1
        if tally != "matched":
            counts[tally] += 1

    def add_reproducer(self, entry_id: str, outcome: str) -> None:
        """The outcome of entry ``entry_id``'s reproducer: "reproduced", "stale",
        "unsupported" (the backend declined it with Unsupported where the entry claims
        something else) or "broken" (it neither does what the entry claims nor follows
        the default)."""
        self.reproducers[entry_id] = outcome

    def add_unregistered(self, test: str, op: str, text: str) -> None:
        """A difference from the oracle that no registry entry explains."""
        # Hypothesis calls a failing test many times while shrinking and replays the
        # minimal example last: keep one record per test, the last one, with a count.
        test = test or self.current_test
        previous = [u for u in self.unregistered if u["test"] == test and u["op"] == op]
        count = previous[0]["cases"] + 1 if previous else 1
        self.unregistered = [u for u in self.unregistered if u not in previous]
        self.unregistered.append({"test": test, "op": op, "difference": text, "cases": count})

    def entry_status(self, entry_id: str) -> str:
        """``stale`` (a reproducer or a case now follows the oracle's default),
        ``reproduced`` (the reproducer failed as registered, or a case followed
        ``behaves_as``), ``not-on-this-cpu`` (the entry concerns CPU features this
        machine lacks), ``outside-versions`` (the installed framework versions lie
        outside the entry's version bounds) or ``not-exercised``."""
        if entry_id in self.off_cpu:
            return "not-on-this-cpu"
        if entry_id in self.outside:
            return "outside-versions"
        counts = self.entries.get(entry_id, Counter())
        repro = self.reproducers.get(entry_id)
        if repro == "stale" or counts["stale"]:
            return "stale"
        if repro == "broken":
            return "broken"
        if repro == "reproduced" or counts["reproduced"]:
            return "reproduced"
        return "not-exercised"

    def as_dict(self) -> dict[str, Any]:
        """The JSON document (schema: the keys below; counts are ints)."""
        return {
            "schema": "conv-conformance suite records 1",
            "backend": self.backend,
            "version": self.version,
            "python": platform.python_version(),
            "hypothesis_profile": self.profile,
            "hypothesis_examples": self.examples(),
            # "unsupported": how many of the skipped tests the backend declined
            "counts": {k: self.outcomes[k] for k in
                       ("passed", "failed", "xfailed", "xpassed", "skipped", "unsupported",
                        "error")},
            "cases_checked": dict(self.checked),
            "cases_claim_checked": dict(self.claim_checked),
            "cases_excluded": dict(self.excluded),
            "unsupported": {op: [{"reason": r, "count": n} for r, n in sorted(c.items())]
                            for op, c in sorted(self.unsupported.items())},
            "registry": {
                i: {"status": self.entry_status(i),
                    **({"cpu_missing": list(self.off_cpu[i])} if i in self.off_cpu else {}),
                    **({"versions_not_met": list(self.outside[i])} if i in self.outside
                       else {}),
                    "reproducer": self.reproducers.get(i, "not-run"),
                    "cases": {t: self.entries.get(i, Counter())[t] for t in CASE_TALLIES}}
                for i in sorted(self.entries)
            },
            "unregistered": self.unregistered,
            "tests_all_unsupported": self.all_unsupported(),
            **({"learn_kernel": self.learn_kernel} if self.learn_kernel else {}),
        }

    def examples(self) -> dict[str, int]:
        """The hypothesis tests that ran and the examples (cases) they ran in all."""
        return {"tests": len(self.property_tests),
                "examples": sum(self.cases_run[t] for t in self.property_tests)}

    def all_unsupported(self) -> list[str]:
        """Property tests (several cases) whose every case the backend declined: they
        compared nothing. A fixed-case test shows its Unsupported as a skip instead."""
        return sorted(t for t in self.per_test if self.compared_nothing(t))

    def write(self, path: str | Path) -> None:
        """Write :meth:`as_dict` as JSON to ``path`` (directories created)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.as_dict(), indent=2, sort_keys=False) + "\n")

    def summary_lines(self) -> list[str]:
        """Lines for the terminal summary."""
        def per_op(counts: Counter[str]) -> str:
            return ", ".join(f"{op} {n}" for op, n in sorted(counts.items())) or "none"
        lines = [f"backend {self.backend} {self.version}: cases compared "
                 f"{per_op(self.checked)}; registered exception/Unsupported seen "
                 f"{per_op(self.claim_checked)}; excluded {per_op(self.excluded)}"]
        examples = self.examples()
        if examples["tests"]:
            lines.append(f"hypothesis profile {self.profile or 'n/a'}: {examples['tests']} "
                         f"property tests ran {examples['examples']} examples")
        for op, reasons in sorted(self.unsupported.items()):
            for reason, n in sorted(reasons.items()):
                lines.append(f"Unsupported {op} ({n} cases): {reason}")
        if self.learn_kernel:
            lk = self.learn_kernel
            lines.append(f"learn_kernel: {lk['steps']} steps, final kernel "
                         f"{lk['final_kernel']}, max |K - K_oracle| "
                         f"{lk['max_kernel_deviation']:.3g} (bound "
                         f"{lk['kernel_bound']:.3g})")
        status = Counter(self.entry_status(i) for i in self.entries)
        if self.entries:
            lines.append("registry entries: " + ", ".join(
                f"{n} {s}" for s, n in sorted(status.items())))
            lines += [f"  STALE: {i}" for i in sorted(self.entries)
                      if self.entry_status(i) == "stale"]
        lines += [f"compared nothing (every case Unsupported or excluded): {t}"
                  for t in self.all_unsupported()]
        for u in self.unregistered:
            lines.append(f"UNREGISTERED difference in {u['test']} ({u['op']}): "
                         + u["difference"].splitlines()[0])
        return lines
