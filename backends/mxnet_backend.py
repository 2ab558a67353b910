"""MXNet adapter: the ``mx.nd.Convolution`` and ``mx.nd.Pooling`` operators of MXNet 1.9.1 on CPU.

MXNet's operators take the oracle's layouts (``NCW``/``NCHW``/``NCDHW`` data,
``(O, C/groups, *kernel)`` weights), so the adapter only converts arrays (bfloat16 through
MXNet's own bfloat16 type, bit for bit) and maps the arguments:

- padding: one symmetric value per dimension (``pad``), ``'valid'`` being zero padding.
  MXNet has no asymmetric padding and no ``'same'`` for convolution; its pooling documents
  ``pooling_convention='same'`` for 1-D max pooling only, which the adapter uses there.
- pooling: ``ceil_mode`` is ``pooling_convention='full'``, ``count_include_pad`` is MXNet's
  own; there is no pooling dilation. A call without ``stride`` leaves MXNet's default in
  place (it is 1, not the kernel size: a registered convention).

Whatever MXNet cannot express, or has no CPU kernel for in the dtype under test, raises
:class:`backends.Unsupported` with the reason (MXNet's own message where it gives one).

The backward passes make the same operator call on arrays with ``attach_grad()`` under
``mx.autograd.record()`` and call ``y.backward(dy)`` (the convolution with a zero bias, for
``db``). :meth:`MXNetBackend.learn_kernel` is the seeds' loop on ``mx.nd.Convolution``,
updated in place with ``K[:] -= lr * K.grad``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import mxnet as mx
import numpy as np

import reference
from backends import ON_THIS_CPU, Unsupported
from backends.geometry import symmetric, window

try:
    import ml_dtypes
except ImportError:  # bfloat16 cases are then not drawn at all
    ml_dtypes = None

__all__ = ["MXNetBackend", "backend"]

#: MXNet's bfloat16: a structured uint16 dtype its NDArray frontend maps to its own type.
_MX_BFLOAT16 = np.dtype([("bfloat16", np.uint16)])
#: MXNet's layout names, by number of spatial dimensions.
_LAYOUTS = {1: "NCW", 2: "NCHW", 3: "NCDHW"}
#: MXNet's messages when an operator has no CPU kernel for a dtype ("Unknown type enum 12":
#: bfloat16 outside oneDNN, e.g. with MXNET_MKLDNN_ENABLED=0).
_NO_KERNEL_MARKERS = ("only support floating point types", "not implemented!",
                      "Unknown type enum")
#: oneDNN's messages when it has no primitive for the dtype it is given: integers, and
#: bfloat16 on CPUs whose instruction set oneDNN has no bfloat16 kernels for.
_NO_PRIMITIVE_MARKERS = ("could not create a descriptor",
                         "could not create a primitive descriptor")


def _is_bfloat16(dtype: np.dtype) -> bool:
    return ml_dtypes is not None and dtype == np.dtype(ml_dtypes.bfloat16)


def _to_mx(a: np.ndarray) -> Any:
    """A NumPy array as an MXNet NDArray of the same dtype (bfloat16 by its bit pattern)."""
    a = np.ascontiguousarray(a)
    if _is_bfloat16(a.dtype):
        return mx.nd.array(a.view(np.uint16).view(_MX_BFLOAT16), dtype=_MX_BFLOAT16)
    return mx.nd.array(a, dtype=a.dtype)


def _to_numpy(y: Any, dtype: np.dtype) -> Any:
    """An NDArray as a NumPy array (bfloat16 back as ``ml_dtypes.bfloat16``); a list of
    them as a list."""
    if isinstance(y, list):
        return [_to_numpy(a, dtype) for a in y]
    out = y.asnumpy()
    if _is_bfloat16(dtype) and out.dtype == _MX_BFLOAT16:
        return out.view(np.uint16).view(ml_dtypes.bfloat16)
    return out


def _message(err: BaseException) -> str:
    """MXNet's message: the ``MXNetError:`` line of its C++ traceback, without the
    source line and the values of the call, so one limitation reads the same every time."""
    lines = [line.strip() for line in str(err).strip().splitlines() if line.strip()]
    telling = [line for line in lines if line.startswith("MXNetError:")]
    line = (telling or lines or [type(err).__name__])[-1]
    line = line.removeprefix("MXNetError:").strip()
    return re.sub(r",? not \w+$", "", line)


def _run(api: str, dtype: np.dtype, fn: Callable[[], Any]) -> Any:
    """Call ``fn`` and fetch its result (MXNet raises at the fetch: its engine is
    asynchronous); a missing CPU kernel for ``dtype`` becomes :class:`Unsupported`."""
    try:
        return _to_numpy(fn(), dtype)
    except mx.base.MXNetError as err:
        text = str(err)
        if any(marker in text for marker in _NO_KERNEL_MARKERS):
            raise Unsupported(f"{api} has no CPU kernel for {np.dtype(dtype).name}: "
                              f"{_message(err)}") from err
        if any(marker in text for marker in _NO_PRIMITIVE_MARKERS):
            if np.dtype(dtype).kind in "iu":
                raise Unsupported(f"{api} has no CPU kernel for {np.dtype(dtype).name}: "
                                  f"{_message(err)}") from err
            if _is_bfloat16(dtype):
                raise Unsupported(f"{api} has no bfloat16 kernel {ON_THIS_CPU} (oneDNN, which "
                                  f"MXNet runs bfloat16 on, has none for its instruction "
                                  f"set): {_message(err)}") from err
        raise


class MXNetBackend:
    """``mx.nd.Convolution`` and ``mx.nd.Pooling`` on CPU, in the dtype of the input."""

    name = "mxnet"
    version = mx.__version__
    #: The variant it runs under ('' for the default).
    variant = ""

    def with_variant(self, variant: str) -> MXNetBackend:
        """The same adapter under ``variant``. ``no_mkldnn`` is ``MXNET_MKLDNN_ENABLED=0``,
        which :func:`backends.load` sets before MXNet is imported: nothing changes here."""
        if variant != "no_mkldnn":
            raise ValueError(f"the mxnet adapter has no variant {variant!r}")
        other = MXNetBackend()
        other.variant = variant
        return other

    def conv(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, *,
             stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1
             ) -> np.ndarray:
        """Convolution through ``mx.nd.Convolution``."""
        api, forward = _conv_forward(x, w, b is not None, stride, padding, dilation, groups)
        data, weight = _to_mx(x), _to_mx(w)
        bias = None if b is None else _to_mx(b)
        return _run(api, x.dtype, lambda: forward(data, weight, bias))

    def conv_vjp(self, x: np.ndarray, w: np.ndarray, dy: np.ndarray, *, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(dx, dw, db)`` by ``mx.autograd`` through ``mx.nd.Convolution``."""
        api, forward = _conv_forward(x, w, True, stride, padding, dilation, groups)
        arrays = [_to_mx(x), _to_mx(w), _to_mx(np.zeros(w.shape[0], dtype=x.dtype))]
        grads = _vjp(api, x.dtype, lambda: forward(*arrays), arrays, dy)
        return grads[0], grads[1], grads[2]

    def learn_kernel(self, X: np.ndarray, Y: np.ndarray, init: np.ndarray, lr: float,
                     steps: int) -> tuple[np.ndarray, np.ndarray]:
        """The seeds' loop in float32: under ``mx.autograd.record()``, ``Yhat =
        Convolution(X, K)`` and ``l = (Yhat - Y) ** 2``; ``l.backward()``;
        ``K[:] -= lr * K.grad``. Returns the kernel before and after every step and each
        step's loss (see :func:`reference.learn_kernel`)."""
        x = mx.nd.array(np.asarray(X, np.float32).reshape(1, 1, *X.shape), dtype=np.float32)
        y = mx.nd.array(np.asarray(Y, np.float32).reshape(1, 1, *Y.shape), dtype=np.float32)
        k = mx.nd.array(np.asarray(init, np.float32).reshape(1, 1, *init.shape),
                        dtype=np.float32)
        k.attach_grad()
        kernels, losses = [k.asnumpy()[0, 0].copy()], []
        for _ in range(steps):
            with mx.autograd.record():
                y_hat = mx.nd.Convolution(x, k, kernel=init.shape, num_filter=1, no_bias=True)
                loss = (y_hat - y) ** 2
            loss.backward()
            losses.append(loss.sum().asnumpy()[0])
            k[:] -= lr * k.grad
            kernels.append(k.asnumpy()[0, 0].copy())
        return np.stack(kernels), np.stack(losses)

    def max_pool(self, x: np.ndarray, kernel_size: Any, *, stride: Any = None,
                 padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False) -> np.ndarray:
        """Max pooling through ``mx.nd.Pooling(pool_type='max')``."""
        api, forward = _pool_forward("max", x, kernel_size, stride, padding, dilation,
                                     ceil_mode, {})
        data = _to_mx(x)
        return _run(api, x.dtype, lambda: forward(data))

    def avg_pool(self, x: np.ndarray, kernel_size: Any, *, stride: Any = None,
                 padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> np.ndarray:
        """Average pooling through ``mx.nd.Pooling(pool_type='avg')``."""
        api, forward = _pool_forward("avg", x, kernel_size, stride, padding, dilation,
                                     ceil_mode, {"count_include_pad": count_include_pad})
        data = _to_mx(x)
        return _run(api, x.dtype, lambda: forward(data))

    def max_pool_vjp(self, x: np.ndarray, dy: np.ndarray, kernel_size: Any, *,
                     stride: Any = None, padding: Any = 0, dilation: Any = 1,
                     ceil_mode: bool = False) -> np.ndarray:
        """``dx`` by ``mx.autograd`` through ``mx.nd.Pooling(pool_type='max')``."""
        api, forward = _pool_forward("max", x, kernel_size, stride, padding, dilation,
                                     ceil_mode, {})
        data = _to_mx(x)
        return _vjp(api, x.dtype, lambda: forward(data), [data], dy)[0]

    def avg_pool_vjp(self, x: np.ndarray, dy: np.ndarray, kernel_size: Any, *,
                     stride: Any = None, padding: Any = 0, dilation: Any = 1,
                     ceil_mode: bool = False, count_include_pad: bool = True) -> np.ndarray:
        """``dx`` by ``mx.autograd`` through ``mx.nd.Pooling(pool_type='avg')``."""
        api, forward = _pool_forward("avg", x, kernel_size, stride, padding, dilation,
                                     ceil_mode, {"count_include_pad": count_include_pad})
        data = _to_mx(x)
        return _vjp(api, x.dtype, lambda: forward(data), [data], dy)[0]


def _conv_forward(x: np.ndarray, w: np.ndarray, has_bias: bool, stride: Any, padding: Any,
                  dilation: Any, groups: int) -> tuple[str, Callable[..., Any]]:
    """The API name and the forward call ``(data, weight, bias) -> y`` of a convolution,
    translated once for the forward and the backward pass."""
    nd = x.ndim - 2
    api = "mx.nd.Convolution"
    stride = reference.normalize_sizes(stride, nd, "stride")
    dilation = reference.normalize_sizes(dilation, nd, "dilation")
    if padding in ("same", "same_lower"):
        raise Unsupported(f"{api} has no {padding!r} padding (explicit symmetric padding "
                          "only)")
    kernel = tuple(w.shape[2:])
    pads = reference.resolve_padding(padding, x.shape[2:], kernel, stride, dilation)
    pad = symmetric(pads, api)

    def forward(data: Any, weight: Any, bias: Any) -> Any:
        return mx.nd.Convolution(data, weight, bias, kernel=kernel, stride=stride,
                                 dilate=dilation, pad=pad, num_filter=w.shape[0],
                                 num_group=groups, no_bias=not has_bias,
                                 layout=_LAYOUTS[nd])

    return api, forward


def _pool_forward(pool_type: str, x: np.ndarray, kernel_size: Any, stride: Any,
                  padding: Any, dilation: Any, ceil_mode: bool, extra: dict[str, Any]
                  ) -> tuple[str, Callable[[Any], Any]]:
    """The API name and the forward call of a pooling, translated once for the forward
    and the backward pass."""
    nd = x.ndim - 2
    api = f"mx.nd.Pooling(pool_type='{pool_type}')"
    win = window(x.shape, kernel_size, stride, dilation)
    kernel, strides, dilation = win.kernel, win.stride, win.dilation
    if win.dilated:
        raise Unsupported(f"{api} has no dilation")
    # stride=None is left out: MXNet's own default is what a user of the API gets.
    config: dict[str, Any] = {} if stride is None else {"stride": strides}
    if padding == "same" and pool_type == "max" and nd == 1:
        # MXNet documents pooling_convention='same' for 1-D max pooling (output size
        # ceil(n / stride)); it has no ceil mode of its own.
        if ceil_mode:
            raise Unsupported(f"{api} has no ceil mode with pooling_convention='same'")
        convention = "same"
    elif padding in ("same", "same_lower"):
        raise Unsupported(f"{api} has no {padding!r} padding except 'same' for 1-D max "
                          "pooling")
    else:
        config["pad"] = symmetric(win.pads(padding), api)
        convention = "full" if ceil_mode else "valid"

    def forward(data: Any) -> Any:
        return mx.nd.Pooling(data, kernel=kernel, pool_type=pool_type,
                             pooling_convention=convention, layout=_LAYOUTS[nd],
                             **config, **extra)

    return api, forward


def _vjp(api: str, dtype: np.dtype, forward: Callable[[], Any], arrays: list[Any],
         dy: np.ndarray) -> list[np.ndarray]:
    """The gradients of ``forward()`` with respect to ``arrays`` against ``dy``:
    ``attach_grad``, ``mx.autograd.record``, ``y.backward(dy)``; fetched (MXNet raises at
    the fetch) with :func:`_run`'s Unsupported translation."""
    def grads() -> Any:
        for a in arrays:
            a.attach_grad()
        with mx.autograd.record():
            y = forward()
        y.backward(_to_mx(dy))
        return [a.grad for a in arrays]

    try:
        return _run(api, dtype, grads)
    except Exception:
        _drain()
        raise


def _drain() -> None:
    """Wait for every pending operation and drop their errors: MXNet's engine raises a
    failed operation's error at the next wait, which would otherwise land in whatever call
    comes next (the failure is the one just reported)."""
    for _ in range(16):
        try:
            mx.nd.waitall()
            return
        except mx.base.MXNetError:
            continue


backend = MXNetBackend()
