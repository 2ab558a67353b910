"""The heat-map picture of the summary matrix, as a self-contained SVG (no scripts)."""

from __future__ import annotations

from html import escape

from report.cpu import MARKER
from report.matrix import CLASSES, LABELS, NO_PROBE, SYMBOLS, Matrix

#: Fill per class: light enough that black text stays readable.
COLOURS = {"follows": "#a6d96a", "differs": "#f46d43", "errors": "#c2a5cf",
           "unsupported": "#fee08b", MARKER: "#92c5de"}
EMPTY = "#f0f0f0"
LABEL_W, COL_W, ROW_H, HEAD_H, LEGEND_H = 170, 118, 26, 40, 30
FONT = "font-family=\"sans-serif\" font-size=\"11\""


def _text(x: float, y: float, text: str, anchor: str = "start", weight: str = "normal") -> str:
    return (f'<text x="{x:g}" y="{y:g}" {FONT} text-anchor="{anchor}" '
            f'font-weight="{weight}">{escape(text)}</text>')


def _wrap(label: str) -> list[str]:
    """A column label on at most two lines, split before a parenthesis."""
    head, sep, tail = label.partition(" (")
    return [head, "(" + tail] if sep else [label]


def heatmap(matrix: Matrix, base: str = "") -> str:
    """The matrix as an SVG: one cell per topic × API, split into bars proportional to the
    probes of each class, with the counts written on it; topic labels link to ``base#topic``."""
    labels = [f"{SYMBOLS[c]} {LABELS[c].split(' (')[0]}" for c in CLASSES]
    legend_w = 10 + sum(22 + 6.2 * len(label) for label in labels)
    width = max(LABEL_W + COL_W * len(matrix.columns) + 10, round(legend_w))
    height = HEAD_H + ROW_H * len(matrix.topics) + LEGEND_H + 10
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" '
           f'aria-label="summary matrix: topic by framework API">']
    for j, column in enumerate(matrix.columns):
        lines = _wrap(column)
        for k, line in enumerate(lines):
            y = HEAD_H - 8 - 13 * (len(lines) - 1 - k)
            out.append(_text(LABEL_W + COL_W * (j + 0.5), y, line, "middle", "bold"))
    for i, topic in enumerate(matrix.topics):
        y0 = HEAD_H + ROW_H * i
        out.append(f'<a href="{escape(base)}#{escape(topic)}">'
                   + _text(LABEL_W - 8, y0 + ROW_H / 2 + 4, topic, "end") + "</a>")
        for j, column in enumerate(matrix.columns):
            cell = matrix.cell(topic, column)
            x0 = LABEL_W + COL_W * j
            tip = f"{topic} on {column}: " + (", ".join(
                f"{cell.counts[c]} {c}" for c in CLASSES if cell.counts.get(c)) or "no probe")
            out.append(f"<g><title>{escape(tip)}</title>")
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
            out.append(_text(x0 + COL_W / 2, y0 + ROW_H / 2 + 4,
                             cell.text() if cell.total else NO_PROBE, "middle") + "</g>")
    y = HEAD_H + ROW_H * len(matrix.topics) + 20
    x = 10.0
    for c, label in zip(CLASSES, labels, strict=True):
        out.append(f'<rect x="{x:g}" y="{y - 10}" width="12" height="12" fill="{COLOURS[c]}"/>')
        out.append(_text(x + 16, y, label))
        x += 22 + 6.2 * len(label)
    out.append("</svg>")
    return "\n".join(out)
