"""reports/discrepancies.json against its JSON Schema (docs/discrepancies.schema.json):
every document the report writes validates, probe ids are unique, each entry says whom it
affects, and the commit it names does not make the committed file stale."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jsonschema
import pytest

from report.__main__ import ROOT, build, stale, write
from tests.report.synthetic import (
    CPU_REGISTRY,
    REGISTRY,
    default_probes,
    probe,
    setup,
    suite_doc,
)

SCHEMA = json.loads((ROOT / "docs" / "discrepancies.schema.json").read_text())
JSON = "reports/discrepancies.json"


def validate(doc: object) -> None:
    jsonschema.validators.validator_for(SCHEMA)(
        SCHEMA, format_checker=jsonschema.FormatChecker()).validate(doc)


def test_the_schema_is_a_valid_draft_2020_12_schema():
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


#: The same API asked the same case on both Keras backends, one column each.
KERAS = [{**probe(b, "keras.layers", "avg-same", "avg-divisor", "follows-oracle"),
          "column": f"keras.layers ({b})"} for b in ("keras-tensorflow", "keras-torch")]


@pytest.mark.parametrize("variant", ["default", "cpu", "problems", "keras"])
def test_every_written_document_validates(tmp_path, variant):
    kwargs: dict = {}
    registry = CPU_REGISTRY if variant == "cpu" else REGISTRY
    if variant == "problems":
        kwargs = {"problems": {"torch": ["unregistered difference: x"]},
                  "suites": {"torch": suite_doc("torch", failed=2)}}
    if variant == "keras":
        probes = default_probes()
        probes.update({"keras-tensorflow": KERAS[:1], "keras-torch": KERAS[1:]})
        kwargs = {"probes": probes}
    root, rec, reg = setup(tmp_path, registry, **kwargs)
    write(root, build(root, rec, reg).files)
    validate(json.loads((root / JSON).read_text()))


def test_the_committed_document_validates():
    validate(json.loads((ROOT / JSON).read_text()))


def test_the_schema_rejects_a_probe_id_without_its_backend(tmp_path):
    root, rec, reg = setup(tmp_path)
    doc = json.loads(build(root, rec, reg).files[JSON])
    doc["probes"]["torch"]["probes"][0]["id"] = "torch.nn.functional.op:avg-same"
    with pytest.raises(jsonschema.ValidationError):
        validate(doc)


def test_probe_ids_are_unique_across_backends(tmp_path):
    probes = default_probes()
    probes.update({"keras-tensorflow": KERAS[:1], "keras-torch": KERAS[1:]})
    assert KERAS[0]["id"] == KERAS[1]["id"]  # the records' ids collide
    root, rec, reg = setup(tmp_path, probes=probes)
    doc = json.loads(build(root, rec, reg).files[JSON])
    ids = [p["id"] for d in doc["probes"].values() for p in d["probes"]]
    assert len(ids) == len(set(ids)) == sum(len(ps) for ps in probes.values())
    cell_ids = [i for c in doc["matrix"]["cells"] for i in c["probes"]]
    assert sorted(cell_ids) == sorted(ids)


def test_each_entry_says_whom_it_affects(tmp_path):
    root, rec, reg = setup(tmp_path)
    doc = json.loads(build(root, rec, reg).files[JSON])
    affects = {d["id"]: d["affects"] for d in doc["discrepancies"]}
    # explained by a probe: that probe's backend and API
    assert affects["torch-divides-by-inside-cells"] == [
        {"backend": "torch", "api": "torch.nn.functional.op", "pass": "forward"}]
    # a suite entry without a probe: its suite backend, with the entry's API
    assert affects["mxnet-ignores-nan"] == [
        {"backend": "mxnet", "api": "mx.nd.Pooling", "pass": "forward"}]
    assert all(d["pass"] == "forward" for d in doc["discrepancies"])


def test_the_metadata_names_the_versions_and_the_commit(tmp_path):
    root, rec, reg = setup(tmp_path)
    doc = json.loads(build(root, rec, reg).files[JSON])
    assert doc["generated"]["commit"] == "unknown"  # not a git checkout
    assert doc["generated"]["versions"]["mxnet"] == {"mxnet": "1.0"}
    assert doc["generated"]["versions"]["numpy"] == {"numpy": "1.0"}
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t",
                    "commit", "-q", "--allow-empty", "-m", "x"], check=True)
    head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], check=True,
                          capture_output=True, text=True).stdout.strip()
    built = build(root, rec, reg)
    assert json.loads(built.files[JSON])["generated"]["commit"] == head


def test_the_commit_alone_does_not_make_the_document_stale(tmp_path):
    root, rec, reg = setup(tmp_path)
    files = build(root, rec, reg).files
    path = Path(root, JSON)
    other = json.loads(files[JSON])
    other["generated"]["commit"] = "0" * 40
    write(root, {**files, JSON: json.dumps(other)})
    assert JSON not in stale(root, files)
    assert JSON not in write(root, files)  # nor rewritten for it
    other["notes"].append("something else")
    path.write_text(json.dumps(other))
    assert JSON in stale(root, files)
