"""Copy-paste reproducers: every failure prints the Python that recomputes both sides.

The snippet runs from the repository root as it is: it recreates the arrays from the data
seed (the same lines the test ran, :func:`tests.support.strategies.data_code`), loads the
backend the way ``--backend`` did, and calls the backend and the oracle with the same
arguments.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from reference.dtypes import dtype_expr
from registry import Claim
from tests.support.strategies import Case, data_code


def call_text(target: str, op: str, has_bias: bool | None, kwargs: str) -> str:
    """Source text of one call of ``op`` on ``target`` (``backend`` or ``reference``)."""
    if op == "conv":
        return f"{target}.conv(x, w, {'b' if has_bias else 'None'}, **{kwargs})"
    if op == "conv_vjp":
        return f"{target}.conv_vjp(x, w, dy, **{kwargs})"
    if op.endswith("_vjp"):
        return f"{target}.{op}(x, dy, **{kwargs})"
    return f"{target}.{op}(x, **{kwargs})"


def _lines_for_call(op: str, params: Mapping[str, Any], has_bias: bool | None, spec: str,
                    claim: Claim | None) -> list[str]:
    lines = []
    keras = os.environ.get("KERAS_BACKEND")
    if keras:
        lines += ["import os", f"os.environ['KERAS_BACKEND'] = {keras!r}"]
    lines += [
        "import backends",
        "import reference",
        f"params = {dict(params)!r}",
        f"backend = backends.load({spec!r})",
        f"y = {call_text('backend', op, has_bias, 'params')}",
        f"y_ref = {call_text('reference', op, has_bias, 'params')}  # the oracle's default",
    ]
    if claim is not None:
        lines.append(f"# the registry claims the framework {claim.describe()}")
    if op == "conv_vjp":
        lines += [
            "for name, g, g_ref in zip(('dx', 'dw', 'db'), y, y_ref):",
            "    print(name, 'backend:', np.asarray(g, dtype=np.float64).ravel()[:20])",
            "    print(name, 'oracle: ', g_ref.ravel()[:20])",
            "    print(name, 'max |difference|:', "
            "np.nanmax(np.abs(np.asarray(g, dtype=np.float64) - g_ref)))",
        ]
        return lines
    lines += [
        "print('backend:', np.asarray(y, dtype=np.float64).ravel()[:20])",
        "print('oracle: ', y_ref.ravel()[:20])",
        "print('max |difference|:', "
        "np.nanmax(np.abs(np.asarray(y, dtype=np.float64) - y_ref)))",
    ]
    return lines


def reproducer(case: Case, spec: str, claim: Claim | None = None) -> str:
    """The copy-paste reproducer of a property-test case on backend ``spec``."""
    head = (f"# {case.op} {case.label or ''} dtype={case.dtype} fill={case.fill} "
            f"data seed={case.seed} x{case.x_shape}"
            + (f" w{case.w_shape} bias={case.bias}" if case.op == "conv" else "")
            + (f" w{case.w_shape}" if case.op == "conv_vjp" else ""))
    body = [head, data_code(case),
            *_lines_for_call(case.op, case.params, case.bias, spec, claim)]
    return _frame("\n".join(body))


def reproducer_for_arrays(op: str, arrays: Mapping[str, Any], params: Mapping[str, Any],
                          dtype: str, spec: str) -> str:
    """The reproducer of a call on literal arrays (registry reproducers, seed examples)."""
    lines = ["import numpy as np"]
    if dtype == "bfloat16":
        lines.append("import ml_dtypes")
    dt = dtype_expr(dtype)
    for name in ("x", "w", "b", "dy"):
        if name in arrays:
            a = arrays[name]
            lines.append(f"{name} = None" if a is None else
                         f"{name} = np.array({a.astype(float).tolist()!r}).astype({dt})")
    has_bias = arrays.get("b") is not None if op == "conv" else None
    lines += _lines_for_call(op, params, has_bias, spec, None)
    return _frame("\n".join(lines))


def _frame(code: str) -> str:
    return ("\n---- reproducer (paste into `python -` at the repository root) ----\n" + code
            + "\n---- end of reproducer ----")
