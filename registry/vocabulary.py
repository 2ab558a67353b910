"""The registry's vocabulary, written once: ops, kinds, topics, passes, entry keys, the
facts a ``when`` condition can test and the keys of a claim.

``docs/registry.md`` explains them; the loader (:mod:`registry.load`) validates against
them and :mod:`registry.facts` computes the facts.
"""

from __future__ import annotations

#: The forward operations and their vector-Jacobian products (the backward pass): an
#: entry about a gradient names a ``*_vjp`` op and says ``pass = "backward"``.
FORWARD_OPS = ("conv", "max_pool", "avg_pool")
BACKWARD_OPS = ("conv_vjp", "max_pool_vjp", "avg_pool_vjp")
OPS = FORWARD_OPS + BACKWARD_OPS
KINDS = ("convention", "deviation", "unsupported", "error-behaviour")
TOPICS = ("same-padding", "same-rejected", "avg-divisor", "max-pool-padding-value",
          "default-pool-stride", "ceil-mode", "nan-inf", "dtypes", "pool-dilation", "groups",
          "asymmetric-padding", "layouts", "empty-input", "bad-input")
#: The pass an entry concerns: the operation itself, or its gradient.
PASSES = ("forward", "backward")

REQUIRED = ("id", "backends", "frameworks", "api", "op", "topic", "kind", "summary",
            "description", "source")
OPTIONAL = ("when", "behaves_as", "claim", "reproducer", "cpu", "notes", "probes", "pass",
            "versions", "workaround")
#: Keys of an entry's ``workaround``: what code written for another framework does to get
#: the oracle's default here, in the framework's own API; or ``none``, why nothing can.
WORKAROUND_KEYS: dict[str, str] = {
    "text": "what to do, in one or two sentences",
    "code": "Python in the framework's own API that does it (optional; must compile)",
    "none": "why no native spelling gets the oracle's default (instead of text and code)",
}
REPRODUCER_KEYS = ("x_shape", "x", "w_shape", "w", "b", "dy", "params", "dtype", "variant")

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
    "crashes": "true: the call kills the process (how it died, e.g. 'killed by SIGFPE', "
               "matching `match` when given)",
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
    "gap_undilated": "per-dim: stride minus the kernel size, the dilation left out (the gap "
                     "an arithmetic that ignores the dilation sees)",
    "padded": "bool: some resolved padding is > 0",
    "same_undilated_fits": "bool: the dilated window fits the 'same' padding computed for "
                           "the undilated window (true for every other padding)",
    "same_total_negative": "bool: 'same' padding whose total before clamping at 0, "
                           "(ceil(n / s) - 1) * s + (k - 1) * d + 1 - n, is negative in some "
                           "dimension (the window is shorter than the stride there)",
    "same_reversed": "'same' padding split without clamping, (t // 2, t - t // 2) of the "
                     "total t = (k - 1) * d - (n - 1) % s, and when every dimension's is "
                     "symmetric applied to the dimensions in reverse order: 'asymmetric' "
                     "(some t odd: not reversed), 'cropped' (some t odd, some t < 0), "
                     "'rejected' (a reversed pad < 0 or leaving the window larger than the "
                     "padded input, or a pool's > kernel // 2), 'unchanged', 'moved' (the same "
                     "output shape) or 'reshaped' (registry.facts.same_reversed); absent "
                     "for other padding",
    "asymmetric": "bool: some resolved (lo, hi) has lo != hi",
    "pad_over_half": "bool: some resolved pad side is > kernel // 2 (pooling's usual limit)",
    "groups": "conv groups (as passed, possibly bad input)",
    "same_channels": "bool: conv O equals C",
    "implied_groups_fit": "bool: the shapes imply valid groups, C // w.shape[1] (what an API "
                          "without a groups argument computes)",
    "groups_consistent": "bool: conv groups is an int >= 1 with C = groups * w.shape[1] and "
                         "O divisible by it",
    "depthwise": "bool: conv with groups == C > 1",
    "out_channels": "conv O",
    "bias": "bool: conv with a bias",
    "bias_fits": "bool: conv with a bias of shape (O,) (False: a bias of another shape, bad "
                 "input; True without a bias)",
    "ceil_mode": "bool",
    "ceil_extends": "bool: ceil_mode gives more outputs than floor in some dimension",
    "count_include_pad": "bool (avg_pool)",
    "fill": "kind of values: 'exact', 'normal', 'negative', 'special', 'ramp', 'extreme', "
            "'nan-window', 'neg-inf-window' (see tests.support.strategies.FILLS), "
            "'reproducer' (literal arrays), 'bad-input' (tests.support.strategies.BAD_INPUTS)",
    "has_nan": "bool: the input (or a conv's weight, or a VJP's dy) holds a NaN",
    "has_inf": "bool: the input (or a conv's weight, or a VJP's dy) holds +inf or -inf",
    "has_subnormal": "bool: the input (or a conv's weight, or a VJP's dy) holds a subnormal "
                     "value of the dtype under test (nonzero, below its smallest normal)",
    "has_ties": "bool: a max pooling (or its VJP) has a window whose maximum several "
                "input cells hold",
    "all_neg_inf_window": "bool: a max pooling (or its VJP) has a window whose input cells "
                          "are all -inf",
    "neg_inf_window_from_padding": "bool: a max pooling (or its VJP) has a window whose "
                                   "input cells are all -inf and whose first cell (in "
                                   "row-major order) is padding",
    "empty": "bool: the input has no element (N = 0 or C = 0)",
    "input_below_kernel": "bool: some input size is smaller than the kernel (padding "
                          "may still make the window fit)",
    "window_cells": "cells of one window (product of the kernel sizes)",
    "invalid": "bool: arguments the oracle rejects (bad-input cases; exactly what "
               "reference.conv_geometry / pool_geometry raise on)",
    "window_larger": "bool: otherwise valid window arguments whose (dilated) window is larger "
                     "than the padded input, so that the output would be empty",
    "padding_only_window": "bool: a pooling whose padding is so large that some window "
                           "covers padding only (bad input to the oracle)",
    "variant": "the backend variant's name ('' for the default way of running)",
}
PER_DIM = frozenset({"in_sizes", "kernel", "stride", "dilation", "pads", "gap",
                     "gap_undilated"})
#: Facts that only some operations have; a condition on another op's fact is an error.
OP_FACTS: dict[str, frozenset[str]] = {
    "conv": frozenset({"groups", "groups_consistent", "implied_groups_fit", "same_channels",
                       "depthwise", "out_channels", "bias", "bias_fits"}),
    "pool": frozenset({"stride_default", "ceil_mode", "ceil_extends"}),
    "avg_pool": frozenset({"count_include_pad"}),
    "max_pool": frozenset({"has_ties", "all_neg_inf_window", "neg_inf_window_from_padding"}),
}


def forward_op(op: str) -> str:
    """The forward operation of ``op`` (``"conv"`` of ``"conv_vjp"``; a forward op itself)."""
    return op.removesuffix("_vjp")


def pass_of(op: str) -> str:
    """``"backward"`` for a vector-Jacobian product, else ``"forward"``."""
    return "backward" if op in BACKWARD_OPS else "forward"


def own_facts(op: str) -> frozenset[str]:
    """The op-specific facts ``op``'s cases have (a VJP has its forward op's)."""
    return {"conv": OP_FACTS["conv"], "max_pool": OP_FACTS["pool"] | OP_FACTS["max_pool"],
            "avg_pool": OP_FACTS["pool"] | OP_FACTS["avg_pool"]}.get(forward_op(op),
                                                                   frozenset())
