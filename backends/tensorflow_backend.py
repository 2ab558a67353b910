"""TensorFlow adapter: ``tf.nn`` convolution and pooling, run in the layouts TF runs on CPU.

TensorFlow's CPU kernels take channels-last data (NWC / NHWC / NDHWC) and filters laid out
``(*kernel, C/groups, O)``; the adapter transposes to and from the oracle's channels-first
layout and changes nothing else. Padding maps onto TF's own ``'VALID'``/``'SAME'`` and, where
an API documents one (``tf.nn.conv2d``, ``tf.nn.max_pool1d``, ``tf.nn.max_pool2d``), onto its
explicit-padding list. Everything TF cannot express natively raises
:class:`backends.Unsupported` with the reason: explicit padding elsewhere, ``'same_lower'``,
a ceil mode that changes the output size, dilated pooling with strides or ``'SAME'``, and
dtypes without a CPU kernel (the message is TensorFlow's own).

Variants (``with_variant``; ``backends/table.py`` lists them): ``xla`` runs each forward
call, and each backward pass (the tape and its gradient together, as a compiled training
step has them), inside ``tf.function(jit_compile=True)``
(:meth:`TensorFlowBackend._compiled`);
``no_onednn`` and ``onednn`` are ``TF_ENABLE_ONEDNN_OPTS``, which :func:`backends.load` sets
before TensorFlow is imported (nothing changes in the adapter).

The backward passes run the very same forward call under ``tf.GradientTape`` (the tensors
watched, the convolution with a zero bias through ``tf.nn.bias_add`` so that ``db`` is
TF's own) and ask the tape for the gradient with ``output_gradients=dy``. TensorFlow
answers ``None`` for tensors it does not differentiate (integers): the adapter raises
:class:`backends.NoGradient` rather than invent zeros. :meth:`TensorFlowBackend.learn_kernel`
is the seeds' loop on ``tf.nn.conv2d`` with a ``tf.Variable`` and ``assign_sub``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import reference
from backends import ON_THIS_CPU, NoGradient, Unsupported
from backends.geometry import first_line, window

# TensorFlow's C++ start-up chatter would bury the test output; real errors still raise.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf

__all__ = ["TensorFlowBackend", "backend"]

#: TF's messages when an op has no CPU kernel for a dtype (graph-time or run-time).
_NO_KERNEL_MARKERS = ("is not in the list of allowed values", "Could not find device for node",
                      "No registered", "no kernel")


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


#: XLA's refusals (the ``xla`` variant): a dtype an op does not register fails at trace
#: time; tf2xla's pooling kernels refuse explicit padding (pooling_ops.cc).
_XLA_NO_DTYPE = "not in list of allowed values"
_XLA_NO_EXPLICIT = "XLA does not support pooling ops with explicit padding"


def _run(api: str, dtype: np.dtype, fn: Callable[[], Any]) -> Any:
    """Call ``fn``; a missing CPU kernel for ``dtype`` (or, under XLA, a dtype or explicit
    pooling padding XLA refuses) becomes :class:`Unsupported`."""
    try:
        return fn()
    except (tf.errors.NotFoundError, tf.errors.InvalidArgumentError) as err:
        if any(marker in str(err) for marker in _NO_KERNEL_MARKERS):
            raise Unsupported(f"{api} has no CPU kernel for {dtype}: {first_line(err)}") from err
        raise
    except TypeError as err:
        if _XLA_NO_DTYPE in str(err):
            raise Unsupported(f"{api} has no kernel for {dtype} (XLA): "
                              f"{first_line(err, (_XLA_NO_DTYPE,))}") from err
        raise
    except tf.errors.UnimplementedError as err:
        if _XLA_NO_EXPLICIT in str(err):
            raise Unsupported(f"{api} has no explicit padding under XLA: "
                              f"{first_line(err, (_XLA_NO_EXPLICIT,))}") from err
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

    def _compiled(self, fn: Callable[[], Any]) -> Callable[[], Any]:
        """``fn`` under the adapter's variant: compiled with
        ``tf.function(jit_compile=True)`` for ``xla``; as it is otherwise."""
        return tf.function(fn, jit_compile=True) if self.variant == "xla" else fn

    def conv(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, *,
             stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1
             ) -> np.ndarray:
        """Convolution through ``tf.nn.conv{1,2,3}d``; groups are implied by the shapes."""
        api, forward = _conv_forward(x, w, stride, padding, dilation)
        inputs, filters = _channels_last(x), _filters(w)
        bias = None if b is None else tf.constant(b)
        return _channels_first(_conv_run(api, x.dtype, groups, self._compiled(
            lambda: forward(inputs, filters, bias))))

    def conv_vjp(self, x: np.ndarray, w: np.ndarray, dy: np.ndarray, *, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(dx, dw, db)`` by ``tf.GradientTape`` through ``tf.nn.conv{1,2,3}d`` and
        ``tf.nn.bias_add``."""
        api, forward = _conv_forward(x, w, stride, padding, dilation)
        inputs, filters = _channels_last(x), _filters(w)
        bias = tf.zeros((w.shape[0],), dtype=inputs.dtype)

        def grads() -> list[Any]:
            with tf.GradientTape() as tape:
                tape.watch([inputs, filters, bias])
                y = forward(inputs, filters, bias)
            return tape.gradient(y, [inputs, filters, bias], output_gradients=_channels_last(dy))

        dx, dw, db = _conv_run(api, x.dtype, groups, self._compiled(grads))
        for name, g in zip(("x", "w", "b"), (dx, dw, db), strict=True):
            if g is None:
                raise NoGradient("tf.GradientTape.gradient", f"{name} ({x.dtype})")
        nd = x.ndim - 2
        return (_channels_first(dx),
                np.ascontiguousarray(np.transpose(dw.numpy(), (nd + 1, nd, *range(nd)))),
                db.numpy())

    def max_pool(self, x: np.ndarray, kernel_size: Any, *, stride: Any = None,
                 padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False) -> np.ndarray:
        """Max pooling; explicit padding through ``tf.nn.max_pool1d/2d``."""
        api, dilated, forward = _pool_forward("MAX", x, kernel_size, stride, padding,
                                              dilation, ceil_mode)
        inputs = _channels_last(x)
        return _channels_first(_pool_run(api, x.dtype, dilated,
                                         self._compiled(lambda: forward(inputs))))

    def avg_pool(self, x: np.ndarray, kernel_size: Any, *, stride: Any = None,
                 padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> np.ndarray:
        """Average pooling. TF has no ``count_include_pad``: its ``'SAME'`` averages over
        the input cells only, whatever the flag says (a registered convention)."""
        api, dilated, forward = _pool_forward("AVG", x, kernel_size, stride, padding,
                                              dilation, ceil_mode)
        inputs = _channels_last(x)
        return _channels_first(_pool_run(api, x.dtype, dilated,
                                         self._compiled(lambda: forward(inputs))))

    def max_pool_vjp(self, x: np.ndarray, dy: np.ndarray, kernel_size: Any, *,
                     stride: Any = None, padding: Any = 0, dilation: Any = 1,
                     ceil_mode: bool = False) -> np.ndarray:
        """``dx`` by ``tf.GradientTape`` through the max pooling of :meth:`max_pool`."""
        return _pool_vjp("MAX", x, dy, kernel_size, stride, padding, dilation, ceil_mode,
                         self._compiled)

    def avg_pool_vjp(self, x: np.ndarray, dy: np.ndarray, kernel_size: Any, *,
                     stride: Any = None, padding: Any = 0, dilation: Any = 1,
                     ceil_mode: bool = False, count_include_pad: bool = True) -> np.ndarray:
        """``dx`` by ``tf.GradientTape`` through the average pooling of :meth:`avg_pool`."""
        return _pool_vjp("AVG", x, dy, kernel_size, stride, padding, dilation, ceil_mode,
                         self._compiled)

    def learn_kernel(self, X: np.ndarray, Y: np.ndarray, init: np.ndarray, lr: float,
                     steps: int) -> tuple[np.ndarray, np.ndarray]:
        """The seeds' loop in float32: under ``tf.GradientTape``, ``Yhat = conv2d(X, K)``
        and ``l = abs(Yhat - Y) ** 2``; then ``K.assign_sub(lr * tape.gradient(l, K))``.
        Returns the kernel before and after every step and each step's loss (see
        :func:`reference.learn_kernel`)."""
        x = tf.constant(np.asarray(X, dtype=np.float32).reshape(1, *X.shape, 1))
        y = tf.constant(np.asarray(Y, dtype=np.float32).reshape(1, *Y.shape, 1))
        k = tf.Variable(np.asarray(init, dtype=np.float32).reshape(*init.shape, 1, 1))
        kernels, losses = [k.numpy()[..., 0, 0].copy()], []
        for _ in range(steps):
            with tf.GradientTape(watch_accessed_variables=False) as tape:
                tape.watch(k)
                y_hat = tf.nn.conv2d(x, k, 1, "VALID")
                loss = tf.abs(y_hat - y) ** 2
            losses.append(tf.reduce_sum(loss).numpy())
            k.assign_sub(lr * tape.gradient(loss, k))
            kernels.append(k.numpy()[..., 0, 0].copy())
        return np.stack(kernels), np.stack(losses)


def _filters(w: np.ndarray) -> Any:
    """Oracle weights ``(O, C/groups, *kernel)`` as TF filters ``(*kernel, C/groups, O)``."""
    nd = w.ndim - 2
    return tf.constant(np.ascontiguousarray(np.transpose(w, (*range(2, nd + 2), 1, 0))))


def _conv_forward(x: np.ndarray, w: np.ndarray, stride: Any, padding: Any, dilation: Any
                  ) -> tuple[str, Callable[[Any, Any, Any], Any]]:
    """The API name and the forward call ``(inputs, filters, bias) -> y`` of a
    convolution, translated once for the forward and the backward pass."""
    nd = x.ndim - 2
    api = f"tf.nn.conv{nd}d"
    stride = reference.normalize_sizes(stride, nd, "stride")
    dilation = reference.normalize_sizes(dilation, nd, "dilation")
    tf_padding = _tf_padding(padding, x.shape[2:], w.shape[2:], stride, dilation, nd == 2,
                             api)
    # TF infers groups from input channels / filter in-channels.
    function = {1: tf.nn.conv1d, 2: tf.nn.conv2d, 3: tf.nn.conv3d}[nd]

    def forward(inputs: Any, filters: Any, bias: Any) -> Any:
        y = function(inputs, filters, _full(stride), tf_padding, dilations=_full(dilation))
        return y if bias is None else tf.nn.bias_add(y, bias)

    return api, forward


def _conv_run(api: str, dtype: np.dtype, groups: int, fn: Callable[[], Any]) -> Any:
    """:func:`_run` for a convolution, with Conv3D's CPU limitations as Unsupported."""
    try:
        return _run(api, dtype, fn)
    except tf.errors.InvalidArgumentError as err:
        # Conv3D's CPU kernels refuse groups > 1 ("input and filter must have the same
        # depth" / "Number of channels in filter (.) must match last dimension of
        # input") and, outside float32, dilation > 1 ("CPU implementation of Conv3D
        # currently only supports dilated rates of 1").
        # Where TensorFlow runs oneDNN (by default only on CPUs with AVX512_VNNI,
        # AVX512_BF16, AVX_VNNI or AMX) its float32 and bfloat16 kernels take both, so
        # for those dtypes the reason says "on this CPU" (the report's convention for
        # capabilities that depend on the CPU).
        where = ON_THIS_CPU if np.dtype(dtype).name in ("float32", "bfloat16") else "on CPU"
        if groups > 1 and ("must have the same depth" in str(err)
                           or "must match last dimension of input" in str(err)):
            raise Unsupported(f"{api} has no grouped convolution {where} for {dtype}"
                              ) from err
        if "currently only supports dilated rates of 1" in str(err):
            raise Unsupported(f"{api} has no dilation > 1 {where} for {dtype}") from err
        # The gradient kernels (Conv2DBackpropInput/Filter) have neither on CPU.
        if "Gradients for grouped convolutions are not supported on CPU" in str(err):
            raise Unsupported(f"{api} has no gradient of grouped convolution {where}"
                              ) from err
        if "do not yet support dilation rates larger than 1" in str(err):
            raise Unsupported(f"{api} has no gradient with dilation > 1 {where}") from err
        raise


def _pool_forward(kind: str, x: np.ndarray, kernel_size: Any, stride: Any, padding: Any,
                  dilation: Any, ceil_mode: bool
                  ) -> tuple[str, bool, Callable[[Any], Any]]:
    """The API name, whether it is the dilated ``tf.nn.pool``, and the forward call of a
    pooling, translated once for the forward and the backward pass."""
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
    if dilated:
        def forward(inputs: Any) -> Any:
            return tf.nn.pool(inputs, list(kernel), kind, strides=list(stride),
                              padding=tf_padding, dilations=list(dilation))
    else:
        function = getattr(tf.nn, f"{'max' if kind == 'MAX' else 'avg'}_pool{nd}d")

        def forward(inputs: Any) -> Any:
            return function(inputs, _full(kernel), _full(stride), tf_padding)
    return api, dilated, forward


def _pool_run(api: str, dtype: np.dtype, dilated: bool, fn: Callable[[], Any]) -> Any:
    """:func:`_run` for a pooling: ``tf.nn.pool``'s refusals are Unsupported."""
    try:
        return _run(api, dtype, fn)
    except ValueError as err:
        # tf.nn.pool refuses strides > 1 and 'SAME' together with dilation > 1.
        if dilated and ("not supported in conjunction" in str(err)
                        or "not implemented" in str(err)):
            raise Unsupported(f"{api}: {first_line(err)}") from err
        raise


def _pool_vjp(kind: str, x: np.ndarray, dy: np.ndarray, kernel_size: Any, stride: Any,
              padding: Any, dilation: Any, ceil_mode: bool,
              compiled: Callable[[Callable[[], Any]], Callable[[], Any]]) -> np.ndarray:
    """The gradient of a pooling at ``x`` against ``dy``, by ``tf.GradientTape``, the
    tape and its gradient ``compiled`` as the adapter's variant says."""
    api, dilated, forward = _pool_forward(kind, x, kernel_size, stride, padding, dilation,
                                          ceil_mode)
    inputs = _channels_last(x)

    def grad() -> Any:
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            y = forward(inputs)
        return tape.gradient(y, inputs, output_gradients=_channels_last(dy))

    dx = _pool_run(api, x.dtype, dilated, compiled(grad))
    if dx is None:
        raise NoGradient("tf.GradientTape.gradient", f"x ({x.dtype})")
    return _channels_first(dx)


backend = TensorFlowBackend()
