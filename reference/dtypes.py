"""Dtypes by name: the one place that turns ``"bfloat16"`` (from ``ml_dtypes``) and the
NumPy names into dtypes, and knows each floating dtype's limits."""

from __future__ import annotations

from typing import Any

import numpy as np

try:  # bfloat16 exists only where ml_dtypes is installed
    import ml_dtypes
except ImportError:  # pragma: no cover - depends on the environment
    ml_dtypes = None

__all__ = ["HAS_BFLOAT16", "dtype_expr", "lowest_finite", "numpy_dtype", "smallest_normal"]

#: Whether ``numpy_dtype("bfloat16")`` works here.
HAS_BFLOAT16 = ml_dtypes is not None


def numpy_dtype(name: str) -> np.dtype:
    """The NumPy dtype named ``name`` (``"bfloat16"`` is ``ml_dtypes.bfloat16``).

    Raises
    ------
    ImportError
        For ``"bfloat16"`` without the ml_dtypes package.
    TypeError
        For a name NumPy does not know.
    """
    if name == "bfloat16":
        if ml_dtypes is None:
            raise ImportError("bfloat16 needs the ml_dtypes package")
        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(name)


def dtype_expr(name: str) -> str:
    """Python expression for the dtype named ``name`` (bfloat16 via ``ml_dtypes``)."""
    return "ml_dtypes.bfloat16" if name == "bfloat16" else f"np.{name}"


def lowest_finite(name: str) -> float:
    """The most negative finite value of floating dtype ``name`` (for an integer dtype,
    its minimum)."""
    dtype = numpy_dtype(name)
    if dtype.kind in "iu":
        return float(np.iinfo(dtype).min)
    return float(_finfo(dtype).min)


def smallest_normal(name: str) -> float:
    """The smallest positive normal value of floating dtype ``name`` (below it, a nonzero
    value is subnormal); 0 for a dtype that is not floating (integers, bool, complex)."""
    dtype = numpy_dtype(name)
    if dtype.kind not in "fV":
        return 0.0
    return float(_finfo(dtype).tiny)


def _finfo(dtype: np.dtype) -> Any:
    """The float limits of ``dtype``: NumPy's, or ml_dtypes' for bfloat16."""
    return ml_dtypes.finfo(dtype) if dtype.kind == "V" else np.finfo(dtype)
