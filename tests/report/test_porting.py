"""The porting guides: which entries a pair's guide lists, in which group, with what; the
index; links that resolve; the committed check covering the guides."""

from __future__ import annotations

import posixpath
import re

import registry
from report.__main__ import build, stale, write
from report.porting import DIRECTORY, GROUPS, items, page
from report.records import FRAMEWORKS
from tests.report.synthetic import default_probes, probe, setup

INDEX = f"{DIRECTORY}/README.md"


def guide(files: dict[str, str], source: str, target: str) -> dict[str, list[str]]:
    """The entry ids of one built guide by group heading key (in page order)."""
    text = files[f"{DIRECTORY}/{page(source, target)}"]
    out: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("## "):
            current = next(k for k, title in GROUPS.items() if line == f"## {title}")
            out[current] = []
        elif line.startswith("#### "):
            out[current].append(line.removeprefix("#### "))
    return out


def section(files: dict[str, str], source: str, target: str, entry: str) -> str:
    text = files[f"{DIRECTORY}/{page(source, target)}"]
    return text.split(f"#### {entry}\n", 1)[1].split("\n#### ", 1)[0].split("\n## ", 1)[0]


def test_a_guide_lists_the_target_entries_and_the_source_conventions(tmp_path):
    files = build(*setup(tmp_path)).files
    # mxnet -> torch: torch's divisor and missing 'same' pooling arrive; mxnet's NaN bug
    # is nothing ported code relied on
    assert guide(files, "mxnet", "torch") == {
        "values": ["torch-divides-by-inside-cells"],
        "spelling": ["torch-no-same-pooling"], "errors": []}
    # torch -> mxnet: torch's divisor convention was relied on, mxnet's NaN bug arrives;
    # what torch lacks does not bite
    assert guide(files, "torch", "mxnet") == {
        "values": ["torch-divides-by-inside-cells", "mxnet-ignores-nan"],
        "spelling": [], "errors": []}


def test_an_item_says_what_happens_with_its_workaround_and_links(tmp_path):
    files = build(*setup(tmp_path)).files
    item = section(files, "mxnet", "torch", "torch-divides-by-inside-cells")
    assert "In torch, `torch.nn.functional.avg_pool1d`" in item
    assert "**Workaround**: Pass count_include_pad explicitly." in item
    assert "```python\ny = pool(x, count_include_pad=True)\n```" in item
    assert "(../discrepancies.md#torch-divides-by-inside-cells)" in item
    relied = section(files, "torch", "mxnet", "torch-divides-by-inside-cells")
    assert "torch code relied on this (`torch.nn.functional.avg_pool1d`)" in relied
    assert "**Workaround (in torch, before porting)**: Pass count_include_pad" in relied
    arriving = section(files, "torch", "mxnet", "mxnet-ignores-nan")
    assert "**No workaround**: No flag of the kernel keeps NaN." in arriving
    assert "reproducer case `x_shape=[1, 1, 4], params={'kernel_size': 2}`" in arriving


def test_a_pair_without_difference_says_so(tmp_path):
    files = build(*setup(tmp_path)).files
    text = files[f"{DIRECTORY}/{page('jax', 'onnxruntime')}"]
    assert "No registered difference between jax and onnxruntime." in text
    assert "####" not in text


def test_a_source_answering_with_the_same_convention_shares_the_entry(tmp_path):
    probes = default_probes()
    probes["tensorflow"] = [probe("tensorflow", "tf.nn", "avg-same", "avg-divisor",
                                  "follows:count_include_pad=False")]
    files = build(*setup(tmp_path, probes=probes)).files
    assert guide(files, "tensorflow", "torch")["values"] == []
    assert guide(files, "jax", "torch")["values"] == ["torch-divides-by-inside-cells"]


def test_the_index_links_every_ordered_pair_once(tmp_path):
    files = build(*setup(tmp_path)).files
    links = re.findall(r"\]\(([a-z]+-to-[a-z]+\.md)\)", files[INDEX])
    pairs = [page(s, t) for s in FRAMEWORKS for t in FRAMEWORKS if s != t]
    assert sorted(links) == sorted(pairs)
    assert set(files) >= {f"{DIRECTORY}/{p}" for p in pairs}
    assert "[1 / 1 / 0](mxnet-to-torch.md)" in files[INDEX]
    assert "[2 / 0 / 0](torch-to-mxnet.md)" in files[INDEX]


def test_every_link_of_a_guide_resolves(tmp_path):
    files = build(*setup(tmp_path)).files
    guides = [p for p in files if p.startswith(DIRECTORY)]
    checked = 0
    for path in guides:
        for target, anchor in re.findall(r"\]\(([^)#:]+)(?:#([^)]*))?\)", files[path]):
            full = posixpath.normpath(posixpath.join(DIRECTORY, target))
            assert full in files, (path, target)
            if anchor:
                assert re.search(rf"^#+ {re.escape(anchor)}$", files[full], re.M), (path, anchor)
                checked += 1
    assert checked >= 3


def test_the_report_and_check_cover_the_guides(tmp_path):
    root, rec, reg = setup(tmp_path)
    files = build(root, rec, reg).files
    assert "(porting/README.md)" in files["docs/discrepancies.md"]
    assert 'href="porting/README.md"' in files["docs/report.html"]
    write(root, files)
    path = root / DIRECTORY / page("mxnet", "torch")
    path.write_text(path.read_text().replace("torch-no-same-pooling", "old-entry"))
    assert set(stale(root, files)) == {f"{DIRECTORY}/{page('mxnet', 'torch')}"}


def test_every_registered_entry_a_guide_can_show_has_a_workaround():
    entries = registry.load(registry.DEFAULT_PATH)
    shown = {e.id: e for s in FRAMEWORKS for t in FRAMEWORKS if s != t
             for found in items(entries, [], s, t).values() for e, _ in found}
    assert len(shown) > len(entries) / 2
    for entry in shown.values():
        workaround = entry.raw.get("workaround", {})
        assert workaround.get("text") or workaround.get("none"), entry.id
