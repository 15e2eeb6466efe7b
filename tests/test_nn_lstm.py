"""LSTM cell, sequence LSTM and bidirectional LSTM of reference.nn."""

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad
from autograd.test_util import check_grads

from reference import nn


def _manual_cell(p, x, h, c):
    # independent forward: the four gates from four separate products
    H = h.shape[1]
    W, b = p["W"], p["b"]
    n_in = x.shape[1]
    sig = lambda z: 1 / (1 + np.exp(-z))
    gate = lambda k: x @ W[:n_in, k * H:(k + 1) * H] + h @ W[n_in:, k * H:(k + 1) * H] \
        + b[k * H:(k + 1) * H]
    c2 = sig(gate(1)) * c + sig(gate(0)) * np.tanh(gate(2))
    return sig(gate(3)) * np.tanh(c2), c2


def test_cell_matches_the_equations_and_the_forget_bias(rng):
    p = nn.lstm_init(3, 4, rng)
    assert np.all(p["b"][4:8] == 1) and np.all(p["b"][:4] == 0) and np.all(p["b"][8:] == 0)
    x, h, c = rng.normal(size=(2, 3)), rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    for impl in ("primitive", "autograd"):
        h2, c2 = nn.lstm_cell(p, x, h, c, impl=impl)
        hr, cr = _manual_cell(p, x, h, c)
        assert np.allclose(h2, hr) and np.allclose(c2, cr)


def test_cell_and_sequence_vjps_match_finite_differences(rng):
    p = nn.lstm_init(3, 4, rng)
    x, h, c = rng.normal(size=(2, 3)), rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    check_grads(lambda p, x, h, c: anp.concatenate(nn.lstm_cell(p, x, h, c)),
                modes=["rev"], order=1)(p, x, h, c)
    xs = rng.normal(size=(4, 2, 3))

    def f(p, xs, h, c):
        hs, (hT, cT) = nn.lstm(p, xs, h, c)
        return anp.sum(hs * np.arange(1, 5)[:, None, None]) + anp.sum(cT ** 2)

    check_grads(f, modes=["rev"], order=1)(p, xs, h, c)


def test_primitive_and_autograd_sequences_agree_with_gradients(rng):
    p = nn.lstm_init(5, 6, rng)
    xs = rng.normal(size=(3, 4, 5))
    w = rng.normal(size=(3, 4, 6))
    outs, grads = [], []
    for impl in ("primitive", "autograd"):
        hs, (h, c) = nn.lstm(p, xs, impl=impl)
        outs.append((hs, c))
        grads.append(grad(lambda p: anp.sum(w * nn.lstm(p, xs, impl=impl)[0]))(p))
    assert np.allclose(outs[0][0], outs[1][0]) and np.allclose(outs[0][1], outs[1][1])
    assert np.allclose(grads[0]["W"], grads[1]["W"]) and np.allclose(grads[0]["b"], grads[1]["b"])


def test_bilstm_directions(rng):
    fw, bw = nn.lstm_init(3, 4, rng), nn.lstm_init(3, 4, rng)
    xs = rng.normal(size=(5, 2, 3))
    hf, hb = nn.bilstm(fw, bw, xs)
    assert np.allclose(hf, nn.lstm(fw, xs)[0])
    # hb[t] has read xs[T-1..t]: hb[0] is the final state of bw over the reversed sequence
    assert np.allclose(hb[0], nn.lstm(bw, xs[::-1])[1][0])
    assert np.allclose(hb[4], nn.lstm(bw, xs[4:])[0][0])
    check_grads(lambda fw, bw, xs: anp.concatenate(nn.bilstm(fw, bw, xs)),
                modes=["rev"], order=1)(fw, bw, xs)


def test_float32_is_kept(rng):
    p = nn.lstm_init(3, 4, rng, dtype=np.float32)
    xs = rng.normal(size=(2, 5, 3)).astype(np.float32)
    hs, (h, c) = nn.lstm(p, xs)
    assert hs.dtype == np.float32 and c.dtype == np.float32
    g = grad(lambda p: anp.sum(nn.lstm(p, xs)[0]))(p)
    assert g["W"].dtype == np.float32


def test_bad_inputs(rng):
    p = nn.lstm_init(3, 4, rng)
    with pytest.raises(ValueError, match=r"xs must have shape \(T, B, n_in\)"):
        nn.lstm(p, np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"xs has 2 features.*\(T, B, 3\)"):
        nn.lstm(p, np.ones((5, 2, 2)))
    with pytest.raises(ValueError, match=r"h0 must have shape \(B, n_hidden\) = \(2, 4\)"):
        nn.lstm(p, np.ones((5, 2, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="NaN"):
        nn.lstm_cell(p, np.full((2, 3), np.nan), np.zeros((2, 4)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="n_hidden"):
        nn.lstm_init(3, 0, rng)
