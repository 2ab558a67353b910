"""PyTorch adapter: ``torch.nn.functional`` convolution and pooling on CPU.

PyTorch shares the oracle's layouts (channels-first data, ``(O, C/groups, *kernel)``
weights), so the adapter only converts arrays (bfloat16 by reinterpreting the bits of
``ml_dtypes.bfloat16``) and maps the arguments:

- convolution padding: ints (symmetric per dimension) as they are, ``'valid'`` and ``'same'``
  as PyTorch's own strings. PyTorch's ``'same'`` exists for stride 1 only (it raises
  otherwise) and puts the odd extra cell at the end; ``'same_lower'`` and asymmetric
  ``(lo, hi)`` pairs have no PyTorch spelling.
- pooling: symmetric explicit padding only (``'valid'`` is zero padding); no ``'same'``, no
  asymmetric pairs, no dilation in average pooling. PyTorch documents that pooling padding
  is at most half the kernel size; its refusal is reported as Unsupported.

Whatever PyTorch cannot express, or has no CPU kernel for in the dtype under test, raises
:class:`backends.Unsupported` with the reason (PyTorch's own message where it gives one).

Variants (``with_variant``; ``backends/table.py`` lists them) are applied where the
functional op is called, :meth:`TorchBackend._call`, and nowhere else:

- ``channels_last``: the input and the weights as a user converts them,
  ``.to(memory_format=torch.channels_last)`` (``channels_last_3d`` for 5-D tensors; 3-D
  tensors have no such format and stay as they are);
- ``compile``: the op inside ``torch.compile(dynamic=False, fullgraph=True)``, one compiled
  callable per op and arguments (dynamo specializes it per shape and dtype); the recompile
  limit is lifted and hitting it raises, so no call falls back to eager silently;
- ``no_mkldnn``: the call inside ``torch.backends.mkldnn.flags(enabled=False)``.
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

import reference
from backends import Unsupported
from backends.geometry import first_line, symmetric, window

try:
    import ml_dtypes
except ImportError:  # bfloat16 cases are then not drawn at all
    ml_dtypes = None

__all__ = ["TorchBackend", "backend"]

#: PyTorch's messages when an op has no CPU kernel for a dtype.
_NO_KERNEL_MARKERS = ("not implemented for",)
#: PyTorch's messages when pooling padding exceeds half the (effective) kernel size, a limit
#: its documentation states ("must be >= 0 and <= kernel_size / 2").
_PAD_LIMIT_MARKERS = ("pad should be at most half", "padding should be at most half",
                      "pad should be smaller than or equal to half")


def _is_bfloat16(dtype: np.dtype) -> bool:
    return ml_dtypes is not None and dtype == np.dtype(ml_dtypes.bfloat16)


def _to_torch(a: np.ndarray) -> torch.Tensor:
    """A NumPy array as a CPU tensor of the same dtype (bfloat16 by its bit pattern)."""
    a = np.ascontiguousarray(a)
    if _is_bfloat16(a.dtype):
        return torch.from_numpy(a.view(np.int16)).view(torch.bfloat16)
    return torch.from_numpy(a)


def _to_numpy(t: torch.Tensor) -> np.ndarray:
    """A CPU tensor as a NumPy array of the same dtype (bfloat16 as ``ml_dtypes.bfloat16``)."""
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
    return t.numpy()


def _channels_last(t: torch.Tensor | None) -> torch.Tensor | None:
    """``t`` in channels_last memory (channels_last_3d for 5-D); other ranks as they are."""
    if t is None or t.dim() not in (4, 5):
        return t
    return t.to(memory_format=torch.channels_last if t.dim() == 4 else torch.channels_last_3d)


@functools.cache
def _compiled(function: Callable[..., torch.Tensor], kwargs: tuple[tuple[str, Any], ...]
              ) -> Callable[..., torch.Tensor]:
    """``function`` with keyword arguments ``kwargs`` through ``torch.compile``.

    The op is called from a Python function, which dynamo traces (a C builtin passed
    straight to ``torch.compile`` would run eagerly)."""
    options = dict(kwargs)

    def op(*tensors: torch.Tensor | None) -> torch.Tensor:
        return function(*tensors, **options)

    return torch.compile(op, dynamic=False, fullgraph=True)


def _lift_recompile_limit() -> None:
    """Let dynamo recompile per shape without limit, and raise where it would fall back
    to eager (the suite compiles hundreds of signatures; the default limit is 8)."""
    config = torch._dynamo.config
    config.recompile_limit = config.accumulated_recompile_limit = 1 << 20
    config.fail_on_recompile_limit_hit = True


def _run(api: str, dtype: np.dtype, fn: Callable[[], torch.Tensor]) -> np.ndarray:
    """Call ``fn`` without autograd; a missing CPU kernel for ``dtype`` or PyTorch's
    documented pooling-padding limit becomes :class:`Unsupported`."""
    try:
        with torch.no_grad():
            return _to_numpy(fn())
    except (RuntimeError, NotImplementedError) as err:
        text = str(err)
        # first_line prefers the telling line: under torch.compile PyTorch's message follows
        # dynamo's own first line ("RuntimeError when making fake tensor call")
        if any(marker in text for marker in _NO_KERNEL_MARKERS):
            raise Unsupported(f"{api} has no CPU kernel for {dtype}: "
                              f"{first_line(err, _NO_KERNEL_MARKERS)}") from err
        if any(marker in text for marker in _PAD_LIMIT_MARKERS):
            raise Unsupported(f"{api} takes padding of at most half the kernel size: "
                              f"{first_line(err, _PAD_LIMIT_MARKERS)}") from err
        raise


class TorchBackend:
    """``torch.nn.functional.conv1d/2d/3d``, ``max_pool1d/2d/3d`` and ``avg_pool1d/2d/3d``
    on CPU, in the dtype of the input."""

    name = "torch"
    version = torch.__version__
    #: The variant it runs under ('' for the default).
    variant = ""
    VARIANTS = ("channels_last", "compile", "no_mkldnn")

    def with_variant(self, variant: str) -> TorchBackend:
        """The same adapter under ``variant`` (see the module docstring)."""
        if variant not in self.VARIANTS:
            raise ValueError(f"the torch adapter has no variant {variant!r}")
        if variant == "compile":
            _lift_recompile_limit()
        other = TorchBackend()
        other.variant = variant
        return other

    @contextlib.contextmanager
    def _setting(self) -> Iterator[None]:
        """The process-wide setting of the variant, held for one call."""
        if self.variant == "no_mkldnn":
            with warnings.catch_warnings():
                # flags() notes that oneDNN's TF32 needs an Intel GPU: not about this call
                warnings.filterwarnings("ignore", message="TF32 acceleration")
                with torch.backends.mkldnn.flags(enabled=False):
                    yield
        else:
            yield

    def _call(self, api: str, dtype: np.dtype, function: Callable[..., torch.Tensor],
              tensors: tuple[torch.Tensor | None, ...], **kwargs: Any) -> np.ndarray:
        """``function(*tensors, **kwargs)`` under the adapter's variant, through
        :func:`_run`."""
        if self.variant == "channels_last":
            tensors = tuple(_channels_last(t) for t in tensors)
        if self.variant == "compile":
            function = _compiled(function, tuple(sorted(kwargs.items())))
            kwargs = {}

        def call() -> torch.Tensor:
            with self._setting(), warnings.catch_warnings():
                # PyTorch warns on every 'same' call with an even kernel that it copies the
                # input to pad it; a performance note, not a change of result.
                warnings.filterwarnings("ignore", message="Using padding='same'")
                return function(*tensors, **kwargs)

        return _run(api, dtype, call)

    def conv(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, *,
             stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1
             ) -> np.ndarray:
        """Convolution through ``torch.nn.functional.conv{1,2,3}d``."""
        nd = x.ndim - 2
        api = f"torch.nn.functional.conv{nd}d"
        stride = reference.normalize_sizes(stride, nd, "stride")
        dilation = reference.normalize_sizes(dilation, nd, "dilation")
        torch_padding: str | tuple[int, ...]
        if padding in ("valid", "same"):
            torch_padding = padding
        elif padding == "same_lower":
            raise Unsupported(f"{api} has no 'same_lower' padding (its 'same' puts the odd "
                              "extra cell at the end)")
        else:
            pads = reference.resolve_padding(padding, x.shape[2:], w.shape[2:], stride,
                                             dilation)
            torch_padding = symmetric(pads, api)
        function = getattr(F, f"conv{nd}d")
        inputs, weight = _to_torch(x), _to_torch(w)
        bias = None if b is None else _to_torch(b)
        try:
            return self._call(api, x.dtype, function, (inputs, weight, bias), stride=stride,
                              padding=torch_padding, dilation=dilation, groups=groups)
        except RuntimeError as err:
            # Documented: "padding='same' doesn't support any stride values other than 1".
            strided = "not supported for strided convolutions"
            if strided in str(err):
                raise Unsupported(f"{api}: {first_line(err, (strided,))}") from err
            raise

    def max_pool(self, x: np.ndarray, kernel_size: Any, *, stride: Any = None,
                 padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False) -> np.ndarray:
        """Max pooling through ``torch.nn.functional.max_pool{1,2,3}d``."""
        nd = x.ndim - 2
        api = f"torch.nn.functional.max_pool{nd}d"
        kernel, strides, dilation, torch_padding = _pool_args(
            api, x, kernel_size, stride, padding, dilation)
        function = getattr(F, f"max_pool{nd}d")
        inputs = _to_torch(x)
        # stride=None is passed through: the functional default (the kernel size) is tested.
        return self._call(api, x.dtype, function, (inputs,), kernel_size=kernel,
                          stride=None if stride is None else strides, padding=torch_padding,
                          dilation=dilation, ceil_mode=ceil_mode)

    def avg_pool(self, x: np.ndarray, kernel_size: Any, *, stride: Any = None,
                 padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> np.ndarray:
        """Average pooling through ``torch.nn.functional.avg_pool{1,2,3}d``."""
        nd = x.ndim - 2
        api = f"torch.nn.functional.avg_pool{nd}d"
        kernel, strides, dilation, torch_padding = _pool_args(
            api, x, kernel_size, stride, padding, dilation)
        if any(d > 1 for d in dilation):
            raise Unsupported(f"{api} has no dilation")
        function = getattr(F, f"avg_pool{nd}d")
        inputs = _to_torch(x)
        return self._call(api, x.dtype, function, (inputs,), kernel_size=kernel,
                          stride=None if stride is None else strides, padding=torch_padding,
                          ceil_mode=ceil_mode, count_include_pad=count_include_pad)


def _pool_args(api: str, x: np.ndarray, kernel_size: Any, stride: Any, padding: Any,
               dilation: Any) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...],
                                       tuple[int, ...]]:
    """Kernel, stride, dilation and PyTorch's symmetric padding for a pooling call."""
    win = window(x.shape, kernel_size, stride, dilation)
    if padding in ("same", "same_lower"):
        raise Unsupported(f"{api} has no {padding!r} padding (explicit symmetric padding only)")
    return win.kernel, win.stride, win.dilation, symmetric(win.pads(padding), api)


backend = TorchBackend()
