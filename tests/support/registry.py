"""The registry of known framework discrepancies: loading, validation and case matching.

``tests/discrepancies.toml`` holds one ``[[discrepancy]]`` table per known difference
between a framework and the oracle's default convention. Its header documents the format
and the ``when`` vocabulary; this module is the one implementation of both. The
conformance tests ask :func:`matching` which entries apply to a case on the running
backend and compare that case with the oracle called with the entries' ``behaves_as``
overrides; :func:`reproducer_call` turns an entry's reproducer into one call, which the
suite runs as a strict expected failure against the oracle's default.
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import reference

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

#: Where the registry lives; the environment variable CONFORMANCE_REGISTRY names another
#: file (the self-test uses it to check the registry semantics end to end).
DEFAULT_PATH = Path(__file__).resolve().parent.parent / "discrepancies.toml"

OPS = ("conv", "max_pool", "avg_pool")
KINDS = ("convention", "deviation", "unsupported", "error-behaviour")
TOPICS = ("same-padding", "same-rejected", "avg-divisor", "max-pool-padding-value",
          "default-pool-stride", "ceil-mode", "nan-inf", "dtypes", "pool-dilation", "groups",
          "asymmetric-padding", "layouts", "bad-input")
REQUIRED = ("id", "backends", "frameworks", "api", "op", "topic", "kind", "summary",
            "description", "source")
OPTIONAL = ("when", "behaves_as", "reproducer", "cpu", "notes")
REPRODUCER_KEYS = ("x_shape", "x", "w_shape", "w", "b", "params", "dtype")

#: The facts of a case that ``when`` can test. Per-dimension facts hold one value per
#: spatial dimension; a condition on them holds when ANY dimension satisfies it (wrap
#: it in ``{ all = ... }`` to require every dimension).
FACTS: dict[str, str] = {
    "dtype": "name of the dtype under test: float16, bfloat16, float32, float64, int8, ...",
    "ndim": "number of spatial dimensions (1, 2, 3)",
    "batch": "N",
    "channels": "C, input channels",
    "in_sizes": "per-dim: input spatial sizes",
    "kernel": "per-dim: window size (kernel_size for pooling, weight's for conv)",
    "stride": "per-dim: stride (a pool's default stride is its kernel size)",
    "stride_default": "bool: a pool called without stride (stride=None)",
    "dilation": "per-dim: dilation",
    "padding": "the padding argument's mode: 'valid', 'same', 'same_lower' or 'explicit'",
    "padding_form": "'int', 'per_dim', 'pairs', 'valid', 'same' or 'same_lower'",
    "pads": "per-dim: larger side of the resolved (lo, hi) padding",
    "gap": "per-dim: stride minus the window's extent ((kernel - 1) * dilation + 1); "
           "> 0 where consecutive windows leave input cells out",
    "padded": "bool: some resolved padding is > 0",
    "asymmetric": "bool: some resolved (lo, hi) has lo != hi",
    "pad_over_half": "bool: some resolved pad side is > kernel // 2 (pooling's usual limit)",
    "groups": "conv groups",
    "depthwise": "bool: conv with groups == C > 1",
    "out_channels": "conv O",
    "bias": "bool: conv with a bias",
    "ceil_mode": "bool",
    "ceil_extends": "bool: ceil_mode gives more outputs than floor in some dimension",
    "count_include_pad": "bool (avg_pool)",
    "fill": "kind of values: 'exact', 'normal', 'negative', 'special', 'reproducer'",
    "has_nan": "bool: the input holds a NaN",
    "has_inf": "bool: the input holds +inf or -inf",
}
PER_DIM = frozenset({"in_sizes", "kernel", "stride", "dilation", "pads", "gap"})
#: Facts that only some operations have; a condition on another op's fact is an error.
OP_FACTS: dict[str, frozenset[str]] = {
    "conv": frozenset({"groups", "depthwise", "out_channels", "bias"}),
    "pool": frozenset({"stride_default", "ceil_mode", "ceil_extends"}),
    "avg_pool": frozenset({"count_include_pad"}),
}


class RegistryError(ValueError):
    """The registry file is malformed; the message lists every problem found."""


@dataclass(frozen=True)
class Entry:
    """One known discrepancy (the fields of its TOML table)."""

    id: str
    backends: tuple[str, ...]
    op: str
    topic: str
    kind: str
    summary: str
    when: Mapping[str, Any] = field(default_factory=dict)
    behaves_as: Mapping[str, Any] | None = None
    reproducer: Mapping[str, Any] | None = None
    cpu: tuple[str | list[str], ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict)

    def missing_cpu_flags(self, flags: frozenset[str] | None) -> tuple[str, ...]:
        """The entry's CPU requirements that ``flags`` (this machine's, from
        :func:`cpu_flags`; None when unknown) does not meet, as text; empty when the entry
        applies here. A requirement is ``"flag"`` (the CPU has it), ``"!flag"`` (it lacks
        it) or a list of them (any one suffices)."""
        def met(req: str | list[str]) -> bool:
            if isinstance(req, list):
                return any(met(r) for r in req)
            if flags is None:
                return False
            return req[1:] not in flags if req.startswith("!") else req in flags
        return tuple(req if isinstance(req, str) else " or ".join(req)
                     for req in self.cpu if not met(req))

    def applies(self, backend: str, op: str, facts: Mapping[str, Any]) -> bool:
        """Whether the entry concerns ``backend`` running ``op`` on a case with ``facts``."""
        return backend in self.backends and op == self.op and matches(self.when, facts)


def cpu_flags(cpuinfo: str | Path = "/proc/cpuinfo") -> frozenset[str] | None:
    """This machine's CPU feature flags as Linux names them (``avx512f``, ``amx_bf16``...),
    or None where ``cpuinfo`` cannot be read."""
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return None
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return None


# ------------------------------------------------------------------------- matching
def _check_one(cond: Any, value: Any) -> bool:
    if isinstance(cond, Mapping):
        if "not" in cond:
            return not _check_one(cond["not"], value)
        ok = True
        if "min" in cond:
            ok = ok and value is not None and value >= cond["min"]
        if "max" in cond:
            ok = ok and value is not None and value <= cond["max"]
        return ok
    if isinstance(cond, list):
        return any(_check_one(c, value) for c in cond)
    if cond in ("even", "odd") and isinstance(value, int) and not isinstance(value, bool):
        return value % 2 == (0 if cond == "even" else 1)
    if isinstance(cond, bool) or isinstance(value, bool):
        return isinstance(cond, bool) and isinstance(value, bool) and cond == value
    return cond == value


def _check_fact(name: str, cond: Any, value: Any) -> bool:
    if name in PER_DIM:
        if isinstance(cond, Mapping) and "all" in cond:
            return all(_check_fact(name, cond["all"], (v,)) for v in value)
        if isinstance(cond, Mapping) and "not" in cond:
            return not _check_fact(name, cond["not"], value)
        return any(_check_one(cond, v) for v in value)
    return _check_one(cond, value)


def matches(when: Mapping[str, Any], facts: Mapping[str, Any]) -> bool:
    """Whether every condition of ``when`` holds for a case's ``facts``.

    A condition is a value (equality), a list (any of its conditions), ``{ min = a }``,
    ``{ max = b }`` or both (inclusive range), ``"even"`` / ``"odd"`` (parity of an
    integer), ``{ not = c }`` (negation), and on per-dimension facts ``{ all = c }``
    (every dimension; otherwise any dimension suffices). A fact the case does not have
    (e.g. ``groups`` on a pooling) never matches.
    """
    for name, cond in when.items():
        if name not in facts:
            return False
        if not _check_fact(name, cond, facts[name]):
            return False
    return True


def case_facts(op: str, x: np.ndarray, params: Mapping[str, Any], w_shape: Sequence[int] | None,
               bias: bool, dtype: str, fill: str) -> dict[str, Any]:
    """The facts of one call that ``when`` conditions test (see :data:`FACTS`)."""
    nd = x.ndim - 2
    in_sizes = tuple(x.shape[2:])
    if op == "conv":
        assert w_shape is not None
        kernel = tuple(w_shape[2:])
        stride_arg = params.get("stride", 1)
    else:
        kernel = reference.normalize_sizes(params["kernel_size"], nd, "kernel_size")
        stride_arg = params.get("stride")
    stride = kernel if stride_arg is None else reference.normalize_sizes(stride_arg, nd,
                                                                         "stride")
    dilation = reference.normalize_sizes(params.get("dilation", 1), nd, "dilation")
    padding = params.get("padding", 0)
    pads = reference.resolve_padding(padding, in_sizes, kernel, stride, dilation)
    xf = np.asarray(x).astype(np.float64)
    facts: dict[str, Any] = {
        "dtype": dtype, "ndim": nd, "batch": x.shape[0], "channels": x.shape[1],
        "in_sizes": in_sizes, "kernel": kernel, "stride": stride, "dilation": dilation,
        "padding": padding if isinstance(padding, str) else "explicit",
        "padding_form": _padding_form(padding),
        "pads": tuple(max(p) for p in pads),
        "gap": tuple(s - ((k - 1) * d + 1) for s, k, d in zip(stride, kernel, dilation,
                                                               strict=True)),
        "padded": any(max(p) > 0 for p in pads),
        "asymmetric": any(lo != hi for lo, hi in pads),
        "pad_over_half": any(max(p) > k // 2 for p, k in zip(pads, kernel, strict=True)),
        "fill": fill,
        "has_nan": bool(np.isnan(xf).any()),
        "has_inf": bool(np.isinf(xf).any()),
    }
    if op == "conv":
        assert w_shape is not None
        groups = int(params.get("groups", 1))
        facts.update(groups=groups, depthwise=groups == x.shape[1] and groups > 1,
                     out_channels=int(w_shape[0]), bias=bool(bias))
    else:
        ceil_mode = bool(params.get("ceil_mode", False))
        floor = reference.output_size(in_sizes, kernel, stride, pads, dilation, False)
        ceil = reference.output_size(in_sizes, kernel, stride, pads, dilation, True)
        facts.update(stride_default=stride_arg is None, ceil_mode=ceil_mode,
                     ceil_extends=ceil_mode and ceil != floor)
        if op == "avg_pool":
            facts["count_include_pad"] = bool(params.get("count_include_pad", True))
    return facts


def _padding_form(padding: Any) -> str:
    if isinstance(padding, str):
        return padding
    if isinstance(padding, Sequence):
        return "pairs" if any(isinstance(p, Sequence) for p in padding) else "per_dim"
    return "int"


def matching(entries: Sequence[Entry], backend: str, op: str, facts: Mapping[str, Any]
             ) -> list[Entry]:
    """The entries that apply to ``backend`` running ``op`` on a case with ``facts``."""
    return [e for e in entries if e.applies(backend, op, facts)]


def merged_behaves_as(entries: Sequence[Entry]) -> dict[str, Any] | None:
    """The combined ``behaves_as`` of the matching entries; None if one has none (such a
    case is excluded from the comparison)."""
    merged: dict[str, Any] = {}
    for e in entries:
        if e.behaves_as is None:
            return None
        for key, value in e.behaves_as.items():
            if key in merged and merged[key] != value:
                raise RegistryError(f"entries {[x.id for x in entries]} all match one case but "
                                    f"disagree on behaves_as {key!r}")
            merged[key] = value
    return merged


# -------------------------------------------------------------------------- loading
def _oracle_params(op: str) -> set[str]:
    func = getattr(reference, op)
    return {p.name for p in inspect.signature(func).parameters.values()
            if p.kind is inspect.Parameter.KEYWORD_ONLY} | (
        {"kernel_size"} if op != "conv" else set())


def _validate(table: Mapping[str, Any], index: int) -> list[str]:
    where = f"discrepancy #{index} ({table.get('id', '?')})"
    problems = [f"{where}: missing key {k!r}" for k in REQUIRED if k not in table]
    problems += [f"{where}: unknown key {k!r}" for k in table if k not in REQUIRED + OPTIONAL]
    if table.get("op") not in OPS:
        problems.append(f"{where}: op must be one of {OPS}, got {table.get('op')!r}")
    if table.get("kind") not in KINDS:
        problems.append(f"{where}: kind must be one of {KINDS}, got {table.get('kind')!r}")
    if table.get("topic") not in TOPICS:
        problems.append(f"{where}: topic must be one of {TOPICS}, got {table.get('topic')!r}")
    if not isinstance(table.get("backends", []), list):
        problems.append(f"{where}: backends must be a list of suite backend names")
    if not str(table.get("source", "")).startswith(("http://", "https://")):
        problems.append(f"{where}: source must be a URL")
    op = table.get("op")
    own = {"conv": OP_FACTS["conv"], "max_pool": OP_FACTS["pool"],
           "avg_pool": OP_FACTS["pool"] | OP_FACTS["avg_pool"]}.get(op, frozenset())
    foreign = frozenset().union(*OP_FACTS.values()) - own
    for name in table.get("when", {}):
        if name not in FACTS:
            problems.append(f"{where}: when: unknown fact {name!r} (known: {sorted(FACTS)})")
        elif name in foreign:
            problems.append(f"{where}: when: {op} cases have no fact {name!r}")
    if table.get("op") in OPS:
        allowed = _oracle_params(table["op"])
        for name in table.get("behaves_as", {}):
            if name not in allowed:
                problems.append(f"{where}: behaves_as: {name!r} is not an argument of "
                                f"reference.{table['op']} ({sorted(allowed)})")
    cpu = table.get("cpu", [])
    def is_flag(f: Any) -> bool:
        return isinstance(f, str) and f.lstrip("!").isidentifier()
    if not (isinstance(cpu, list) and all(
            is_flag(f) or (isinstance(f, list) and f and all(map(is_flag, f))) for f in cpu)):
        problems.append(f"{where}: cpu must be a list of CPU feature flags ('flag', '!flag', "
                        f"or a list of them of which any one suffices), got {cpu!r}")
    repro = table.get("reproducer")
    if repro is not None:
        if "x_shape" not in repro and "x" not in repro:
            problems.append(f"{where}: reproducer needs x_shape or x")
        problems += [f"{where}: reproducer: unknown key {k!r}" for k in repro
                     if k not in REPRODUCER_KEYS]
    return problems


def load(path: str | Path | None = None) -> list[Entry]:
    """Read and validate the registry (``path``, else $CONFORMANCE_REGISTRY, else
    :data:`DEFAULT_PATH`).

    Raises
    ------
    RegistryError
        Listing every malformed entry: a missing or unknown key, an unknown op, kind,
        topic, ``when`` fact or ``behaves_as`` argument, a duplicate id.
    """
    path = Path(path or os.environ.get("CONFORMANCE_REGISTRY") or DEFAULT_PATH)
    if not path.exists():
        return []
    with path.open("rb") as f:
        data = tomllib.load(f)
    tables = data.get("discrepancy", [])
    problems: list[str] = []
    seen: set[str] = set()
    entries = []
    for i, table in enumerate(tables):
        problems += _validate(table, i)
        ident = table.get("id", "")
        if ident in seen:
            problems.append(f"discrepancy #{i}: duplicate id {ident!r}")
        seen.add(ident)
        entries.append(Entry(
            id=ident, backends=tuple(table.get("backends", [])), op=table.get("op", ""),
            topic=table.get("topic", ""), kind=table.get("kind", ""),
            summary=table.get("summary", ""), when=dict(table.get("when", {})),
            behaves_as=({k: _tomlish(v) for k, v in table["behaves_as"].items()}
                        if "behaves_as" in table else None),
            reproducer=dict(table["reproducer"]) if "reproducer" in table else None,
            cpu=tuple(table.get("cpu", [])) if isinstance(table.get("cpu", []), list) else (),
            raw=table,
        ))
    if problems:
        raise RegistryError(f"{path} is malformed:\n  " + "\n  ".join(problems))
    return entries


# ------------------------------------------------------------------------ reproducer
@dataclass(frozen=True)
class ReproducerCall:
    """An entry's reproducer as one call: arrays, keyword arguments, dtype."""

    op: str
    arrays: dict[str, np.ndarray | None]
    params: dict[str, Any]
    dtype: str


def _filled(spec: Mapping[str, Any], key: str, shape: Any, dtype: np.dtype) -> np.ndarray:
    if key in spec:
        arr = np.asarray(spec[key], dtype=np.float64)
        return (arr.reshape(shape) if shape is not None else arr).astype(dtype)
    n = int(np.prod(shape))
    return np.arange(1, n + 1, dtype=np.float64).reshape(shape).astype(dtype)


def reproducer_call(entry: Entry, dtype_of: Any) -> ReproducerCall:
    """Arrays and arguments of ``entry``'s reproducer.

    ``dtype_of`` maps a dtype name to a NumPy dtype (so bfloat16 comes from the caller).
    Unspecified arrays are ``np.arange(1, n + 1)`` in the reproducer's shape; a
    convolution's ``w_shape`` defaults to one ``(1, C, 1, 1...)`` filter, and
    ``b = true`` means ``np.arange(1, O + 1)``.
    """
    assert entry.reproducer is not None
    spec = entry.reproducer
    dtype_name = str(spec.get("dtype", "float32"))
    dtype = dtype_of(dtype_name)
    x = _filled(spec, "x", spec.get("x_shape"), dtype)
    params = {k: _tomlish(v) for k, v in spec.get("params", {}).items()}
    arrays: dict[str, np.ndarray | None] = {"x": x}
    if entry.op == "conv":
        w_shape = spec.get("w_shape", [1, x.shape[1], *([1] * (x.ndim - 2))])
        arrays["w"] = _filled(spec, "w", w_shape, dtype)
        b = spec.get("b")
        if b is True:
            arrays["b"] = np.arange(1, w_shape[0] + 1).astype(dtype)
        elif b is not None and b is not False:
            arrays["b"] = np.asarray(b, dtype=np.float64).astype(dtype)
        else:
            arrays["b"] = None
    return ReproducerCall(entry.op, arrays, params, dtype_name)


def _tomlish(value: Any) -> Any:
    """TOML arrays become tuples, so that (lo, hi) pairs read as the oracle expects."""
    if isinstance(value, list):
        return tuple(_tomlish(v) for v in value)
    return value
