"""An entry's reproducer as one call: the arrays and arguments its TOML table describes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from reference.dtypes import numpy_dtype
from registry.claims import _tomlish, oracle_call
from registry.entry import Entry


@dataclass(frozen=True)
class ReproducerCall:
    """An entry's reproducer as one call: arrays, keyword arguments, dtype."""

    op: str
    arrays: dict[str, np.ndarray | None]
    params: dict[str, Any]
    dtype: str


def _filled(spec: Mapping[str, Any], key: str, shape: Any, dtype: np.dtype) -> np.ndarray:
    if key in spec:
        arr = np.asarray(spec[key], dtype=np.float64)
        return (arr.reshape(shape) if shape is not None else arr).astype(dtype)
    n = int(np.prod(shape))
    return np.arange(1, n + 1, dtype=np.float64).reshape(shape).astype(dtype)


def reproducer_call(entry: Entry, dtype_of: Callable[[str], np.dtype] = numpy_dtype
                    ) -> ReproducerCall:
    """Arrays and arguments of ``entry``'s reproducer.

    Unspecified arrays are ``np.arange(1, n + 1)`` in the reproducer's shape; a
    convolution's ``w_shape`` defaults to one ``(1, C, 1, 1...)`` filter, and
    ``b = true`` means ``np.arange(1, O + 1)``. ``dtype_of`` turns the dtype name into
    the arrays' dtype (the report, which may run without ml_dtypes, writes bfloat16 values
    as float32). A VJP's output gradient ``dy`` has the forward's output shape (the
    oracle's), ``np.arange(1, n + 1)`` unless given.
    """
    assert entry.reproducer is not None
    spec = entry.reproducer
    dtype_name = str(spec.get("dtype", "float32"))
    dtype = dtype_of(dtype_name)
    x = _filled(spec, "x", spec.get("x_shape"), dtype)
    params = {k: _tomlish(v) for k, v in spec.get("params", {}).items()}
    arrays: dict[str, np.ndarray | None] = {"x": x}
    if entry.op in ("conv", "conv_vjp"):
        w_shape = spec.get("w_shape", [1, x.shape[1], *([1] * (x.ndim - 2))])
        arrays["w"] = _filled(spec, "w", w_shape, dtype)
        b = spec.get("b")
        if b is True:
            arrays["b"] = np.arange(1, w_shape[0] + 1).astype(dtype)
        elif b is not None and b is not False:
            arrays["b"] = np.asarray(b, dtype=np.float64).astype(dtype)
        else:
            arrays["b"] = None
    if entry.op.endswith("_vjp"):
        forward = entry.op.removesuffix("_vjp")
        shape = np.shape(oracle_call(forward, {**arrays, "b": None}, params))
        arrays["dy"] = _filled(spec, "dy", shape, dtype)
        arrays.pop("b", None)
    return ReproducerCall(entry.op, arrays, params, dtype_name)
