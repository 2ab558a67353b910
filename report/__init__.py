"""The discrepancy report, built from records and the registry, never from logs.

Inputs: the records every backend session writes to ``reports/records/`` (the suite's
``suite-<backend>.json`` and the probes' ``probes-<backend>.json``) and the registry
``registry/entries/*.toml``. Outputs (``python -m report build``):

- ``docs/discrepancies.md``: summary matrix (topic × framework API), registry entries per
  framework and kind, one section per registry entry (what differs, who does what, the
  source, a reproducer per framework API), and each backend's suite evidence;
- ``docs/report.html``: the same, self-contained, with a heat-map picture of the matrix, a
  table of contents and filters by framework, op, pass and kind;
- ``docs/same-padding.md`` and ``docs/same-padding.svg``: which side 'same' pads;
- ``reports/discrepancies.json``: the registry, every record and the matrix (JSON Schema:
  ``docs/discrepancies.schema.json``; described in ``docs/records-schema.md``);
- the README's generated blocks (between ``<!-- report:NAME:start/end -->`` markers);
- ``reports/evidence.md`` (not committed) and a printed table of counts: what depends on
  the machine.

``python -m report check`` rebuilds the committed files in memory and fails naming each
stale file. They are the same on every machine: no timestamps, paths, Python patch
versions or counts, and what depends on the CPU (probes and registry entries with a CPU
condition, Unsupported reasons that say "on this CPU") is described, not reported as one
machine observed it (:func:`report.records.publish`); that goes to ``reports/evidence.md``.

Modules, bottom up: :mod:`report.model` (blocks, value text), :mod:`report.records` (the
backends, loading, validation, problems, the machine-independent view),
:mod:`report.matrix` (verdict classes), :mod:`report.reproducers`, :mod:`report.render`
(Markdown, HTML, the heat map), :mod:`report.sections` (a registry entry's section, a
backend's suite evidence), :mod:`report.same_padding`, :mod:`report.evidence` (this
machine's), :mod:`report.document` (assembly), :mod:`report.jsondoc`, :mod:`report.__main__`
(files, staleness, the command line).
"""
