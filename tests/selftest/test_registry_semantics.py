"""The registry's semantics, checked on test doubles: loading and validation, ``when``
matching, every claim form (values with overrides and each value model, result dtype,
accumulation dtype, raises with match, unsupported with match, excluded), what a matched
case counts as, stale detection for each form, unregistered differences, and the strict
expected failure of reproducers (in process and end to end)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import registry
from backends.numpy_backend import backend as numpy_backend
from reference.dtypes import numpy_dtype
from tests.support import broken
from tests.support import strategies as sts
from tests.support.broken import avg_divisor_ignores_padding, healed_avg_divisor
from tests.support.checks import ClaimBroken, Suite, check_arrays, check_case, check_reproducer
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
    (("behaves_as = { count_include_pad = false }\n", ""), "needs a claim"),
    (("behaves_as = { count_include_pad = false }\n", 'claim = { values = ["nan-dropped"] }\n'),
     "unknown value model 'nan-dropped'"),
    (("behaves_as = { count_include_pad = false }\n",
      'claim = { raises = "RuntimeError", excluded = "why" }\n'), "one form only"),
    (("behaves_as = { count_include_pad = false }\n",
      'claim = { excluded = "why", match = "x" }\n'), "match belongs to"),
    (("behaves_as = { count_include_pad = false }\n",
      'claim = { raises = "RuntimeError", match = "(" }\n'), "not a regular expression"),
    (("behaves_as = { count_include_pad = false }\n", 'claim = { raise = "RuntimeError" }\n'),
     "claim: unknown key 'raise'"),
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


@pytest.mark.parametrize(("workaround", "message"), [
    ('{ text = "Pad first.", code = "y = f(x" }', "code is not valid Python"),
    ('{ text = "Pad first.", none = "why" }', "either text .and optionally code. or none"),
    ('{ code = "y = f(x)" }', "either text .and optionally code. or none"),
    ('{ none = "why", code = "y = f(x)" }', "none takes no code"),
    ('{ text = "" }', "text must be non-empty text"),
    ('{ txt = "Pad first." }', "unknown key 'txt'"),
    ('"Pad first."', "workaround must be a table"),
    (None, "a framework of the report needs a workaround"),
])
def test_malformed_workarounds_are_rejected(tmp_path, workaround, message):
    with pytest.raises(registry.RegistryError, match=message):
        _entries(tmp_path, ENTRY_TOML.replace('["broken"]', '["torch"]') if workaround is None
                 else ENTRY_TOML + f"workaround = {workaround}\n")


def test_a_workaround_is_text_with_code_or_why_there_is_none(tmp_path):
    for workaround in ('{ text = "Pad first.", code = """\ny = f(x)\n""" }',
                       '{ text = "Pad first." }', '{ none = "No flag keeps NaN." }'):
        (entry,) = _entries(tmp_path, ENTRY_TOML + f"workaround = {workaround}\n")
        assert set(entry.raw["workaround"]) <= {"text", "code", "none"}


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


def test_an_entry_without_claim_may_only_inform_probes(tmp_path):
    """Without backends (probes and the report only) an entry needs no claim."""
    text = ENTRY_TOML.replace("behaves_as = { count_include_pad = false }\n", "").replace(
        'backends = ["broken-avg-divisor"]', "backends = []")
    (entry,) = _entries(tmp_path, text)
    assert entry.claim is None and entry.behaves_as is None


def test_excluded_claim_is_counted_apart(tmp_path):
    entries = _entries(tmp_path, ENTRY_TOML.replace(
        "behaves_as = { count_include_pad = false }\n",
        'claim = { excluded = "values follow no convention" }\n'))
    assert entries[0].claim.form == "excluded"
    suite = _suite(avg_divisor_ignores_padding, entries)
    assert check_case(suite, PADDED_AVG) == "excluded"
    assert suite.records.entries[entries[0].id]["excluded"] == 1
    assert suite.records.excluded["avg_pool"] == 1
    assert suite.records.checked["avg_pool"] == 0  # excluded is not compared
    assert suite.records.total_compared() == 0


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
    call = registry.reproducer_call(entry)
    np.testing.assert_array_equal(call.arrays["x"].ravel(), np.arange(1, 7))
    assert call.arrays["w"].shape == (1, 2, 1)
    np.testing.assert_array_equal(call.arrays["b"], [1])


def _run(backend: str, registry_path: Path, records: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest",
         "tests/conformance/test_avg_pool.py::test_avg_pool_matches_oracle",
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


# ------------------------------------------------------------------- claim forms
def _toml(value: Any) -> str:
    """``value`` as a TOML value (inline tables and arrays; NaN and ±inf as TOML spells
    them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, float):
        return "nan" if np.isnan(value) else ("inf" if value == np.inf else
                                              "-inf" if value == -np.inf else repr(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    return "[" + ", ".join(_toml(v) for v in value) + "]"


def _entry_toml(ident: str, backend: str, op: str, when: Mapping[str, Any],
                claim: Mapping[str, Any], call: Call | None = None) -> str:
    lines = ["[[discrepancy]]", f"id = {_toml(ident)}", f"backends = [{_toml(backend)}]",
             'frameworks = ["broken"]', 'api = "tests.support.broken"', f"op = {_toml(op)}",
             'topic = "nan-inf"', 'kind = "convention"', 'summary = "a test double"',
             'description = "A test double."', 'source = "https://example.org/broken"',
             f"when = {_toml(when)}", f"claim = {_toml(claim)}"]
    if call is not None:
        lines.append("reproducer = " + _toml({
            "x_shape": list(call.x.shape), "x": [float(v) for v in call.x.ravel()],
            **({"w_shape": list(call.w.shape), "w": [float(v) for v in call.w.ravel()]}
               if call.w is not None else {}),
            **({"b": [float(v) for v in call.b]} if call.b is not None else {}),
            "params": dict(call.params), "dtype": call.dtype}))
    return "\n".join(lines) + "\n"


class Call:
    """One literal call: op, x (and w, b), keyword arguments, dtype name."""

    def __init__(self, op: str, x: Any, params: Mapping[str, Any], dtype: str = "float32",
                 w: Any = None, b: Any = None) -> None:
        self.op, self.params, self.dtype = op, dict(params), dtype
        self.x = np.asarray(x, dtype=np.float64).astype(numpy_dtype(dtype))
        self.w = None if w is None else np.asarray(w, np.float64).astype(numpy_dtype(dtype))
        self.b = None if b is None else np.asarray(b, np.float64).astype(numpy_dtype(dtype))

    @property
    def arrays(self) -> dict[str, Any]:
        return {"x": self.x} if self.op != "conv" else {"x": self.x, "w": self.w, "b": self.b}

    def check(self, suite: Suite) -> str:
        return check_arrays(suite, self.op, self.arrays, self.params, self.dtype)


NAN, INF = float("nan"), float("inf")
_RNG = np.random.default_rng(5)
#: 256 float16 values of one sign: a sum in float16 drifts far beyond the float32 bound.
LONG_ROW = -(0.5 + _RNG.random((1, 1, 256)))

# form name: (double, when, claim, a call the double answers as claimed, unlike the oracle)
FORMS: dict[str, tuple[Any, dict[str, Any], dict[str, Any], Call]] = {
    "overrides": (avg_divisor_ignores_padding, {"padded": True},
                  {}, Call("avg_pool", np.arange(1, 16).reshape(1, 1, 3, 5),
                           {"kernel_size": 3, "stride": 2, "padding": 1})),
    "nan-skipped": (broken.max_pool_ignores_nan, {"has_nan": True},
                    {"values": ["nan-skipped"]},
                    Call("max_pool", [[[1, NAN, 3, 2, NAN, 0]]], {"kernel_size": 2})),
    "neg-inf-lowest": (broken.MaxPoolLowestStart(), {"has_inf": True},
                       {"values": ["neg-inf-lowest"]},
                       Call("max_pool", [[[-INF, -INF, 1, 2]]], {"kernel_size": 2})),
    "neg-inf-maybe-lowest": (broken.MaxPoolLowestStart(), {"has_inf": True},
                             {"values": ["neg-inf-maybe-lowest"]},
                             Call("max_pool", [[[-INF, -INF, 1, 2]]], {"kernel_size": 2})),
    "input-channels-empty": (broken.ConvEmptyChannelsOut(), {"channels": 0},
                             {"values": ["input-channels-empty"]},
                             Call("conv", np.zeros((1, 0, 3)), {"padding": 1},
                                  w=np.zeros((2, 0, 1)))),
    "may-be-nan": (broken.ConvNanAcrossGroups(), {"has_nan": True},
                   {"values": ["may-be-nan"]},
                   Call("conv", [[[1.0], [NAN], [2.0]]], {"groups": 3},
                        w=[[[2.0]], [[3.0]], [[4.0]]])),
    "nan-skipped-or-propagated": (broken.MaxPoolNanPerChannel(), {"has_nan": True},
                                  {"values": ["nan-skipped-or-propagated"]},
                                  Call("max_pool", [[[1, NAN, 2, 3], [NAN, 4, 5, 6]]],
                                       {"kernel_size": 2})),
    "int-truncated": (broken.IntAvgTruncates(), {"dtype": "int64"},
                      {"values": ["int-truncated"]},
                      Call("avg_pool", [[[-5, 0, 0, 5, 0, 0]]], {"kernel_size": 3},
                           "int64")),
    "edge-replicated": (broken.AvgEdgeReplicated(), {"padded": True},
                        {"values": ["edge-replicated"]},
                        Call("avg_pool", [[[1, 2, 3, 4, 5]]],
                             {"kernel_size": 3, "stride": 1, "padding": 1})),
    "zero-padding": (broken.max_pool_zero_padding, {"padded": True},
                     {"values": ["zero-padding"]},
                     Call("max_pool", [[[-1, -2, -3, -4]]],
                          {"kernel_size": 3, "stride": 1, "padding": 1})),
    "same-unclamped": (broken.MaxPoolSameUnclamped1d(), {"padding": "same", "gap": {"min": 1}},
                       {"values": ["same-unclamped"]},
                       Call("max_pool", [[[1, 2, 3, 4, 5, 6, 7]]],
                            {"kernel_size": 1, "stride": 4, "padding": "same"})),
    "same-reversed-pads": (broken.MaxPoolSameReversed2d(), {"padding": "same"},
                           {"values": ["same-reversed-pads"]},
                           Call("max_pool", np.arange(1, 17).reshape(1, 1, 4, 4),
                                {"kernel_size": (3, 2), "padding": "same"})),
    "full-convention": (broken.MaxPoolFullCeil1d(), {"ceil_mode": True},
                        {"values": ["full-convention"]},
                        Call("max_pool", [[[1, 2, 3, 4, 5]]],
                             {"kernel_size": 2, "stride": 2, "padding": 1,
                              "ceil_mode": True})),
    "ceil-overhang-counted": (broken.AvgPoolCeilWholeKernel1d(),
                              {"ceil_mode": True, "count_include_pad": True},
                              {"values": ["ceil-overhang-counted"]},
                              Call("avg_pool", [[[1, 2, 3, 4, 5]]],
                                   {"kernel_size": 2, "stride": 2, "ceil_mode": True})),
    "dtype": (broken.conv_float64_result, {"dtype": "float32"}, {"dtype": "float64"},
              Call("conv", [[[1, 2, 3, 4]]], {}, w=[[[1, -1]]])),
    "accumulation": (broken.float16_accumulation, {"dtype": "float16"},
                     {"accumulation": "float16"},
                     Call("avg_pool", LONG_ROW, {"kernel_size": 256}, "float16")),
    "raises": (broken.RaisesOnPadding(), {"padded": True},
               {"raises": "RuntimeError", "match": "has no kernel"},
               Call("avg_pool", [[[1, 2, 3, 4, 5]]], {"kernel_size": 3, "padding": 1})),
    "unsupported": (broken.DeclinesPadding(), {"padded": True},
                    {"unsupported": True, "match": "no padded"},
                    Call("avg_pool", [[[1, 2, 3, 4, 5]]], {"kernel_size": 3, "padding": 1})),
    "negative-padding-crops": (broken.ConvNegativePaddingCrops(), {"invalid": True},
                               {"values": ["negative-padding-crops"]},
                               Call("conv", np.arange(1, 13).reshape(1, 1, 3, 4),
                                    {"padding": ((0, -1), (-1, 1))}, w=[[[[1, -1]]]])),
    "window-larger-empty": (broken.MaxPoolEmptyWhenWindowLarger(), {"invalid": True},
                            {"values": ["window-larger-empty"]},
                            Call("max_pool", [[[1, 2, 3, 4, 5]]], {"kernel_size": 7})),
    "identity-padding": (broken.MaxPoolIdentityPadding(), {"invalid": True},
                         {"values": ["identity-padding"]},
                         Call("max_pool", [[[1, 2, 3]]], {"kernel_size": 2, "stride": 2,
                                                          "padding": 2})),
    "input-shaped-empty": (broken.ConvEmptyChannelsAsInput(), {"channels": 0},
                           {"values": ["input-shaped-empty"]},
                           Call("conv", np.zeros((1, 0, 3)), {}, w=np.zeros((2, 0, 1)))),
    "space-to-batch-shaped-empty": (broken.ConvEmptyBatchSpaceToBatchShaped(), {"batch": 0},
                                    {"values": ["space-to-batch-shaped-empty"]},
                                    Call("conv", np.zeros((0, 1, 1)),
                                         {"padding": "same", "dilation": 2},
                                         w=np.ones((3, 1, 2)))),
    "subnormals-flushed": (broken.FlushesSubnormals(), {"dtype": "float32"},
                           {"values": ["subnormals-flushed"]},
                           Call("avg_pool", [[[1e-40, 2e-40, 3.0]]], {"kernel_size": 1})),
    "subnormals-tie": (broken.MaxPoolSubnormalsTie(), {"dtype": "float32"},
                       {"values": ["subnormals-tie"]},
                       Call("max_pool", [[[-8e-39, 7e-39, 1.0, 2e-39]]], {"kernel_size": 2})),
    "bias-after-rounding": (broken.ConvBiasAfterRounding(), {"dtype": "float16"},
                            {"values": ["bias-after-rounding"], "accumulation": "input"},
                            Call("conv", [[[40000.0, 40000.0]]], {}, "float16",
                                 w=[[[1.0, 1.0]]], b=[-30000.0])),
    "groups-from-shapes": (broken.ConvGroupsFromShapes(), {"invalid": True},
                           {"values": ["groups-from-shapes"]},
                           Call("conv", np.arange(1, 7).reshape(1, 2, 3), {"groups": 0},
                                w=[[[1], [1]], [[1], [-1]]])),
    "padding-taps-skipped": (broken.ConvSkipsPaddingTaps(), {"padded": True},
                             {"values": ["padding-taps-skipped"]},
                             Call("conv", [[[2.0, -1.0]]], {"padding": 1},
                                  w=[[[NAN, 1.0, 0.5]]])),
    "same-pads-without-dilation": (broken.MaxPoolSameUndilatedPads(), {"padding": "same"},
                                   {"values": ["same-pads-without-dilation"]},
                                   Call("max_pool", [[[1, 5, 2, 7, 3, 4, 6]]],
                                        {"kernel_size": 2, "stride": 1, "padding": "same",
                                         "dilation": 2})),
    "excluded": (avg_divisor_ignores_padding, {"padded": True},
                 {"excluded": "values follow no convention"},
                 Call("avg_pool", np.arange(1, 16).reshape(1, 1, 3, 5),
                      {"kernel_size": 3, "stride": 2, "padding": 1})),
}


class _RaisesValueError(broken.RaisesOnPadding):
    exception = ValueError


class _RaisesOtherMessage(broken.RaisesOnPadding):
    message = "padded pooling is slow"


class _DeclinesOtherReason(broken.DeclinesPadding):
    reason = "no pooling at all"


#: Per form, a backend under the double's name that does something else again: neither
#: the oracle's default nor the claim.
OTHERS: dict[str, list[Any]] = {form: [broken.off_by_one(double, double.name)]
                                for form, (double, *_) in FORMS.items()}
OTHERS["window-larger-empty"] = [broken._Named(  # an empty output of another shape
    FORMS["window-larger-empty"][0], FORMS["window-larger-empty"][0].name,
    transform=lambda y: np.empty((1, 1, 1, 0), dtype=y.dtype))]
OTHERS["input-shaped-empty"] = [broken._Named(  # an empty output of another shape
    FORMS["input-shaped-empty"][0], FORMS["input-shaped-empty"][0].name,
    transform=lambda y: np.empty((1, 0, 2), dtype=y.dtype))]
OTHERS["space-to-batch-shaped-empty"] = [broken._Named(  # the unpadded input's shape
    FORMS["space-to-batch-shaped-empty"][0], FORMS["space-to-batch-shaped-empty"][0].name,
    transform=lambda y: np.empty((0, 1, 1), dtype=y.dtype))]
OTHERS["input-channels-empty"] = [broken._Named(  # an empty output of another shape
    FORMS["input-channels-empty"][0], FORMS["input-channels-empty"][0].name,
    transform=lambda y: np.empty((1, 0, 2), dtype=y.dtype))]
OTHERS["may-be-nan"] = [broken._Named(  # finite values that are neither
    FORMS["may-be-nan"][0], FORMS["may-be-nan"][0].name,
    transform=lambda y: np.full_like(y, 7.0))]
OTHERS["neg-inf-maybe-lowest"] = [broken._Named(  # a window of -inf pooled to 0
    FORMS["neg-inf-maybe-lowest"][0], FORMS["neg-inf-maybe-lowest"][0].name,
    transform=lambda y: np.where(y < -1e30, 0.0, y).astype(y.dtype))]
OTHERS["bias-after-rounding"] = [broken._Named(  # an overflow turned into a finite value
    FORMS["bias-after-rounding"][0], FORMS["bias-after-rounding"][0].name,
    transform=lambda y: np.where(np.isinf(y), 7.0, y).astype(y.dtype))]
OTHERS["raises"] = [_RaisesValueError(), _RaisesOtherMessage()]
OTHERS["unsupported"] = [_DeclinesOtherReason()]
OTHERS["excluded"] = [_RaisesValueError()]


def _form_entry(tmp_path: Path, form: str, with_reproducer: bool = False) -> registry.Entry:
    double, when, claim, call = FORMS[form]
    if form == "overrides":
        text = _entry_toml(f"e-{form}", double.name, call.op, when, {},
                           call if with_reproducer else None).replace(
            "claim = {  }", "behaves_as = { count_include_pad = false }")
    else:
        text = _entry_toml(f"e-{form}", double.name, call.op, when, claim,
                           call if with_reproducer else None)
    (entry,) = _entries(tmp_path, text)
    return entry


def test_every_value_model_has_a_semantics_case():
    """Every forward value model has a double here; the backward ones (gradient routing)
    are checked through the VJP entries that claim them, on the backends they name."""
    backward = {m for e in registry.load() if e.op.endswith("_vjp") and e.claim
                for m in e.claim.values}
    assert set(FORMS) >= set(registry.VALUE_MODELS) - backward
    assert backward <= set(registry.VALUE_MODELS)


@pytest.mark.parametrize(("x", "dy", "params", "expected"), [
    # [1, nan] keeps the NaN (1 >= nan is false), [nan, 2] the 2, [5, nan] the NaN
    ([1, NAN, NAN, 2, 5, NAN], [1, 2, 4], {"kernel_size": 2}, [0, 1, 0, 2, 0, 4]),
    # after the NaN the scan starts again: [1, nan, 3] keeps 3, [2, 5, nan] the NaN
    ([1, NAN, 3, 2, 5, NAN], [1, 2], {"kernel_size": 3}, [0, 0, 1, 0, 0, 2]),
    # ties keep the first maximum, -inf windows their first cell, as the oracle
    ([3, 3, 1, 3], [1, 2], {"kernel_size": 2}, [1, 0, 0, 2]),
    ([-INF, -INF, 1, 1], [1, 2], {"kernel_size": 2}, [1, 0, 2, 0]),
    # padding is never picked, even where every input cell is below 0
    ([-1, -2], [1, 2, 4], {"kernel_size": 2, "stride": 1, "padding": 1}, [3, 4]),
])
def test_select_ge_scan_routes_as_a_scan_with_ge(x, dy, params, expected):
    """The routing of XLA's SelectAndScatter with a '>=' select, worked out by hand."""
    model = registry.VALUE_MODELS["select-ge-scan"](lambda *args: [])
    arrays = {"x": np.array([[x]], dtype=np.float32), "dy": np.array([[dy]], dtype=np.float32)}
    (grad,) = model("max_pool_vjp", arrays, params, "float32")
    np.testing.assert_array_equal(grad.ravel(), expected)


@pytest.mark.parametrize("form", sorted(FORMS))
def test_claim_form_parses(tmp_path, form):
    entry = _form_entry(tmp_path, form)
    expected_form = {"raises": "raises", "unsupported": "unsupported",
                     "excluded": "excluded"}.get(form, "values")
    assert entry.claim.form == expected_form
    assert (entry.behaves_as is not None) == (expected_form == "values")


@pytest.mark.parametrize("form", sorted(FORMS))
def test_case_as_claimed_is_registered(tmp_path, form):
    """The double does what its entry claims, which the oracle's default is not."""
    double, *_, call = FORMS[form]
    entry = _form_entry(tmp_path, form)
    suite = _suite(double, [entry])
    result = call.check(suite)
    tallies = suite.records.entries[entry.id]
    if form == "excluded":
        assert result == "excluded" and tallies["excluded"] == 1
        return
    assert result == "registered"
    if form in ("raises", "unsupported"):
        assert suite.records.claim_checked[call.op] == 1 and tallies["reproduced"] == 1
    elif form == "accumulation":
        # the claim's values are the oracle's: only its bound differs
        assert tallies["indistinct"] == 1
    else:
        assert tallies["reproduced"] == 1
    # without the entry the same behaviour is a difference nobody registered (an
    # Unsupported without an entry is a decline, recorded as such)
    bare = _suite(double, [])
    if form == "unsupported":
        assert call.check(bare) == "unsupported"
        assert bare.records.unsupported[call.op][double.reason] == 1
    else:
        with pytest.raises(AssertionError, match="UNREGISTERED DIFFERENCE"):
            call.check(bare)


#: Forms a single case cannot show stale: the claim's values are the default's (an
#: accumulation dtype only widens the bound), one of its alternatives is the default
#: (propagated NaN), or nothing is compared (excluded). Their reproducers show it.
STALE_BY_REPRODUCER_ONLY = {"accumulation", "nan-skipped-or-propagated", "excluded",
                            "may-be-nan", "neg-inf-maybe-lowest", "subnormals-tie"}


@pytest.mark.parametrize("form", sorted(set(FORMS) - STALE_BY_REPRODUCER_ONLY))
def test_case_following_the_default_makes_the_entry_stale(tmp_path, form):
    """The oracle under the double's name (the framework fixed): the case now follows the
    oracle's default where the entry claims otherwise. (Every form's reproducer goes stale
    too: test_reproducer_xfails_only_as_claimed.)"""
    double, *_, call = FORMS[form]
    entry = _form_entry(tmp_path, form)
    suite = _suite(broken.renamed(numpy_backend, double.name), [entry])
    with pytest.raises(AssertionError, match=f"STALE REGISTRY ENTRY {entry.id}"):
        call.check(suite)
    assert suite.records.entry_status(entry.id) == "stale"


@pytest.mark.parametrize(("form", "other"), [(f, i) for f in sorted(FORMS)
                                             for i in range(len(OTHERS[f]))
                                             if f != "excluded"])
def test_case_doing_something_else_is_unregistered(tmp_path, form, other):
    """Other values, another exception class, another message, another Unsupported
    reason: neither the claim nor the default."""
    *_, call = FORMS[form]
    entry = _form_entry(tmp_path, form)
    suite = _suite(OTHERS[form][other], [entry])
    with pytest.raises(AssertionError, match="UNREGISTERED DIFFERENCE") as info:
        call.check(suite)
    assert entry.id in str(info.value) and "---- reproducer" in str(info.value)


@pytest.mark.parametrize("form", sorted(FORMS))
def test_reproducer_xfails_only_as_claimed(tmp_path, form):
    """check_reproducer: AssertionError (the strict xfail) when the claim holds and
    differs from the default; a plain return recorded as stale when the backend follows
    the default; ClaimBroken when it does anything else."""
    double, *_ = FORMS[form]
    entry = _form_entry(tmp_path, form, with_reproducer=True)
    reproduced = _suite(double, [entry])
    with pytest.raises(AssertionError, match=f"registered discrepancy {entry.id} reproduces"):
        check_reproducer(reproduced, entry)
    assert reproduced.records.reproducers[entry.id] == "reproduced"
    healed = _suite(broken.renamed(numpy_backend, double.name), [entry])
    check_reproducer(healed, entry)
    assert healed.records.entry_status(entry.id) == "stale"
    for other in OTHERS[form]:
        suite = _suite(other, [entry])
        with pytest.raises(ClaimBroken, match=entry.id):
            check_reproducer(suite, entry)
        assert suite.records.reproducers[entry.id] == "broken"


def test_accumulation_claim_widens_the_bound_only(tmp_path):
    """The float16-accumulating double fails the default bound (float32 sums) on a long
    window, and passes under an entry claiming float16 accumulation."""
    double, *_, call = FORMS["accumulation"]
    with pytest.raises(AssertionError, match=r"UNREGISTERED.*\n.*gamma_257\(u_float32"):
        call.check(_suite(double, []))
    assert call.check(_suite(double, [_form_entry(tmp_path, "accumulation")])) == "registered"


@pytest.mark.parametrize("form", ["negative-padding-crops", "window-larger-empty"])
def test_bad_input_declined_under_a_values_claim_is_unsupported(tmp_path, form):
    """An adapter that declines a bad-input call an entry claims values for says nothing
    about the claim: recorded as Unsupported, neither stale nor reproduced."""
    double, *_, call = FORMS[form]
    entry = _form_entry(tmp_path, form)
    declining = broken.DeclinesEverything()
    declining.name = double.name
    suite = _suite(declining, [entry])
    assert call.check(suite) == "unsupported"
    assert suite.records.entry_status(entry.id) == "not-exercised"


def test_bad_input_rejected_without_entry_passes_and_values_fail():
    """No entry: raising (any exception) is the oracle's default; values are an
    unregistered difference naming the oracle's rejection."""
    *_, call = FORMS["negative-padding-crops"]
    suite = _suite(broken.renamed(numpy_backend, "plain"), [])
    assert call.check(suite) == "passed"
    with pytest.raises(AssertionError, match=r"UNREGISTERED DIFFERENCE.*returned values "
                                             r"\(shape .*\) where the oracle rejects"):
        call.check(_suite(broken.ConvNegativePaddingCrops(), []))



class _IntAvgFloatResult:
    """Average pooling of integers returned as the float64 average (true division)."""

    name = "convention-int-avg-float64"
    version = "0"

    def avg_pool(self, x: Any, kernel_size: Any, **kw: Any) -> np.ndarray:
        import reference

        return reference.avg_pool(x, kernel_size, **kw)


def test_float_dtype_claimed_for_integer_input_is_bounded_in_that_dtype(tmp_path):
    """An integer average returned unrounded in float64 passes an entry claiming float64
    (bounded in float64, not rounded into int32), and fails without it."""
    double = _IntAvgFloatResult()
    call = Call("avg_pool", [[[1, 2, 4, 7]]], {"kernel_size": 2}, "int32")
    (entry,) = _entries(tmp_path, _entry_toml("e-int-float", double.name, "avg_pool",
                                              {"dtype": "int32"}, {"dtype": "float64"}))
    assert call.check(_suite(double, [entry])) == "registered"
    with pytest.raises(AssertionError, match="UNREGISTERED"):
        call.check(_suite(double, []))


#: Hand-routed max-pooling gradients of the ``>=`` selection over -inf padding: each
#: window keeps its cell while it is >= the next, in row-major order.
SELECT_GE_CASES = [
    # [NaN, 5] yields to the 5; [1, NaN] ends in its NaN
    ([np.nan, 5, 1, np.nan], 2, 2, 0, [10, 20], [0, 10, 0, 20]),
    # [1, NaN, NaN]: the last NaN (the last cell); [2, NaN, 0]: the 0 after the NaN
    ([1, np.nan, np.nan, 2, np.nan, 0], 3, 3, 0, [1, 2], [0, 0, 1, 0, 0, 2]),
    # the first window (padding, -inf) keeps the padding: its 10 is dropped
    ([-np.inf, -np.inf, -np.inf], 2, 1, 1, [10, 20, 30, 40], [20, 30, 40]),
    # without NaN or padding: the first maximum, as the oracle
    ([3, 3, 1, 2], 2, 2, 0, [5, 6], [5, 0, 0, 6]),
]


@pytest.mark.parametrize(("x", "k", "s", "p", "dy", "want"), SELECT_GE_CASES)
def test_select_ge_padded_routes_by_ge_selection(x, k, s, p, dy, want):
    claim = registry.Claim(values=("select-ge-padded",))
    arrays = {"x": np.array(x, np.float32).reshape(1, 1, -1),
              "dy": np.array(dy, np.float32).reshape(1, 1, -1)}
    (got,) = claim.expected("max_pool_vjp", arrays,
                            {"kernel_size": k, "stride": s, "padding": p}, "float32")
    np.testing.assert_array_equal(np.ravel(got), want)
