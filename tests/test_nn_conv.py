"""Convolution, pooling, batch norm and Conv-4 of reference.nn: values, VJPs, dtypes, errors."""

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad
from autograd.test_util import check_grads
from scipy.signal import correlate

from reference import nn


@pytest.mark.parametrize("padding,k", [("same", 3), ("valid", 3), ("same", 2), ("valid", (2, 4))])
def test_conv2d_matches_scipy_correlate(rng, padding, k):
    kh, kw = (k, k) if np.isscalar(k) else k
    x = rng.normal(size=(2, 7, 6, 3))
    w = rng.normal(size=(kh, kw, 3, 4))
    b = rng.normal(size=4)
    y = nn.conv2d(x, w, b, padding=padding)
    # independent reference: full correlation over (H, W, C), then crop
    if padding == "same":
        xp = np.pad(x, ((0, 0), ((kh - 1) // 2, kh // 2), ((kw - 1) // 2, kw // 2), (0, 0)))
    else:
        xp = x
    ref = np.stack([np.stack([correlate(xp[n], w[..., o], mode="valid")[..., 0]
                              for o in range(4)], -1) for n in range(2)]) + b
    assert y.shape == ref.shape
    assert np.allclose(y, ref)


def test_conv2d_vjps_match_finite_differences(rng):
    x = rng.normal(size=(2, 5, 4, 3))
    w = rng.normal(size=(3, 3, 3, 2))
    b = rng.normal(size=2)
    for padding in ("same", "valid"):
        f = lambda x, w, b: nn.conv2d(x, w, b, padding=padding)
        check_grads(f, modes=["rev"], order=1)(x, w, b)
    check_grads(lambda w: nn.conv2d(x, w[:2], padding="same"), modes=["rev"], order=1)(
        rng.normal(size=(3, 3, 3, 2)))


@pytest.mark.parametrize("H,W", [(7, 7), (3, 3), (4, 6), (2, 2)])
def test_max_pool_values_sizes_and_vjp(rng, H, W):
    x = rng.normal(size=(2, H, W, 3))
    y = nn.max_pool2d(x)
    assert y.shape == (2, H // 2, W // 2, 3)
    i, j = 2 * (H // 2 - 1), 2 * (W // 2 - 1)
    assert np.isclose(y[1, -1, -1, 2], x[1, i:i + 2, j:j + 2, 2].max())
    check_grads(nn.max_pool2d, modes=["rev"], order=1)(x)
    # the floored row/column gets no gradient
    g = grad(lambda x: anp.sum(nn.max_pool2d(x)))(x)
    if H % 2:
        assert np.all(g[:, -1] == 0)


def test_max_pool_ties_go_to_the_first_maximum():
    x = np.zeros((1, 2, 2, 1))
    g = grad(lambda x: anp.sum(nn.max_pool2d(x)))(x)
    assert g[0, :, :, 0].tolist() == [[1.0, 0.0], [0.0, 0.0]]
    x = np.array([[0.0, 2.0], [2.0, 1.0]]).reshape(1, 2, 2, 1)
    g = grad(lambda x: anp.sum(nn.max_pool2d(x)))(x)
    assert g[0, :, :, 0].tolist() == [[0.0, 1.0], [0.0, 0.0]]


@pytest.mark.parametrize("shape", [(6, 3), (1, 5, 4, 3), (4, 3, 2, 3)])
def test_batch_norm_batch_mode_normalises_and_its_vjp(rng, shape):
    x = rng.normal(2.0, 3.0, size=shape)
    gamma, beta = rng.normal(size=3), rng.normal(size=3)
    y = nn.batch_norm(x, gamma, beta, eps=1e-9)
    axes = tuple(range(len(shape) - 1))
    assert np.allclose(y.mean(axes), beta)
    assert np.allclose(y.std(axes), np.abs(gamma), rtol=1e-6)
    check_grads(lambda x, g, b: nn.batch_norm(x, g, b), modes=["rev"], order=1)(x, gamma, beta)


def test_batch_norm_of_a_single_vector_is_beta(rng):
    beta = rng.normal(size=4)
    x = rng.normal(size=(1, 4))
    assert np.allclose(nn.batch_norm(x, np.ones(4), beta), beta)
    check_grads(lambda x: nn.batch_norm(x, np.ones(4), beta), modes=["rev"], order=1)(x)


def test_batch_norm_running_mode_and_running_averages(rng):
    x = rng.normal(size=(10, 3))
    mean, var = nn.batch_stats(x)
    assert np.allclose(mean, x.mean(0)) and np.allclose(var, x.var(0))
    # with this batch's own statistics the two modes agree
    assert np.allclose(nn.batch_norm(x, np.ones(3), np.zeros(3), mean=mean, var=var),
                       nn.batch_norm(x, np.ones(3), np.zeros(3)))
    # a fixed mean/var is affine in x: gradient is gamma / sqrt(var + eps)
    g = grad(lambda x: anp.sum(nn.batch_norm(x, 2 * np.ones(3), np.zeros(3), mean=mean,
                                             var=var)))(x)
    assert np.allclose(g, 2 / np.sqrt(var + 1e-5))
    r = nn.update_running(None, (mean, var))
    r = nn.update_running(r, (mean + 1, var), momentum=0.25)
    assert np.allclose(r[0], mean + 0.25) and np.allclose(r[1], var)


def test_conv4_shapes_dtypes_gradients_and_modes(rng):
    for dtype in (np.float32, np.float64):
        p = nn.conv4_init(np.random.default_rng(1), width=8, dtype=dtype)
        x = rng.normal(size=(3, 28, 28)).astype(dtype)
        e = nn.conv4_apply(p, x)
        assert e.shape == (3, 8) and e.dtype == dtype
        g = grad(lambda p: anp.sum(nn.conv4_apply(p, x) ** 2))(p)
        assert all(v.dtype == dtype for blk in g for v in blk.values())
    stats = nn.conv4_stats(p, x)
    assert len(stats) == 4 and stats[0][0].shape == (8,)
    # with the statistics of this very batch, running mode reproduces batch mode
    assert np.allclose(nn.conv4_apply(p, x, running=stats), nn.conv4_apply(p, x))
    # batch mode is transductive: one image's embedding depends on the others
    assert not np.allclose(nn.conv4_apply(p, x[:2])[0], nn.conv4_apply(p, x)[0])


def test_conv4_gradient_matches_finite_differences(rng):
    p = nn.conv4_init(rng, width=3)
    x = rng.normal(size=(2, 16, 16, 1))
    stats = nn.conv4_stats(p, x)
    check_grads(lambda p: nn.conv4_apply(p, x, running=stats), modes=["rev"], order=1)(p)


def test_bad_inputs_raise_value_errors_naming_the_argument(rng):
    x = rng.normal(size=(2, 5, 5, 3))
    w = rng.normal(size=(3, 3, 3, 4))
    with pytest.raises(ValueError, match=r"x must have shape \(N, H, W, C_in\)"):
        nn.conv2d(x[0], w)
    with pytest.raises(ValueError, match=r"x has 2 channels.*\(N, H, W, 3\)"):
        nn.conv2d(x[..., :2], w)
    with pytest.raises(ValueError, match="padding"):
        nn.conv2d(x, w, padding="full")
    with pytest.raises(ValueError, match=r"b must have shape \(4,\)"):
        nn.conv2d(x, w, np.zeros(3))
    bad = x.copy()
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="x .*NaN"):
        nn.conv2d(bad, w)
    with pytest.raises(ValueError, match="x .*NaN"):
        nn.max_pool2d(bad)
    with pytest.raises(ValueError, match=r"H, W >= 2"):
        nn.max_pool2d(x[:, :1])
    with pytest.raises(ValueError, match=r"gamma must have shape \(3,\)"):
        nn.batch_norm(x, np.ones(2), np.zeros(3))
    with pytest.raises(ValueError, match="var"):
        nn.batch_norm(x, np.ones(3), np.zeros(3), mean=np.zeros(3), var=-np.ones(3))
    with pytest.raises(ValueError, match="both mean and var"):
        nn.batch_norm(x, np.ones(3), np.zeros(3), mean=np.zeros(3))
    with pytest.raises(ValueError, match=r"x must have shape \(N, H, W, 1\)"):
        nn.conv4_apply(nn.conv4_init(rng, width=2), x[0, 0])
    with pytest.raises(ValueError, match="width"):
        nn.conv4_init(rng, width=0)


def test_float32_embedding_agrees_with_float64(rng):
    p64 = nn.conv4_init(np.random.default_rng(2), width=8)
    p32 = [{k: v.astype(np.float32) for k, v in blk.items()} for blk in p64]
    x = rng.normal(size=(6, 28, 28, 1))
    e64 = nn.conv4_apply(p64, x)
    e32 = nn.conv4_apply(p32, x.astype(np.float32))
    assert e32.dtype == np.float32
    assert np.allclose(e32, e64, rtol=1e-3, atol=1e-4)
