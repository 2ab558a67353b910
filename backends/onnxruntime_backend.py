"""ONNX Runtime adapter: one-node ONNX models (``Conv``, ``MaxPool``, ``AveragePool``) run by
ONNX Runtime's CPU execution provider.

ONNX shares the oracle's layouts (channels-first data, ``(O, C/groups, *kernel)`` weights),
so arrays pass unchanged. Each call builds a model of one node with ``onnx.helper`` at the
opset of the installed ``onnx`` package and the arguments as the node's attributes:
``strides``, ``dilations``, ``group``, ``pads`` (all begins, then all ends), ``ceil_mode``,
``count_include_pad``, and ``auto_pad`` ``SAME_UPPER`` / ``SAME_LOWER`` / ``VALID`` for the
oracle's ``'same'`` / ``'same_lower'`` / ``'valid'``. A pooling stride the case leaves out is
left out of the node too (ONNX's own default is what is tested). Inputs have symbolic
dimensions, so one InferenceSession serves every call with the same op, attributes, dtypes
and ranks; sessions are cached per such signature.

A dtype ONNX Runtime has no CPU kernel for raises :class:`backends.Unsupported` with its
own message (it refuses the model when the session is created).

The backward passes ask for the gradient the ONNX way: the forward node, the output
gradient ``dy`` contracted with its output (``ReduceSum(Mul(y, dy))``), and ONNX's
``Gradient`` operator (domain ``ai.onnx.preview.training``) of that sum with respect to
the node's inputs, i.e. the vector-Jacobian product. ONNX Runtime's inference package
registers no such operator (its gradient kernels and training API were built only into
the separate ``onnxruntime-training`` package, last released as 1.19.2): it refuses the
model, which is :class:`backends.Unsupported` with its message.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper

import reference
from backends import Unsupported

__all__ = ["OnnxRuntimeBackend", "backend"]

#: Opset of the models: the newest the installed onnx package defines.
OPSET = onnx.defs.onnx_opset_version()
#: ONNX Runtime's messages when it has no kernel for a node's dtypes, or the operator's
#: type constraints (its schema) exclude the dtype.
_NO_KERNEL_MARKERS = ("Could not find an implementation for",)
_TYPE_MARKERS = ("Type Error: Type 'tensor(",)

#: The oracle's padding strings as ONNX ``auto_pad`` values.
_AUTO_PAD = {"valid": "VALID", "same": "SAME_UPPER", "same_lower": "SAME_LOWER"}


def _elem_type(dtype: np.dtype) -> int:
    """The ONNX tensor element type of a NumPy dtype (bfloat16 from ml_dtypes).

    ``onnx.helper`` maps ml_dtypes' bfloat16 only from onnx 1.17 on; ONNX itself has
    ``TensorProto.BFLOAT16`` in every release the backend runs, so bfloat16 is named by
    its dtype name, and ONNX Runtime judges the model."""
    dtype = np.dtype(dtype)
    if dtype.name == "bfloat16":
        return onnx.TensorProto.BFLOAT16
    return helper.np_dtype_to_tensor_dtype(dtype)


def _padding_attrs(padding: Any, in_sizes: Sequence[int], kernel: Sequence[int],
                   stride: Sequence[int], dilation: Sequence[int]) -> dict[str, Any]:
    """``auto_pad`` for the oracle's strings, else explicit ``pads``."""
    if isinstance(padding, str):
        return {"auto_pad": _AUTO_PAD[padding]}
    pads = reference.resolve_padding(padding, in_sizes, kernel, stride, dilation)
    return {"pads": [int(lo) for lo, _ in pads] + [int(hi) for _, hi in pads]}


def _message(err: BaseException) -> str:
    """ONNX Runtime's message without the node's name, so one limitation reads the same for
    every case."""
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    text = re.sub(r"^\[ONNXRuntimeError\] : \d+ : \w+ : ", "", text)
    text = re.sub(r"^This is an invalid model\. Type Error: ", "", text)
    return re.sub(r" ?(in )?node (with name )?(\(\)|'[^']*')", "", text)


def _types(attrs: tuple[tuple[str, Any], ...]) -> tuple[Any, ...]:
    """The Python types of the attribute values (and of a sequence's items)."""
    return tuple(tuple(map(type, v)) if isinstance(v, tuple) else type(v) for _, v in attrs)


@functools.lru_cache(maxsize=512)
def _session(op_type: str, attrs: tuple[tuple[str, Any], ...],
             inputs: tuple[tuple[str, int, int], ...], types: tuple[Any, ...] = ()
             ) -> ort.InferenceSession:
    """An InferenceSession of one ``op_type`` node; ``inputs`` are (name, element type,
    rank) and every dimension is symbolic; ``types`` (the attributes' types) only keys the
    cache."""
    elem = inputs[0][1]
    value_infos = [helper.make_tensor_value_info(name, t, [f"{name}{i}" for i in range(rank)])
                   for name, t, rank in inputs]
    rank = inputs[0][2]
    output = helper.make_tensor_value_info("y", elem, [f"y{i}" for i in range(rank)])
    node = helper.make_node(op_type, [name for name, _, _ in inputs], ["y"],
                            **{k: list(v) if isinstance(v, tuple) else v for k, v in attrs})
    graph = helper.make_graph([node], op_type, value_infos, [output])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    options = ort.SessionOptions()
    options.log_severity_level = 4  # errors surface as exceptions; no log lines
    return ort.InferenceSession(model.SerializeToString(), options,
                                providers=["CPUExecutionProvider"])


def _refuse_dtype(api: str, dtype: np.dtype, err: BaseException) -> None:
    """Raise :class:`Unsupported` when ONNX Runtime refused a model for the dtype: no CPU
    kernel, or outside the operator's type constraints."""
    if any(marker in str(err) for marker in _NO_KERNEL_MARKERS):
        raise Unsupported(f"{api} has no CPU kernel for {dtype}: {_message(err)}") from err
    if any(marker in str(err) for marker in _TYPE_MARKERS):
        raise Unsupported(f"{api} is not defined for {dtype} (the operator's type "
                          f"constraints): {_message(err)}") from err


def _run(api: str, op_type: str, attrs: dict[str, Any], feeds: dict[str, np.ndarray]
         ) -> np.ndarray:
    """Run one ``op_type`` node on ``feeds``; a missing CPU kernel becomes Unsupported."""
    signature = tuple(sorted((k, tuple(v) if isinstance(v, list) else v)
                             for k, v in attrs.items()))
    inputs = tuple((name, _elem_type(a.dtype), a.ndim) for name, a in feeds.items())
    dtype = next(iter(feeds.values())).dtype
    try:
        # the attributes' types are part of the key: group=1.0 (a FLOAT attribute) must not
        # reuse the session of group=1, which compares and hashes equal
        session = _session(op_type, signature, inputs, _types(signature))
    except (ort.capi.onnxruntime_pybind11_state.NotImplemented,
            ort.capi.onnxruntime_pybind11_state.Fail,
            ort.capi.onnxruntime_pybind11_state.InvalidGraph) as err:
        _refuse_dtype(api, dtype, err)
        raise
    try:
        return session.run(None, {k: np.ascontiguousarray(v) for k, v in feeds.items()})[0]
    except ort.capi.onnxruntime_pybind11_state.InvalidArgument as err:
        # The CPU Conv kernel refuses auto_pad SAME_* with dilation > 1 when it runs.
        if "Dilation not supported for AutoPadType" in str(err):
            raise Unsupported(f"{api} on ONNX Runtime has no auto_pad SAME_UPPER/SAME_LOWER "
                              "with dilation > 1 (Dilation not supported for "
                              "AutoPadType::SAME_UPPER or AutoPadType::SAME_LOWER)") from err
        raise


#: ONNX's domain of the Gradient operator, and its version.
_TRAINING_DOMAIN = ("ai.onnx.preview.training", 1)
#: ONNX Runtime's message for an operator it has no implementation of at all.
_NOT_REGISTERED = "is not a registered function/op"


@functools.lru_cache(maxsize=64)
def _gradient_session(op_type: str, attrs: tuple[tuple[str, Any], ...],
                      inputs: tuple[tuple[str, int, int], ...], types: tuple[Any, ...] = ()
                      ) -> ort.InferenceSession:
    """An InferenceSession of ``op_type``'s vector-Jacobian product: the node's output
    ``y`` contracted with the input ``dy`` (of ``y``'s element type and rank) and ONNX's
    ``Gradient`` of that scalar with respect to every input of the node."""
    elem, rank = inputs[0][1], inputs[0][2]
    names = [name for name, _, _ in inputs]
    value_infos = [helper.make_tensor_value_info(name, t, [f"{name}{i}" for i in range(r)])
                   for name, t, r in (*inputs, ("dy", elem, rank))]
    outputs = [helper.make_tensor_value_info(f"d{name}", t, [f"d{name}{i}" for i in range(r)])
               for name, t, r in inputs]
    nodes = [
        helper.make_node(op_type, names, ["y"],
                         **{k: list(v) if isinstance(v, tuple) else v for k, v in attrs}),
        helper.make_node("Mul", ["y", "dy"], ["y_dy"]),
        helper.make_node("ReduceSum", ["y_dy"], ["total"], keepdims=0),
        helper.make_node("Gradient", [*names, "dy"], [f"d{name}" for name in names],
                         domain=_TRAINING_DOMAIN[0], xs=names, zs=["dy"], y="total"),
    ]
    graph = helper.make_graph(nodes, f"{op_type}_vjp", value_infos, outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET),
                                                    helper.make_opsetid(*_TRAINING_DOMAIN)])
    options = ort.SessionOptions()
    options.log_severity_level = 4
    return ort.InferenceSession(model.SerializeToString(), options,
                                providers=["CPUExecutionProvider"])


def _run_vjp(api: str, op_type: str, attrs: dict[str, Any], feeds: dict[str, np.ndarray],
             dy: np.ndarray) -> list[np.ndarray]:
    """The gradients of one ``op_type`` node at ``feeds`` against ``dy``, by ONNX's
    ``Gradient`` operator; ONNX Runtime's refusal of it becomes Unsupported."""
    signature = tuple(sorted((k, tuple(v) if isinstance(v, list) else v)
                             for k, v in attrs.items()))
    inputs = tuple((name, _elem_type(a.dtype), a.ndim) for name, a in feeds.items())
    try:
        session = _gradient_session(op_type, signature, inputs, _types(signature))
    except (ort.capi.onnxruntime_pybind11_state.Fail,
            ort.capi.onnxruntime_pybind11_state.NotImplemented,
            ort.capi.onnxruntime_pybind11_state.InvalidGraph) as err:
        if _NOT_REGISTERED in str(err):
            raise Unsupported(
                f"{api}: ONNX Runtime has no gradients ({_message(err)}); its gradient "
                "kernels and training API were in the separate onnxruntime-training "
                "package, last released as 1.19.2") from err
        _refuse_dtype(api, next(iter(feeds.values())).dtype, err)
        raise
    return session.run(None, {k: np.ascontiguousarray(v)
                              for k, v in {**feeds, "dy": dy}.items()})


class OnnxRuntimeBackend:
    """ONNX ``Conv``, ``MaxPool`` and ``AveragePool`` on ONNX Runtime's CPU provider."""

    name = "onnxruntime"

    @property
    def version(self) -> str:
        """ONNX Runtime's version and the opset, e.g. ``"1.32.0 (opset 28)"``."""
        return f"{ort.__version__} (onnx {onnx.__version__}, opset {OPSET})"

    def conv(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, *,
             stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1
             ) -> np.ndarray:
        """Convolution through an ONNX ``Conv`` node."""
        attrs = _conv_attrs(x, w, stride, padding, dilation, groups)
        feeds = {"x": x, "w": w} if b is None else {"x": x, "w": w, "b": b}
        return _run("onnx Conv", "Conv", attrs, feeds)

    def conv_vjp(self, x: np.ndarray, w: np.ndarray, dy: np.ndarray, *, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(dx, dw, db)`` by ONNX's ``Gradient`` of the ``Conv`` node of :meth:`conv`
        (with a zero bias)."""
        attrs = _conv_attrs(x, w, stride, padding, dilation, groups)
        b = np.zeros(w.shape[0], dtype=x.dtype)
        dx, dw, db = _run_vjp("onnx Conv", "Conv", attrs, {"x": x, "w": w, "b": b}, dy)
        return dx, dw, db

    def max_pool(self, x: np.ndarray, kernel_size: Any, *, stride: Any = None,
                 padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False) -> np.ndarray:
        """Max pooling through an ONNX ``MaxPool`` node."""
        return self._pool("MaxPool", x, kernel_size, stride, padding, dilation, ceil_mode, {})

    def max_pool_vjp(self, x: np.ndarray, dy: np.ndarray, kernel_size: Any, *,
                     stride: Any = None, padding: Any = 0, dilation: Any = 1,
                     ceil_mode: bool = False) -> np.ndarray:
        """``dx`` by ONNX's ``Gradient`` of the ``MaxPool`` node of :meth:`max_pool`."""
        return self._pool("MaxPool", x, kernel_size, stride, padding, dilation, ceil_mode,
                          {}, dy)

    def avg_pool_vjp(self, x: np.ndarray, dy: np.ndarray, kernel_size: Any, *,
                     stride: Any = None, padding: Any = 0, dilation: Any = 1,
                     ceil_mode: bool = False, count_include_pad: bool = True) -> np.ndarray:
        """``dx`` by ONNX's ``Gradient`` of the ``AveragePool`` node of :meth:`avg_pool`."""
        return self._pool("AveragePool", x, kernel_size, stride, padding, dilation,
                          ceil_mode, {"count_include_pad": int(count_include_pad)}, dy)

    def avg_pool(self, x: np.ndarray, kernel_size: Any, *, stride: Any = None,
                 padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> np.ndarray:
        """Average pooling through an ONNX ``AveragePool`` node."""
        return self._pool("AveragePool", x, kernel_size, stride, padding, dilation, ceil_mode,
                          {"count_include_pad": int(count_include_pad)})

    def _pool(self, op_type: str, x: np.ndarray, kernel_size: Any, stride: Any, padding: Any,
              dilation: Any, ceil_mode: bool, extra: dict[str, Any],
              dy: np.ndarray | None = None) -> np.ndarray:
        nd = x.ndim - 2
        kernel = reference.normalize_sizes(kernel_size, nd, "kernel_size")
        strides = kernel if stride is None else reference.normalize_sizes(stride, nd, "stride")
        dilation = reference.normalize_sizes(dilation, nd, "dilation")
        attrs = {"kernel_shape": kernel, "dilations": dilation, "ceil_mode": int(ceil_mode),
                 **extra, **_padding_attrs(padding, x.shape[2:], kernel, strides, dilation)}
        if stride is not None:
            attrs["strides"] = strides
        if dy is not None:
            return _run_vjp(f"onnx {op_type}", op_type, attrs, {"x": x}, dy)[0]
        return _run(f"onnx {op_type}", op_type, attrs, {"x": x})


def _conv_attrs(x: np.ndarray, w: np.ndarray, stride: Any, padding: Any, dilation: Any,
                groups: Any) -> dict[str, Any]:
    """The attributes of the ``Conv`` node of a call."""
    nd = x.ndim - 2
    stride = reference.normalize_sizes(stride, nd, "stride")
    dilation = reference.normalize_sizes(dilation, nd, "dilation")
    kernel = tuple(w.shape[2:])
    return {"kernel_shape": kernel, "strides": stride, "dilations": dilation,
            # passed as given: a float becomes a FLOAT attribute, for ONNX Runtime to judge
            "group": int(groups) if isinstance(groups, int | np.integer) else groups,
            **_padding_attrs(padding, x.shape[2:], kernel, stride, dilation)}


backend = OnnxRuntimeBackend()
