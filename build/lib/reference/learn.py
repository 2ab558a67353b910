"""The seed chapter's exercise: learning a 2-D kernel by gradient descent."""

from __future__ import annotations

from typing import Any

import numpy as np

from reference._validate import check_array, check_int
from reference.conv import conv
from reference.conv_vjp import conv_vjp
from reference.padding import output_size

_F64 = np.dtype(np.float64)


def learn_kernel(
    X: Any,
    Y: Any,
    init: Any,
    *,
    lr: float = 0.03,
    steps: int = 10,
) -> tuple[np.ndarray, np.ndarray]:
    """Fit ``K`` so that ``corr2d(X, K)`` approaches ``Y``, by plain gradient descent.

    The loop of seeds 000-003, in float64: at every step ``Yhat = corr2d(X, K)`` (no
    padding, stride 1), ``loss = sum((Yhat - Y) ** 2)`` and ``K <- K - lr * dloss/dK``,
    the gradient being ``conv_vjp`` of ``dy = 2 * (Yhat - Y)`` (the seeds' frameworks
    differentiate the summed squared error the same way). No bias.

    Parameters
    ----------
    X : array_like, shape (h, w)
        The input image.
    Y : array_like, shape (h - kh + 1, w - kw + 1)
        The target: the output shape of ``corr2d(X, init)``.
    init : array_like, shape (kh, kw)
        The starting kernel.
    lr : float, default 0.03
        The learning rate (the seeds' ``3e-2``).
    steps : int, default 10
        Number of updates, ``>= 0``.

    Returns
    -------
    kernels : numpy.ndarray, float64, shape (steps + 1, kh, kw)
        ``init`` followed by the kernel after each update.
    losses : numpy.ndarray, float64, shape (steps,)
        Each step's loss, computed before its update.

    Raises
    ------
    ValueError, TypeError
        For arrays that are not 2-D, a ``Y`` of the wrong shape, a non-finite or
        non-real ``lr`` or a bad ``steps``.
    """
    X, Y, K = (check_array(a, name).astype(_F64) for a, name in ((X, "X"), (Y, "Y"),
                                                                 (init, "init")))
    for a, name in ((X, "X"), (Y, "Y"), (K, "init")):
        if a.ndim != 2:
            raise ValueError(f"{name} must be a 2-D array, got shape {a.shape}")
    if isinstance(lr, bool) or not isinstance(lr, int | float | np.integer | np.floating) \
            or not np.isfinite(lr):
        raise TypeError(f"lr must be a finite real number, got {lr!r}")
    steps = check_int(steps, "steps", 0)
    out = output_size(X.shape, K.shape, (1, 1), ((0, 0), (0, 0)), (1, 1))
    if Y.shape != out:
        raise ValueError(f"Y must have the shape of corr2d(X, init), {out}, got shape "
                         f"{Y.shape}")
    x = X[np.newaxis, np.newaxis]
    kernels, losses = [K], []
    for _ in range(steps):
        yhat = conv(x, K[np.newaxis, np.newaxis])[0, 0]
        losses.append(float(np.sum((yhat - Y) ** 2)))
        dy = 2 * (yhat - Y)[np.newaxis, np.newaxis]
        _, dw, _ = conv_vjp(x, K[np.newaxis, np.newaxis], dy)
        K = K - lr * dw[0, 0]
        kernels.append(K)
    return np.stack(kernels), np.array(losses, dtype=_F64)
