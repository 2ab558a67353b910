"""Backends: the protocol a framework adapter follows, and how one is chosen by name.

A backend is any object with three methods that take exactly the oracle's arguments
(see :mod:`reference`) and mean the same thing::

    conv(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1)
    max_pool(x, kernel_size, *, stride=None, padding=0, dilation=1, ceil_mode=False)
    avg_pool(x, kernel_size, *, stride=None, padding=0, dilation=1, ceil_mode=False,
             count_include_pad=True)

Arrays are NumPy arrays, channels-first ``(N, C, *spatial)``, in and out. ``name`` and
``version`` attributes are optional. A built-in backend also runs under the named settings
its row of :data:`backends.table.BACKENDS` lists (its *variants*): ``load("torch[compile]")``
sets the variant's environment before the framework is imported and asks the adapter's
``with_variant(name)`` for the same adapter under that setting, which changes how the
framework runs, never what the adapter computes.

Optionally, the backward passes, with the oracle's signatures (:func:`reference.conv_vjp`
and friends), computed by the framework's own automatic differentiation of the very same
forward call (never a hand-written gradient)::

    conv_vjp(x, w, dy, *, stride=1, padding=0, dilation=1, groups=1) -> (dx, dw, db)
    max_pool_vjp(x, dy, kernel_size, *, stride=None, padding=0, dilation=1, ceil_mode=False)
    avg_pool_vjp(x, dy, kernel_size, *, ..., count_include_pad=True)

``dy`` is the gradient of the output (the forward's output shape, the input's dtype); each
gradient comes back in the dtype of what it differentiates (``db`` in the input's). A
framework that has no gradient for a dtype raises :class:`Unsupported` with the reason; one
whose autograd returns no gradient at all (TensorFlow's ``None`` for integer tensors, JAX's
``float0``) raises :class:`NoGradient`, which registry entries can claim. A backend
without these methods has its backward tests skipped as Unsupported. ``learn_kernel(X, Y,
init, lr, steps)`` (optional too) is the seeds' kernel-learning loop in the framework's own
float32 autograd and update, returning what :func:`reference.learn_kernel` returns.

An adapter translates the arguments to its framework's own API; when the framework cannot
express a combination natively it raises :class:`Unsupported` with the reason, and never
emulates the missing piece by hand.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from backends.table import BACKENDS, by_name, parse

if TYPE_CHECKING:  # the table must stay importable without NumPy (noxfile.py reads it)
    import numpy as np

__all__ = ["BUILTIN", "VJP_METHODS", "Backend", "NoGradient", "Unsupported", "backend_name",
           "backend_version", "load"]

#: The optional backward-pass methods of a backend.
VJP_METHODS = ("conv_vjp", "max_pool_vjp", "avg_pool_vjp")


#: What an Unsupported reason says when the limitation depends on the CPU (see below).
ON_THIS_CPU = "on this CPU"


class Unsupported(Exception):
    """Raised by an adapter for a parameter combination its framework cannot express.

    Parameters
    ----------
    reason : str
        What the framework lacks, in words a reader of the report understands,
        e.g. ``"tf.nn.max_pool has no dilation"``. One limitation reads the same for every
        case (no per-case values). A limitation that depends on the CPU (a kernel the
        framework has only for some instruction sets) says :data:`ON_THIS_CPU`: the report
        then keeps it out of its committed, machine-independent files.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NoGradient(Exception):
    """Raised by an adapter whose framework's autograd returned no gradient (``None``)
    for an input it was asked to differentiate: the framework's own answer, reported as
    it is (never replaced by zeros).

    Parameters
    ----------
    api : str
        The framework call whose gradient is missing, e.g. ``"tf.GradientTape.gradient"``.
    what : str
        Which gradient, and the dtype, e.g. ``"x (int32)"``.
    answer : str
        What the framework returned instead of a gradient: ``"None"`` (TensorFlow), or
        ``"float0"`` (JAX's tangent type of integer inputs, which holds no values).
    """

    def __init__(self, api: str, what: str, answer: str = "None") -> None:
        super().__init__(f"{api} returned {answer} for the gradient of {what}")


@runtime_checkable
class Backend(Protocol):
    """The three operations every backend provides (see the module docstring)."""

    def conv(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, **kw: Any
             ) -> np.ndarray: ...

    def max_pool(self, x: np.ndarray, kernel_size: Any, **kw: Any) -> np.ndarray: ...

    def avg_pool(self, x: np.ndarray, kernel_size: Any, **kw: Any) -> np.ndarray: ...


#: Built-in backend names and the ``module:object`` each resolves to (from
#: :data:`backends.table.BACKENDS`, the one list of backends).
BUILTIN: dict[str, str] = {spec.name: spec.adapter for spec in BACKENDS}


def load(spec: str) -> Backend:
    """Return the backend named by ``spec``.

    Parameters
    ----------
    spec : str
        A built-in name (a key of :data:`BUILTIN`), a built-in name with one of its
        variants (``"torch[channels_last]"``), or ``"package.module:object"`` naming a
        plug-in: an object (or a zero-argument factory returning one) with ``conv``,
        ``max_pool`` and ``avg_pool``.

    Raises
    ------
    ValueError
        If ``spec`` is neither a built-in name (with a variant it has) nor of the form
        ``module:object``, or the object lacks one of the three methods.
    ImportError
        If the module (or its framework) cannot be imported.
    RuntimeError
        If the variant sets an environment variable that its framework, already imported
        in this process, was imported without.
    """
    name, variant = parse(spec)
    if variant:
        _set_environment(name, variant)
    target = BUILTIN.get(name, name)
    if ":" not in target:
        raise ValueError(
            f"backend {spec!r} is not a built-in name ({', '.join(sorted(BUILTIN))}) "
            "nor of the form 'package.module:object'"
        )
    module_name, _, attr = target.partition(":")
    obj = getattr(importlib.import_module(module_name), attr)
    if isinstance(obj, type) or (callable(obj) and not isinstance(obj, Backend)):
        obj = obj()
    missing = [m for m in ("conv", "max_pool", "avg_pool") if not callable(getattr(obj, m, None))]
    if missing:
        raise ValueError(f"backend {spec!r} lacks the method(s) {', '.join(missing)}")
    if variant:
        obj = obj.with_variant(variant)
    return obj


def _set_environment(name: str, variant: str) -> None:
    """Set ``variant``'s environment variables, which its framework reads at import."""
    row = by_name(name)
    frameworks = [m for m in (row.framework, row.session_param) if m in sys.modules]
    for key, value in row.variant(variant).env.items():
        if os.environ.get(key) != value and frameworks:
            raise RuntimeError(
                f"{name}[{variant}] needs {key}={value} before {frameworks[0]} is imported, "
                f"and this process imported it with {key}={os.environ.get(key)!r}: start a "
                "new process")
        os.environ[key] = value


def backend_name(backend: Any, default: str = "plug-in") -> str:
    """The backend's ``name`` attribute, or ``default``."""
    return str(getattr(backend, "name", default))


def backend_version(backend: Any) -> str:
    """The backend's ``version`` attribute, or ``"unknown"``."""
    return str(getattr(backend, "version", "unknown"))
