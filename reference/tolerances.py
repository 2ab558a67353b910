"""THE tolerance module: how far an implementation may be from the oracle, from an error
bound of its computation.

Nothing else (suite, probes, registry claims) decides a tolerance. Every bound here is
computed elementwise from the case's own numbers, the number of terms summed and the unit
round-off of the dtype under test; where the computation is exact the comparison is
exact.

Convolution
-----------
An output is ``y = b + sum_{k=1..K} x_k * w_k`` with ``K = C // groups * prod(kernel)``.
The inputs are already values of the dtype under test (the oracle receives those very
values, in float64), so the only errors are the backend's arithmetic and the rounding of
its result. For any order of summation (sequential, blocked, pairwise, vectorised; with
or without fused multiply-add) the standard bound (Higham, *Accuracy and Stability of
Numerical Algorithms*, 2nd ed., §3.1 and §4.2) is::

    |y_hat - y| <= gamma_n * (sum_k |x_k * w_k| + |b|),   gamma_n = n*u / (1 - n*u)

with ``n = K + 2`` operations on any path (``K - 1`` additions, the bias addition, the
rounding of each product) and ``u`` the unit round-off of the dtype, plus ``n * eta`` for
products that fall below the normal range (``eta``: half the smallest subnormal), plus
the rounding of the result to the dtype, ``u * |y|``. The suite allows ``C_CONV = 2``
times the arithmetic term, because a backend may legitimately compute differently from a
plain sum: oneDNN / MKL-DNN may pick small-tile Winograd for 3x3 kernels, whose input and
output transforms cost a small constant factor over direct summation, and an output
rounded from a result that already carries error rounds relative to ``|y_hat|`` rather
than ``|y|``. The oracle's own float64 error, ``gamma_n(2**-53)`` times the same sum, is
added, which matters only when float64 is under test.

Accumulation: for float16 and bfloat16 the sums are assumed to be accumulated in float32,
as PyTorch, oneDNN, MXNet and ONNX Runtime do on CPU, and the result rounded once into the
dtype: the arithmetic term uses float32's ``u`` and the output rounding the dtype's. A
framework that accumulates in the low dtype itself is a registered deviation whose claim
names ``accumulation = "float16"`` (the bound then uses that dtype's ``u``): with the
dtype's own ``u`` the bound of a 64-cell window already allows a 3 % error, and of an
8192-cell one any result at all.

``sum_k |x_k * w_k| + |b|`` is computed elementwise with the oracle itself:
``conv(|x|, |w|) + |b|`` with the case's stride, padding, dilation and groups.

Exact cases (benchdnn style): with integer dtypes, and with floating inputs whose values
are integers small enough that every partial sum is below ``2**p`` (``p`` the significand
bits; checked from the data as ``max(conv(|x|, |w|) + |b|) <= 2**p``), every rounding is
exact whatever the order, so equality is required and a one-unit bug is visible.

Average pooling
---------------
``y = (sum of the window's K cells) / D``: ``K - 1`` additions, then a division (or a
multiplication by a rounded reciprocal: one more rounding), so ``n = K + 1`` and the same
``C_AVG = 2``, applied to ``sum |x| / D`` (the oracle's average of ``|x|`` with the same
parameters), plus the output rounding ``u * |y|``.

In an integer dtype the result has the input's dtype, so the exact average is rounded: the
oracle's default is to the nearest integer, ties to even (NumPy's ``rint``), compared
exactly. A framework that truncates is a registered convention.

Max pooling
-----------
The result is one of the inputs: exact, NaN where the oracle has NaN.

Backward passes (vector-Jacobian products)
------------------------------------------
The gradients are sums too, and are bounded the same way: ``C * gamma_n(u_acc) * M +
u_dtype * |ref|`` with ``M`` the same VJP computed by the oracle on ``|x|``, ``|w|``,
``|dy|`` (the sum of the magnitudes of the terms), the accumulation dtype as for the
forward (float32 for float16/bfloat16), ``C = C_CONV`` or ``C_AVG``, plus the oracle's own
float64 error and the subnormal terms. Per gradient, ``n`` counts the roundings on a path:

- ``conv_vjp`` ``dx``: a cell's gradient sums ``dy * w`` over the output channels of its
  group and the kernel taps that reach it, at most ``K_dx = O // groups * prod(kernel)``
  products: ``n = K_dx + 1``.
- ``conv_vjp`` ``dw``: a weight's gradient sums ``dy * x`` over the batch and the output
  positions, ``K_dw = N * prod(out)`` products: ``n = K_dw + 1``.
- ``conv_vjp`` ``db``: the sum of ``dy`` over ``N * prod(out)`` positions, no products:
  ``n = N * prod(out)``.
- ``avg_pool_vjp``: a cell receives ``dy / divisor`` from every window covering it; with
  ``W`` the number of those windows (counted per cell), ``W - 1`` additions, and each
  share is one division, or a multiplication by a rounded reciprocal: ``n = W + 1``,
  ``C_AVG``. ``M`` is ``avg_pool_vjp(x, |dy|)``.
- ``max_pool_vjp``: the routing (which cell a window's gradient goes to) involves no
  arithmetic and is exact; a cell covered by ``W`` windows sums up to ``W`` routed
  gradients, ``n = W - 1`` additions, and only a cell with ``W > 1`` can round its
  result. A cell covered by one window receives ``dy`` itself: exact.

Exact cases: as for the forward, integer values whose every partial sum stays below
``2**p`` in the dtype give exact gradients in any order (checked per gradient from the
data: ``max(M) <= 2**p``); ``max_pool_vjp`` with integer ``dy`` as well. In an integer
dtype (where a framework offers gradients at all) the result is the exact gradient
rounded half to even into the dtype, compared exactly.

Learning a kernel (the seeds' loop)
-----------------------------------
``K_{t+1} = K_t - lr * g(K_t)`` with ``g = 2 * sum_p (Yhat_p - Y_p) * x_p`` in float32,
against the oracle's float64 run from the same (float32) initial kernel. A step's own
rounding error, elementwise: ``Yhat`` is a sum of ``T = kh * kw`` products
(``gamma_{T+1} * sum |x||K|``), the residual ``r`` rounds once (``u |r|``), ``g`` is a sum
of ``P`` products (``gamma_{P+1} * sum |r||x|``) plus the propagated residual error
``2 * sum_p |x_p| * delta r_p``; ``lr * g`` rounds twice (``lr`` itself is rounded into
float32), and the subtraction once (``u |K_{t+1}|``). An error ``e_t`` already in the
kernel is carried exactly by the step's linear part: the gradient is affine in ``K``, so
``e_{t+1} = (I - lr H) e_t + rounding`` with ``H = 2 * A^T A`` (``A`` the im2col matrix of
``X``). Hence ``E_{t+1} = |I - lr H| E_t + C_LEARN * s_t`` elementwise, ``s_t`` the
step's rounding bound evaluated on the oracle's trajectory, ``E_0 = 0``; the loss of step
``t`` within ``C_LEARN * (2 sum |r| delta r + gamma_{P+1} sum r**2 + sum delta r**2)``,
``delta r`` including ``sum |x| E_t``. ``C_LEARN = 2`` covers evaluating the rounding
terms on the oracle's trajectory rather than the float32 one.

Special values
--------------
Where the oracle gives NaN the backend must give NaN; where it gives ±inf, the same
infinity; the bound applies to the finite outputs (their windows hold finite values only,
so the bound is finite there).

Overflow and subnormals
-----------------------
The oracle's result is the exact float64 value ``y``; the backend's is that value computed
with errors of at most ``e`` (the bound above) and then rounded into the dtype. Rounding
to nearest sends every value of magnitude at least the dtype's overflow threshold
``T = (2 - 2**-p) * 2**emax`` (its largest finite value plus half an ulp of it; 65520 for
float16) to the infinity of its sign, so a backend may return ``+inf`` exactly when some
value within the bound reaches it, ``y + e >= T`` (``-inf`` when ``y - e <= -T``); any
finite result must still lie within the bound. This is the rounding of the result, not
an error of the sums: the bound itself holds only when no partial sum or product
overflows the accumulation dtype, which is the case when ``sum |x_k * w_k| + |b|`` stays
below its largest finite value divided by ``1 + gamma_n`` (every partial sum is at most
that), and the suite draws its extreme values within that limit. Below the normal range
the unit round-off no longer bounds the relative error; the absolute terms above cover
it: at most ``eta`` (half the smallest subnormal of the accumulation dtype) per
operation, ``n * eta`` in all, and half the dtype's smallest subnormal for the rounding of
the result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import reference
from reference.dtypes import numpy_dtype
from reference.windows import sliding_windows

#: Significand bits (implicit bit included) of the floating dtypes under test.
SIGNIFICAND_BITS: dict[str, int] = {"float16": 11, "bfloat16": 8, "float32": 24, "float64": 53}
#: Smallest positive subnormal of each floating dtype.
SMALLEST_SUBNORMAL: dict[str, float] = {
    "float16": 2.0 ** -24, "bfloat16": 2.0 ** -133, "float32": 2.0 ** -149,
    "float64": 2.0 ** -1074,
}
#: Largest finite value of each floating dtype.
LARGEST_FINITE: dict[str, float] = {
    "float16": 65504.0, "bfloat16": (2 - 2.0 ** -7) * 2.0 ** 127,
    "float32": (2 - 2.0 ** -23) * 2.0 ** 127, "float64": float(np.finfo(np.float64).max),
}


def overflow_threshold(dtype: str) -> float:
    """Smallest magnitude that rounds to infinity in ``dtype`` (round to nearest): the
    largest finite value plus half an ulp of it, ``(2 - 2**-p) * 2**emax``; ``inf`` for
    float64 and the integer dtypes (a float64 result is already in its dtype)."""
    if dtype not in LARGEST_FINITE or dtype == "float64":
        return np.inf
    largest = LARGEST_FINITE[dtype]
    ulp = largest - float(np.nextafter(np.asarray(largest, dtype=numpy_dtype(dtype)),
                                       np.asarray(0, dtype=numpy_dtype(dtype))))
    return largest + ulp / 2


#: Safety factor over the summation bound for convolution (see the module docstring).
C_CONV = 2.0
#: Safety factor over the summation bound for average pooling.
C_AVG = 2.0
#: Safety factor over the per-step rounding bound of the kernel-learning loop.
C_LEARN = 2.0
_U64 = 2.0 ** -53


def is_integer_dtype(dtype: str) -> bool:
    """True for the integer dtypes (``int8``, ``uint8``, ``int32``, ...)."""
    return dtype not in SIGNIFICAND_BITS


def unit_roundoff(dtype: str) -> float:
    """Unit round-off ``u = 2**-p`` of a floating dtype; 0 for integer dtypes."""
    return 0.0 if is_integer_dtype(dtype) else 2.0 ** -SIGNIFICAND_BITS[dtype]


def exact_limit(dtype: str) -> int:
    """Largest magnitude up to which every integer is exactly representable in ``dtype``
    (``2**p`` for floats, the type's maximum for integers)."""
    if is_integer_dtype(dtype):
        return int(np.iinfo(np.dtype(dtype)).max)
    return 2 ** SIGNIFICAND_BITS[dtype]


def gamma(n: int, u: float) -> float:
    """Higham's ``gamma_n = n*u / (1 - n*u)``: the relative error bound of ``n`` roundings."""
    nu = n * u
    if nu >= 1:
        return np.inf
    return nu / (1 - nu)


def rounded_result_rtol(dtype: str) -> float:
    """Relative bound of a result whose sums are exact (small integers) and which is
    divided once and rounded once into ``dtype``: ``C_AVG * gamma_2(u)``, never below
    float64's (an unknown or integer dtype name gives float64's)."""
    u = unit_roundoff(dtype) if dtype in SIGNIFICAND_BITS else 0.0
    return C_AVG * gamma(2, max(u, _U64))


@dataclass(frozen=True)
class Tolerance:
    """How a backend's result is compared with the oracle's.

    Attributes
    ----------
    exact : bool
        Equality required (NaN where the oracle has NaN).
    bound : numpy.ndarray or None
        Elementwise absolute bound (float64, the output's shape) when not exact.
    rule : str
        One line naming the rule, printed in failure reports.
    """

    exact: bool
    bound: np.ndarray | None
    rule: str
    #: The values to compare with, when they are not the oracle's result itself (an
    #: integer average, rounded into the dtype).
    target: np.ndarray | None = None
    #: Magnitude from which the result's rounding into its dtype gives an infinity
    #: (:func:`overflow_threshold`): an infinite result is allowed where the oracle's
    #: value plus the bound reaches it.
    overflow: float = np.inf


def _f64(a: Any) -> np.ndarray:
    return np.asarray(a).astype(np.float64)


def accumulation_dtype(dtype: str, accumulation: str | None = None) -> str:
    """The dtype sums are accumulated in: ``accumulation`` when given (``"input"``: the
    input's own dtype), float32 for the 16-bit floats, else the dtype itself."""
    if accumulation == "input":
        return dtype
    if accumulation:
        return accumulation
    return "float32" if dtype in ("float16", "bfloat16") else dtype


def magnitude_arrays(arrays: Mapping[str, Any]) -> dict[str, Any]:
    """``|x|``, ``|w|``, ``|b|`` in float64: the arrays whose convolution (or average) is
    the sum of magnitudes an error bound scales with."""
    return {k: None if v is None else np.abs(_f64(v)) for k, v in arrays.items()}


def conv_tolerance(arrays: Mapping[str, Any], params: Mapping[str, Any], dtype: str,
                   y_ref: np.ndarray, accumulation: str | None = None,
                   magnitude: np.ndarray | None = None) -> Tolerance:
    """Tolerance of a convolution (see the module docstring). ``magnitude`` is
    ``conv(|x|, |w|) + |b|`` computed as ``y_ref`` was (by default with ``params``)."""
    x, w = _f64(arrays["x"]), _f64(arrays["w"])
    if magnitude is None:
        abs_arrays = magnitude_arrays(arrays)
        with np.errstate(invalid="ignore"):
            magnitude = reference.conv(abs_arrays["x"], abs_arrays["w"], abs_arrays.get("b"),
                                       **params)
    b = arrays.get("b")
    groups = int(params.get("groups", 1))
    terms = (x.shape[1] // groups) * int(np.prod(w.shape[2:]))
    finite = np.all(np.isfinite(x)) and np.all(np.isfinite(w))
    integral = finite and all(np.array_equal(a, np.round(a))
                              for a in (x, w, _f64(b) if b is not None else x))
    if is_integer_dtype(dtype) or (integral and magnitude.max(initial=0) <= exact_limit(dtype)):
        return Tolerance(True, None, f"exact: integer values, every partial sum exact in {dtype}")
    acc = accumulation_dtype(dtype, accumulation)
    n, u, u_out = terms + 2, unit_roundoff(acc), unit_roundoff(dtype)
    eta = SMALLEST_SUBNORMAL[acc] / 2
    with np.errstate(invalid="ignore"):
        bound = ((C_CONV * gamma(n, u) + gamma(n, _U64)) * magnitude + C_CONV * n * eta
                 + u_out * np.abs(y_ref) + SMALLEST_SUBNORMAL[dtype] / 2)
    return Tolerance(False, bound,
                     f"{C_CONV:g}*gamma_{n}(u_{acc}={u:.3g})*(conv(|x|,|w|)+|b|) "
                     f"+ u_{dtype}*|y_ref|", overflow=overflow_threshold(dtype))


def avg_pool_tolerance(arrays: Mapping[str, Any], params: Mapping[str, Any], dtype: str,
                       y_ref: np.ndarray, accumulation: str | None = None,
                       magnitude: np.ndarray | None = None) -> Tolerance:
    """Tolerance of an average pooling (see the module docstring). ``magnitude`` is the
    average of ``|x|`` computed as ``y_ref`` was (by default with ``params``)."""
    if is_integer_dtype(dtype):
        rounded = np.rint(np.asarray(y_ref, dtype=np.float64))
        return Tolerance(True, None, f"exact: the average rounded half to even into {dtype}",
                         rounded)
    x = _f64(arrays["x"])
    with np.errstate(invalid="ignore"):
        if magnitude is None:
            magnitude = reference.avg_pool(np.abs(x), **params)
    terms = int(np.prod(reference.normalize_sizes(params["kernel_size"], x.ndim - 2,
                                                  "kernel_size")))
    n = terms + 1
    acc = accumulation_dtype(dtype, accumulation)
    u, u_out = unit_roundoff(acc), unit_roundoff(dtype)
    eta = SMALLEST_SUBNORMAL.get(acc, 0.0) / 2
    with np.errstate(invalid="ignore"):
        bound = ((C_AVG * gamma(n, u) + gamma(n, _U64)) * magnitude + C_AVG * n * eta
                 + u_out * np.abs(y_ref) + SMALLEST_SUBNORMAL.get(dtype, 0.0) / 2)
    return Tolerance(False, bound,
                     f"{C_AVG:g}*gamma_{n}(u_{acc}={u:.3g})*avg(|x|) + u_{dtype}*|y_ref|",
                     overflow=overflow_threshold(dtype))


def whole_array_tolerance(op: str, arrays: Mapping[str, Any], dtype: str, y_ref: np.ndarray,
                          accumulation: str | None = None) -> Tolerance:
    """Tolerance of a result claimed for a call the oracle rejects (bad input that a
    registry entry says a framework computes anyway, e.g. negative padding that crops).

    Such a call has no geometry of its own, so the bound uses magnitudes that hold for
    any window: a convolution output sums at most ``n_w`` products (the size of one
    filter, ``w[o].size``), each at most ``max|x| * |w_k|``, so every partial sum is at
    most ``M = max|x| * max_o sum |w[o]| + max|b|``; an average sums at most ``x.size``
    cells, partial sums at most ``M = x.size * max|x|``, divided by at least 1. With
    ``n`` that many operations the bound is the convolution's, ``C_CONV * gamma_n * M``
    plus the underflow and output-rounding terms, and exact where the arrays hold
    integers and ``M <= 2**p`` (every partial sum then exact). Max pooling is exact.
    """
    if op == "max_pool":
        return Tolerance(True, None, "exact: the maximum is one of the inputs")
    x = _f64(arrays["x"])
    top = float(np.abs(x).max(initial=0))
    if op == "conv":
        w = _f64(arrays["w"])
        b = arrays.get("b")
        per_filter = np.abs(w).reshape(w.shape[0], -1).sum(axis=1) if w.size else np.zeros(1)
        top_b = float(np.abs(_f64(b)).max(initial=0)) if b is not None else 0.0
        magnitude = top * float(per_filter.max(initial=0)) + top_b
        n = (w[0].size if w.shape[0] else 0) + 2
        integral = all(np.array_equal(a, np.round(a))
                       for a in (x, w, _f64(b) if b is not None else x))
    else:
        magnitude, n = x.size * top, x.size + 1
        integral = bool(np.array_equal(x, np.round(x)))
    if is_integer_dtype(dtype) or (integral and magnitude <= exact_limit(dtype)):
        return Tolerance(True, None, f"exact: integer values, every partial sum exact in "
                                     f"{dtype}")
    acc = accumulation_dtype(dtype, accumulation)
    u, u_out = unit_roundoff(acc), unit_roundoff(dtype)
    eta = SMALLEST_SUBNORMAL[acc] / 2
    ref = np.asarray(y_ref, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        bound = ((C_CONV * gamma(n, u) + gamma(n, _U64)) * magnitude + C_CONV * n * eta
                 + u_out * np.abs(ref) + SMALLEST_SUBNORMAL[dtype] / 2)
    return Tolerance(False, bound, f"{C_CONV:g}*gamma_{n}(u_{acc}={u:.3g})*M (whole-array "
                                   f"magnitude) + u_{dtype}*|y_ref|",
                     overflow=overflow_threshold(dtype))


def tolerance(op: str, arrays: Mapping[str, Any], params: Mapping[str, Any], dtype: str,
              y_ref: np.ndarray, accumulation: str | None = None,
              magnitude: np.ndarray | None = None) -> Tolerance:
    """The tolerance of ``op`` on these inputs against the oracle's result ``y_ref``,
    for sums accumulated in ``accumulation`` (default: :func:`accumulation_dtype`).

    ``magnitude`` is the sum of magnitudes computed the way ``y_ref`` was (a registry
    claim computes both through the same value models); by default the oracle computes it
    with ``params``.
    """
    if op == "conv":
        return conv_tolerance(arrays, params, dtype, y_ref, accumulation, magnitude)
    if op == "avg_pool":
        return avg_pool_tolerance(arrays, params, dtype, y_ref, accumulation, magnitude)
    if op == "max_pool":
        return Tolerance(True, None, "exact: the maximum is one of the inputs")
    if op == "conv_vjp":
        return conv_vjp_tolerance(arrays, params, dtype, y_ref, accumulation, magnitude)
    if op in ("max_pool_vjp", "avg_pool_vjp"):
        return pool_vjp_tolerance(op, arrays, params, dtype, y_ref, accumulation, magnitude)
    raise ValueError(f"unknown op {op!r}")


# ---------------------------------------------------------------------- backward passes
#: The names of ``conv_vjp``'s three gradients, in the order it returns them.
CONV_VJP_PARTS = ("dx", "dw", "db")


def _gamma_array(n: np.ndarray, u: float) -> np.ndarray:
    """:func:`gamma` elementwise over an integer array ``n`` (inf where ``n*u >= 1``)."""
    nu = np.asarray(n, dtype=np.float64) * u
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(nu < 1, nu / (1 - nu), np.inf)


def _sum_bound(n: Any, c: float, dtype: str, accumulation: str | None,
               magnitude: np.ndarray, ref: np.ndarray, rounds: Any = True) -> np.ndarray:
    """``(c * gamma_n(u_acc) + gamma_n(u_64)) * magnitude + c * n * eta_acc
    + u_dtype * |ref|`` (the last where ``rounds``), elementwise."""
    acc = accumulation_dtype(dtype, accumulation)
    u, u_out = unit_roundoff(acc), unit_roundoff(dtype)
    eta = SMALLEST_SUBNORMAL.get(acc, 0.0) / 2
    n = np.asarray(n)
    with np.errstate(invalid="ignore"):
        return ((c * _gamma_array(n, u) + _gamma_array(n, _U64)) * magnitude
                + c * n * eta + np.where(rounds, u_out * np.abs(ref), 0.0)
                + SMALLEST_SUBNORMAL.get(dtype, 0.0) / 2 * np.asarray(rounds))


def _integral(*arrays: Any) -> bool:
    """Whether every array holds finite integer values only."""
    for a in arrays:
        a = _f64(a)
        if not (np.all(np.isfinite(a)) and np.array_equal(a, np.round(a))):
            return False
    return True


def conv_vjp_tolerance(arrays: Mapping[str, Any], params: Mapping[str, Any], dtype: str,
                       ref: Sequence[np.ndarray], accumulation: str | None = None,
                       magnitude: Sequence[np.ndarray] | None = None
                       ) -> tuple[Tolerance, Tolerance, Tolerance]:
    """Tolerances of ``conv_vjp``'s ``(dx, dw, db)`` (see the module docstring).
    ``magnitude`` is ``conv_vjp(|x|, |w|, |dy|)`` computed as ``ref`` was."""
    x, w, dy = (arrays[k] for k in ("x", "w", "dy"))
    if magnitude is None:
        abs_arrays = magnitude_arrays(arrays)
        with np.errstate(invalid="ignore"):
            magnitude = reference.conv_vjp(abs_arrays["x"], abs_arrays["w"], abs_arrays["dy"],
                                           **params)
    groups = int(params.get("groups", 1))
    w_shape, dy_shape = np.shape(w), np.shape(dy)
    k_dx = w_shape[0] // groups * int(np.prod(w_shape[2:]))
    k_dw = dy_shape[0] * int(np.prod(dy_shape[2:]))
    terms = {"dx": (k_dx + 1, C_CONV, (dy, w)), "dw": (k_dw + 1, C_CONV, (dy, x)),
             "db": (max(k_dw, 1), C_CONV, (dy,))}
    out = []
    for name, r, m in zip(CONV_VJP_PARTS, ref, magnitude, strict=True):
        n, c, operands = terms[name]
        if is_integer_dtype(dtype):
            out.append(Tolerance(True, None, f"{name} exact: integer dtype",
                                 np.rint(np.asarray(r, dtype=np.float64))))
        elif _integral(*operands) and np.max(m, initial=0) <= exact_limit(dtype):
            out.append(Tolerance(True, None, f"{name} exact: integer values, every partial "
                                 f"sum exact in {dtype}"))
        else:
            acc = accumulation_dtype(dtype, accumulation)
            out.append(Tolerance(False, _sum_bound(n, c, dtype, accumulation, m, r),
                                 f"{name}: {c:g}*gamma_{n}(u_{acc})*|{name}|(|x|,|w|,|dy|) "
                                 f"+ u_{dtype}*|ref|"))
    return tuple(out)  # type: ignore[return-value]


def windows_covering(x_shape: Sequence[int], params: Mapping[str, Any]) -> np.ndarray:
    """How many pooling windows cover each input cell, shaped ``(1, 1, *spatial)``: the
    average-pooling VJP (padding counted) of an output gradient equal to each window's
    divisor, which hands every cell of every window exactly 1."""
    rest = {k: v for k, v in params.items() if k not in ("kernel_size", "count_include_pad")}
    geo = reference.window_geometry(x_shape[2:], params["kernel_size"],
                                    params.get("stride") or params["kernel_size"],
                                    params.get("padding", 0), params.get("dilation", 1),
                                    bool(params.get("ceil_mode", False)))
    counts = reference.cells_counted(geo, x_shape[2:], True)
    divisor = counts[0]
    for c in counts[1:]:
        divisor = np.multiply.outer(divisor, c)
    dy = np.asarray(divisor, dtype=np.float64)[np.newaxis, np.newaxis]
    cells = np.zeros((1, 1, *x_shape[2:]))
    return np.rint(reference.avg_pool_vjp(cells, dy, params["kernel_size"], **rest,
                                          count_include_pad=True))


def pool_vjp_tolerance(op: str, arrays: Mapping[str, Any], params: Mapping[str, Any],
                       dtype: str, ref: np.ndarray, accumulation: str | None = None,
                       magnitude: np.ndarray | None = None) -> Tolerance:
    """Tolerance of ``max_pool_vjp`` or ``avg_pool_vjp`` (see the module docstring).
    ``magnitude`` is the same VJP of ``|dy|`` computed as ``ref`` was."""
    x, dy = arrays["x"], arrays["dy"]
    if magnitude is None:
        rest = dict(params)
        kernel = rest.pop("kernel_size")
        with np.errstate(invalid="ignore"):
            magnitude = getattr(reference, op)(x, np.abs(_f64(dy)), kernel, **rest)
    if is_integer_dtype(dtype):
        return Tolerance(True, None, "exact: the gradient rounded half to even into "
                         f"{dtype}", np.rint(np.asarray(ref, dtype=np.float64)))
    covering = windows_covering(np.shape(x), params)
    if op == "max_pool_vjp":
        if _integral(dy) and np.max(magnitude, initial=0) <= exact_limit(dtype):
            return Tolerance(True, None, "exact: routing, and integer sums exact in "
                             f"{dtype}")
        n = np.maximum(covering - 1, 0)
        bound = _sum_bound(n, C_CONV, dtype, accumulation, magnitude, ref, covering > 1)
        return Tolerance(False, bound, f"exact routing; cells covered by W > 1 windows: "
                         f"{C_CONV:g}*gamma_(W-1)(u_acc)*max_pool_vjp(x,|dy|) "
                         f"+ u_{dtype}*|ref|")
    bound = _sum_bound(covering + 1, C_AVG, dtype, accumulation, magnitude, ref)
    return Tolerance(False, bound, f"{C_AVG:g}*gamma_(W+1)(u_acc)*avg_pool_vjp(x,|dy|) "
                     f"+ u_{dtype}*|ref|")


def _learn_columns(x: np.ndarray, kernel_shape: tuple[int, int]) -> np.ndarray:
    """im2col of the learning loop's corr2d: ``A[p, j]`` is X at output position ``p``
    under kernel tap ``j``, so that ``corr2d(X, K).ravel() == A @ K.ravel()``."""
    kh, kw = kernel_shape
    out = (x.shape[0] - kh + 1, x.shape[1] - kw + 1)
    view = sliding_windows(x[None, None], kernel_shape, (1, 1), (1, 1), out)
    return view.reshape(out[0] * out[1], kh * kw)


def learn_kernel_contraction(X: Any, kernel_shape: tuple[int, int], lr: float) -> float:
    """How much one exact step of the learning loop shrinks the distance to a kernel
    ``K*`` that fits ``Y = corr2d(X, K*)`` exactly.

    The loss ``|A k - y|²`` has the gradient ``2 Aᵀ(A k - y) = 2 AᵀA (k - k*)``, so a
    step maps ``k - k*`` to ``(I - 2 lr AᵀA)(k - k*)``: the Euclidean distance shrinks
    at least by that symmetric matrix's spectral norm, returned here. Below 1 the loop
    converges to ``K*`` (seed 000's exercise: the edge image and ``[[1, -1]]``).
    """
    a = _learn_columns(_f64(X), kernel_shape)
    step = np.eye(a.shape[1]) - 2 * lr * a.T @ a
    return float(np.abs(np.linalg.eigvalsh(step)).max())


def learn_kernel_bounds(X: Any, Y: Any, kernels: np.ndarray, losses: np.ndarray,
                        lr: float, dtype: str = "float32"
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Elementwise bounds on a framework's kernel-learning loop in ``dtype`` against the
    oracle's float64 run (see "Learning a kernel" in the module docstring).

    Parameters
    ----------
    X, Y : array_like
        The loop's input and target (values of ``dtype``).
    kernels, losses : numpy.ndarray
        The oracle's trajectory, :func:`reference.learn_kernel`'s result.
    lr : float
        The learning rate.

    Returns
    -------
    kernel_bound : numpy.ndarray, shape of ``kernels``
        Bound on ``|K_t - K_t_ref|`` (0 for the initial kernel).
    loss_bound : numpy.ndarray, shape of ``losses``
        Bound on the difference of each step's loss.
    """
    x, y = _f64(X), _f64(Y)
    kh, kw = kernels.shape[1:]
    a = _learn_columns(x, (kh, kw))
    abs_a = np.abs(a)
    taps, positions = a.shape[1], a.shape[0]
    u = unit_roundoff(dtype)
    step_map = np.abs(np.eye(taps) - lr * 2 * a.T @ a)
    e = np.zeros(taps)
    kernel_bound, loss_bound = [e.reshape(kh, kw).copy()], []
    for t in range(len(losses)):
        k, k_next = kernels[t].ravel(), kernels[t + 1].ravel()
        r = a @ k - y.ravel()
        rounding_r = gamma(taps + 1, u) * (abs_a @ np.abs(k)) + u * np.abs(r)
        d_r = rounding_r + abs_a @ e
        loss_bound.append(C_LEARN * (2 * np.abs(r) @ d_r + gamma(positions + 1, u) * r @ r
                                     + d_r @ d_r))
        g = 2 * a.T @ r
        d_g = 2 * (abs_a.T @ rounding_r + gamma(positions + 1, u) * (abs_a.T @ np.abs(r)))
        e = step_map @ e + C_LEARN * (lr * d_g + 2 * u * lr * np.abs(g) + u * np.abs(k_next))
        kernel_bound.append(e.reshape(kh, kw).copy())
    return np.stack(kernel_bound), np.array(loss_bound)


@dataclass(frozen=True)
class Mismatch:
    """Why a result is not within tolerance: a human-readable account."""

    text: str


def compare(y: Any, y_ref: np.ndarray, tol: Tolerance, dtype: str | None = None
            ) -> Mismatch | None:
    """Check a result against the oracle's; None when it conforms.

    See :func:`compare_any` (one expected array).
    """
    return compare_any(y, [y_ref], [tol], dtype)


def _bad_elements(got: np.ndarray, ref: np.ndarray, tol: Tolerance) -> np.ndarray:
    nan_ref, nan_got = np.isnan(ref), np.isnan(got)
    bad = nan_ref != nan_got
    inf_ref = np.isinf(ref)
    bad |= inf_ref & (got != ref)
    finite = ~nan_ref & ~inf_ref
    with np.errstate(invalid="ignore"):
        if tol.exact:
            bad |= finite & (got != ref)
        else:
            assert tol.bound is not None
            bad |= finite & ~(np.abs(got - ref) <= tol.bound)
            # the rounding into the dtype overflows where a value within the bound does
            overflows = (finite & np.isinf(got) & (np.sign(got) == np.sign(ref))
                         & (np.abs(ref) + tol.bound >= tol.overflow))
            bad &= ~overflows
    return bad


def compare_any(y: Any, expected: Sequence[np.ndarray], tols: Sequence[Tolerance],
                dtype: str | None = None) -> Mismatch | None:
    """Check a result against one or more expected arrays; None when it conforms.

    The result's dtype must be ``dtype`` (when given). Its values are compared as
    float64: shape, NaN positions, infinities, then the finite values exactly or within
    the tolerance; an element conforms when it agrees with the same element of any one
    of the ``expected`` arrays (a claim allowing alternatives).

    A result made of several arrays (``conv_vjp``'s ``(dx, dw, db)``: each expected item
    and each tolerance a tuple) is compared part by part, each part as above.
    """
    if expected and isinstance(expected[0], tuple):
        return _compare_parts(y, expected, tols, dtype)
    try:
        arr = np.asarray(y)
        got = arr.astype(np.float64)
    except (TypeError, ValueError) as exc:
        return Mismatch(f"result is not a numeric array: {type(y).__name__} ({exc})")
    if dtype is not None and arr.dtype.name != dtype:
        return Mismatch(f"result dtype {arr.dtype.name}, expected {dtype} (the input's dtype "
                        "unless a registry entry claims another)")
    ref = np.asarray(expected[0] if tols[0].target is None else tols[0].target,
                     dtype=np.float64)
    tol = tols[0]
    if got.shape != ref.shape:
        return Mismatch(f"shape {got.shape} != oracle shape {ref.shape}")
    bad = _bad_elements(got, ref, tol)
    for other, other_tol in zip(expected[1:], tols[1:], strict=True):
        alt = np.asarray(other if other_tol.target is None else other_tol.target,
                         dtype=np.float64)
        if alt.shape == got.shape:
            bad &= _bad_elements(got, alt, other_tol)
    if not bad.any():
        return None
    idx = tuple(int(i) for i in np.argwhere(bad)[0])
    lines = [f"{int(bad.sum())} of {bad.size} elements differ ({tol.rule})",
             f"first at index {idx}: backend {float(got[idx])!r}, oracle {float(ref[idx])!r}"]
    if not tol.exact and tol.bound is not None:
        with np.errstate(invalid="ignore"):
            lines.append(f"  |difference| = {float(abs(got[idx] - ref[idx]))!r}, "
                         f"bound = {float(tol.bound[idx])!r}")
    return Mismatch("\n".join(lines))


def _compare_parts(y: Any, expected: Sequence[Any], tols: Sequence[Any],
                   dtype: str | None) -> Mismatch | None:
    """:func:`compare_any` of a tuple result, part by part (named as ``conv_vjp``'s)."""
    parts = len(expected[0])
    names = CONV_VJP_PARTS if parts == len(CONV_VJP_PARTS) else tuple(
        f"part {i}" for i in range(parts))
    if not isinstance(y, tuple | list) or len(y) != parts:
        return Mismatch(f"result is not a tuple of {parts} arrays ({', '.join(names)}): "
                        f"{type(y).__name__}")
    for i, name in enumerate(names):
        mismatch = compare_any(y[i], [e[i] for e in expected], [t[i] for t in tols], dtype)
        if mismatch is not None:
            return Mismatch(f"{name}: {mismatch.text}")
    return None
