"""The oracle's process-wide settings (memory budget, threads): one way to scope them."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any


def scoped(setter: Callable[[Any], Any], doc: str
           ) -> Callable[[Any], contextlib.AbstractContextManager[None]]:
    """A context manager that sets a value with ``setter`` (which returns the previous
    one) for the duration of a block, and restores the previous value after it, also
    when the block raises."""

    @contextlib.contextmanager
    def scope(value: Any) -> Iterator[None]:
        previous = setter(value)
        try:
            yield
        finally:
            setter(previous)

    scope.__doc__ = doc
    return scope
