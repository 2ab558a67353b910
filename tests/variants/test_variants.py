"""Variants without any framework: the table's spelling ``name[variant]``, the records keys,
the sessions, the probe scripts a variant writes and the registry's probe lookup."""

from __future__ import annotations

import pytest

import backends
import registry
from backends import table
from probes.cases import CASES
from probes.render import renderers
from registry.entry import Entry


def test_a_spec_splits_into_backend_and_variant():
    assert table.parse("torch[channels_last]") == ("torch", "channels_last")
    assert table.parse("torch") == ("torch", "")
    assert table.parse("mypkg.mod:backend") == ("mypkg.mod:backend", "")
    assert table.key("torch", "channels_last") == "torch[channels_last]"
    assert table.key("torch") == "torch"


@pytest.mark.parametrize("spec", ["torch[nope]", "torch[", "torch[]", "numpy[channels_last]",
                                  "torch[channels_last]x", "nobackend[xla]"])
def test_a_malformed_or_unknown_variant_is_refused(spec):
    with pytest.raises(ValueError):
        table.parse(spec)


def test_load_refuses_an_unknown_variant_before_importing_anything():
    with pytest.raises(ValueError, match="no variant 'xla'"):
        backends.load("numpy[xla]")


def test_every_variant_has_a_session_and_a_records_key():
    keys = table.variant_keys()
    assert "torch[channels_last]" in keys and "tensorflow[xla]" in keys
    sessions = table.variant_groups()
    assert sorted(k for group in sessions.values() for k in group) == sorted(keys)
    for spec in table.BACKENDS:
        for variant in spec.variants:
            assert variant.render or variant.env, f"{spec.name}[{variant.name}] sets nothing"


def test_on_demand_variants_say_why_and_stay_out_of_the_test_command_keys():
    keys = table.variant_keys(on_demand=False)
    assert "tensorflow[xla]" in keys and "tensorflow[no_onednn]" in keys
    assert "tensorflow[onednn]" not in keys and "keras-tensorflow[onednn]" not in keys
    assert "tensorflow[onednn]" in table.variant_keys()
    assert "torch[compile]" not in keys and "torch[compile]" in table.variant_keys()
    assert table.variant_groups()["torch_variants"] == (
        "torch[channels_last]", "torch[compile]", "torch[no_mkldnn]")
    for spec in table.BACKENDS:
        for variant in spec.variants:
            assert (table.key(spec.name, variant.name) in keys) != bool(variant.on_demand)


def _probe(key: str, case_key: str):
    case = next(c for c in CASES if c.key == case_key)
    return [r for render in renderers(key) for r in render(case)]


def test_variant_probes_are_the_default_scripts_under_the_setting():
    plain = _probe("torch", "conv-float16")[0]
    unfused = _probe("torch[no_mkldnn]", "conv-float16")[0]
    assert unfused.column == plain.column + "[no_mkldnn]"
    assert unfused.api == plain.api
    assert "torch.backends.mkldnn.enabled = False" in unfused.code
    last = _probe("torch[channels_last]", "conv-same-stride-2")[0].code
    assert "memory_format=torch.channels_last" in last
    compiled = _probe("torch[compile]", "max-pool-int32")[0]
    assert compiled.column == "torch.nn.functional[compile]"
    assert "y = torch.compile(lambda: F.max_pool" in compiled.code
    assert "dynamic=False, fullgraph=True)()" in compiled.code
    backward = _probe("torch[compile]", "max-pool-vjp-nan")[0].code
    assert "out = torch.compile(lambda: F.max_pool1d" in backward  # the forward compiled
    assert "y = x.grad\n" in backward  # and differentiated by autograd
    xla = _probe("tensorflow[xla]", "max-pool-minus-inf")[0].code
    assert "tf.function(lambda: tf.nn.max_pool" in xla and "jit_compile=True" in xla
    onednn = _probe("tensorflow[no_onednn]", "max-pool-minus-inf")[0].code
    assert onednn.startswith("import os")
    assert onednn.index('"TF_ENABLE_ONEDNN_OPTS"] = "0"') < onednn.index("import tensorflow")
    for code in (unfused.code, last, compiled.code, backward, xla, onednn):
        compile(code, "<probe>", "exec")


def _entry(**fields) -> Entry:
    base = dict(id="e", backends=("tensorflow",), op="max_pool", topic="nan-inf",
                kind="deviation", summary="s", probes={"tf.nn": ("max-pool-nan",)})
    base.update(fields)
    return Entry(**base)


def test_a_variant_probe_is_explained_by_entries_that_admit_the_variant():
    everywhere = _entry(id="everywhere")
    not_xla = _entry(id="not-xla", when={"variant": {"not": "xla"}})
    xla_only = _entry(id="xla-only", when={"variant": "xla"},
                      probes={"tf.nn[xla]": ("max-pool-nan",)})
    find = registry.probe_entry
    assert find([not_xla], "tf.nn.max_pool1d", "tf.nn", "max-pool-nan").id == "not-xla"
    assert find([not_xla], "tf.nn.max_pool1d", "tf.nn[xla]", "max-pool-nan", "xla") is None
    assert find([everywhere], "tf.nn.max_pool1d", "tf.nn[xla]", "max-pool-nan", "xla").id \
        == "everywhere"
    assert find([not_xla, xla_only], "tf.nn.max_pool1d", "tf.nn[xla]", "max-pool-nan",
                "xla").id == "xla-only"
    assert find([xla_only], "tf.nn.max_pool1d", "tf.nn", "max-pool-nan") is None
