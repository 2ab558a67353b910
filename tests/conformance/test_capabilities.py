"""One fixed small case per feature × operation × dtype: the backend's capability table.

Each test's outcome is one cell of the table: passed (agrees with the oracle), xfailed
(a registered discrepancy applies, named in the reason), skipped (the backend raised
Unsupported, with its reason). Cases are 2-D unless the feature says otherwise, with
N, C > 1 and unequal sides, so a transposition cannot pass by symmetry.
"""

from __future__ import annotations

from typing import Any

import pytest

from backends.table import BUDGET_DTYPES
from tests.support import strategies as sts
from tests.support.checks import check_case, outcome

DTYPES = (*sts.FLOAT_DTYPES, *sts.INT_DTYPES)

# feature: (x_shape, w_shape, bias, params)
CONV_FEATURES: dict[str, tuple[tuple[int, ...], tuple[int, ...], bool, dict[str, Any]]] = {
    "basic": ((2, 3, 5, 6), (4, 3, 2, 3), False, {}),
    "stride": ((2, 3, 7, 6), (4, 3, 2, 3), False, {"stride": (2, 1)}),
    "padding-int": ((2, 3, 5, 6), (4, 3, 2, 3), False, {"padding": 1}),
    "padding-per-dim": ((2, 3, 5, 6), (4, 3, 2, 3), False, {"padding": (1, 2)}),
    "padding-pairs": ((2, 3, 5, 6), (4, 3, 2, 3), False, {"padding": ((0, 1), (2, 1))}),
    "valid": ((2, 3, 5, 6), (4, 3, 2, 3), False, {"padding": "valid"}),
    "same-stride-1": ((2, 3, 5, 6), (4, 3, 2, 3), False, {"padding": "same"}),
    "same-even-kernel-stride-2": ((2, 3, 5, 7), (4, 3, 2, 2), False,
                                  {"padding": "same", "stride": 2}),
    "same_lower": ((2, 3, 5, 7), (4, 3, 2, 2), False, {"padding": "same_lower", "stride": 2}),
    "dilation": ((2, 3, 7, 6), (4, 3, 2, 3), False, {"dilation": (2, 1)}),
    "groups": ((2, 6, 5, 6), (4, 3, 2, 3), False, {"groups": 2}),
    "depthwise": ((2, 3, 5, 6), (6, 1, 2, 3), False, {"groups": 3}),
    "bias": ((2, 3, 5, 6), (4, 3, 2, 3), True, {}),
    "1d": ((2, 3, 7), (4, 3, 3), True, {"stride": 2, "padding": 1}),
    "3d": ((2, 2, 4, 5, 3), (3, 2, 2, 3, 2), True, {"padding": 1}),
}

# feature: (x_shape, params, fill) for both poolings (avg-only features marked)
POOL_FEATURES: dict[str, tuple[tuple[int, ...], dict[str, Any], str]] = {
    "basic": ((2, 3, 5, 6), {"kernel_size": 2, "stride": 1}, "exact"),
    "default-stride": ((2, 3, 6, 7), {"kernel_size": (2, 3)}, "exact"),
    "stride": ((2, 3, 7, 6), {"kernel_size": 3, "stride": 2}, "exact"),
    "padding": ((2, 3, 6, 7), {"kernel_size": 3, "stride": 2, "padding": 1}, "exact"),
    "padding-pairs": ((2, 3, 6, 7), {"kernel_size": 3, "stride": 2,
                                      "padding": ((1, 0), (0, 1))}, "exact"),
    "valid": ((2, 3, 6, 7), {"kernel_size": 3, "stride": 2, "padding": "valid"}, "exact"),
    "same": ((2, 3, 5, 7), {"kernel_size": 2, "stride": 2, "padding": "same"}, "exact"),
    "same_lower": ((2, 3, 5, 7), {"kernel_size": 2, "stride": 2, "padding": "same_lower"},
                   "exact"),
    "dilation": ((2, 3, 7, 6), {"kernel_size": 2, "stride": 1, "dilation": 2}, "exact"),
    "ceil-mode": ((2, 3, 6, 6), {"kernel_size": 3, "stride": 2, "ceil_mode": True}, "exact"),
    "ceil-mode-padding": ((2, 3, 6, 7), {"kernel_size": 3, "stride": 2, "padding": 1,
                                          "ceil_mode": True}, "exact"),
    "negative-padded": ((2, 3, 5, 6), {"kernel_size": 3, "stride": 2, "padding": 1},
                        "negative"),
    "nan-inf": ((2, 3, 6, 6), {"kernel_size": 2, "stride": 2}, "special"),
    "1d": ((2, 3, 9), {"kernel_size": 3, "stride": 2, "padding": 1}, "exact"),
    "3d": ((2, 2, 4, 5, 4), {"kernel_size": 2, "stride": 2}, "exact"),
    "exclude-pad": ((2, 3, 6, 7), {"kernel_size": 3, "stride": 2, "padding": 1,
                                   "count_include_pad": False}, "exact"),
}
AVG_ONLY = {"exclude-pad"}


def _fill_for(dtype: str, fill: str) -> str | None:
    """The fill a feature uses in ``dtype``; None when it does not apply (NaN in ints)."""
    if dtype not in sts.INT_DTYPES:
        return fill
    if fill == "special":
        return None
    if fill == "negative" and dtype.startswith("uint"):
        return None
    return fill


def _conv_case(feature: str, dtype: str) -> sts.Case:
    x_shape, w_shape, bias, params = CONV_FEATURES[feature]
    terms = sts.conv_terms(w_shape[1], w_shape[2:])
    radius = sts.exact_radius(dtype, terms, sums=True)
    return sts.Case(op="conv", x_shape=x_shape, w_shape=w_shape, bias=bias,
                    params={**params}, dtype=dtype,
                    fill="exact" if dtype in sts.INT_DTYPES else "normal",
                    radius=max(radius, 1), seed=11, label=f"conv-{feature}-{dtype}")


def _pool_case(op: str, feature: str, dtype: str, fill: str) -> sts.Case:
    x_shape, params, _ = POOL_FEATURES[feature]
    radius = 100 if dtype in sts.INT_DTYPES and op == "max_pool" else sts.EXACT_RADIUS_CAP
    if dtype == "int8" or dtype == "uint8":
        radius = 12  # window sums of a 3x3 average stay within int8
    return sts.Case(op=op, x_shape=x_shape, params={**params}, dtype=dtype, fill=fill,
                    radius=radius, seed=12, label=f"{op}-{feature}-{dtype}")


CASES = [pytest.param(_conv_case(f, d), id=f"conv-{f}-{d}") for f in CONV_FEATURES
         for d in DTYPES]
CASES += [pytest.param(_pool_case(op, f, d, fill), id=f"{op}-{f}-{d}")
          for op in ("max_pool", "avg_pool") for f, (_, _, base) in POOL_FEATURES.items()
          for d in DTYPES
          if (op == "avg_pool" or f not in AVG_ONLY)
          and (fill := _fill_for(d, base)) is not None]


@pytest.mark.parametrize("case", CASES)
def test_capability(suite, case):
    if suite.budget and case.dtype not in BUDGET_DTYPES:
        pytest.skip(f"budget of a compiling variant under the 'variant' profile: dtypes "
                    f"{', '.join(BUDGET_DTYPES)} (the thorough profile runs every dtype)")
    outcome(suite, check_case(suite, case), case.label)
