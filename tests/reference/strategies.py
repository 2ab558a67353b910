"""Hypothesis strategies for the oracle's own tests: valid cases by construction.

Sizes are derived from one another (the input is drawn at least as large as the dilated
kernel minus the padding), so no case is rejected. Values are small integers, so that
every sum is exact in float64 and comparisons can be exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st

SMALL = st.integers(-9, 9)


@dataclass
class ConvCase:
    x: np.ndarray
    w: np.ndarray
    b: np.ndarray | None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class PoolCase:
    x: np.ndarray
    kernel_size: tuple[int, ...]
    params: dict[str, Any] = field(default_factory=dict)


def int_array(draw: Any, shape: tuple[int, ...], lo: int = -9, hi: int = 9) -> np.ndarray:
    """A float64 array of small integers, from a hypothesis-drawn seed (shrinks well)."""
    seed = draw(st.integers(0, 2**32 - 1))
    return np.random.default_rng(seed).integers(lo, hi + 1, size=shape).astype(np.float64)


def _spec(draw: Any, per_dim: list[Any]) -> Any:
    """One int if all equal and a coin says so, else the per-dimension tuple."""
    if len(set(per_dim)) == 1 and draw(st.booleans()):
        return per_dim[0]
    return tuple(per_dim)


@st.composite
def conv_cases(draw: Any, ndim: int | None = None, *, simple: bool = False) -> ConvCase:
    """A convolution case; ``simple``: 2-D, stride 1, no padding, no dilation, groups 1."""
    nd = 2 if simple else (draw(st.integers(1, 3)) if ndim is None else ndim)
    max_k = {1: 4, 2: 3, 3: 2}[nd]
    groups = 1 if simple else draw(st.sampled_from([1, 1, 2, 3]))
    cg = draw(st.integers(1, 2))
    og = draw(st.integers(1, 2))
    n = draw(st.integers(1, 2))
    kernel = [draw(st.integers(1, max_k)) for _ in range(nd)]
    stride = [1 if simple else draw(st.integers(1, 3)) for _ in range(nd)]
    dilation = [1 if simple else draw(st.integers(1, 2)) for _ in range(nd)]
    mode = "none" if simple else draw(st.sampled_from(
        ["none", "int", "pairs", "valid", "same", "same_lower"]))
    pairs = [(draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(nd)]
    if mode == "int":
        pairs = [(pairs[0][0], pairs[0][0])] * nd
    elif mode != "pairs":
        pairs = [(0, 0)] * nd
    extent = [(k - 1) * d + 1 for k, d in zip(kernel, dilation, strict=True)]
    max_extra = {1: 6, 2: 4, 3: 2}[nd]
    sizes = [max(e - lo - hi, 1) + draw(st.integers(0, max_extra))
             for e, (lo, hi) in zip(extent, pairs, strict=True)]
    if mode == "none":
        padding: Any = 0
    elif mode == "int":
        padding = pairs[0][0]
    elif mode == "pairs":
        padding = tuple(pairs)
    else:
        padding = mode
    x = int_array(draw, (n, cg * groups, *sizes))
    w = int_array(draw, (og * groups, cg, *kernel))
    b = None if simple or not draw(st.booleans()) else int_array(draw, (og * groups,))
    params: dict[str, Any] = {}
    if not simple:
        params = {"stride": _spec(draw, stride), "padding": padding,
                  "dilation": _spec(draw, dilation), "groups": groups}
    return ConvCase(x, w, b, params)


@st.composite
def pool_cases(draw: Any, ndim: int | None = None, *, simple: bool = False) -> PoolCase:
    """A pooling case whose every window holds at least one input cell.

    The input is at least as long as the dilated window and explicit padding is at most
    half of it, which guarantees that (see the module docstring of ``direct``).
    ``simple``: 2-D, stride 1, no padding, no dilation, floor mode.
    """
    nd = 2 if simple else (draw(st.integers(1, 3)) if ndim is None else ndim)
    max_k = {1: 4, 2: 3, 3: 2}[nd]
    n = draw(st.integers(1, 2))
    c = draw(st.integers(1, 3))
    kernel = [draw(st.integers(1, max_k)) for _ in range(nd)]
    dilation = [1 if simple else draw(st.integers(1, 2)) for _ in range(nd)]
    extent = [(k - 1) * d + 1 for k, d in zip(kernel, dilation, strict=True)]
    max_extra = {1: 6, 2: 4, 3: 2}[nd]
    sizes = [e + draw(st.integers(0, max_extra)) for e in extent]
    mode = "none" if simple else draw(st.sampled_from(
        ["none", "int", "pairs", "valid", "same", "same_lower"]))
    pairs = [(draw(st.integers(0, (e - 1) // 2)), draw(st.integers(0, (e - 1) // 2)))
             for e in extent]
    if mode == "none":
        padding: Any = 0
    elif mode == "int":
        padding = min(lo for lo, _ in pairs)
    elif mode == "pairs":
        padding = tuple(pairs)
    else:
        padding = mode
    x = int_array(draw, (n, c, *sizes), -50, 50)
    params: dict[str, Any] = {"stride": 1} if simple else {}
    if not simple:
        stride_choice = draw(st.sampled_from(["none", "given"]))
        if stride_choice == "given":
            params["stride"] = _spec(draw, [draw(st.integers(1, 3)) for _ in range(nd)])
        params.update(padding=padding, dilation=_spec(draw, dilation),
                      ceil_mode=draw(st.booleans()))
    return PoolCase(x, tuple(kernel), params)
