"""Keras 3 adapter: the ``keras.layers`` users build, on Keras' TensorFlow, PyTorch or JAX
backend.

Three module objects, :data:`tensorflow_backend`, :data:`torch_backend` and
:data:`jax_backend`, run the same layers
(``Conv1D/2D/3D``, ``MaxPooling1D/2D/3D``, ``AveragePooling1D/2D/3D``) on one Keras backend
each: Keras users switch backends and expect the same numbers. Keras reads ``KERAS_BACKEND``
once, at ``import keras``, so the adapter imports Keras lazily, on first use, after setting it;
one process can therefore run only one of the three objects. On JAX, 64-bit dtypes need
``JAX_ENABLE_X64`` (set by the nox session), as for the plain JAX adapter.

Layers are built as a Keras user gets them by default: ``data_format="channels_last"`` (the
adapter transposes the oracle's channels-first arrays), the layer ``dtype`` equal to the
input's, and convolution weights set from the oracle's ``(O, C/groups, *kernel)`` as Keras'
``(*kernel, C/groups, O)``. Keras layers take only ``'valid'`` and ``'same'`` padding and have
no pooling dilation, ceil mode or ``count_include_pad``: anything else raises
:class:`backends.Unsupported`.

The backward passes call the same layer under the Keras backend's own autograd:
``tf.GradientTape`` on Keras' TensorFlow backend, ``torch.autograd.grad`` on its PyTorch
backend, and on its JAX backend ``jax.vjp`` of the layer's ``stateless_call`` (Keras' way
of calling a layer as a pure function of its variables' values, which JAX differentiates),
with respect to the input and the layer's variables (a convolution layer with a zero bias,
for ``db``). A ``None`` gradient (TensorFlow's answer for integer tensors) or a ``float0``
one (JAX's) raises :class:`backends.NoGradient`. :meth:`KerasBackend.learn_kernel` is the
seeds' loop on a ``Conv2D`` layer, updated with ``kernel.assign_sub``.

Variants of Keras on TensorFlow (``with_variant``; ``backends/table.py`` lists them): ``xla``
calls the layer inside ``tf.function(jit_compile=True)`` (what ``Model.compile(
jit_compile=True)`` does to a model's step), applied in :meth:`KerasBackend._call` and, for a
backward pass, around the tape and its gradient in :meth:`KerasBackend._vjp`;
``no_onednn`` and ``onednn`` are ``TF_ENABLE_ONEDNN_OPTS``, which :func:`backends.load`
sets before TensorFlow is imported.
"""

from __future__ import annotations

import functools
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

import reference
from backends import NoGradient, Unsupported
from backends.geometry import first_line, window

__all__ = ["KerasBackend", "jax_backend", "tensorflow_backend", "torch_backend"]


def _keras(keras_backend: str) -> Any:
    """Import Keras on ``keras_backend``; refuse if it is already running on another one."""
    if "keras" not in sys.modules:
        os.environ["KERAS_BACKEND"] = keras_backend
        if keras_backend == "tensorflow":
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    running = keras.backend.backend()
    if running != keras_backend:
        raise RuntimeError(
            f"keras is already imported with the {running!r} backend, so the "
            f"keras-{keras_backend} adapter cannot run in this process: start a new process "
            f"with KERAS_BACKEND={keras_backend} (Keras reads it once, at import)"
        )
    return keras


def _keras_padding(padding: Any, in_sizes: Sequence[int], kernel: Sequence[int],
                   stride: Sequence[int], dilation: Sequence[int], layer: str) -> str:
    """The oracle's ``padding`` as a Keras layer's: ``'valid'`` or ``'same'``."""
    if isinstance(padding, str):
        if padding in ("valid", "same"):
            return padding
        raise Unsupported(f"keras.layers.{layer} has no {padding!r} padding (its 'same' puts "
                          "the odd extra cell at the end)")
    pads = reference.resolve_padding(padding, in_sizes, kernel, stride, dilation)
    if any(lo or hi for lo, hi in pads):
        raise Unsupported(f"keras.layers.{layer} takes only 'valid' or 'same' padding, no "
                          "explicit padding")
    return "valid"


def _channels_last(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.transpose(x, (0, *range(2, x.ndim), 1)))


def _channels_first(y: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.transpose(y, (0, y.ndim - 1, *range(1, y.ndim - 1))))


class KerasBackend:
    """Keras 3 layers on one Keras backend (``"tensorflow"``, ``"torch"`` or ``"jax"``).

    Parameters
    ----------
    keras_backend : str
        The value of ``KERAS_BACKEND`` the layers run on.
    """

    def __init__(self, keras_backend: str, variant: str = "") -> None:
        self.keras_backend = keras_backend
        self.name = f"keras-{keras_backend}"
        #: The variant it runs under ('' for the default).
        self.variant = variant

    def with_variant(self, variant: str) -> KerasBackend:
        """The same adapter under ``variant`` (see the module docstring)."""
        if self.keras_backend != "tensorflow" or variant not in ("xla", "no_onednn", "onednn"):
            raise ValueError(f"the keras-{self.keras_backend} adapter has no variant "
                             f"{variant!r}")
        return KerasBackend(self.keras_backend, variant)

    @property
    def version(self) -> str:
        """Keras' version and its backend framework's, e.g. ``"3.15.1 (torch 2.13.0)"``."""
        keras = _keras(self.keras_backend)
        framework = sys.modules.get(self.keras_backend)
        return f"{keras.__version__} ({self.keras_backend} " \
               f"{getattr(framework, '__version__', 'unknown')})"

    def conv(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, *,
             stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1
             ) -> np.ndarray:
        """Convolution through ``keras.layers.Conv{1,2,3}D`` with the oracle's weights."""
        layer = self._conv_layer(x, w, b, stride, padding, dilation, groups)
        return self._call(layer, x)

    def conv_vjp(self, x: np.ndarray, w: np.ndarray, dy: np.ndarray, *, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(dx, dw, db)`` through ``keras.layers.Conv{1,2,3}D`` (zero bias) by the Keras
        backend's autograd."""
        nd = x.ndim - 2
        b = np.zeros(w.shape[0], dtype=x.dtype)
        layer = self._conv_layer(x, w, b, stride, padding, dilation, groups)
        dx, dw, db = self._vjp(layer, x, dy, (layer.kernel, layer.bias))
        return (dx, np.ascontiguousarray(np.transpose(dw, (nd + 1, nd, *range(nd)))), db)

    def _conv_layer(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride: Any,
                    padding: Any, dilation: Any, groups: int) -> Any:
        """The built ``Conv{1,2,3}D`` layer of a call, holding the oracle's weights."""
        nd = x.ndim - 2
        layer_name = f"Conv{nd}D"
        stride = reference.normalize_sizes(stride, nd, "stride")
        dilation = reference.normalize_sizes(dilation, nd, "dilation")
        kernel = tuple(w.shape[2:])
        keras_padding = _keras_padding(padding, x.shape[2:], kernel, stride, dilation,
                                       layer_name)
        # Zero initializers: the weights are overwritten below, and the default random
        # initializers cannot draw integer weights.
        layer = self._layer(layer_name, _dtype_name(x.dtype), x.shape[1],
                            filters=w.shape[0], kernel_size=kernel, strides=stride,
                            padding=keras_padding, dilation_rate=dilation, groups=groups,
                            use_bias=b is not None, kernel_initializer="zeros",
                            bias_initializer="zeros")
        weights = [np.ascontiguousarray(np.transpose(w, (*range(2, nd + 2), 1, 0)))]
        if b is not None:
            weights.append(np.asarray(b))
        layer.set_weights(weights)
        return layer

    def max_pool(self, x: np.ndarray, kernel_size: Any, *, stride: Any = None,
                 padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False) -> np.ndarray:
        """Max pooling through ``keras.layers.MaxPooling{1,2,3}D``."""
        return self._pool("MaxPooling", x, kernel_size, stride, padding, dilation, ceil_mode)

    def avg_pool(self, x: np.ndarray, kernel_size: Any, *, stride: Any = None,
                 padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> np.ndarray:
        """Average pooling through ``keras.layers.AveragePooling{1,2,3}D``. Keras has no
        ``count_include_pad``: what its ``'same'`` divides by is the backend's (registered)."""
        return self._pool("AveragePooling", x, kernel_size, stride, padding, dilation,
                          ceil_mode)

    def max_pool_vjp(self, x: np.ndarray, dy: np.ndarray, kernel_size: Any, *,
                     stride: Any = None, padding: Any = 0, dilation: Any = 1,
                     ceil_mode: bool = False) -> np.ndarray:
        """``dx`` through ``keras.layers.MaxPooling{1,2,3}D`` by the backend's autograd."""
        layer = self._pool_layer("MaxPooling", x, kernel_size, stride, padding, dilation,
                                 ceil_mode)
        return self._vjp(layer, x, dy, ())[0]

    def avg_pool_vjp(self, x: np.ndarray, dy: np.ndarray, kernel_size: Any, *,
                     stride: Any = None, padding: Any = 0, dilation: Any = 1,
                     ceil_mode: bool = False, count_include_pad: bool = True) -> np.ndarray:
        """``dx`` through ``keras.layers.AveragePooling{1,2,3}D`` by the backend's
        autograd."""
        layer = self._pool_layer("AveragePooling", x, kernel_size, stride, padding, dilation,
                                 ceil_mode)
        return self._vjp(layer, x, dy, ())[0]

    def learn_kernel(self, X: np.ndarray, Y: np.ndarray, init: np.ndarray, lr: float,
                     steps: int) -> tuple[np.ndarray, np.ndarray]:
        """The seeds' loop in float32 on ``keras.layers.Conv2D(1, init.shape,
        use_bias=False)``: ``loss = sum((layer(X) - Y) ** 2)``, its gradient by the
        backend's autograd (on JAX, of ``layer.stateless_call`` as a function of the
        kernel), ``layer.kernel.assign_sub(lr * grad)``. Returns the kernel
        before and after every step and each step's loss (see
        :func:`reference.learn_kernel`)."""
        keras = _keras(self.keras_backend)
        layer = keras.layers.Conv2D(1, tuple(init.shape), use_bias=False, dtype="float32")
        layer.build((None, *X.shape, 1))
        layer.set_weights([np.asarray(init, dtype=np.float32).reshape(*init.shape, 1, 1)])
        x = keras.ops.convert_to_tensor(np.asarray(X, np.float32).reshape(1, *X.shape, 1))
        y = keras.ops.convert_to_tensor(np.asarray(Y, np.float32).reshape(1, *Y.shape, 1))

        def loss_of(*kernel: Any) -> Any:
            out = layer(x) if not kernel else layer.stateless_call(list(kernel), [], x)[0]
            return keras.ops.sum((out - y) ** 2)

        kernels, losses = [_numpy(keras, layer.kernel)[..., 0, 0].copy()], []
        for _ in range(steps):
            loss, (grad,) = self._gradients(loss_of, [layer.kernel.value], None)
            losses.append(_numpy(keras, loss))
            layer.kernel.assign_sub(lr * grad)
            kernels.append(_numpy(keras, layer.kernel)[..., 0, 0].copy())
        return np.stack(kernels), np.stack(losses)

    def _pool(self, kind: str, x: np.ndarray, kernel_size: Any, stride: Any, padding: Any,
              dilation: Any, ceil_mode: bool) -> np.ndarray:
        layer = self._pool_layer(kind, x, kernel_size, stride, padding, dilation, ceil_mode)
        return self._call(layer, x)

    def _pool_layer(self, kind: str, x: np.ndarray, kernel_size: Any, stride: Any,
                    padding: Any, dilation: Any, ceil_mode: bool) -> Any:
        """The built pooling layer of a call."""
        nd = x.ndim - 2
        layer_name = f"{kind}{nd}D"
        win = window(x.shape, kernel_size, stride, dilation)
        kernel, strides, dilation = win.kernel, win.stride, win.dilation
        if win.dilated:
            raise Unsupported(f"keras.layers.{layer_name} has no dilation")
        keras_padding = _keras_padding(padding, x.shape[2:], kernel, strides, dilation,
                                       layer_name)
        if ceil_mode and win.ceil_extends(padding):
            raise Unsupported(f"keras.layers.{layer_name} has no ceil mode (output sizes "
                              "round down)")
        # strides=None is passed through: the layer's own default (the pool size) is tested.
        return self._layer(layer_name, _dtype_name(x.dtype), x.shape[1], pool_size=kernel,
                           strides=None if stride is None else strides,
                           padding=keras_padding)

    def _gradients(self, fn: Any, sources: list[Any], output_gradient: Any
                   ) -> tuple[Any, list[Any]]:
        """``fn()`` and its gradients with respect to ``sources`` (backend tensors or
        variables) against ``output_gradient`` (None: ``fn()`` is a scalar), by the
        autograd of Keras' backend: ``tf.GradientTape``, ``torch.autograd.grad``, or
        ``jax.vjp`` of ``fn(*sources)`` (JAX differentiates functions of their inputs,
        so there ``fn`` takes the sources' values as arguments; an output gradient is
        passed in the output's dtype, which ``jax.vjp`` requires of a cotangent)."""
        if self.keras_backend == "jax":
            import jax

            out, pullback = jax.vjp(fn, *sources)
            cotangent = (jax.numpy.ones_like(out) if output_gradient is None
                         else output_gradient.astype(out.dtype))
            return out, list(pullback(cotangent))
        if self.keras_backend == "tensorflow":
            import tensorflow as tf

            with tf.GradientTape() as tape:
                for s in sources:
                    tape.watch(s)
                out = fn()
            return out, tape.gradient(out, sources, output_gradients=output_gradient)
        import torch

        with torch.enable_grad():
            out = fn()
            grads = torch.autograd.grad(out, sources, grad_outputs=output_gradient,
                                        allow_unused=True)
        return out, list(grads)

    def _vjp(self, layer: Any, x: np.ndarray, dy: np.ndarray, variables: Sequence[Any]
             ) -> list[np.ndarray]:
        """The gradients of ``layer`` at channels-first ``x`` against ``dy``: the input's
        (channels-first) and each variable's (in Keras' layout)."""
        keras = _keras(self.keras_backend)
        dtype = _dtype_name(x.dtype)
        inputs = keras.ops.convert_to_tensor(_channels_last(x), dtype=dtype)
        if self.keras_backend == "torch":
            if not inputs.dtype.is_floating_point:
                raise Unsupported(f"torch.autograd (Keras {keras.__version__}/torch) has no "
                                  f"gradients for {dtype}")
            inputs.requires_grad_(True)
        sources = [inputs, *(v.value for v in variables)]
        out_grad = keras.ops.convert_to_tensor(_channels_last(dy), dtype=dtype)

        def call(*values: Any) -> Any:
            if self.keras_backend != "jax":
                return layer(inputs)
            # JAX: the layer as a function of the input and its variables' values
            given = dict(zip(map(id, variables), values[1:], strict=True))
            trainable = [given.get(id(v), v.value) for v in layer.trainable_variables]
            return layer.stateless_call(trainable, [v.value for v in
                                                    layer.non_trainable_variables],
                                        values[0])[0]

        def gradients() -> list[Any]:
            return self._gradients(call, sources, out_grad)[1]

        if self.variant == "xla":
            import tensorflow as tf

            gradients = tf.function(gradients, jit_compile=True)
        try:
            grads = gradients()
        except Exception as err:
            if _no_kernel(err):
                raise Unsupported(f"keras.layers.{type(layer).__name__} on "
                                  f"{self.keras_backend} has no CPU gradient kernel for "
                                  f"{dtype}: {first_line(err, _NO_KERNEL_MARKERS)}") from err
            raise
        names = ["x", *(v.path for v in variables)]
        out = []
        for name, g in zip(names, grads, strict=True):
            if g is None:
                api = ("tf.GradientTape.gradient" if self.keras_backend == "tensorflow"
                       else "torch.autograd.grad")
                raise NoGradient(api, f"{name} ({dtype})")
            if self.keras_backend == "jax" and g.dtype == _float0():
                raise NoGradient("jax.vjp", f"{name} ({dtype})", answer="float0")
            out.append(_numpy(keras, g))
        return [_channels_first(out[0]), *out[1:]]

    def _layer(self, layer_name: str, dtype: str, channels: int, **config: Any) -> Any:
        """A built layer for ``config``; construction errors become :class:`Unsupported`."""
        keras = _keras(self.keras_backend)
        try:
            # the values' types key the cache too: groups=1.0 must not reuse the layer
            # built for groups=1, which compares and hashes equal
            items = tuple(sorted(config.items()))
            return _build(self.keras_backend, layer_name, dtype, channels, items,
                          tuple(type(v) for _, v in items))
        except (ValueError, TypeError, NotImplementedError, RuntimeError) as err:
            # Keras refuses the combination (e.g. strides > 1 with dilation > 1) or the
            # dtype (its torch backend cannot create integer weights) at construction.
            raise Unsupported(f"keras.layers.{layer_name}(dtype={dtype!r}) on Keras "
                              f"{keras.__version__}/{self.keras_backend}: "
                              f"{first_line(err, _NO_KERNEL_MARKERS)}") from err

    def _call(self, layer: Any, x: np.ndarray) -> np.ndarray:
        """Run ``layer`` on channels-first ``x``; the result in the layer's dtype."""
        keras = _keras(self.keras_backend)
        dtype = x.dtype
        call = layer
        if self.variant == "xla":
            import tensorflow as tf

            call = tf.function(layer, jit_compile=True)
        try:
            y = call(keras.ops.convert_to_tensor(_channels_last(x), dtype=_dtype_name(dtype)))
        except Exception as err:
            if _no_kernel(err):
                raise Unsupported(f"keras.layers.{type(layer).__name__} on "
                                  f"{self.keras_backend} has no CPU kernel for {dtype}: "
                                  f"{first_line(err, _NO_KERNEL_MARKERS)}") from err
            raise
        with warnings.catch_warnings():
            # Keras 3.15 converts with np.array(tensor) and NumPy 2 warns about the copy
            # keyword on every call; the conversion itself is right.
            warnings.simplefilter("ignore", DeprecationWarning)
            out = keras.ops.convert_to_numpy(y)
        return _channels_first(out)


@functools.lru_cache(maxsize=256)
def _build(keras_backend: str, layer_name: str, dtype: str, channels: int,
           config: tuple[tuple[str, Any], ...], types: tuple[type, ...] = ()) -> Any:
    """Construct and build a channels-last layer (cached: construction costs milliseconds
    and the suite repeats configurations; ``types``, the config values' types, only keys
    the cache)."""
    keras = _keras(keras_backend)
    layer = getattr(keras.layers, layer_name)(**dict(config), data_format="channels_last",
                                              dtype=dtype)
    if layer_name.startswith("Conv"):
        layer.build((None,) * (int(layer_name[4]) + 1) + (channels,))
    return layer


def _numpy(keras: Any, tensor: Any) -> np.ndarray:
    """A backend tensor or variable as a NumPy array (bfloat16 as ``ml_dtypes``')."""
    with warnings.catch_warnings():
        # Keras 3.15 converts with np.array(tensor) and NumPy 2 warns about the copy
        # keyword on every call; the conversion itself is right.
        warnings.simplefilter("ignore", DeprecationWarning)
        return np.asarray(keras.ops.convert_to_numpy(tensor))


def _float0() -> Any:
    """JAX's tangent type of integer inputs, which holds no values."""
    import jax

    return jax.dtypes.float0


def _dtype_name(dtype: Any) -> str:
    return np.dtype(dtype).name if not isinstance(dtype, str) else dtype


#: Messages of TF and PyTorch when an op has no CPU kernel for a dtype.
_NO_KERNEL_MARKERS = ("is not in the list of allowed values", "not in list of allowed values",
                      "Could not find device for node",
                      "No registered", "not implemented for", "no kernel")


def _no_kernel(err: BaseException) -> bool:
    return any(marker in str(err) for marker in _NO_KERNEL_MARKERS)


#: Keras 3 layers on Keras' TensorFlow backend.
tensorflow_backend = KerasBackend("tensorflow")
#: Keras 3 layers on Keras' PyTorch backend.
torch_backend = KerasBackend("torch")
#: Keras 3 layers on Keras' JAX backend.
jax_backend = KerasBackend("jax")
