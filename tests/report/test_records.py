"""Loading the records: missing and malformed files, machine fields, problems."""

from __future__ import annotations

import json

import pytest

from report.records import MissingRecords, RecordsError, load, problems
from tests.report.synthetic import suite_doc, write_records


def test_missing_records_name_each_file_and_the_session_that_writes_it(tmp_path):
    rec = write_records(tmp_path / "records")
    (rec / "probes-keras-torch.json").unlink()
    (rec / "suite-numpy.json").unlink()
    with pytest.raises(MissingRecords) as info:
        load(rec)
    text = str(info.value)
    assert "probes-keras-torch.json" in text
    assert "suite-numpy.json" in text
    assert "nox -s \"keras(keras_backend='torch')\"" in text
    assert "suite-torch.json" not in text
    assert {b for _, b in info.value.missing} == {"keras-torch", "numpy"}


def test_a_wrong_schema_is_malformed(tmp_path):
    rec = write_records(tmp_path / "records")
    doc = json.loads((rec / "suite-torch.json").read_text())
    doc["schema"] = "something else"
    del doc["counts"]
    (rec / "suite-torch.json").write_text(json.dumps(doc))
    with pytest.raises(RecordsError, match=r"suite-torch\.json") as info:
        load(rec)
    assert "'counts'" in str(info.value)


def test_machine_fields_are_left_out(tmp_path):
    evidence = load(write_records(tmp_path / "records"))
    assert all("python" not in doc for doc in evidence.suites.values())


def test_problems_of_suites_and_probes_are_collected(tmp_path):
    torch_doc = suite_doc("torch", {"gone": "stale", "kept": "reproduced"}, failed=2)
    torch_doc["unregistered"] = [{"test": "t::x", "op": "conv", "difference": "off by one\n..",
                                  "cases": 1}]
    rec = write_records(tmp_path / "records", suites={"torch": torch_doc},
                        problems={"mxnet": ["stale: registry entry 'e' no longer reproduces"]})
    found = problems(load(rec), {"kept", "mxnet-ignores-nan", "torch-divides-by-inside-cells",
                                 "torch-no-same-pooling"})
    text = "\n".join(found)
    assert "suite on torch 1.0: 2 failed" in text
    assert "'gone' no longer reproduces" in text
    assert "'gone', which does not exist" in text
    assert "t::x (conv): off by one" in text
    assert "probes on mxnet: stale: registry entry 'e'" in text
    assert not any("'kept'" in p for p in found)


def test_clean_records_have_no_problems(tmp_path):
    evidence = load(write_records(tmp_path / "records"))
    ids = {"mxnet-ignores-nan", "torch-divides-by-inside-cells", "torch-no-same-pooling"}
    assert problems(evidence, ids) == []
