"""The registry's vocabulary, written once: ops, kinds, topics, passes, entry keys, the
facts a ``when`` condition can test and the keys of a claim.

``docs/registry.md`` explains them; the loader (:mod:`registry.load`) validates against
them and :mod:`registry.facts` computes the facts.
"""

from __future__ import annotations

OPS = ("conv", "max_pool", "avg_pool")
KINDS = ("convention", "deviation", "unsupported", "error-behaviour")
TOPICS = ("same-padding", "same-rejected", "avg-divisor", "max-pool-padding-value",
          "default-pool-stride", "ceil-mode", "nan-inf", "dtypes", "pool-dilation", "groups",
          "asymmetric-padding", "layouts", "bad-input")
#: The pass an entry concerns: the operation itself, or its gradient.
PASSES = ("forward", "backward")

REQUIRED = ("id", "backends", "frameworks", "api", "op", "topic", "kind", "summary",
            "description", "source")
OPTIONAL = ("when", "behaves_as", "claim", "reproducer", "cpu", "notes", "probes", "pass",
            "versions")
REPRODUCER_KEYS = ("x_shape", "x", "w_shape", "w", "b", "params", "dtype", "variant")

#: Keys of an entry's ``claim`` table: what the framework does instead of the oracle's
#: default, in a form the suite checks on every case the entry matches.
CLAIM_KEYS: dict[str, str] = {
    "values": "list of named value models applied to the oracle's result "
              "(see registry.claims.VALUE_MODELS)",
    "dtype": "dtype name of the result (default: the input's dtype)",
    "accumulation": "dtype name the framework accumulates sums or holds partial results "
                    "in, or 'input' for the input's own dtype (default: float32 for "
                    "float16/bfloat16; the tolerance then uses its unit round-off)",
    "raises": "exception class name the framework raises (any class of that name in the "
              "exception's MRO)",
    "match": "regular expression the raised exception's message (or the Unsupported "
             "reason) must contain",
    "unsupported": "true: the adapter declines the case with Unsupported (reason matching "
                   "`match` when given)",
    "excluded": "written reason why the matched cases cannot be compared at all (values "
                "read from uninitialised memory...): counted and shown apart",
}

#: The facts of a case that ``when`` can test. Per-dimension facts hold one value per
#: spatial dimension; a condition on them holds when ANY dimension satisfies it (wrap
#: it in ``{ all = ... }`` to require every dimension).
FACTS: dict[str, str] = {
    "dtype": "name of the dtype under test: float16, bfloat16, float32, float64, int8, ...",
    "ndim": "number of spatial dimensions (1, 2, 3)",
    "batch": "N",
    "channels": "C, input channels",
    "in_sizes": "per-dim: input spatial sizes",
    "kernel": "per-dim: window size (kernel_size for pooling, weight's for conv)",
    "stride": "per-dim: stride (a pool's default stride is its kernel size)",
    "stride_default": "bool: a pool called without stride (stride=None)",
    "dilation": "per-dim: dilation",
    "padding": "the padding argument's mode: 'valid', 'same', 'same_lower' or 'explicit'",
    "padding_form": "'int', 'per_dim', 'pairs', 'valid', 'same' or 'same_lower'",
    "pads": "per-dim: larger side of the resolved (lo, hi) padding",
    "gap": "per-dim: stride minus the window's extent ((kernel - 1) * dilation + 1); "
           "> 0 where consecutive windows leave input cells out",
    "padded": "bool: some resolved padding is > 0",
    "asymmetric": "bool: some resolved (lo, hi) has lo != hi",
    "pad_over_half": "bool: some resolved pad side is > kernel // 2 (pooling's usual limit)",
    "groups": "conv groups",
    "depthwise": "bool: conv with groups == C > 1",
    "out_channels": "conv O",
    "bias": "bool: conv with a bias",
    "ceil_mode": "bool",
    "ceil_extends": "bool: ceil_mode gives more outputs than floor in some dimension",
    "count_include_pad": "bool (avg_pool)",
    "fill": "kind of values: 'exact', 'normal', 'negative', 'special', 'ramp', 'extreme', "
            "'reproducer'",
    "has_nan": "bool: the input (or a conv's weight) holds a NaN",
    "has_inf": "bool: the input (or a conv's weight) holds +inf or -inf",
    "empty": "bool: the input has no element (N = 0 or C = 0)",
    "input_below_kernel": "bool: some input size is smaller than the kernel (padding "
                          "may still make the window fit)",
    "window_cells": "cells of one window (product of the kernel sizes)",
    "invalid": "bool: arguments the oracle rejects (bad-input cases)",
    "variant": "the backend variant's name ('' for the default way of running)",
}
PER_DIM = frozenset({"in_sizes", "kernel", "stride", "dilation", "pads", "gap"})
#: Facts that only some operations have; a condition on another op's fact is an error.
OP_FACTS: dict[str, frozenset[str]] = {
    "conv": frozenset({"groups", "depthwise", "out_channels", "bias"}),
    "pool": frozenset({"stride_default", "ceil_mode", "ceil_extends"}),
    "avg_pool": frozenset({"count_include_pad"}),
}


def own_facts(op: str) -> frozenset[str]:
    """The op-specific facts ``op``'s cases have."""
    return {"conv": OP_FACTS["conv"], "max_pool": OP_FACTS["pool"],
            "avg_pool": OP_FACTS["pool"] | OP_FACTS["avg_pool"]}.get(op, frozenset())
