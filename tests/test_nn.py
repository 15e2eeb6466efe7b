"""Tests of the shared building blocks in reference.nn."""

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad
from autograd.misc import flatten
from autograd.test_util import check_grads

from reference import nn


def test_initialisers_have_the_documented_variance(rng):
    W = nn.glorot_normal(300, 200, rng)
    assert W.shape == (300, 200) and W.dtype == np.float64
    # sample variance of 60000 normals: relative standard error sqrt(2/n) ~ 0.6%
    assert abs(W.var() / (2 / 500) - 1) < 0.03
    H = nn.he_normal(300, 200, rng)
    assert abs(H.var() / (2 / 300) - 1) < 0.03


def test_initialisers_are_reproducible_from_the_generator():
    a = nn.mlp_init([4, 5, 3], np.random.default_rng(7))
    b = nn.mlp_init([4, 5, 3], np.random.default_rng(7))
    assert np.array_equal(flatten(a)[0], flatten(b)[0])


def test_mlp_shapes_and_affine_output(rng):
    params = nn.mlp_init([6, 8, 8, 2], rng)
    assert [p["W"].shape for p in params] == [(6, 8), (8, 8), (8, 2)]
    x = rng.normal(size=(5, 6))
    y = nn.mlp_apply(params, x)
    assert y.shape == (5, 2)
    # a one-layer MLP is affine: f(a x1 + (1-a) x2) = a f(x1) + (1-a) f(x2)
    lin = nn.mlp_init([6, 3], rng)
    x1, x2 = x[0], x[1]
    assert np.allclose(nn.mlp_apply(lin, 0.3 * x1 + 0.7 * x2),
                       0.3 * nn.mlp_apply(lin, x1) + 0.7 * nn.mlp_apply(lin, x2))


def test_mlp_gradient_matches_finite_differences(rng):
    params = nn.mlp_init([3, 4, 2], rng)
    x = rng.normal(size=(6, 3))
    check_grads(lambda p: anp.sum(nn.mlp_apply(p, x) ** 2), modes=["rev"], order=1)(params)


def test_softmax_is_stable_at_extremes():
    z = np.array([[1000.0, 0.0, -1000.0], [-1e4, -1e4, -1e4]])
    p = nn.softmax(z)
    assert np.all(np.isfinite(p))
    assert np.allclose(p.sum(-1), 1.0)
    assert np.allclose(p[0], [1, 0, 0]) and np.allclose(p[1], 1 / 3)
    lp = nn.log_softmax(z)
    assert np.isclose(lp[0, 1], -1000.0) and np.isclose(lp[0, 2], -2000.0)


def test_log_softmax_matches_the_definition_and_its_gradient(rng):
    z = rng.normal(size=(4, 5))
    assert np.allclose(nn.log_softmax(z), np.log(np.exp(z) / np.exp(z).sum(-1, keepdims=True)))
    w = rng.normal(size=(4, 5))
    check_grads(lambda v: anp.sum(w * nn.log_softmax(v)), modes=["rev"], order=2)(z)
    # softmax is invariant to adding a constant per row
    assert np.allclose(nn.softmax(z + 123.0), nn.softmax(z))


def test_train_minimises_a_quadratic_and_calls_back(rng):
    target = {"a": np.array([1.0, -2.0]), "b": [np.array(3.0)]}
    loss = lambda p: anp.sum((p["a"] - target["a"]) ** 2) + (p["b"][0] - target["b"][0]) ** 2
    g = grad(loss)
    seen = []
    out = nn.train(lambda p, i: g(p), {"a": np.zeros(2), "b": [np.array(0.0)]}, 600,
                   step_size=0.05, callback=lambda p, i, gr: seen.append(i), progress=False)
    assert seen == list(range(600))
    assert np.allclose(out["a"], target["a"], atol=1e-3)
    assert np.isclose(out["b"][0], 3.0, atol=1e-3)


def test_bad_input_errors(rng):
    with pytest.raises(ValueError, match="n_in"):
        nn.glorot_normal(0, 3, rng)
    with pytest.raises(ValueError, match="Generator"):
        nn.he_normal(2, 3, np.random.RandomState(0))
    with pytest.raises(ValueError, match="unknown init"):
        nn.dense_init(2, 3, rng, init="uniform")
    with pytest.raises(ValueError, match="at least"):
        nn.mlp_init([3], rng)
    with pytest.raises(ValueError, match="expects"):
        nn.dense_apply(nn.dense_init(2, 3, rng), np.ones((4, 5)))
    with pytest.raises(ValueError, match="num_iters"):
        nn.train(lambda p, i: p, np.zeros(2), 0)
    with pytest.raises(ValueError, match="step_size"):
        nn.train(lambda p, i: p, np.zeros(2), 3, step_size=0.0)
