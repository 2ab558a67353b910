"""Running the probes of one backend: render the cases, run them in a worker subprocess,
compute the oracle's candidates, decide verdicts and check them against the registry."""

from __future__ import annotations

import importlib.metadata
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

import registry
from backends.table import by_name, parse
from probes import AGREEING, VARIANT_TOPICS
from probes.cases import CASES, Case, eval_array, oracle_call
from probes.render import Rendered, renderers
from reference.tolerances import rounded_result_rtol

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = "conv-conformance probe records 1"
#: Seconds one worker process may run before its current probe counts as hung.
WORKER_TIMEOUT = 300

def framework_version(backend: str) -> str:
    """The installed version of ``backend``'s framework ("" if not installed)."""
    for dist in by_name(parse(backend)[0]).distributions:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return ""


def backend_versions(backend: str) -> dict[str, str]:
    """Versions of the frameworks a probe backend runs (Keras and its backend)."""
    spec = by_name(parse(backend)[0])
    versions = {spec.framework: framework_version(backend)}
    if spec.session_param:  # Keras on another framework: that framework's version too
        versions[spec.session_param] = framework_version(spec.session_param)
    return versions


def probe_list(backend: str, only: Sequence[str] = ()) -> list[tuple[str, Case, Rendered]]:
    """Every (probe id, case, rendered snippet) of ``backend``."""
    out = []
    variant = parse(backend)[1]
    for case in CASES:
        if only and case.key not in only:
            continue
        if variant and case.topic not in VARIANT_TOPICS:
            continue
        for render in renderers(backend):
            for rendered in render(case):
                out.append((f"{rendered.api}:{case.key}", case, rendered))
    return out


def _worker_env(backend: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    name, variant = parse(backend)
    env.update(by_name(name).env)
    if variant:
        env.update(by_name(name).variant(variant).env)
    return env


def run_worker(backend: str, snippets: list[dict[str, str]]) -> dict[str, dict[str, Any]]:
    """Run ``snippets`` in worker subprocesses, restarting after a crash.

    Returns
    -------
    dict
        Probe id -> the worker's result, or ``{"crash": {...}}`` for the probe that was
        running when the worker died.
    """
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp, "snippets.json")
        src.write_text(json.dumps(snippets))
        out = Path(tmp, "results.jsonl")
        while True:
            try:
                proc = subprocess.run(
                    [sys.executable, "-m", "probes.worker", str(src), str(out)], cwd=ROOT,
                    env=_worker_env(backend), stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE, timeout=WORKER_TIMEOUT, check=False)
                returncode, stderr = proc.returncode, proc.stderr.decode(errors="replace")
            except subprocess.TimeoutExpired as err:
                returncode = None
                stderr = (err.stderr or b"").decode(errors="replace")
            lines = [json.loads(s) for s in out.read_text().splitlines() if s] \
                if out.exists() else []
            started = None
            for line in lines:
                if line.get("started"):
                    started = line["id"]
                else:
                    results[line["id"]] = {k: v for k, v in line.items() if k != "id"}
                    started = None
            if started is None:
                if returncode not in (0, None):
                    raise RuntimeError(f"probe worker failed outside a probe:\n{stderr}")
                return results
            results[started] = {"crash": _crash_info(returncode, stderr)}
            if len(results) == len(snippets):
                return results


def _crash_info(returncode: int | None, stderr: str) -> dict[str, Any]:
    if returncode is None:
        return {"how": "hung", "detail": f"no result within {WORKER_TIMEOUT} s"}
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        how = f"killed by {name}"
    else:
        how = f"exit status {returncode}"
    tail = [s for s in stderr.strip().splitlines() if s.strip()][-1:] or [""]
    return {"how": how, "detail": tail[0][:300]}


# ---------------------------------------------------------------------------- judging
def result_dict(arr: Any) -> dict[str, Any]:
    """An oracle or framework array as a record: shape and flattened values."""
    from probes.worker import _jsonable

    data = np.ma.getdata(arr)
    values = _jsonable(data)
    mask = np.ma.getmaskarray(arr).ravel()
    return {"shape": list(np.shape(data)),
            "values": ["*" if m else v for v, m in zip(values, mask, strict=True)]}


def candidates(case: Case) -> dict[str, Any]:
    """The oracle's answer under each candidate convention (default first): an array, or
    the exception it raises."""
    x = eval_array(case.x)
    w = eval_array(case.w) if case.w is not None else None
    b = eval_array(case.b) if case.b is not None else None
    out: dict[str, Any] = {}
    fns = {"oracle": None, **case.candidates}
    # a backward case's output gradient, and which gradient it asks for
    grad = {} if case.dy is None else {"dy": eval_array(case.dy), "grad": case.grad}
    for name, fn in fns.items():
        try:
            # NaN and inf inputs are the point of some cases
            with np.errstate(all="ignore"):
                out[name] = (oracle_call(case.op, x, w, b, case.params, **grad) if fn is None
                             else fn(case.op, x, w, b, dict(case.params), **grad))
        except (ValueError, TypeError) as err:
            out[name] = err
    return out


def observed_array(obs: Mapping[str, Any], channels_last: bool) -> np.ndarray:
    """The framework's result as a channels-first float64 array."""
    values = np.array([float(v) for v in obs["values"]], dtype=np.float64)
    arr = values.reshape(obs["shape"])
    return np.moveaxis(arr, -1, 1) if channels_last and arr.ndim > 2 else arr


def same_values(got: np.ndarray, want: Any, dtype: str) -> bool:
    """Whether ``got`` equals ``want`` (masked cells of ``want`` match anything): same
    shape, NaN where NaN, equal infinities, finite values within the tolerance module's
    bound for a result of exact small-integer sums rounded into ``dtype`` with one
    division (:func:`reference.tolerances.rounded_result_rtol`)."""
    data = np.asarray(np.ma.getdata(want), dtype=np.float64)
    if got.shape != data.shape:
        return False
    mask = np.ma.getmaskarray(want)
    rtol = rounded_result_rtol(dtype)
    close = np.isclose(got, data, rtol=rtol, atol=0.0, equal_nan=True)
    return bool(np.all(close | mask))


def verdict(case: Case, obs: Mapping[str, Any], cands: Mapping[str, Any],
            channels_last: bool) -> str:
    """The probe's verdict (see :mod:`probes`)."""
    if "crash" in obs:
        return "crashes"
    oracle = cands["oracle"]
    if "exception" in obs:
        return "follows-oracle" if isinstance(oracle, Exception) else case.on_error
    got = observed_array(obs, channels_last)
    dtype = obs["dtype"]
    if not isinstance(oracle, Exception) and same_values(got, oracle, dtype):
        return "follows-oracle"
    for name, want in cands.items():
        if name != "oracle" and not isinstance(want, Exception) \
                and same_values(got, want, dtype):
            return f"follows:{name}"
    return "differs"


def judge(backend: str, probes: list[tuple[str, Case, Rendered]],
          results: Mapping[str, Mapping[str, Any]], versions: Mapping[str, str],
          entries: Mapping[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """Probe records and the run's problems (unregistered, stale, unknown entries).

    ``entries`` maps registry ids to :class:`registry.Entry`; an entry about CPU features
    this machine lacks, or whose version bounds ``versions`` do not meet, does not explain
    a probe here."""
    flags = registry.cpu_flags()
    name, variant = parse(backend)
    framework = by_name(name).framework
    version = versions[framework]
    label = " ".join(f"{k} {v}" for k, v in versions.items())
    records, problems = [], []
    applicable = [e for e in entries.values() if not e.outside_versions(versions)]
    for pid, case, rendered in probes:
        obs = dict(results[pid])
        cands = candidates(case)
        v = verdict(case, obs, cands, rendered.channels_last)
        if "values" in obs:
            arr = observed_array(obs, rendered.channels_last)
            obs.update(shape=list(arr.shape), values=result_dict(arr)["values"])
            if v == "differs" and isinstance(cands["oracle"], Exception):
                # values computed from input the oracle rejects may be uninitialised
                # memory: keep the shape only, so the records stay reproducible
                obs.update(values=None, printed=None)
        found = registry.probe_entry(applicable, rendered.api, rendered.column, case.key,
                                     variant)
        entry = found.id if found is not None else None
        if found is not None and found.missing_cpu_flags(flags):
            entry = None
        if v not in AGREEING and entry is None:
            problems.append(f"unregistered difference: {pid} on {label}: verdict {v}")
        if v in AGREEING and entry is not None:
            problems.append(f"stale: registry entry {entry!r} no longer reproduces on {label} "
                            f"({pid} now follows the oracle)")
        records.append({
            "id": pid, "backend": backend, "framework": framework, "version": version,
            "column": rendered.column, "api": rendered.api, "op": case.op,
            "topic": case.topic, "case": case.key, "title": case.title,
            "dtype": case.dtype, "x": case.x, "w": case.w,
            "params": {k: _plain(v) for k, v in case.params.items()},
            "candidates": {name: ({"exception": {"type": type(c).__name__,
                                                 "message": str(c)}}
                                  if isinstance(c, Exception) else result_dict(c))
                           for name, c in cands.items()},
            "observed": obs, "channels_last": rendered.channels_last,
            "verdict": v, "registry": entry if v not in AGREEING else None,
            "code": rendered.code,
        })
    return records, problems


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def run(backend: str, only: Sequence[str] = ()) -> tuple[dict[str, Any], list[str]]:
    """Run ``backend``'s probes; return the records document and the problems."""
    # the registry's loader lives with the suite; importing it needs only numpy + stdlib
    versions = backend_versions(backend)
    probes = probe_list(backend, only)
    results = run_worker(backend, [{"id": pid, "code": r.code} for pid, _, r in probes])
    entries = {e.id: e for e in registry.load()}
    records, problems = judge(backend, probes, results, versions, entries)
    doc = {"schema": SCHEMA, "backend": backend,
           "framework": by_name(parse(backend)[0]).framework,
           "versions": versions, "probes": records, "problems": problems}
    return doc, problems
