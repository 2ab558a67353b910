"""Convention probes: run each framework's own APIs on small cases and record which
convention it follows.

A probe is one copy-paste snippet that calls a framework API (``torch.nn.functional``,
``torch.nn``, ``tf.nn``, ``keras.layers``, ``mx.nd``, ``mxnet.gluon.nn``) on a small input,
with the framework's default arguments or typical ones, and prints the telling numbers. The
snippet runs in a worker subprocess (so a crash is an observation, not the end of the run);
the oracle computes the answer under each candidate convention (its own default first);
the probe's verdict says which one the framework followed:

``follows-oracle``
    the oracle's default convention (or, for bad input, both reject it);
``follows:<convention>``
    another named convention, e.g. ``follows:same_lower``;
``differs``
    values that match no candidate (or values where the oracle rejects the input);
``unsupported``
    the API cannot express the case (it raises for a missing feature);
``raises``
    it raises where the oracle computes an answer;
``crashes``
    the process died.

Every verdict other than ``follows-oracle`` must be explained by a registry entry (one
whose ``probes`` table names the probe's case under its API or report column), or the run
fails as an *unregistered difference*; a probe that an entry names but that follows the
oracle fails the run as *stale*.

Usage, inside the backend's virtualenv::

    python -m probes torch --out reports/records/probes-torch.json
    python -m probes "torch[compile]" --out "reports/records/probes-torch[compile].json"

A variant's probes (:data:`VARIANT_TOPICS` only) are its backend's scripts run under the
variant's setting, in the report column ``column[variant]``.

The record format is documented in ``docs/records-schema.md``.
"""

from backends.table import probe_backends, variant_keys

#: Probe backends: the built-in backends with probed public APIs, each followed by its
#: variants (``torch[channels_last]``), in the table's order.
BACKENDS = tuple(key for spec in probe_backends() for key in (spec.name, *variant_keys(spec)))

#: The topics a variant's probes cover: where running the same API another way could
#: change a convention (NaN and infinities, accumulation and result dtypes, 'same' padding,
#: memory layouts).
VARIANT_TOPICS = ("same-padding", "nan-inf", "dtypes", "layouts")

#: Verdicts that are not differences.
AGREEING = frozenset({"follows-oracle"})
