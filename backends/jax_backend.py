"""JAX adapter: ``jax.lax.conv_general_dilated`` convolution and ``flax.linen`` pooling on CPU.

Convolution keeps the oracle's layouts: ``dimension_numbers`` tells XLA that the data is
channels-first and the weight ``(O, C/groups, *kernel)``, so nothing is transposed. Padding
is XLA's own: ``'VALID'``, ``'SAME'`` (odd extra cell at the end), ``'SAME_LOWER'`` (at the
start) or explicit ``(lo, hi)`` pairs; dilation is ``rhs_dilation`` and groups
``feature_group_count``. ``lax`` has no bias argument: the bias is added in JAX, in the
result's dtype, as ``flax.linen.Conv`` does. Each call runs under ``jax.jit``, as JAX
programs do: one XLA compilation per signature (op, shapes, dtype, static arguments)
instead of one per primitive dispatched eagerly.

Pooling goes through ``flax.linen.max_pool`` and ``flax.linen.avg_pool``, the functions a
Flax model calls: channels-last data (the adapter transposes), ``'VALID'``, ``'SAME'`` or
``(lo, hi)`` pairs, and ``count_include_pad``. They have no dilation, no ``'same_lower'``
and no ceil mode; those raise :class:`backends.Unsupported`. The stride, when the case
gives none, is left to Flax's default.

The backward passes are ``jax.vjp`` of the very same jitted forward calls (the
convolution with a zero bias, whose cotangent is ``db``), pulled back from ``dy``.
``jax.vjp`` gives an integer input a ``float0`` cotangent, a tangent type that holds no
values: that raises :class:`backends.NoGradient`, never zeros. :meth:`JaxBackend.learn_kernel`
is the seeds' loop with ``jax.value_and_grad`` and a functional update.

JAX computes 64-bit dtypes in 32 bits unless ``JAX_ENABLE_X64`` is set (its documented
default); the adapter refuses 64-bit input then rather than compare float32 results, and
the nox session sets the variable. bfloat16 arrays are ``ml_dtypes.bfloat16``, JAX's own.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import flax.linen as nn
import jax
import numpy as np

import reference
from backends import NoGradient, Unsupported

__all__ = ["JaxBackend", "backend"]

#: XLA's messages when it has no CPU kernel for an operation in a dtype.
_NO_KERNEL_MARKERS = ("Unsupported", "not supported", "UNIMPLEMENTED", "Unimplemented")

#: jax.vjp's message when the output gradient does not have the shape and dtype of the
#: output (its "(e.g. shape/dtype)" is not a missing kernel).
_COTANGENT_REFUSED = "for argument to VJP function"

#: Spatial dimension letters of lax's dimension_numbers strings, per rank.
_SPATIAL = {1: "W", 2: "HW", 3: "DHW"}


def _x64_check(dtype: np.dtype, api: str) -> None:
    """Refuse 64-bit input when JAX would compute it in 32 bits."""
    if np.dtype(dtype).itemsize == 8 and not jax.config.read("jax_enable_x64"):
        raise Unsupported(f"{api} computes {dtype} in 32 bits unless JAX_ENABLE_X64 is set "
                          "(JAX's default)")


def _run(api: str, dtype: np.dtype, fn: Callable[[], Any]) -> Any:
    """Call ``fn`` and return its result as NumPy (a tuple of arrays stays a tuple); a
    dtype XLA has no CPU kernel for becomes :class:`Unsupported` with XLA's message."""
    _x64_check(dtype, api)
    try:
        y = jax.device_get(fn())
        return tuple(map(np.asarray, y)) if isinstance(y, tuple) else np.asarray(y)
    except (TypeError, ValueError, NotImplementedError, jax.errors.JaxRuntimeError) as err:
        text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        if _COTANGENT_REFUSED in text:
            raise  # jax.vjp's refusal of a dy shaped for another output: not about dtypes
        if any(marker in text for marker in _NO_KERNEL_MARKERS) or "dtype" in text:
            raise Unsupported(f"{api} has no CPU kernel for {dtype}: {text}") from err
        raise


def _lax_padding(padding: Any, in_sizes: Sequence[int], kernel: Sequence[int],
                 stride: Sequence[int], dilation: Sequence[int]) -> str | list[tuple[int, int]]:
    """The oracle's ``padding`` as ``lax``'s: one of its strings or ``(lo, hi)`` pairs."""
    if padding in ("valid", "same", "same_lower"):
        return padding.upper()
    pads = reference.resolve_padding(padding, in_sizes, kernel, stride, dilation)
    return [(int(lo), int(hi)) for lo, hi in pads]


class JaxBackend:
    """``jax.lax.conv_general_dilated`` and ``flax.linen.max_pool`` / ``avg_pool`` on CPU,
    in the dtype of the input."""

    name = "jax"

    @property
    def version(self) -> str:
        """JAX's version and Flax's, e.g. ``"0.10.2 (flax 0.12.8)"``."""
        import flax

        return f"{jax.__version__} (flax {flax.__version__})"

    def conv(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, *,
             stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1
             ) -> np.ndarray:
        """Convolution through ``jax.lax.conv_general_dilated``, channels-first."""
        api, static = _conv_args(x, w, stride, padding, dilation, groups)
        return _run(api, x.dtype, lambda: _conv(x, w, b, **static))

    def conv_vjp(self, x: np.ndarray, w: np.ndarray, dy: np.ndarray, *, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(dx, dw, db)`` by ``jax.vjp`` of the convolution of :meth:`conv` (with a zero
        bias, whose cotangent is ``db``)."""
        api, static = _conv_args(x, w, stride, padding, dilation, groups)
        b = np.zeros(w.shape[0], dtype=x.dtype)
        grads = _run(api, x.dtype, lambda: _conv_vjp(x, w, b, dy, **static))
        return tuple(_gradient(g, name, x.dtype) for g, name in zip(grads, "xwb", strict=True))

    def max_pool(self, x: np.ndarray, kernel_size: Any, *, stride: Any = None,
                 padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False) -> np.ndarray:
        """Max pooling through ``flax.linen.max_pool``."""
        return self._pool("max_pool", x, None, kernel_size, stride, padding, dilation,
                          ceil_mode, {})

    def avg_pool(self, x: np.ndarray, kernel_size: Any, *, stride: Any = None,
                 padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> np.ndarray:
        """Average pooling through ``flax.linen.avg_pool``."""
        return self._pool("avg_pool", x, None, kernel_size, stride, padding, dilation,
                          ceil_mode, {"count_include_pad": count_include_pad})

    def max_pool_vjp(self, x: np.ndarray, dy: np.ndarray, kernel_size: Any, *,
                     stride: Any = None, padding: Any = 0, dilation: Any = 1,
                     ceil_mode: bool = False) -> np.ndarray:
        """``dx`` by ``jax.vjp`` of the ``flax.linen.max_pool`` call of :meth:`max_pool`."""
        return self._pool("max_pool", x, dy, kernel_size, stride, padding, dilation,
                          ceil_mode, {})

    def avg_pool_vjp(self, x: np.ndarray, dy: np.ndarray, kernel_size: Any, *,
                     stride: Any = None, padding: Any = 0, dilation: Any = 1,
                     ceil_mode: bool = False, count_include_pad: bool = True) -> np.ndarray:
        """``dx`` by ``jax.vjp`` of the ``flax.linen.avg_pool`` call of :meth:`avg_pool`."""
        return self._pool("avg_pool", x, dy, kernel_size, stride, padding, dilation,
                          ceil_mode, {"count_include_pad": count_include_pad})

    def learn_kernel(self, X: np.ndarray, Y: np.ndarray, init: np.ndarray, lr: float,
                     steps: int) -> tuple[np.ndarray, np.ndarray]:
        """The seeds' loop in float32, the JAX way: ``loss(K) = sum((conv(X, K) - Y) **
        2)`` with ``jax.lax.conv_general_dilated``, ``jax.value_and_grad(loss)`` and the
        functional update ``K = K - lr * grad``. Returns the kernel before and after every
        step and each step's loss (see :func:`reference.learn_kernel`)."""
        x = jax.numpy.asarray(np.asarray(X, dtype=np.float32).reshape(1, 1, *X.shape))
        y = jax.numpy.asarray(np.asarray(Y, dtype=np.float32).reshape(1, 1, *Y.shape))
        k = jax.numpy.asarray(np.asarray(init, dtype=np.float32).reshape(1, 1, *init.shape))

        def loss(k: Any) -> Any:
            y_hat = jax.lax.conv_general_dilated(x, k, (1, 1), "VALID")
            return jax.numpy.sum((y_hat - y) ** 2)

        step = jax.value_and_grad(loss)
        kernels, losses = [np.asarray(k)[0, 0].copy()], []
        for _ in range(steps):
            value, grad = step(k)
            losses.append(np.asarray(value))
            k = k - lr * grad
            kernels.append(np.asarray(k)[0, 0].copy())
        return np.stack(kernels), np.stack(losses)

    def _pool(self, op: str, x: np.ndarray, dy: np.ndarray | None, kernel_size: Any,
              stride: Any, padding: Any, dilation: Any, ceil_mode: bool,
              extra: dict[str, Any]) -> np.ndarray:
        """The pooling ``op`` of channels-first ``x``, or (``dy`` given) its gradient."""
        nd = x.ndim - 2
        api = f"flax.linen.{op}"
        if nd < 1:
            raise Unsupported(f"{api} takes channels-last (N, *spatial, C) data: an input of "
                              f"{x.ndim} dimensions has no channel axis to move last")
        kernel = reference.normalize_sizes(kernel_size, nd, "kernel_size")
        strides = kernel if stride is None else reference.normalize_sizes(stride, nd, "stride")
        dilation = reference.normalize_sizes(dilation, nd, "dilation")
        if any(d > 1 for d in dilation):
            raise Unsupported(f"{api} has no dilation")
        if padding == "same_lower":
            raise Unsupported(f"{api} has no 'same_lower' padding (its 'SAME' puts the odd "
                              "extra cell at the end)")
        flax_padding = _lax_padding(padding, x.shape[2:], kernel, strides, dilation)
        if not isinstance(flax_padding, str):
            flax_padding = tuple(flax_padding)
        if ceil_mode:
            pads = reference.resolve_padding(padding, x.shape[2:], kernel, strides, dilation)
            # A ceil mode that leaves the output size unchanged computes the same windows.
            if (reference.output_size(x.shape[2:], kernel, strides, pads, dilation, True)
                    != reference.output_size(x.shape[2:], kernel, strides, pads, dilation)):
                raise Unsupported(f"{api} has no ceil mode (output sizes round down)")
        # strides=None is passed through: Flax's own default is what is tested.
        static = {"op": op, "window_shape": kernel,
                  "strides": None if stride is None else strides, "padding": flax_padding,
                  "extra": tuple(sorted(extra.items()))}
        channels_last = _last(x)
        if dy is None:
            return _first(_run(api, x.dtype, lambda: _pool(channels_last, **static)))
        (dx,) = _run(api, x.dtype, lambda: _pool_vjp(channels_last, _last(dy), **static))
        return _first(_gradient(dx, "x", x.dtype))


def _last(a: np.ndarray) -> np.ndarray:
    """Channels-first ``(N, C, *spatial)`` as channels-last ``(N, *spatial, C)``."""
    return np.ascontiguousarray(np.moveaxis(a, 1, -1))


def _first(a: np.ndarray) -> np.ndarray:
    """Channels-last ``(N, *spatial, C)`` as channels-first ``(N, C, *spatial)``."""
    return np.ascontiguousarray(np.moveaxis(a, -1, 1))


def _conv_args(x: np.ndarray, w: np.ndarray, stride: Any, padding: Any, dilation: Any,
               groups: int) -> tuple[str, dict[str, Any]]:
    """The API name and the static arguments of :func:`_conv` for the oracle's, translated
    once for the forward and the backward pass."""
    nd = x.ndim - 2
    stride = reference.normalize_sizes(stride, nd, "stride")
    dilation = reference.normalize_sizes(dilation, nd, "dilation")
    lax_padding = _lax_padding(padding, x.shape[2:], w.shape[2:], stride, dilation)
    spatial = _SPATIAL[nd]
    return "jax.lax.conv_general_dilated", {
        "stride": stride, "padding": lax_padding if isinstance(lax_padding, str)
        else tuple(lax_padding), "dilation": dilation, "groups": groups,
        "numbers": (f"NC{spatial}", f"OI{spatial}", f"NC{spatial}")}


def _gradient(g: Any, name: str, dtype: np.dtype) -> np.ndarray:
    """A cotangent ``jax.vjp`` returned, as NumPy; ``float0`` (JAX's tangent type of
    integer inputs, which holds no values) raises :class:`NoGradient`."""
    if g.dtype == jax.dtypes.float0:
        raise NoGradient("jax.vjp", f"{name} ({np.dtype(dtype).name})", answer="float0")
    return np.asarray(g)


@functools.partial(jax.jit, static_argnames=("stride", "padding", "dilation", "groups",
                                             "numbers"))
def _conv(x: Any, w: Any, b: Any, *, stride: tuple[int, ...], padding: Any,
          dilation: tuple[int, ...], groups: int, numbers: tuple[str, str, str]) -> Any:
    """``lax.conv_general_dilated``, plus the bias when there is one."""
    y = jax.lax.conv_general_dilated(x, w, window_strides=stride, padding=padding,
                                     rhs_dilation=dilation, dimension_numbers=numbers,
                                     feature_group_count=groups)
    return y if b is None else y + b.reshape(b.shape + (1,) * (y.ndim - 2))


@functools.partial(jax.jit, static_argnames=("op", "window_shape", "strides", "padding",
                                             "extra"))
def _pool(x: Any, *, op: str, window_shape: tuple[int, ...], strides: Any, padding: Any,
          extra: tuple[tuple[str, Any], ...]) -> Any:
    """``flax.linen.max_pool`` or ``avg_pool`` on channels-last ``x``."""
    return getattr(nn, op)(x, window_shape, strides=strides, padding=padding, **dict(extra))


@functools.partial(jax.jit, static_argnames=("stride", "padding", "dilation", "groups",
                                             "numbers"))
def _conv_vjp(x: Any, w: Any, b: Any, dy: Any, **static: Any) -> tuple[Any, Any, Any]:
    """``jax.vjp`` of :func:`_conv` at ``(x, w, b)``, pulled back from ``dy``."""
    _, pullback = jax.vjp(functools.partial(_conv, **static), x, w, b)
    return pullback(dy)


@functools.partial(jax.jit, static_argnames=("op", "window_shape", "strides", "padding",
                                             "extra"))
def _pool_vjp(x: Any, dy: Any, **static: Any) -> tuple[Any]:
    """``jax.vjp`` of :func:`_pool` at channels-last ``x``, pulled back from ``dy`` (in the
    result's dtype, which ``jax.vjp`` requires of a cotangent: Flax's average may be wider
    than the input, and a NumPy widening is exact)."""
    y, pullback = jax.vjp(functools.partial(_pool, **static), x)
    return pullback(dy.astype(y.dtype))


backend = JaxBackend()
