"""Sessions: the oracle's tests, lint, the benchmark, one conformance session per backend,
and the discrepancy report.

``nox`` with no arguments runs the test command (every default session below);
``nox -s report`` runs every backend's suite and probes and rebuilds the report.
The backend sessions come from the backend table (``backends/table.py``): one session per
row, or one parametrized session for rows that share a session name (``keras``), and one
``<session>_variants`` session per session whose rows have variants, running each variant in
turn in one virtualenv under the ``variant`` hypothesis profile (select some with
``CONFORMANCE_VARIANTS="channels_last xla"``; an on-demand variant, such as
``tensorflow[onednn]``, runs only when named there).
Framework versions are pinned there; override one with an environment variable,
e.g. ``CONFORMANCE_TORCH="torch==2.14.1" nox -s torch``.
Extra arguments go to pytest: ``nox -s torch -- --hypothesis-profile thorough``.

``nox -s history`` (not part of the test command) runs the suite and probes on each
framework release of the table's ``history`` columns, one cached virtualenv per release
(``history(backend='torch', version='2.4.1')``), then writes ``reports/history.json``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import nox


def _load_table() -> Any:
    """``backends/table.py`` without importing the ``backends`` package (nox's own
    environment has no NumPy)."""
    path = Path(__file__).parent / "backends" / "table.py"
    spec = importlib.util.spec_from_file_location("backend_table", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


table = _load_table()
GROUPS = table.session_groups()
VARIANT_GROUPS = table.variant_groups()

nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "tests", *GROUPS,
                        *(g for g in VARIANT_GROUPS if g in table.TEST_COMMAND_VARIANT_SESSIONS),
                        "report_check", "browser"]

PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


def run_backend(session: nox.Session, backend: str) -> None:
    """Install ``backend``'s framework and run the conformance suite and probes against it."""
    spec = table.by_name(backend)
    session.install(*table.TEST_REQUIREMENTS, *table.requirements(spec))
    run_suite(session, backend, "ci", ("tests/conformance", "tests/selftest"))


def run_suite(session: nox.Session, key: str, profile: str, paths: tuple[str, ...]) -> None:
    """Run the suite (``paths``) and the probes on ``key`` (a backend, or one of its
    variants: ``torch[compile]``), writing its records under ``reports/``."""
    name, variant = table.parse(key)
    spec = table.by_name(name)
    env = {**spec.env, **(spec.variant(variant).env if variant else {})}
    os.makedirs("reports/records", exist_ok=True)
    session.run(
        "python", "-m", "pytest", *paths,
        f"--backend={key}",
        f"--junitxml=reports/junit-{key}.xml",
        f"--records=reports/records/suite-{key}.json",
        # derandomized, so the records (and the report built from them) are reproducible;
        # a later --hypothesis-profile in the extra arguments wins
        f"--hypothesis-profile={profile}",
        *session.posargs,
        env=env,
    )
    if spec.probes:
        session.run("python", "-m", "probes", key,
                    f"--out=reports/records/probes-{key}.json", env=env)


def run_variants(session: nox.Session, keys: tuple[str, ...]) -> None:
    """Install the frameworks of ``keys`` (variants of one session's backends) once, and
    run the suite and probes on each variant in turn but the on-demand ones
    (``CONFORMANCE_VARIANTS`` selects some by name instead, e.g. ``"xla onednn"``)."""
    specs = [table.by_name(name) for name in dict.fromkeys(table.parse(k)[0] for k in keys)]
    session.install(*table.TEST_REQUIREMENTS,
                    *dict.fromkeys(r for spec in specs for r in table.requirements(spec)))
    chosen = os.environ.get("CONFORMANCE_VARIANTS", "").split()
    failed = []
    for key in keys:
        name, variant = table.parse(key)
        if (variant in chosen or key in chosen
                or (not chosen and not table.by_name(name).variant(variant).on_demand)):
            try:
                run_suite(session, key, "variant", ("tests/conformance",))
            except nox.command.CommandFailed:
                failed.append(key)  # the other variants still run and write their records
    if failed:
        session.error(f"failed: {', '.join(failed)}")


def _backend_session(group: str, specs: tuple[Any, ...]) -> None:
    """Define the nox session ``group`` running the backends ``specs``."""
    frameworks = ", ".join(s.display for s in specs)
    if len(specs) == 1:
        def session_fn(session: nox.Session) -> None:
            run_backend(session, specs[0].name)
    else:
        param = f"{group}_backend"

        @nox.parametrize(param, [s.session_param for s in specs])
        def session_fn(session: nox.Session, **kwargs: str) -> None:
            run_backend(session, f"{group}-{kwargs[param]}")
        # nox passes parameters by name: give the function that parameter's name
        session_fn.__signature__ = _signature(param)  # type: ignore[attr-defined]
    session_fn.__doc__ = f"Conformance suite and probes on {frameworks}."
    session_fn.__name__ = group
    nox.session(python=PYTHON, name=group)(session_fn)


def _signature(param: str) -> Any:
    import inspect

    return inspect.Signature([
        inspect.Parameter("session", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        inspect.Parameter(param, inspect.Parameter.KEYWORD_ONLY)])


for _group, _specs in GROUPS.items():
    _backend_session(_group, _specs)


def _variants_session(group: str, keys: tuple[str, ...]) -> None:
    """Define the nox session ``group`` running the variants ``keys``."""
    def session_fn(session: nox.Session) -> None:
        run_variants(session, keys)
    on_demand = [k for k in keys if k not in table.variant_keys(on_demand=False)]
    session_fn.__doc__ = (f"Conformance suite and probes on the variants {', '.join(keys)}"
                          + (f" ({', '.join(on_demand)} on demand)." if on_demand else "."))
    session_fn.__name__ = group
    nox.session(python=PYTHON, name=group)(session_fn)


for _group, _keys in VARIANT_GROUPS.items():
    _variants_session(_group, _keys)


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The oracle's own tests, the report builder's and the variants' spelling (no
    framework installed)."""
    session.install("numpy", table.ML_DTYPES, "jsonschema>=4.18", *table.TEST_REQUIREMENTS)
    session.run("python", "-m", "pytest", "tests/reference", "tests/report", "tests/variants",
                "--junitxml=reports/junit-tests.xml", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff over the whole tree."""
    session.install("ruff")
    session.run("ruff", "check", ".")


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """The oracle side by side with PyTorch float64 on CPU, in one process."""
    session.install("numpy", *table.requirements(table.by_name("torch")))
    session.run("python", "-m", "bench", *session.posargs)


@nox.session(python=PYTHON)
def report(session: nox.Session) -> None:
    """Main job: every backend's suite and probes, then the discrepancy report."""
    # each parametrization by name: notify("keras") would queue only the first
    for spec in table.BACKENDS:
        session.notify(spec.nox_session)
    for group in VARIANT_GROUPS:
        if group in table.TEST_COMMAND_VARIANT_SESSIONS:
            session.notify(group)
    session.notify("build_report")


#: Where each history release's records go (not committed), and the history document.
HISTORY_RECORDS = Path("reports/history")
HISTORY_DOC = Path("reports/history.json")


@nox.session(python=PYTHON)
@nox.parametrize(("backend", "version"), [(spec.name, r.version)
                                          for spec, r in table.history_releases()])
def history(session: nox.Session, backend: str, version: str) -> None:
    """The suite (short derandomized profile) and probes on one framework release of the
    history; failing tests are observations, recorded like passing ones."""
    session.notify("history_build")
    spec = table.by_name(backend)
    release = table.release(spec, version)
    stem = f"{backend}-{version}"
    HISTORY_RECORDS.mkdir(parents=True, exist_ok=True)
    for kind in ("run", "suite", "probes"):
        (HISTORY_RECORDS / f"{kind}-{stem}.json").unlink(missing_ok=True)
    run: dict[str, Any] = {"backend": backend, "version": version,
                           "requirements": list(release.requirements), "seconds": {}}
    run_path = HISTORY_RECORDS / f"run-{stem}.json"

    def save(outcome: str) -> None:
        run["outcome"] = outcome
        run_path.write_text(json.dumps(run, indent=2, sort_keys=True) + "\n")

    start = time.monotonic()
    try:
        session.install(*table.TEST_REQUIREMENTS, *release.requirements,
                        env=dict(release.install_env))
    except nox.command.CommandFailed:
        run["seconds"]["install"] = round(time.monotonic() - start)
        save("install-failed")
        session.error(f"{backend} {version} did not install")
    run["seconds"]["install"] = round(time.monotonic() - start)
    env = dict(spec.env)
    versions = session.run(
        "python", "-c", "import json, sys; from probes.run import backend_versions; "
        "print(json.dumps(backend_versions(sys.argv[1])))", backend,
        env=env, silent=True)
    if versions is None:  # nox --install-only
        return
    run["frameworks"] = json.loads(str(versions).strip().splitlines()[-1])
    start = time.monotonic()
    try:
        # exit status 1: failed tests, which on an old release are findings, not errors
        session.run(
            "python", "-m", "pytest", "tests/conformance", f"--backend={backend}",
            f"--records={HISTORY_RECORDS}/suite-{stem}.json", "--hypothesis-profile=history",
            "-q", "-p", "no:cacheprovider", *session.posargs,
            env=env, success_codes=[0, 1])
    except nox.command.CommandFailed:
        run["seconds"]["suite"] = round(time.monotonic() - start)
        save("suite-error")
        session.error(f"the suite did not run to its end on {backend} {version}")
    run["seconds"]["suite"] = round(time.monotonic() - start)
    start = time.monotonic()
    session.run("python", "-m", "probes", backend,
                f"--out={HISTORY_RECORDS}/probes-{stem}.json", env=env, success_codes=[0, 1])
    run["seconds"]["probes"] = round(time.monotonic() - start)
    save("ran")


@nox.session(python=PYTHON)
def history_build(session: nox.Session) -> None:
    """Write reports/history.json from the history's records (reports/history/)."""
    session.install("numpy", "tomli>=2; python_version < '3.11'")
    session.run("python", "-m", "report.history", str(HISTORY_RECORDS), str(HISTORY_DOC),
                *session.posargs)


@nox.session(python=PYTHON)
def build_report(session: nox.Session) -> None:
    """Build the report (docs/, reports/discrepancies.json, README blocks) from the records,
    and this machine's evidence (reports/evidence.md, not committed)."""
    session.install("numpy", "tomli>=2; python_version < '3.11'")
    session.run("python", "-m", "report", "build", *session.posargs)


@nox.session(python=PYTHON)
def report_check(session: nox.Session) -> None:
    """Fail when the committed report differs from one rebuilt from this run's records
    (it leaves out what depends on the machine, so any CPU rebuilds the same files)."""
    session.install("numpy", "tomli>=2; python_version < '3.11'")
    session.run("python", "-m", "report", "check", *session.posargs)


#: Names the system's Chromium goes by; the browser session drives the first it finds.
CHROMIUM = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def system_chromium(session: nox.Session) -> str:
    """The path of the system's Chromium (``$CHROMIUM``, else the first of
    :data:`CHROMIUM` on the PATH), installed with apt-get when there is none: Playwright's
    own browser download is not used."""
    found = os.environ.get("CHROMIUM") or next(filter(None, map(shutil.which, CHROMIUM)), None)
    if found:
        return found
    if not shutil.which("apt-get"):
        session.error("no Chromium on the PATH and no apt-get to install it: install "
                      "Chromium, or set CHROMIUM to its path")
    session.run("apt-get", "update", "-qq", external=True)
    session.run("apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium",
                external=True)
    found = next(filter(None, map(shutil.which, CHROMIUM)), None)
    if not found:
        session.error("apt-get installed chromium, but no Chromium is on the PATH")
    return found


@nox.session(python=PYTHON)
def browser(session: nox.Session) -> None:
    """docs/report.html in headless Chromium (Playwright, the system's Chromium): no console
    errors, no sideways scrolling at 390 px, every in-page link resolves, the filters work;
    screenshots in reports/screenshots/."""
    session.install("numpy", *table.TEST_REQUIREMENTS, "playwright>=1.40")
    chromium = system_chromium(session)
    session.run("python", "-m", "pytest", "tests/browser", "--junitxml=reports/junit-browser.xml",
                *session.posargs, env={"CHROMIUM": chromium})
