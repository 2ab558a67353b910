"""The oracle itself through the backend protocol: a self-check of the suite's plumbing."""

from __future__ import annotations

import numpy as np

import reference


class NumpyBackend:
    """Calls :mod:`reference` directly; every conformance test must pass exactly."""

    name = "numpy"
    version = np.__version__

    def conv(self, x, w, b=None, **kw):
        return reference.conv(x, w, b, **kw)

    def max_pool(self, x, kernel_size, **kw):
        return reference.max_pool(x, kernel_size, **kw)

    def avg_pool(self, x, kernel_size, **kw):
        return reference.avg_pool(x, kernel_size, **kw)


backend = NumpyBackend()
