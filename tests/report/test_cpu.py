"""The committed files do not depend on the machine: what depends on the CPU (probes and
registry entries with a CPU condition, Unsupported reasons "on this CPU") and the counts are
left out of them, and go to reports/evidence.md and the printed count table instead."""

from __future__ import annotations

import json
from html import escape

import pytest

from report.__main__ import build, main
from report.matrix import CLASSES, LABELS
from report.model import MARKER
from report.records import EVIDENCE, condition
from report.render import COLOURS
from tests.report.synthetic import (
    CPU_CASE,
    CPU_COLUMN,
    CPU_PROBE_ENTRY,
    CPU_REGISTRY,
    CPU_SUITE_ENTRY,
    default_probes,
    probe,
    setup,
    suite_doc,
)

VERDICTS = ("follows-oracle", "follows:same_lower", "differs", "unsupported", "raises",
            "crashes")
RAISED = {"exception": {"type": "RuntimeError", "module": "builtins",
                        "message": "a kernel only some instruction sets pick"}}
GAVE = {"dtype": "float32", "shape": [1, 1, 2], "values": [17.0, 91.0],
        "printed": "(1, 1, 2) float32 [17.0, 91.0]"}


def _probes(verdict: str, observed: dict, registry: str | None) -> dict:
    probes = default_probes()
    probes["torch"].append(probe("torch", CPU_COLUMN, CPU_CASE, "bad-input", verdict,
                                 registry, observed))
    return probes


def _tensorflow(status: str, **extra) -> dict:
    doc = suite_doc("tensorflow", {CPU_SUITE_ENTRY: status})
    doc["registry"][CPU_SUITE_ENTRY].update(extra)
    return doc


def _build(tmp_path, name, **records):
    root, rec, reg = setup(tmp_path / name, CPU_REGISTRY, **records)
    return build(root, rec, reg, cpuinfo=tmp_path / "no-cpuinfo")


@pytest.mark.parametrize(("cpu", "words"), [
    (["amx_bf16"], "CPUs with AMX_BF16"),
    ([["avx512_vnni", "avx_vnni", "amx_tile"]], "CPUs with AVX512_VNNI, AVX_VNNI or AMX_TILE"),
    (["!avx512_vnni", "!amx_tile"], "CPUs without AVX512_VNNI or AMX_TILE"),
    (["avx512f", "!amx_bf16"], "CPUs with AVX512F and without AMX_BF16"),
    ([["avx512f", "!amx_bf16"]], "CPUs with AVX512F or without AMX_BF16"),
])
def test_a_cpu_condition_in_words(cpu, words):
    assert condition(cpu) == words


@pytest.mark.parametrize("verdict", VERDICTS)
def test_a_probe_that_depends_on_the_cpu_gives_the_same_files_whatever_it_observed(
        tmp_path, verdict):
    # where the entry applies the probe is linked to it; elsewhere it follows the oracle
    here = _build(tmp_path, "here", probes=_probes("follows-oracle", GAVE, None))
    there = _build(tmp_path, "there", probes=_probes(
        verdict, RAISED, None if verdict == "follows-oracle" else CPU_PROBE_ENTRY))
    assert here.problems == there.problems == []
    assert here.files == there.files
    for text in here.files.values():
        assert "17, 91" not in text
        assert "[17.0, 91.0]" not in text


def test_a_probe_that_depends_on_the_cpu_has_its_own_class_code_and_entry(tmp_path):
    built = _build(tmp_path, "a", probes=_probes("raises", RAISED, CPU_PROBE_ENTRY))
    doc = json.loads(built.files["reports/discrepancies.json"])
    record = next(p for p in doc["probes"]["torch"]["probes"] if p["case"] == CPU_CASE)
    assert record["verdict"] == MARKER
    assert record["registry"] == CPU_PROBE_ENTRY
    assert "depends_on_cpu" in record["observed"]
    assert "RuntimeError" not in json.dumps(record)
    assert record["code"] and record["candidates"]["oracle"]
    cell = next(c for c in doc["matrix"]["cells"]
                if c["topic"] == "bad-input" and c["column"] == CPU_COLUMN)
    assert cell["class"] == MARKER
    entry = next(d for d in doc["discrepancies"] if d["id"] == CPU_PROBE_ENTRY)
    assert entry["probes"] == [record["id"]]
    assert entry["shown_by_records"] is None
    markdown = built.files["docs/discrepancies.md"]
    assert "CPUs with AVX512_VNNI or AMX_TILE" in markdown
    assert "a kernel only some instruction sets pick" not in markdown
    assert record["code"] in markdown


def test_the_heat_map_has_a_colour_and_a_legend_entry_per_class(tmp_path):
    built = _build(tmp_path, "a", probes=_probes("raises", RAISED, CPU_PROBE_ENTRY))
    page = built.files["docs/report.html"]
    svg = page[page.index("<svg"):page.index("</svg>")]
    assert set(COLOURS) == set(CLASSES)
    assert len(set(COLOURS.values())) == len(CLASSES)
    for c in CLASSES:
        assert f'fill="{COLOURS[c]}"' in svg
        assert escape(LABELS[c].split(" (")[0]) in svg


def test_a_suite_entry_with_a_cpu_condition_gives_the_same_files_on_every_cpu(tmp_path):
    here = _build(tmp_path, "here", suites={"tensorflow": _tensorflow(
        "not-on-this-cpu", cpu_missing=["!avx512f"], reproducer="not-run")})
    there = _build(tmp_path, "there", suites={"tensorflow": _tensorflow("reproduced")})
    assert here.files == there.files
    assert "not-on-this-cpu" not in here.files["docs/discrepancies.md"]
    assert "CPUs without AVX512F" in here.files["docs/discrepancies.md"]
    assert not any(n.startswith(CPU_SUITE_ENTRY) for n in here.notes)
    assert any("| not-on-this-cpu |" in line for line in _lines(here.evidence, CPU_SUITE_ENTRY))
    assert any("| reproduced |" in line for line in _lines(there.evidence, CPU_SUITE_ENTRY))


def _lines(text: str, word: str) -> list[str]:
    return [line for line in text.splitlines() if word in line]


def test_a_stale_entry_with_a_cpu_condition_is_still_a_problem(tmp_path):
    built = _build(tmp_path, "a", suites={"tensorflow": _tensorflow("stale")})
    assert any(CPU_SUITE_ENTRY in p and "stale" in p for p in built.problems)
    assert "## Problems" in built.files["docs/discrepancies.md"]


def _counted(passed: int, cases: int, reasons: list[dict]) -> dict:
    doc = suite_doc("mxnet", {"mxnet-ignores-nan": "reproduced"})
    doc["counts"].update(passed=passed, unsupported=sum(r["count"] for r in reasons))
    doc["cases_checked"] = {"conv": cases, "max_pool": cases + 1, "avg_pool": cases + 2}
    doc["unsupported"] = {"conv": reasons}
    doc["registry"]["mxnet-ignores-nan"]["cases"]["matched"] = cases + 3
    return doc


ORDINARY = "mx.nd.Convolution has no 'same_lower' padding"
ON_THIS_CPU = "mx.nd.Convolution has no bfloat16 kernel on this CPU (its oneDNN has none)"


def test_counts_are_not_in_the_committed_files(tmp_path):
    few = _build(tmp_path, "few", suites={"mxnet": _counted(48611, 7321, [
        {"reason": ORDINARY, "count": 6029}])})
    many = _build(tmp_path, "many", suites={"mxnet": _counted(50177, 8467, [
        {"reason": ORDINARY, "count": 9043}])})
    assert few.files == many.files
    for text in few.files.values():
        for number in ("48611", "7321", "7322", "7323", "7324", "6029"):
            assert number not in text
    assert ORDINARY in few.files["docs/discrepancies.md"]


def test_a_reason_that_depends_on_the_cpu_is_not_in_the_committed_files(tmp_path):
    ordinary = {"reason": ORDINARY, "count": 3}
    with_it = _build(tmp_path, "with", suites={"mxnet": _counted(
        10, 20, [ordinary, {"reason": ON_THIS_CPU, "count": 4}])})
    without = _build(tmp_path, "without", suites={"mxnet": _counted(10, 20, [ordinary])})
    assert with_it.files == without.files
    for text in with_it.files.values():
        assert "bfloat16 kernel" not in text
    assert ON_THIS_CPU in with_it.evidence


def test_the_evidence_holds_the_counts_and_check_ignores_it(tmp_path, monkeypatch, capsys):
    root, rec, reg = setup(tmp_path, CPU_REGISTRY, suites={"mxnet": _counted(
        48611, 7321, [{"reason": ON_THIS_CPU, "count": 6029}])})
    monkeypatch.setenv("CONFORMANCE_REGISTRY", str(reg))
    assert main(["build", "--root", str(root), "--records", str(rec)]) == 0
    out = capsys.readouterr().out
    mxnet_row = next(line for line in out.splitlines() if line.startswith("mxnet"))
    assert mxnet_row.split()[1:] == ["48611", "1", "6029", str(7321 * 3 + 3)]
    evidence = (root / EVIDENCE).read_text()
    for number in ("48611", "7321", "7322", "7323", "7324", "6029"):
        assert number in evidence
    assert EVIDENCE not in build(root, rec, reg).files
    (root / EVIDENCE).write_text("anything\n")
    assert main(["check", "--root", str(root), "--records", str(rec)]) == 0


def test_the_evidence_names_this_machines_cpu_flags(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx512f amx_tile\n")
    root, rec, reg = setup(tmp_path, CPU_REGISTRY)
    evidence = build(root, rec, reg, cpuinfo=cpuinfo).evidence
    rows = {line.split("|")[1].strip(): line.split("|")[2].strip()
            for line in evidence.splitlines() if line.startswith("| A")}
    assert rows == {"AVX512F": "yes", "AMX_TILE": "yes", "AVX512_VNNI": "no"}
    assert "sse2" not in evidence.lower()
