"""The oracle itself through the backend protocol: a self-check of the suite's plumbing.

The oracle computes in float64; like a framework, this backend returns its result in the
input's dtype (rounded to nearest: an integer average is rounded half to even). Its
backward passes are the oracle's VJPs, each gradient in its input's dtype.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import reference


def in_input_dtype(y: np.ndarray, like: Any) -> np.ndarray:
    dtype = np.asarray(like).dtype
    if dtype.kind in "iu":
        y = np.rint(y)
    return np.asarray(y).astype(dtype)


class NumpyBackend:
    """Calls :mod:`reference` directly; every conformance test must pass."""

    name = "numpy"
    version = np.__version__

    def conv(self, x, w, b=None, **kw):
        return in_input_dtype(reference.conv(x, w, b, **kw), x)

    def max_pool(self, x, kernel_size, **kw):
        return reference.max_pool(x, kernel_size, **kw)

    def avg_pool(self, x, kernel_size, **kw):
        return in_input_dtype(reference.avg_pool(x, kernel_size, **kw), x)

    def conv_vjp(self, x, w, dy, **kw):
        dx, dw, db = reference.conv_vjp(x, w, dy, **kw)
        return in_input_dtype(dx, x), in_input_dtype(dw, w), in_input_dtype(db, x)

    def max_pool_vjp(self, x, dy, kernel_size, **kw):
        return in_input_dtype(reference.max_pool_vjp(x, dy, kernel_size, **kw), x)

    def avg_pool_vjp(self, x, dy, kernel_size, **kw):
        return in_input_dtype(reference.avg_pool_vjp(x, dy, kernel_size, **kw), x)


backend = NumpyBackend()
