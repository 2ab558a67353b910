"""Version bounds of registry entries: parsing, matching, validation and what the suite
records for an entry outside its bounds."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import registry
from registry.versions import bound_problem, release, satisfies
from tests.support.records import Records

ENTRY = textwrap.dedent("""
    [[discrepancy]]
    id = "bounded"
    backends = ["torch"]
    frameworks = ["torch"]
    api = "torch.nn.functional.avg_pool2d"
    op = "avg_pool"
    topic = "avg-divisor"
    kind = "convention"
    summary = "s"
    description = "d"
    source = "https://example.org/bounded"
    behaves_as = { count_include_pad = false }
    workaround = { none = "a test double" }
""")


@pytest.mark.parametrize(("version", "bound", "expected"), [
    ("2.9.1", ">=2.9", True),
    ("2.4.1", ">=2.9", False),
    ("2.9", ">=2.9.0", True),
    ("2.13.0+cpu", "<2.13", False),
    ("2.13.0+cpu", ">=2.9, <2.15", True),
    ("2.15.0", ">=2.9, <2.15", False),
    ("1.8.0.post0", "==1.8", True),
    ("1.9.1", "!=1.9.1", False),
    ("2.10.0", ">2.9.9", True),
    ("unknown", "<1", True),
])
def test_satisfies_compares_release_numbers(version, bound, expected):
    assert satisfies(version, bound) is expected


def test_release_ignores_local_and_post_parts():
    assert release("2.13.0+cpu") == (2, 13, 0)
    assert release("1.8.0.post0") == (1, 8, 0)
    assert release("nightly") is None


@pytest.mark.parametrize("bound", ["", "2.9", ">=2.x", "=>2.9", ">=2.9;<3", 2.9])
def test_malformed_bounds_are_named(bound):
    assert bound_problem(bound) is not None
    with pytest.raises(ValueError):
        satisfies("2.9", bound)  # type: ignore[arg-type]


def test_entry_outside_versions_names_the_bounds_not_met(tmp_path: Path):
    path = tmp_path / "r.toml"
    path.write_text(ENTRY + 'versions = { torch = ">=2.9", keras = "<3.9" }\n')
    (entry,) = registry.load(path)
    assert entry.outside_versions({"torch": "2.4.1+cu121"}) == ("torch >=2.9",)
    assert entry.outside_versions({"torch": "2.9.1", "keras": "3.12.4"}) == ("keras <3.9",)
    assert entry.outside_versions({"torch": "2.13.0", "keras": "3.8.0"}) == ()
    assert entry.outside_versions({}) == ()


@pytest.mark.parametrize(("versions", "problem"), [
    ('{ torhc = ">=2.9" }', "unknown framework 'torhc'"),
    ('{ torch = "2.9" }', "each clause is an operator"),
    ('">=2.9"', "versions must map framework names"),
])
def test_the_loader_rejects_malformed_versions(tmp_path: Path, versions, problem):
    path = tmp_path / "r.toml"
    path.write_text(ENTRY + f"versions = {versions}\n")
    with pytest.raises(registry.RegistryError, match=problem):
        registry.load(path)


def test_records_give_an_entry_outside_its_bounds_its_own_status():
    records = Records("torch", "2.4.1", ["bounded", "plain"],
                      outside={"bounded": ("torch >=2.9",)})
    records.add_reproducer("bounded", "stale")
    doc = records.as_dict()["registry"]
    assert doc["bounded"]["status"] == "outside-versions"
    assert doc["bounded"]["versions_not_met"] == ["torch >=2.9"]
    assert doc["bounded"]["reproducer"] == "stale"
    assert "versions_not_met" not in doc["plain"]
    assert doc["plain"]["status"] == "not-exercised"
