"""Every bad input raises ValueError or TypeError whose message names the argument.

Never a NumPy broadcasting traceback, a ZeroDivisionError or a silent garbage result.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import reference

X = np.ones((2, 4, 5, 6))
W = np.ones((3, 4, 3, 2))


def conv(**kwargs: Any) -> Callable[[], Any]:
    args = {"x": X, "w": W, **kwargs}
    x, w = args.pop("x"), args.pop("w")
    return lambda: reference.conv(x, w, **args)


def max_pool(x: Any = X, kernel_size: Any = 2, **kwargs: Any) -> Callable[[], Any]:
    return lambda: reference.max_pool(x, kernel_size, **kwargs)


def avg_pool(x: Any = X, kernel_size: Any = 2, **kwargs: Any) -> Callable[[], Any]:
    return lambda: reference.avg_pool(x, kernel_size, **kwargs)


ALL_OPS = {"conv": lambda **kw: conv(**kw), "max_pool": lambda **kw: max_pool(**kw),
           "avg_pool": lambda **kw: avg_pool(**kw)}

CASES: list[tuple[str, Callable[[], Any], type[Exception], str]] = [
    # rank
    ("x rank 2", conv(x=np.ones((5, 5)), w=np.ones((1, 1, 3, 3))), ValueError, r"^x .*\(5, 5\)"),
    ("x rank 3 with 2-D w", conv(x=np.ones((4, 5, 6))), ValueError, r"w .*\(4, 5, 6\)"),
    ("x 4 spatial dims", conv(x=np.ones((1, 1, 2, 2, 2, 2)), w=np.ones((1, 1, 1, 1, 1, 1))),
     ValueError, r"^x .*3 spatial"),
    ("pool x 4 spatial dims", max_pool(x=np.ones((1, 1, 2, 2, 2, 2)), kernel_size=1),
     ValueError, r"^x .*3 spatial"),
    ("pool x rank 2", avg_pool(x=np.ones((4, 4))), ValueError, r"^x .*\(4, 4\)"),
    ("pool x rank 0", max_pool(x=np.float64(1.0)), ValueError, r"^x "),
    ("w rank mismatch", conv(w=np.ones((3, 4, 3))), ValueError, r"^w .*\(3, 4, 3\)"),
    ("w rank mismatch 3-D", conv(w=np.ones((3, 4, 1, 1, 1))), ValueError, r"^w "),
    # channels and groups
    ("channel mismatch", conv(w=np.ones((3, 3, 3, 2))), ValueError, r"^w .*\(3, 3, 3, 2\)"),
    ("channel mismatch with groups", conv(w=np.ones((4, 4, 3, 2)), groups=2), ValueError,
     r"^w .*groups"),
    ("C not divisible by groups", conv(w=np.ones((3, 1, 3, 2)), groups=3), ValueError,
     r"groups=3"),
    ("O not divisible by groups", conv(w=np.ones((3, 2, 3, 2)), groups=2), ValueError,
     r"O=3.*groups=2"),
    ("groups 0", conv(groups=0), ValueError, r"^groups .*0"),
    ("groups negative", conv(groups=-1), ValueError, r"^groups .*-1"),
    ("groups float", conv(groups=1.0), TypeError, r"^groups .*1\.0"),
    ("groups bool", conv(groups=True), TypeError, r"^groups .*True"),
    ("no output channels", conv(w=np.ones((0, 4, 3, 2))), ValueError, r"^w .*\(0, 4, 3, 2\)"),
    ("empty kernel", conv(w=np.ones((3, 4, 0, 2))), ValueError, r"^w .*\(3, 4, 0, 2\)"),
    # sizes
    ("stride 0", conv(stride=0), ValueError, r"^stride .*0"),
    ("stride per-dim 0", conv(stride=(1, 0)), ValueError, r"^stride\[1\] .*0"),
    ("stride 1.5", conv(stride=1.5), TypeError, r"^stride .*1\.5"),
    ("stride '2'", conv(stride="2"), TypeError, r"^stride .*'2'"),
    ("stride True", conv(stride=True), TypeError, r"^stride .*True"),
    ("stride None in conv", conv(stride=None), TypeError, r"^stride .*None"),
    ("stride wrong length", conv(stride=(1, 1, 1)), ValueError, r"^stride .*length 3"),
    ("dilation 0", conv(dilation=0), ValueError, r"^dilation .*0"),
    ("dilation per-dim 0", conv(dilation=(1, 0)), ValueError, r"^dilation\[1\] .*0"),
    ("dilation 2.0", conv(dilation=2.0), TypeError, r"^dilation .*2\.0"),
    ("dilation wrong length", conv(dilation=(1,)), ValueError, r"^dilation .*length 1"),
    ("pool kernel 0", max_pool(kernel_size=0), ValueError, r"^kernel_size .*0"),
    ("pool kernel per-dim 0", avg_pool(kernel_size=(2, 0)), ValueError,
     r"^kernel_size\[1\] .*0"),
    ("pool kernel 2.5", max_pool(kernel_size=2.5), TypeError, r"^kernel_size .*2\.5"),
    ("pool kernel '2'", max_pool(kernel_size="2"), TypeError, r"^kernel_size .*'2'"),
    ("pool kernel None", max_pool(kernel_size=None), TypeError, r"^kernel_size .*None"),
    ("pool kernel wrong length", avg_pool(kernel_size=(2, 2, 2)), ValueError,
     r"^kernel_size .*length 3"),
    ("pool stride 0", max_pool(stride=0), ValueError, r"^stride .*0"),
    ("pool stride float", avg_pool(stride=1.0), TypeError, r"^stride .*1\.0"),
    ("pool dilation 0", max_pool(dilation=0), ValueError, r"^dilation .*0"),
    # padding
    ("negative padding", conv(padding=-1), ValueError, r"^padding .*-1"),
    ("negative per-dim padding", conv(padding=(1, -2)), ValueError, r"^padding\[1\] .*-2"),
    ("negative pair padding", conv(padding=((0, 1), (-1, 0))), ValueError,
     r"^padding\[1\]\[0\] .*-1"),
    ("padding float", conv(padding=0.5), TypeError, r"^padding .*0\.5"),
    ("padding pair float", conv(padding=((0, 1.0), (0, 0))), TypeError,
     r"^padding\[0\]\[1\] .*1\.0"),
    ("padding bool", conv(padding=False), TypeError, r"^padding .*False"),
    ("padding None", conv(padding=None), TypeError, r"^padding .*None"),
    ("padding wrong length", conv(padding=(1, 1, 1)), ValueError, r"^padding .*length 3"),
    ("padding pairs wrong length", conv(padding=((1, 1),)), ValueError, r"^padding .*2"),
    ("padding pair of 3", conv(padding=((1, 1), (1, 1, 1))), ValueError,
     r"^padding\[1\] .*\(1, 1, 1\)"),
    ("padding unknown string", conv(padding="SAME"), ValueError, r"^padding .*'SAME'"),
    ("padding unknown string pool", max_pool(padding="full"), ValueError,
     r"^padding .*'full'"),
    ("padding same_upper", avg_pool(padding="same_upper"), ValueError,
     r"^padding .*'same_upper'"),
    # empty output
    ("kernel larger than input", conv(w=np.ones((3, 4, 6, 2))), ValueError,
     r"kernel \(6, 2\).*larger than the padded input"),
    ("dilated kernel larger than input", conv(dilation=(3, 1)), ValueError,
     r"dilation \(3, 1\).*larger"),
    ("pool window larger than input", max_pool(kernel_size=(6, 2)), ValueError,
     r"kernel \(6, 2\).*larger"),
    ("pool window larger than padded input", avg_pool(kernel_size=(8, 2), padding=1),
     ValueError, r"larger than the padded input"),
    ("pool window of padding only", max_pool(kernel_size=2, padding=2), ValueError,
     r"^padding .*padding only"),
    ("avg pool window of padding only", avg_pool(kernel_size=2, padding=((0, 0), (2, 0))),
     ValueError, r"^padding .*padding only"),
    # bias
    ("bias too short", conv(b=np.ones(2)), ValueError, r"^b .*\(3,\).*\(2,\)"),
    ("bias 2-D", conv(b=np.ones((3, 1))), ValueError, r"^b .*\(3, 1\)"),
    ("bias scalar", conv(b=1.0), ValueError, r"^b .*\(\)"),
    ("bias bool", conv(b=np.ones(3, bool)), TypeError, r"^b .*bool"),
    # dtypes
    ("x bool", conv(x=X.astype(bool)), TypeError, r"^x .*bool"),
    ("w bool", conv(w=W.astype(bool)), TypeError, r"^w .*bool"),
    ("x complex", conv(x=X.astype(complex)), TypeError, r"^x .*complex"),
    ("w complex", conv(w=W.astype(np.complex64)), TypeError, r"^w .*complex64"),
    ("x object", conv(x=X.astype(object)), TypeError, r"^x .*object"),
    ("pool x bool", max_pool(x=X.astype(bool)), TypeError, r"^x .*bool"),
    ("pool x complex", avg_pool(x=X.astype(complex)), TypeError, r"^x .*complex"),
    ("pool x object", max_pool(x=X.astype(object)), TypeError, r"^x .*object"),
    ("pool x strings", max_pool(x=np.full((1, 1, 2, 2), "a")), TypeError, r"^x .*<U1"),
    # flags
    ("ceil_mode int", max_pool(ceil_mode=1), TypeError, r"^ceil_mode .*1"),
    ("ceil_mode str", avg_pool(ceil_mode="True"), TypeError, r"^ceil_mode .*'True'"),
    ("count_include_pad None", avg_pool(count_include_pad=None), TypeError,
     r"^count_include_pad .*None"),
    # the memory budget
    ("budget 0", lambda: reference.set_memory_budget(0), ValueError, r"^nbytes .*0"),
    ("budget float", lambda: reference.set_memory_budget(1e6), TypeError, r"^nbytes "),
    # seed functions
    ("corr2d 3-D X", lambda: reference.corr2d(np.ones((2, 3, 3)), np.ones((2, 2))),
     ValueError, r"^X .*\(2, 3, 3\)"),
    ("corr2d K too big", lambda: reference.corr2d(np.ones((3, 3)), np.ones((4, 1))),
     ValueError, r"K .*\(4, 1\)"),
    ("corr2d_multi_in channels", lambda: reference.corr2d_multi_in(np.ones((2, 3, 3)),
                                                                   np.ones((3, 2, 2))),
     ValueError, r"channels"),
    ("corr2d_multi_in_out_1x1 not 1x1",
     lambda: reference.corr2d_multi_in_out_1x1(np.ones((2, 3, 3)), np.ones((1, 2, 2, 2))),
     ValueError, r"^K .*\(1, 2, 2, 2\)"),
    ("pool2d mode", lambda: reference.pool2d(np.ones((3, 3)), (2, 2), "min"), ValueError,
     r"^mode .*'min'"),
    ("pool2d too big", lambda: reference.pool2d(np.ones((3, 3)), (4, 2)), ValueError,
     r"^pool_size .*\(4, 2\)"),
]


@pytest.mark.parametrize(("call", "error", "pattern"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_input_raises_named_error(call: Callable[[], Any], error: type[Exception],
                                      pattern: str) -> None:
    with pytest.raises(error, match=pattern):
        call()


@pytest.mark.parametrize("op", sorted(ALL_OPS))
def test_errors_come_before_any_numpy_error(op: str) -> None:
    """Shape errors are ours, not a broadcasting traceback: the message names x."""
    with pytest.raises(ValueError, match=r"^x "):
        ALL_OPS[op](x=np.ones((3,)))()


def test_errors_name_the_offending_values() -> None:
    with pytest.raises(ValueError) as info:
        reference.conv(X, np.ones((3, 2, 3, 2)), groups=3)
    message = str(info.value)
    for value in ("C=4", "O=3", "groups=3"):
        assert value in message
    with pytest.raises(ValueError) as info:
        reference.conv(X, np.ones((3, 4, 9, 2)), padding=((1, 1), (0, 0)))
    assert re.search(r"\(5, 6\)", str(info.value)) and "(9, 2)" in str(info.value)


def test_numpy_integer_sizes_are_accepted() -> None:
    """Integers are integers whatever their type: np.int64 sizes work like ints."""
    y = reference.conv(X, W, stride=np.int64(2), padding=(np.int32(1), np.int8(0)),
                       dilation=np.uint8(1), groups=np.int64(1))
    np.testing.assert_array_equal(y, reference.conv(X, W, stride=2, padding=(1, 0)))
