"""Which registry entry explains each probe that does not follow the oracle.

Keys are (report column, case key), or a full probe id (``api:case``) where one column
calls two APIs that behave differently; values are ids in ``tests/discrepancies.toml``.
A probe whose verdict is a difference and that has no key here fails the run as an
unregistered difference; a probe listed here that follows the oracle fails it as stale.
An entry whose ``cpu`` requirements this machine does not meet counts as absent.
"""

from __future__ import annotations

TORCH_F = "torch.nn.functional"
TORCH_NN = "torch.nn"
TF = "tf.nn"
KERAS_TF = "keras.layers (TF)"
KERAS_TORCH = "keras.layers (torch)"
KERAS_JAX = "keras.layers (jax)"
MX_ND = "mx.nd"
GLUON = "mxnet.gluon.nn"
KERAS = (KERAS_TF, KERAS_TORCH, KERAS_JAX)


def _each(columns: tuple[str, ...], cases: tuple[str, ...], entry: str
          ) -> dict[tuple[str, str], str]:
    return {(c, k): entry for c in columns for k in cases}


EXPECTED: dict[tuple[str, str] | str, str] = {
    # ------------------------------------------------------------------ PyTorch
    **_each((TORCH_F, TORCH_NN), ("conv-same-stride-2", "conv-same-strided"),
            "torch-conv-same-strided-rejected"),
    **_each((TORCH_F, TORCH_NN), ("max-pool-same-even", "avg-pool-same-stride-2",
                                  "avg-pool-same-edge",
                                  "avg-pool-same-divisor", "max-pool-same-negative"),
            "torch-pool-no-same-padding"),
    **_each((TORCH_F, KERAS_TORCH), ("max-pool-int32",), "torch-max-pool-integer-unsupported"),
    (TORCH_F, "avg-pool-int64"): "torch-avg-pool-int64-truncates",
    **_each((TORCH_F, TORCH_NN), ("avg-pool-dilation",), "torch-avg-pool-no-dilation"),
    **_each((TORCH_F, TORCH_NN), ("conv-asymmetric-padding",),
            "torch-conv-no-asymmetric-padding"),
    (TORCH_F, "max-pool-asymmetric-padding"): "torch-pool-no-asymmetric-padding",
    **_each((TORCH_F, TORCH_NN), ("max-pool-pad-over-half",),
            "torch-pool-padding-over-half-rejected"),
    # --------------------------------------------------------------- TensorFlow
    **_each((TF,), ("avg-pool-same-stride-2", "avg-pool-same-divisor", "avg-pool-same-edge"),
            "tensorflow-avg-pool-same-divisor"),
    (TF, "avg-pool-padded-default-divisor"): "tensorflow-avg-pool-no-explicit-padding",
    "tf.nn.max_pool1d:max-pool-default-stride": "tensorflow-pool-strides-required",
    "tf.nn.avg_pool1d:avg-pool-default-stride": "tensorflow-pool-strides-required",
    "tf.nn.pool:max-pool-default-stride": "tensorflow-nn-pool-default-stride-one",
    "tf.nn.pool:avg-pool-default-stride": "tensorflow-nn-pool-default-stride-one",
    **_each((TF, *KERAS), ("max-pool-ceil", "avg-pool-ceil-divisor",
                           "max-pool-ceil-last-window"), "tensorflow-keras-no-ceil-mode"),
    **_each((TF, KERAS_TF), ("max-pool-nan",), "tensorflow-max-pool-drops-nan"),
    **_each((TF, KERAS_TF), ("max-pool-minus-inf",),
            "tensorflow-max-pool-minus-inf-becomes-lowest"),
    **_each((TF, KERAS_TF), ("avg-pool-int64",), "tensorflow-avg-pool-integer-unsupported"),
    (TF, "conv-negative-padding"): "tensorflow-conv-negative-padding-unchecked",
    **_each((TF, KERAS_TF), ("conv-empty-batch",), "tensorflow-conv-empty-batch-wrong-shape"),
    (TF, "max-pool-dilated-padded-negative"): "tensorflow-pool-dilated-explicit-padding-zero-fill",
    **_each((TF,), ("conv-other-layout", "max-pool-other-layout"),
            "tensorflow-cpu-nhwc-only-without-onednn"),
    (KERAS_TF, "conv-other-layout"): "tensorflow-cpu-nhwc-only-without-onednn",
    **_each((TF, KERAS_TF), ("max-pool-kernel-larger",),
            "tensorflow-max-pool-kernel-larger-empty-output"),
    # -------------------------------------------------------------------- Keras
    **_each(KERAS, ("avg-pool-same-stride-2", "avg-pool-same-divisor"),
            "keras-avg-pool-same-divisor"),
    **_each((KERAS_TF, KERAS_JAX), ("avg-pool-same-edge",), "keras-avg-pool-same-divisor"),
    (KERAS_TORCH, "avg-pool-same-edge"): "keras-torch-avg-pool-same-replicate-padding",
    **_each(KERAS, ("avg-pool-padded-default-divisor", "max-pool-padded-negative",
                    "conv-asymmetric-padding", "max-pool-asymmetric-padding"),
            "keras-no-explicit-padding"),
    **_each(KERAS, ("max-pool-dilated-padded-negative", "max-pool-dilation",
                    "avg-pool-dilation"), "keras-pool-no-dilation"),
    (KERAS_TORCH, "avg-pool-int64"): "keras-torch-avg-pool-int64-truncates",
    (KERAS_TORCH, "conv-int32"): "keras-torch-conv-integer-unsupported",
    # -------------------------------------------------------------------- MXNet
    **_each((MX_ND, GLUON), ("conv-same-even-kernel", "conv-same-stride-2",
                             "conv-same-dilation", "avg-pool-same-stride-2",
                             "avg-pool-same-edge",
                             "conv-same-strided", "avg-pool-same-divisor",
                             "max-pool-same-negative"), "mxnet-no-same-padding"),
    (GLUON, "max-pool-same-even"): "mxnet-no-same-padding",
    (MX_ND, "max-pool-same-even"): "mxnet-pooling-same-convention-raises",
    (MX_ND, "max-pool-default-stride"): "mxnet-pooling-default-stride-one",
    (MX_ND, "avg-pool-default-stride"): "mxnet-avg-pooling-default-stride-one",
    **_each((MX_ND, GLUON), ("max-pool-ceil-last-window",),
            "mxnet-max-pool-full-convention-keeps-padding-window"),
    (MX_ND, "max-pool-nan"): "mxnet-max-pool-ignores-nan",
    (MX_ND, "max-pool-minus-inf"): "mxnet-max-pool-minus-inf-becomes-lowest",
    **_each((MX_ND,), ("conv-int32", "max-pool-int32", "avg-pool-int64"),
            "mxnet-integer-unsupported"),
    (MX_ND, "conv-float16"): "mxnet-conv-float16-cpu-unsupported",
    **_each((MX_ND,), ("conv-bfloat16", "max-pool-bfloat16", "avg-pool-bfloat16"),
            "mxnet-no-bfloat16"),
    **_each((MX_ND, GLUON), ("max-pool-dilated-padded-negative", "max-pool-dilation",
                             "avg-pool-dilation"), "mxnet-pool-no-dilation"),
    **_each((MX_ND, GLUON), ("conv-asymmetric-padding", "max-pool-asymmetric-padding"),
            "mxnet-no-asymmetric-padding"),
    (MX_ND, "conv-other-layout"): "mxnet-conv-nhwc-cpu-unsupported",
    **_each((MX_ND,), ("conv-empty-batch", "max-pool-empty-batch"),
            "mxnet-empty-batch-raises"),
}


def _from_entry_files() -> dict[tuple[str, str] | str, str]:
    """Probe links of the registry entry files (``registry/entries/*.toml``): each entry's
    ``probes = { "<report column or exact api>" = ["case-key", ...] }``."""
    from pathlib import Path

    from tests.support.registry import tomllib

    links: dict[tuple[str, str] | str, str] = {}
    for path in sorted((Path(__file__).resolve().parent.parent / "registry" / "entries")
                       .glob("*.toml")):
        for table in tomllib.loads(path.read_text()).get("discrepancy", []):
            for where, cases in table.get("probes", {}).items():
                for case in cases:
                    links[(where, case)] = table["id"]
                    links[f"{where}:{case}"] = table["id"]
    return links


EXPECTED.update(_from_entry_files())


def expected_entry(probe_id: str, column: str, case: str) -> str | None:
    """The registry id that explains probe ``probe_id`` if it differs, or None."""
    return EXPECTED.get(probe_id, EXPECTED.get((column, case)))
