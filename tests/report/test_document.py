"""The generated files' content: a section per registry entry with its source and a
reproducer, valid Python in every reproducer, intact tables and links, strict JSON, a
self-contained HTML page."""

from __future__ import annotations

import json
import re

import pytest

import registry
from report import reproducers
from report.__main__ import build
from report.model import slug
from report.render import escape
from tests.report.synthetic import CPU_REGISTRY, CPU_SUITE_ENTRY, setup, suite_doc

FENCE = re.compile(r"^```python\n(.*?)^```$", re.S | re.M)


@pytest.fixture
def built(tmp_path):
    root, rec, reg = setup(tmp_path)
    return build(root, rec, reg), registry.load(reg)


def sections(markdown: str) -> dict[str, str]:
    """Level-4 sections (one per registry entry) by heading text."""
    parts = re.split(r"^#### (.+)$", markdown, flags=re.M)
    return {parts[i]: re.split(r"^##+ ", parts[i + 1], flags=re.M)[0]
            for i in range(1, len(parts), 2)}


def test_every_entry_has_a_section_with_its_source_and_a_reproducer(built):
    result, entries = built
    found = sections(result.files["docs/discrepancies.md"])
    assert set(found) == {e.id for e in entries}
    for e in entries:
        assert e.raw["source"] in found[e.id]
        assert FENCE.search(found[e.id]), e.id
    # the suite-only entry gets one rendered from its reproducer, by the mx.nd renderer
    assert "mx.nd.Pooling(x" in found["mxnet-ignores-nan"]
    assert "np.nan" in found["mxnet-ignores-nan"]


def test_every_reproducer_is_valid_python(built):
    result, _ = built
    for doc in ("docs/discrepancies.md",):
        blocks = FENCE.findall(result.files[doc])
        assert blocks
        for code in blocks:
            compile(code, doc, "exec")


def _cells(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


def test_table_rows_have_as_many_cells_as_their_header(built):
    result, _ = built
    for name in ("docs/discrepancies.md", "docs/same-padding.md", "README.md"):
        lines = result.files[name].splitlines()
        for i, line in enumerate(lines):
            if line.startswith("| ") and (i == 0 or not lines[i - 1].startswith("|")):
                width = _cells(line)
                j = i + 1
                while j < len(lines) and lines[j].startswith("|"):
                    assert _cells(lines[j]) == width, (name, lines[j])
                    j += 1


def test_in_page_links_point_at_headings(built):
    result, _ = built
    text = result.files["docs/discrepancies.md"]
    anchors = {slug(h) for h in re.findall(r"^#+ (.+)$", text, flags=re.M)}
    targets = set(re.findall(r"\]\(#([^)]+)\)", text))
    assert targets
    assert targets <= anchors


def test_the_html_page_is_self_contained(built):
    result, _ = built
    page = result.files["docs/report.html"]
    assert "<svg" in page
    # one inline script, which asks for nothing
    assert page.count("<script") == 1 and "<script>" in page
    for request in ("fetch(", "XMLHttpRequest", "import(", "src=", "<link", "@import"):
        assert request not in page, request
    ids = re.findall(r'id="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    assert "mxnet-ignores-nan" in ids


def test_the_json_is_strict_and_holds_every_record(built, tmp_path):
    result, entries = built

    def no_constants(name):
        raise AssertionError(f"non-standard JSON constant {name}")

    doc = json.loads(result.files["reports/discrepancies.json"], parse_constant=no_constants)
    assert doc["schema"] == "conv-conformance report 3"
    ids = {p["id"] for d in doc["probes"].values() for p in d["probes"]}
    assert "torch/torch.nn.functional.op:avg-same" in ids
    assert len(ids) == 6
    assert {d["id"] for d in doc["discrepancies"]} == {e.id for e in entries}
    nan_entry = next(d for d in doc["discrepancies"] if d["id"] == "mxnet-ignores-nan")
    assert nan_entry["reproducer"]["x"][1] == "nan"
    assert all("python" not in s for s in doc["suites"].values())


def test_markdown_escapes_syntax_but_not_words():
    assert escape("a_b _c_ *d* |e| `f`") == "a_b \\_c\\_ \\*d\\* \\|e\\| \\`f\\`"


def test_the_registry_reproducers_render_as_python():
    """Every real registry entry with a reproducer renders for at least one of its suite
    backends, and every rendered script compiles (the probe renderers pass no bias and
    spell no bad input (odd ranks, bool or complex arrays): such an entry has its suite
    reproducer only, and the report says so)."""
    for entry in registry.load():
        backends = [b for b in entry.backends if reproducers.probed(b)]
        if (entry.reproducer is None or not backends or entry.when.get("invalid")
                or entry.reproducer.get("b")):
            continue  # the probe renderers pass no bias (report.reproducers.registry_case)
        rendered = []
        for backend in backends:
            try:
                rendered += reproducers.from_registry(entry, backend)
            except ValueError:
                continue
        assert rendered, entry.id
        for r in rendered:
            compile(r.code, entry.id, "exec")


def test_an_entry_for_other_cpus_shows_its_condition_not_this_machines_status(tmp_path):
    tf = suite_doc("tensorflow", {CPU_SUITE_ENTRY: "not-on-this-cpu"})
    tf["registry"][CPU_SUITE_ENTRY]["cpu_missing"] = ["!avx512f"]
    root, rec, reg = setup(tmp_path, CPU_REGISTRY, suites={"tensorflow": tf})
    result = build(root, rec, reg)
    section = sections(result.files["docs/discrepancies.md"])[CPU_SUITE_ENTRY]
    assert "CPUs without AVX512F" in section
    assert "not-on-this-cpu" not in section
    assert "tf.nn.max_pool1d(" in section  # the registry's reproducer, rendered
    assert not any(n.startswith(CPU_SUITE_ENTRY) for n in result.notes)
