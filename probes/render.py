"""Each framework API's spelling of a probe case, as a snippet that runs as it is.

A renderer turns a :class:`probes.cases.Case` into the source of a complete script: it
builds the case's input with NumPy, calls the framework API, leaves the result in ``y``
and prints its shape, dtype and values. The same text runs in the probe worker and is
published in the report as the reproducer. Arguments the case leaves out are left out of
the call, so the framework's defaults are what is probed. Renderers never work around a
missing feature: a case the API cannot express is written the natural way and the
framework's error is the observation.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from backends.table import by_name, parse
from probes.cases import Case, eval_array


@dataclass(frozen=True)
class Rendered:
    """One probe: a case as a script for one API.

    Attributes
    ----------
    column : str
        The report matrix column (framework API family), e.g. ``"torch.nn.functional"``.
    api : str
        The function or class called, e.g. ``"torch.nn.functional.conv1d"``.
    code : str
        The script; it leaves the framework's result in ``y``.
    channels_last : bool
        Whether ``y`` is channels-last (moved to channels-first before comparing).
    """

    column: str
    api: str
    code: str
    channels_last: bool = False


def _lit(value: Any) -> str:
    """A Python literal for a parameter value (tuples stay tuples)."""
    return repr(value)


def _shape_nd(case: Case) -> int:
    return eval_array(case.x).ndim - 2


def _kernel(case: Case) -> tuple[int, ...]:
    if case.w is not None:
        return tuple(eval_array(case.w).shape[2:])
    k = case.params["kernel_size"]
    return tuple(k) if isinstance(k, tuple) else (k,) * _shape_nd(case)


def _kwargs(pairs: list[tuple[str, Any]]) -> str:
    return ", ".join(f"{k}={v}" for k, v in pairs)


# ------------------------------------------------------------------------------ torch
TORCH_DTYPES = {"float32": "", "float64": "", "float16": ".to(torch.float16)",
                "bfloat16": ".to(torch.bfloat16)", "int32": "", "int64": ""}


def _torch_head(case: Case, functional: bool) -> list[str]:
    lines = ["import numpy as np", "import torch"]
    if functional:
        lines.append("import torch.nn.functional as F")
    else:
        lines.append("from torch import nn")
    lines += ["", f"x = torch.from_numpy({case.x}){TORCH_DTYPES[case.dtype]}"]
    if case.hints.get("layout") == "other":
        lines.append("x = x.to(memory_format=torch.channels_last)  # NHWC in memory")
    if case.w is not None:
        lines.append(f"w = torch.from_numpy({case.w}){TORCH_DTYPES[case.dtype]}")
    return lines


TORCH_PRINT = "print(tuple(y.shape), y.dtype, y.flatten().tolist())"


def torch_functional(case: Case) -> Iterator[Rendered]:
    """``torch.nn.functional.conv*d / max_pool*d / avg_pool*d``; a backward case through
    ``out.backward(dy)`` (the convolution with a zero bias that requires grad)."""
    nd = _shape_nd(case)
    p = case.params
    op = case.op.removesuffix("_vjp")
    lines = _torch_head(case, functional=True)
    bias = ", b" if case.backward and op == "conv" else ""
    if op == "conv":
        fn = f"conv{nd}d"
        args = [(k, _lit(p[k])) for k in ("stride", "padding", "dilation", "groups") if k in p]
        call = f"F.{fn}(x, w{bias}" + (", " + _kwargs(args) if args else "") + ")"
    else:
        fn = f"{op}{nd}d"
        names = ("stride", "padding", "dilation", "ceil_mode", "count_include_pad")
        args = [(k, _lit(p[k])) for k in names if k in p]
        call = f"F.{fn}(x, {_lit(p['kernel_size'])}" + (", " + _kwargs(args) if args else "") + ")"
    if case.backward:
        lines += [f"dy = torch.from_numpy({case.dy}){TORCH_DTYPES[case.dtype]}",
                  "x.requires_grad_(True)"]
        if op == "conv":
            lines += ["w.requires_grad_(True)",
                      "b = torch.zeros(w.shape[0], dtype=w.dtype, requires_grad=True)"]
        lines += [f"out = {call}", "out.backward(dy)", f"y = {case.grad}.grad", TORCH_PRINT]
    else:
        lines += [f"y = {call}", TORCH_PRINT]
    yield Rendered("torch.nn.functional", f"torch.nn.functional.{fn}", "\n".join(lines) + "\n")


#: Cases asked of the module API too: where module defaults or construction matter.
MODULE_CASES = frozenset({
    "conv-same-even-kernel", "conv-same-stride-2", "conv-same-strided", "max-pool-same-even",
    "avg-pool-padded-default-divisor", "max-pool-padded-negative", "max-pool-default-stride",
    "avg-pool-default-stride", "max-pool-ceil", "avg-pool-ceil-divisor",
    "max-pool-ceil-last-window", "max-pool-dilation", "avg-pool-dilation", "conv-groups",
    "conv-asymmetric-padding", "conv-stride-0", "max-pool-pad-over-half",
})


def torch_modules(case: Case) -> Iterator[Rendered]:
    """``torch.nn.Conv*d / MaxPool*d / AvgPool*d`` modules."""
    if case.key not in MODULE_CASES:
        return
    nd = _shape_nd(case)
    p = case.params
    lines = _torch_head(case, functional=False)
    if case.op == "conv":
        cls = f"Conv{nd}d"
        w = eval_array(case.w)
        c_in = eval_array(case.x).shape[1]
        args = [(k, _lit(p[k])) for k in ("stride", "padding", "dilation", "groups") if k in p]
        ctor = (f"nn.{cls}({c_in}, {w.shape[0]}, {_lit(_kernel(case))}, "
                + "".join(f"{k}={v}, " for k, v in args) + "bias=False)")
        lines += [f"layer = {ctor}", "with torch.no_grad():",
                  "    layer.weight.copy_(w)"]
    else:
        cls = f"{'MaxPool' if case.op == 'max_pool' else 'AvgPool'}{nd}d"
        names = ("stride", "padding", "dilation", "ceil_mode", "count_include_pad")
        args = [(k, _lit(p[k])) for k in names if k in p]
        lines.append(f"layer = nn.{cls}({_lit(p['kernel_size'])}"
                     + (", " + _kwargs(args) if args else "") + ")")
    lines += ["with torch.no_grad():", "    y = layer(x)", TORCH_PRINT]
    yield Rendered("torch.nn", f"torch.nn.{cls}", "\n".join(lines) + "\n")


# ------------------------------------------------------------------------- tensorflow
TF_DTYPES = {"float32": "tf.float32", "float64": "tf.float64", "float16": "tf.float16",
             "bfloat16": "tf.bfloat16", "int32": "tf.int32", "int64": "tf.int64"}
TF_PRINT = "print(tuple(y.shape), y.dtype.name, tf.reshape(y, [-1]).numpy().tolist())"


def _per_dim(value: Any, nd: int) -> list[int]:
    """An int or per-dimension sequence as one int per spatial dimension."""
    return list(value) if isinstance(value, tuple | list) else [value] * nd


def _tf_conv_sizes(value: Any, nd: int, channels_first: bool) -> str:
    """Strides or dilations as ``tf.nn.conv*d`` takes them: an int in 1-D, else one per
    dimension of the input (``[1, *per_dim, 1]`` channels-last, ``[1, 1, *per_dim]``
    channels-first)."""
    if nd == 1:
        return _lit(_per_dim(value, 1)[0])
    per_dim = _per_dim(value, nd)
    return _lit([1, 1, *per_dim] if channels_first else [1, *per_dim, 1])


def _tf_padding(padding: Any, nd: int) -> str:
    if padding == "same":
        return '"SAME"'
    if padding == "valid":
        return '"VALID"'
    per_dim = padding if isinstance(padding, tuple) else (padding,) * nd
    pairs = [list(p) if isinstance(p, tuple) else [p, p] for p in per_dim]
    return _lit([[0, 0], *pairs, [0, 0]])


def tensorflow(case: Case) -> Iterator[Rendered]:
    """``tf.nn.conv*d / depthwise_conv2d / max_pool*d / avg_pool*d / pool``; a backward
    case under ``tf.GradientTape`` (the convolution with a zero bias through
    ``tf.nn.bias_add``)."""
    if case.backward:
        yield from _tf_backward(case)
        return
    nd = _shape_nd(case)
    p = case.params
    other = case.hints.get("layout") == "other"
    lines = ["import numpy as np", "import tensorflow as tf", ""]
    if other:
        lines.append(f"x = tf.constant({case.x}, dtype={TF_DTYPES[case.dtype]})  # NCHW")
    else:
        lines.append(f"x = tf.constant(np.moveaxis({case.x}, 1, -1), "
                     f"dtype={TF_DTYPES[case.dtype]})  # channels last")
    fmt = ', data_format="NCHW"' if other else ""
    padding = _tf_padding(p.get("padding", "valid"), nd)
    stride = p.get("stride", 1)
    dilation = p.get("dilation")
    if case.op == "conv":
        if case.hints.get("depthwise"):
            lines.append(f"w = tf.constant(np.moveaxis({case.w}, (0, 1), (-2, -1)), "
                         f"dtype={TF_DTYPES[case.dtype]})  # (kh, kw, C, multiplier)")
            api = "tf.nn.depthwise_conv2d"
            call = f"{api}(x, w, strides=[1, 1, 1, 1], padding={padding})"
        else:
            lines.append(f"w = tf.constant(np.moveaxis({case.w}, (0, 1), (-1, -2)), "
                         f"dtype={TF_DTYPES[case.dtype]})  # (*kernel, C // groups, O)")
            api = f"tf.nn.conv{nd}d"
            extra = (f", dilations={_tf_conv_sizes(dilation, nd, other)}"
                     if dilation is not None else "")
            call = (f"{api}(x, w, {_tf_conv_sizes(stride, nd, other)}, padding={padding}"
                    f"{fmt}{extra})")
        yield _tf_done(lines, api, call, other)
        return
    kind = "MAX" if case.op == "max_pool" else "AVG"
    k = p["kernel_size"]
    if "dilation" in p or case.key.endswith("default-stride"):
        # tf.nn.pool: the one pooling API with dilations (and a default stride)
        args = [f'"{kind}"']
        if "stride" in p:
            args.append(f"strides={_lit(_per_dim(stride, nd))}")
        args.append(f"padding={padding}")
        if dilation is not None:
            args.append(f"dilations={_lit(_per_dim(dilation, nd))}")
        call = f"tf.nn.pool(x, {_lit(_per_dim(k, nd))}, " + ", ".join(args) + ")"
        yield _tf_done(list(lines), "tf.nn.pool", call, other)
        if "dilation" in p:
            return
    api = f"tf.nn.{case.op}{nd}d"
    args = [_lit(k)]
    if "stride" in p:
        args.append(_lit(stride))
    elif not case.key.endswith("default-stride"):
        args.append(_lit(k))  # tf.nn.max_pool*d / avg_pool*d require strides
    args.append(f"padding={padding}")
    extra = [f"{n}={_lit(p[n])}" for n in ("ceil_mode", "count_include_pad") if n in p]
    call = f"{api}(x, " + ", ".join(args + extra) + f"{fmt})"
    yield _tf_done(lines, api, call, other)


def _tf_backward(case: Case) -> Iterator[Rendered]:
    """A backward case on ``tf.nn``: the forward call of :func:`tensorflow` (channels
    last) under a tape, the gradient of ``case.grad`` against ``dy``."""
    forward = replace(case, op=case.op.removesuffix("_vjp"), hints={})
    dt = TF_DTYPES[case.dtype]
    for r in tensorflow(forward):
        head, _, call = r.code.partition("\ny = ")
        call = call.split("\n", 1)[0]
        watched = {"x": "x", "w": "w", "b": "b"}[case.grad]
        lines = [head, f"dy = tf.constant(np.moveaxis({case.dy}, 1, -1), dtype={dt})"]
        if forward.op == "conv":
            lines.append(f"b = tf.zeros([{eval_array(case.w).shape[0]}], dtype={dt})")
            call = f"tf.nn.bias_add({call}, b)"
        lines += ["with tf.GradientTape() as tape:",
                  f"    tape.watch({watched})",
                  f"    out = {call}",
                  f"y = tape.gradient(out, {watched}, output_gradients=dy)",
                  "if y is None:",
                  '    raise TypeError("tf.GradientTape.gradient returned None")',
                  TF_PRINT]
        yield Rendered(r.column, r.api, "\n".join(lines) + "\n",
                       channels_last=r.channels_last and case.grad == "x")


def _tf_done(lines: list[str], api: str, call: str, other: bool) -> Rendered:
    code = "\n".join([*lines, f"y = {call}", TF_PRINT]) + "\n"
    return Rendered("tf.nn", api, code, channels_last=not other)


# ------------------------------------------------------------------------------ keras
KERAS_PRINT = "print(tuple(y.shape), keras.backend.standardize_dtype(y.dtype), " \
    "keras.ops.convert_to_numpy(keras.ops.reshape(y, [-1])).tolist())"


#: Bad-input cases Keras layers cannot even express (they take no explicit padding; the
#: asymmetric-padding and padding-value cases show that once).
KERAS_INEXPRESSIBLE = frozenset({"max-pool-pad-over-half", "conv-negative-padding"})


def keras_layers(backend: str) -> Callable[[Case], Iterator[Rendered]]:
    """``keras.layers.Conv*D / DepthwiseConv2D / MaxPooling*D / AveragePooling*D`` on the
    Keras backend ``backend`` ("tensorflow", "torch" or "jax")."""
    column = f"keras.layers ({'TF' if backend == 'tensorflow' else backend})"

    def render(case: Case) -> Iterator[Rendered]:
        if case.key in KERAS_INEXPRESSIBLE:
            return
        nd = _shape_nd(case)
        p = case.params
        other = case.hints.get("layout") == "other"
        lines = ["import os", "", f'os.environ["KERAS_BACKEND"] = "{backend}"',
                 "import keras  # noqa: E402", "import numpy as np  # noqa: E402", ""]
        if other:
            lines.append(f'x = keras.ops.convert_to_tensor({case.x}, dtype="{case.dtype}")')
        else:
            lines.append(f"x = keras.ops.convert_to_tensor(np.moveaxis({case.x}, 1, -1), "
                         f'dtype="{case.dtype}")  # channels last')
        common = [f'dtype="{case.dtype}"']
        if other:
            common.append('data_format="channels_first"')
        padding = p.get("padding")
        if isinstance(padding, str):
            common.insert(0, f'padding="{padding}"')
        elif padding is not None:
            common.insert(0, f"padding={_lit(padding)}")
        if case.op.startswith("conv"):
            w = eval_array(case.w)
            if case.hints.get("depthwise"):
                cls = "DepthwiseConv2D"
                ctor = f"keras.layers.{cls}({_lit(_kernel(case))}, use_bias=False, " \
                    + ", ".join(common) + ")"
                wexpr = f"np.moveaxis({case.w}, (0, 1), (-2, -1))  # (kh, kw, C, multiplier)"
            else:
                cls = f"Conv{nd}D"
                args = [f"{w.shape[0]}", _lit(_kernel(case))]
                if "stride" in p:
                    args.append(f"strides={_lit(p['stride'])}")
                if "dilation" in p:
                    args.append(f"dilation_rate={_lit(p['dilation'])}")
                if "groups" in p:
                    args.append(f"groups={_lit(p['groups'])}")
                bias = "use_bias=True" if case.backward else "use_bias=False"
                ctor = f"keras.layers.{cls}(" + ", ".join([*args, bias, *common]) + ")"
                wexpr = f"np.moveaxis({case.w}, (0, 1), (-1, -2))  # (*kernel, C // groups, O)"
            wexpr, comment = wexpr.split("  # ")
            zero_bias = f", np.zeros({w.shape[0]})" if case.backward else ""
            lines += [f"layer = {ctor}", "layer.build(tuple(x.shape))",
                      f"layer.set_weights([{wexpr}{zero_bias}])  # {comment}"]
        else:
            cls = f"{'MaxPooling' if case.op.startswith('max_pool') else 'AveragePooling'}{nd}D"
            args = [_lit(p["kernel_size"])]
            if "stride" in p:
                args.append(f"strides={_lit(p['stride'])}")
            if "dilation" in p:
                args.append(f"dilation_rate={_lit(p['dilation'])}")
            for name in ("ceil_mode", "count_include_pad"):
                if name in p:
                    args.append(f"{name}={_lit(p[name])}")
            lines.append(f"layer = keras.layers.{cls}(" + ", ".join(args + common) + ")")
        if case.backward:
            lines += _keras_backward(case, backend)
        else:
            lines += ["y = layer(x)", KERAS_PRINT]
        yield Rendered(column, f"keras.layers.{cls}", "\n".join(lines) + "\n",
                       channels_last=not other and case.grad == "x")

    return render


# ------------------------------------------------------------------------------ mxnet
MX_PRINT = "print(y.shape, y.dtype.__name__, y.asnumpy().ravel().tolist())"


def _mx_tuple(value: Any, nd: int) -> str:
    if isinstance(value, str):
        return _lit(value)
    return _lit(tuple(value) if isinstance(value, tuple) else (value,) * nd)


def _mx_head(case: Case, gluon: bool) -> list[str]:
    lines = ["import mxnet as mx", "import numpy as np"]
    if gluon:
        lines.append("from mxnet.gluon import nn")
    other = case.hints.get("layout") == "other"
    if other:
        lines += ["", f"x = mx.nd.array(np.moveaxis({case.x}, 1, -1), "
                  f'dtype="{case.dtype}")  # channels last']
    else:
        lines += ["", f'x = mx.nd.array({case.x}, dtype="{case.dtype}")']
    if case.w is not None:
        lines.append(f'w = mx.nd.array({case.w}, dtype="{case.dtype}")')
    return lines


def mxnet_nd(case: Case) -> Iterator[Rendered]:
    """``mx.nd.Convolution / mx.nd.Pooling``; a backward case with ``attach_grad``,
    ``mx.autograd.record()`` and ``out.backward(dy)`` (the convolution with a zero
    bias)."""
    nd = _shape_nd(case)
    p = case.params
    op = case.op.removesuffix("_vjp")
    other = case.hints.get("layout") == "other"
    lines = _mx_head(case, gluon=False)
    args: list[str] = []
    if op == "conv":
        w = eval_array(case.w)
        api = "mx.nd.Convolution"
        args = [f"kernel={_lit(_kernel(case))}", f"num_filter={w.shape[0]}",
                "no_bias=False" if case.backward else "no_bias=True"]
        if "stride" in p:
            args.append(f"stride={_mx_tuple(p['stride'], nd)}")
        if "padding" in p:
            args.append(f"pad={_mx_tuple(p['padding'], nd)}")
        if "dilation" in p:
            args.append(f"dilate={_mx_tuple(p['dilation'], nd)}")
        if "groups" in p:
            args.append(f"num_group={p['groups']}")
        head = "x, w, b, " if case.backward else "x, w, "
    else:
        api = "mx.nd.Pooling"
        args = [f"kernel={_mx_tuple(p['kernel_size'], nd)}",
                f'pool_type="{op.split("_")[0]}"']
        if "stride" in p:
            args.append(f"stride={_mx_tuple(p['stride'], nd)}")
        elif not case.key.endswith("default-stride"):
            # mx.nd.Pooling's stride defaults to 1 (a case of its own): give the window
            args.append(f"stride={_mx_tuple(p['kernel_size'], nd)}")
        if p.get("padding") == "same":
            # MXNet's one spelling of 'same' pooling (documented for 1-D max pooling)
            args.append('pooling_convention="same"')
        elif "padding" in p:
            args.append(f"pad={_mx_tuple(p['padding'], nd)}")
        if "dilation" in p:
            args.append(f"dilate={_mx_tuple(p['dilation'], nd)}")
        if p.get("ceil_mode"):
            args.append('pooling_convention="full"')
        if "count_include_pad" in p:
            args.append(f"count_include_pad={p['count_include_pad']}")
        head = "x, "
    if other:
        args.append('layout="NHWC"')
    call = f"{api}({head}" + ", ".join(args) + ")"
    if case.backward:
        lines.append(f'dy = mx.nd.array({case.dy}, dtype="{case.dtype}")')
        grads = ["x"]
        if op == "conv":
            lines.append(f'b = mx.nd.zeros(({eval_array(case.w).shape[0]},), '
                         f'dtype="{case.dtype}")')
            grads += ["w", "b"]
        lines += [*(f"{g}.attach_grad()" for g in grads),
                  "with mx.autograd.record():", f"    out = {call}",
                  "out.backward(dy)", f"y = {case.grad}.grad", MX_PRINT]
    else:
        lines += [f"y = {call}", MX_PRINT]
    yield Rendered("mx.nd", api, "\n".join(lines) + "\n", channels_last=other)


def mxnet_gluon(case: Case) -> Iterator[Rendered]:
    """``mxnet.gluon.nn.Conv*D / MaxPool*D / AvgPool*D`` blocks."""
    if case.key not in MODULE_CASES:
        return
    nd = _shape_nd(case)
    p = case.params
    lines = _mx_head(case, gluon=True)
    if case.op == "conv":
        w = eval_array(case.w)
        cls = f"Conv{nd}D"
        args = [str(w.shape[0]), _lit(_kernel(case))]
        if "stride" in p:
            args.append(f"strides={_lit(p['stride'])}")
        if "padding" in p:
            args.append(f"padding={_lit(p['padding'])}")
        if "dilation" in p:
            args.append(f"dilation={_lit(p['dilation'])}")
        if "groups" in p:
            args.append(f"groups={p['groups']}")
        args += ["use_bias=False", f"in_channels={eval_array(case.x).shape[1]}"]
        lines += [f"layer = nn.{cls}(" + ", ".join(args) + ")", "layer.initialize()",
                  "layer.weight.set_data(w)"]
    else:
        cls = f"{'MaxPool' if case.op == 'max_pool' else 'AvgPool'}{nd}D"
        args = [_lit(p["kernel_size"])]
        if "stride" in p:
            args.append(f"strides={_lit(p['stride'])}")
        if "padding" in p:
            args.append(f"padding={_lit(p['padding'])}")
        if "dilation" in p:
            args.append(f"dilation={_lit(p['dilation'])}")
        for name in ("ceil_mode", "count_include_pad"):
            if name in p:
                args.append(f"{name}={p[name]}")
        lines.append(f"layer = nn.{cls}(" + ", ".join(args) + ")")
    lines += ["y = layer(x)", MX_PRINT]
    yield Rendered("mxnet.gluon.nn", f"mxnet.gluon.nn.{cls}", "\n".join(lines) + "\n")


def _keras_backward(case: Case, backend: str) -> list[str]:
    """The lines that take a backward case's gradient through ``layer`` (built above,
    with a zero bias for a convolution) with the Keras backend's autograd."""
    source = {"x": "x", "w": "layer.kernel.value", "b": "layer.bias.value"}[case.grad]
    lines = [f"dy = keras.ops.convert_to_tensor(np.moveaxis({case.dy}, 1, -1), "
             f'dtype="{case.dtype}")']
    if backend == "tensorflow":
        lines += ["import tensorflow as tf  # noqa: E402", "",
                  "with tf.GradientTape() as tape:",
                  "    tape.watch(x)",
                  "    out = layer(x)",
                  f"y = tape.gradient(out, {source}, output_gradients=dy)",
                  "if y is None:",
                  '    raise TypeError("tf.GradientTape.gradient returned None")']
    elif backend == "jax":
        # the layer as a function of the input and its variables, which jax.vjp
        # differentiates (Keras' stateless_call)
        conv = case.op.startswith("conv")
        args = "x, k, b" if conv else "x"
        values = ", layer.kernel.value, layer.bias.value" if conv else ""
        lines += ["import jax  # noqa: E402", "",
                  f"out, pullback = jax.vjp(lambda {args}: layer.stateless_call("
                  f"[{'k, b' if conv else ''}], [], x)[0], x{values})",
                  f"y = pullback(dy.astype(out.dtype))[{'xwb'.index(case.grad)}]",
                  *_FLOAT0_CHECK]
    else:
        lines += ["import torch  # noqa: E402", "",
                  "x.requires_grad_(True)",
                  "out = layer(x)",
                  f"(y,) = torch.autograd.grad(out, [{source}], grad_outputs=dy)"]
    return [*lines, KERAS_PRINT]


#: A JAX backward probe's check of its gradient: jax.vjp gives integer inputs a float0
#: cotangent, which holds no values (the framework's answer, shown as an error).
_FLOAT0_CHECK = ["if y.dtype == jax.dtypes.float0:",
                 '    raise TypeError("jax.vjp returned float0 (no gradient values)")']


keras_tensorflow = keras_layers("tensorflow")
keras_torch = keras_layers("torch")
keras_jax = keras_layers("jax")



# -------------------------------------------------------------------------------- jax
#: NumPy expressions for a case's dtype (bfloat16 from ml_dtypes, JAX's own type).
NP_DTYPES = {"float32": "np.float32", "float64": "np.float64", "float16": "np.float16",
             "bfloat16": "ml_dtypes.bfloat16", "int32": "np.int32", "int64": "np.int64"}
JAX_PRINT = "print(tuple(y.shape), y.dtype.name, np.asarray(y, dtype=np.float64).ravel().tolist())"


def _pairs(padding: Any, nd: int) -> list[tuple[int, int]]:
    """Explicit padding (an int, one per dimension, or pairs) as ``(lo, hi)`` pairs."""
    per_dim = padding if isinstance(padding, tuple) else (padding,) * nd
    return [tuple(p) if isinstance(p, tuple) else (p, p) for p in per_dim]


def _lax_padding_lit(padding: Any, nd: int) -> str:
    """The case's padding as ``lax``'s: ``"VALID"``, ``"SAME"``, ``"SAME_LOWER"`` or pairs."""
    if isinstance(padding, str):
        return f'"{padding.upper()}"'
    return _lit(_pairs(padding, nd))


def _jax_head(case: Case) -> list[str]:
    lines = ["import jax", "import numpy as np"]
    if case.dtype == "bfloat16":
        lines.append("import ml_dtypes")
    lines += ["", f"x = jax.numpy.asarray({case.x}.astype({NP_DTYPES[case.dtype]}))"]
    if case.w is not None:
        lines.append(f"w = jax.numpy.asarray({case.w}.astype({NP_DTYPES[case.dtype]}))")
    return lines


def _jax_done(lines: list[str], call: str, case: Case) -> str:
    """The script's last lines; a case about the framework's default settings runs with
    JAX's default ``jax_enable_x64=False`` (the probe session enables it)."""
    if case.hints.get("default_settings"):
        lines = [*lines[:lines.index("") + 1],
                 "with jax.enable_x64(False):  # JAX's default (JAX_ENABLE_X64 unset)",
                 *(f"    {s}" for s in lines[lines.index("") + 1:]),
                 f"    y = {call}"]
    else:
        lines = [*lines, f"y = {call}"]
    return "\n".join([*lines, JAX_PRINT]) + "\n"


def _jax_backward(case: Case, render: Callable[[Case], Iterator[Rendered]]
                  ) -> Iterator[Rendered]:
    """A backward case through ``render``'s forward call: ``jax.vjp`` of it (the
    convolution plus a zero bias) pulled back from ``dy``, the gradient of ``case.grad``."""
    forward = replace(case, op=case.op.removesuffix("_vjp"), hints={})
    for r in render(forward):
        head, _, call = r.code.partition("\ny = ")
        call = call.split("\n", 1)[0]
        dy = f"np.moveaxis({case.dy}, 1, -1)" if r.channels_last else case.dy
        lines = [head, f"dy = jax.numpy.asarray({dy}.astype({NP_DTYPES[case.dtype]}))"]
        if forward.op == "conv":
            o, nd = eval_array(case.w).shape[0], _shape_nd(case)
            lines += [f"b = jax.numpy.zeros({o}, dtype=x.dtype)",
                      f"out, pullback = jax.vjp(lambda x, w, b: {call} + b.reshape({o}"
                      f"{', 1' * nd}), x, w, b)"]
        else:
            lines.append(f"out, pullback = jax.vjp(lambda x: {call}, x)")
        lines += [f"y = pullback(dy.astype(out.dtype))[{'xwb'.index(case.grad)}]",
                  *_FLOAT0_CHECK, JAX_PRINT]
        yield Rendered(r.column, r.api, "\n".join(lines) + "\n",
                       channels_last=r.channels_last and case.grad == "x")


def jax_lax(case: Case) -> Iterator[Rendered]:
    """``jax.lax.conv_general_dilated`` (channels-first dimension numbers) and
    ``jax.lax.reduce_window`` with ``lax.max`` (max pooling); a backward case through
    ``jax.vjp`` of the same call."""
    if case.op.endswith("_vjp"):
        yield from _jax_backward(case, jax_lax)
        return
    if case.op == "avg_pool":
        return  # lax has no average pooling; flax.linen.avg_pool is probed instead
    nd = _shape_nd(case)
    p = case.params
    spatial = {1: "W", 2: "HW", 3: "DHW"}[nd]
    other = case.hints.get("layout") == "other"
    lines = _jax_head(case)
    padding = _lax_padding_lit(p.get("padding", 0), nd)
    stride = tuple(_per_dim(p.get("stride", 1), nd))
    if case.op == "conv":
        api = "jax.lax.conv_general_dilated"
        numbers = ((f"N{spatial}C", f"{spatial}IO", f"N{spatial}C") if other
                   else (f"NC{spatial}", f"OI{spatial}", f"NC{spatial}"))
        if other:
            lines += [f"x = jax.numpy.moveaxis(x, 1, -1)  # {numbers[0]}",
                      f"w = jax.numpy.moveaxis(w, (0, 1), (-1, -2))  # {numbers[1]}"]
        args = [f"window_strides={_lit(stride)}", f"padding={padding}"]
        if "dilation" in p:
            args.append(f"rhs_dilation={_lit(tuple(_per_dim(p['dilation'], nd)))}")
        if "groups" in p:
            args.append(f"feature_group_count={p['groups']}")
        args.append(f"dimension_numbers={_lit(numbers)}")
        call = f"{api}(x, w, " + ", ".join(args) + ")"
        yield Rendered("jax.lax", api, _jax_done(lines, call, case), channels_last=other)
        return
    api = "jax.lax.reduce_window"
    k = tuple(_per_dim(p["kernel_size"], nd))
    # reduce_window has no default stride; a case without one is given the window
    strides = tuple(_per_dim(p["stride"], nd)) if "stride" in p else k
    full = (lambda t: (1, 1, *t)) if not other else (lambda t: (1, *t, 1))
    if other:
        lines.append("x = jax.numpy.moveaxis(x, 1, -1)  # channels last")
    if isinstance(p.get("padding", 0), str):
        pad = padding
    else:
        pairs = _pairs(p.get("padding", 0), nd)
        pad = _lit([(0, 0), *pairs, (0, 0)] if other else [(0, 0), (0, 0), *pairs])
    init = ("jax.numpy.array(jax.numpy.iinfo(x.dtype).min, x.dtype)" if case.dtype.startswith("int")
            else "jax.numpy.array(-jax.numpy.inf, x.dtype)")
    args = [init, "jax.lax.max",
            f"window_dimensions={_lit(full(k))}", f"window_strides={_lit(full(strides))}",
            f"padding={pad}"]
    if "dilation" in p:
        args.append(f"window_dilation={_lit(full(tuple(_per_dim(p['dilation'], nd))))}")
    if "ceil_mode" in p:
        args.append(f"ceil_mode={p['ceil_mode']}")
    call = f"{api}(x, " + ", ".join(args) + ")"
    yield Rendered("jax.lax", api, _jax_done(lines, call, case), channels_last=other)


def flax_linen(case: Case) -> Iterator[Rendered]:
    """``flax.linen.max_pool / avg_pool`` (channels-last, as Flax models call them); a
    backward case through ``jax.vjp`` of the same call."""
    if case.op.endswith("_vjp"):
        yield from _jax_backward(case, flax_linen)
        return
    if case.op == "conv":
        return
    nd = _shape_nd(case)
    p = case.params
    api = f"flax.linen.{case.op}"
    lines = _jax_head(case)
    lines.insert(1, "import flax.linen as nn")
    lines.append("x = jax.numpy.moveaxis(x, 1, -1)  # channels last")
    args = [_lit(tuple(_per_dim(p["kernel_size"], nd)))]
    if "stride" in p:
        args.append(f"strides={_lit(tuple(_per_dim(p['stride'], nd)))}")
    if "padding" in p:
        args.append(f"padding={_lax_padding_lit(p['padding'], nd)}")
    for name in ("dilation", "ceil_mode", "count_include_pad"):
        if name in p:
            args.append(f"{name}={_lit(p[name])}")
    call = f"nn.{case.op}(x, " + ", ".join(args) + ")"
    yield Rendered("flax.linen", api, _jax_done(lines, call, case), channels_last=True)


# ------------------------------------------------------------------------ onnxruntime
ONNX_OPS = {"conv": "Conv", "max_pool": "MaxPool", "avg_pool": "AveragePool"}
ONNX_AUTO_PAD = {"valid": "VALID", "same": "SAME_UPPER", "same_lower": "SAME_LOWER"}


def _onnx_model(case: Case) -> list[str]:
    """Lines that build ``model`` (one ONNX node at the installed opset) and ``feeds``."""
    nd = _shape_nd(case)
    p = case.params
    op = ONNX_OPS[case.op]
    lines = ["import numpy as np", "import onnx", "from onnx import helper"]
    if case.dtype == "bfloat16":
        lines.append("import ml_dtypes")
    lines += ["", f"x = {case.x}.astype({NP_DTYPES[case.dtype]})"]
    names = ["x"]
    if case.w is not None:
        lines.append(f"w = {case.w}.astype({NP_DTYPES[case.dtype]})")
        names.append("w")
    attrs = [f"kernel_shape={_lit(list(_kernel(case)))}"]
    if "stride" in p:
        attrs.append(f"strides={_lit(_per_dim(p['stride'], nd))}")
    padding = p.get("padding")
    if isinstance(padding, str):
        attrs.append(f'auto_pad="{ONNX_AUTO_PAD[padding]}"')
    elif padding is not None:
        pairs = _pairs(padding, nd)
        attrs.append(f"pads={_lit([lo for lo, _ in pairs] + [hi for _, hi in pairs])}")
    if "dilation" in p:
        attrs.append(f"dilations={_lit(_per_dim(p['dilation'], nd))}")
    if "groups" in p:
        attrs.append(f"group={p['groups']}")
    for name in ("ceil_mode", "count_include_pad"):
        if name in p:
            attrs.append(f"{name}={int(p[name])}")
    if case.hints.get("layout") == "other":
        attrs.append('storage_order=1' if case.op == "max_pool" else "")
        attrs = [a for a in attrs if a]
    infos = ", ".join(f'helper.make_tensor_value_info("{n}", '
                      f"helper.np_dtype_to_tensor_dtype({n}.dtype), {n}.shape)" for n in names)
    lines += [
        f'node = helper.make_node("{op}", {_lit(names)}, ["y"], ' + ", ".join(attrs) + ")",
        f'graph = helper.make_graph([node], "{op}", [{infos}], '
        '[helper.make_tensor_value_info("y", helper.np_dtype_to_tensor_dtype(x.dtype), None)])',
        "model = helper.make_model(graph, opset_imports=[helper.make_opsetid(\"\", "
        "onnx.defs.onnx_opset_version())])",
        "feeds = {" + ", ".join(f'"{n}": {n}' for n in names) + "}",
    ]
    return lines


NP_PRINT = "print(tuple(y.shape), y.dtype.name, np.asarray(y, dtype=np.float64).ravel().tolist())"


def onnxruntime(case: Case) -> Iterator[Rendered]:
    """ONNX ``Conv / MaxPool / AveragePool`` as one-node models on ONNX Runtime's CPU
    provider."""
    if case.hints.get("layout") == "other":
        return  # ONNX operators are defined channels-first only
    if case.backward:
        yield _onnx_gradient(case)
        return
    lines = ["import onnxruntime as ort", *_onnx_model(case),
             "session = ort.InferenceSession(model.SerializeToString(), "
             'providers=["CPUExecutionProvider"])',
             "y = session.run(None, feeds)[0]", NP_PRINT]
    yield Rendered("onnxruntime", f"onnxruntime {ONNX_OPS[case.op]}", "\n".join(lines) + "\n")


def _onnx_gradient(case: Case) -> Rendered:
    """A backward case on ONNX Runtime: the forward node (a convolution with a zero bias),
    ``ReduceSum(Mul(y, dy))`` and ONNX's ``Gradient`` operator of that sum with respect to
    the node's inputs (domain ``ai.onnx.preview.training``)."""
    forward = replace(case, op=case.op.removesuffix("_vjp"), hints={})
    lines = _onnx_model(forward)
    names = ["x", "w", "b"] if forward.op == "conv" else ["x"]
    dt = NP_DTYPES[case.dtype]
    if forward.op == "conv":
        lines += [f"b = np.zeros({eval_array(case.w).shape[0]}, dtype=x.dtype)",
                  'node.input.append("b")', 'feeds["b"] = b']
    lines += [
        f"dy = {case.dy}.astype({dt})",
        'feeds["dy"] = dy',
        f"names = {names!r}",
        'nodes = [node, helper.make_node("Mul", ["y", "dy"], ["y_dy"]),',
        '         helper.make_node("ReduceSum", ["y_dy"], ["total"], keepdims=0),',
        '         helper.make_node("Gradient", [*names, "dy"], [f"d{n}" for n in names],',
        '                          domain="ai.onnx.preview.training", xs=names, zs=["dy"],',
        '                          y="total")]',
        "inputs = [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(a.dtype), "
        "a.shape) for n, a in feeds.items()]",
        'outputs = [helper.make_tensor_value_info(f"d{n}", '
        "helper.np_dtype_to_tensor_dtype(x.dtype), None) for n in names]",
        'model = helper.make_model(helper.make_graph(nodes, "vjp", inputs, outputs), '
        'opset_imports=[helper.make_opsetid("", onnx.defs.onnx_opset_version()), '
        'helper.make_opsetid("ai.onnx.preview.training", 1)])',
        "session = ort.InferenceSession(model.SerializeToString(), "
        'providers=["CPUExecutionProvider"])',
        f"y = session.run(None, feeds)[{names.index(case.grad)}]", NP_PRINT]
    return Rendered("onnxruntime", f"onnxruntime {ONNX_OPS[forward.op]}",
                    "\n".join(["import onnxruntime as ort", *lines]) + "\n")


def onnx_reference(case: Case) -> Iterator[Rendered]:
    """The same one-node models on ``onnx.reference.ReferenceEvaluator``, the ONNX
    package's Python implementation of the operator specification."""
    if case.op.endswith("_vjp"):
        return  # forward probes only (the backward pass is probed on ONNX Runtime)
    if case.hints.get("layout") == "other":
        return
    lines = ["from onnx.reference import ReferenceEvaluator", *_onnx_model(case),
             "y = ReferenceEvaluator(model).run(None, feeds)[0]", NP_PRINT]
    yield Rendered("onnx.reference", f"onnx.reference {ONNX_OPS[case.op]}",
                   "\n".join(lines) + "\n")


# ---------------------------------------------------------------------------- variants
# A variant's transform takes a rendered probe of its backend and returns the same script
# run under the variant's setting, as a user writes it; :func:`with_variant` also writes
# the variant's environment variables at the top.


def _retarget(rendered: Rendered, column: str, code: str) -> Rendered:
    return Rendered(column, rendered.api, code, rendered.channels_last)


def _wrap_result(code: str, wrap: str, name: str = "y") -> str:
    """``code`` with its result line ``y = CALL`` (``name = CALL``) written as
    ``y = wrap(CALL)`` (``wrap`` holds ``{call}``), indentation kept."""
    lines = []
    prefix = f"{name} = "
    for line in code.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(prefix):
            indent = line[:len(line) - len(stripped)]
            line = indent + prefix + wrap.format(call=stripped.removeprefix(prefix))
        lines.append(line)
    return "\n".join(lines) + "\n"


def _after(code: str, prefix: str, new: list[str]) -> str:
    """``code`` with ``new`` lines inserted after each line starting with ``prefix``."""
    lines = []
    for line in code.splitlines():
        lines.append(line)
        if line.startswith(prefix):
            lines += new
    return "\n".join(lines) + "\n"


def torch_channels_last(case: Case, rendered: Rendered) -> str:
    """Input and weights converted to channels_last (channels_last_3d) memory."""
    nd = _shape_nd(case)
    if nd == 1:  # 3-D tensors have no channels-last memory format
        return rendered.code
    fmt = "torch.channels_last" if nd == 2 else "torch.channels_last_3d"
    code = _after(rendered.code, "x = torch.from_numpy",
                  [f"x = x.to(memory_format={fmt})  # variant channels_last"])
    return _after(code, "w = torch.from_numpy",
                  [f"w = w.to(memory_format={fmt})  # variant channels_last"])


def torch_compile(case: Case, rendered: Rendered) -> str:
    """The call through ``torch.compile(dynamic=False, fullgraph=True)``: a backward
    script's forward call (``out = ...``, differentiated by autograd through the compiled
    graph), else the result's."""
    wrap = "torch.compile(lambda: {call}, dynamic=False, fullgraph=True)()  # variant compile"
    if any(line.lstrip().startswith("out = ") for line in rendered.code.splitlines()):
        return _wrap_result(rendered.code, wrap, "out")
    return _wrap_result(rendered.code, wrap)


def torch_no_mkldnn(case: Case, rendered: Rendered) -> str:
    """oneDNN (mkldnn) switched off for the whole script."""
    return _after(rendered.code, "import torch",
                  ["torch.backends.mkldnn.enabled = False  # variant no_mkldnn"])


def tensorflow_xla(case: Case, rendered: Rendered) -> str:
    """The call inside ``tf.function(jit_compile=True)``."""
    return _wrap_result(rendered.code,
                        "tf.function(lambda: {call}, jit_compile=True)()  # variant xla")


def keras_xla(case: Case, rendered: Rendered) -> str:
    """The layer call inside ``tf.function(jit_compile=True)``."""
    code = _after(rendered.code, "import keras", ["import tensorflow as tf  # noqa: E402"])
    return tensorflow_xla(case, _retarget(rendered, rendered.column, code))


def with_variant(backend: str, variant: str, case: Case, rendered: Rendered) -> Rendered:
    """``rendered`` (a probe of built-in ``backend``) under ``variant``, in the report
    column ``column[variant]``: the variant's environment set at the top, then its
    transform (:attr:`backends.table.Variant.render`)."""
    spec = by_name(backend).variant(variant)
    code = _resolve(spec.render)(case, rendered) if spec.render else rendered.code
    if spec.env:
        code = "\n".join(["import os", "",
                          *(f'os.environ["{k}"] = "{v}"  # variant {variant}, before import'
                            for k, v in spec.env.items()), "", code])
    return _retarget(rendered, f"{rendered.column}[{variant}]", code)


def renderers(backend: str) -> list[Callable[[Case], Iterator[Rendered]]]:
    """The probe renderers of built-in backend ``backend`` (or ``name[variant]``), as the
    backend table lists them (:data:`backends.table.BACKENDS`)."""
    name, variant = parse(backend)
    plain = [_resolve(target) for _, target in by_name(name).probes]
    if not variant:
        return plain

    def under_variant(render: Callable[[Case], Iterator[Rendered]]
                      ) -> Callable[[Case], Iterator[Rendered]]:
        def render_variant(case: Case) -> Iterator[Rendered]:
            for rendered in render(case):
                yield with_variant(name, variant, case, rendered)
        render_variant.__name__ = f"{render.__name__}[{variant}]"
        return render_variant

    return [under_variant(render) for render in plain]


def _resolve(target: str) -> Any:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)
