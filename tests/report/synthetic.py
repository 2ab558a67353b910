"""Small synthetic records, registry and README for the report's tests: a few probes on two
framework APIs, suite records for every backend, three registry entries (and, in
:data:`CPU_REGISTRY`, two more with a CPU condition)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from report.__main__ import markers
from report.records import PROBE_BACKENDS, PROBE_SCHEMA, SUITE_BACKENDS, SUITE_SCHEMA

REGISTRY = '''
[[discrepancy]]
id = "torch-divides-by-inside-cells"
backends = []
frameworks = ["torch"]
api = "torch.nn.functional.avg_pool1d"
op = "avg_pool"
topic = "avg-divisor"
kind = "convention"
summary = "divides by the cells inside | the input"
description = "A description with a_b underscores, *stars* and https://example.org/a_b."
source = "https://example.org/source-of-the-probe-entry"
workaround = { text = "Pass count_include_pad explicitly.", code = """
y = pool(x, count_include_pad=True)
""" }

[[discrepancy]]
id = "mxnet-ignores-nan"
backends = ["mxnet"]
frameworks = ["mxnet"]
api = "mx.nd.Pooling"
op = "max_pool"
topic = "nan-inf"
kind = "deviation"
summary = "NaN is skipped"
description = "Max pooling skips NaN."
source = "https://example.org/source-of-the-suite-entry"
reproducer = { x_shape = [1, 1, 4], x = [1.0, nan, 3.0, 4.0], params = { kernel_size = 2 } }
claim = { values = ["nan-skipped"] }
workaround = { none = "No flag of the kernel keeps NaN." }

[[discrepancy]]
id = "torch-no-same-pooling"
backends = []
frameworks = ["torch"]
api = "torch.nn.functional.max_pool1d"
op = "max_pool"
topic = "same-padding"
kind = "unsupported"
summary = "no 'same' pooling"
description = "Pooling takes no 'same'."
source = "https://example.org/source-of-the-unsupported-entry"
workaround = { text = "Pad explicitly, then pool without padding.", code = "y = pool(pad(x))" }
'''

#: A probe (report column, case) that the entry :data:`CPU_PROBE_ENTRY` of
#: :data:`CPU_REGISTRY` explains and gives a CPU condition.
CPU_COLUMN, CPU_CASE = "torch.nn.functional", "conv-same-stride-2"
CPU_PROBE_ENTRY = "torch-conv-same-strided-on-some-cpus"
#: A suite entry of :data:`CPU_REGISTRY` with a CPU condition.
CPU_SUITE_ENTRY = "tensorflow-kernel-of-some-cpus"
CPU_REGISTRY = REGISTRY + f'''
[[discrepancy]]
id = "{CPU_PROBE_ENTRY}"
backends = []
frameworks = ["torch"]
api = "{CPU_COLUMN}.op"
op = "avg_pool"
topic = "bad-input"
kind = "error-behaviour"
summary = "raises on some CPUs"
description = "A kernel some instruction sets pick raises."
source = "https://example.org/source-of-the-cpu-probe-entry"
cpu = [["avx512_vnni", "amx_tile"]]
workaround = {{ none = "No argument picks another kernel." }}
probes = {{ "{CPU_COLUMN}" = ["{CPU_CASE}"] }}

[[discrepancy]]
id = "{CPU_SUITE_ENTRY}"
backends = ["tensorflow"]
frameworks = ["tensorflow"]
api = "tf.nn.max_pool1d"
op = "max_pool"
topic = "dtypes"
kind = "deviation"
summary = "wrong values from a kernel of CPUs without AVX512F"
description = "A kernel the other CPUs pick is wrong."
source = "https://example.org/source-of-the-cpu-suite-entry"
cpu = ["!avx512f"]
reproducer = {{ x_shape = [1, 1, 4], params = {{ kernel_size = 2 }} }}
claim = {{ excluded = "values that follow no convention" }}
workaround = {{ text = "Pool in float64.", code = "y = pool(x.astype('float64'))" }}
'''

CODE = "import numpy as np\n\ny = np.zeros(3)\nprint(y.shape, y.dtype, y.tolist())\n"


def probe(backend: str, column: str, case: str, topic: str, verdict: str,
          registry: str | None = None, observed: dict[str, Any] | None = None) -> dict[str, Any]:
    """One probe record (the fields the report reads)."""
    api = f"{column}.op"
    return {
        "id": f"{api}:{case}", "backend": backend, "framework": backend, "version": "1.0",
        "column": column, "api": api, "op": "avg_pool", "topic": topic, "case": case,
        "title": f"the {case} question", "dtype": "float32", "x": "np.ones((1, 1, 4))",
        "w": None, "params": {"kernel_size": 2},
        "candidates": {"oracle": {"shape": [1, 1, 2], "values": [1.0, 2.5]}},
        "observed": observed or {"dtype": "float32", "shape": [1, 1, 2], "values": [1.0, 2.5],
                                 "printed": "(1, 1, 2) float32 [1.0, 2.5]"},
        "channels_last": False, "verdict": verdict, "registry": registry, "code": CODE,
    }


def default_probes() -> dict[str, list[dict[str, Any]]]:
    """Probes of the torch and mxnet backends; the others have none."""
    raised = {"exception": {"type": "TypeError", "module": "builtins",
                            "message": "padding must be | a tuple"}}
    return {
        "torch": [
            probe("torch", "torch.nn.functional", "avg-same", "avg-divisor",
                  "follows:count_include_pad=False", "torch-divides-by-inside-cells"),
            probe("torch", "torch.nn.functional", "avg-padded", "avg-divisor", "follows-oracle"),
            probe("torch", "torch.nn.functional", "pool-same", "same-padding", "unsupported",
                  "torch-no-same-pooling", raised),
            probe("torch", "torch.nn", "avg-same", "avg-divisor", "follows-oracle"),
        ],
        "mxnet": [
            probe("mxnet", "mx.nd", "avg-same", "avg-divisor", "follows-oracle"),
            probe("mxnet", "mx.nd", "bad", "bad-input", "raises"),
        ],
    }


def suite_doc(backend: str, registry: dict[str, str] | None = None,
              failed: int = 0) -> dict[str, Any]:
    """One suite records document; ``registry`` maps entry ids to their status."""
    return {
        "schema": SUITE_SCHEMA, "backend": backend, "version": "1.0", "python": "3.99.1",
        "hypothesis_profile": "ci",
        "counts": {"passed": 5, "failed": failed, "xfailed": len(registry or {}), "xpassed": 0,
                   "skipped": 1, "unsupported": 1, "error": 0},
        "cases_checked": {"conv": 3, "max_pool": 2, "avg_pool": 1},
        "unsupported": {"avg_pool": [{"reason": "no 'same' | padding", "count": 1}]},
        "registry": {i: {"status": s, "reproducer": s,
                         "cases": {"matched": 1, "reproduced": 0, "stale": 0, "excluded": 1,
                                   "indistinct": 0}}
                     for i, s in (registry or {}).items()},
        "unregistered": [], "tests_all_unsupported": [],
    }


def write_records(directory: Path, probes: dict[str, list[dict[str, Any]]] | None = None,
                  suites: dict[str, dict[str, Any]] | None = None,
                  problems: dict[str, list[str]] | None = None) -> Path:
    """Write a complete set of record files to ``directory``; return it."""
    directory.mkdir(parents=True, exist_ok=True)
    probes = default_probes() if probes is None else probes
    suites = suites or {}
    for backend in SUITE_BACKENDS:
        doc = suites.get(backend) or suite_doc(
            backend, {"mxnet-ignores-nan": "reproduced"} if backend == "mxnet" else None)
        (directory / f"suite-{backend}.json").write_text(json.dumps(doc))
    for backend in PROBE_BACKENDS:
        doc = {"schema": PROBE_SCHEMA, "backend": backend, "framework": backend,
               "versions": {backend: "1.0"}, "probes": probes.get(backend, []),
               "problems": (problems or {}).get(backend, [])}
        (directory / f"probes-{backend}.json").write_text(json.dumps(doc))
    return directory


def make_root(root: Path) -> Path:
    """A repository root with a README holding the generated blocks' markers."""
    root.mkdir(parents=True, exist_ok=True)
    parts = ["# project\n", "Intro.\n"]
    for name in ("summary", "same-padding"):
        start, end = markers(name)
        parts.append(f"{start}\n{end}\n")
    parts.append("## More\n")
    (root / "README.md").write_text("\n".join(parts))
    return root


def setup(tmp: Path, registry: str = REGISTRY, **records: Any) -> tuple[Path, Path, Path]:
    """(root, records directory, registry path) of a synthetic repository under ``tmp``
    with the registry text ``registry``."""
    root = make_root(tmp / "root")
    rec = write_records(tmp / "records", **records)
    reg = tmp / "discrepancies.toml"
    reg.write_text(registry)
    return root, rec, reg
