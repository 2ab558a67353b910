"""The report as data: a few block and inline types that the Markdown and HTML writers
render, so that both files say the same thing and escaping lives in one place per format."""

from __future__ import annotations

from dataclasses import dataclass


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
    """A table with a header row; every cell is inline content."""

    header: tuple
    rows: tuple


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


Block = Heading | Paragraph | Table | CodeBlock | Bullets | Figure


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
