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

Every verdict other than ``follows-oracle`` must name the registry entry
(``tests/discrepancies.toml``) that explains it, or the run fails as an *unregistered
difference*; a probe that names an entry but follows the oracle fails the run as *stale*.

Usage, inside the backend's virtualenv::

    python -m probes torch --out reports/records/probes-torch.json

The record format is documented in ``docs/records-schema.md``.
"""

#: Probe backends: the suite's backend names, less the oracle itself.
BACKENDS = ("torch", "tensorflow", "keras-tensorflow", "keras-torch", "mxnet")

#: Verdicts that are not differences.
AGREEING = frozenset({"follows-oracle"})
