"""'same' padding: which side gets the odd cell. The arithmetic and the worked example come
from the oracle (``reference``), what each framework does from this run's probes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

import numpy as np

import reference
from report.cpu import MARKER
from report.model import Block, Code, CodeBlock, Figure, Link, Paragraph, Strong, Table, heading
from report.text import number

SOURCES = {
    "TensorFlow, Notes on padding": "https://www.tensorflow.org/api_docs/python/tf/nn",
    "ONNX Conv, auto_pad": "https://github.com/onnx/onnx/blob/main/docs/Operators.md#Conv",
    "PyTorch conv2d, padding='same'":
        "https://pytorch.org/docs/stable/generated/torch.nn.functional.conv2d.html",
}
FORMULA = ("total = max((ceil(n / s) - 1) * s + (k - 1) * d + 1 - n, 0)\n"
           "lo = total // 2          # 'same' (TF SAME, ONNX SAME_UPPER): odd cell at the end\n"
           "hi = total - lo          # 'same_lower' (ONNX SAME_LOWER) swaps lo and hi")
#: The worked 1-D examples: (input size n, kernel k, stride s), kernel all ones.
EXAMPLES = ((5, 2, 1), (6, 3, 2))
#: Probe cases whose 'same' padding is odd: the side the framework pads tells.
SIDE_CASES_TOPIC = "same-padding"


def example(n: int, k: int, s: int, padding: str) -> dict[str, Any]:
    """The oracle's 'same' (or 'same_lower') convolution of ``1..n`` with ``k`` ones."""
    ((lo, hi),) = reference.resolve_padding(padding, (n,), (k,), (s,), (1,))
    x = np.arange(1, n + 1, dtype=np.float64).reshape(1, 1, n)
    y = reference.conv(x, np.ones((1, 1, k)), stride=s, padding=padding)
    return {"pads": (lo, hi), "padded": [0] * lo + list(range(1, n + 1)) + [0] * hi,
            "y": [number(float(v)) for v in y.ravel()]}


def example_blocks() -> list[Block]:
    """The worked examples as a table, numbers from the oracle."""
    rows = []
    for n, k, s in EXAMPLES:
        for padding in ("same", "same_lower"):
            e = example(n, k, s, padding)
            rows.append((f"n={n}, k={k}, s={s}", Code(padding), str(sum(e["pads"])),
                         str(e["pads"]), Code(" ".join(map(str, e["padded"]))),
                         Code("[" + ", ".join(e["y"]) + "]")))
    return [Table(("input 1..n, kernel of ones", "padding", "total", "(lo, hi)",
                   "padded input", "output"), tuple(rows))]


def picture() -> str:
    """An SVG of the first example: the padded input under 'same' and 'same_lower', the
    padding cell shaded, and the output of each."""
    n, k, s = EXAMPLES[0]
    cell, left, top = 30, 185, 10
    rows = [("'same'", "TF SAME, ONNX SAME_UPPER", example(n, k, s, "same")),
            ("'same_lower'", "ONNX SAME_LOWER", example(n, k, s, "same_lower"))]
    width, height = left + cell * (n + 2) + 170, top + 2 * cell + 18 + 10
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="which side same pads">']
    font = 'font-family="sans-serif" font-size="13"'
    small = 'font-family="sans-serif" font-size="10" fill="#555"'
    for r, (label, who, e) in enumerate(rows):
        y0 = top + r * (cell + 18)
        out.append(f'<text x="{left - 10}" y="{y0 + 13}" {font} text-anchor="end">'
                   f"{escape(label)}</text>")
        out.append(f'<text x="{left - 10}" y="{y0 + 26}" {small} text-anchor="end">'
                   f"{escape(who)}</text>")
        lo = e["pads"][0]
        for i, v in enumerate(e["padded"]):
            pad = i < lo or i >= lo + n
            x0 = left + i * cell
            out.append(f'<rect x="{x0}" y="{y0}" width="{cell - 2}" height="{cell - 2}" '
                       f'fill="{"#f46d43" if pad else "#deebf7"}" stroke="#555"/>')
            out.append(f'<text x="{x0 + (cell - 2) / 2:g}" y="{y0 + 19}" {font} '
                       f'text-anchor="middle">{v}</text>')
        out.append(f'<text x="{left + cell * (n + 1) + 12}" y="{y0 + 19}" {font}>'
                   f"→ y = [{escape(', '.join(e['y']))}]</text>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def side(probe: Mapping[str, Any]) -> str:
    """Which side a 'same' probe padded, in words, from its verdict (published probes: one
    whose result depends on the CPU says so)."""
    v = probe["verdict"]
    if v == "follows-oracle":
        return "end"
    if v.startswith("follows:"):
        name = v.removeprefix("follows:")
        if "same_lower" in name:
            rest = name.replace("same_lower", "").strip(" ,")
            return "start" + (f" ({rest})" if rest else "")
        return f"end ({name})"
    return {"unsupported": "no 'same'", MARKER: "depends on the CPU"}.get(v, v)


def side_table(probes: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> Table:
    """'same' cases × framework APIs: the side each pads."""
    cases = list(dict.fromkeys(p["case"] for p in probes if p["topic"] == SIDE_CASES_TOPIC))
    rows = []
    for case in cases:
        row: list[Any] = [Code(case)]
        for column in columns:
            found = [side(p) for p in probes if p["case"] == case and p["column"] == column]
            row.append(" / ".join(dict.fromkeys(found)) or "·")
        rows.append(tuple(row))
    return Table(("case", *columns), tuple(rows))


def sides_by_column(probes: Sequence[Mapping[str, Any]], columns: Sequence[str]
                    ) -> list[tuple[str, str]]:
    """Per framework API, the sides its 'same' probes padded, with the cases."""
    out = []
    for column in columns:
        found: dict[str, list[str]] = {}
        for p in probes:
            if p["topic"] == SIDE_CASES_TOPIC and p["column"] == column:
                found.setdefault(side(p), []).append(p["case"])
        text = "; ".join(f"{s}: {', '.join(dict.fromkeys(c))}" for s, c in found.items())
        out.append((column, text or "no probe"))
    return out


def _sources() -> Paragraph:
    parts: list[Any] = ["Sources: "]
    for i, (text, url) in enumerate(SOURCES.items()):
        parts += [", " if i else "", Link(text, url)]
    return Paragraph((*parts, "."))


def document(probes: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> list[Block]:
    """docs/same-padding.md."""
    return [
        heading(1, "'same' padding: which side gets the odd cell"),
        Paragraph("Generated by python -m report build from the oracle and this run's probes; "
                  "do not edit by hand."),
        Paragraph("With padding 'same' a dimension of n cells gives ceil(n / s) outputs. The "
                  "padding that needs, per spatial dimension (kernel k, stride s, dilation d):"),
        CodeBlock(FORMULA, "text"),
        Paragraph("When the total is odd, one side gets one cell more. TensorFlow's SAME and "
                  "ONNX's auto_pad=SAME_UPPER put it at the end; ONNX's SAME_LOWER at the "
                  "start. The oracle's padding='same' is the former, padding='same_lower' the "
                  "latter (reference.resolve_padding is the one place that computes it)."),
        _sources(),
        heading(2, "Worked example"),
        Paragraph("A 1-D convolution of 1..n with a kernel of ones, numbers from the oracle "
                  "(the shaded cell is the padding):"),
        Figure(picture(), "the padded input under 'same' and 'same_lower'", "same-padding.svg"),
        *example_blocks(),
        heading(2, "What each framework does"),
        Paragraph("The side each framework API padded in this run's probes ('end' follows "
                  "the oracle's 'same', 'start' its 'same_lower'; see discrepancies.md for "
                  "the reproducers):"),
        side_table(probes, columns),
        Paragraph(("PyTorch accepts padding='same' for convolution with stride 1 only (",
                   Link("torch-conv-same-strided-rejected",
                        "discrepancies.md#torch-conv-same-strided-rejected"),
                   "), and its pooling has no 'same'; MXNet has no 'same' for convolution (",
                   Link("mxnet-no-same-padding", "discrepancies.md#mxnet-no-same-padding"),
                   "). Per API, from the table:")),
        Table(("framework API", "'same' probes"),
              tuple((Strong(c), t) for c, t in sides_by_column(probes, columns))),
    ]


def readme_blocks(probes: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> list[Block]:
    """The README's short explanation, with the picture."""
    return [
        Paragraph("With padding 'same' an odd total padding leaves one extra cell for one side. "
                  "TensorFlow's SAME and ONNX's SAME_UPPER put it at the end, ONNX's SAME_LOWER "
                  "at the start; the oracle's 'same' and 'same_lower' are those two:"),
        CodeBlock(FORMULA, "text"),
        Figure(picture(), "the padded input under 'same' and 'same_lower'",
               "docs/same-padding.svg"),
        Table(("framework API", "'same' probes (this run)"),
              tuple((Strong(c), t) for c, t in sides_by_column(probes, columns))),
        Paragraph(("Worked example, sources and the full table: ",
                   Link("docs/same-padding.md", "docs/same-padding.md"), ".")),
    ]
