"""Verdicts classified into the matrix's classes and tallied per topic × framework API."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from report.matrix import CLASSES, NO_PROBE, SYMBOLS, build, classify
from tests.report.synthetic import default_probes, probe

VERDICTS = ("follows-oracle", "follows:same_lower", "follows:zero padding", "differs",
            "unsupported", "raises", "crashes")


@pytest.mark.parametrize(("verdict", "kind", "cls"), [
    ("follows-oracle", None, "follows"),
    ("follows:same_lower", None, "convention"),
    ("follows:same_lower", "convention", "convention"),
    # a named candidate that the registry calls a deviation (zeros as max pooling's padding)
    ("follows:zero padding", "deviation", "deviation"),
    ("follows:count_include_pad=False", "convention", "convention"),
    ("differs", None, "deviation"),
    ("differs", "deviation", "deviation"),
    ("unsupported", "unsupported", "unsupported"),
    ("raises", "error-behaviour", "errors"),
    ("crashes", None, "errors"),
])
def test_verdict_classes(verdict, kind, cls):
    assert classify(verdict, kind) == cls


def test_convention_and_deviation_have_their_own_symbols():
    assert SYMBOLS["convention"] != SYMBOLS["deviation"]
    assert len(set(SYMBOLS.values())) == len(CLASSES)


def test_an_unknown_verdict_is_an_error():
    with pytest.raises(ValueError, match="unknown probe verdict"):
        classify("maybe")


def test_cells_tally_the_probes_of_a_topic_on_an_api():
    probes = [p for ps in default_probes().values() for p in ps]
    m = build(probes, ("same-padding", "avg-divisor", "bad-input"),
              {"torch-divides-by-inside-cells": "convention"})
    assert m.columns == ("torch.nn.functional", "torch.nn", "mx.nd")
    mixed = m.cell("avg-divisor", "torch.nn.functional")
    assert mixed.counts == {"convention": 1, "follows": 1}
    assert mixed.cls == "convention"
    assert mixed.text() == "⇄ 1 · ✓ 1"
    assert mixed.entries == ("torch-divides-by-inside-cells",)
    assert mixed.probes == ("torch/torch.nn.functional.op:avg-same",
                            "torch/torch.nn.functional.op:avg-padded")
    # the same entry as a deviation
    as_deviation = build(probes, ("avg-divisor",), {"torch-divides-by-inside-cells": "deviation"})
    assert as_deviation.cell("avg-divisor", "torch.nn.functional").text() == "≠ 1 · ✓ 1"
    assert m.cell("bad-input", "mx.nd").cls == "errors"
    assert m.cell("same-padding", "torch.nn.functional").cls == "unsupported"
    assert m.cell("avg-divisor", "torch.nn").cls == "follows"
    empty = m.cell("same-padding", "mx.nd")
    assert (empty.cls, empty.total, empty.text()) == (None, 0, NO_PROBE)


def test_topics_not_in_the_vocabulary_come_last_sorted():
    probes = [probe("torch", "c", "k1", "zeta", "follows-oracle"),
              probe("torch", "c", "k2", "alpha", "follows-oracle"),
              probe("torch", "c", "k3", "groups", "follows-oracle")]
    assert build(probes, ("groups", "dtypes")).topics == ("groups", "dtypes", "alpha", "zeta")


@given(st.lists(st.sampled_from(VERDICTS), min_size=1, max_size=12))
def test_a_cell_shows_its_most_telling_class(verdicts):
    probes = [probe("torch", "api", f"case-{i}", "groups", v) for i, v in enumerate(verdicts)]
    cell = build(probes, ("groups",)).cell("groups", "api")
    assert cell.total == len(verdicts)
    assert len(cell.probes) == len(verdicts)
    present = {classify(v) for v in verdicts}
    assert cell.cls in present
    # every class ranked before the shown one is absent
    assert not present & set(CLASSES[:CLASSES.index(cell.cls)])
