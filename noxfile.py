"""Sessions: the oracle's tests, lint, the benchmark, one conformance session per backend,
and the discrepancy report.

``nox`` with no arguments runs the test command (every default session below);
``nox -s report`` runs every backend's suite and probes and rebuilds the report.
Framework versions are pinned by default; override one with an environment variable,
e.g. ``CONFORMANCE_TORCH="torch==2.14.1" nox -s torch``.
Extra arguments go to pytest: ``nox -s torch -- --hypothesis-profile thorough``.
"""

from __future__ import annotations

import os
import sys

import nox

nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "tests", "numpy", "torch", "tensorflow", "keras", "mxnet",
                        "jax", "onnxruntime", "report_check"]

PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
TEST_DEPS = ["pytest>=7", "hypothesis>=6.80", "tomli>=2; python_version < '3.11'"]
ML_DTYPES = "ml_dtypes>=0.3"

#: Each backend session's framework requirements, overridable by CONFORMANCE_<NAME>.
FRAMEWORKS: dict[str, list[str]] = {
    "numpy": ["numpy>=1.22", ML_DTYPES],  # bfloat16 cases through the oracle
    "torch": ["torch==2.13.0", ML_DTYPES],
    "tensorflow": ["tensorflow-cpu==2.21.*"],
    "keras-tensorflow": ["keras==3.15.*", "tensorflow-cpu==2.21.*"],
    "keras-torch": ["keras==3.15.*", "torch==2.13.0", ML_DTYPES],
    "mxnet": ["mxnet==1.9.1", "numpy<1.24", "ml_dtypes>=0.3,<0.5"],
    "jax": ["jax==0.10.2", "jaxlib==0.10.2", "flax==0.12.8"],
    "keras-jax": ["keras==3.15.*", "jax==0.10.2", "jaxlib==0.10.2"],
    "onnxruntime": ["onnx==1.23.*", "onnxruntime==1.32.0", ML_DTYPES],
}

#: Environment of a backend's suite and probes besides KERAS_BACKEND: JAX computes 64-bit
#: dtypes in 32 bits unless JAX_ENABLE_X64 is set.
ENV: dict[str, dict[str, str]] = {
    "jax": {"JAX_ENABLE_X64": "1"},
    "keras-jax": {"JAX_ENABLE_X64": "1"},
}


def _requirements(backend: str) -> list[str]:
    override = os.environ.get("CONFORMANCE_" + backend.upper().replace("-", "_"))
    return override.split() if override else FRAMEWORKS[backend]


def run_backend(session: nox.Session, backend: str) -> None:
    """Install ``backend``'s framework and run the conformance suite and probes against it."""
    session.install(*TEST_DEPS, *_requirements(backend))
    env = {"KERAS_BACKEND": backend.removeprefix("keras-")} if backend.startswith("keras-") else {}
    env.update(ENV.get(backend, {}))
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
        env=env,
    )
    if backend != "numpy":
        session.run("python", "-m", "probes", backend,
                    f"--out=reports/records/probes-{backend}.json", env=env)


@nox.session(python=PYTHON)
def numpy(session: nox.Session) -> None:
    """Conformance suite on the oracle itself (checks the suite's plumbing)."""
    run_backend(session, "numpy")


@nox.session(python=PYTHON)
def torch(session: nox.Session) -> None:
    """Conformance suite and probes on PyTorch (torch.nn.functional, torch.nn)."""
    run_backend(session, "torch")


@nox.session(python=PYTHON)
def tensorflow(session: nox.Session) -> None:
    """Conformance suite and probes on TensorFlow (tf.nn)."""
    run_backend(session, "tensorflow")


@nox.session(python=PYTHON)
@nox.parametrize("keras_backend", ["tensorflow", "torch", "jax"])
def keras(session: nox.Session, keras_backend: str) -> None:
    """Conformance suite and probes on Keras 3 layers, once per Keras backend."""
    run_backend(session, f"keras-{keras_backend}")


@nox.session(python=PYTHON)
def mxnet(session: nox.Session) -> None:
    """Conformance suite and probes on MXNet 1.9.1 (mx.nd, gluon.nn); needs numpy<1.24."""
    run_backend(session, "mxnet")


@nox.session(python=PYTHON)
def jax(session: nox.Session) -> None:
    """Conformance suite and probes on JAX (jax.lax, flax.linen), with JAX_ENABLE_X64=1."""
    run_backend(session, "jax")


@nox.session(python=PYTHON)
def onnxruntime(session: nox.Session) -> None:
    """Conformance suite and probes on one-node ONNX models run by ONNX Runtime (CPU), and
    the probes on onnx.reference."""
    run_backend(session, "onnxruntime")


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The oracle's own tests and the report builder's (no framework installed)."""
    session.install("numpy", *TEST_DEPS)
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
    session.install("numpy", "torch==2.13.0")
    session.run("python", "-m", "bench", *session.posargs)


@nox.session(python=PYTHON)
def report(session: nox.Session) -> None:
    """Main job: every backend's suite and probes, then the discrepancy report."""
    # each parametrization of keras by name: notify("keras") would queue only the first
    for name in ("numpy", "torch", "tensorflow", "keras(keras_backend='tensorflow')",
                 "keras(keras_backend='torch')", "mxnet", "build_report"):
        session.notify(name)


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
