"""Bad input to the backward passes: the forward's errors, word for word, and a clear
error for an output gradient of the wrong shape."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import reference

X = np.ones((2, 4, 5, 6))
W = np.ones((3, 4, 3, 2))

BAD_CONV: list[dict[str, Any]] = [
    {"x": np.ones((5, 5))},
    {"x": np.ones((1, 1, 2, 2, 2, 2))},
    {"w": np.ones((3, 4, 3))},
    {"w": np.ones((3, 3, 3, 2))},
    {"w": np.ones((3, 2, 3, 2)), "groups": 2},
    {"groups": 0},
    {"groups": 1.0},
    {"stride": 0},
    {"stride": (1, 2, 3)},
    {"dilation": True},
    {"padding": -1},
    {"padding": "full"},
    {"padding": ((1, 2), (3,))},
    {"w": np.ones((3, 4, 9, 2))},  # window larger than the input
    {"x": np.ones((2, 4, 5, 6), dtype=complex)},
    {"w": np.ones((3, 4, 3, 2), dtype=bool)},
]

BAD_POOL: list[dict[str, Any]] = [
    {"x": np.ones((4, 4))},
    {"kernel_size": 0},
    {"kernel_size": (2, 2, 2)},
    {"kernel_size": 2.0},
    {"stride": -1},
    {"padding": 2, "kernel_size": 2},  # a window of padding only
    {"padding": "symmetric"},
    {"dilation": 0},
    {"ceil_mode": 1},
    {"kernel_size": 7},
    {"x": np.array([[["a"]]])},
]


def raised(call: Callable[[], Any]) -> BaseException:
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    return info.value


@pytest.mark.parametrize("bad", BAD_CONV, ids=repr)
def test_conv_vjp_raises_as_the_forward(bad: dict[str, Any]) -> None:
    args = {"x": X, "w": W, **bad}
    x, w = args.pop("x"), args.pop("w")
    forward = raised(lambda: reference.conv(x, w, **args))
    backward = raised(lambda: reference.conv_vjp(x, w, np.ones((2, 3, 3, 5)), **args))
    assert type(backward) is type(forward)
    assert str(backward) == str(forward)


@pytest.mark.parametrize("bad", BAD_POOL, ids=repr)
@pytest.mark.parametrize("op", ["max_pool", "avg_pool"])
def test_pool_vjp_raises_as_the_forward(op: str, bad: dict[str, Any]) -> None:
    args = {"x": X, "kernel_size": 2, **bad}
    x, k = args.pop("x"), args.pop("kernel_size")
    forward = raised(lambda: getattr(reference, op)(x, k, **args))
    backward = raised(lambda: getattr(reference, op + "_vjp")(x, np.ones((2, 4, 2, 3)), k,
                                                               **args))
    assert type(backward) is type(forward)
    assert str(backward) == str(forward)


def test_avg_pool_vjp_count_include_pad_must_be_a_bool() -> None:
    forward = raised(lambda: reference.avg_pool(X, 2, count_include_pad=None))
    backward = raised(lambda: reference.avg_pool_vjp(X, np.ones((2, 4, 2, 3)), 2,
                                                     count_include_pad=None))
    assert type(backward) is type(forward) is TypeError
    assert str(backward) == str(forward)


@pytest.mark.parametrize("dy_shape", [(2, 3, 3), (2, 3, 3, 4), (2, 4, 3, 5), (1, 3, 3, 5),
                                      (2, 3, 3, 5, 1), ()])
def test_conv_vjp_dy_of_the_wrong_shape(dy_shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match=re.escape(
            f"dy must have the forward's output shape (N, O, *out) = (2, 3, 3, 5), got "
            f"shape {dy_shape}")):
        reference.conv_vjp(X, W, np.ones(dy_shape))


@pytest.mark.parametrize("op", ["max_pool_vjp", "avg_pool_vjp"])
@pytest.mark.parametrize("dy_shape", [(2, 4, 2, 2), (2, 4, 3, 3), (4, 2, 2, 3), (2, 4, 6)])
def test_pool_vjp_dy_of_the_wrong_shape(op: str, dy_shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match=re.escape(
            f"dy must have the forward's output shape (N, C, *out) = (2, 4, 2, 3), got "
            f"shape {dy_shape}")):
        getattr(reference, op)(X, np.ones(dy_shape), 2)


@pytest.mark.parametrize("op", ["conv_vjp", "max_pool_vjp", "avg_pool_vjp"])
def test_dy_must_be_numeric(op: str) -> None:
    dy = np.full((2, 3, 3, 5) if op == "conv_vjp" else (2, 4, 2, 3), "a")
    call = ((lambda: reference.conv_vjp(X, W, dy)) if op == "conv_vjp"
            else (lambda: getattr(reference, op)(X, dy, 2)))
    with pytest.raises(TypeError, match=r"^dy must have an integer or floating dtype"):
        call()


@pytest.mark.parametrize(("kwargs", "error", "pattern"), [
    ({"X": np.ones((1, 6, 8))}, ValueError, r"^X must be a 2-D array"),
    ({"init": np.ones(2)}, ValueError, r"^init must be a 2-D array"),
    ({"Y": np.ones((6, 8))}, ValueError, r"^Y must have the shape of corr2d\(X, init\), "
                                         r"\(6, 7\)"),
    ({"init": np.ones((7, 1))}, ValueError, r"^Y must have the shape .*\(0, 8\)"),
    ({"lr": "0.1"}, TypeError, r"^lr must be a finite real number"),
    ({"lr": np.nan}, TypeError, r"^lr must be a finite real number"),
    ({"steps": -1}, ValueError, r"^steps must be >= 0"),
    ({"steps": 2.0}, TypeError, r"^steps must be an integer"),
    ({"X": np.ones((6, 8), dtype=complex)}, TypeError, r"^X must have an integer"),
])
def test_learn_kernel_errors(kwargs: dict[str, Any], error: type[Exception],
                             pattern: str) -> None:
    args = {"X": np.ones((6, 8)), "Y": np.ones((6, 7)), "init": np.ones((1, 2)), **kwargs}
    X_, Y_, init = args.pop("X"), args.pop("Y"), args.pop("init")
    with pytest.raises(error, match=pattern):
        reference.learn_kernel(X_, Y_, init, **args)
