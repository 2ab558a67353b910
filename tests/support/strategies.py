"""Hypothesis strategies for conformance cases: valid by construction, small, reproducible.

A :class:`Case` is pure data: the operation, shapes, keyword arguments, dtype, the kind of
values to fill the arrays with and a data seed. The arrays are made by running a short
Python snippet (:func:`data_code`) that a failure report prints verbatim, so the numbers a
reader recreates are the numbers the test used.

The strategies never reject: every size is derived from the ones drawn before it, so the
output is non-empty and no pooling window covers padding only. The shape arithmetic itself
is the oracle's (:func:`reference.resolve_padding`, :func:`reference.output_size`,
``reference.padding.extent``); the strategies only choose sizes large enough for it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from hypothesis import strategies as st

import reference
from reference import tolerances
from reference.dtypes import HAS_BFLOAT16, dtype_expr, numpy_dtype
from reference.padding import extent

OPS = ("conv", "max_pool", "avg_pool")
FLOAT_DTYPES = tuple(d for d in ("float16", "bfloat16", "float32", "float64")
                     if d != "bfloat16" or HAS_BFLOAT16)
#: float16, and bfloat16 where ml_dtypes is installed.
LOW_PRECISION_DTYPES = tuple(d for d in FLOAT_DTYPES if d in ("float16", "bfloat16"))
INT_DTYPES = ("int8", "uint8", "int32", "int64")
#: Dtypes of the main property tests; the others are exercised by the dtype tests.
MAIN_DTYPES = ("float32", "float64")
#: Every padding form the oracle accepts.
PADDING_FORMS = ("int", "per_dim", "pairs", "valid", "same", "same_lower")
#: Value kinds: small integers whose sums are exact, normal floats, all negative (shows the
#: max-pooling padding value), floats sprinkled with NaN and ±inf, a ramp 1, 2, 3, ...
#: (positive and increasing along every axis, so that shifting a window changes its
#: result), the dtype's extremes (subnormals and values near its overflow, see
#: :func:`extreme_limit`), and normal floats whose first window (in every spatial
#: dimension, every batch item and channel) holds only NaN or only -inf.
FILLS = ("exact", "normal", "negative", "special", "ramp", "extreme", "nan-window",
         "neg-inf-window")
#: The fills whose special value fills a whole window, and that value.
WINDOW_FILLS = {"nan-window": "np.nan", "neg-inf-window": "-np.inf"}
#: Largest magnitude of an "exact" fill; larger values only make exact sums rarer.
EXACT_RADIUS_CAP = 8


@dataclass(frozen=True)
class Case:
    """One call of one operation, as data.

    Attributes
    ----------
    op : {"conv", "max_pool", "avg_pool"}
    x_shape : tuple of int
        ``(N, C, *spatial)``.
    params : dict
        The keyword arguments of the oracle's function (``kernel_size`` included for
        pooling), in the form the call passes them.
    dtype : str
        Name of the dtype under test (``"bfloat16"`` is ``ml_dtypes.bfloat16``).
    fill : str
        One of :data:`FILLS`.
    seed : int
        Seed of ``np.random.default_rng`` that draws the values.
    w_shape : tuple of int or None
        Convolution weight shape ``(O, C // groups, *kernel)``.
    bias : bool
        Whether the convolution has a bias.
    radius : int
        Largest magnitude of an ``"exact"`` fill.
    label : str
        A name for fixed, realistic cases.
    """

    op: str
    x_shape: tuple[int, ...]
    params: dict[str, Any]
    dtype: str
    fill: str
    seed: int
    w_shape: tuple[int, ...] | None = None
    bias: bool = False
    radius: int = EXACT_RADIUS_CAP
    label: str = ""
    #: A VJP's output gradient ``dy``: its fill ('' = the same as ``fill``).
    dy_fill: str = ""

    @property
    def ndim(self) -> int:
        """Number of spatial dimensions."""
        return len(self.x_shape) - 2

    @property
    def in_sizes(self) -> tuple[int, ...]:
        return tuple(self.x_shape[2:])

    @property
    def kernel(self) -> tuple[int, ...]:
        """Window size per spatial dimension (the weight's for a convolution)."""
        if self.op in ("conv", "conv_vjp"):
            assert self.w_shape is not None
            return tuple(self.w_shape[2:])
        return reference.normalize_sizes(self.params["kernel_size"], self.ndim, "kernel_size")

    @property
    def stride(self) -> tuple[int, ...]:
        """Stride per dimension; a pool's default (None) is its kernel size."""
        s = self.params.get("stride", 1 if self.op in ("conv", "conv_vjp") else None)
        return self.kernel if s is None else reference.normalize_sizes(s, self.ndim, "stride")

    @property
    def dilation(self) -> tuple[int, ...]:
        return reference.normalize_sizes(self.params.get("dilation", 1), self.ndim, "dilation")

    @property
    def pads(self) -> tuple[tuple[int, int], ...]:
        """Explicit ``(lo, hi)`` padding, as the oracle resolves it."""
        return reference.resolve_padding(self.params.get("padding", 0), self.in_sizes,
                                         self.kernel, self.stride, self.dilation)

    @property
    def terms(self) -> int:
        """Terms summed per output: ``C // groups * prod(kernel)`` for a convolution, the
        window's cells for a pooling."""
        if self.op == "conv":
            assert self.w_shape is not None
            return conv_terms(self.w_shape[1], self.kernel)
        return math.prod(self.kernel)

    def with_params(self, **overrides: Any) -> Case:
        """This case with some keyword arguments replaced."""
        return replace(self, params={**self.params, **overrides})


# ----------------------------------------------------------------------------- data
def extreme_limit(case: Case, name: str) -> float:
    """Largest magnitude of array ``name`` ("x", "w" or "b") under the "extreme" fill.

    The input (and a bias) reach up to the dtype's largest finite value, unless a sum of
    the case's terms could then overflow the dtype sums are accumulated in
    (:func:`reference.tolerances.accumulation_dtype`): the error bound assumes no partial
    sum overflows, so the largest magnitude is then ``M_acc / (2 (terms + 1))``. A
    convolution's weights stay at most 1 in magnitude, so its inputs carry the size. The
    result itself may still overflow the dtype (a float16 convolution in float32 sums,
    rounded into float16), which the tolerance allows.
    """
    if name == "w":
        return 1.0
    largest = tolerances.LARGEST_FINITE[case.dtype]
    if case.op == "max_pool":
        return largest
    acc = tolerances.accumulation_dtype(case.dtype)
    return min(largest, tolerances.LARGEST_FINITE[acc] / (2 * (case.terms + 1)))


def _first_window(case: Case) -> tuple[int, ...]:
    """Per spatial dimension, how many input cells the first window covers."""
    return tuple(max(1, min(n, extent(1, k, 1, d) - lo))
                 for n, k, d, (lo, _) in zip(case.in_sizes, case.kernel, case.dilation,
                                             case.pads, strict=True))


def _array_line(name: str, shape: Sequence[int], case: Case, fill: str = "") -> str:
    dt = dtype_expr(case.dtype)
    shape = tuple(shape)
    fill = fill or case.fill  # a VJP's dy has a fill of its own
    if fill == "extreme":
        bits = tolerances.SIGNIFICAND_BITS[case.dtype]
        tiny = tolerances.SMALLEST_SUBNORMAL[case.dtype]
        # a third each: subnormals (multiples of the smallest), magnitudes within a factor
        # 2 of the limit, and values in [-1, 1)
        return "\n".join([
            f"kind = rng.integers(0, 3, size={shape})",
            f"{name} = np.select([kind == 0, kind == 1], "
            f"[rng.integers(1, 2**{bits - 1}, size={shape}) * {tiny!r}, "
            f"rng.uniform(0.5, 1.0, size={shape}) * {extreme_limit(case, name)!r}], "
            f"rng.uniform(-1.0, 1.0, size={shape}))",
            f"{name} = ({name} * rng.choice([-1.0, 1.0], size={shape})).astype({dt})",
        ])
    if fill in WINDOW_FILLS:
        lines = [f"{name} = rng.standard_normal({shape}).astype({dt})"]
        if name == "x":
            block = ", ".join(f":{e}" for e in _first_window(case))
            lines.append(f"x[:, :, {block}] = {WINDOW_FILLS[fill]}")
        return "\n".join(lines)
    unsigned = case.dtype.startswith("uint")
    if fill in BACKWARD_FILLS:
        return _backward_array_line(name, shape, case, fill)
    if fill == "exact":
        lo = 0 if unsigned else -case.radius
        return f"{name} = rng.integers({lo}, {case.radius + 1}, size={shape}).astype({dt})"
    if fill == "ramp":
        return f"{name} = np.arange(1, {math.prod(shape)} + 1).reshape({shape}).astype({dt})"
    if fill == "negative":
        if np.dtype(numpy_dtype(case.dtype)).kind in "iu":
            return f"{name} = rng.integers({-case.radius}, 0, size={shape}).astype({dt})"
        return f"{name} = (-0.5 - rng.random({shape})).astype({dt})"
    if fill == "special":
        return "\n".join([
            f"{name} = rng.standard_normal({shape})",
            f"pick = rng.choice({name}.size, size=max(1, {name}.size // 5), replace=False)",
            f"{name}.flat[pick] = rng.choice([np.nan, np.inf, -np.inf], size=pick.size)",
            f"{name} = {name}.astype({dt})",
        ])
    return f"{name} = rng.standard_normal({shape}).astype({dt})"


def data_code(case: Case) -> str:
    """The Python lines that create the case's arrays (``x``, and ``w``, ``b`` for conv)."""
    lines = ["import numpy as np"]
    if case.dtype == "bfloat16":
        lines.append("import ml_dtypes")
    lines.append(f"rng = np.random.default_rng({case.seed})")
    lines.append(_array_line("x", case.x_shape, case))
    if case.op in ("conv", "conv_vjp"):
        assert case.w_shape is not None
        lines.append(_array_line("w", case.w_shape, case))
        if case.bias and case.op == "conv":
            lines.append(_array_line("b", (case.w_shape[0],), case))
    if case.op.endswith("_vjp"):
        lines.append(_array_line("dy", output_shape(case), case, case.dy_fill))
    return "\n".join(lines)


def make_arrays(case: Case) -> dict[str, np.ndarray | None]:
    """Run :func:`data_code` and return ``{"x": ..., "w": ..., "b": ...}`` (conv) or
    ``{"x": ...}`` (pooling). ``b`` is None for a convolution without bias."""
    namespace: dict[str, Any] = {}
    exec(data_code(case), namespace)  # the same text the reproducer prints
    if case.op == "conv_vjp":
        return {"x": namespace["x"], "w": namespace["w"], "dy": namespace["dy"]}
    if case.op.endswith("_vjp"):
        return {"x": namespace["x"], "dy": namespace["dy"]}
    if case.op != "conv":
        return {"x": namespace["x"]}
    return {"x": namespace["x"], "w": namespace["w"], "b": namespace.get("b")}


def conv_terms(cg: int, kernel: Sequence[int]) -> int:
    """Products summed per convolution output: ``C // groups * prod(kernel)``."""
    return cg * math.prod(kernel)


def exact_radius(dtype: str, terms: int, sums: bool) -> int:
    """Largest integer magnitude ``r`` that keeps every partial sum exact in ``dtype``.

    With ``sums`` (convolution) a partial sum is at most ``terms * r * r + r`` (products
    plus bias); otherwise (pooling) at most ``terms * r``. Capped at
    :data:`EXACT_RADIUS_CAP`; 0 when not even ``r = 1`` is exact.
    """
    limit = tolerances.exact_limit(dtype)
    r = EXACT_RADIUS_CAP
    while r > 0 and (terms * r * r + r if sums else terms * r) > limit:
        r -= 1
    return r


# ------------------------------------------------------------------------- strategies
def _size_arg(draw: st.DrawFn, sizes: tuple[int, ...]) -> int | tuple[int, ...]:
    """A size as the caller passes it: an int when all equal (sometimes), else a tuple."""
    if len(set(sizes)) == 1 and draw(st.booleans()):
        return sizes[0]
    return sizes


def _padding(draw: st.DrawFn, nd: int, form: str, max_pad: Sequence[int]
             ) -> tuple[Any, tuple[tuple[int, int], ...] | None]:
    """A padding argument of ``form`` and its explicit pairs (None for 'same' forms).

    ``max_pad[i]`` bounds each side of dimension ``i``.
    """
    if form == "int":
        p = draw(st.integers(0, min(max_pad)))
        return p, ((p, p),) * nd
    if form == "per_dim":
        ps = tuple(draw(st.integers(0, m)) for m in max_pad)
        return ps, tuple((p, p) for p in ps)
    if form == "pairs":
        pairs = tuple((draw(st.integers(0, m)), draw(st.integers(0, m))) for m in max_pad)
        return pairs, pairs
    if form == "valid":
        return "valid", ((0, 0),) * nd
    return form, None


def _sizes(draw: st.DrawFn, kernel: Sequence[int], dilation: Sequence[int],
           pairs: tuple[tuple[int, int], ...] | None, floor: Sequence[int], slack: int
           ) -> tuple[int, ...]:
    """Input sizes: at least ``floor`` and, with explicit padding, at least the window's
    extent minus the padding, so that one window fits; plus up to ``slack`` more."""
    sizes = []
    for i, (k, d) in enumerate(zip(kernel, dilation, strict=True)):
        need = floor[i]
        if pairs is not None:
            need = max(need, extent(1, k, 1, d) - sum(pairs[i]))
        sizes.append(need + draw(st.integers(0, slack)))
    return tuple(sizes)


def _fill(draw: st.DrawFn, dtype: str, fills: Sequence[str], radius: int) -> str:
    if np.dtype(numpy_dtype(dtype)).kind in "iu":
        options = [f for f in fills if f in ("exact", "negative")]
        if dtype.startswith("uint") or not options:
            options = ["exact"]
    else:
        options = [f for f in fills if f != "exact" or radius >= 1] or ["normal"]
    return draw(st.sampled_from(options))


def _assert_nonempty(case: Case) -> Case:
    out = reference.output_size(case.in_sizes, case.kernel, case.stride, case.pads,
                                case.dilation, bool(case.params.get("ceil_mode", False)))
    assert min(out) >= 1, f"strategy drew an empty output {out} for {case}"
    return case


@st.composite
def conv_cases(
    draw: st.DrawFn,
    ndims: Sequence[int] = (1, 2, 3),
    dtypes: Sequence[str] = MAIN_DTYPES,
    fills: Sequence[str] = ("exact", "normal"),
    padding_forms: Sequence[str] = PADDING_FORMS,
    max_stride: int = 3,
    max_dilation: int = 2,
) -> Case:
    """Convolution cases: 1-D to 3-D, stride, every padding form, dilation, groups
    (depthwise included), bias, N, C, O > 1, unequal sizes and kernel sides."""
    nd = draw(st.sampled_from(ndims))
    depthwise = draw(st.sampled_from([False, False, False, True]))
    if depthwise:
        groups, cg = draw(st.integers(2, 3)), 1
    else:
        groups, cg = draw(st.sampled_from([1, 1, 2, 3])), draw(st.integers(1, 2))
    og = draw(st.integers(1, 2))
    n = draw(st.integers(1, 2))
    kmax, slack = (4, 4) if nd < 3 else (3, 2)
    kernel = tuple(draw(st.integers(1, kmax)) for _ in range(nd))
    stride = tuple(draw(st.integers(1, max_stride)) for _ in range(nd))
    dilation = tuple(draw(st.integers(1, max_dilation)) for _ in range(nd))
    form = draw(st.sampled_from(padding_forms))
    padding, pairs = _padding(draw, nd, form, (3,) * nd)
    sizes = _sizes(draw, kernel, dilation, pairs, (1,) * nd, slack)
    dtype = draw(st.sampled_from(dtypes))
    radius = exact_radius(dtype, conv_terms(cg, kernel), sums=True)
    params: dict[str, Any] = {"padding": padding, "groups": groups}
    if draw(st.booleans()) or stride != (1,) * nd:
        params["stride"] = _size_arg(draw, stride)
    if draw(st.booleans()) or dilation != (1,) * nd:
        params["dilation"] = _size_arg(draw, dilation)
    return _assert_nonempty(Case(
        op="conv",
        x_shape=(n, groups * cg, *sizes),
        w_shape=(groups * og, cg, *kernel),
        bias=draw(st.booleans()),
        params=params,
        dtype=dtype,
        fill=_fill(draw, dtype, fills, radius),
        radius=max(radius, 1),
        seed=draw(st.integers(0, 2**32 - 1)),
    ))


@st.composite
def pool_cases(
    draw: st.DrawFn,
    op: str,
    ndims: Sequence[int] = (1, 2, 3),
    dtypes: Sequence[str] = MAIN_DTYPES,
    fills: Sequence[str] = ("exact", "normal", "negative", "special"),
    padding_forms: Sequence[str] = PADDING_FORMS,
    max_stride: int = 3,
    max_dilation: int = 2,
    ceil_modes: Sequence[bool] = (False, True),
) -> Case:
    """Pooling cases (``op`` is "max_pool" or "avg_pool"): kernel, default or explicit
    stride, every padding form, dilation, ceil mode, ``count_include_pad`` (average).

    Explicit padding is at most half the kernel on each side (the range in which pooling
    is defined by every framework) and the input is at least as long as the dilation, so
    no window covers padding only.
    """
    nd = draw(st.sampled_from(ndims))
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    kmax, slack = (4, 4) if nd < 3 else (3, 2)
    kernel = tuple(draw(st.integers(1, kmax)) for _ in range(nd))
    dilation = tuple(draw(st.integers(1, max_dilation)) for _ in range(nd))
    default_stride = draw(st.sampled_from([True, False, False]))
    stride = None if default_stride else tuple(draw(st.integers(1, max_stride))
                                               for _ in range(nd))
    form = draw(st.sampled_from(padding_forms))
    padding, pairs = _padding(draw, nd, form, tuple(k // 2 for k in kernel))
    sizes = _sizes(draw, kernel, dilation, pairs, dilation, slack)
    dtype = draw(st.sampled_from(dtypes))
    terms = math.prod(kernel)
    radius = exact_radius(dtype, terms, sums=False) if op == "avg_pool" else EXACT_RADIUS_CAP
    if np.dtype(numpy_dtype(dtype)).kind in "iu" and op == "max_pool":
        radius = min(100, tolerances.exact_limit(dtype))
    params: dict[str, Any] = {"kernel_size": _size_arg(draw, kernel)}
    if stride is not None:
        params["stride"] = _size_arg(draw, stride)
    params["padding"] = padding
    if draw(st.booleans()) or dilation != (1,) * nd:
        params["dilation"] = _size_arg(draw, dilation)
    params["ceil_mode"] = draw(st.sampled_from(ceil_modes))
    if op == "avg_pool":
        params["count_include_pad"] = draw(st.booleans())
    return _assert_nonempty(Case(
        op=op,
        x_shape=(n, c, *sizes),
        params=params,
        dtype=dtype,
        fill=_fill(draw, dtype, fills, radius),
        radius=max(radius, 1),
        seed=draw(st.integers(0, 2**32 - 1)),
    ))


@st.composite
def same_asymmetric_cases(draw: st.DrawFn, op: str, ndims: Sequence[int] = (1, 2)) -> Case:
    """Cases where ``padding="same"`` needs an odd total padding in every dimension, so
    the side of the extra cell shows: even kernels with stride 2 on odd sizes (total
    ``k - 1``), or kernel 4 with stride 3 on 6 or 9 cells (total 1); for convolution also
    even kernels with stride 1 (total ``k - 1``: PyTorch offers 'same' for stride 1 only).
    Ramp-filled float32, so padding at the other end changes the result."""
    nd = draw(st.sampled_from(ndims))
    kernel, stride, sizes = [], [], []
    for _ in range(nd):
        s = draw(st.sampled_from([1, 2, 3] if op == "conv" else [2, 3]))
        # With stride 3 and one window the whole input is in it either way: take two.
        m = draw(st.integers(1 if s == 2 else 2, 3))
        kernel.append(draw(st.sampled_from([2, 4])) if s in (1, 2) else 4)
        stride.append(s)
        sizes.append(2 * m + 1 if s == 2 else 3 * m)
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    params: dict[str, Any] = {"stride": tuple(stride), "padding": "same"}
    w_shape = None
    if op == "conv":
        w_shape = (draw(st.integers(1, 2)), c, *kernel)
    else:
        params = {"kernel_size": tuple(kernel), **params}
        if op == "avg_pool":
            params["count_include_pad"] = draw(st.booleans())
    case = Case(op=op, x_shape=(n, c, *sizes), w_shape=w_shape, params=params,
                dtype="float32", fill="ramp", seed=0)
    assert all((lo + hi) % 2 for lo, hi in case.pads), case
    return case


@st.composite
def empty_cases(draw: st.DrawFn, op: str, dtypes: Sequence[str] = (*MAIN_DTYPES,
                                                                   *LOW_PRECISION_DTYPES)
                ) -> Case:
    """Cases of ``op`` whose input has no element: an empty batch (N = 0) or no channels
    (C = 0), otherwise drawn as :func:`cases` draws them (every window parameter), so
    the output is empty too but its shape is defined: ``(0, C_out, *out)`` or
    ``(N, 0, *out)`` for pooling; a convolution over no channels is the empty sum, zeros
    plus the bias, of shape ``(N, O, *out)`` (see :func:`reference.conv`)."""
    base = draw(cases(op, dtypes=dtypes, fills=("exact", "normal")))
    which = draw(st.sampled_from(["batch", "channels"]))
    x_shape, w_shape = list(base.x_shape), base.w_shape
    if which == "batch":
        x_shape[0] = 0
    else:
        x_shape[1] = 0
        if w_shape is not None:
            w_shape = (w_shape[0], 0, *w_shape[2:])
    return replace(base, x_shape=tuple(x_shape), w_shape=w_shape)


#: Cells of one window in :func:`large_window_cases`.
LARGE_WINDOW_CELLS = (64, 8192)


@st.composite
def large_window_cases(draw: st.DrawFn, op: str,
                       dtypes: Sequence[str] = LOW_PRECISION_DTYPES) -> Case:
    """Average pooling or convolution whose window holds 64 to 8192 cells
    (:data:`LARGE_WINDOW_CELLS`), in the 16-bit floats by default: where the dtype sums
    are accumulated in matters (float32 in the tolerance). One batch item, one channel
    (and one filter), the input at most two cells longer than the window in each
    dimension, so the arrays stay small; values of one sign ("negative") or of both
    ("normal")."""
    lo_cells, hi_cells = LARGE_WINDOW_CELLS
    nd = draw(st.sampled_from((1, 2, 3)))
    kernel: list[int] = []
    for i in range(nd):
        done = math.prod(kernel)
        if i < nd - 1:
            kernel.append(draw(st.integers(1, 16)))
        else:
            kernel.append(draw(st.integers(-(-lo_cells // done), hi_cells // done)))
    kernel_t = tuple(kernel)
    sizes = tuple(k + draw(st.integers(0, 2)) for k in kernel_t)
    dtype = draw(st.sampled_from(dtypes))
    fill = draw(st.sampled_from(["normal", "negative"]))
    seed = draw(st.integers(0, 2**32 - 1))
    if op == "conv":
        return _assert_nonempty(Case(op="conv", x_shape=(1, 1, *sizes),
                                     w_shape=(1, 1, *kernel_t), bias=draw(st.booleans()),
                                     params={}, dtype=dtype, fill=fill, seed=seed))
    params: dict[str, Any] = {"kernel_size": kernel_t, "stride": 1,
                              "count_include_pad": draw(st.booleans())}
    if draw(st.booleans()):
        params["padding"] = tuple(min(1, k // 2) for k in kernel_t)
    return _assert_nonempty(Case(op=op, x_shape=(1, 1, *sizes), params=params, dtype=dtype,
                                 fill=fill, seed=seed))


def cases(op: str, **kwargs: Any) -> st.SearchStrategy[Case]:
    """The case strategy of ``op`` ("conv", "max_pool" or "avg_pool")."""
    return conv_cases(**kwargs) if op == "conv" else pool_cases(op, **kwargs)


#: The features every framework's layer API offers: 'valid', 'same' and symmetric int
#: padding, no dilation, no ceil mode. The full strategies draw everything; many of their
#: cases are Unsupported on a layer API, so these keep the comparisons per backend many.
PORTABLE = {"padding_forms": ("valid", "same", "int"), "max_dilation": 1}


def portable_cases(op: str) -> st.SearchStrategy[Case]:
    """Cases of ``op`` restricted to :data:`PORTABLE` features (all values and shapes)."""
    extra = {} if op == "conv" else {"ceil_modes": (False,)}
    return cases(op, **PORTABLE, **extra)


# ------------------------------------------------------------------ realistic shapes
def _conv_layer(label: str, x_shape: tuple[int, ...], w_shape: tuple[int, ...],
                bias: bool = True, **params: Any) -> Case:
    return Case(op="conv", x_shape=x_shape, w_shape=w_shape, bias=bias, params=params,
                dtype="float32", fill="normal", seed=20240601, label=label)


def _pool_layer(label: str, op: str, x_shape: tuple[int, ...], **params: Any) -> Case:
    return Case(op=op, x_shape=x_shape, params=params, dtype="float32", fill="normal",
                seed=20240602, label=label)


#: A handful of layer shapes from well-known networks, batch 1, float32.
REALISTIC_CASES: tuple[Case, ...] = (
    _conv_layer("resnet-stem-7x7-s2", (1, 3, 224, 224), (64, 3, 7, 7), bias=False,
                stride=2, padding=3),
    _conv_layer("resnet-3x3-64ch-56", (1, 64, 56, 56), (64, 64, 3, 3), bias=False,
                padding=1),
    _conv_layer("resnet-1x1-s2-downsample", (1, 64, 56, 56), (128, 64, 1, 1), bias=False,
                stride=2),
    _conv_layer("mobilenet-depthwise-3x3-s2-same", (1, 32, 112, 112), (32, 1, 3, 3),
                stride=2, padding="same", groups=32),
    _conv_layer("vgg-3x3-same", (1, 3, 64, 48), (16, 3, 3, 3), padding="same"),
    _conv_layer("wav-1d-k10-s5", (1, 1, 1600), (32, 1, 10), stride=5),
    _conv_layer("video-3d-3x3x3", (1, 8, 8, 16, 16), (8, 8, 3, 3, 3), padding=1),
    _pool_layer("resnet-maxpool-3x3-s2-p1", "max_pool", (1, 64, 112, 112),
                kernel_size=3, stride=2, padding=1),
    _pool_layer("inception-maxpool-3x3-s2-same", "max_pool", (1, 16, 35, 35),
                kernel_size=3, stride=2, padding="same"),
    _pool_layer("densenet-avgpool-2x2-s2", "avg_pool", (1, 32, 56, 56), kernel_size=2),
    _pool_layer("global-avgpool-7x7", "avg_pool", (1, 512, 7, 7), kernel_size=7),
)


# ------------------------------------------------------------------------- bad input
@dataclass(frozen=True)
class BadInput:
    """One call the oracle rejects (``tests/reference/test_errors.py`` checks how), as
    data: what every backend must reject too, unless a registry entry (``invalid = true``
    among its ``when`` facts) registers what it does instead.

    Arrays hold small integers (``x``: -3..3, ``w``: -2..2, ``b``: 1, 2, ...), so any
    sum of them is exact and a claimed value compares exactly.

    Attributes
    ----------
    label : str
        What is wrong, for the test id.
    op : {"conv", "max_pool", "avg_pool"}
    x_shape : tuple of int
    params : dict
        The keyword arguments (``kernel_size`` included for pooling).
    w_shape : tuple of int or None
        The weights' shape (convolution).
    b_shape : tuple of int or None
        The bias' shape (convolution with a bias).
    dtype : str
        The dtype of every array: a real dtype name, or "bool" / "complex64" for the
        dtype errors.
    """

    label: str
    op: str
    x_shape: tuple[int, ...]
    params: dict[str, Any]
    w_shape: tuple[int, ...] | None = None
    b_shape: tuple[int, ...] | None = None
    dtype: str = "float32"

    def arrays(self) -> dict[str, np.ndarray | None]:
        """``{"x": ...}``, plus ``"w"`` and ``"b"`` for a convolution."""
        dtype = numpy_dtype(self.dtype) if self.dtype != "bool" else np.dtype(bool)

        def fill(shape: tuple[int, ...], period: int, shift: int) -> np.ndarray:
            return (np.arange(math.prod(shape)) % period - shift).reshape(shape).astype(dtype)

        out: dict[str, np.ndarray | None] = {"x": fill(self.x_shape, 7, 3)}
        if self.op == "conv":
            assert self.w_shape is not None
            out["w"] = fill(self.w_shape, 5, 2)
            out["b"] = None if self.b_shape is None else fill(self.b_shape, 9, -1)
        return out


def _bad_conv(label: str, x_shape: tuple[int, ...] = (2, 4, 5, 6),
              w_shape: tuple[int, ...] = (3, 4, 3, 2), b_shape: tuple[int, ...] | None = None,
              dtype: str = "float32", **params: Any) -> BadInput:
    return BadInput(label, "conv", x_shape, params, w_shape, b_shape, dtype)


def _bad_pools(label: str, x_shape: tuple[int, ...] = (2, 4, 5, 6), dtype: str = "float32",
               **params: Any) -> tuple[BadInput, ...]:
    params = {"kernel_size": 2, **params}
    return tuple(BadInput(label, op, x_shape, dict(params), dtype=dtype)
                 for op in ("max_pool", "avg_pool"))


#: Every kind of bad input the oracle rejects, for each operation it concerns: ranks,
#: channels and groups, sizes (zero, negative, non-integer, wrong length), padding
#: (negative, non-integer, wrong length, unknown name), windows larger than the padded
#: input or of padding only, the bias' shape, dtypes.
BAD_INPUTS: tuple[BadInput, ...] = (
    # ranks
    _bad_conv("x-rank-2", x_shape=(5, 5), w_shape=(1, 1, 3, 3)),
    _bad_conv("w-rank-below-x", w_shape=(3, 4, 3)),
    _bad_conv("x-4-spatial-dims", x_shape=(1, 1, 2, 2, 2, 2), w_shape=(1, 1, 1, 1, 1, 1)),
    *_bad_pools("x-rank-2", x_shape=(4, 4)),
    *_bad_pools("x-4-spatial-dims", x_shape=(1, 1, 2, 2, 2, 2), kernel_size=1),
    # channels and groups
    _bad_conv("channel-mismatch", w_shape=(3, 3, 3, 2)),
    _bad_conv("channel-mismatch-with-groups", w_shape=(4, 4, 3, 2), groups=2),
    _bad_conv("groups-not-dividing-c", w_shape=(3, 1, 3, 2), groups=3),
    _bad_conv("groups-not-dividing-o", w_shape=(3, 2, 3, 2), groups=2),
    _bad_conv("groups-0", groups=0),
    _bad_conv("groups-negative", groups=-1),
    _bad_conv("groups-float", groups=1.0),
    _bad_conv("no-output-channels", w_shape=(0, 4, 3, 2)),
    _bad_conv("kernel-0", w_shape=(3, 4, 0, 2)),
    # sizes
    _bad_conv("stride-0", stride=0),
    _bad_conv("stride-negative", stride=-1),
    _bad_conv("stride-per-dim-0", stride=(1, 0)),
    _bad_conv("stride-float", stride=1.5),
    _bad_conv("stride-wrong-length", stride=(1, 1, 1)),
    _bad_conv("dilation-0", dilation=0),
    _bad_conv("dilation-negative", dilation=-2),
    _bad_conv("dilation-float", dilation=2.0),
    _bad_conv("dilation-wrong-length", dilation=(1,)),
    *_bad_pools("kernel-0", kernel_size=0),
    *_bad_pools("kernel-negative", kernel_size=-2),
    *_bad_pools("kernel-per-dim-0", kernel_size=(2, 0)),
    *_bad_pools("kernel-float", kernel_size=2.5),
    *_bad_pools("kernel-wrong-length", kernel_size=(2, 2, 2)),
    *_bad_pools("stride-0", stride=0),
    *_bad_pools("stride-negative", stride=-1),
    *_bad_pools("stride-float", stride=1.0),
    *_bad_pools("dilation-0", dilation=0),
    *_bad_pools("dilation-negative", dilation=-1),
    # padding
    _bad_conv("padding-negative", padding=-1),
    _bad_conv("padding-per-dim-negative", padding=(1, -2)),
    _bad_conv("padding-pair-negative", padding=((0, 1), (-1, 0))),
    _bad_conv("padding-float", padding=0.5),
    _bad_conv("padding-wrong-length", padding=(1, 1, 1)),
    _bad_conv("padding-unknown-name", padding="full"),
    *_bad_pools("padding-negative", padding=-1),
    *_bad_pools("padding-pair-negative", padding=((0, 0), (0, -1))),
    *_bad_pools("padding-float", padding=0.5),
    *_bad_pools("padding-unknown-name", padding="same_upper"),
    # windows that do not fit
    _bad_conv("kernel-larger-than-input", w_shape=(3, 4, 6, 2)),
    _bad_conv("dilated-kernel-larger-than-input", dilation=(3, 1)),
    *_bad_pools("window-larger-than-input", kernel_size=(6, 2)),
    *_bad_pools("window-larger-than-padded-input", kernel_size=(8, 2), padding=1),
    *_bad_pools("window-of-padding-only", padding=2),
    # bias
    _bad_conv("bias-too-short", b_shape=(2,)),
    _bad_conv("bias-2d", b_shape=(3, 1)),
    # dtypes
    _bad_conv("x-bool", dtype="bool"),
    _bad_conv("x-complex", dtype="complex64"),
    *_bad_pools("x-bool", dtype="bool"),
    *_bad_pools("x-complex", dtype="complex64"),
)


# ------------------------------------------------------------------ backward passes
#: Value kinds drawn for the backward passes besides :data:`FILLS`: values from {-1, 0, 1}
#: (ties in most windows, constant windows), one value everywhere (every window a tie),
#: and small integers of which about half are -inf (windows of -inf only). Their ``dy``
#: is filled with small integers ("exact"), so the routed sums are exact.
BACKWARD_FILLS = ("ties", "constant", "neg-inf")
#: The fills of the backward pool strategies, per kind of dtype.
POOL_VJP_FILLS = ("exact", "normal", "negative", "special", "ties", "constant", "neg-inf")


def _backward_array_line(name: str, shape: tuple[int, ...], case: Case, fill: str) -> str:
    dt = dtype_expr(case.dtype)
    if fill == "ties":
        lo = 0 if case.dtype.startswith("uint") else -1
        return f"{name} = rng.integers({lo}, 2, size={shape}).astype({dt})"
    if fill == "constant":
        return f"{name} = np.full({shape}, 1).astype({dt})"
    return "\n".join([  # neg-inf
        f"{name} = rng.integers(-{case.radius}, {case.radius + 1}, size={shape}).astype(float)",
        f"{name}[rng.random({shape}) < 0.6] = -np.inf",
        f"{name} = {name}.astype({dt})",
    ])


def output_shape(case: Case) -> tuple[int, ...]:
    """The forward's output shape ``(N, C or O, *out)``: the shape of a VJP's ``dy``."""
    out = reference.output_size(case.in_sizes, case.kernel, case.stride, case.pads,
                                case.dilation, bool(case.params.get("ceil_mode", False))
                                and not case.op.startswith("conv"))
    channels = case.w_shape[0] if case.op.startswith("conv") and case.w_shape else \
        case.x_shape[1]
    return (case.x_shape[0], channels, *out)


@st.composite
def conv_vjp_cases(draw: st.DrawFn, **kwargs: Any) -> Case:
    """``conv_vjp`` cases: the convolution cases of :func:`conv_cases` (same keyword
    arguments), with an output gradient ``dy`` drawn like ``x`` and the exact fill's
    radius chosen so that ``dx``'s and ``dw``'s partial sums stay exact."""
    case = draw(conv_cases(**kwargs))
    case = replace(case, op="conv_vjp", bias=False)
    assert case.w_shape is not None
    out = output_shape(case)
    groups = int(case.params.get("groups", 1))
    terms = max(case.w_shape[0] // groups * math.prod(case.kernel),
                out[0] * math.prod(out[2:]))
    return replace(case, radius=max(exact_radius(case.dtype, terms, sums=True), 1))


@st.composite
def pool_vjp_cases(
    draw: st.DrawFn,
    op: str,
    dtypes: Sequence[str] = MAIN_DTYPES,
    fills: Sequence[str] = POOL_VJP_FILLS,
    overlap: bool = True,
    **kwargs: Any,
) -> Case:
    """``max_pool_vjp`` / ``avg_pool_vjp`` cases: the pooling cases of :func:`pool_cases`
    (its keyword arguments), drawn with ties on purpose (the fills of
    :data:`BACKWARD_FILLS`: repeated values, constant windows, windows of -inf only), NaN
    and ±inf ("special"), and with ``overlap`` half of them at stride 1, so that windows
    overlap and a cell sums the gradients of several windows. ``dy`` is drawn like ``x``,
    except after a backward fill (small integers then)."""
    forward = op.removesuffix("_vjp")
    case = draw(pool_cases(forward, dtypes=dtypes, **kwargs))
    integer = np.dtype(numpy_dtype(case.dtype)).kind in "iu"
    options = [f for f in fills if not integer or f in ("exact", "ties", "constant")]
    if case.dtype.startswith("uint"):
        options = [f for f in options if f != "negative"]
    fill = draw(st.sampled_from(options))
    if overlap and draw(st.booleans()):
        case = case.with_params(stride=1)
    case = replace(case, op=op, fill=fill, dy_fill="exact" if fill in BACKWARD_FILLS else "")
    covering = int(tolerances.windows_covering(case.x_shape, case.params).max())
    limit = tolerances.exact_limit(case.dtype)
    radius = max(1, min(EXACT_RADIUS_CAP, limit // max(covering, 1)))
    return _assert_nonempty(replace(case, radius=radius))


def vjp_cases(op: str, **kwargs: Any) -> st.SearchStrategy[Case]:
    """The case strategy of a VJP op ("conv_vjp", "max_pool_vjp" or "avg_pool_vjp")."""
    return conv_vjp_cases(**kwargs) if op == "conv_vjp" else pool_vjp_cases(op, **kwargs)


def portable_vjp_cases(op: str) -> st.SearchStrategy[Case]:
    """VJP cases restricted to :data:`PORTABLE` features (what every layer API offers)."""
    extra = {} if op == "conv_vjp" else {"ceil_modes": (False,)}
    return vjp_cases(op, **PORTABLE, **extra)
