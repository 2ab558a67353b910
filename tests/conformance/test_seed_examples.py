"""The seed chapter's worked examples through the backend.

The examples of /work/shared/seeds 002 (d2l chapter 6.2-6.5) and 001 (its PyTorch course
notes), written as conv / pool calls on the backend and compared with the oracle's seed
loop functions (``reference.corr2d`` and friends) or, for the padding and stride
examples, with ``reference.conv`` / ``reference.max_pool``; the output shapes the
chapter prints are checked too.
"""

from __future__ import annotations

import numpy as np
import pytest

import reference
from reference.tolerances import compare, tolerance
from tests.support.checks import call_backend, check_arrays, outcome
from tests.support.repro import reproducer_for_arrays

X33 = np.arange(9, dtype=np.float32).reshape(3, 3)
K22 = np.array([[0.0, 1.0], [2.0, 3.0]], dtype=np.float32)
EDGES = np.ones((6, 8), dtype=np.float32)
EDGES[:, 2:6] = 0
K_EDGE = np.array([[1.0, -1.0]], dtype=np.float32)
X_MULTI = np.stack([X33, X33 + 1])
K_MULTI = np.stack([K22, K22 + 1])
K_MULTI_OUT = np.stack([K_MULTI, K_MULTI + 1, K_MULTI + 2])
_rng = np.random.default_rng(6)
X_1X1 = _rng.standard_normal((3, 3, 3)).astype(np.float32)
K_1X1 = _rng.standard_normal((2, 3, 1, 1)).astype(np.float32)
X44 = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)


def _against_seed(suite, op, arrays, params, expected):
    """The backend's result on ``arrays`` agrees with the seed function's ``expected``."""

    def repro(_claim):
        return reproducer_for_arrays(op, arrays, params, "float32", suite.spec)

    called = call_backend(suite, op, arrays, params)
    if called.reason is not None:
        suite.records.add_unsupported(op, called.reason)
        pytest.skip(f"Unsupported ({op}): {called.reason}")
    assert called.error is None, f"{called.describe()}{repro(None)}"
    suite.records.add_checked(op)
    tol = tolerance(op, arrays, params, "float32", expected)
    mismatch = compare(called.y, expected, tol, "float32")
    assert mismatch is None, f"seed example differs: {mismatch.text}{repro(None)}"


# (name, X (C, h, w), K (O, C, kh, kw), seed function, its arguments)
CORR_EXAMPLES = [
    ("corr2d", X33[None], K22[None, None], reference.corr2d, (X33, K22)),
    ("edge-detection", EDGES[None], K_EDGE[None, None], reference.corr2d, (EDGES, K_EDGE)),
    ("edge-detection-transposed", EDGES.T[None], K_EDGE[None, None], reference.corr2d,
     (EDGES.T, K_EDGE)),
    ("multi-in", X_MULTI, K_MULTI[None], reference.corr2d_multi_in, (X_MULTI, K_MULTI)),
    ("multi-in-out", X_MULTI, K_MULTI_OUT, reference.corr2d_multi_in_out,
     (X_MULTI, K_MULTI_OUT)),
    ("1x1-as-fully-connected", X_1X1, K_1X1, reference.corr2d_multi_in_out_1x1,
     (X_1X1, K_1X1)),
]


@pytest.mark.parametrize(("name", "x", "w", "seed_fn", "args"), CORR_EXAMPLES,
                         ids=[e[0] for e in CORR_EXAMPLES])
def test_seed_cross_correlation(suite, name, x, w, seed_fn, args):
    expected = np.asarray(seed_fn(*args)).reshape(1, w.shape[0], *seed_fn(*args).shape[-2:])
    _against_seed(suite, "conv", {"x": x[None], "w": w, "b": None}, {}, expected)


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_seed_pool2d(suite, mode):
    expected = reference.pool2d(X33, (2, 2), mode=mode)[None, None]
    _against_seed(suite, f"{mode}_pool", {"x": X33[None, None]},
                  {"kernel_size": 2, "stride": 1}, expected)


# (name, kernel, params, output shape the chapter prints)
SHAPE_EXAMPLES = [
    ("3x3-same", (3, 3), {"padding": "same"}, (8, 8)),
    ("3x3-pad-1", (3, 3), {"padding": 1}, (8, 8)),
    ("5x3-same", (5, 3), {"padding": "same"}, (8, 8)),
    ("5x3-pad-2-1", (5, 3), {"padding": (2, 1)}, (8, 8)),
    ("3x3-same-stride-2", (3, 3), {"padding": "same", "stride": 2}, (4, 4)),
    ("3x3-pad-1-stride-2", (3, 3), {"padding": 1, "stride": 2}, (4, 4)),
    ("3x5-valid-stride-3-4", (3, 5), {"padding": "valid", "stride": (3, 4)}, (2, 1)),
    ("3x5-pad-0-1-stride-3-4", (3, 5), {"padding": (0, 1), "stride": (3, 4)}, (2, 2)),
]


@pytest.mark.parametrize(("name", "kernel", "params", "shape"), SHAPE_EXAMPLES,
                         ids=[e[0] for e in SHAPE_EXAMPLES])
def test_seed_padding_and_stride(suite, name, kernel, params, shape):
    rng = np.random.default_rng(8)
    arrays = {"x": rng.uniform(size=(1, 1, 8, 8)).astype(np.float32),
              "w": rng.uniform(size=(1, 1, *kernel)).astype(np.float32), "b": None}
    assert reference.conv(arrays["x"], arrays["w"], **params).shape[2:] == shape
    outcome(suite, check_arrays(suite, "conv", arrays, params, "float32"), name)


# (name, x, params, the chapter's printed output)
POOL_EXAMPLES = [
    ("maxpool-3x3-default-stride", X44, {"kernel_size": 3}, [[10.0]]),
    ("maxpool-3x3-pad-top-left-stride-2", X44,
     {"kernel_size": 3, "padding": ((1, 0), (1, 0)), "stride": 2}, [[5.0, 7.0], [13.0, 15.0]]),
    ("maxpool-3x3-pad-1-stride-2", X44, {"kernel_size": 3, "padding": 1, "stride": 2},
     [[5.0, 7.0], [13.0, 15.0]]),
    ("maxpool-2x3-pad-0-1-stride-2-3", X44,
     {"kernel_size": (2, 3), "padding": (0, 1), "stride": (2, 3)}, [[5.0, 7.0], [13.0, 15.0]]),
    ("maxpool-multichannel", np.concatenate([X44, X44 + 1], axis=1),
     {"kernel_size": 3, "padding": ((1, 0), (1, 0)), "stride": 2},
     [[[5.0, 7.0], [13.0, 15.0]], [[6.0, 8.0], [14.0, 16.0]]]),
]


@pytest.mark.parametrize(("name", "x", "params", "printed"), POOL_EXAMPLES,
                         ids=[e[0] for e in POOL_EXAMPLES])
def test_seed_pooling_padding_and_stride(suite, name, x, params, printed):
    expected = np.asarray(printed, dtype=np.float32).reshape(1, x.shape[1], *np.shape(printed)[-2:])
    np.testing.assert_array_equal(reference.max_pool(x, **params), expected)
    outcome(suite, check_arrays(suite, "max_pool", {"x": x}, params, "float32"), name)
