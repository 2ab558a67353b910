"""Sessions: the oracle's tests, lint, the benchmark, one conformance session per backend,
and the discrepancy report.

``nox`` with no arguments runs the test command (every default session below);
``nox -s report`` runs every backend's suite and probes and rebuilds the report.
The backend sessions come from the backend table (``backends/table.py``): one session per
row, or one parametrized session for rows that share a session name (``keras``).
Framework versions are pinned there; override one with an environment variable,
e.g. ``CONFORMANCE_TORCH="torch==2.14.1" nox -s torch``.
Extra arguments go to pytest: ``nox -s torch -- --hypothesis-profile thorough``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
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

nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "tests", *GROUPS, "report_check", "browser"]

PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


def run_backend(session: nox.Session, backend: str) -> None:
    """Install ``backend``'s framework and run the conformance suite and probes against it."""
    spec = table.by_name(backend)
    session.install(*table.TEST_REQUIREMENTS, *table.requirements(spec))
    os.makedirs("reports/records", exist_ok=True)
    session.run(
        "python", "-m", "pytest", "tests/conformance", "tests/selftest",
        f"--backend={backend}",
        f"--junitxml=reports/junit-{backend}.xml",
        f"--records=reports/records/suite-{backend}.json",
        # derandomized, so the records (and the report built from them) are reproducible;
        # a later --hypothesis-profile in the extra arguments wins
        "--hypothesis-profile=ci",
        *session.posargs,
        env=dict(spec.env),
    )
    if spec.probes:
        session.run("python", "-m", "probes", backend,
                    f"--out=reports/records/probes-{backend}.json", env=dict(spec.env))


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


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The oracle's own tests and the report builder's (no framework installed)."""
    session.install("numpy", "jsonschema>=4.18", *table.TEST_REQUIREMENTS)
    session.run("python", "-m", "pytest", "tests/reference", "tests/report",
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
    session.notify("build_report")


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
