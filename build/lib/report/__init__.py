"""The discrepancy report, built from records and the registry, never from logs.

Inputs: the records every backend session writes to ``reports/records/`` (the suite's
``suite-<backend>.json`` and the probes' ``probes-<backend>.json``) and the registry
``registry/entries/*.toml``. Outputs (``python -m report build``):

- ``docs/discrepancies.md``: summary matrix (topic × framework API), registry entries per
  framework and kind, one section per registry entry (what differs, who does what, the
  source, a reproducer per framework API), and each backend's suite evidence;
- ``docs/report.html``: the same, self-contained, with a heat-map picture of the matrix;
- ``docs/same-padding.md`` and ``docs/same-padding.svg``: which side 'same' pads;
- ``reports/discrepancies.json``: the registry, every record and the matrix (schema:
  ``docs/records-schema.md``);
- the README's generated blocks (between ``<!-- report:NAME:start/end -->`` markers);
- ``reports/evidence.md`` (not committed) and a printed table of counts: what depends on
  the machine.

``python -m report check`` rebuilds the committed files in memory and fails naming each
stale file. They are the same on every machine: no timestamps, paths, Python patch
versions or counts, and what depends on the CPU (probes and registry entries with a CPU
condition, Unsupported reasons that say "on this CPU") is described, not reported as one
machine observed it (:mod:`report.cpu`); that goes to ``reports/evidence.md``.

Modules: :mod:`report.records` (loading, validation, problems), :mod:`report.cpu` (the
machine-independent view), :mod:`report.evidence` (this machine's), :mod:`report.matrix`
(verdict classes), :mod:`report.reproducers`, :mod:`report.entries`, :mod:`report.suite`,
:mod:`report.same_padding`, :mod:`report.document` (assembly), :mod:`report.model` (blocks),
:mod:`report.markdown`, :mod:`report.html`, :mod:`report.svg`, :mod:`report.jsondoc`,
:mod:`report.build` (files, staleness).
"""
