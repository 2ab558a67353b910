"""The probe worker: runs probe snippets in this process and appends one JSON line per
probe to a results file, so the parent can tell which probe a crash interrupted.

``python -m probes.worker SNIPPETS.json RESULTS.jsonl`` — SNIPPETS is a list of
``{"id": ..., "code": ...}``; probes whose id already has a result line are skipped (the
parent restarts the worker after a crash). Before running a probe the worker writes
``{"id": ..., "started": true}``; the result line follows with either the value left in
``y`` (``dtype``, ``shape``, ``values`` as floats, ``printed``) or the ``exception``
(type and first line of the message).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np

#: Longest exception message kept (first line only).
MESSAGE_CHARS = 300


def to_numpy(y: Any) -> tuple[np.ndarray, str]:
    """A framework result as float64 NumPy and its dtype name."""
    module = type(y).__module__
    if module.startswith("torch"):
        name = str(y.dtype).removeprefix("torch.")
        t = y.detach()
        return t.double().numpy() if t.is_floating_point() else t.numpy(), name
    if hasattr(y, "asnumpy"):  # mxnet NDArray
        arr = y.asnumpy()
        return arr, np.dtype(arr.dtype).name
    if hasattr(y, "numpy"):  # tf.Tensor
        arr = y.numpy()
        return arr, getattr(y.dtype, "name", str(arr.dtype))
    arr = np.asarray(y)
    return arr, arr.dtype.name


def _jsonable(values: np.ndarray) -> list[Any]:
    """Flattened values; NaN and infinities as strings (JSON has none)."""
    flat = np.asarray(values, dtype=np.float64).ravel()
    out: list[Any] = []
    for v in flat:
        if np.isnan(v):
            out.append("nan")
        elif np.isinf(v):
            out.append("inf" if v > 0 else "-inf")
        else:
            out.append(float(v))
    return out


def first_line(err: BaseException) -> str:
    """The telling line of an exception's message, shortened: the first line, except
    where a framework puts its real message later (MXNet's C++ traceback, Keras' "Exception
    encountered when calling ..." preamble)."""
    # TF prefixes its messages with the wrapped function's internal node name
    text = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", str(err))
    # terminal colours (Keras), MXNet's log timestamps and per-process operator names
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    text = re.sub(r"\[\d\d:\d\d:\d\d\] ", "", text)
    text = re.sub(r"Error in operator \S+: ", "", text).strip()
    lines = [s.strip() for s in text.splitlines() if s.strip()]
    if not lines:
        return ""
    line = lines[0]
    if line.startswith("Traceback"):
        rest = [s for s in lines[1:] if not s.startswith(("File ", "[bt]"))]
        line = rest[-1] if rest else line
    elif line.startswith("Exception encountered when calling") and len(lines) > 1:
        line = lines[1]
    return line.removeprefix("MXNetError: ")[:MESSAGE_CHARS]


def run_one(code: str) -> dict[str, Any]:
    """Execute one snippet; return what it produced or raised."""
    namespace: dict[str, Any] = {"__name__": "__probe__"}
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            exec(compile(code, "<probe>", "exec"), namespace)
    except Exception as err:
        kind = type(err)
        return {"exception": {"type": kind.__name__, "module": kind.__module__.split(".")[0],
                              "message": first_line(err)}}
    arr, dtype = to_numpy(namespace["y"])
    return {"dtype": dtype, "shape": list(arr.shape), "values": _jsonable(arr),
            "printed": printed.getvalue().strip()}


def main(argv: list[str]) -> int:
    """Run the snippets of ``argv[0]`` not yet in the results file ``argv[1]``."""
    snippets = json.loads(Path(argv[0]).read_text())
    results = Path(argv[1])
    done = set()
    if results.exists():
        done = {json.loads(line)["id"] for line in results.read_text().splitlines() if line}
    with results.open("a") as out:
        for item in snippets:
            if item["id"] in done:
                continue
            out.write(json.dumps({"id": item["id"], "started": True}) + "\n")
            out.flush()
            os.fsync(out.fileno())
            result = run_one(item["code"])
            out.write(json.dumps({"id": item["id"], **result}) + "\n")
            out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
