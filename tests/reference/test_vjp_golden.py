"""The backward passes on cases worked out by hand: where max pooling routes its gradient
(ties, NaN, -inf, padding), how overlapping windows add up, the average's divisors, the
seed 004 backward formulas, and the seeds' kernel-learning loop."""

from __future__ import annotations

import numpy as np
import pytest

import reference
from reference.tolerances import learn_kernel_bounds, learn_kernel_contraction
from tests.reference.test_seed_examples import EDGE_Y, edge_image


def as_nchw(a: list) -> np.ndarray:
    """A nested list of spatial values → shape (1, 1, *spatial), float64."""
    arr = np.array(a, dtype=np.float64)
    return arr.reshape(1, 1, *arr.shape)


ONE = np.ones((1, 1, 1, 1))

# --- max pooling: which cell gets the gradient ---------------------------------------------


def test_max_pool_tie_goes_to_the_first_maximum() -> None:
    dx = reference.max_pool_vjp(as_nchw([[3, 3], [1, 3]]), ONE, 2)
    np.testing.assert_array_equal(dx, as_nchw([[1, 0], [0, 0]]))
    dx = reference.max_pool_vjp(as_nchw([[1, 7], [7, 7]]), 5 * ONE, 2)
    np.testing.assert_array_equal(dx, as_nchw([[0, 5], [0, 0]]))


def test_max_pool_tie_order_is_row_major_in_3d() -> None:
    x = np.zeros((1, 1, 2, 2, 2))
    x[0, 0, 1, 0, 0] = x[0, 0, 0, 1, 1] = x[0, 0, 0, 1, 0] = 4  # the first is (0, 1, 0)
    dx = reference.max_pool_vjp(x, np.ones((1, 1, 1, 1, 1)), 2)
    expected = np.zeros_like(x)
    expected[0, 0, 0, 1, 0] = 1
    np.testing.assert_array_equal(dx, expected)


def test_max_pool_nan_window_sends_to_its_first_nan() -> None:
    nan = np.nan
    dx = reference.max_pool_vjp(as_nchw([[1, nan], [5, nan]]), ONE, 2)
    np.testing.assert_array_equal(dx, as_nchw([[0, 1], [0, 0]]))
    # NaN wins over a larger value and over +inf
    dx = reference.max_pool_vjp(as_nchw([[np.inf, 9], [nan, 9]]), ONE, 2)
    np.testing.assert_array_equal(dx, as_nchw([[0, 0], [1, 0]]))


def test_max_pool_minus_inf_windows_and_padding_absorbs_nothing() -> None:
    """All input cells -inf, like the padding: the gradient still goes to the first input
    cell of each window, never to the padding (which would drop it)."""
    x = np.full((1, 1, 3, 3), -np.inf)
    dy = as_nchw([[1, 2], [3, 4]])
    dx = reference.max_pool_vjp(x, dy, 2, stride=2, padding=1)
    np.testing.assert_array_equal(dx, as_nchw([[1, 2, 0], [3, 4, 0], [0, 0, 0]]))
    # a finite cell beats -inf
    x[0, 0, 2, 2] = -1e300
    dx = reference.max_pool_vjp(x, dy, 2, stride=2, padding=1)
    np.testing.assert_array_equal(dx, as_nchw([[1, 2, 0], [3, 0, 0], [0, 0, 4]]))


def test_max_pool_negative_input_with_padding() -> None:
    """Every value below the padding's zero a zero-padded maximum would pick."""
    x = as_nchw([[-5, -1, -7], [-2, -8, -3], [-9, -4, -6]])
    dx = reference.max_pool_vjp(x, as_nchw([[1, 2], [3, 4]]), 2, stride=2, padding=1)
    np.testing.assert_array_equal(dx, as_nchw([[1, 2, 0], [3, 0, 4], [0, 0, 0]]))


def test_max_pool_overlapping_windows_accumulate() -> None:
    x = as_nchw([[0, 0, 0], [0, 9, 0], [0, 0, 0]])
    dx = reference.max_pool_vjp(x, as_nchw([[1, 2], [3, 4]]), 2, stride=1)
    np.testing.assert_array_equal(dx, as_nchw([[0, 0, 0], [0, 10, 0], [0, 0, 0]]))
    # 1-D, stride 1, dilation 2: cells 2 and 3 are each the maximum of two windows
    x = as_nchw([1, 0, 8, 2, 3, 1])
    dx = reference.max_pool_vjp(x, as_nchw([1, 10, 100, 1000]), 2, stride=1, dilation=2)
    # windows: (0, 2) → 2, (1, 3) → 3, (2, 4) → 2, (3, 5) → 3
    np.testing.assert_array_equal(dx, as_nchw([0, 0, 101, 1010, 0, 0]))


def test_max_pool_integer_routing_in_the_input_dtype() -> None:
    """2**53 and 2**53 + 1 are one float64: the comparison is made in int64."""
    x = np.array([[[2**53, 2**53 + 1]]], dtype=np.int64)
    dx = reference.max_pool_vjp(x, np.array([[[3]]]), 2)
    np.testing.assert_array_equal(dx, [[[0.0, 3.0]]])
    assert dx.dtype == np.float64


def test_max_pool_ceil_mode_overhang_absorbs_nothing() -> None:
    x = as_nchw([1, 5, 2, 7, -3])
    dx = reference.max_pool_vjp(x, as_nchw([1, 2, 3]), 2, ceil_mode=True)
    # windows (0, 1) → 1, (2, 3) → 3, (4, overhang) → 4
    np.testing.assert_array_equal(dx, as_nchw([0, 1, 0, 2, 3]))


# --- average pooling: shares and divisors ---------------------------------------------------

def test_avg_pool_overlapping_windows_accumulate() -> None:
    dx = reference.avg_pool_vjp(as_nchw([0, 0, 0, 0]), as_nchw([3, 6]), 3, stride=1)
    np.testing.assert_array_equal(dx, as_nchw([1, 3, 3, 2]))


@pytest.mark.parametrize(("include_pad", "expected"), [(True, [4, 6, 4]), (False, [5, 8, 5])])
def test_avg_pool_divisor_with_padding(include_pad: bool, expected: list) -> None:
    """k3 s1 p1 on 3 cells: the end windows hold 2 input cells and 1 padding cell."""
    dx = reference.avg_pool_vjp(as_nchw([1, 2, 3]), as_nchw([6, 6, 6]), 3, stride=1,
                                padding=1, count_include_pad=include_pad)
    np.testing.assert_array_equal(dx, as_nchw(expected))


@pytest.mark.parametrize("include_pad", [True, False])
def test_avg_pool_ceil_mode_cells_never_count(include_pad: bool) -> None:
    """The last window of k2 s2 on 5 cells overhangs by one cell that ceil mode adds:
    its divisor is 1 whatever ``count_include_pad``."""
    dx = reference.avg_pool_vjp(as_nchw([0, 0, 0, 0, 0]), as_nchw([2, 4, 6]), 2,
                                ceil_mode=True, count_include_pad=include_pad)
    np.testing.assert_array_equal(dx, as_nchw([1, 1, 2, 2, 6]))


def test_avg_pool_same_padding_counts_as_padding() -> None:
    """"same" k2 s1 on 3 cells pads one cell at the end: the last window (cell 2 and that
    padding cell) divides by 2 with count_include_pad, by 1 without."""
    dy = as_nchw([4, 4, 4])
    counted = reference.avg_pool_vjp(as_nchw([0, 0, 0]), dy, 2, stride=1, padding="same")
    np.testing.assert_array_equal(counted, as_nchw([2, 4, 4]))
    not_counted = reference.avg_pool_vjp(as_nchw([0, 0, 0]), dy, 2, stride=1, padding="same",
                                         count_include_pad=False)
    np.testing.assert_array_equal(not_counted, as_nchw([2, 4, 6]))


# --- convolution by hand -------------------------------------------------------------------

def test_conv_vjp_1d_stride_padding_by_hand() -> None:
    """x of 4 cells, w = [1, 2, 3], stride 2, padding 1: windows over padded cells
    (0, 1, 2) and (2, 3, 4), i.e. input cells (-, 0, 1) and (1, 2, 3)."""
    x, w, dy = as_nchw([1, 2, 3, 4]), as_nchw([1, 2, 3]), as_nchw([10, 100])
    dx, dw, db = reference.conv_vjp(x, w, dy, stride=2, padding=1)
    np.testing.assert_array_equal(dx, as_nchw([20, 30 + 100, 200, 300]))
    np.testing.assert_array_equal(dw, as_nchw([0 * 10 + 2 * 100, 1 * 10 + 3 * 100,
                                               2 * 10 + 4 * 100]))
    np.testing.assert_array_equal(db, [110])


def test_conv_vjp_depthwise_by_hand() -> None:
    x = np.array([[[1.0, 2.0], [3.0, 4.0]]])           # (1, 2, 2)
    w = np.array([[[10.0]], [[100.0]]])                 # (2, 1, 1), groups 2
    dy = np.array([[[1.0, -1.0], [2.0, 5.0]]])
    dx, dw, db = reference.conv_vjp(x, w, dy, groups=2)
    np.testing.assert_array_equal(dx, [[[10.0, -10.0], [200.0, 500.0]]])
    np.testing.assert_array_equal(dw, [[[1.0 - 2.0]], [[6.0 + 20.0]]])
    np.testing.assert_array_equal(db, [0.0, 7.0])


# --- seed 004: the backward pass written by hand ------------------------------------------

def test_seed_004_pooling_residual_1234() -> None:
    """Seed 004: a residual [[1, 2], [3, 4]] behind 2×2 pooling goes, for the maximum, to
    where each window's maximum was, the other three cells getting 0; for the mean, a
    quarter to each of the window's four cells."""
    x = as_nchw([[1, 9, 0, 0], [2, 3, 0, 8], [7, 1, 5, 5], [6, 7, 5, 5]])
    dy = as_nchw([[1, 2], [3, 4]])
    np.testing.assert_array_equal(
        reference.max_pool_vjp(x, dy, 2),
        as_nchw([[0, 1, 0, 0], [0, 0, 0, 2], [3, 0, 4, 0], [0, 0, 0, 0]]))
    np.testing.assert_array_equal(
        reference.avg_pool_vjp(x, dy, 2),
        as_nchw([[0.25, 0.25, 0.5, 0.5], [0.25, 0.25, 0.5, 0.5],
                 [0.75, 0.75, 1, 1], [0.75, 0.75, 1, 1]]))


def seed_max_pool_backward(x: np.ndarray, dy: np.ndarray, k: int) -> np.ndarray:
    """Seed 004's pooling method 2: img2col, ``np.argmax`` per window, the gradient put
    at the arg-max, col2img back (2-D, stride = kernel, no padding)."""
    n, c, h, w = x.shape
    oh, ow = h // k, w // k
    col = np.array([x[i, j, a * k:a * k + k, b * k:b * k + k].reshape(-1)
                    for i in range(n) for j in range(c) for a in range(oh) for b in range(ow)])
    arg_max = np.argmax(col, axis=1)
    dmax = np.zeros_like(col)
    dmax[np.arange(arg_max.size), arg_max] = dy.reshape(-1)
    dx = np.zeros_like(x)
    for row, (i, j, a, b) in enumerate(np.ndindex(n, c, oh, ow)):
        dx[i, j, a * k:a * k + k, b * k:b * k + k] += dmax[row].reshape(k, k)
    return dx


def test_seed_004_max_pool_argmax_backward_with_ties() -> None:
    rng = np.random.default_rng(4)
    x = rng.integers(0, 3, size=(2, 3, 6, 8)).astype(np.float64)  # ties in most windows
    dy = rng.integers(-9, 10, size=(2, 3, 3, 4)).astype(np.float64)
    np.testing.assert_array_equal(reference.max_pool_vjp(x, dy, 2),
                                  seed_max_pool_backward(x, dy, 2))


@pytest.mark.parametrize(("stride", "padding"), [(1, 0), (2, 0), (2, 1), (3, 2)])
def test_seed_004_conv_backward_rotate_180(stride: int, padding: int) -> None:
    """Seed 004's method 1: stride > 1 becomes stride 1 by zero-stuffing the output
    gradient (``expand_delta_map``); the weight gradient is the padded input correlated
    with it; the input gradient is it, padded by k - 1, correlated with the kernel rotated
    by 180° (in and out channels swapped); the bias gradient is its sum. Batch 1: the
    seed's mean over the batch is then the plain sum."""
    rng = np.random.default_rng(stride * 10 + padding)
    x = rng.integers(-5, 6, size=(1, 2, 7, 8)).astype(np.float64)
    w = rng.integers(-5, 6, size=(3, 2, 3, 2)).astype(np.float64)
    y = reference.conv(x, w, stride=stride, padding=padding)
    dy = rng.integers(-5, 6, size=y.shape).astype(np.float64)
    (oh, ow), (kh, kw) = y.shape[2:], w.shape[2:]
    stuffed = np.zeros((1, 3, (oh - 1) * stride + 1, (ow - 1) * stride + 1))
    stuffed[:, :, ::stride, ::stride] = dy
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dw = np.array([[reference.corr2d(xp[0, c], stuffed[0, o])[:kh, :kw] for c in range(2)]
                   for o in range(3)])
    rotated = w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)
    full = reference.conv(np.pad(stuffed, ((0, 0), (0, 0), (kh - 1,) * 2, (kw - 1,) * 2)),
                          rotated)
    dxp = np.zeros_like(xp)
    dxp[:, :, :full.shape[2], :full.shape[3]] = full
    dx = dxp[:, :, padding:padding + 7, padding:padding + 8]
    got_dx, got_dw, got_db = reference.conv_vjp(x, w, dy, stride=stride, padding=padding)
    np.testing.assert_array_equal(got_dx, dx)
    np.testing.assert_array_equal(got_dw, dw)
    np.testing.assert_array_equal(got_db, dy.sum(axis=(0, 2, 3)))


# --- the seeds' kernel learning ----------------------------------------------------------

def learn_by_hand(X: np.ndarray, Y: np.ndarray, K: np.ndarray, lr: float, steps: int
                  ) -> tuple[list[np.ndarray], list[float]]:
    """The seeds' loop with ``corr2d`` and the gradient derived by hand:
    ``dloss/dK[a, b] = sum over i, j of 2 * (Yhat - Y)[i, j] * X[i + a, j + b]``."""
    kernels, losses = [K], []
    for _ in range(steps):
        err = reference.corr2d(X, K) - Y
        losses.append(float((err**2).sum()))
        grad = np.zeros_like(K)
        for a in range(K.shape[0]):
            for b in range(K.shape[1]):
                for i in range(err.shape[0]):
                    for j in range(err.shape[1]):
                        grad[a, b] += 2 * err[i, j] * X[i + a, j + b]
        K = K - lr * grad
        kernels.append(K)
    return kernels, losses


@pytest.mark.parametrize("seed", range(3))
def test_learn_kernel_equals_the_loop_by_hand(seed: int) -> None:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((5, 7))
    K_true = rng.standard_normal((2, 3))
    Y = reference.corr2d(X, K_true)
    init = rng.standard_normal((2, 3))
    kernels, losses = reference.learn_kernel(X, Y, init, lr=0.01, steps=6)
    expected_k, expected_l = learn_by_hand(X, Y, init, 0.01, 6)
    assert kernels.shape == (7, 2, 3) and losses.shape == (6,)
    np.testing.assert_array_equal(kernels[0], init)
    k_bound, l_bound = learn_kernel_bounds(X, Y, kernels, losses, 0.01, dtype="float64")
    assert (np.abs(np.stack(expected_k) - kernels) <= k_bound).all()
    assert (np.abs(np.asarray(expected_l) - losses) <= l_bound).all()


@pytest.mark.parametrize("seed", range(5))
def test_learn_kernel_finds_the_edge_detector_as_the_seeds_print(seed: int) -> None:
    """Seeds 000-003: from a random kernel (PyTorch's default init for a 1×2 kernel,
    uniform in ±1/sqrt(2)), 10 steps of lr 3e-2 on the edge image reach about [[1, -1]]:
    the seeds print [[0.9782, -0.9931]], [[0.9347, -1.0316]], [[0.9895, -0.9874]] and
    a loss going down to 0.004-0.228 at step 10."""
    init = np.random.default_rng(seed).uniform(-1, 1, (1, 2)) / np.sqrt(2)
    kernels, losses = reference.learn_kernel(edge_image(), EDGE_Y, init)
    assert kernels.shape == (11, 1, 2)
    # every step shrinks the distance to the edge detector at least by the loop's
    # contraction, up to the float64 rounding of the steps themselves
    rho = learn_kernel_contraction(edge_image(), (1, 2), 0.03)
    assert rho < 1
    k_bound, _ = learn_kernel_bounds(edge_image(), EDGE_Y, kernels, losses, 0.03,
                                     dtype="float64")
    distance = np.linalg.norm((kernels - [[1.0, -1.0]]).reshape(11, -1), axis=1)
    slack = np.linalg.norm(k_bound.reshape(11, -1), axis=1)
    assert (distance <= rho ** np.arange(11) * distance[0] + slack).all()
    assert (np.diff(losses) < 0).all()


def test_learn_kernel_from_the_answer_stays_there() -> None:
    kernels, losses = reference.learn_kernel(edge_image(), EDGE_Y, [[1.0, -1.0]], steps=3)
    np.testing.assert_array_equal(kernels, np.tile([[1.0, -1.0]], (4, 1, 1)))
    np.testing.assert_array_equal(losses, [0.0, 0.0, 0.0])


def test_learn_kernel_zero_steps() -> None:
    kernels, losses = reference.learn_kernel(edge_image(), EDGE_Y, [[0.5, 0.5]], steps=0)
    np.testing.assert_array_equal(kernels, [[[0.5, 0.5]]])
    assert losses.shape == (0,)
