"""The one home of padding and output-shape arithmetic.

Every other module, every adapter and every test asks these functions; nobody re-derives
them. Downstream of :func:`resolve_padding` there is only ever one ``(lo, hi)`` pair per
spatial dimension.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np

from reference._validate import check_int

Pads: TypeAlias = tuple[tuple[int, int], ...]

#: The padding names the oracle understands.
PADDING_MODES = ("valid", "same", "same_lower")


def normalize_sizes(value: Any, ndim: int, name: str, minimum: int = 1) -> tuple[int, ...]:
    """Expand a size argument to one int per spatial dimension.

    Parameters
    ----------
    value : int or sequence of int
        One int for every dimension, or a sequence with exactly ``ndim`` ints.
    ndim : int
        Number of spatial dimensions.
    name : str
        Argument name, used in error messages.
    minimum : int, default 1
        Smallest accepted value.

    Returns
    -------
    tuple of int
        ``ndim`` values.

    Raises
    ------
    TypeError
        If a value is not an integer (bool and float included).
    ValueError
        If a value is below ``minimum`` or the sequence has the wrong length.
    """
    if type(value) is int or isinstance(value, str) or not isinstance(value, Sequence):
        return (check_int(value, name, minimum),) * ndim
    if len(value) != ndim:
        raise ValueError(
            f"{name} must be an int or a sequence of {ndim} ints (one per spatial dimension), "
            f"got {value!r} of length {len(value)}"
        )
    return tuple(check_int(v, f"{name}[{i}]", minimum) for i, v in enumerate(value))


def same_total_padding(n: int, kernel: int, stride: int, dilation: int, *,
                       clamped: bool = True) -> int:
    """Total padding that makes the output size ``ceil(n / stride)``.

    ``max((out - 1) * stride + (kernel - 1) * dilation + 1 - n, 0)`` with
    ``out = ceil(n / stride)``: TensorFlow's ``SAME`` and ONNX's ``SAME_*`` rule. With
    ``clamped=False``, the total before the ``max``, negative where the window is shorter
    than the stride (what frameworks that forget to clamp it use).
    """
    out = -(-n // stride)
    total = (out - 1) * stride + (kernel - 1) * dilation + 1 - n
    return max(total, 0) if clamped else total


def resolve_padding(
    padding: Any,
    in_sizes: Sequence[int],
    kernel: Sequence[int],
    stride: Sequence[int],
    dilation: Sequence[int],
) -> Pads:
    """Turn any padding specification into explicit ``(lo, hi)`` pairs, one per dimension.

    Parameters
    ----------
    padding : int, sequence, or str
        - ``int``: the same symmetric padding on every side of every dimension.
        - sequence of ints: symmetric padding, one value per spatial dimension.
        - sequence of ``(lo, hi)`` pairs: asymmetric padding, one pair per dimension.
        - ``"valid"``: no padding.
        - ``"same"``: output size ``ceil(n / stride)``; the total padding
          (:func:`same_total_padding`) is split with the odd extra cell at the END
          (``lo = total // 2``): TensorFlow ``SAME``, ONNX ``SAME_UPPER``.
        - ``"same_lower"``: as ``"same"`` with the odd extra cell at the BEGINNING:
          ONNX ``SAME_LOWER``.
    in_sizes, kernel, stride, dilation : sequence of int
        Input spatial sizes and the (already normalized) window parameters.

    Returns
    -------
    tuple of (int, int)
        ``(lo, hi)`` per spatial dimension, all ``>= 0``.

    Raises
    ------
    ValueError
        For an unknown string, a negative value, or a sequence of the wrong length.
    TypeError
        For a non-integer value.
    """
    ndim = len(in_sizes)
    if type(padding) is int:
        p = check_int(padding, "padding", 0)
        return ((p, p),) * ndim
    if isinstance(padding, str):
        if padding not in PADDING_MODES:
            raise ValueError(f"padding must be an int, a sequence or one of {PADDING_MODES}, "
                             f"got {padding!r}")
        if padding == "valid":
            return ((0, 0),) * ndim
        totals = [same_total_padding(n, k, s, d)
                  for n, k, s, d in zip(in_sizes, kernel, stride, dilation, strict=True)]
        if padding == "same":
            return tuple((t // 2, t - t // 2) for t in totals)
        return tuple((t - t // 2, t // 2) for t in totals)
    if isinstance(padding, Sequence) and any(
        isinstance(p, Sequence) and not isinstance(p, str) for p in padding
    ):
        if len(padding) != ndim:
            raise ValueError(f"padding must have {ndim} (lo, hi) pairs, one per spatial "
                             f"dimension, got {padding!r}")
        pairs = []
        for i, pair in enumerate(padding):
            if isinstance(pair, str) or not isinstance(pair, Sequence) or len(pair) != 2:
                raise ValueError(f"padding[{i}] must be a (lo, hi) pair, got {pair!r}")
            pairs.append((check_int(pair[0], f"padding[{i}][0]", 0),
                          check_int(pair[1], f"padding[{i}][1]", 0)))
        return tuple(pairs)
    sizes = normalize_sizes(padding, ndim, "padding", minimum=0)
    return tuple((p, p) for p in sizes)


def output_size(
    in_sizes: Sequence[int],
    kernel: Sequence[int],
    stride: Sequence[int],
    pads: Pads,
    dilation: Sequence[int],
    ceil_mode: bool = False,
) -> tuple[int, ...]:
    """Output spatial sizes of a sliding window over a padded input.

    ``floor((n + lo + hi - (k - 1) * d - 1) / s) + 1`` per dimension. With ``ceil_mode`` the
    division rounds up, and a last window that would start in the right padding (or past
    it) is dropped — the PyTorch / ONNX rule. A size can be ``<= 0`` when the window is
    larger than the padded input; callers that need a non-empty output check that.
    """
    sizes = []
    for n, k, s, (lo, hi), d in zip(in_sizes, kernel, stride, pads, dilation, strict=True):
        span = n + lo + hi - (k - 1) * d - 1
        if span < 0:
            sizes.append(span // s + 1)  # <= 0: the window does not fit
            continue
        out = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (out - 1) * s >= n + lo:
            out -= 1
        sizes.append(out)
    return tuple(sizes)


def extent(out: int, kernel: int, stride: int, dilation: int) -> int:
    """Number of padded-input cells that ``out`` windows reach along one dimension."""
    return (out - 1) * stride + (kernel - 1) * dilation + 1


@dataclass(frozen=True)
class WindowGeometry:
    """Everything a sliding-window operation needs to know about shapes, resolved once.

    Attributes
    ----------
    kernel, stride, dilation : tuple of int
        One value per spatial dimension.
    pads : tuple of (int, int)
        Explicit padding ``(lo, hi)`` per dimension, as :func:`resolve_padding` gives it.
    out : tuple of int
        Output spatial sizes, all ``>= 1``.
    padded : tuple of int
        Extent of the padded input the windows read: ``n + lo + hi``, plus in ceil mode
        the cells the last window overhangs past the padding (never counted by averages).
    """

    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    pads: Pads
    out: tuple[int, ...]
    padded: tuple[int, ...]


def window_geometry(
    in_sizes: Sequence[int],
    kernel_size: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    ceil_mode: bool = False,
    kernel_name: str = "kernel_size",
) -> WindowGeometry:
    """Validate the window arguments of an operation and resolve its geometry.

    Raises
    ------
    ValueError
        If an argument is out of range, or the window (dilated kernel) is larger than the
        padded input so that the output would be empty.
    TypeError
        If a size is not an integer, or ``ceil_mode`` is not a bool.
    """
    if not isinstance(ceil_mode, bool | np.bool_):
        raise TypeError(f"ceil_mode must be a bool, got {ceil_mode!r}")
    ndim = len(in_sizes)
    kernel = normalize_sizes(kernel_size, ndim, kernel_name)
    strides = normalize_sizes(stride, ndim, "stride")
    dilations = normalize_sizes(dilation, ndim, "dilation")
    pads = resolve_padding(padding, in_sizes, kernel, strides, dilations)
    out = output_size(in_sizes, kernel, strides, pads, dilations, bool(ceil_mode))
    if min(out) < 1:
        raise ValueError(
            f"the window (kernel {kernel}, dilation {dilations}) is larger than the padded "
            f"input (spatial sizes {tuple(in_sizes)}, padding {pads}): the output would be "
            f"empty (sizes {out})"
        )
    padded = tuple(max(n + lo + hi, extent(o, k, s, d))
                   for n, (lo, hi), o, k, s, d
                   in zip(in_sizes, pads, out, kernel, strides, dilations, strict=True))
    return WindowGeometry(kernel, strides, dilations, pads, out, padded)


def cells_counted(geo: WindowGeometry, in_sizes: Sequence[int], include_pad: bool
                  ) -> tuple[np.ndarray, ...]:
    """Per dimension, how many taps of each output's window land in the counted region.

    The region is the input (``include_pad=False``) or the input with its explicit
    padding (``include_pad=True``); cells that ceil mode adds past the padding are never
    in it. A window's count is the product of its per-dimension counts.

    Returns
    -------
    tuple of numpy.ndarray
        One int array of length ``out[i]`` per spatial dimension.
    """
    counts = []
    for n, (lo, hi), o, k, s, d in zip(in_sizes, geo.pads, geo.out, geo.kernel, geo.stride,
                                       geo.dilation, strict=True):
        begin, end = (0, lo + n + hi) if include_pad else (lo, lo + n)
        taps = np.add.outer(np.arange(0, o * s, s), np.arange(0, k * d, d))  # [window, tap]
        counts.append(((begin <= taps) & (taps < end)).sum(axis=1))
    return tuple(counts)
