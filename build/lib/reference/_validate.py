"""Argument checks shared by every public function: one clear error per kind of bad input."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

#: Names of the ml_dtypes floating types (bfloat16, float8_*, ...) accepted as floats.
_ML_FLOAT_PREFIXES = ("bfloat16", "float8_", "float6_", "float4_")

MAX_SPATIAL_DIMS = 3


def is_ml_float(dtype: np.dtype) -> bool:
    """True for the extra floating dtypes of the ``ml_dtypes`` package, e.g. bfloat16."""
    return dtype.kind == "V" and dtype.name.startswith(_ML_FLOAT_PREFIXES)


def check_array(value: Any, name: str) -> np.ndarray:
    """Return ``value`` as an ndarray of a real numeric dtype, or raise ``TypeError``."""
    arr = np.asarray(value)
    if arr.dtype.kind in "iuf" or is_ml_float(arr.dtype):
        return arr
    raise TypeError(
        f"{name} must have an integer or floating dtype, got dtype {arr.dtype} "
        "(bool, complex, object and string arrays are not convolved or pooled)"
    )


def check_input(x: Any) -> np.ndarray:
    """Return ``x`` as an array ``(N, C, *spatial)`` with 1 to 3 spatial dims."""
    x = check_array(x, "x")
    if not 3 <= x.ndim <= 2 + MAX_SPATIAL_DIMS:
        raise ValueError(
            f"x must have shape (N, C, *spatial) with 1 to {MAX_SPATIAL_DIMS} spatial "
            f"dimensions, got shape {x.shape} ({x.ndim} dimensions)"
        )
    return x


def check_int(value: Any, name: str, minimum: int) -> int:
    """Return ``value`` as an int ``>= minimum``; bools and non-integers raise ``TypeError``."""
    if type(value) is not int:  # plain ints, by far the most common, skip the ABC checks
        if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{name} must be an integer, got {value!r} of type "
                            f"{type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)
