"""The seed chapter's functions, by their seed names, as plain loops.

These are the definitions from the d2l "convolutions" chapter (cross-correlation, multiple
input and output channels, 1×1 convolution, pooling), kept readable on purpose: the fast
API of :mod:`reference` is checked against them. They compute in float64.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reference._validate import check_array, check_int


def _float_array(value: Any, name: str, ndim: int, shape_doc: str) -> np.ndarray:
    arr = check_array(value, name)
    if arr.ndim != ndim:
        raise ValueError(f"{name} must have shape {shape_doc}, got shape {arr.shape}")
    return arr.astype(np.float64)


def corr2d(X: Any, K: Any) -> np.ndarray:
    """2-D cross-correlation of ``X`` (h, w) with kernel ``K`` (kh, kw), no padding.

    ``Y[i, j] = sum(X[i:i + kh, j:j + kw] * K)``; ``Y`` has shape
    ``(h - kh + 1, w - kw + 1)``.
    """
    X = _float_array(X, "X", 2, "(h, w)")
    K = _float_array(K, "K", 2, "(kh, kw)")
    h, w = K.shape
    if X.shape[0] < h or X.shape[1] < w or h < 1 or w < 1:
        raise ValueError(f"K of shape {K.shape} does not fit in X of shape {X.shape}")
    Y = np.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y


def corr2d_multi_in(X: Any, K: Any) -> np.ndarray:
    """Multi-input-channel cross-correlation: ``X`` (C, h, w), ``K`` (C, kh, kw).

    The per-channel cross-correlations are summed.
    """
    X = _float_array(X, "X", 3, "(C, h, w)")
    K = _float_array(K, "K", 3, "(C, kh, kw)")
    if X.shape[0] != K.shape[0]:
        raise ValueError(f"X and K must have the same number of channels, got X of shape "
                         f"{X.shape} and K of shape {K.shape}")
    return sum(corr2d(x, k) for x, k in zip(X, K, strict=True))


def corr2d_multi_in_out(X: Any, K: Any) -> np.ndarray:
    """Multi-input, multi-output cross-correlation: ``X`` (C, h, w), ``K`` (O, C, kh, kw).

    Output channel ``o`` is ``corr2d_multi_in(X, K[o])``; the result is (O, h', w').
    """
    K = _float_array(K, "K", 4, "(O, C, kh, kw)")
    return np.stack([corr2d_multi_in(X, k) for k in K], 0)


def corr2d_multi_in_out_1x1(X: Any, K: Any) -> np.ndarray:
    """1×1 convolution as a matrix product: ``X`` (C, h, w), ``K`` (O, C, 1, 1).

    Every pixel's channel vector is multiplied by the (O, C) matrix: a fully connected
    layer applied at each position.
    """
    X = _float_array(X, "X", 3, "(C, h, w)")
    K = _float_array(K, "K", 4, "(O, C, 1, 1)")
    c_i, h, w = X.shape
    c_o = K.shape[0]
    if K.shape[1:] != (c_i, 1, 1):
        raise ValueError(f"K must have shape (O, {c_i}, 1, 1), got shape {K.shape}")
    Y = K.reshape((c_o, c_i)) @ X.reshape((c_i, h * w))
    return Y.reshape((c_o, h, w))


def pool2d(X: Any, pool_size: Any, mode: str = "max") -> np.ndarray:
    """2-D max or average pooling of ``X`` (h, w) with stride 1 and no padding.

    Parameters
    ----------
    X : array_like, shape (h, w)
    pool_size : int or (int, int)
        Window height and width.
    mode : {"max", "avg"}
    """
    X = _float_array(X, "X", 2, "(h, w)")
    p_h, p_w = (pool_size, pool_size) if np.ndim(pool_size) == 0 else pool_size
    p_h, p_w = check_int(p_h, "pool_size", 1), check_int(p_w, "pool_size", 1)
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
    if X.shape[0] < p_h or X.shape[1] < p_w:
        raise ValueError(f"pool_size {(p_h, p_w)} does not fit in X of shape {X.shape}")
    Y = np.zeros((X.shape[0] - p_h + 1, X.shape[1] - p_w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            window = X[i: i + p_h, j: j + p_w]
            Y[i, j] = window.max() if mode == "max" else window.mean()
    return Y
