"""Every worked example of the seed documents, with the output the seeds print.

Each example is checked through the seed loop functions (where the seed used one) and
through the fast API (``conv``, ``max_pool``, ``avg_pool``) with the layout the seed's
framework call amounts to, channels first.
"""

from __future__ import annotations

import numpy as np
import pytest

import reference

X33 = np.array([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
K22 = np.array([[0.0, 1.0], [2.0, 3.0]])
X_2CH = np.stack([X33, X33 + 1])
K_2CH = np.stack([K22, K22 + 1])
K_3OUT = np.stack([K_2CH, K_2CH + 1, K_2CH + 2])
Y_3OUT = np.array([[[56.0, 72.0], [104.0, 120.0]],
                   [[76.0, 100.0], [148.0, 172.0]],
                   [[96.0, 128.0], [192.0, 224.0]]])


def edge_image() -> np.ndarray:
    """The 6×8 image of seeds 000-003: ones with a band of zeros in columns 2..5."""
    x = np.ones((6, 8))
    x[:, 2:6] = 0
    return x


EDGE_Y = np.array([[0.0, 1.0, 0.0, 0.0, 0.0, -1.0, 0.0]] * 6)


def as_batch(x: np.ndarray) -> np.ndarray:
    """(h, w) → (1, 1, h, w); (C, h, w) → (1, C, h, w)."""
    return x.reshape((1,) * (4 - x.ndim) + x.shape)


def test_corr2d_19_25_37_43() -> None:
    expected = np.array([[19.0, 25.0], [37.0, 43.0]])
    np.testing.assert_array_equal(reference.corr2d(X33, K22), expected)
    np.testing.assert_array_equal(reference.conv(as_batch(X33), as_batch(K22))[0, 0], expected)


def test_corr2d_integer_inputs_as_in_seed_000() -> None:
    x = np.array([[0, 1, 2], [3, 4, 5], [6, 7, 8]])
    k = np.array([[0, 1], [2, 3]])
    np.testing.assert_array_equal(reference.corr2d(x, k), [[19.0, 25.0], [37.0, 43.0]])
    y = reference.conv(as_batch(x), as_batch(k))
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y[0, 0], [[19.0, 25.0], [37.0, 43.0]])


def test_edge_detection_with_1_minus_1() -> None:
    x, k = edge_image(), np.array([[1.0, -1.0]])
    np.testing.assert_array_equal(reference.corr2d(x, k), EDGE_Y)
    np.testing.assert_array_equal(reference.conv(as_batch(x), as_batch(k))[0, 0], EDGE_Y)


def test_edge_kernel_sees_no_edge_in_the_transposed_image() -> None:
    x, k = edge_image().T, np.array([[1.0, -1.0]])
    np.testing.assert_array_equal(reference.corr2d(x, k), np.zeros((8, 5)))
    np.testing.assert_array_equal(reference.conv(as_batch(x), as_batch(k))[0, 0],
                                  np.zeros((8, 5)))


def test_learned_edge_kernel_reproduces_y_when_exact() -> None:
    # Seed 002 §6.2.4 learns K from (X, Y); the exact kernel gives Y with zero loss.
    x = edge_image()
    y = reference.conv(as_batch(x), np.array([1.0, -1.0]).reshape(1, 1, 1, 2))
    np.testing.assert_array_equal(y[0, 0], EDGE_Y)


@pytest.mark.parametrize(
    ("in_shape", "kernel", "stride", "padding", "out_shape"),
    [
        # 002 In[17] / 001 In[33] / 003: k3 p1 (Keras 'same') keeps 8×8
        ((8, 8), 3, 1, 1, (8, 8)),
        ((8, 8), 3, 1, "same", (8, 8)),
        # 002 In[18] / 001 In[34] / 003: k(5,3) p(2,1) keeps 8×8
        ((8, 8), (5, 3), 1, (2, 1), (8, 8)),
        ((8, 8), (5, 3), 1, "same", (8, 8)),
        # 002 In[19] / 001 In[36] / 003: stride 2 halves it
        ((8, 8), 3, 2, 1, (4, 4)),
        ((8, 8), 3, 2, "same", (4, 4)),
        # 001 In[37] / 003: k(3,5) p(0,1) s(3,4) → 2×2
        ((8, 8), (3, 5), (3, 4), (0, 1), (2, 2)),
        # 002 In[20]: k(3,5) valid s(3,4) → 2×1
        ((8, 8), (3, 5), (3, 4), "valid", (2, 1)),
        # 000 In[202], In[204], In[205]: the 6×8 image
        ((6, 8), (3, 5), (3, 4), "valid", (2, 1)),
        ((6, 8), (3, 5), (3, 4), "same", (2, 2)),
        ((6, 8), (3, 5), (10, 10), "valid", (1, 1)),
    ],
)
def test_padding_and_stride_output_shapes(in_shape: tuple[int, int], kernel: object,
                                          stride: object, padding: object,
                                          out_shape: tuple[int, int]) -> None:
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    x = np.random.default_rng(0).uniform(size=(1, 1, *in_shape))
    y = reference.conv(x, np.ones((1, 1, kh, kw)), stride=stride, padding=padding)
    assert y.shape == (1, 1, *out_shape)


def test_strided_padded_conv_of_the_d2l_stride_figure() -> None:
    # 003 §2.2 (fig. 5.3): 3×3 input, padding 1, stride (3, 2); shaded outputs 8 and 6.
    y = reference.conv(as_batch(X33), as_batch(K22), padding=1, stride=(3, 2))
    np.testing.assert_array_equal(y[0, 0], [[0.0, 8.0], [6.0, 8.0]])


def test_multi_input_channels_56_72_104_120() -> None:
    expected = np.array([[56.0, 72.0], [104.0, 120.0]])
    np.testing.assert_array_equal(reference.corr2d_multi_in(X_2CH, K_2CH), expected)
    np.testing.assert_array_equal(reference.conv(X_2CH[None], K_2CH[None])[0, 0], expected)


def test_multi_input_multi_output_channels() -> None:
    assert K_3OUT.shape == (3, 2, 2, 2)
    np.testing.assert_array_equal(reference.corr2d_multi_in_out(X_2CH, K_3OUT), Y_3OUT)
    np.testing.assert_array_equal(reference.conv(X_2CH[None], K_3OUT)[0], Y_3OUT)


def test_1x1_convolution_is_a_matrix_product() -> None:
    rng = np.random.default_rng(3)
    x = rng.integers(-9, 10, size=(3, 3, 3)).astype(np.float64)
    k = rng.integers(-9, 10, size=(2, 3, 1, 1)).astype(np.float64)
    y1 = reference.corr2d_multi_in_out_1x1(x, k)
    y2 = reference.corr2d_multi_in_out(x, k)
    y3 = reference.conv(x[None], k)[0]
    expected = np.einsum("oc,chw->ohw", k[:, :, 0, 0], x)
    np.testing.assert_array_equal(y1, expected)
    np.testing.assert_array_equal(y2, expected)
    np.testing.assert_array_equal(y3, expected)


def test_pool2d_max_4_5_7_8() -> None:
    expected = np.array([[4.0, 5.0], [7.0, 8.0]])
    np.testing.assert_array_equal(reference.pool2d(X33, (2, 2)), expected)
    np.testing.assert_array_equal(reference.max_pool(as_batch(X33), 2, stride=1)[0, 0],
                                  expected)


def test_pool2d_avg_2_3_5_6() -> None:
    expected = np.array([[2.0, 3.0], [5.0, 6.0]])
    np.testing.assert_array_equal(reference.pool2d(X33, (2, 2), "avg"), expected)
    np.testing.assert_array_equal(reference.avg_pool(as_batch(X33), 2, stride=1)[0, 0],
                                  expected)


ARANGE16 = np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4)


def test_max_pool_default_stride_is_the_kernel_10() -> None:
    # 002 In[32], 001 In[22], 000 In[230]
    np.testing.assert_array_equal(reference.max_pool(ARANGE16, 3), [[[[10.0]]]])


def test_max_pool_padding_1_stride_2_gives_5_7_13_15() -> None:
    # 001 In[23]: nn.MaxPool2d(3, padding=1, stride=2)
    expected = [[[[5.0, 7.0], [13.0, 15.0]]]]
    np.testing.assert_array_equal(reference.max_pool(ARANGE16, 3, padding=1, stride=2),
                                  expected)
    # 002 In[33]: tf.pad (1, 0) on both spatial dims, then k3 s2 valid
    np.testing.assert_array_equal(
        reference.max_pool(ARANGE16, 3, padding=((1, 0), (1, 0)), stride=2), expected)


def test_max_pool_2x3_window_padding_0_1_stride_2_3() -> None:
    # 002 In[34]: tf.pad (0, 0) rows, (1, 1) columns, window (2, 3), stride (2, 3)
    np.testing.assert_array_equal(
        reference.max_pool(ARANGE16, (2, 3), padding=(0, 1), stride=(2, 3)),
        [[[[5.0, 7.0], [13.0, 15.0]]]])


def test_max_pool_2x3_window_padding_1_1_stride_2_3() -> None:
    # 001 In[24]: nn.MaxPool2d((2, 3), padding=(1, 1), stride=(2, 3))
    np.testing.assert_array_equal(
        reference.max_pool(ARANGE16, (2, 3), padding=(1, 1), stride=(2, 3)),
        [[[[1.0, 3.0], [9.0, 11.0], [13.0, 15.0]]]])


def test_max_pool_stride_2_1_on_int32() -> None:
    # 000 In[384]: int32 input, window 3, strides (2, 1) → [[10, 11]] int32
    x = np.arange(16, dtype=np.int32).reshape(1, 1, 4, 4)
    y = reference.max_pool(x, 3, stride=(2, 1))
    assert y.dtype == np.int32
    np.testing.assert_array_equal(y, [[[[10, 11]]]])
    np.testing.assert_array_equal(reference.max_pool(x, 3), [[[[10]]]])


def test_max_pool_same_stride_2_pads_at_the_end() -> None:
    # 000 In[320]: TF 'same', window 3, stride 2 on 4×4 → [[10, 11], [14, 15]]: the one
    # padding cell goes after the input, so the first window is rows/cols 0..2.
    x = np.arange(16, dtype=np.int32).reshape(1, 1, 4, 4)
    y = reference.max_pool(x, 3, stride=2, padding="same")
    np.testing.assert_array_equal(y, [[[[10, 11], [14, 15]]]])
    assert reference.resolve_padding("same", (4, 4), (3, 3), (2, 2), (1, 1)) == ((0, 1),) * 2


def test_two_channel_pooling() -> None:
    x = np.concatenate([ARANGE16, ARANGE16 + 1], axis=1)
    # 001 In[32] / 002 In[36]
    np.testing.assert_array_equal(
        reference.max_pool(x, 3, padding=1, stride=2),
        [[[[5.0, 7.0], [13.0, 15.0]], [[6.0, 8.0], [14.0, 16.0]]]])
    np.testing.assert_array_equal(
        reference.max_pool(x, 3, padding=((1, 0), (1, 0)), stride=2),
        [[[[5.0, 7.0], [13.0, 15.0]], [[6.0, 8.0], [14.0, 16.0]]]])
    # 000 In[390]: window 3, valid, stride 1
    np.testing.assert_array_equal(
        reference.max_pool(x.astype(np.int32), 3, stride=1),
        [[[[10, 11], [14, 15]], [[11, 12], [15, 16]]]])


def test_pool2d_seed_equals_api_on_each_channel() -> None:
    x = np.concatenate([ARANGE16, ARANGE16 + 1], axis=1)
    for mode, api in (("max", reference.max_pool), ("avg", reference.avg_pool)):
        y = api(x, (2, 3), stride=1)
        for c in range(2):
            np.testing.assert_array_equal(y[0, c], reference.pool2d(x[0, c], (2, 3), mode))
