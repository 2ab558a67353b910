"""Markdown (GitHub flavour) for the report's blocks."""

from __future__ import annotations

from collections.abc import Iterable

from report.model import (
    Block,
    Bullets,
    Code,
    CodeBlock,
    Figure,
    Heading,
    Inline,
    Link,
    Paragraph,
    Strong,
    Table,
)

#: Characters that start Markdown syntax anywhere in a line.
_SPECIAL = set("\\`*[]<>|")


def escape(text: str) -> str:
    """Plain text made literal: Markdown syntax characters are backslash-escaped, and
    underscores too unless they sit inside a word (where GitHub never reads emphasis)."""
    out = []
    for i, ch in enumerate(text):
        if ch in _SPECIAL:
            out.append("\\" + ch)
        elif ch == "_":
            before = text[i - 1] if i else " "
            after = text[i + 1] if i + 1 < len(text) else " "
            out.append("_" if before.isalnum() and after.isalnum() else "\\_")
        elif ch == "\n":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def code_span(text: str) -> str:
    """Inline code that holds any text, backticks and pipes included."""
    text = text.replace("\n", " ")
    fence = "`"
    while fence in text:
        fence += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def inline(content: Inline, in_table: bool = False) -> str:
    """Render inline content; in a table cell, pipes inside code spans are escaped too."""
    if isinstance(content, str):
        return escape(content)
    if isinstance(content, Code):
        span = code_span(content.text)
        return span.replace("|", "\\|") if in_table else span
    if isinstance(content, Strong):
        return f"**{escape(content.text)}**"
    if isinstance(content, Link):
        return f"[{escape(content.text)}]({content.url})"
    return "".join(inline(part, in_table) for part in content)


def _fence(text: str) -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    return fence


def block(b: Block) -> str:
    """One block as Markdown text (no trailing blank line)."""
    if isinstance(b, Heading):
        head = "#" * b.level + " " + escape(b.text)
        # a heading whose text is more than its anchor (an entry id with "(backward)")
        # keeps its links working with an explicit anchor
        return head if b.text == b.anchor or not b.text.startswith(b.anchor + " ") \
            else f'<a id="{b.anchor}"></a>\n\n{head}'

    if isinstance(b, Paragraph):
        return inline(b.content)
    if isinstance(b, Table):
        lines = ["| " + " | ".join(inline(c, True) for c in b.header) + " |",
                 "|" + "|".join(" --- " for _ in b.header) + "|"]
        lines += ["| " + " | ".join(inline(c, True) for c in row) + " |" for row in b.rows]
        return "\n".join(lines)
    if isinstance(b, CodeBlock):
        fence = _fence(b.text)
        return f"{fence}{b.lang}\n{b.text.rstrip()}\n{fence}"
    if isinstance(b, Bullets):
        return "\n".join("- " + inline(item) for item in b.items)
    if isinstance(b, Figure):
        return f"![{escape(b.alt)}]({b.src})" if b.src else ""
    raise TypeError(f"not a report block: {b!r}")


def render(blocks: Iterable[Block]) -> str:
    """A Markdown document: blocks separated by blank lines, one final newline."""
    parts = [block(b) for b in blocks]
    return "\n\n".join(p for p in parts if p) + "\n"
