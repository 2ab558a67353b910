"""One known discrepancy as data, and the CPU conditions some of them carry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from registry.claims import Claim
from registry.facts import matches
from registry.versions import satisfies


@dataclass(frozen=True)
class Entry:
    """One known discrepancy (the fields of its TOML table).

    ``claim`` is what the framework does instead of the oracle's default (None for an
    entry that only probes check); ``probes`` maps a report column, or an exact API name,
    to the probe case keys the entry explains; ``versions`` maps a framework name to the
    version bound (:mod:`registry.versions`) within which the entry holds.
    """

    id: str
    backends: tuple[str, ...]
    op: str
    topic: str
    kind: str
    summary: str
    when: Mapping[str, Any] = field(default_factory=dict)
    claim: Claim | None = None
    reproducer: Mapping[str, Any] | None = None
    cpu: tuple[str | list[str], ...] = ()
    probes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    pass_: str = "forward"
    versions: Mapping[str, str] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def behaves_as(self) -> Mapping[str, Any] | None:
        """The oracle overrides of a value claim (None without one)."""
        if self.claim is None or self.claim.form != "values":
            return None
        return self.claim.overrides

    def missing_cpu_flags(self, flags: frozenset[str] | None) -> tuple[str, ...]:
        """The entry's CPU requirements that ``flags`` (this machine's, from
        :func:`cpu_flags`; None when unknown) does not meet, as text; empty when the entry
        applies here. A requirement is ``"flag"`` (the CPU has it), ``"!flag"`` (it lacks
        it) or a list of them (any one suffices)."""
        def met(req: str | list[str]) -> bool:
            if isinstance(req, list):
                return any(met(r) for r in req)
            if flags is None:
                return False
            return req[1:] not in flags if req.startswith("!") else req in flags
        return tuple(req if isinstance(req, str) else " or ".join(req)
                     for req in self.cpu if not met(req))

    def outside_versions(self, installed: Mapping[str, str]) -> tuple[str, ...]:
        """The entry's version bounds that the ``installed`` framework versions (framework
        name -> version) do not meet, as text (``"torch >=2.9"``); empty when the entry
        applies to them. A framework missing from ``installed`` meets every bound."""
        return tuple(f"{name} {bound}" for name, bound in sorted(self.versions.items())
                     if name in installed and not satisfies(installed[name], bound))

    def applies(self, backend: str, op: str, facts: Mapping[str, Any]) -> bool:
        """Whether the entry concerns ``backend`` running ``op`` on a case with ``facts``.

        An entry concerns bad input (a call the oracle rejects) only when its ``when``
        says so (``invalid = true``): a claim about what a framework computes is a claim
        about calls that have a result."""
        if facts.get("invalid") and "invalid" not in self.when:
            return False
        return backend in self.backends and op == self.op and matches(self.when, facts)

    def explains_probe(self, api: str, column: str, case: str) -> bool:
        """Whether the entry names probe ``case`` of ``api`` (or of its report column)."""
        return case in self.probes.get(api, ()) or case in self.probes.get(column, ())


def cpu_flags(cpuinfo: str | Path = "/proc/cpuinfo") -> frozenset[str] | None:
    """This machine's CPU feature flags as Linux names them (``avx512f``, ``amx_bf16``...),
    or None where ``cpuinfo`` cannot be read."""
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return None
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return None
