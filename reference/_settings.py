"""The oracle's process-wide settings (memory budget, threads): one kind of value, one way
to change it and one way to scope a change."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from reference._validate import check_int


class Count:
    """A process-wide integer setting of at least ``minimum``, checked as ``name``."""

    def __init__(self, name: str, value: int, minimum: int = 1) -> None:
        self.name, self.minimum = name, minimum
        self.value = check_int(value, name, minimum)

    def set(self, value: int) -> int:
        """Check and set the value; returns the previous one."""
        previous, self.value = self.value, check_int(value, self.name, self.minimum)
        return previous


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
