"""Spatial transformer of reference.nn: convention, round trip, VJPs, dtype, errors."""

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad
from autograd.test_util import check_grads

from reference import nn


def _centre(k, n):
    return (2 * k + 1) / n - 1      # normalised centre of pixel k of n


def _blob(shape, cy, cx, width):
    r, c = np.mgrid[:shape[0], :shape[1]]
    return np.exp(-((r - cy) ** 2 + (c - cx) ** 2) / (2 * width ** 2))


def test_object_lands_at_the_stated_position():
    # a blob centred in an odd glimpse, rendered at the centre of canvas pixel (row 6, col 17)
    g = _blob((9, 9), 4, 4, 1.0)[None]
    z = np.array([[0.3, _centre(17, 24), _centre(6, 20)]])
    canvas = nn.st_render(g, z, (20, 24))
    assert np.unravel_index(canvas[0].argmax(), (20, 24)) == (6, 17)
    assert np.isclose(canvas[0, 6, 17], 1.0)
    # its extent: a window of all ones covers (s W) x (s H) canvas pixels (its bilinear edge
    # fades over one glimpse pixel, half inside and half outside the window's edge)
    ones = nn.st_render(np.ones((1, 6, 6)), np.array([[0.5, 0.0, 0.0]]), (20, 24))
    assert np.isclose(ones.sum(), 12 * 10)
    assert np.allclose(ones[0, 8:12, 9:15], 1) and np.all(ones[0, :, :5] == 0)
    # and reading the window back puts the blob in the glimpse's centre
    back = nn.st_glimpse(canvas, z, (9, 9))
    assert np.unravel_index(back[0].argmax(), (9, 9)) == (4, 4)


def test_glimpse_reads_the_window_and_s_one_is_identity(rng):
    img = rng.normal(size=(2, 7, 9))
    z = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    assert np.allclose(nn.st_glimpse(img, z, (7, 9)), img)
    assert np.allclose(nn.st_render(img, z, (7, 9)), img)
    # a shift by exactly two pixels to the right reads column j + 2
    z2 = np.array([[1.0, 4 / 9, 0.0]] * 2)
    assert np.allclose(nn.st_glimpse(img, z2, (7, 9))[:, :, :7], img[:, :, 2:])
    assert np.allclose(nn.st_glimpse(img, z2, (7, 9))[:, :, 7:], 0)


def test_round_trip_on_a_smooth_image():
    canvas = _blob((50, 50), 22.0, 30.0, 6.0)[None] + 0.3 * _blob((50, 50), 10, 10, 15)[None]
    z = np.array([[0.6, 0.15, -0.1]])
    g = nn.st_glimpse(canvas, z, (40, 40))        # finer than the 30-pixel window
    back = nn.st_render(g, z, (50, 50))
    # inside the window (away from its last half-pixel border) the canvas comes back
    rows = np.abs(_centre(np.arange(50), 50) - z[0, 2]) < 0.6 * 0.95
    cols = np.abs(_centre(np.arange(50), 50) - z[0, 1]) < 0.6 * 0.95
    err = np.abs(back[0] - canvas[0])[np.ix_(rows, cols)]
    assert err.max() < 2e-2 and err.mean() < 3e-3     # two bilinear resamplings
    outside = np.abs(_centre(np.arange(50), 50) - z[0, 2]) >= 0.6 * (1 + 1 / 40)
    assert outside.sum() > 10 and np.all(back[0][outside] == 0)
    # the other way round: glimpse -> canvas -> glimpse
    g0 = _blob((12, 12), 5.5, 6.0, 3.0)[None]
    again = nn.st_glimpse(nn.st_render(g0, z, (50, 50)), z, (12, 12))
    assert np.abs(again - g0).max() < 2e-2


def test_vjps_match_finite_differences(rng):
    img = rng.normal(size=(2, 6, 7))
    z = np.array([[0.63, 0.11, -0.23], [1.31, -0.17, 0.29]])
    check_grads(lambda a, z: nn.st_glimpse(a, z, (4, 5)), modes=["rev"], order=1)(img, z)
    g = rng.normal(size=(2, 4, 5))
    check_grads(lambda a, z: nn.st_render(a, z, (6, 7)), modes=["rev"], order=1)(g, z)


def test_float32_is_kept(rng):
    img = rng.normal(size=(3, 10, 10)).astype(np.float32)
    z = np.array([[0.5, 0.1, 0.2]] * 3, np.float32)
    out = nn.st_glimpse(img, z, (4, 4))
    assert out.dtype == np.float32
    gi, gz = grad(lambda a, z: anp.sum(nn.st_glimpse(a, z, (4, 4)) ** 2), argnum=(0, 1))(img, z)
    assert gi.dtype == np.float32 and gz.dtype == np.float32
    assert nn.st_render(out, z, (10, 10)).dtype == np.float32


def test_bad_inputs(rng):
    img = rng.normal(size=(2, 6, 6))
    z = np.array([[0.5, 0.0, 0.0]] * 2)
    with pytest.raises(ValueError, match=r"image must have shape \(B, H, W\)"):
        nn.st_glimpse(img[0], z, (3, 3))
    with pytest.raises(ValueError, match=r"z_where must have shape \(B, 3\) = \(2, 3\)"):
        nn.st_glimpse(img, z[:1], (3, 3))
    with pytest.raises(ValueError, match="scale s"):
        nn.st_glimpse(img, np.array([[0.5, 0, 0], [0.0, 0, 0]]), (3, 3))
    with pytest.raises(ValueError, match="z_where .*NaN"):
        nn.st_render(img, np.array([[0.5, np.nan, 0]] * 2), (3, 3))
    with pytest.raises(ValueError, match="canvas_shape"):
        nn.st_render(img, z, (0, 3))
