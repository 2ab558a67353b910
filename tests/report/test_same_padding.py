"""The 'same' padding page: the worked example and formula agree with the oracle, and the
side each probe padded is read from its verdict."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from report.same_padding import example, side


def test_the_worked_example_pads_the_odd_cell_at_the_end():
    # 1..5 with kernel [1, 1]: total padding 1; 'same' pads after the 5, 'same_lower' before 1
    same = example(5, 2, 1, "same")
    assert same["pads"] == (0, 1)
    assert same["padded"] == [1, 2, 3, 4, 5, 0]
    assert same["y"] == ["3", "5", "7", "9", "5"]
    lower = example(5, 2, 1, "same_lower")
    assert lower["pads"] == (1, 0)
    assert lower["y"] == ["1", "3", "5", "7", "9"]


@given(st.integers(1, 12), st.integers(1, 6), st.integers(1, 4))
def test_the_documented_formula_is_the_oracles(n, k, s):
    total = max((math.ceil(n / s) - 1) * s + (k - 1) + 1 - n, 0)
    lo, hi = example(n, k, s, "same")["pads"]
    assert (lo, hi) == (total // 2, total - total // 2)
    assert example(n, k, s, "same_lower")["pads"] == (hi, lo)


@pytest.mark.parametrize(("verdict", "expected"), [
    ("follows-oracle", "end"),
    ("follows:same_lower", "start"),
    ("follows:same_lower, count_include_pad=False", "start (count_include_pad=False)"),
    ("follows:count_include_pad=False", "end (count_include_pad=False)"),
    ("unsupported", "no 'same'"),
    ("differs", "differs"),
])
def test_the_side_is_read_from_the_verdict(verdict, expected):
    assert side({"verdict": verdict}) == expected
