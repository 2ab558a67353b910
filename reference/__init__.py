"""The oracle: convolution and pooling in NumPy, exact conventions, float64, BLAS-backed.

Arrays are channels-first, ``(N, C, *spatial)`` with 1, 2 or 3 spatial dimensions. Every
size argument is an int (the same for every spatial dimension) or a sequence with one value
per dimension.

- :func:`conv`: cross-correlation with padding, stride, dilation, groups and bias.
- :func:`max_pool`, :func:`avg_pool`: pooling with padding, stride, dilation, ceil mode and
  the average's divisor rule.
- :func:`conv_vjp`, :func:`max_pool_vjp`, :func:`avg_pool_vjp`: the backward passes
  (vector-Jacobian products), and :func:`learn_kernel`, the seeds' kernel-learning loop.
- :func:`resolve_padding`, :func:`output_size`, :func:`normalize_sizes`: the one home of the
  padding and shape arithmetic, for backends and tests.
- :func:`conv_geometry`, :func:`pool_geometry`: the operations' own argument checks and
  window geometry, without the computation (what is bad input, and why).
- :func:`corr2d` and friends: the seed chapter's loop definitions.
- :func:`memory_budget`, :func:`set_memory_budget`: the bound on temporary memory.
- :func:`threads`, :func:`set_threads`: how many threads the poolings' slabs run on
  (default: the CPUs this process may use); the results do not depend on it.
"""

from reference.conv import conv, conv_geometry
from reference.conv_vjp import conv_vjp
from reference.learn import learn_kernel
from reference.padding import (
    PADDING_MODES,
    WindowGeometry,
    cells_counted,
    normalize_sizes,
    output_size,
    resolve_padding,
    same_total_padding,
    window_geometry,
)
from reference.parallel import get_threads, set_threads, threads
from reference.pool import avg_pool, max_pool, pool_geometry
from reference.pool_vjp import avg_pool_vjp, max_pool_vjp
from reference.seed import (
    corr2d,
    corr2d_multi_in,
    corr2d_multi_in_out,
    corr2d_multi_in_out_1x1,
    pool2d,
)
from reference.windows import (
    DEFAULT_MEMORY_BUDGET,
    get_memory_budget,
    memory_budget,
    set_memory_budget,
)

__all__ = [
    "DEFAULT_MEMORY_BUDGET",
    "PADDING_MODES",
    "WindowGeometry",
    "avg_pool",
    "avg_pool_vjp",
    "cells_counted",
    "conv",
    "conv_geometry",
    "conv_vjp",
    "corr2d",
    "corr2d_multi_in",
    "corr2d_multi_in_out",
    "corr2d_multi_in_out_1x1",
    "get_memory_budget",
    "get_threads",
    "learn_kernel",
    "max_pool",
    "max_pool_vjp",
    "memory_budget",
    "normalize_sizes",
    "output_size",
    "pool2d",
    "pool_geometry",
    "resolve_padding",
    "same_total_padding",
    "set_memory_budget",
    "set_threads",
    "threads",
    "window_geometry",
]
