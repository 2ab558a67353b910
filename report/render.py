"""The report's blocks (:mod:`report.model`) as Markdown (GitHub flavour) and as one
self-contained HTML page (inline CSS, SVG and script; no request leaves the page), and the
heat-map picture of the summary matrix.

The HTML page adds views of the same blocks: a table of contents from the headings, and
filters over the blocks' facets (hidden until the script runs, so the page reads the same
without it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from html import escape as html_escape

from report.matrix import CLASSES, LABELS, NO_PROBE, SYMBOLS, Matrix
from report.model import (
    MARKER,
    Block,
    Bullets,
    Code,
    CodeBlock,
    Details,
    Facets,
    Figure,
    Group,
    Heading,
    Inline,
    Link,
    Paragraph,
    Strong,
    Table,
)

#: Characters that start Markdown syntax anywhere in a line.
_SPECIAL = set("\\`*[]<>|")
#: The facets the page filters on, in the order of its controls.
FACETS = ("framework", "op", "pass", "kind")


def escape(text: str) -> str:
    """Plain text made literal in Markdown: syntax characters are backslash-escaped, and
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
    """Inline Markdown code that holds any text, backticks and pipes included."""
    text = text.replace("\n", " ")
    fence = "`"
    while fence in text:
        fence += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_inline(content: Inline, in_table: bool = False) -> str:
    """Inline content as Markdown; in a table cell, pipes inside code spans are escaped."""
    if isinstance(content, str):
        return escape(content)
    if isinstance(content, Code):
        span = code_span(content.text)
        return span.replace("|", "\\|") if in_table else span
    if isinstance(content, Strong):
        return f"**{escape(content.text)}**"
    if isinstance(content, Link):
        return f"[{escape(content.text)}]({content.url})"
    return "".join(md_inline(part, in_table) for part in content)


def md_block(b: Block) -> str:
    """One block as Markdown text (no trailing blank line)."""
    if isinstance(b, Heading):
        return "#" * b.level + " " + escape(b.text)
    if isinstance(b, Paragraph):
        return md_inline(b.content)
    if isinstance(b, Table):
        lines = ["| " + " | ".join(md_inline(c, True) for c in b.header) + " |",
                 "|" + "|".join(" --- " for _ in b.header) + "|"]
        lines += ["| " + " | ".join(md_inline(c, True) for c in row) + " |" for row in b.rows]
        return "\n".join(lines)
    if isinstance(b, CodeBlock):
        fence = "```"
        while fence in b.text:
            fence += "`"
        return f"{fence}{b.lang}\n{b.text.rstrip()}\n{fence}"
    if isinstance(b, Bullets):
        return "\n".join("- " + md_inline(item) for item in b.items)
    if isinstance(b, Figure):
        return f"![{escape(b.alt)}]({b.src})" if b.src else ""
    if isinstance(b, Details):
        return markdown((Paragraph(b.summary), *b.blocks)).rstrip("\n")
    if isinstance(b, Group):
        return markdown(b.blocks).rstrip("\n")
    raise TypeError(f"not a report block: {b!r}")


def markdown(blocks: Iterable[Block]) -> str:
    """A Markdown document: blocks separated by blank lines, one final newline."""
    parts = [md_block(b) for b in blocks]
    return "\n\n".join(p for p in parts if p) + "\n"


STYLE = """
body { font-family: system-ui, sans-serif; max-width: 72rem; margin: 1.5rem auto;
       padding: 0 0.8rem; line-height: 1.45; color: #222; }
p, li, h1, h2, h3, h4, summary, caption, figcaption { overflow-wrap: anywhere; }
.scroll { overflow-x: auto; max-width: 100%; margin: 0.6rem 0; }
table { border-collapse: collapse; font-size: 0.9rem; }
caption { text-align: left; font-size: 0.85rem; color: #555; padding: 0.2rem 0; }
th, td { border: 1px solid #ccc; padding: 0.2rem 0.45rem; vertical-align: top; }
thead th { background: #f3f3f3; }
tbody th { background: #fafafa; text-align: left; font-weight: 600; }
code { font-size: 0.88em; background: #f5f5f5; padding: 0 0.2em; }
pre { background: #f7f7f7; border: 1px solid #ddd; padding: 0.6rem; overflow-x: auto;
      max-width: 100%; box-sizing: border-box; }
pre code { background: none; padding: 0; }
section.entry, section.suite { border-top: 1px solid #ddd; margin-top: 1rem; }
details { margin: 0.4rem 0; }
summary { cursor: pointer; }
figure { margin: 1rem 0; }
h1 { font-size: clamp(1.5rem, 5vw, 2.2rem); }
nav ol { padding-left: 1.4rem; }
nav ol ol { padding-left: 0; }
nav ol ol li { display: inline-block; margin: 0 1.6rem 0 0; }
td code, th code { white-space: nowrap; }
.filters { border: 1px solid #ccc; padding: 0.4rem 0.8rem; margin: 1rem 0; background: #fafafa; }
.filters label { display: inline-block; margin: 0.2rem 1rem 0.2rem 0; }
.sym { font-weight: bold; }
.s-deviation { color: #b2182b; } .s-convention { color: #2166ac; }
.s-errors { color: #762a83; } .s-unsupported { color: #8c6d00; }
.s-depends-on-cpu { color: #4a7ea8; } .s-follows { color: #1b7837; }
"""

#: Shows the filters and applies them: an element with ``data-facets`` stays shown when,
#: for every chosen facet, it has no such attribute or lists the chosen value (an SVG element,
#: which has no ``hidden``, through its ``display``).
SCRIPT = """
(function () {
  var form = document.getElementById("filters");
  var status = document.getElementById("filter-status");
  var selects = form.querySelectorAll("select");
  function apply() {
    var want = {}, shown = 0, total = 0;
    selects.forEach(function (s) { if (s.value) { want[s.name] = s.value; } });
    document.querySelectorAll("[data-facets]").forEach(function (el) {
      var ok = Object.keys(want).every(function (k) {
        var v = el.getAttribute("data-" + k);
        return v === null || v.split(" ").indexOf(want[k]) >= 0;
      });
      if (el instanceof SVGElement) { el.style.display = ok ? "" : "none"; }
      else { el.hidden = !ok; }
      if (el.classList.contains("entry")) { total += 1; shown += ok ? 1 : 0; }
    });
    status.textContent = shown + " of " + total + " registry entries shown";
  }
  selects.forEach(function (s) { s.addEventListener("change", apply); });
  form.addEventListener("reset", function () { setTimeout(apply, 0); });
  form.hidden = false;
  apply();
})();
"""


def _symbol(cls: str) -> str:
    label = html_escape(LABELS[cls].split(" (")[0])
    return (f'<span class="sym s-{cls}" role="img" aria-label="{label}" title="{label}">'
            f"{SYMBOLS[cls]}</span>")


_BY_SYMBOL = {SYMBOLS[c]: c for c in CLASSES}


def html_text(text: str) -> str:
    """Plain text as HTML; a matrix symbol gets its class and its meaning as a text
    alternative, and a lone :data:`report.matrix.NO_PROBE` says "no probe"."""
    if text == NO_PROBE:
        return ('<span class="sym" role="img" aria-label="no probe" title="no probe">'
                f"{NO_PROBE}</span>")
    return "".join(_symbol(_BY_SYMBOL[ch]) if ch in _BY_SYMBOL else html_escape(ch)
                   for ch in text)


def html_inline(content: Inline) -> str:
    """Inline content as HTML."""
    if isinstance(content, str):
        return html_text(content)
    if isinstance(content, Code):
        return f"<code>{html_escape(content.text)}</code>"
    if isinstance(content, Strong):
        return f"<strong>{html_text(content.text)}</strong>"
    if isinstance(content, Link):
        return f'<a href="{html_escape(content.url)}">{html_text(content.text)}</a>'
    return "".join(html_inline(part) for part in content)


def facet_attrs(facets: Facets) -> str:
    """``data-`` attributes for facets (empty for none)."""
    if not facets:
        return ""
    return " data-facets" + "".join(f' data-{k}="{html_escape(v)}"' for k, v in facets)


def html_table(b: Table) -> str:
    """A table in a horizontally scrolling region: column headers, the first cell of each
    row as its header, the caption, and the facets of rows and columns."""
    cols = list(b.column_facets) + [()] * (len(b.header) - len(b.column_facets))
    rows_f = list(b.row_facets) + [()] * (len(b.rows) - len(b.row_facets))
    head = "".join(f'<th scope="col"{facet_attrs(f)}>{html_inline(c)}</th>'
                   for c, f in zip(b.header, cols, strict=True))
    body = []
    for row, facets in zip(b.rows, rows_f, strict=True):
        cells = [f'<th scope="row"{facet_attrs(cols[0])}>{html_inline(row[0])}</th>']
        cells += [f"<td{facet_attrs(f)}>{html_inline(c)}</td>"
                  for c, f in zip(row[1:], cols[1:], strict=True)]
        body.append(f"<tr{facet_attrs(facets)}>" + "".join(cells) + "</tr>")
    label = b.caption or ", ".join(c for c in b.header if isinstance(c, str))
    caption = f"<caption>{html_escape(b.caption)}</caption>\n" if b.caption else ""
    return (f'<div class="scroll" role="region" tabindex="0" aria-label="{html_escape(label)}">'
            f"\n<table>\n{caption}<thead><tr>{head}</tr></thead>\n<tbody>\n"
            + "\n".join(body) + "\n</tbody>\n</table>\n</div>")


def html_block(b: Block) -> str:
    """One block as HTML."""
    if isinstance(b, Heading):
        return f'<h{b.level} id="{html_escape(b.anchor)}">{html_escape(b.text)}</h{b.level}>'
    if isinstance(b, Paragraph):
        return f"<p>{html_inline(b.content)}</p>"
    if isinstance(b, Table):
        return html_table(b)
    if isinstance(b, CodeBlock):
        return (f'<pre><code class="language-{b.lang}">'
                f"{html_escape(b.text.rstrip())}</code></pre>")
    if isinstance(b, Bullets):
        return "<ul>\n" + "\n".join(f"<li>{html_inline(i)}</li>" for i in b.items) + "\n</ul>"
    if isinstance(b, Figure):
        return (f'<figure>\n<div class="scroll" role="region" tabindex="0" '
                f'aria-label="{html_escape(b.alt)}">\n{b.svg}\n</div>\n'
                f"<figcaption>{html_escape(b.alt)}</figcaption>\n</figure>")
    if isinstance(b, Details):
        inner = "\n".join(html_block(x) for x in b.blocks)
        return f"<details>\n<summary>{html_inline(b.summary)}</summary>\n{inner}\n</details>"
    if isinstance(b, Group):
        inner = "\n".join(html_block(x) for x in b.blocks)
        return f'<section class="{b.role}"{facet_attrs(b.facets)}>\n{inner}\n</section>'
    raise TypeError(f"not a report block: {b!r}")


def _walk(blocks: Iterable[Block]) -> Iterable[Block]:
    for b in blocks:
        yield b
        if isinstance(b, (Group, Details)):
            yield from _walk(b.blocks)


def contents(blocks: Sequence[Block]) -> str:
    """The table of contents: the level-2 headings, each with its level-3 ones."""
    items: list[list[str]] = []
    for b in _walk(blocks):
        if isinstance(b, Heading) and b.level in (2, 3):
            link = f'<a href="#{html_escape(b.anchor)}">{html_escape(b.text)}</a>'
            if b.level == 2 or not items:
                items.append([link])
            else:
                items[-1].append(link)
    lis = [f"<li>{top}" + ("<ol>" + "".join(f"<li>{s}</li>" for s in subs) + "</ol>"
                           if subs else "") + "</li>" for top, *subs in items]
    return ('<nav aria-labelledby="contents">\n<h2 id="contents">Contents</h2>\n<ol>\n'
            + "\n".join(lis) + "\n</ol>\n</nav>")


def filters(blocks: Sequence[Block]) -> str:
    """The filter controls: one choice per facet, over the values the blocks carry."""
    values: dict[str, dict[str, None]] = {f: {} for f in FACETS}
    for b in _walk(blocks):
        facet_sets = [b.facets] if isinstance(b, Group) else (
            [*b.row_facets, *b.column_facets] if isinstance(b, Table) else [])
        for facets in facet_sets:
            for k, v in facets:
                for one in v.split():
                    values.setdefault(k, {})[one] = None
    controls = []
    for facet in FACETS:
        options = "".join(f'<option value="{html_escape(v)}">{html_escape(v)}</option>'
                          for v in sorted(values[facet]))
        controls.append(f'<label>{facet} <select name="{facet}"><option value="">all'
                        f"</option>{options}</select></label>")
    return ('<form id="filters" class="filters" hidden aria-label="filters">\n'
            "<p>Show only the registry entries, and the rows and columns, of:</p>\n"
            + "\n".join(controls) + '\n<button type="reset">show all</button>\n'
            '<output id="filter-status" aria-live="polite"></output>\n</form>')


def html(blocks: Sequence[Block], title: str) -> str:
    """A complete HTML document; the contents and the filters come before the first
    level-2 heading."""
    parts = [html_block(b) for b in blocks]
    first = next((i for i, b in enumerate(blocks) if isinstance(b, Heading) and b.level == 2),
                 len(blocks))
    parts.insert(first, contents(blocks) + "\n" + filters(blocks))
    body = "\n".join(parts)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html_escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            f"<main>\n{body}\n</main>\n<script>{SCRIPT}</script>\n</body>\n</html>\n")


#: Heat-map fill per class: light enough that black text stays readable.
COLOURS = {"follows": "#a6d96a", "deviation": "#f46d43", "convention": "#74add1",
           "errors": "#c2a5cf", "unsupported": "#fee08b", MARKER: "#c7e9f1"}
EMPTY = "#f0f0f0"
LABEL_W, COL_W, ROW_H, HEAD_H, LEGEND_H = 170, 118, 26, 40, 30
FONT = "font-family=\"sans-serif\" font-size=\"11\""


def _svg_text(x: float, y: float, text: str, anchor: str = "start",
              weight: str = "normal") -> str:
    return (f'<text x="{x:g}" y="{y:g}" {FONT} text-anchor="{anchor}" '
            f'font-weight="{weight}">{html_escape(text)}</text>')


def _wrap(label: str) -> list[str]:
    """A column label on at most two lines, split before a parenthesis or a variant's
    bracket."""
    for mark, keep in ((" (", "("), ("[", "[")):
        head, sep, tail = label.partition(mark)
        if sep:
            return [head, keep + tail]
    return [label]


def heatmap(matrix: Matrix, target: Callable[[str, str], str],
            facets: Callable[[str], Facets] = lambda column: ()) -> str:
    """The matrix as an SVG: one cell per topic × API, split into bars proportional to the
    probes of each class, with the counts written on it. A topic label links to
    ``#topic``, a cell to ``target(topic, column)``; a column's label and cells carry
    ``facets(column)``, so the filters hide them as they hide the matrix table's column."""
    labels = [f"{SYMBOLS[c]} {LABELS[c].split(' (')[0]}" for c in CLASSES]
    legend_w = 10 + sum(22 + 6.2 * len(label) for label in labels)
    width = max(LABEL_W + COL_W * len(matrix.columns) + 10, round(legend_w))
    height = HEAD_H + ROW_H * len(matrix.topics) + LEGEND_H + 10
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" '
           'aria-labelledby="heatmap-title heatmap-desc">',
           '<title id="heatmap-title">Summary matrix as a heat map: topic by framework API'
           "</title>",
           '<desc id="heatmap-desc">Each cell is split into coloured bars, one per class of '
           "probe verdict, as wide as its share of the probes; the counts are written on it "
           "and are the same as in the summary matrix table below.</desc>"]
    for j, column in enumerate(matrix.columns):
        lines = _wrap(column)
        for k, line in enumerate(lines):
            y = HEAD_H - 8 - 13 * (len(lines) - 1 - k)
            out.append(f"<g{facet_attrs(facets(column))}>"
                       + _svg_text(LABEL_W + COL_W * (j + 0.5), y, line, "middle", "bold")
                       + "</g>")
    for i, topic in enumerate(matrix.topics):
        y0 = HEAD_H + ROW_H * i
        out.append(f'<a href="#{html_escape(topic)}">'
                   + _svg_text(LABEL_W - 8, y0 + ROW_H / 2 + 4, topic, "end") + "</a>")
        for j, column in enumerate(matrix.columns):
            cell = matrix.cell(topic, column)
            x0 = LABEL_W + COL_W * j
            tip = f"{topic} on {column}: " + (", ".join(
                f"{cell.counts[c]} {c}" for c in CLASSES if cell.counts.get(c)) or "no probe")
            out.append(f'<a href="{html_escape(target(topic, column))}"'
                       f"{facet_attrs(facets(column))}><title>{html_escape(tip)}</title>")
            if not cell.total:
                out.append(f'<rect x="{x0 + 1}" y="{y0 + 1}" width="{COL_W - 2}" '
                           f'height="{ROW_H - 2}" fill="{EMPTY}"/>')
            x = x0 + 1.0
            for c in CLASSES:
                n = cell.counts.get(c, 0)
                if n:
                    w = (COL_W - 2) * n / cell.total
                    out.append(f'<rect x="{x:.2f}" y="{y0 + 1}" width="{w:.2f}" '
                               f'height="{ROW_H - 2}" fill="{COLOURS[c]}"/>')
                    x += w
            out.append(_svg_text(x0 + COL_W / 2, y0 + ROW_H / 2 + 4,
                                 cell.text() if cell.total else NO_PROBE, "middle") + "</a>")
    y = HEAD_H + ROW_H * len(matrix.topics) + 20
    x = 10.0
    for c, label in zip(CLASSES, labels, strict=True):
        out.append(f'<rect x="{x:g}" y="{y - 10}" width="12" height="12" fill="{COLOURS[c]}"/>')
        out.append(_svg_text(x + 16, y, label))
        x += 22 + 6.2 * len(label)
    out.append("</svg>")
    return "\n".join(out)
