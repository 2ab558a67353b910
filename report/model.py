"""The report as data: a few block and inline types that the Markdown and HTML writers
render (:mod:`report.render`), so that both files say the same thing and escaping lives in
one place per format; and short text for record values (arrays, exceptions, verdicts, free
text with URLs).

Blocks may carry *facets* (framework, op, pass, kind): the HTML page filters on them, the
Markdown file ignores them. Both are views of the same blocks.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: The verdict and suite status that stand for "what this shows depends on the CPU".
MARKER = "depends-on-cpu"
#: Values shown of an array before the rest is elided.
MAX_VALUES = 12
#: Characters shown of an exception message.
MAX_MESSAGE = 160
#: Integral floats at least this large are written in exponent form.
BIG = 1e15
_URL = re.compile(r"https?://[^\s)>\]\"']+[^\s)>\]\"'.,;:]")


@dataclass(frozen=True)
class Code:
    """Inline code."""

    text: str


@dataclass(frozen=True)
class Link:
    """A hyperlink; ``url`` may be relative or an in-page ``#anchor``."""

    text: str
    url: str


@dataclass(frozen=True)
class Strong:
    """Emphasised text."""

    text: str


#: Inline content: plain text, one of the inline types, or a tuple of them in sequence.
Inline = str | Code | Link | Strong | tuple
#: Facets of a block or table row: name -> space-separated values, e.g. ``("op", "conv")``.
Facets = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Heading:
    """A heading; ``anchor`` is the id links use (GitHub derives the same from ``text``)."""

    level: int
    text: str
    anchor: str


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of inline content."""

    content: Inline


@dataclass(frozen=True)
class Table:
    """A table with a header row; every cell is inline content. The first cell of a row
    heads it. ``caption`` says what the table holds (HTML shows it; Markdown has the
    paragraph before the table); ``row_facets`` gives each row's facets and
    ``column_facets`` each column's, where the page may filter them."""

    header: tuple
    rows: tuple
    caption: str = ""
    row_facets: tuple[Facets, ...] = ()
    column_facets: tuple[Facets, ...] = ()


@dataclass(frozen=True)
class CodeBlock:
    """Preformatted text (``lang`` "python" for reproducers, "text" for printed output)."""

    text: str
    lang: str = "python"


@dataclass(frozen=True)
class Bullets:
    """An unordered list of inline items."""

    items: tuple


@dataclass(frozen=True)
class Figure:
    """A picture: HTML inlines ``svg``; Markdown links to the file ``src`` (or omits it)."""

    svg: str
    alt: str
    src: str | None = None


@dataclass(frozen=True)
class Details:
    """Blocks shown on demand under a one-line ``summary`` (HTML ``<details>``; Markdown
    writes the summary as a paragraph, then the blocks)."""

    summary: Inline
    blocks: tuple


@dataclass(frozen=True)
class Group:
    """Blocks that belong together, with their facets; ``role`` says what they are
    ("entry": a registry entry's section, "suite": a backend's suite evidence)."""

    facets: Facets
    blocks: tuple
    role: str = "entry"


Block = Heading | Paragraph | Table | CodeBlock | Bullets | Figure | Details | Group


def slug(text: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to '-'."""
    out = []
    for ch in text.strip().lower():
        if ch.isalnum() or ch in "-_":
            out.append(ch)
        elif ch == " ":
            out.append("-")
    return "".join(out)


def heading(level: int, text: str) -> Heading:
    """A heading whose anchor is GitHub's slug of its text."""
    return Heading(level, text, slug(text))


def number(value: Any) -> str:
    """One recorded value: integral floats below :data:`BIG` without '.0', others to 6
    significant digits with a short exponent (``-3.40282e38``); the strings "nan", "inf",
    "-inf" and "*" (any value) as they are."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and math.isfinite(value):
        if value.is_integer() and abs(value) < BIG:
            return str(int(value))
        mantissa, _, exponent = f"{value:.6g}".partition("e")
        return mantissa + (f"e{int(exponent)}" if exponent else "")
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
    marker of a result that depends on the CPU (:func:`report.records.publish_probe`)."""
    if "depends_on_cpu" in result:
        return "depends on the CPU"
    if "exception" in result:
        exc = result["exception"]
        if "message" not in exc:  # a rejection like the oracle's: the type is the point
            return f"{exc['type']} (rejects it, as the oracle does)"
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
