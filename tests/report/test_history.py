"""The history document (report/history.py) from synthetic per-release records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from registry import Entry
from report.__main__ import ROOT, build
from report.history import (
    SCHEMA,
    STATUSES,
    changes,
    entry_status,
    history,
    load,
    load_runs,
    main,
    presence,
)
from tests.report.synthetic import setup

SUITE_ENTRY = Entry(id="torch-suite-entry", backends=("torch",), op="avg_pool",
                    topic="avg-divisor", kind="convention", summary="s")
PROBE_ENTRY = Entry(id="tf-probe-entry", backends=(), op="conv", topic="same-padding",
                    kind="convention", summary="s", probes={"tf.nn": ("conv-same-even",)})
CPU_ENTRY = Entry(id="torch-cpu-entry", backends=("torch",), op="conv", topic="dtypes",
                  kind="deviation", summary="s", cpu=("avx512f",))
RELEASES = {"torch": ["2.13.0", "2.4.1", "2.9.1"], "tensorflow": ["2.17.1", "2.21.0"]}


def suite(**registry: tuple[str, str]) -> dict[str, Any]:
    """Suite records whose registry maps an entry id to (status, reproducer outcome)."""
    return {"schema": "conv-conformance suite records 1",
            "registry": {i: {"status": s, "reproducer": r} for i, (s, r) in registry.items()}}


def probes(verdict: str, entry: str | None) -> dict[str, Any]:
    """Probe records with one probe of tf.nn's conv-same-even case."""
    return {"probes": [{"api": "tf.nn.conv2d", "column": "tf.nn", "case": "conv-same-even",
                        "verdict": verdict, "registry": entry}]}


def ran(suite_doc: dict[str, Any] | None = None, probe_doc: dict[str, Any] | None = None,
        **frameworks: str) -> dict[str, Any]:
    return {"outcome": "ran", "requirements": ["x==1"], "frameworks": frameworks,
            "suite": suite_doc, "probes": probe_doc}


@pytest.mark.parametrize(("status", "reproducer", "expected"), [
    ("reproduced", "reproduced", "reproduces"),
    ("stale", "stale", "absent"),
    ("outside-versions", "stale", "absent"),
    ("not-exercised", "unsupported", "unsupported"),
    ("broken", "broken", "other"),
    ("reproduced", "not-run", "reproduces"),
    ("stale", "not-run", "absent"),
    ("not-exercised", "not-run", "not-run"),
    ("not-on-this-cpu", "not-run", "not-run"),
])
def test_suite_entry_status_follows_the_reproducer_then_the_cases(status, reproducer,
                                                                  expected):
    run = ran(suite(**{SUITE_ENTRY.id: (status, reproducer)}))
    assert entry_status(SUITE_ENTRY, "torch", run) == expected


def test_an_entry_missing_from_the_records_or_a_release_not_run_is_not_run():
    assert entry_status(SUITE_ENTRY, "torch", ran(suite())) == "not-run"
    assert entry_status(SUITE_ENTRY, "torch", None) == "not-run"
    failed = {"outcome": "install-failed", "suite": suite(
        **{SUITE_ENTRY.id: ("reproduced", "reproduced")})}
    assert entry_status(SUITE_ENTRY, "torch", failed) == "not-run"


def test_an_entry_with_a_cpu_condition_is_not_run_even_where_it_reproduced():
    run = ran(suite(**{CPU_ENTRY.id: ("reproduced", "reproduced")}))
    assert entry_status(CPU_ENTRY, "torch", run) == "not-run"


@pytest.mark.parametrize(("verdict", "entry", "expected"), [
    ("follows:same_lower", "tf-probe-entry", "reproduces"),
    ("follows-oracle", None, "absent"),
    ("differs", None, "other"),
])
def test_probe_entry_status_comes_from_the_probes_it_names(verdict, entry, expected):
    assert entry_status(PROBE_ENTRY, "tensorflow", ran(None, probes(verdict, entry))) \
        == expected


def test_document_orders_versions_numerically_and_keeps_only_concerned_backends():
    runs = {
        ("torch", "2.4.1"): ran(suite(**{SUITE_ENTRY.id: ("stale", "stale")}),
                                torch="2.4.1+cu121"),
        ("torch", "2.9.1"): ran(suite(**{SUITE_ENTRY.id: ("reproduced", "reproduced")})),
        ("torch", "2.13.0"): {"outcome": "install-failed", "requirements": ["torch==2.13.0"]},
        ("tensorflow", "2.17.1"): ran(None, probes("follows:same_lower", PROBE_ENTRY.id)),
    }
    doc = history([SUITE_ENTRY, PROBE_ENTRY], RELEASES, runs)
    assert list(doc["releases"]["torch"]) == ["2.4.1", "2.9.1", "2.13.0"]
    assert doc["entries"][SUITE_ENTRY.id] == {
        "torch": {"2.4.1": "absent", "2.9.1": "reproduces", "2.13.0": "not-run"}}
    assert doc["entries"][PROBE_ENTRY.id] == {
        "tensorflow": {"2.17.1": "reproduces", "2.21.0": "not-run"}}
    assert doc["releases"]["torch"]["2.4.1"]["frameworks"] == {"torch": "2.4.1"}
    assert doc["releases"]["torch"]["2.13.0"]["outcome"] == "install-failed"
    assert doc["releases"]["tensorflow"]["2.21.0"]["outcome"] == "not-run"
    statuses = {s for per in doc["entries"].values() for vs in per.values()
                for s in vs.values()}
    assert statuses <= set(doc["statuses"]) == set(STATUSES)


def test_changes_name_the_release_since_and_the_release_fixed_in():
    doc = {"entries": {
        "came": {"torch": {"2.4.1": "absent", "2.9.1": "not-run", "2.13.0": "reproduces"}},
        "went": {"torch": {"2.4.1": "reproduces", "2.9.1": "absent", "2.13.0": "absent"}},
        "kept": {"torch": {"2.4.1": "reproduces", "2.9.1": "unsupported",
                           "2.13.0": "reproduces"}},
        "claim-holds-later": {"keras-torch": {"3.8.0": "other", "3.12.4": "reproduces"}},
        "never": {"torch": {"2.4.1": "absent", "2.9.1": "other", "2.13.0": "absent"}},
    }}
    assert changes(doc) == [
        {"entry": "came", "backend": "torch", "since": "2.13.0", "fixed_in": ""},
        {"entry": "went", "backend": "torch", "since": "", "fixed_in": "2.9.1"},
        {"entry": "claim-holds-later", "backend": "keras-torch", "since": "3.12.4",
         "fixed_in": ""},
    ]


def test_load_runs_and_main_write_the_same_document_twice(tmp_path: Path, capsys):
    records = tmp_path / "records"
    records.mkdir()
    (records / "run-torch-2.4.1.json").write_text(json.dumps(
        {"backend": "torch", "version": "2.4.1", "outcome": "ran", "requirements": [],
         "frameworks": {"torch": "2.4.1"}, "seconds": {"suite": 3}}))
    (records / "suite-torch-2.4.1.json").write_text(json.dumps(suite()))
    runs = load_runs(records, {"torch": ["2.4.1", "2.9.1"]})
    assert list(runs) == [("torch", "2.4.1")]
    assert runs[("torch", "2.4.1")]["probes"] is None
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    assert main([str(records), str(first)]) == 0
    assert main([str(records), str(second)]) == 0
    assert first.read_text() == second.read_text()
    doc = json.loads(first.read_text())
    assert doc["releases"]["torch"]["2.4.1"]["outcome"] == "ran"
    assert "seconds" not in json.dumps(doc)
    assert "torch 2.4.1: ran (suite 3 s)" in capsys.readouterr().out


@pytest.mark.parametrize(("statuses", "expected"), [
    # the claim holds from 2.9.1 on: since 2.9.1
    ({"2.4.1": "absent", "2.9.1": "reproduces", "2.13.0": "reproduces"}, ("2.9.1", "")),
    # fixed in 2.13.0; the release not run between is passed over
    ({"2.4.1": "reproduces", "2.9.1": "not-run", "2.13.0": "absent"}, ("", "2.13.0")),
    # a release that cannot run the case judges nothing
    ({"2.4.1": "unsupported", "2.9.1": "reproduces", "2.13.0": "reproduces"}, ("", "")),
    # came, went and came back: the first of each
    ({"2.4.1": "other", "2.9.1": "reproduces", "2.13.0": "absent", "2.15.0": "reproduces"},
     ("2.9.1", "2.13.0")),
    ({"2.4.1": "not-run", "2.9.1": "not-run"}, ("", "")),
])
def test_presence_finds_since_and_fixed_in(statuses, expected):
    assert presence(statuses) == expected


def test_load_reads_the_committed_document_and_refuses_another(tmp_path: Path):
    assert load(tmp_path) is None
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "history.json").write_text(json.dumps({"schema": "other 1"}))
    with pytest.raises(ValueError, match="history"):
        load(tmp_path)


def test_the_committed_history_is_a_history_document():
    doc = load(ROOT)
    assert doc is not None and doc["schema"] == SCHEMA
    assert set(doc["statuses"]) == set(STATUSES)


#: A history of the synthetic registry (tests/report/synthetic.py): one entry that
#: reproduces from a release on, one fixed in a release, one never judged.
SYNTHETIC_HISTORY = {
    "schema": SCHEMA, "statuses": STATUSES,
    "releases": {b: {v: {"outcome": "ran", "requirements": [f"{b}=={v}"],
                         "frameworks": {b: v}} for v in vs}
                 for b, vs in {"torch": ("2.4.1", "2.9.1", "2.13.0"),
                               "mxnet": ("1.8.0", "1.9.1")}.items()},
    "entries": {
        "mxnet-ignores-nan": {"mxnet": {"1.8.0": "absent", "1.9.1": "reproduces"}},
        "torch-divides-by-inside-cells": {
            "torch": {"2.4.1": "reproduces", "2.9.1": "not-run", "2.13.0": "absent"}},
        "torch-no-same-pooling": {
            "torch": {"2.4.1": "unsupported", "2.9.1": "not-run", "2.13.0": "not-run"}},
        "an-entry-the-registry-dropped": {"torch": {"2.4.1": "absent", "2.9.1": "reproduces",
                                                    "2.13.0": "reproduces"}},
    },
}


def _built(tmp_path: Path, doc: dict[str, Any] | None) -> tuple[dict[str, Any], str]:
    root, rec, reg = setup(tmp_path)
    if doc is not None:
        (root / "reports").mkdir(parents=True, exist_ok=True)
        (root / "reports" / "history.json").write_text(json.dumps(doc))
    files = build(root, rec, reg).files
    report = json.loads(files["reports/discrepancies.json"])
    jsonschema.Draft202012Validator(json.loads(
        (ROOT / "docs" / "discrepancies.schema.json").read_text())).validate(report)
    return {d["id"]: d for d in report["discrepancies"]} | {"": report}, \
        files["docs/discrepancies.md"]


def test_each_entry_carries_its_history_since_and_fixed_in(tmp_path: Path):
    entries, _ = _built(tmp_path, SYNTHETIC_HISTORY)
    came, went, never = (entries[i] for i in ("mxnet-ignores-nan",
                                              "torch-divides-by-inside-cells",
                                              "torch-no-same-pooling"))
    assert came["history"] == {"mxnet": {"1.8.0": "absent", "1.9.1": "reproduces"}}
    assert (came["since"], came["fixed_in"]) == ({"mxnet": "1.9.1"}, {})
    assert (went["since"], went["fixed_in"]) == ({}, {"torch": "2.13.0"})
    assert never["history"]["torch"]["2.4.1"] == "unsupported"
    assert (never["since"], never["fixed_in"]) == ({}, {})
    assert entries[""]["history_releases"]["mxnet"]["1.9.1"] == {
        "outcome": "ran", "frameworks": {"mxnet": "1.9.1"}}


def _section(page: str, entry_id: str) -> str:
    """The Markdown of one entry's section (up to the next heading of any level)."""
    start = page.index(f"#### {entry_id}\n")
    return page[start:page.index("\n#", start + 1)]


def test_the_page_says_since_and_fixed_in(tmp_path: Path):
    _, page = _built(tmp_path, SYNTHETIC_HISTORY)
    assert "| mxnet | 1.8.0 absent; 1.9.1 reproduces | 1.9.1 | — |" \
        in _section(page, "mxnet-ignores-nan")
    assert "| torch | 2.4.1 reproduces; 2.9.1 not-run; 2.13.0 absent | 2.4.1 or earlier " \
           "| 2.13.0 |" in _section(page, "torch-divides-by-inside-cells")
    # a release that only declined the case, or was not run, judges nothing: no row
    assert "Across releases" not in _section(page, "torch-no-same-pooling")
    history_section = page[page.index("\n## History"):]
    assert "[mxnet-ignores-nan](#mxnet-ignores-nan) | mxnet | 1.9.1 | — |" in history_section
    assert "| torch | 2.4.1; 2.9.1; 2.13.0 |" in history_section
    # an entry the registry no longer has is not listed
    assert "an-entry-the-registry-dropped" not in page


def test_without_a_history_the_page_has_no_history_and_entries_an_empty_one(tmp_path: Path):
    entries, page = _built(tmp_path, None)
    assert "## History" not in page and "Across releases" not in page
    assert entries["mxnet-ignores-nan"]["history"] == {}
    assert entries[""]["history_releases"] == {}
