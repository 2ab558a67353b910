"""THE backend table: every built-in backend, once, with all that the project needs of it.

Each :class:`BackendSpec` row says where the adapter lives, which framework it runs, the pip
requirements of its virtualenv, the environment it needs (``KERAS_BACKEND``), its display
name, the nox session that runs it, the probe renderers and report columns of its public
APIs, and its variants (the same adapter under one named setting). ``noxfile.py``,
``conftest.py``, :mod:`probes`, :mod:`report` and CI read this table; nothing else lists
frameworks.

This module is plain data with no third-party import, so ``noxfile.py`` can read it
outside any virtualenv.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["BACKENDS", "BackendSpec", "Release", "Variant", "by_name", "framework_of",
           "history_releases", "key", "parse", "probe_backends", "release", "requirements",
           "session_groups", "variant_groups", "variant_keys"]

#: ml_dtypes gives NumPy a bfloat16 dtype: the suite draws bfloat16 cases where it exists.
ML_DTYPES = "ml_dtypes>=0.3"
#: The dtypes of the capability table a compiling variant runs under the ``variant``
#: hypothesis profile (each new shape and dtype costs a compilation): the reference float,
#: a 16-bit float (accumulation and result dtype) and an integer. ``thorough`` runs all.
BUDGET_DTYPES = ("float32", "float16", "int32")
#: What every backend session installs besides its framework.
TEST_REQUIREMENTS = ("pytest>=7", "hypothesis>=6.80", "tomli>=2; python_version < '3.11'")


@dataclass(frozen=True)
class Variant:
    """A built-in backend run under one named setting (``--backend torch[channels_last]``).

    Attributes
    ----------
    name : str
        The setting's name, e.g. ``"channels_last"``.
    description : str
        What it changes, in a report reader's words.
    env : mapping of str to str
        Environment variables it sets before the framework is imported (a variant with any
        runs in a process of its own).
    render : str
        ``"module:function"`` that applies the setting to a probe script of the backend's
        renderers (:mod:`probes.render`); empty when the environment is all it sets.
    compiles : bool
        Whether the first call of each new shape compiles (``torch.compile``, XLA): the
        ``variant`` hypothesis profile then runs its capability table in
        ``BUDGET_DTYPES`` only.
    on_demand : str
        Why the test command leaves it out ('' for a variant that runs there): its session
        then runs it only when ``CONFORMANCE_VARIANTS`` names it.
    """

    name: str
    description: str
    env: Mapping[str, str] = field(default_factory=dict)
    render: str = ""
    compiles: bool = False
    on_demand: str = ""

    @property
    def in_process(self) -> bool:
        """Whether the setting is applied inside a running process (no environment)."""
        return not self.env


@dataclass(frozen=True)
class Release:
    """One release of a backend's framework that the history (``nox -s history``) runs.

    Attributes
    ----------
    version : str
        The release as the history names it: the framework's version (Keras's for the Keras
        backends), e.g. ``"2.4.1"``.
    requirements : tuple of str
        pip requirements of its virtualenv (the framework and what it runs on).
    install_env : mapping of str to str
        Environment of its install step, e.g. ``{"PIP_CONSTRAINT": "/dev/null"}`` to lift
        a machine's pip constraints for a release newer than they allow.
    """

    version: str
    requirements: tuple[str, ...]
    install_env: Mapping[str, str] = field(default_factory=dict)


#: The newest torch release lies above what some machines' pip constraints allow: an empty
#: constraints file in their place (pip reads an empty PIP_CONSTRAINT as unset).
NO_PIP_CONSTRAINT = {"PIP_CONSTRAINT": os.devnull}


@dataclass(frozen=True)
class BackendSpec:
    """One built-in backend.

    Attributes
    ----------
    name : str
        The suite name (``--backend NAME``, registry entries' ``backends``).
    framework : str
        The framework a registry entry's ``frameworks`` names (``"keras"`` for both Keras
        backends).
    adapter : str
        ``"module:object"`` of the adapter.
    requirements : tuple of str
        pip requirements of its virtualenv, overridable by ``CONFORMANCE_<NAME>``.
    distributions : tuple of str
        Distribution names that give the framework's version (the first installed wins).
    display : str
        How the report names it, e.g. ``"Keras 3 on PyTorch"``.
    session : str
        The nox session that runs it; backends sharing one are its parametrizations.
    env : mapping of str to str
        Environment its processes need (Keras reads ``KERAS_BACKEND`` at import).
    probes : tuple of (str, str)
        ``(report column, "module:function")`` of each probe renderer of its public APIs.
    variants : tuple of Variant
        Named settings it can run under.
    history : tuple of Release
        The framework releases ``nox -s history`` runs it on, oldest first.
    """

    name: str
    framework: str
    adapter: str
    requirements: tuple[str, ...]
    distributions: tuple[str, ...]
    display: str
    session: str
    env: Mapping[str, str] = field(default_factory=dict)
    probes: tuple[tuple[str, str], ...] = ()
    variants: tuple[Variant, ...] = ()
    history: tuple[Release, ...] = ()

    @property
    def session_param(self) -> str:
        """The nox parametrization value of a shared session ('' when the session is its
        own): the part of the name after the session's, e.g. ``"torch"`` of keras-torch."""
        return self.name.removeprefix(self.session).lstrip("-")

    @property
    def nox_session(self) -> str:
        """The nox session name that runs this backend alone."""
        if not self.session_param:
            return self.session
        return f"{self.session}({self.session}_backend='{self.session_param}')"

    def variant(self, name: str) -> Variant:
        """The variant ``name`` of this backend.

        Raises
        ------
        KeyError
            Naming the backend's variants, when it has no variant ``name``.
        """
        for variant in self.variants:
            if variant.name == name:
                return variant
        known = ", ".join(v.name for v in self.variants) or "none"
        raise KeyError(f"backend {self.name!r} has no variant {name!r} (its variants: {known})")

    @property
    def columns(self) -> tuple[str, ...]:
        """The report columns of its probed APIs."""
        return tuple(column for column, _ in self.probes)


#: TensorFlow's switch for its oneDNN CPU kernels, read once, when TensorFlow is imported.
#: Unset, TensorFlow turns them on only on CPUs with AVX512_VNNI, AVX512_BF16, AVX_VNNI or AMX.
_ONEDNN = "TF_ENABLE_ONEDNN_OPTS"
#: The variants of TensorFlow and of Keras on TensorFlow.
_TF_VARIANTS = (
    Variant("xla", "XLA: the call inside tf.function(jit_compile=True)",
            render="probes.render:tensorflow_xla", compiles=True),
    Variant("no_onednn", f"{_ONEDNN}=0: TensorFlow's own CPU kernels, not oneDNN's",
            env={_ONEDNN: "0"}),
    Variant("onednn", f"{_ONEDNN}=1: oneDNN's CPU kernels on every CPU", env={_ONEDNN: "1"},
            on_demand="on CPUs with AVX512_VNNI, AVX512_BF16, AVX_VNNI or AMX it is "
                      "TensorFlow's default, which the backend's own session runs; on "
                      "other CPUs oneDNN runs its kernels for their instruction set, which "
                      "a CPU with those features cannot measure"),
)
BACKENDS: tuple[BackendSpec, ...] = (
    BackendSpec(
        name="numpy", framework="numpy", adapter="backends.numpy_backend:backend",
        requirements=("numpy>=1.22", ML_DTYPES), distributions=("numpy",),
        display="the oracle itself (NumPy)", session="numpy"),
    BackendSpec(
        name="torch", framework="torch", adapter="backends.torch_backend:backend",
        requirements=("torch==2.13.0", ML_DTYPES), distributions=("torch",),
        display="PyTorch", session="torch",
        probes=(("torch.nn.functional", "probes.render:torch_functional"),
                ("torch.nn", "probes.render:torch_modules")),
        variants=(
            Variant("channels_last", "input and weights in channels_last memory "
                    "(channels_last_3d for 3-D), as .to(memory_format=...) gives them",
                    render="probes.render:torch_channels_last"),
            Variant("compile", "torch.compile(dynamic=False, fullgraph=True) around the "
                    "call: Inductor's generated kernels; the backward pass by "
                    "torch.autograd.grad through the compiled forward (AOTAutograd)",
                    render="probes.render:torch_compile", compiles=True,
                    on_demand="each new shape and dtype is one more Inductor "
                              "compilation (seconds each, after a start of over ten), "
                              "which the test command's time budget does not hold"),
            Variant("no_mkldnn", "torch.backends.mkldnn.flags(enabled=False): PyTorch's own "
                    "CPU kernels, not oneDNN's", render="probes.render:torch_no_mkldnn")),
        history=(Release("2.4.1", ("torch==2.4.1", ML_DTYPES)),
                 Release("2.9.1", ("torch==2.9.1", ML_DTYPES)),
                 Release("2.13.0", ("torch==2.13.0", ML_DTYPES)),
                 Release("2.15.0", ("torch==2.15.0", ML_DTYPES), NO_PIP_CONSTRAINT))),
    BackendSpec(
        name="tensorflow", framework="tensorflow",
        adapter="backends.tensorflow_backend:backend",
        requirements=("tensorflow-cpu==2.21.*",),
        distributions=("tensorflow", "tensorflow-cpu"),
        display="TensorFlow", session="tensorflow",
        env={"TF_CPP_MIN_LOG_LEVEL": "2"},
        probes=(("tf.nn", "probes.render:tensorflow"),),
        variants=_TF_VARIANTS,
        history=(Release("2.17.1", ("tensorflow-cpu==2.17.1",)),
                 Release("2.19.1", ("tensorflow-cpu==2.19.1",)),
                 Release("2.21.0", ("tensorflow-cpu==2.21.0",)))),
    BackendSpec(
        name="keras-tensorflow", framework="keras",
        adapter="backends.keras_backend:tensorflow_backend",
        requirements=("keras==3.15.*", "tensorflow-cpu==2.21.*"),
        distributions=("keras",), display="Keras 3 on TensorFlow", session="keras",
        env={"KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2"},
        probes=(("keras.layers (TF)", "probes.render:keras_tensorflow"),),
        variants=tuple(v if v.env else Variant(
            v.name, "XLA: the layer call inside tf.function(jit_compile=True)",
            render="probes.render:keras_xla", compiles=True) for v in _TF_VARIANTS),
        # each Keras release on the TensorFlow of the history nearest to it
        history=(Release("3.8.0", ("keras==3.8.0", "tensorflow-cpu==2.17.1")),
                 Release("3.12.4", ("keras==3.12.4", "tensorflow-cpu==2.19.1")),
                 Release("3.15.1", ("keras==3.15.1", "tensorflow-cpu==2.21.0")))),
    BackendSpec(
        name="keras-torch", framework="keras",
        adapter="backends.keras_backend:torch_backend",
        requirements=("keras==3.15.*", "torch==2.13.0", ML_DTYPES),
        distributions=("keras",), display="Keras 3 on PyTorch", session="keras",
        env={"KERAS_BACKEND": "torch"},
        probes=(("keras.layers (torch)", "probes.render:keras_torch"),),
        history=(Release("3.8.0", ("keras==3.8.0", "torch==2.13.0", ML_DTYPES)),
                 Release("3.12.4", ("keras==3.12.4", "torch==2.13.0", ML_DTYPES)),
                 Release("3.15.1", ("keras==3.15.1", "torch==2.13.0", ML_DTYPES)))),
    BackendSpec(
        name="keras-jax", framework="keras",
        adapter="backends.keras_backend:jax_backend",
        requirements=("keras==3.15.*", "jax==0.10.2", "jaxlib==0.10.2"),
        distributions=("keras",), display="Keras 3 on JAX", session="keras",
        env={"KERAS_BACKEND": "jax", "JAX_ENABLE_X64": "1"},
        probes=(("keras.layers (jax)", "probes.render:keras_jax"),),
        # each Keras release on the JAX of the history nearest to it
        history=(Release("3.8.0", ("keras==3.8.0", "jax==0.4.38", "jaxlib==0.4.38")),
                 Release("3.12.4", ("keras==3.12.4", "jax==0.7.2", "jaxlib==0.7.2")),
                 Release("3.15.1", ("keras==3.15.1", "jax==0.10.2", "jaxlib==0.10.2")))),
    BackendSpec(
        name="mxnet", framework="mxnet", adapter="backends.mxnet_backend:backend",
        # MXNet 1.9.1 needs numpy < 1.24 (np.bool etc.), so it never shares a virtualenv
        # with TensorFlow
        requirements=("mxnet==1.9.1", "numpy<1.24", "ml_dtypes>=0.3,<0.5"),
        distributions=("mxnet",), display="MXNet", session="mxnet",
        probes=(("mx.nd", "probes.render:mxnet_nd"),
                ("mxnet.gluon.nn", "probes.render:mxnet_gluon")),
        variants=(Variant("no_mkldnn", "MXNET_MKLDNN_ENABLED=0: MXNet's own CPU kernels, not "
                          "oneDNN's", env={"MXNET_MKLDNN_ENABLED": "0"}),),
        history=(Release("1.8.0", ("mxnet==1.8.0.post0", "numpy<1.24", "ml_dtypes>=0.3,<0.5")),
                 Release("1.9.1", ("mxnet==1.9.1", "numpy<1.24", "ml_dtypes>=0.3,<0.5")))),
    BackendSpec(
        # float64 enabled: without JAX_ENABLE_X64 JAX silently computes float64 input in
        # float32 (a registered convention the probes show)
        name="jax", framework="jax", adapter="backends.jax_backend:backend",
        requirements=("jax==0.10.2", "jaxlib==0.10.2", "flax==0.12.8"),
        distributions=("jax",), display="JAX (jax.lax, flax.linen)", session="jax",
        env={"JAX_ENABLE_X64": "1"},
        probes=(("jax.lax", "probes.render:jax_lax"),
                ("flax.linen", "probes.render:flax_linen")),
        # each with the Flax release of its time (Flax pins a lowest JAX)
        history=(Release("0.4.38", ("jax==0.4.38", "jaxlib==0.4.38", "flax==0.10.2")),
                 Release("0.7.2", ("jax==0.7.2", "jaxlib==0.7.2", "flax==0.11.2")),
                 Release("0.10.2", ("jax==0.10.2", "jaxlib==0.10.2", "flax==0.12.8")))),
    BackendSpec(
        name="onnxruntime", framework="onnxruntime",
        adapter="backends.onnxruntime_backend:backend",
        requirements=("onnx==1.23.*", "onnxruntime==1.32.0", ML_DTYPES),
        distributions=("onnxruntime",), display="ONNX Runtime", session="onnxruntime",
        probes=(("onnxruntime", "probes.render:onnxruntime"),
                ("onnx.reference", "probes.render:onnx_reference")),
        # each with the newest onnx whose opset it supports: ONNX Runtime refuses a model
        # stamped with an opset newer than it implements (1.20 stops at opset 21, onnx 1.16)
        history=(Release("1.20.1", ("onnx==1.16.2", "onnxruntime==1.20.1", ML_DTYPES)),
                 Release("1.26.0", ("onnx==1.20.1", "onnxruntime==1.26.0", ML_DTYPES)),
                 Release("1.32.0", ("onnx==1.23.2", "onnxruntime==1.32.0", ML_DTYPES)))),
)


def by_name(name: str) -> BackendSpec:
    """The row of backend ``name``.

    Raises
    ------
    KeyError
        Naming the built-in backends, when ``name`` is none of them.
    """
    for spec in BACKENDS:
        if spec.name == name:
            return spec
    raise KeyError(f"{name!r} is not a built-in backend "
                   f"({', '.join(s.name for s in BACKENDS)})")


def framework_of(name: str) -> str:
    """The framework of built-in backend ``name`` (``"keras"`` for ``"keras-torch"``)."""
    return by_name(name).framework


def probe_backends() -> tuple[BackendSpec, ...]:
    """The backends with probed public APIs (every one but the oracle), in table order."""
    return tuple(spec for spec in BACKENDS if spec.probes)


def requirements(spec: BackendSpec, environ: Mapping[str, str] | None = None
                 ) -> tuple[str, ...]:
    """``spec``'s framework requirements, or ``CONFORMANCE_<NAME>`` (space-separated)
    where that environment variable is set, e.g. ``CONFORMANCE_TORCH="torch==2.14.1"``."""
    environ = os.environ if environ is None else environ
    override = environ.get("CONFORMANCE_" + spec.name.upper().replace("-", "_"))
    return tuple(override.split()) if override else spec.requirements


def history_releases() -> tuple[tuple[BackendSpec, Release], ...]:
    """Every (backend, release) the history runs, in table order."""
    return tuple((spec, r) for spec in BACKENDS for r in spec.history)


def release(spec: BackendSpec, version: str) -> Release:
    """The history release ``version`` of ``spec``.

    Raises
    ------
    KeyError
        Naming the backend's history releases, when ``version`` is none of them.
    """
    for r in spec.history:
        if r.version == version:
            return r
    raise KeyError(f"{version!r} is not a history release of {spec.name} "
                   f"({', '.join(r.version for r in spec.history)})")


def session_groups() -> dict[str, tuple[BackendSpec, ...]]:
    """The backends of each nox session, in table order."""
    groups: dict[str, list[BackendSpec]] = {}
    for spec in BACKENDS:
        groups.setdefault(spec.session, []).append(spec)
    return {name: tuple(specs) for name, specs in groups.items()}


def key(name: str, variant: str = "") -> str:
    """The records key of backend ``name`` under ``variant``: ``"torch[channels_last]"``,
    or ``name`` itself for the default way of running."""
    return f"{name}[{variant}]" if variant else name


def parse(spec: str) -> tuple[str, str]:
    """Split ``"name[variant]"`` into the backend name and the variant ('' for none).

    Only built-in backends have variants; a spec without brackets is returned as it is
    (with no variant), whatever it names.

    Raises
    ------
    ValueError
        When the brackets are malformed, or name a backend or variant the table lacks.
    """
    if "[" not in spec and "]" not in spec:
        return spec, ""
    name, bracket, rest = spec.partition("[")
    variant = rest.removesuffix("]")
    if not bracket or not rest.endswith("]") or not variant or "[" in variant \
            or "]" in variant:
        raise ValueError(f"{spec!r}: a variant is written NAME[VARIANT], e.g. "
                         "'torch[channels_last]'")
    try:
        by_name(name).variant(variant)
    except KeyError as err:
        raise ValueError(f"{spec!r}: {err.args[0]}") from err
    return name, variant


def variant_keys(spec: BackendSpec | None = None, on_demand: bool = True
                 ) -> tuple[str, ...]:
    """The records keys of every variant (of ``spec`` alone when given), in table order;
    without the on-demand ones (:attr:`Variant.on_demand`) unless ``on_demand``."""
    specs = BACKENDS if spec is None else (spec,)
    return tuple(key(s.name, v.name) for s in specs for v in s.variants
                 if on_demand or not v.on_demand)


#: The variant sessions of the test command (``nox``): those whose registry entries have
#: been checked against the suite's corner cases (empty inputs, bad input, extremes), each
#: within the time budget of the ``variant`` profile. The others run with
#: ``nox -s <session>``. A session of the test command runs its variants but the
#: on-demand ones (:attr:`Variant.on_demand`).
TEST_COMMAND_VARIANT_SESSIONS = ("torch_variants", "tensorflow_variants", "mxnet_variants")


def variant_groups() -> dict[str, tuple[str, ...]]:
    """The variant keys each ``<session>_variants`` nox session runs, in table order
    (sessions whose backends have no variant are left out)."""
    groups: dict[str, list[str]] = {}
    for spec in BACKENDS:
        if spec.variants:
            groups.setdefault(f"{spec.session}_variants", []).extend(variant_keys(spec))
    return {name: tuple(keys) for name, keys in groups.items()}
