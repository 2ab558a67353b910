"""Short text for record values: arrays, exceptions, crashes, verdicts, free text with URLs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from report.cpu import MARKER
from report.model import Inline, Link

#: Values shown of an array before the rest is elided.
MAX_VALUES = 12
#: Characters shown of an exception message.
MAX_MESSAGE = 160
_URL = re.compile(r"https?://[^\s)>\]\"']+[^\s)>\]\"'.,;:]")


def number(value: Any) -> str:
    """One recorded value: integral floats without '.0', others to 6 significant digits;
    the strings "nan", "inf", "-inf" and "*" (any value) as they are."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def shorten(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def values_text(result: Mapping[str, Any]) -> str:
    """``(1, 1, 5) [3, 5, 7, 9, 5]`` for a recorded array (shape and flat values)."""
    shape = "(" + ", ".join(str(n) for n in result["shape"]) + \
        ("," if len(result["shape"]) == 1 else "") + ")"
    values = result.get("values")
    if values is None:
        return f"{shape}, values not kept (from input the oracle rejects)"
    shown = ", ".join(number(v) for v in values[:MAX_VALUES])
    more = f", … ({len(values)} values)" if len(values) > MAX_VALUES else ""
    return f"{shape} [{shown}{more}]"


def outcome_text(result: Mapping[str, Any]) -> str:
    """A recorded outcome: an array, an exception (``Type: message``), a crash, or the
    marker of a result that depends on the CPU (:func:`report.cpu.publish_probe`)."""
    if "depends_on_cpu" in result:
        return "depends on the CPU"
    if "exception" in result:
        exc = result["exception"]
        return shorten(f"{exc['type']}: {exc['message']}")
    if "crash" in result:
        crash = result["crash"]
        return shorten(f"crashed ({crash['how']}): {crash.get('detail', '')}")
    return values_text(result)


def verdict_text(verdict: str) -> str:
    """A probe verdict in words."""
    if verdict.startswith("follows:"):
        return "follows " + verdict.removeprefix("follows:")
    return {"follows-oracle": "follows the oracle's default",
            MARKER: "depends on the CPU"}.get(verdict, verdict)


def linkify(text: str) -> Inline:
    """Free text with its URLs as links."""
    parts: list[Any] = []
    pos = 0
    for m in _URL.finditer(text):
        if m.start() > pos:
            parts.append(text[pos:m.start()])
        parts.append(Link(m.group(0), m.group(0)))
        pos = m.end()
    if pos < len(text):
        parts.append(text[pos:])
    return tuple(parts)
