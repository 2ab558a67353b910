"""What every adapter derives from the oracle's arguments, written once: a window's sizes
per dimension, the pooling default stride, the resolved padding and whether ceil mode adds
an output; plus the symmetric-padding check and the framework message helper they share.

The arithmetic itself is the oracle's (:mod:`reference.padding`); this module only applies
it the way an adapter needs it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import reference
from backends import Unsupported

__all__ = ["Window", "first_line", "symmetric", "window"]


@dataclass(frozen=True)
class Window:
    """A sliding window's arguments, one int per spatial dimension.

    Attributes
    ----------
    kernel, stride, dilation : tuple of int
        ``stride`` is the pooling default (the kernel) when the call gave none.
    stride_given : bool
        Whether the call passed a stride (an adapter then passes the framework's own
        default through, so the default is what gets tested).
    in_sizes : tuple of int
        The input's spatial sizes.
    """

    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    stride_given: bool
    in_sizes: tuple[int, ...]

    @property
    def dilated(self) -> bool:
        """Whether some dimension has dilation > 1."""
        return any(d > 1 for d in self.dilation)

    def pads(self, padding: Any) -> tuple[tuple[int, int], ...]:
        """``padding`` (any of the oracle's forms) as explicit ``(lo, hi)`` pairs."""
        return reference.resolve_padding(padding, self.in_sizes, self.kernel, self.stride,
                                         self.dilation)

    def ceil_extends(self, padding: Any) -> bool:
        """Whether ceil mode gives more outputs than floor mode (where it does not, the
        two compute the very same windows)."""
        pads = self.pads(padding)
        return (reference.output_size(self.in_sizes, self.kernel, self.stride, pads,
                                      self.dilation, True)
                != reference.output_size(self.in_sizes, self.kernel, self.stride, pads,
                                         self.dilation))


def window(x_shape: Sequence[int], kernel_size: Any, stride: Any = None, dilation: Any = 1
           ) -> Window:
    """The window of a call on an input of shape ``x_shape`` (``(N, C, *spatial)``);
    ``stride=None`` is the pooling default (the kernel)."""
    nd = len(x_shape) - 2
    kernel = reference.normalize_sizes(kernel_size, nd, "kernel_size")
    strides = kernel if stride is None else reference.normalize_sizes(stride, nd, "stride")
    return Window(kernel, strides, reference.normalize_sizes(dilation, nd, "dilation"),
                  stride is not None, tuple(x_shape[2:]))


def symmetric(pads: Sequence[tuple[int, int]], api: str) -> tuple[int, ...]:
    """Resolved ``(lo, hi)`` pairs as one padding per dimension, applied on both sides.

    Raises
    ------
    Unsupported
        When some dimension's two sides differ: ``api`` has no asymmetric padding.
    """
    if any(lo != hi for lo, hi in pads):
        raise Unsupported(f"{api} has no asymmetric padding (one value per dimension, "
                          "applied on both sides)")
    return tuple(lo for lo, _ in pads)


def first_line(err: BaseException, prefer: Sequence[str] = ()) -> str:
    """A framework's message in one line that reads the same for every call it concerns.

    The first line holding one of ``prefer`` (else the first line), without terminal
    colours, TensorFlow's ``{{function_node ...}}`` prefix and node attributes, its
    ``[Op:...]`` suffix, and the values of the call (``Received: ...``, ``but got ...``).
    """
    lines = [line.strip() for line in str(err).strip().splitlines() if line.strip()]
    telling = [line for line in lines if any(m in line for m in prefer)]
    line = re.sub(r"\x1b\[[0-9;]*m", "", (telling or lines or [type(err).__name__])[0])
    if line.startswith("{{function_node"):
        line = line.split("}} ", 1)[-1]
    line = re.sub(r"(\{\{node \w+\}\}) = .*", r"\1", line)
    line = re.sub(r"\s*\[Op:\w+\].*", "", line)
    line = re.sub(r"\s*Received: .*", "", line)
    return re.sub(r",? but got .*", "", line)
