"""The one seam: which backend the conformance suite runs, hypothesis profiles, records.

``--backend NAME`` (a built-in name of :data:`backends.BUILTIN`), ``--backend NAME[VARIANT]``
(a built-in backend under one of the variants its row of ``backends/table.py`` lists, e.g.
``torch[channels_last]``) or ``--backend package.module:object`` (a plug-in) chooses the
backend; this file is the only place that knows which one runs, and hands it to tests as
the ``suite`` fixture, with the variant's name (a case fact registry entries can test).
``--records PATH`` writes the run's observations as JSON (see
:mod:`tests.support.records`). ``--hypothesis-profile dev|ci|thorough`` picks the
hypothesis settings (default: ``ci`` when the environment variable ``CI`` is set, else
``dev``; ``history`` for the runs of ``nox -s history``); ``variant`` is the budget of the
variant sessions, whose first call of each new shape compiles (XLA). A registry entry whose
version bounds the installed frameworks do not meet does not apply (its reproducer runs to
check that it does not reproduce there). A backend whose framework is not installed skips
the tests that need it; it never errors at collection.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings

import backends
from backends import table

# Examples per property test: modest in ci so that a session on the slowest backend
# (Keras builds a layer per call) takes minutes, not tens of minutes, on two cores.
settings.register_profile("dev", max_examples=50, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=100, derandomize=True, deadline=None,
                          print_blob=True, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
# One run per framework release of the history (nox -s history): few cases, reproducible.
# A failing case there is an observation, not a bug to minimise: no shrinking (which on an
# old release can wander into inputs that never return).
settings.register_profile("history", max_examples=20, derandomize=True, deadline=None,
                          print_blob=True, database=None,
                          phases=(Phase.explicit, Phase.reuse, Phase.generate),
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=1000, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow,
                                                 HealthCheck.data_too_large])
# Variant sessions: few examples per property test (each new shape costs a compilation of
# about a second under torch.compile or XLA); the fixed cases (seed examples, layer shapes,
# registry reproducers, the capability table) all run, the capability table of a compiling
# variant in backends.table.BUDGET_DTYPES only. ``thorough`` runs variants fully.
settings.register_profile("variant", max_examples=4, derandomize=True, deadline=None,
                          print_blob=True, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
DEFAULT_PROFILE = "ci" if os.environ.get("CI") else "dev"
settings.load_profile(DEFAULT_PROFILE)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance")
    group.addoption("--backend", default="numpy",
                    help="backend under test: a built-in name "
                         f"({', '.join(sorted(backends.BUILTIN))}), a built-in name with one "
                         f"of its variants ({', '.join(table.variant_keys())}) or "
                         "package.module:object (default: numpy)")
    group.addoption("--records", default=None, metavar="PATH",
                    help="write the run's results (counts, Unsupported reasons, registry "
                         "entry status, unregistered differences) as JSON to PATH")


class _Run:
    """The resolved backend (or why it could not be loaded) and the run's records."""

    def __init__(self, config: pytest.Config) -> None:
        import registry
        from tests.support.records import Records

        self.spec: str = config.getoption("--backend")
        self.backend: Any = None
        self.error: str | None = None
        try:
            base, self.variant = table.parse(self.spec)
        except ValueError as exc:
            raise pytest.UsageError(f"--backend {exc}") from exc
        if ":" not in base and base not in backends.BUILTIN:
            raise pytest.UsageError(f"--backend {self.spec!r}: not a built-in name "
                                    f"({', '.join(sorted(backends.BUILTIN))}) nor "
                                    "package.module:object")
        try:
            self.backend = backends.load(self.spec)
        except ImportError as exc:
            module = backends.BUILTIN.get(base, base).partition(":")[0]
            parts = module.split(".")
            if getattr(exc, "name", None) in {".".join(parts[:i + 1]) for i in range(len(parts))}:
                # the spec names a module that does not exist: a usage error, not a skip
                raise pytest.UsageError(f"--backend {self.spec!r}: {exc}") from exc
            # the backend's framework is not installed here: its tests skip
            self.error = f"backend {self.spec!r} cannot be imported here: {exc}"
        except (AttributeError, ValueError) as exc:
            raise pytest.UsageError(f"--backend {self.spec!r}: {exc}") from exc
        #: The suite name registry entries list (the variant's backend), and the key of
        #: the run's records (``torch[channels_last]``).
        self.name = (base if base in backends.BUILTIN
                     else backends.backend_name(self.backend, self.spec))
        self.key = table.key(self.name, self.variant)
        self.version = backends.backend_version(self.backend) if self.backend else "unknown"
        # A malformed registry fails every conformance test (through the suite fixture)
        # without breaking runs that do not use it, such as the oracle's own tests.
        self.registry_error: str | None = None
        try:
            mine = [e for e in registry.load() if self.name in e.backends]
        except registry.RegistryError as exc:
            mine, self.registry_error = [], str(exc)
        # Entries about one CPU's kernels apply only where the CPU has their features;
        # entries with version bounds only to the framework versions within them.
        flags = registry.cpu_flags()
        self.off_cpu = {e.id: e.missing_cpu_flags(flags) for e in mine
                        if e.missing_cpu_flags(flags)}
        installed = _installed_versions(self.name) if self.backend is not None else {}
        self.outside = {e.id: e.outside_versions(installed) for e in mine
                        if e.outside_versions(installed) and e.id not in self.off_cpu}
        self.entries = [e for e in mine if e.id not in self.off_cpu | self.outside.keys()]
        self.off_cpu_entries = [e for e in mine if e.id in self.off_cpu]
        self.outside_entries = [e for e in mine if e.id in self.outside]
        self.records = Records(self.key, self.version, [e.id for e in mine], self.off_cpu,
                               self.outside)
        self.records_path: str | None = config.getoption("--records")
        self.records.profile = (config.getoption("hypothesis_profile", default=None)
                                or DEFAULT_PROFILE)
        #: Whether a conformance test asked for the backend (the oracle's own tests do not).
        self.used = False

    # -- hooks: this object is registered as a plugin, so pytest calls these
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self.records.current_test = item.nodeid
        if getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
            self.records.property_tests.add(item.nodeid)
        if item.nodeid.startswith("tests/conformance/"):
            self.used = True

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Any:
        """A test that passed without comparing anything (every case it drew declined
        with Unsupported, or excluded) is reported as skipped, with the reasons."""
        outcome = yield
        report = outcome.get_result()
        if (call.when == "call" and report.passed and not hasattr(report, "wasxfail")
                and self.records.compared_nothing(item.nodeid)):
            reasons = self.records.reasons_of(item.nodeid)
            report.outcome = "skipped"
            report.longrepr = (str(item.path), item.location[1] or 0,
                               "Unsupported (every case this test drew): "
                               + "; ".join(reasons))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        outcomes = self.records.outcomes
        if report.when == "call":
            if hasattr(report, "wasxfail"):
                outcomes["xfailed" if report.skipped else "xpassed"] += 1
            else:
                outcomes[report.outcome] += 1  # a strict XPASS arrives as "failed"
                if report.skipped and "Unsupported" in str(report.longrepr):
                    outcomes["unsupported"] += 1  # the skipped tests that are Unsupported
        elif report.when == "setup":
            if report.skipped:
                outcomes["xfailed" if hasattr(report, "wasxfail") else "skipped"] += 1
            elif report.failed:
                outcomes["error"] += 1
        elif report.failed:
            outcomes["error"] += 1

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.used and self.backend is not None and not self.records.total_compared() \
                and not session.config.option.collectonly and session.testscollected:
            # a run that compared nothing has not tested the backend at all
            self.no_comparison = True
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if self.records_path:
            self.records.write(self.records_path)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        terminalreporter.section("conformance")
        if self.error:
            terminalreporter.write_line(self.error)
        for line in self.records.summary_lines():
            terminalreporter.write_line(line)
        if getattr(self, "no_comparison", False):
            terminalreporter.write_line(
                f"FAILED: backend {self.name} compared no case with the oracle (every call "
                "was declined, excluded or not run): the run tested nothing", red=True)


def _installed_versions(name: str) -> dict[str, str]:
    """Framework name -> installed version of built-in backend ``name`` (Keras and the
    framework it runs on); empty for a plug-in."""
    if name not in backends.BUILTIN:
        return {}
    from probes.run import backend_versions

    return {k: v for k, v in backend_versions(name).items() if v}


_RUN_KEY = pytest.StashKey[_Run]()


def pytest_configure(config: pytest.Config) -> None:
    run = _Run(config)
    config.stash[_RUN_KEY] = run
    config.pluginmanager.register(run, "conformance-run")


@pytest.fixture(scope="session")
def suite(pytestconfig: pytest.Config) -> Any:
    """The backend under test with its name, version, registry entries and records."""
    from tests.support.checks import Suite

    run = pytestconfig.stash[_RUN_KEY]
    if run.registry_error:
        pytest.fail(run.registry_error, pytrace=False)
    if run.backend is None:
        pytest.skip(run.error or "no backend")
    budget = (run.records.profile == "variant" and bool(run.variant)
              and table.by_name(run.name).variant(run.variant).compiles)
    return Suite(run.backend, run.name, run.version, run.spec, run.entries, run.records,
                 run.variant, budget)


@pytest.fixture(scope="session")
def backend(suite: Any) -> Any:
    """The backend object under test."""
    return suite.backend


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``registered_entry`` (a strict xfail each) over the registry entries
    that apply to the running backend; an entry outside its version bounds here is a
    plain test that passes when its reproducer does not reproduce."""
    run = metafunc.config.stash[_RUN_KEY]
    if "registered_entry" in metafunc.fixturenames:
        runnable = [e for e in run.entries if e.reproducer is not None]
        elsewhere = {e.id: _reproduced_elsewhere(run, e) for e in runnable}
        params = [pytest.param(e, id=e.id, marks=pytest.mark.xfail(
            strict=True, raises=AssertionError,
            reason=f"registered discrepancy {e.id} ({e.kind}, {e.topic}): {e.summary} -- "
                   f"an XPASS means the entry is STALE for {run.name} {run.version}"))
            for e in runnable if not elsewhere[e.id]]
        params += [pytest.param(e, id=e.id, marks=pytest.mark.skip(reason=elsewhere[e.id]))
                   for e in runnable if elsewhere[e.id]]
        params += [pytest.param(e, id=e.id, marks=pytest.mark.skip(
            reason=f"registered discrepancy {e.id} concerns other CPUs; this one does not "
                   f"meet: {'; '.join(run.off_cpu[e.id])} ('!' = without)"))
            for e in run.off_cpu_entries if e.reproducer is not None]
        params += [pytest.param(e, id=e.id) for e in run.outside_entries
                   if e.reproducer is not None]
        metafunc.parametrize("registered_entry", params)



def _reproduced_elsewhere(run: _Run, entry: Any) -> str:
    """Why ``entry``'s reproducer does not run in this process ('' when it does).

    A reproducer that names a variant runs under it: on the running backend when that is
    the variant, else on the same backend loaded under the variant in this process, unless
    the variant sets environment variables its framework reads at import or runs on demand
    (then it runs in that variant's session). A reproducer that names none runs on the
    running backend when the entry's ``when`` admits the running variant."""
    import registry

    variant = entry.reproducer.get("variant")
    if variant is None:
        cond = entry.when.get("variant")
        if cond is None or registry.matches({"variant": cond}, {"variant": run.variant}):
            return ""
        return (f"registered discrepancy {entry.id} concerns variant {cond!r}, not "
                f"{run.key}")
    if variant == run.variant or run.name not in backends.BUILTIN:
        return "" if variant == run.variant else \
            f"registered discrepancy {entry.id} runs under variant {variant!r}"
    spec = table.by_name(run.name).variant(variant)
    if spec.on_demand:
        return (f"registered discrepancy {entry.id} runs under {table.key(run.name, variant)}, "
                f"a variant run on demand (CONFORMANCE_VARIANTS={variant})")
    env = spec.env
    if not env:
        return ""
    settings_text = " ".join(f"{k}={v}" for k, v in env.items())
    return (f"registered discrepancy {entry.id} runs in its own process under "
            f"{table.key(run.name, variant)} ({settings_text} before import)")
