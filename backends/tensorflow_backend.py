"""TensorFlow adapter: ``tf.nn`` convolution and pooling, run in the layouts TF runs on CPU.

TensorFlow's CPU kernels take channels-last data (NWC / NHWC / NDHWC) and filters laid out
``(*kernel, C/groups, O)``; the adapter transposes to and from the oracle's channels-first
layout and changes nothing else. Padding maps onto TF's own ``'VALID'``/``'SAME'`` and, where
an API documents one (``tf.nn.conv2d``, ``tf.nn.max_pool1d``, ``tf.nn.max_pool2d``), onto its
explicit-padding list. Everything TF cannot express natively raises
:class:`backends.Unsupported` with the reason: explicit padding elsewhere, ``'same_lower'``,
a ceil mode that changes the output size, dilated pooling with strides or ``'SAME'``, and
dtypes without a CPU kernel (the message is TensorFlow's own).

Variants (``with_variant``; ``backends/table.py`` lists them): ``xla`` runs each call inside
``tf.function(jit_compile=True)``, applied in :meth:`TensorFlowBackend._run` alone;
``no_onednn`` and ``onednn`` are ``TF_ENABLE_ONEDNN_OPTS``, which :func:`backends.load` sets
before TensorFlow is imported (nothing changes in the adapter).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import reference
from backends import ON_THIS_CPU, Unsupported
from backends.geometry import first_line, window

# TensorFlow's C++ start-up chatter would bury the test output; real errors still raise.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf

__all__ = ["TensorFlowBackend", "backend"]

#: TF's messages when an op has no CPU kernel for a dtype (graph-time or run-time).
_NO_KERNEL_MARKERS = ("is not in the list of allowed values", "Could not find device for node",
                      "No registered", "no kernel")


#: TensorFlow's messages under XLA: an op traced with a dtype it does not register, and
#: tf2xla's pooling kernels refusing explicit padding.
_XLA_NO_DTYPE = "not in list of allowed values"
_XLA_NO_EXPLICIT = "XLA does not support pooling ops with explicit padding"


def _channels_last(x: np.ndarray) -> Any:
    """``(N, C, *spatial)`` NumPy array → ``(N, *spatial, C)`` TF tensor in ``x``'s dtype."""
    nd = x.ndim - 2
    # tf.constant keeps the dtype; passing a NumPy array straight to some tf.nn pooling
    # functions converts it to float32.
    return tf.constant(np.ascontiguousarray(np.transpose(x, (0, *range(2, nd + 2), 1))))


def _channels_first(y: Any) -> np.ndarray:
    """``(N, *spatial, C)`` TF tensor → ``(N, C, *spatial)`` NumPy array."""
    y = y.numpy()
    return np.ascontiguousarray(np.transpose(y, (0, y.ndim - 1, *range(1, y.ndim - 1))))


def _full(values: Sequence[int]) -> list[int]:
    """Per-dimension sizes as TF's full-rank list ``[1, *values, 1]`` (batch, channels)."""
    return [1, *values, 1]


def _tf_padding(padding: Any, in_sizes: Sequence[int], kernel: Sequence[int],
                stride: Sequence[int], dilation: Sequence[int], explicit: bool,
                api: str) -> str | list[list[int]]:
    """The oracle's ``padding`` as TF's: ``'VALID'``, ``'SAME'`` or an explicit list.

    ``explicit`` says whether ``api`` takes an explicit list; when it does not, non-zero
    explicit padding is unsupported.
    """
    if isinstance(padding, str):
        if padding == "valid":
            return "VALID"
        if padding == "same":
            return "SAME"
        if padding == "same_lower":
            raise Unsupported(f"{api} has no 'same_lower' padding (TF's 'SAME' puts the odd "
                              "extra cell at the end)")
    pads = reference.resolve_padding(padding, in_sizes, kernel, stride, dilation)
    if not any(lo or hi for lo, hi in pads):
        return "VALID"
    if not explicit:
        raise Unsupported(f"{api} takes only 'SAME' or 'VALID' padding, no explicit padding")
    return [[0, 0], *([lo, hi] for lo, hi in pads), [0, 0]]


def _run(api: str, dtype: np.dtype, fn: Callable[[], Any]) -> Any:
    """Call ``fn``; a missing CPU kernel for ``dtype`` becomes :class:`Unsupported`."""
    try:
        return fn()
    except (tf.errors.NotFoundError, tf.errors.InvalidArgumentError) as err:
        if any(marker in str(err) for marker in _NO_KERNEL_MARKERS):
            raise Unsupported(f"{api} has no CPU kernel for {dtype}: {first_line(err)}") from err
        raise


class TensorFlowBackend:
    """``tf.nn.conv1d/2d/3d``, ``tf.nn.max_pool1d/2d/3d``, ``tf.nn.avg_pool1d/2d/3d`` and
    ``tf.nn.pool`` (dilated pooling), channels-last on CPU."""

    name = "tensorflow"
    version = tf.__version__
    #: The variant it runs under ('' for the default).
    variant = ""
    VARIANTS = ("xla", "no_onednn", "onednn")

    def with_variant(self, variant: str) -> TensorFlowBackend:
        """The same adapter under ``variant`` (see the module docstring)."""
        if variant not in self.VARIANTS:
            raise ValueError(f"the tensorflow adapter has no variant {variant!r}")
        other = TensorFlowBackend()
        other.variant = variant
        return other

    def _run(self, api: str, dtype: np.dtype, fn: Callable[[], Any]) -> Any:
        """:func:`_run` under the adapter's variant (XLA: ``fn`` compiled with
        ``tf.function(jit_compile=True)``)."""
        if self.variant != "xla":
            return _run(api, dtype, fn)
        try:
            return _run(api, dtype, tf.function(fn, jit_compile=True))
        except TypeError as err:
            # traced in graph mode, a dtype the op does not register fails at trace time
            if _XLA_NO_DTYPE in str(err):
                raise Unsupported(f"{api} has no kernel for {dtype} (XLA): "
                                  f"{first_line(err, (_XLA_NO_DTYPE,))}") from err
            raise
        except tf.errors.UnimplementedError as err:
            # tf2xla's pooling kernels refuse explicit padding (pooling_ops.cc)
            if _XLA_NO_EXPLICIT in str(err):
                raise Unsupported(f"{api} has no explicit padding under XLA: "
                                  f"{first_line(err, (_XLA_NO_EXPLICIT,))}") from err
            raise

    def conv(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, *,
             stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1
             ) -> np.ndarray:
        """Convolution through ``tf.nn.conv{1,2,3}d``; groups are implied by the shapes."""
        nd = x.ndim - 2
        api = f"tf.nn.conv{nd}d"
        stride = reference.normalize_sizes(stride, nd, "stride")
        dilation = reference.normalize_sizes(dilation, nd, "dilation")
        tf_padding = _tf_padding(padding, x.shape[2:], w.shape[2:], stride, dilation,
                                 nd == 2, api)
        # TF infers groups from input channels / filter in-channels; the filter layout is
        # (*kernel, C/groups, O).
        filters = tf.constant(np.ascontiguousarray(np.transpose(w, (*range(2, nd + 2), 1, 0))))
        inputs = _channels_last(x)
        functions = {1: tf.nn.conv1d, 2: tf.nn.conv2d, 3: tf.nn.conv3d}

        def call() -> Any:
            y = functions[nd](inputs, filters, _full(stride), tf_padding,
                              dilations=_full(dilation))
            return y if b is None else tf.nn.bias_add(y, tf.constant(b))

        try:
            y = self._run(api, x.dtype, call)
        except tf.errors.InvalidArgumentError as err:
            # Conv3D's CPU kernels refuse groups > 1 ("input and filter must have the same
            # depth" / "Number of channels in filter (.) must match last dimension of
            # input") and, outside float32, dilation > 1 ("CPU implementation of Conv3D
            # currently only supports dilated rates of 1").
            # Where TensorFlow runs oneDNN (by default only on CPUs with AVX512_VNNI,
            # AVX512_BF16, AVX_VNNI or AMX) its float32 and bfloat16 kernels take both, so
            # for those dtypes the reason says "on this CPU" (the report's convention for
            # capabilities that depend on the CPU).
            where = ON_THIS_CPU if x.dtype.name in ("float32", "bfloat16") else "on CPU"
            if groups > 1 and ("must have the same depth" in str(err)
                               or "must match last dimension of input" in str(err)):
                raise Unsupported(f"{api} has no grouped convolution {where} for {x.dtype}"
                                  ) from err
            if "currently only supports dilated rates of 1" in str(err):
                raise Unsupported(f"{api} has no dilation > 1 {where} for {x.dtype}") from err
            raise
        return _channels_first(y)

    def max_pool(self, x: np.ndarray, kernel_size: Any, *, stride: Any = None,
                 padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False) -> np.ndarray:
        """Max pooling; explicit padding through ``tf.nn.max_pool1d/2d``."""
        return self._pool("MAX", x, kernel_size, stride, padding, dilation, ceil_mode)

    def avg_pool(self, x: np.ndarray, kernel_size: Any, *, stride: Any = None,
                 padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> np.ndarray:
        """Average pooling. TF has no ``count_include_pad``: its ``'SAME'`` averages over
        the input cells only, whatever the flag says (a registered convention)."""
        return self._pool("AVG", x, kernel_size, stride, padding, dilation, ceil_mode)

    def _pool(self, kind: str, x: np.ndarray, kernel_size: Any, stride: Any, padding: Any,
              dilation: Any, ceil_mode: bool) -> np.ndarray:
        nd = x.ndim - 2
        win = window(x.shape, kernel_size, stride, dilation)
        kernel, stride, dilation, dilated = win.kernel, win.stride, win.dilation, win.dilated
        if dilated:
            api = "tf.nn.pool"
        else:
            api = f"tf.nn.{'max' if kind == 'MAX' else 'avg'}_pool{nd}d"
        explicit = kind == "MAX" and not dilated and nd in (1, 2)
        tf_padding = _tf_padding(padding, x.shape[2:], kernel, stride, dilation, explicit, api)
        if ceil_mode and win.ceil_extends(padding):
            raise Unsupported(f"{api} has no ceil mode (output sizes round down)")
        inputs = _channels_last(x)
        if dilated:
            def call() -> Any:
                return tf.nn.pool(inputs, list(kernel), kind, strides=list(stride),
                                  padding=tf_padding, dilations=list(dilation))
        else:
            function = getattr(tf.nn, f"{'max' if kind == 'MAX' else 'avg'}_pool{nd}d")

            def call() -> Any:
                return function(inputs, _full(kernel), _full(stride), tf_padding)
        try:
            y = self._run(api, x.dtype, call)
        except ValueError as err:
            # tf.nn.pool refuses strides > 1 and 'SAME' together with dilation > 1.
            if dilated and ("not supported in conjunction" in str(err)
                            or "not implemented" in str(err)):
                raise Unsupported(f"{api}: {first_line(err)}") from err
            raise
        return _channels_first(y)


backend = TensorFlowBackend()
