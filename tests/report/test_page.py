"""docs/report.html as a page people can use, read from its markup: a viewport, tables in
scrolling regions with captions and row headers, reproducers folded, symbols with text
alternatives, heat-map cells linking to entries, filters that only a script shows; and the
fixes to what the tables say (a row per backend, the layout of printed results, numbers in
readable form)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from report.__main__ import build
from report.model import number
from tests.report.synthetic import default_probes, probe, setup


class Page(HTMLParser):
    """The elements of a page, each with its attributes and the tags it sits in."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None], tuple[str, ...]]] = []
        self.stack: list[tuple[str, dict[str, str | None]]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.elements.append((tag, a, tuple(f"{t}.{x.get('class') or ''}" for t, x in self.stack)))
        if tag not in ("meta", "br", "input"):
            self.stack.append((tag, a))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs), tuple(t for t, _ in self.stack)))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def find(self, tag: str) -> list[tuple[dict[str, str | None], tuple[str, ...]]]:
        return [(a, inside) for t, a, inside in self.elements if t == tag]


KERAS = [{**probe(b, "keras.layers", "avg-same", "avg-divisor",
                  "follows:count_include_pad=False", "torch-divides-by-inside-cells"),
          "column": f"keras.layers ({b})", "framework": "keras", "channels_last": True}
         for b in ("keras-tensorflow", "keras-torch")]


def built_page(tmp_path: Path, probes: dict[str, list[dict[str, Any]]] | None = None
               ) -> dict[str, str]:
    """The files built from the synthetic records (with ``probes`` instead of the default
    ones)."""
    root, rec, reg = setup(tmp_path, probes=probes)
    return build(root, rec, reg).files


def test_the_page_fits_a_phone_and_every_table_scrolls_on_its_own(tmp_path):
    text = built_page(tmp_path)["docs/report.html"]
    page = Page(text)
    assert any(a.get("name") == "viewport" and "width=device-width" in (a.get("content") or "")
               for a, _ in page.find("meta"))
    tables = page.find("table")
    assert len(tables) > 5
    for _, inside in tables:
        assert inside[-1] == "div.scroll"
    assert text.count("<caption>") == len(tables)


def test_rows_have_headers_and_symbols_text_alternatives(tmp_path):
    text = built_page(tmp_path)["docs/report.html"]
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", text, flags=re.S):
        if "<td" in row:
            assert row.startswith('<th scope="row"'), row[:80]
    symbols = Page(text).find("span")
    marked = [a for a, _ in symbols if "sym" in (a.get("class") or "")]
    assert marked
    assert all(a.get("role") == "img" and a.get("aria-label") for a in marked)
    svg = re.search(r"<svg.*?</svg>", text, flags=re.S).group(0)
    assert "<title" in svg and "<desc" in svg and "aria-labelledby" in svg


def test_heat_map_and_matrix_cells_link_to_their_entry(tmp_path):
    text = built_page(tmp_path)["docs/report.html"]
    svg = re.search(r"<svg.*?</svg>", text, flags=re.S).group(0)
    # the avg-divisor cell of torch.nn.functional holds the probe the entry explains
    # and carries its framework, for the filters
    assert re.search(r'<a href="#torch-divides-by-inside-cells" data-facets '
                     r'data-framework="torch"><title>avg-divisor on torch.nn.functional', svg)
    matrix = text[text.index("<caption>Summary matrix"):]
    row = re.search(r"<tr>.*?avg-divisor.*?</tr>", matrix, flags=re.S).group(0)
    assert 'href="#torch-divides-by-inside-cells"' in row


def test_reproducers_are_folded_and_filters_wait_for_the_script(tmp_path):
    files = built_page(tmp_path)
    text = files["docs/report.html"]
    details = re.findall(r"<details>.*?</details>", text, flags=re.S)
    assert details
    assert all('<code class="language-python">' in d for d in details)
    assert text.count('<code class="language-python">') == len(details)
    form = re.search(r"<form[^>]*>", text).group(0)
    assert " hidden" in form
    # Markdown has no details and no form: the same blocks, unfolded
    assert "<details" not in files["docs/discrepancies.md"]
    assert "```python" in files["docs/discrepancies.md"]


def test_entry_sections_carry_their_facets(tmp_path):
    text = built_page(tmp_path)["docs/report.html"]
    sections = re.findall(r'<section class="entry"([^>]*)>\s*<h4 id="([^"]+)"', text)
    facets = {i: dict(re.findall(r'data-(\w+)="([^"]*)"', attrs)) for attrs, i in sections}
    assert facets["mxnet-ignores-nan"] == {"framework": "mxnet", "op": "max_pool",
                                           "pass": "forward", "kind": "deviation"}
    assert facets["torch-no-same-pooling"]["kind"] == "unsupported"


def test_one_row_per_backend_and_the_layout_said(tmp_path):
    probes = default_probes()
    probes.update({"keras-tensorflow": KERAS[:1], "keras-torch": KERAS[1:]})
    md = built_page(tmp_path, probes)["docs/discrepancies.md"]
    section = md[md.index("#### torch-divides-by-inside-cells"):]
    section = section[:section.index("\n#")]
    rows = [line for line in section.splitlines() if line.startswith("| keras.layers (")]
    assert len(rows) == 2 and len(set(rows)) == 2
    assert "gives (channels first)" in section
    assert "printed (channels last" in section


def test_numbers_are_readable():
    assert number(-3.4028234663852886e38) == "-3.40282e38"
    assert number(1e20) == "1e20"
    assert number(2.0) == "2"
    assert number(2.5) == "2.5"
    assert number(1e-7) == "1e-7"
    assert number("nan") == "nan"
