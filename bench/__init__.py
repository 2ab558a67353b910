"""Benchmark of the oracle side by side with PyTorch float64 on CPU: ``python -m bench``.

One process: the machine's float64 matmul rate is measured first, then every case runs
through :mod:`reference` and through ``torch.nn.functional`` on float64 tensors with the
same arguments. The result is a Markdown table (times are medians of repeats) and the
geometric mean of the time ratio over the layer shapes. See :mod:`bench.__main__`.
"""
