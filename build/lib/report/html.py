"""A self-contained HTML page for the report's blocks: inline CSS and SVG, no scripts."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

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

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto;
       padding: 0 1rem; line-height: 1.45; color: #222; }
table { border-collapse: collapse; margin: 0.6rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.2rem 0.45rem; vertical-align: top; }
th { background: #f3f3f3; }
code { font-size: 0.88em; background: #f5f5f5; padding: 0 0.2em; }
pre { background: #f7f7f7; border: 1px solid #ddd; padding: 0.6rem; overflow-x: auto; }
pre code { background: none; padding: 0; }
h4 { border-top: 1px solid #ddd; padding-top: 0.8rem; }
figure { margin: 1rem 0; overflow-x: auto; }
"""


def inline(content: Inline) -> str:
    """Inline content as HTML."""
    if isinstance(content, str):
        return escape(content)
    if isinstance(content, Code):
        return f"<code>{escape(content.text)}</code>"
    if isinstance(content, Strong):
        return f"<strong>{escape(content.text)}</strong>"
    if isinstance(content, Link):
        return f'<a href="{escape(content.url)}">{escape(content.text)}</a>'
    return "".join(inline(part) for part in content)


def block(b: Block) -> str:
    """One block as HTML."""
    if isinstance(b, Heading):
        return f'<h{b.level} id="{escape(b.anchor)}">{escape(b.text)}</h{b.level}>'
    if isinstance(b, Paragraph):
        return f"<p>{inline(b.content)}</p>"
    if isinstance(b, Table):
        head = "".join(f"<th>{inline(c)}</th>" for c in b.header)
        rows = "\n".join("<tr>" + "".join(f"<td>{inline(c)}</td>" for c in row) + "</tr>"
                         for row in b.rows)
        return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table>"
    if isinstance(b, CodeBlock):
        return f'<pre><code class="language-{b.lang}">{escape(b.text.rstrip())}</code></pre>'
    if isinstance(b, Bullets):
        return "<ul>\n" + "\n".join(f"<li>{inline(i)}</li>" for i in b.items) + "\n</ul>"
    if isinstance(b, Figure):
        return f"<figure>\n{b.svg}\n</figure>"
    raise TypeError(f"not a report block: {b!r}")


def render(blocks: Iterable[Block], title: str) -> str:
    """A complete HTML document."""
    body = "\n".join(block(b) for b in blocks)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            f"{body}\n</body>\n</html>\n")
