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


def _to_numpy(y: Any, dtype: np.dtype) -> np.ndarray:
    """An NDArray as a NumPy array (bfloat16 back as ``ml_dtypes.bfloat16``)."""
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


def _run(api: str, dtype: np.dtype, fn: Callable[[], Any]) -> np.ndarray:
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
        data, weight = _to_mx(x), _to_mx(w)
        bias = None if b is None else _to_mx(b)

        def call() -> Any:
            return mx.nd.Convolution(data, weight, bias, kernel=kernel, stride=stride,
                                     dilate=dilation, pad=pad, num_filter=w.shape[0],
                                     num_group=groups, no_bias=b is None,
                                     layout=_LAYOUTS[nd])

        return _run(api, x.dtype, call)

    def max_pool(self, x: np.ndarray, kernel_size: Any, *, stride: Any = None,
                 padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False) -> np.ndarray:
        """Max pooling through ``mx.nd.Pooling(pool_type='max')``."""
        return self._pool("max", x, kernel_size, stride, padding, dilation, ceil_mode, {})

    def avg_pool(self, x: np.ndarray, kernel_size: Any, *, stride: Any = None,
                 padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> np.ndarray:
        """Average pooling through ``mx.nd.Pooling(pool_type='avg')``."""
        return self._pool("avg", x, kernel_size, stride, padding, dilation, ceil_mode,
                          {"count_include_pad": count_include_pad})

    def _pool(self, pool_type: str, x: np.ndarray, kernel_size: Any, stride: Any,
              padding: Any, dilation: Any, ceil_mode: bool, extra: dict[str, Any]
              ) -> np.ndarray:
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
        data = _to_mx(x)

        def call() -> Any:
            return mx.nd.Pooling(data, kernel=kernel, pool_type=pool_type,
                                 pooling_convention=convention, layout=_LAYOUTS[nd],
                                 **config, **extra)

        return _run(api, x.dtype, call)


backend = MXNetBackend()
