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
    raise ValueError(f"unknown op {op!r}")


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
    """
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
