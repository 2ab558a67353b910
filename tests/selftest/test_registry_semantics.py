"""The registry's semantics, checked on broken backends: matching, behaves_as, stale,
excluded, unregistered, and the strict expected failure of reproducers end to end."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import registry
from tests.support import strategies as sts
from tests.support.broken import avg_divisor_ignores_padding, healed_avg_divisor
from tests.support.checks import Suite, check_case, check_reproducer
from tests.support.records import Records

ROOT = Path(__file__).resolve().parents[2]

ENTRY_TOML = textwrap.dedent("""
    [[discrepancy]]
    id = "broken-avg-divisor-excludes-padding"
    backends = ["broken-avg-divisor"]
    frameworks = ["broken"]
    api = "tests.support.broken.AvgDivisorIgnoresPadding.avg_pool"
    op = "avg_pool"
    topic = "avg-divisor"
    kind = "convention"
    summary = "divides by the cells inside the input"
    description = "A test double."
    source = "https://example.org/broken"
    when = { count_include_pad = true, padded = true }
    behaves_as = { count_include_pad = false }
    reproducer = { x_shape = [1, 1, 3, 3], params = { kernel_size = 2, stride = 2, padding = 1 } }
""")

PADDED_AVG = sts.Case(op="avg_pool", x_shape=(1, 2, 5, 4),
                      params={"kernel_size": 3, "stride": 2, "padding": 1}, dtype="float32",
                      fill="exact", seed=3, label="padded-avg")


def _entries(tmp_path: Path, text: str = ENTRY_TOML) -> list[registry.Entry]:
    path = tmp_path / "registry.toml"
    path.write_text(text)
    return registry.load(path)


def _suite(backend, entries) -> Suite:
    return Suite(backend, backend.name, backend.version, "tests.support.broken:x", entries,
                 Records(backend.name, backend.version, [e.id for e in entries]))


FACTS = {"dtype": "float16", "kernel": (2, 3), "stride": (1, 2), "padding": "same",
         "groups": 1, "ceil_mode": False}


@pytest.mark.parametrize(("when", "expected"), [
    ({}, True),
    ({"dtype": "float16"}, True),
    ({"dtype": ["bfloat16", "float16"]}, True),
    ({"dtype": "float32"}, False),
    ({"kernel": "even"}, True),
    ({"kernel": {"all": "even"}}, False),
    ({"stride": {"min": 2}}, True),
    ({"stride": {"all": {"min": 2}}}, False),
    ({"padding": {"not": "valid"}}, True),
    ({"ceil_mode": True}, False),
    ({"ceil_mode": False, "groups": 1}, True),
    ({"groups": False}, False),
    ({"count_include_pad": True}, False),
])
def test_when_vocabulary(when, expected):
    assert registry.matches(when, FACTS) is expected


@pytest.mark.parametrize(("edit", "message"), [
    (("op = \"avg_pool\"", "op = \"avgpool\""), "op must be one of"),
    (("topic = \"avg-divisor\"", "topic = \"divisor\""), "topic must be one of"),
    (("padded = true", "padded_ = true"), "unknown fact"),
    (("padded = true", "groups = 1"), "avg_pool cases have no fact 'groups'"),
    (("count_include_pad = false }", "include_pad = false }"), "not an argument"),
    (("source = \"https://example.org/broken\"", "source = \"somewhere\""), "must be a URL"),
    (("summary = ", "summery = "), "missing key 'summary'"),
])
def test_malformed_entries_are_rejected(tmp_path, edit, message):
    with pytest.raises(registry.RegistryError, match=message):
        _entries(tmp_path, ENTRY_TOML.replace(*edit))


@pytest.mark.parametrize(("cpu", "flags", "unmet"), [
    ('["avx512f"]', {"avx2", "avx512f"}, ()),
    ('["avx512f"]', {"avx2"}, ("avx512f",)),
    ('["!avx512f"]', {"avx2"}, ()),
    ('["!avx512f"]', {"avx512f"}, ("!avx512f",)),
    ('[["avx_vnni", "amx_tile"]]', {"amx_tile"}, ()),
    ('[["avx_vnni", "amx_tile"]]', {"avx2"}, ("avx_vnni or amx_tile",)),
    ('["avx2", "!avx512f"]', {"avx2", "avx512f"}, ("!avx512f",)),
    ('["avx2"]', None, ("avx2",)),  # flags unknown: a CPU-specific entry does not apply
])
def test_cpu_requirements(tmp_path, cpu, flags, unmet):
    (entry,) = _entries(tmp_path, ENTRY_TOML + f"cpu = {cpu}\n")
    assert entry.missing_cpu_flags(None if flags is None else frozenset(flags)) == unmet


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f\n\nprocessor\t: 1\n")
    assert registry.cpu_flags(info) == frozenset({"fpu", "avx2", "avx512f"})
    assert registry.cpu_flags(tmp_path / "missing") is None


def test_malformed_cpu_requirement_is_rejected(tmp_path):
    with pytest.raises(registry.RegistryError, match="cpu must be a list"):
        _entries(tmp_path, ENTRY_TOML + 'cpu = "avx512f"\n')


def test_duplicate_ids_are_rejected(tmp_path):
    with pytest.raises(registry.RegistryError, match="duplicate id"):
        _entries(tmp_path, ENTRY_TOML + ENTRY_TOML)


def test_unregistered_difference_fails(tmp_path):
    suite = _suite(avg_divisor_ignores_padding, [])
    with pytest.raises(AssertionError, match="UNREGISTERED DIFFERENCE"):
        check_case(suite, PADDED_AVG)
    assert suite.records.unregistered


def test_registered_behaviour_passes_and_is_counted(tmp_path):
    entries = _entries(tmp_path)
    suite = _suite(avg_divisor_ignores_padding, entries)
    assert check_case(suite, PADDED_AVG) == "registered"
    assert suite.records.entries[entries[0].id]["reproduced"] == 1
    # a case outside `when` is judged against the default, and agrees
    assert check_case(suite, PADDED_AVG.with_params(padding=0)) == "passed"


def test_stale_entry_fails_naming_it(tmp_path):
    entries = _entries(tmp_path)
    suite = _suite(healed_avg_divisor, entries)
    with pytest.raises(AssertionError, match=f"STALE REGISTRY ENTRY {entries[0].id}.* 1 "):
        check_case(suite, PADDED_AVG)
    assert suite.records.entry_status(entries[0].id) == "stale"


def test_entry_without_behaves_as_excludes(tmp_path):
    entries = _entries(tmp_path, ENTRY_TOML.replace(
        "behaves_as = { count_include_pad = false }\n",
        'claim = { excluded = "values that follow no convention" }\n'))
    suite = _suite(avg_divisor_ignores_padding, entries)
    assert check_case(suite, PADDED_AVG) == "excluded"
    assert suite.records.entries[entries[0].id]["excluded"] == 1


def test_reproducer_reproduces_then_goes_stale(tmp_path):
    entry = _entries(tmp_path)[0]
    broken = _suite(avg_divisor_ignores_padding, [entry])
    with pytest.raises(AssertionError, match="reproduces"):
        check_reproducer(broken, entry)
    assert broken.records.entry_status(entry.id) == "reproduced"
    healed = _suite(healed_avg_divisor, [entry])
    check_reproducer(healed, entry)
    assert healed.records.entry_status(entry.id) == "stale"


def test_reproducer_default_fill_is_arange():
    entry = registry.Entry(id="e", backends=(), op="conv", topic="groups", kind="convention",
                           summary="", reproducer={"x_shape": [1, 2, 3], "b": True})
    call = registry.reproducer_call(entry, sts.numpy_dtype)
    np.testing.assert_array_equal(call.arrays["x"].ravel(), np.arange(1, 7))
    assert call.arrays["w"].shape == (1, 2, 1)
    np.testing.assert_array_equal(call.arrays["b"], [1])


def _run(backend: str, registry_path: Path, records: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "tests/conformance/test_avg_pool.py",
         "tests/conformance/test_registry.py", f"--backend={backend}",
         f"--records={records}", "--hypothesis-profile=ci", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT, env={**os.environ, "CONFORMANCE_REGISTRY": str(registry_path)},
        capture_output=True, text=True, timeout=600, check=False)


def test_end_to_end_registered_then_stale(suite, tmp_path):
    if suite.name != "numpy":
        pytest.skip("the self-test runs in the numpy session (it does not depend on the backend)")
    import json

    path = tmp_path / "registry.toml"
    path.write_text(ENTRY_TOML)
    rec = tmp_path / "records.json"
    broken = _run("tests.support.broken:avg_divisor_ignores_padding", path, rec)
    assert broken.returncode == 0, (broken.stdout + broken.stderr)[-3000:]
    data = json.loads(rec.read_text())
    entry = data["registry"]["broken-avg-divisor-excludes-padding"]
    assert entry["status"] == "reproduced" and entry["reproducer"] == "reproduced", data
    assert data["counts"]["xfailed"] >= 1 and data["counts"]["failed"] == 0, data
    healed = _run("tests.support.broken:healed_avg_divisor", path, rec)
    assert healed.returncode == 1, (healed.stdout + healed.stderr)[-3000:]
    assert "XPASS(strict)" in healed.stdout and "STALE" in healed.stdout, healed.stdout[-3000:]
    data = json.loads(rec.read_text())
    assert data["registry"]["broken-avg-divisor-excludes-padding"]["status"] == "stale", data
