"""The probe questions, framework-neutral: one small input, the oracle's arguments, and the
conventions a framework might follow instead of the oracle's default.

Each :class:`Case` is asked of every framework API that can express it (see
:mod:`probes.render`). ``params`` are the oracle's keyword arguments; an argument left out
is left out of the framework call too, so the case probes the framework's default for it.
The candidate conventions are computed with the oracle (``reference``) in the probe run,
never in the framework's process.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import reference
import registry
from reference.dtypes import numpy_dtype

#: A candidate convention: (op, x, w, b, params) -> the array the framework would return,
#: possibly a masked array whose masked cells are "any value".
CandidateFn = Callable[[str, np.ndarray, "np.ndarray | None", "np.ndarray | None", dict], Any]


def oracle_call(op: str, x: np.ndarray, w: np.ndarray | None, b: np.ndarray | None,
                params: Mapping[str, Any], dy: np.ndarray | None = None,
                grad: str = "x") -> np.ndarray:
    """The oracle's ``op`` on the case's arrays with ``params``; for a backward case
    (``*_vjp``) the gradient ``grad`` (``"x"``, ``"w"`` or ``"b"``) against ``dy``."""
    kw = dict(params)
    if op == "conv":
        return reference.conv(x, w, b, **kw)
    if op == "conv_vjp":
        return reference.conv_vjp(x, w, dy, **kw)["xwb".index(grad)]
    kernel = kw.pop("kernel_size")
    if op.endswith("_vjp"):
        return getattr(reference, op)(x, dy, kernel, **kw)
    return getattr(reference, op)(x, kernel, **kw)


def overrides(**changes: Any) -> CandidateFn:
    """The oracle called with some arguments changed (e.g. ``padding="same_lower"``)."""

    def candidate(op, x, w, b, params, dy=None, grad="x"):
        return oracle_call(op, x, w, b, {**params, **changes}, dy, grad)

    return candidate


def value_model(name: str) -> CandidateFn:
    """The registry's value model ``name`` (:data:`registry.VALUE_MODELS`) as a candidate:
    the one home of each alternative convention, shared with the registry's claims."""
    claim = registry.Claim(values=(name,))

    def candidate(op, x, w, b, params, dy=None, grad="x"):
        arrays = {"x": x, "w": w, "b": b} if dy is None else {"x": x, "w": w, "dy": dy}
        return claim.expected(op, arrays, params, np.asarray(x).dtype.name)[0]

    candidate.__doc__ = registry.VALUE_MODELS[name].__doc__
    return candidate


zero_padding = value_model("zero-padding")
edge_replicated = value_model("edge-replicated")
nan_ignored = value_model("nan-skipped")
lowest_finite = value_model("neg-inf-lowest")
truncated = value_model("int-truncated")
keeps_last_window = value_model("full-convention")


def in_float32(op, x, w, b, params):
    """The case computed in float32 (64-bit input silently narrowed)."""
    return oracle_call(op, x.astype(np.float32), None if w is None else w.astype(np.float32),
                       None if b is None else b.astype(np.float32), params)


@dataclass(frozen=True)
class Case:
    """One framework-neutral probe question.

    Attributes
    ----------
    key : str
        Stable name, shared by the probes of every framework that ask it.
    topic, op : str
        Report topic (registry vocabulary) and oracle operation.
    title : str
        The question in words.
    x, w, b : str or None
        NumPy expressions (``np`` in scope) for the channels-first input, weight, bias.
    params : dict
        The oracle's keyword arguments; left-out ones are framework defaults.
    candidates : dict
        Name -> candidate convention, besides the oracle's default.
    dtype : str
        Dtype the framework is asked to compute in.
    dy : str or None
        A backward case's (``op`` ending in ``_vjp``) output gradient, a NumPy expression
        in the forward's output shape.
    on_error : str
        Verdict when the framework raises and the oracle does not: ``"unsupported"`` (the
        API lacks the feature) or ``"raises"``.
    """

    key: str
    topic: str
    op: str
    title: str
    x: str
    params: dict[str, Any]
    w: str | None = None
    b: str | None = None
    candidates: dict[str, CandidateFn] = field(default_factory=dict)
    dtype: str = "float32"
    on_error: str = "unsupported"
    #: Free-form hints for the renderers (e.g. ``{"layout": "other"}``; a backward
    #: convolution's ``{"grad": "w"}`` or ``"b"``: which gradient the probe asks for;
    #: ``"frameworks"``: the only frameworks the case is asked of, for a question about
    #: one framework's setting; ``"default_settings"``: run with the framework's default
    #: settings).
    hints: dict[str, Any] = field(default_factory=dict)
    dy: str | None = None

    @property
    def backward(self) -> bool:
        """Whether the case asks for a gradient (the backward pass)."""
        return self.op.endswith("_vjp")

    @property
    def grad(self) -> str:
        """Which gradient a backward case asks for: ``"x"``, ``"w"`` or ``"b"``."""
        return str(self.hints.get("grad", "x"))

    @property
    def nd(self) -> int:
        """Number of spatial dimensions."""
        return int(np.asarray(eval_array(self.x)).ndim) - 2


def eval_array(expr: str) -> np.ndarray:
    """Evaluate a case's array expression (trusted, from this module) with ``np``."""
    return eval(expr, {"np": np})


R5 = "np.arange(1, 6, dtype=np.float32).reshape(1, 1, 5)"
R6 = "np.arange(1, 7, dtype=np.float32).reshape(1, 1, 6)"
R7 = "np.arange(1, 8, dtype=np.float32).reshape(1, 1, 7)"
NEG9 = "-np.arange(1, 10, dtype=np.float32).reshape(1, 1, 3, 3)"
K2 = "np.ones((1, 1, 2), dtype=np.float32)"

CASES: list[Case] = [
    # ------------------------------------------------------------------ same padding
    Case("conv-same-even-kernel", "same-padding", "conv",
         "'same' convolution with an even kernel (2): which side gets the extra zero?",
         R5, {"padding": "same"}, w=K2,
         candidates={"same_lower": overrides(padding="same_lower")}),
    Case("conv-same-stride-2", "same-padding", "conv",
         "'same' convolution, kernel 3, stride 2 on an even size (6): which side is padded?",
         "np.arange(1, 25, dtype=np.float32).reshape(1, 1, 4, 6)",
         {"stride": 2, "padding": "same"}, w="np.ones((1, 1, 3, 3), dtype=np.float32)",
         candidates={"same_lower": overrides(padding="same_lower")}),
    Case("conv-same-dilation", "same-padding", "conv",
         "'same' convolution, kernel 2 with dilation 3 (reach 4): which side gets the odd zero?",
         R7, {"padding": "same", "dilation": 3}, w=K2,
         candidates={"same_lower": overrides(padding="same_lower")}),
    Case("max-pool-same-even", "same-padding", "max_pool",
         "'same' max pooling, window 2, stride 1: which side is padded?",
         R5, {"kernel_size": 2, "stride": 1, "padding": "same"},
         candidates={"same_lower": overrides(padding="same_lower")}),
    Case("avg-pool-same-edge", "same-padding", "avg_pool",
         "'same' average pooling, window 3, stride 2 on 4 cells: what fills the one cell "
         "of padding at the end?",
         "np.arange(1, 5, dtype=np.float32).reshape(1, 1, 4)",
         {"kernel_size": 3, "stride": 2, "padding": "same"},
         candidates={
             "count_include_pad=False": overrides(count_include_pad=False),
             "edge values replicated": edge_replicated,
         }),
    Case("avg-pool-same-stride-2", "same-padding", "avg_pool",
         "'same' average pooling, window 2, stride 2 on 5 cells: which side, which divisor?",
         R5, {"kernel_size": 2, "stride": 2, "padding": "same"},
         candidates={
             "same_lower": overrides(padding="same_lower"),
             "count_include_pad=False": overrides(count_include_pad=False),
             "same_lower, count_include_pad=False": overrides(
                 padding="same_lower", count_include_pad=False),
         }),
    # ------------------------------------------------------------- same rejected
    Case("conv-same-strided", "same-rejected", "conv",
         "'same' convolution with stride 2 (odd size, so both sides get one zero)",
         "np.arange(1, 26, dtype=np.float32).reshape(1, 1, 5, 5)",
         {"stride": 2, "padding": "same"}, w="np.ones((1, 1, 3, 3), dtype=np.float32)"),
    # ------------------------------------------------------------- average divisor
    Case("avg-pool-padded-default-divisor", "avg-divisor", "avg_pool",
         "average pooling, window 3, padding 1, default divisor: are padded zeros counted?",
         "np.arange(1, 10, dtype=np.float32).reshape(1, 1, 3, 3)",
         {"kernel_size": 3, "stride": 1, "padding": 1},
         candidates={"count_include_pad=False": overrides(count_include_pad=False)}),
    Case("avg-pool-same-divisor", "avg-divisor", "avg_pool",
         "'same' average pooling, window 3, stride 1: are the 'same' zeros counted?",
         "np.arange(1, 17, dtype=np.float32).reshape(1, 1, 4, 4)",
         {"kernel_size": 3, "stride": 1, "padding": "same"},
         candidates={"count_include_pad=False": overrides(count_include_pad=False)}),
    # --------------------------------------------------- max-pool padding value
    Case("max-pool-padded-negative", "max-pool-padding-value", "max_pool",
         "max pooling of all-negative input, window 3, padding 1: can the padding win?",
         NEG9, {"kernel_size": 3, "stride": 1, "padding": 1},
         candidates={"zero padding": zero_padding}),
    Case("max-pool-same-negative", "max-pool-padding-value", "max_pool",
         "'same' max pooling of all-negative input, window 3: can the padding win?",
         NEG9, {"kernel_size": 3, "stride": 1, "padding": "same"},
         candidates={"zero padding": zero_padding}),
    Case("max-pool-dilated-padded-negative", "max-pool-padding-value", "max_pool",
         "dilated max pooling of all-negative input, window 2, dilation 2, padding 1: can "
         "the padding win?",
         NEG9, {"kernel_size": 2, "stride": 1, "dilation": 2, "padding": 1},
         candidates={"zero padding": zero_padding}),
    # ------------------------------------------------------- default pool stride
    Case("max-pool-default-stride", "default-pool-stride", "max_pool",
         "max pooling, window 2, stride not given: does the stride default to the window?",
         R6, {"kernel_size": 2},
         candidates={"stride 1": overrides(stride=1)}),
    Case("avg-pool-default-stride", "default-pool-stride", "avg_pool",
         "average pooling, window 2, stride not given: does the stride default to the window?",
         R6, {"kernel_size": 2},
         candidates={"stride 1": overrides(stride=1)}),
    # ------------------------------------------------------------------ ceil mode
    Case("max-pool-ceil", "ceil-mode", "max_pool",
         "max pooling, window 2, stride 2, 5 cells, ceil mode: is the partial window kept?",
         R5, {"kernel_size": 2, "stride": 2, "ceil_mode": True},
         candidates={"floor": overrides(ceil_mode=False)}),
    Case("avg-pool-ceil-divisor", "ceil-mode", "avg_pool",
         "average pooling, window 2, stride 2, 5 cells, ceil mode: what divides the partial "
         "window?",
         R5, {"kernel_size": 2, "stride": 2, "ceil_mode": True},
         candidates={
             "divides by the window size": overrides(padding=((0, 1),), ceil_mode=False),
             "floor": overrides(ceil_mode=False)}),
    Case("max-pool-ceil-last-window", "ceil-mode", "max_pool",
         "max pooling, window 2, stride 2, padding 1, ceil mode: is a window that starts in "
         "the end padding dropped?",
         R5, {"kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": True},
         candidates={"keeps the window that starts in the padding": keeps_last_window}),
    # -------------------------------------------------------------------- NaN, inf
    Case("max-pool-nan", "nan-inf", "max_pool",
         "max pooling of [1, NaN, 3, 4], window 2: does NaN propagate?",
         "np.array([1, np.nan, 3, 4], dtype=np.float32).reshape(1, 1, 4)",
         {"kernel_size": 2}, candidates={"NaN ignored": nan_ignored}),
    Case("max-pool-minus-inf", "nan-inf", "max_pool",
         "max pooling of [-inf, -inf, 1, 2], window 2: is the first window -inf?",
         "np.array([-np.inf, -np.inf, 1, 2], dtype=np.float32).reshape(1, 1, 4)",
         {"kernel_size": 2}, candidates={"lowest finite value": lowest_finite}),
    Case("avg-pool-nan-inf", "nan-inf", "avg_pool",
         "average pooling of [inf, 1, -inf, 2, NaN, 3, inf, -inf], window 2",
         "np.array([np.inf, 1, -np.inf, 2, np.nan, 3, np.inf, -np.inf], "
         "dtype=np.float32).reshape(1, 1, 8)",
         {"kernel_size": 2}),
    Case("conv-nan-inf", "nan-inf", "conv",
         "convolution of [1, NaN, 3, inf, 5, 6] with a kernel [0, 1]: does 0 * NaN / 0 * inf "
         "give NaN?",
         "np.array([1, np.nan, 3, np.inf, 5, 6], dtype=np.float32).reshape(1, 1, 6)",
         {}, w="np.array([0, 1], dtype=np.float32).reshape(1, 1, 2)"),
    # -------------------------------------------------------------------- dtypes
    Case("conv-int32", "dtypes", "conv", "convolution in int32",
         "np.arange(1, 6, dtype=np.int32).reshape(1, 1, 5)", {},
         w="np.array([1, -2], dtype=np.int32).reshape(1, 1, 2)", dtype="int32"),
    Case("max-pool-int32", "dtypes", "max_pool", "max pooling in int32",
         "np.array([3, -7, 5, 2], dtype=np.int32).reshape(1, 1, 4)", {"kernel_size": 2},
         dtype="int32"),
    Case("avg-pool-int64", "dtypes", "avg_pool", "average pooling of [-3, -4, 3, 4] in int64",
         "np.array([-3, -4, 3, 4], dtype=np.int64).reshape(1, 1, 4)", {"kernel_size": 2},
         candidates={"truncated toward zero": truncated}, dtype="int64"),
    Case("conv-float16", "dtypes", "conv", "convolution in float16", R5, {}, w=K2,
         dtype="float16"),
    Case("max-pool-float16", "dtypes", "max_pool", "max pooling in float16", R5,
         {"kernel_size": 2}, dtype="float16"),
    Case("avg-pool-float16", "dtypes", "avg_pool", "average pooling in float16", R5,
         {"kernel_size": 2}, dtype="float16"),
    Case("conv-bfloat16", "dtypes", "conv", "convolution in bfloat16", R5, {}, w=K2,
         dtype="bfloat16"),
    Case("max-pool-bfloat16", "dtypes", "max_pool", "max pooling in bfloat16", R5,
         {"kernel_size": 2}, dtype="bfloat16"),
    Case("avg-pool-bfloat16", "dtypes", "avg_pool", "average pooling in bfloat16", R5,
         {"kernel_size": 2}, dtype="bfloat16"),
    # JAX's jax_enable_x64 setting: asked of JAX only, with its default settings
    Case("max-pool-float64-default-settings", "dtypes", "max_pool",
         "max pooling in float64 of values beyond float32's range, default settings: are "
         "they kept?",
         "np.array([1e-300, 3e-300, 2e300, 1e300]).reshape(1, 1, 4)",
         {"kernel_size": 2, "stride": 2},
         candidates={"computed in float32": in_float32}, dtype="float64",
         hints={"frameworks": ("jax",), "default_settings": True}),
    # ------------------------------------------------------------- pool dilation
    Case("max-pool-dilation", "pool-dilation", "max_pool",
         "max pooling, window 2, dilation 2, stride 1", R7,
         {"kernel_size": 2, "stride": 1, "dilation": 2},
         candidates={"dilation ignored": overrides(dilation=1)}),
    Case("avg-pool-dilation", "pool-dilation", "avg_pool",
         "average pooling, window 2, dilation 2, stride 1", R7,
         {"kernel_size": 2, "stride": 1, "dilation": 2},
         candidates={"dilation ignored": overrides(dilation=1)}),
    # -------------------------------------------------------------------- groups
    Case("conv-groups", "groups", "conv", "grouped convolution, 4 channels, groups 2",
         "np.arange(1, 21, dtype=np.float32).reshape(1, 4, 5)", {"groups": 2},
         w="np.arange(1, 9, dtype=np.float32).reshape(2, 2, 2)"),
    Case("conv-depthwise", "groups", "conv",
         "depthwise convolution, 2 channels, groups 2 (2-D)",
         "np.arange(1, 25, dtype=np.float32).reshape(1, 2, 3, 4)", {"groups": 2},
         w="np.arange(1, 9, dtype=np.float32).reshape(2, 1, 2, 2)",
         hints={"depthwise": True}),
    # -------------------------------------------------------- asymmetric padding
    Case("conv-asymmetric-padding", "asymmetric-padding", "conv",
         "convolution with explicit padding ((0, 1), (1, 0))",
         "np.arange(1, 13, dtype=np.float32).reshape(1, 1, 3, 4)",
         {"padding": ((0, 1), (1, 0))}, w="np.ones((1, 1, 2, 2), dtype=np.float32)"),
    Case("max-pool-asymmetric-padding", "asymmetric-padding", "max_pool",
         "max pooling, window 2, stride 1, explicit padding ((0, 1), (1, 0))",
         "np.arange(1, 13, dtype=np.float32).reshape(1, 1, 3, 4)",
         {"kernel_size": 2, "stride": 1, "padding": ((0, 1), (1, 0))}),
    # -------------------------------------------------------------------- layouts
    Case("conv-other-layout", "layouts", "conv",
         "2-D convolution in the framework's non-default layout, on CPU",
         "np.arange(1, 25, dtype=np.float32).reshape(1, 2, 3, 4)", {},
         w="np.arange(1, 9, dtype=np.float32).reshape(1, 2, 2, 2)",
         hints={"layout": "other"}),
    Case("max-pool-other-layout", "layouts", "max_pool",
         "2-D max pooling in the framework's non-default layout, on CPU",
         "np.arange(1, 25, dtype=np.float32).reshape(1, 2, 3, 4)", {"kernel_size": 2},
         hints={"layout": "other"}),
    # ----------------------------------------------------------------- bad input
    Case("conv-stride-0", "bad-input", "conv", "convolution with stride 0", R5,
         {"stride": 0}, w=K2, on_error="raises"),
    Case("max-pool-stride-0", "bad-input", "max_pool", "max pooling with stride 0", R5,
         {"kernel_size": 2, "stride": 0}, on_error="raises"),
    Case("conv-negative-padding", "bad-input", "conv", "2-D convolution with padding -1",
         "np.arange(1, 13, dtype=np.float32).reshape(1, 1, 3, 4)", {"padding": -1},
         w="np.ones((1, 1, 2, 2), dtype=np.float32)", on_error="raises"),
    Case("conv-kernel-larger", "bad-input", "conv",
         "convolution whose kernel (7) is larger than the input (5)", R5, {},
         w="np.ones((1, 1, 7), dtype=np.float32)", on_error="raises"),
    Case("max-pool-kernel-larger", "bad-input", "max_pool",
         "max pooling whose window (7) is larger than the input (5)", R5,
         {"kernel_size": 7}, on_error="raises"),
    Case("conv-empty-batch", "bad-input", "conv", "convolution of an empty batch (N = 0)",
         "np.zeros((0, 1, 5), dtype=np.float32)", {}, w=K2, on_error="raises"),
    Case("max-pool-empty-batch", "bad-input", "max_pool",
         "max pooling of an empty batch (N = 0)",
         "np.zeros((0, 1, 6), dtype=np.float32)", {"kernel_size": 2}, on_error="raises"),
    Case("max-pool-pad-over-half", "bad-input", "max_pool",
         "max pooling, window 3, stride 1, padding 2 (more than half the window)",
         R5, {"kernel_size": 3, "stride": 1, "padding": 2}, on_error="raises"),
]



def ties_last(op, x, w, b, params, dy=None, grad="x"):
    """Max pooling's gradient routed to the LAST maximum of each window: the oracle on the
    input, output gradient and result reversed along every spatial axis (valid for the
    probes' windows, which tile the input symmetrically)."""
    axes = tuple(range(2, np.ndim(x)))
    flipped = oracle_call(op, np.flip(x, axes), w, b, params, np.flip(dy, axes), grad)
    return np.flip(flipped, axes)


def minus_inf_dropped(op, x, w, b, params, dy=None, grad="x"):
    """A window whose input cells are all -inf sends its gradient nowhere (a maximum
    started at the lowest finite value that no -inf beats, with no cell to route to)."""
    rest = {k: v for k, v in params.items() if k != "kernel_size"}
    y = reference.max_pool(x, params["kernel_size"], **rest)
    return oracle_call(op, x, w, b, params, np.where(np.isneginf(y), 0, dy), grad)


ties_all = value_model("ties-all")
nan_last = value_model("nan-last")
select_ge_padded = value_model("select-ge-padded")


def _sequential_sum(dtype: str) -> CandidateFn:
    def candidate(op, x, w, b, params, dy=None, grad="x"):
        """The weight or bias gradient summed term by term in the input's dtype."""
        wanted = oracle_call(op, x, w, b, params, dy, grad)
        terms = np.asarray(dy, np.float64).ravel() * (
            np.asarray(x, np.float64).ravel() if grad == "w" else 1.0)
        low = numpy_dtype(dtype)
        total = np.zeros((), dtype=low)
        for t in terms.astype(low):
            total = (total + t).astype(low)
        return np.full(np.shape(wanted), float(total))
    return candidate


R5F = "np.arange(1, 6, dtype=np.float32).reshape(1, 1, 5)"
ONES_2049 = "np.ones((1, 1, 2049), dtype=np.float32)"
DY_2049 = "np.concatenate([[2048.0], np.ones(2048)]).astype(np.float32).reshape(1, 1, 2049)"
ONES_257 = "np.ones((1, 1, 257), dtype=np.float32)"
DY_257 = "np.concatenate([[256.0], np.ones(256)]).astype(np.float32).reshape(1, 1, 257)"

#: The backward questions: how each framework's autograd differentiates the same calls.
BACKWARD_CASES: list[Case] = [
    # ------------------------------------------------------------ tie routing
    Case("max-pool-vjp-ties-1d", "nan-inf", "max_pool_vjp",
         "gradient of max pooling of a constant input, window 2, stride 2 (1-D): which tied "
         "cell gets it?",
         "np.ones((1, 1, 4), dtype=np.float32)", {"kernel_size": 2, "stride": 2},
         dy="np.array([1, 10], dtype=np.float32).reshape(1, 1, 2)",
         candidates={"last tie": ties_last, "every tie": ties_all}),
    Case("max-pool-vjp-ties-2d", "nan-inf", "max_pool_vjp",
         "gradient of max pooling of a constant input, window 2x2, stride 2 (2-D): which "
         "tied cell gets it?",
         "np.ones((1, 1, 2, 4), dtype=np.float32)", {"kernel_size": 2, "stride": 2},
         dy="np.array([1, 10], dtype=np.float32).reshape(1, 1, 1, 2)",
         candidates={"last tie": ties_last, "every tie": ties_all}),
    Case("max-pool-vjp-ties-3d", "nan-inf", "max_pool_vjp",
         "gradient of max pooling of a constant input, window 2x2x2, stride 2 (3-D): which "
         "tied cell gets it?",
         "np.ones((1, 1, 2, 2, 4), dtype=np.float32)", {"kernel_size": 2, "stride": 2},
         dy="np.array([1, 10], dtype=np.float32).reshape(1, 1, 1, 1, 2)",
         candidates={"last tie": ties_last, "every tie": ties_all}),
    # ------------------------------------------------------------- NaN, -inf
    Case("max-pool-vjp-nan", "nan-inf", "max_pool_vjp",
         "gradient of max pooling of [1, NaN, NaN, 2, NaN, NaN], window 3, stride 3: which "
         "cell gets it?",
         "np.array([1, np.nan, np.nan, 2, np.nan, np.nan], dtype=np.float32).reshape(1, 1, 6)",
         {"kernel_size": 3, "stride": 3},
         dy="np.array([1, 10], dtype=np.float32).reshape(1, 1, 2)",
         candidates={"last NaN": nan_last, "NaN skipped": value_model("nan-skipped")}),
    Case("max-pool-vjp-nan-then-value", "nan-inf", "max_pool_vjp",
         "gradient of max pooling of [NaN, 5, 1, NaN], window 2, stride 2: does the "
         "window [NaN, 5], whose maximum is NaN, send its gradient to the NaN?",
         "np.array([np.nan, 5, 1, np.nan], dtype=np.float32).reshape(1, 1, 4)",
         {"kernel_size": 2, "stride": 2},
         dy="np.array([1, 10], dtype=np.float32).reshape(1, 1, 2)",
         candidates={"NaN yields to the next cell (>= selection)": select_ge_padded,
                     "NaN skipped": value_model("nan-skipped")}),
    Case("max-pool-vjp-minus-inf", "nan-inf", "max_pool_vjp",
         "gradient of max pooling of [-inf, -inf, 1, 2], window 2, stride 2: where does the "
         "-inf window's gradient go?",
         "np.array([-np.inf, -np.inf, 1, 2], dtype=np.float32).reshape(1, 1, 4)",
         {"kernel_size": 2, "stride": 2},
         dy="np.array([1, 10], dtype=np.float32).reshape(1, 1, 2)",
         candidates={"last cell": ties_last, "every cell": ties_all,
                     "dropped": minus_inf_dropped}),
    # ------------------------------------------------------------ padding
    Case("max-pool-vjp-minus-inf-padded", "nan-inf", "max_pool_vjp",
         "gradient of max pooling of [-inf, -inf, -inf], window 2, stride 1, padding 1: "
         "where does the first window (padding, -inf) send its gradient?",
         "np.full((1, 1, 3), -np.inf, dtype=np.float32)",
         {"kernel_size": 2, "stride": 1, "padding": 1},
         dy="np.array([1, 10, 100, 1000], dtype=np.float32).reshape(1, 1, 4)",
         candidates={"into the padding (>= selection over -inf padding)": select_ge_padded,
                     "dropped": minus_inf_dropped}),
    Case("max-pool-vjp-padded-negative", "max-pool-padding-value", "max_pool_vjp",
         "gradient of max pooling of all-negative input, window 3, padding 1, stride 1: "
         "does the padding absorb some?",
         NEG9, {"kernel_size": 3, "stride": 1, "padding": 1},
         dy="np.arange(1, 10, dtype=np.float32).reshape(1, 1, 3, 3)",
         candidates={"zero padding": zero_padding}),
    # ------------------------------------------------------------ average divisor
    Case("avg-pool-vjp-ceil-divisor", "ceil-mode", "avg_pool_vjp",
         "gradient of average pooling, window 2, stride 2, 5 cells, ceil mode: what divides "
         "the partial window's gradient?",
         R5F, {"kernel_size": 2, "stride": 2, "ceil_mode": True},
         dy="np.array([2, 4, 8], dtype=np.float32).reshape(1, 1, 3)",
         candidates={"divides by the window size": overrides(padding=((0, 1),),
                                                             ceil_mode=False)}),
    Case("avg-pool-vjp-same-divisor", "avg-divisor", "avg_pool_vjp",
         "gradient of 'same' average pooling, window 3, stride 1: are the 'same' zeros "
         "counted in the divisor?",
         "np.arange(1, 17, dtype=np.float32).reshape(1, 1, 4, 4)",
         {"kernel_size": 3, "stride": 1, "padding": "same"},
         dy="np.full((1, 1, 4, 4), 36, dtype=np.float32)",
         candidates={"count_include_pad=False": overrides(count_include_pad=False)}),
    # ------------------------------------------------------------ dtypes
    Case("max-pool-vjp-int32", "dtypes", "max_pool_vjp",
         "gradient of max pooling in int32",
         "np.array([3, -7, 5, 2], dtype=np.int32).reshape(1, 1, 4)", {"kernel_size": 2},
         dy="np.array([1, 10], dtype=np.int32).reshape(1, 1, 2)", dtype="int32"),
    Case("conv-vjp-int32", "dtypes", "conv_vjp",
         "gradient of an int32 convolution (input gradient)",
         "np.array([3, -7, 5, 2], dtype=np.int32).reshape(1, 1, 4)", {},
         w="np.array([2, -1], dtype=np.int32).reshape(1, 1, 2)",
         dy="np.array([1, 10, 100], dtype=np.int32).reshape(1, 1, 3)", dtype="int32"),
    Case("conv-vjp-weight-float16", "dtypes", "conv_vjp",
         "float16 weight gradient summing 2048 + 2048 ones: accumulated in float32 (4096) "
         "or in float16 (2048)?",
         ONES_2049, {}, w="np.ones((1, 1, 1), dtype=np.float32)", dy=DY_2049,
         dtype="float16", hints={"grad": "w"},
         candidates={"summed in float16": _sequential_sum("float16")}),
    Case("conv-vjp-bias-float16", "dtypes", "conv_vjp",
         "float16 bias gradient summing 2048 + 2048 ones: accumulated in float32 (4096) or "
         "in float16 (2048)?",
         ONES_2049, {}, w="np.ones((1, 1, 1), dtype=np.float32)", dy=DY_2049,
         dtype="float16", hints={"grad": "b"},
         candidates={"summed in float16": _sequential_sum("float16")}),
    Case("conv-vjp-weight-bfloat16", "dtypes", "conv_vjp",
         "bfloat16 weight gradient summing 256 + 256 ones: accumulated in float32 (512) or "
         "in bfloat16 (256)?",
         ONES_257, {}, w="np.ones((1, 1, 1), dtype=np.float32)", dy=DY_257,
         dtype="bfloat16", hints={"grad": "w"},
         candidates={"summed in bfloat16": _sequential_sum("bfloat16")}),
    Case("conv-vjp-bias-bfloat16", "dtypes", "conv_vjp",
         "bfloat16 bias gradient summing 256 + 256 ones: accumulated in float32 (512) or in "
         "bfloat16 (256)?",
         ONES_257, {}, w="np.ones((1, 1, 1), dtype=np.float32)", dy=DY_257,
         dtype="bfloat16", hints={"grad": "b"},
         candidates={"summed in bfloat16": _sequential_sum("bfloat16")}),
]

CASES += BACKWARD_CASES

BY_KEY = {c.key: c for c in CASES}
