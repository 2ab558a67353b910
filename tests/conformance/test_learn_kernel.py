"""The seeds' exercise through the backend: learning the edge-detection kernel.

Seeds 000-003 fit a 1 x 2 kernel to ``Y = corr2d(X, [[1, -1]])`` by gradient descent, each
in its framework's own way (``tf.GradientTape``, ``.backward()``, ``mx.autograd``). The
backend's ``learn_kernel(X, Y, init, lr, steps)`` runs that loop with the framework's
autograd and in-place update in float32 from a fixed initial kernel; every step's kernel
and loss are compared with :func:`reference.learn_kernel` (float64) within the bounds of
:func:`reference.tolerances.learn_kernel_bounds`. A backend without ``learn_kernel`` has
the test skipped as Unsupported.
"""

from __future__ import annotations

import numpy as np
import pytest

import reference
from backends import Unsupported
from reference.tolerances import learn_kernel_bounds, learn_kernel_contraction

#: The seeds' image: 6 x 8, ones with the middle four columns zero.
X = np.ones((6, 8), dtype=np.float32)
X[:, 2:6] = 0
#: The kernel the loop should find, and the target it makes.
K_TRUE = np.array([[1.0, -1.0]], dtype=np.float32)
Y = reference.corr2d(X, K_TRUE).astype(np.float32)
#: A fixed initial kernel (the seeds draw a random one).
INIT = np.array([[0.2, -0.45]], dtype=np.float32)
LR, STEPS = 0.03, 20


def test_learn_kernel_matches_oracle(suite):
    learn = getattr(suite.backend, "learn_kernel", None)
    if not callable(learn):
        reason = "the backend has no learn_kernel (no training loop)"
        suite.records.add_unsupported("learn_kernel", reason)
        pytest.skip(f"Unsupported (learn_kernel): {reason}")
    try:
        kernels, losses = learn(X, Y, INIT, LR, STEPS)
    except Unsupported as exc:
        suite.records.add_unsupported("learn_kernel", exc.reason)
        pytest.skip(f"Unsupported (learn_kernel): {exc.reason}")
    kernels, losses = np.asarray(kernels), np.asarray(losses)
    ref_kernels, ref_losses = reference.learn_kernel(X, Y, INIT, lr=LR, steps=STEPS)
    assert kernels.shape == ref_kernels.shape and losses.shape == ref_losses.shape
    assert kernels.dtype == np.float32 and losses.dtype == np.float32, (
        f"the loop runs in float32: kernels {kernels.dtype}, losses {losses.dtype}")
    k_bound, l_bound = learn_kernel_bounds(X, Y, ref_kernels, ref_losses, LR)
    k_dev = np.abs(kernels.astype(np.float64) - ref_kernels)
    l_dev = np.abs(losses.astype(np.float64) - ref_losses)
    suite.records.add_checked("learn_kernel")
    suite.records.learn_kernel = {
        "steps": STEPS, "lr": LR, "init": INIT.tolist(),
        "final_kernel": [round(float(v), 6) for v in kernels[-1].ravel()],
        "oracle_final_kernel": [round(float(v), 6) for v in ref_kernels[-1].ravel()],
        "final_loss": float(losses[-1]),
        "max_kernel_deviation": float(k_dev.max()),
        "kernel_bound": float(k_bound.max()),
        "max_loss_deviation": float(l_dev.max()),
    }
    bad = np.argwhere(k_dev > k_bound)
    assert not bad.size, (
        f"step {bad[0][0]}: kernel {kernels[bad[0][0]].ravel()} vs the oracle's "
        f"{ref_kernels[bad[0][0]].ravel()} (bound {k_bound[bad[0][0]].ravel()})")
    bad = np.flatnonzero(l_dev > l_bound)
    assert not bad.size, (
        f"step {bad[0]}: loss {losses[bad[0]]} vs the oracle's {ref_losses[bad[0]]} "
        f"(bound {l_bound[bad[0]]})")
    # the exercise itself: the loop closes in on the edge-detection kernel, every step
    # at least by the loop's contraction (up to the oracle's float64 rounding)
    rho = learn_kernel_contraction(X, K_TRUE.shape, LR)
    ref_bound, _ = learn_kernel_bounds(X, Y, ref_kernels, ref_losses, LR, dtype="float64")
    distance = np.linalg.norm((ref_kernels - K_TRUE).reshape(STEPS + 1, -1), axis=1)
    slack = np.linalg.norm(ref_bound.reshape(STEPS + 1, -1), axis=1)
    assert rho < 1
    assert (distance <= rho ** np.arange(STEPS + 1) * distance[0] + slack).all()
