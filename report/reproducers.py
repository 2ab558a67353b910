"""The reproducers of a registry entry, one per framework API that shows it.

A probe linked to the entry already carries one (its ``code``: the script that ran, and
what it printed). The probes are those of the published view (:func:`report.records.publish`),
where a probe whose result depends on the CPU is linked to its entry on every machine.
For a suite backend the entry lists but no linked probe covers, the entry's
``reproducer`` is rendered by the probes' own renderers (:mod:`probes.render`), so the
framework code of a case is written in one place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import registry
from backends.table import by_name
from probes.cases import Case
from probes.render import renderers
from probes.run import candidates, result_dict
from report.model import BIG


@dataclass(frozen=True)
class Reproducer:
    """A script that shows an entry on one framework API.

    Attributes
    ----------
    column, api, backend : str
        The matrix column, the function or class called, the probe backend.
    code : str
        The script; it runs as it is and prints the telling numbers.
    case : str
        The probe case key, or "" when rendered from the registry's reproducer.
    observed : dict or None
        What the script gave in this run (probe records only; the marker
        ``{"depends_on_cpu": ...}`` where that depends on the CPU).
    oracle : dict
        What the oracle's default gives (a result record or ``{"exception": ...}``).
    channels_last : bool
        Whether the API computes channels last (and the script prints that layout).
    """

    column: str
    api: str
    backend: str
    code: str
    case: str
    observed: Mapping[str, Any] | None
    oracle: Mapping[str, Any]
    channels_last: bool = False


def linked(entry_id: str, probes: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The probe records that name ``entry_id``, in record order."""
    return [p for p in probes if p["registry"] == entry_id]


def from_probes(entry_id: str, probes: Sequence[Mapping[str, Any]]) -> list[Reproducer]:
    """One reproducer per column: the first linked probe of each."""
    out: dict[str, Reproducer] = {}
    for p in linked(entry_id, probes):
        if p["column"] not in out:
            out[p["column"]] = Reproducer(p["column"], p["api"], p["backend"], p["code"],
                                          p["case"], p["observed"], p["candidates"]["oracle"],
                                          bool(p.get("channels_last")))
    return list(out.values())


def _literal(value: float) -> str:
    if np.isnan(value):
        return "np.nan"
    if np.isinf(value):
        return "np.inf" if value > 0 else "-np.inf"
    return str(int(value)) if abs(value) < BIG and float(value).is_integer() else repr(float(value))


def array_expr(arr: np.ndarray, dtype: str) -> str:
    """A NumPy expression for ``arr`` in the style of :mod:`probes.cases`."""
    shape = tuple(int(n) for n in arr.shape)
    flat = np.asarray(arr, dtype=np.float64).ravel()
    if np.array_equal(flat, np.arange(1, flat.size + 1)):
        return f"np.arange(1, {flat.size + 1}, dtype=np.{dtype}).reshape({shape})"
    values = ", ".join(_literal(v) for v in flat)
    return f"np.array([{values}], dtype=np.{dtype}).reshape({shape})"


def _numpy_dtype(name: str) -> np.dtype:
    # bfloat16 values are written as float32 literals; each renderer converts them
    return np.dtype(np.float32 if name == "bfloat16" else name)


def registry_case(entry: registry.Entry) -> Case:
    """The entry's reproducer as a probe case.

    Raises
    ------
    ValueError
        When the reproducer has a bias (the renderers take none).
    """
    call = registry.reproducer_call(entry, _numpy_dtype)
    if call.arrays.get("b") is not None:
        raise ValueError("the reproducer has a bias, which the probe renderers do not pass")
    literal = "float32" if call.dtype == "bfloat16" else call.dtype
    w = call.arrays.get("w")
    # probes.render leaves a pooling's stride out only for cases keyed "...default-stride"
    # (elsewhere it passes the window, as APIs that require a stride need)
    key = entry.id + (":default-stride" if entry.topic == "default-pool-stride" else "")
    dy = call.arrays.get("dy")
    return Case(key, entry.topic, entry.op, entry.summary,
                array_expr(call.arrays["x"], literal), dict(call.params),
                w=array_expr(w, literal) if w is not None else None, dtype=call.dtype,
                dy=array_expr(dy, literal) if dy is not None else None)


def probed(backend: str) -> bool:
    """Whether ``backend`` is a built-in backend with probe renderers."""
    try:
        return bool(by_name(backend).probes)
    except KeyError:
        return False


def from_registry(entry: registry.Entry, backend: str) -> list[Reproducer]:
    """The entry's reproducer rendered for every API of probe backend ``backend``.

    Raises
    ------
    ValueError
        When it cannot be rendered (no reproducer, a bias, a dtype or argument the
        renderer does not spell, or a script that is not valid Python).
    """
    if entry.reproducer is None:
        raise ValueError("the entry has no reproducer")
    case = registry_case(entry)
    answer = candidates(case)["oracle"]
    oracle = ({"exception": {"type": type(answer).__name__, "message": str(answer)}}
              if isinstance(answer, Exception) else result_dict(answer))
    out = []
    for render in renderers(backend):
        try:
            rendered = list(render(case))
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"{render.__name__} cannot spell it "
                             f"({type(err).__name__}: {err})") from err
        for r in rendered:
            compile(r.code, f"<{entry.id} on {r.api}>", "exec")
            out.append(Reproducer(r.column, r.api, backend, r.code, "", None, oracle,
                                  r.channels_last))
    if not out:
        raise ValueError(f"no renderer of {backend} spells it")
    return out


def for_entry(entry: registry.Entry, probes: Sequence[Mapping[str, Any]]
              ) -> tuple[list[Reproducer], list[str]]:
    """Every reproducer of ``entry`` and, for a suite backend that gets none, why."""
    out = from_probes(entry.id, probes)
    shown = {r.backend for r in out}
    notes = []
    for backend in entry.backends:
        if backend in shown or not probed(backend):
            continue
        try:
            out += from_registry(entry, backend)
        except (ValueError, SyntaxError) as err:
            notes.append(f"{entry.id}: no reproducer for {backend}: {err}")
    return out, notes
