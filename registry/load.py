"""Reading and validating the registry: ``registry/entries/*.toml``, one file per framework.

The environment variable ``CONFORMANCE_REGISTRY`` names another file or directory (the
self-test checks the registry's semantics end to end with one).
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import reference
from backends.table import BACKENDS, by_name
from registry import claims
from registry.entry import Entry
from registry.facts import matches
from registry.versions import bound_problem
from registry.vocabulary import (
    CLAIM_KEYS,
    FACTS,
    KINDS,
    OP_FACTS,
    OPS,
    OPTIONAL,
    PASSES,
    REPRODUCER_KEYS,
    REQUIRED,
    TOPICS,
    WORKAROUND_KEYS,
    own_facts,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

#: Framework names a ``versions`` bound can name: the frameworks of the backend table.
FRAMEWORKS = frozenset(spec.framework for spec in BACKENDS)

#: Where the entries live: one TOML file per framework.
DEFAULT_PATH = Path(__file__).resolve().parent / "entries"


class RegistryError(ValueError):
    """The registry is malformed; the message lists every problem found."""


def _oracle_params(op: str) -> set[str]:
    func = getattr(reference, op)
    return {p.name for p in inspect.signature(func).parameters.values()
            if p.kind is inspect.Parameter.KEYWORD_ONLY} | (
        {"kernel_size"} if op not in ("conv", "conv_vjp") else set())


def _is_flag(f: Any) -> bool:
    return isinstance(f, str) and f.lstrip("!").isidentifier()


def _workaround_problems(workaround: Any) -> list[str]:
    if not isinstance(workaround, Mapping) or not workaround:
        return ["workaround must be a table: { text = ..., code = ... } or { none = ... }"]
    problems = [f"workaround: unknown key {k!r} (known: {sorted(WORKAROUND_KEYS)})"
                for k in workaround if k not in WORKAROUND_KEYS]
    problems += [f"workaround: {k} must be non-empty text" for k, v in workaround.items()
                 if k in WORKAROUND_KEYS and not (isinstance(v, str) and v.strip())]
    if ("none" in workaround) == ("text" in workaround):
        problems.append("workaround needs either text (and optionally code) or none")
    elif "none" in workaround and "code" in workaround:
        problems.append("workaround: none takes no code")
    if isinstance(workaround.get("code"), str):
        try:
            compile(workaround["code"], "<workaround>", "exec")
        except SyntaxError as err:
            problems.append(f"workaround: code is not valid Python ({err.msg}, line "
                            f"{err.lineno})")
    return problems


def validate(table: Mapping[str, Any], where: str) -> list[str]:
    """Every problem of one entry's TOML table, each prefixed by ``where``."""
    problems = [f"missing key {k!r}" for k in REQUIRED if k not in table]
    problems += [f"unknown key {k!r}" for k in table if k not in REQUIRED + OPTIONAL]
    op = table.get("op")
    if op not in OPS:
        problems.append(f"op must be one of {OPS}, got {op!r}")
    if table.get("kind") not in KINDS:
        problems.append(f"kind must be one of {KINDS}, got {table.get('kind')!r}")
    if table.get("topic") not in TOPICS:
        problems.append(f"topic must be one of {TOPICS}, got {table.get('topic')!r}")
    if table.get("pass", "forward") not in PASSES:
        problems.append(f"pass must be one of {PASSES}, got {table.get('pass')!r}")
    if not isinstance(table.get("backends", []), list):
        problems.append("backends must be a list of suite backend names")
    if not str(table.get("source", "")).startswith(("http://", "https://")):
        problems.append("source must be a URL")
    foreign = frozenset().union(*OP_FACTS.values()) - own_facts(op)
    for name in table.get("when", {}):
        if name not in FACTS:
            problems.append(f"when: unknown fact {name!r} (known: {sorted(FACTS)})")
        elif name in foreign:
            problems.append(f"when: {op} cases have no fact {name!r}")
    if op in OPS:
        allowed = _oracle_params(op)
        problems += [f"behaves_as: {name!r} is not an argument of reference.{op} "
                     f"({sorted(allowed)})"
                     for name in table.get("behaves_as", {}) if name not in allowed]
    problems += [f"claim: unknown key {k!r} (known: {sorted(CLAIM_KEYS)})"
                 for k in table.get("claim", {}) if k not in CLAIM_KEYS]
    claim, claim_problems = claims.parse(table)
    problems += claim_problems
    if table.get("backends") and claim is None:
        problems.append("an entry the suite applies (non-empty backends) needs a claim: "
                        "behaves_as or a claim table")
    cpu = table.get("cpu", [])
    if not (isinstance(cpu, list) and all(
            _is_flag(f) or (isinstance(f, list) and f and all(map(_is_flag, f))) for f in cpu)):
        problems.append("cpu must be a list of CPU feature flags ('flag', '!flag', or a list "
                        f"of them of which any one suffices), got {cpu!r}")
    probes = table.get("probes", {})
    if not (isinstance(probes, Mapping) and all(
            isinstance(v, list) and all(isinstance(c, str) for c in v) for v in probes.values())):
        problems.append("probes must map a report column or API name to a list of probe "
                        "case keys")
    versions = table.get("versions", {})
    if not isinstance(versions, Mapping):
        problems.append("versions must map framework names to version bounds, "
                        f"e.g. {{ torch = \">=2.9\" }}, got {versions!r}")
    else:
        for name, bound in versions.items():
            if name not in FRAMEWORKS:
                problems.append(f"versions: unknown framework {name!r} (known: "
                                f"{sorted(FRAMEWORKS)})")
            problem = bound_problem(bound)
            if problem is not None:
                problems.append(f"versions: {name}: {problem}")
    if "workaround" in table:
        problems += _workaround_problems(table["workaround"])
    elif set(table.get("frameworks", [])) & FRAMEWORKS:
        problems.append("an entry about a framework of the report needs a workaround "
                        "(the porting guides show it): { text = ..., code = ... } or "
                        "{ none = ... }")
    repro = table.get("reproducer")
    if repro is not None:
        if "x_shape" not in repro and "x" not in repro:
            problems.append("reproducer needs x_shape or x")
        problems += [f"reproducer: unknown key {k!r}" for k in repro
                     if k not in REPRODUCER_KEYS]
        variant = repro.get("variant")
        if variant is not None:
            when = table.get("when", {})
            if not isinstance(variant, str) or (
                    isinstance(when, Mapping) and "variant" in when
                    and not matches({"variant": when["variant"]}, {"variant": variant})):
                problems.append(f"reproducer: variant {variant!r} is not one its 'when' "
                                "names")
            builtin = {spec.name for spec in BACKENDS}
            for backend in set(table.get("backends", [])) & builtin:
                try:
                    by_name(backend).variant(str(variant))
                except KeyError as err:
                    problems.append(f"reproducer: {err.args[0]}")
    return [f"{where}: {p}" for p in problems]


def _files(path: Path) -> list[Path]:
    return sorted(path.glob("*.toml")) if path.is_dir() else [path]


def load(path: str | Path | None = None) -> list[Entry]:
    """Read and validate the registry (``path``, else $CONFORMANCE_REGISTRY, else
    :data:`DEFAULT_PATH`): a TOML file or a directory of them.

    Raises
    ------
    RegistryError
        Listing every malformed entry: a missing or unknown key, an unknown op, kind,
        topic, ``when`` fact, ``behaves_as`` argument or value model, a suite entry
        without a claim, a duplicate id.
    """
    path = Path(path or os.environ.get("CONFORMANCE_REGISTRY") or DEFAULT_PATH)
    if not path.exists():
        return []
    problems: list[str] = []
    seen: set[str] = set()
    entries = []
    for file in _files(path):
        try:
            with file.open("rb") as f:
                tables = tomllib.load(f).get("discrepancy", [])
        except tomllib.TOMLDecodeError as exc:
            problems.append(f"{file.name}: not valid TOML: {exc}")
            continue
        for i, table in enumerate(tables):
            ident = table.get("id", "")
            problems += validate(table, f"{file.name} #{i} ({ident or '?'})")
            if ident in seen:
                problems.append(f"{file.name} #{i}: duplicate id {ident!r}")
            seen.add(ident)
            claim, _ = claims.parse(table)
            entries.append(Entry(
                id=ident, backends=tuple(table.get("backends", [])), op=table.get("op", ""),
                topic=table.get("topic", ""), kind=table.get("kind", ""),
                summary=table.get("summary", ""), when=dict(table.get("when", {})),
                claim=claim,
                reproducer=dict(table["reproducer"]) if "reproducer" in table else None,
                cpu=tuple(table.get("cpu", [])) if isinstance(table.get("cpu", []), list)
                else (),
                probes={k: tuple(v) for k, v in table.get("probes", {}).items()}
                if isinstance(table.get("probes", {}), Mapping) else {},
                pass_=table.get("pass", "forward"),
                versions=dict(table.get("versions", {}))
                if isinstance(table.get("versions", {}), Mapping) else {},
                raw=table,
            ))
    if problems:
        raise RegistryError(f"{path} is malformed:\n  " + "\n  ".join(problems))
    return entries
