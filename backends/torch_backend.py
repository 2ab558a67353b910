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

The backward passes (``conv_vjp``, ``max_pool_vjp``, ``avg_pool_vjp``) make the very same
forward call on tensors that require gradients and ask ``torch.autograd.grad`` for the
vector-Jacobian product with ``dy`` (the convolution with a zero bias, whose gradient is
``db``). PyTorch's autograd has no integer gradients: that is Unsupported with its
message. :meth:`TorchBackend.learn_kernel` is the seeds' training loop on
``torch.nn.functional.conv2d``.

Variants (``with_variant``; ``backends/table.py`` lists them) are applied where the
functional op is called, :meth:`TorchBackend._under` and :meth:`TorchBackend._vjp_under`,
and nowhere else (a backward pass: the forward call and ``torch.autograd.grad`` together):

- ``channels_last``: the input, the weights (and a backward pass's output gradient) as a
  user converts them, ``.to(memory_format=torch.channels_last)`` (``channels_last_3d`` for
  5-D tensors; 3-D tensors have no such format and stay as they are);
- ``compile``: the forward op inside ``torch.compile(dynamic=False, fullgraph=True)``
  (dynamo specializes it per shape and dtype); a backward pass differentiates the compiled
  forward with ``torch.autograd.grad``, which runs the backward AOTAutograd compiled with
  it. The recompile limit is lifted and hitting it raises, so no call falls back to eager
  silently;
- ``no_mkldnn``: the call inside ``torch.backends.mkldnn.flags(enabled=False)``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
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
#: PyTorch's message when a tensor of a dtype cannot require gradients (integers).
_NO_GRAD_MARKERS = ("only Tensors of floating point",)
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


def _run(api: str, dtype: np.dtype, fn: Callable[[], Any], grad: bool = False) -> Any:
    """Call ``fn`` without autograd (with it when ``grad``); a missing CPU kernel for
    ``dtype``, PyTorch's documented pooling-padding limit or (``grad``) a dtype autograd
    cannot differentiate becomes :class:`Unsupported`. Tensors come back as NumPy arrays
    (a tuple of them stays a tuple)."""
    try:
        with torch.set_grad_enabled(grad):
            out = fn()
            if isinstance(out, tuple):
                return tuple(_to_numpy(t) for t in out)
            return _to_numpy(out)
    except (RuntimeError, NotImplementedError) as err:
        origin = _origin(err)
        text = str(origin)
        if any(marker in text for marker in _NO_KERNEL_MARKERS):
            raise Unsupported(f"{api} has no CPU kernel for {dtype}: "
                              f"{first_line(origin)}") from err
        if any(marker in text for marker in _PAD_LIMIT_MARKERS):
            raise Unsupported(f"{api} takes padding of at most half the kernel size: "
                              f"{first_line(origin)}") from err
        if grad and any(marker in text for marker in _NO_GRAD_MARKERS):
            raise Unsupported(f"torch.autograd has no gradients for {dtype} ({api}): "
                              f"{first_line(origin)}") from err
        raise


def _origin(err: BaseException) -> BaseException:
    """The exception ``err`` was raised from, to the first one: under torch.compile
    PyTorch's own error (``RuntimeError: "avg_pool2d" not implemented for ...``) is the
    cause of dynamo's, whose message holds the call's tensors."""
    while err.__cause__ is not None or err.__context__ is not None:
        err = err.__cause__ or err.__context__
    return err


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

    def _under(self, forward: Callable[..., Any]) -> Callable[..., Any]:
        """``forward`` under the adapter's variant: its tensors in channels_last memory
        (``channels_last``), compiled (``compile``), or called with oneDNN off
        (``no_mkldnn``). A backward pass (:meth:`_vjp_under`) wraps its forward call and
        ``torch.autograd.grad`` together: the gradient kernels run under the variant too
        (the output gradient in channels_last memory like the output, the gradients taken
        with respect to the converted tensors)."""
        if not self.variant:
            return forward
        if self.variant == "compile":
            return _compiled(forward)

        def run(*tensors: torch.Tensor | None) -> Any:
            if self.variant == "channels_last":
                tensors = tuple(_channels_last(t) for t in tensors)
                return forward(*tensors)
            with warnings.catch_warnings():
                # flags() notes that oneDNN's TF32 needs an Intel GPU: not about this call
                warnings.filterwarnings("ignore", message="TF32 acceleration")
                with torch.backends.mkldnn.flags(enabled=False):
                    return forward(*tensors)

        return run

    def _vjp_under(self, forward: Callable[..., Any],
                   vjp_of: Callable[[Callable[..., Any]], Callable[..., Any]]
                   ) -> Callable[..., Any]:
        """The backward pass ``vjp_of(forward)`` under the adapter's variant: under
        ``compile`` the vector-Jacobian product of the compiled forward (``torch.autograd``
        runs the backward graph AOTAutograd compiled with it); under the others the forward
        call and ``torch.autograd.grad`` together (:meth:`_under`)."""
        if self.variant == "compile":
            return vjp_of(_compiled(forward))
        return self._under(vjp_of(forward))

    def conv(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, *,
             stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1
             ) -> np.ndarray:
        """Convolution through ``torch.nn.functional.conv{1,2,3}d``."""
        api, forward = _conv_forward(x, w, stride, padding, dilation, groups)
        forward = self._under(forward)
        inputs, weight = _to_torch(x), _to_torch(w)
        bias = None if b is None else _to_torch(b)
        return _conv_run(api, x.dtype, lambda: forward(inputs, weight, bias))

    def conv_vjp(self, x: np.ndarray, w: np.ndarray, dy: np.ndarray, *, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(dx, dw, db)`` by ``torch.autograd.grad`` through ``conv{1,2,3}d``."""
        api, forward = _conv_forward(x, w, stride, padding, dilation, groups)

        def vjp_of(forward: Callable[..., torch.Tensor]) -> Callable[..., Any]:
            def vjp(inputs: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                    out_grad: torch.Tensor) -> tuple[torch.Tensor, ...]:
                y = forward(inputs, weight, bias)
                return torch.autograd.grad(y, (inputs, weight, bias), out_grad)
            return vjp

        vjp = self._vjp_under(forward, vjp_of)

        def grads() -> tuple[torch.Tensor, ...]:
            inputs = _leaf(x)
            bias = torch.zeros(w.shape[0], dtype=inputs.dtype, requires_grad=True)
            return vjp(inputs, _leaf(w), bias, _to_torch(dy))

        return _conv_run(api, x.dtype, grads, grad=True)

    def max_pool(self, x: np.ndarray, kernel_size: Any, *, stride: Any = None,
                 padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False) -> np.ndarray:
        """Max pooling through ``torch.nn.functional.max_pool{1,2,3}d``."""
        api, forward = _max_pool_forward(x, kernel_size, stride, padding, dilation, ceil_mode)
        forward = self._under(forward)
        inputs = _to_torch(x)
        return _run(api, x.dtype, lambda: forward(inputs))

    def max_pool_vjp(self, x: np.ndarray, dy: np.ndarray, kernel_size: Any, *,
                     stride: Any = None, padding: Any = 0, dilation: Any = 1,
                     ceil_mode: bool = False) -> np.ndarray:
        """``dx`` by ``torch.autograd.grad`` through ``max_pool{1,2,3}d``."""
        api, forward = _max_pool_forward(x, kernel_size, stride, padding, dilation, ceil_mode)
        return _pool_vjp(api, x, dy, forward, self._vjp_under)

    def avg_pool(self, x: np.ndarray, kernel_size: Any, *, stride: Any = None,
                 padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> np.ndarray:
        """Average pooling through ``torch.nn.functional.avg_pool{1,2,3}d``."""
        api, forward = _avg_pool_forward(x, kernel_size, stride, padding, dilation, ceil_mode,
                                         count_include_pad)
        forward = self._under(forward)
        inputs = _to_torch(x)
        return _run(api, x.dtype, lambda: forward(inputs))

    def avg_pool_vjp(self, x: np.ndarray, dy: np.ndarray, kernel_size: Any, *,
                     stride: Any = None, padding: Any = 0, dilation: Any = 1,
                     ceil_mode: bool = False, count_include_pad: bool = True) -> np.ndarray:
        """``dx`` by ``torch.autograd.grad`` through ``avg_pool{1,2,3}d``."""
        api, forward = _avg_pool_forward(x, kernel_size, stride, padding, dilation, ceil_mode,
                                         count_include_pad)
        return _pool_vjp(api, x, dy, forward, self._vjp_under)

    def learn_kernel(self, X: np.ndarray, Y: np.ndarray, init: np.ndarray, lr: float,
                     steps: int) -> tuple[np.ndarray, np.ndarray]:
        """The seeds' loop in float32: ``Yhat = conv2d(X, K)``, ``l = (Yhat - Y) ** 2``,
        ``l.sum().backward()``, ``K.data -= lr * K.grad``. Returns the kernel before and
        after every step and each step's loss (see :func:`reference.learn_kernel`)."""
        x = torch.from_numpy(np.asarray(X, dtype=np.float32)).reshape(1, 1, *X.shape)
        y = torch.from_numpy(np.asarray(Y, dtype=np.float32)).reshape(1, 1, *Y.shape)
        k = torch.from_numpy(np.array(init, dtype=np.float32)).reshape(1, 1, *init.shape)
        k.requires_grad_(True)
        kernels, losses = [k.detach().numpy()[0, 0].copy()], []
        for _ in range(steps):
            y_hat = F.conv2d(x, k)
            loss = ((y_hat - y) ** 2).sum()
            k.grad = None
            loss.backward()
            losses.append(loss.detach().numpy().copy())
            k.data -= lr * k.grad
            kernels.append(k.detach().numpy()[0, 0].copy())
        return np.stack(kernels), np.stack(losses)


def _max_pool_forward(x: np.ndarray, kernel_size: Any, stride: Any, padding: Any,
                      dilation: Any, ceil_mode: bool
                      ) -> tuple[str, Callable[[torch.Tensor], torch.Tensor]]:
    """The API name and the forward call of a max pooling."""
    nd = x.ndim - 2
    api = f"torch.nn.functional.max_pool{nd}d"
    kernel, strides, dilation, torch_padding = _pool_args(
        api, x, kernel_size, stride, padding, dilation)
    function = getattr(F, f"max_pool{nd}d")

    def forward(inputs: torch.Tensor) -> torch.Tensor:
        # stride=None is passed through: the functional default (the kernel) is tested.
        return function(inputs, kernel, stride=None if stride is None else strides,
                        padding=torch_padding, dilation=dilation, ceil_mode=ceil_mode)

    return api, forward


def _avg_pool_forward(x: np.ndarray, kernel_size: Any, stride: Any, padding: Any,
                      dilation: Any, ceil_mode: bool, count_include_pad: bool
                      ) -> tuple[str, Callable[[torch.Tensor], torch.Tensor]]:
    """The API name and the forward call of an average pooling."""
    nd = x.ndim - 2
    api = f"torch.nn.functional.avg_pool{nd}d"
    kernel, strides, dilation, torch_padding = _pool_args(
        api, x, kernel_size, stride, padding, dilation)
    if any(d > 1 for d in dilation):
        raise Unsupported(f"{api} has no dilation")
    function = getattr(F, f"avg_pool{nd}d")

    def forward(inputs: torch.Tensor) -> torch.Tensor:
        return function(inputs, kernel, stride=None if stride is None else strides,
                        padding=torch_padding, ceil_mode=ceil_mode,
                        count_include_pad=count_include_pad)

    return api, forward


def _channels_last(t: torch.Tensor | None) -> torch.Tensor | None:
    """``t`` in channels_last memory (channels_last_3d for 5-D); other ranks as they are."""
    if t is None or t.dim() not in (4, 5):
        return t
    return t.to(memory_format=torch.channels_last if t.dim() == 4 else torch.channels_last_3d)


def _compiled(forward: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
    """``forward`` through ``torch.compile(dynamic=False, fullgraph=True)``.

    ``forward`` is a Python function calling the op, which dynamo traces (a C builtin passed
    straight to ``torch.compile`` would run eagerly); dynamo caches its compilations by the
    function's code and guards on the arguments it closes over, so equal calls compile
    once."""
    return torch.compile(forward, dynamic=False, fullgraph=True)


def _lift_recompile_limit() -> None:
    """Let dynamo recompile per shape without limit, and raise where it would fall back
    to eager (the suite compiles hundreds of signatures; the default limit is 8)."""
    config = torch._dynamo.config
    config.recompile_limit = config.accumulated_recompile_limit = 1 << 20
    config.fail_on_recompile_limit_hit = True


def _leaf(a: np.ndarray) -> torch.Tensor:
    """``a`` as a leaf tensor that requires gradients (raises for integer dtypes)."""
    return _to_torch(a).clone().requires_grad_(True)


def _conv_forward(x: np.ndarray, w: np.ndarray, stride: Any, padding: Any, dilation: Any,
                  groups: int) -> tuple[str, Callable[..., torch.Tensor]]:
    """The API name and the forward call ``(inputs, weight, bias) -> y`` of a convolution,
    the oracle's arguments translated once for the forward and the backward pass."""
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

    def forward(inputs: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None
                ) -> torch.Tensor:
        return function(inputs, weight, bias, stride=stride, padding=torch_padding,
                        dilation=dilation, groups=groups)

    return api, forward


def _conv_run(api: str, dtype: np.dtype, fn: Callable[[], Any], grad: bool = False) -> Any:
    """:func:`_run` for a convolution: PyTorch's refusal of 'same' with strides is
    Unsupported."""
    try:
        with warnings.catch_warnings():
            # PyTorch warns on every 'same' call with an even kernel that it copies the
            # input to pad it; a performance note, not a change of result.
            warnings.filterwarnings("ignore", message="Using padding='same'")
            return _run(api, dtype, fn, grad)
    except RuntimeError as err:
        # Documented: "padding='same' doesn't support any stride values other than 1".
        if "not supported for strided convolutions" in str(_origin(err)):
            raise Unsupported(f"{api}: {first_line(_origin(err))}") from err
        raise


def _pool_vjp(api: str, x: np.ndarray, dy: np.ndarray,
              forward: Callable[[torch.Tensor], torch.Tensor],
              under: Callable[..., Callable[..., Any]]) -> np.ndarray:
    """The gradient of ``forward`` at ``x`` against ``dy``, by ``torch.autograd.grad``,
    ``under`` the adapter's variant (:meth:`TorchBackend._vjp_under`)."""
    def vjp_of(forward: Callable[..., torch.Tensor]) -> Callable[..., Any]:
        def vjp(inputs: torch.Tensor, out_grad: torch.Tensor) -> torch.Tensor:
            return torch.autograd.grad(forward(inputs), inputs, out_grad)[0]
        return vjp

    vjp = under(forward, vjp_of)
    return _run(api, x.dtype, lambda: vjp(_leaf(x), _to_torch(dy)), grad=True)


def _pool_args(api: str, x: np.ndarray, kernel_size: Any, stride: Any, padding: Any,
               dilation: Any) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...],
                                       tuple[int, ...]]:
    """Kernel, stride, dilation and PyTorch's symmetric padding for a pooling call."""
    win = window(x.shape, kernel_size, stride, dilation)
    if padding in ("same", "same_lower"):
        raise Unsupported(f"{api} has no {padding!r} padding (explicit symmetric padding only)")
    return win.kernel, win.stride, win.dilation, symmetric(win.pads(padding), api)


backend = TorchBackend()
