"""Tests of the Neural Statistician: closed forms, invariances, gradients, uses, bad input."""

import numpy as np
import pytest
from autograd import grad
from autograd.misc import flatten

import reference.neural_statistician as ns


def tiny(likelihood="gaussian", x_dim=2, interp=True, seed=0, n_layers=2):
    rng = np.random.default_rng(seed)
    params = ns.init_params(rng, x_dim, c_dim=3, z_dim=2, n_layers=n_layers, hidden=8, depth=2,
                            likelihood=likelihood, prior_interpolation=interp)
    # jitter everything: with zero biases, items whose hidden units are all off sit exactly on
    # a ReLU kink, where finite differences and the (one-sided) gradient legitimately disagree
    flat, unflatten = flatten(params)
    return unflatten(flat + 0.1 * rng.standard_normal(flat.shape))


# --- closed-form KLs --------------------------------------------------------------------------

def test_gaussian_kl_matches_monte_carlo():
    rng = np.random.default_rng(1)
    mu_q, lv_q = rng.normal(size=3), rng.normal(scale=0.5, size=3)
    mu_p, lv_p = rng.normal(size=3), rng.normal(scale=0.5, size=3)
    x = mu_q + np.exp(0.5 * lv_q) * rng.standard_normal((400_000, 3))
    logq = ns.gaussian_log_likelihood(x, mu_q, lv_q)
    logp = ns.gaussian_log_likelihood(x, mu_p, lv_p)
    mc, se = np.mean(logq - logp), np.std(logq - logp) / np.sqrt(len(x))
    assert abs(ns.gaussian_kl(mu_q, lv_q, mu_p, lv_p) - mc) < 4 * se


def test_gaussian_kl_to_standard_normal_and_zero():
    rng = np.random.default_rng(2)
    mu, lv = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    expected = 0.5 * np.sum(np.exp(lv) + mu ** 2 - 1 - lv, axis=-1)
    np.testing.assert_allclose(ns.gaussian_kl(mu, lv), expected, rtol=1e-12)
    np.testing.assert_allclose(ns.gaussian_kl(mu, lv, mu, lv), 0.0, atol=1e-12)
    with pytest.raises(ValueError, match="differ"):
        ns.gaussian_kl(mu, lv[:, :2])


def test_bernoulli_log_likelihood_matches_direct_formula():
    rng = np.random.default_rng(3)
    x, logits = (rng.uniform(size=(4, 6)) < 0.5).astype(float), rng.normal(size=(4, 6))
    p = 1 / (1 + np.exp(-logits))
    direct = np.sum(x * np.log(p) + (1 - x) * np.log(1 - p), axis=-1)
    np.testing.assert_allclose(ns.bernoulli_log_likelihood(x, logits), direct, rtol=1e-12)


# --- statistic network ------------------------------------------------------------------------

def test_statistic_network_is_order_invariant():
    params = tiny()
    rng = np.random.default_rng(4)
    D = rng.normal(size=(3, 7, 2))
    perm = rng.permutation(7)
    a, b = ns.statistic_network(params, D), ns.statistic_network(params, D[:, perm])
    np.testing.assert_allclose(a[0], b[0], rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-13, atol=1e-14)
    # ... and it is not constant: another set gives another context
    assert not np.allclose(a[0][0], a[0][1])


def test_sets_of_size_one_and_repeated_items():
    params = tiny()
    x = np.random.default_rng(5).normal(size=(1, 1, 2))
    mu1, lv1 = ns.statistic_network(params, x)
    assert mu1.shape == (1, 3) and np.all(np.isfinite(mu1)) and np.all(np.isfinite(lv1))
    # mean pooling: N copies of one item give the same posterior as the item alone
    mu5, lv5 = ns.statistic_network(params, np.repeat(x, 5, axis=1))
    np.testing.assert_allclose(mu5, mu1, rtol=1e-12)
    np.testing.assert_allclose(lv5, lv1, rtol=1e-12)
    assert np.isfinite(ns.elbo(params, x, np.random.default_rng(0))).all()


def test_context_divergence_is_counted_once_per_set():
    params = tiny()
    x = np.random.default_rng(6).normal(size=(1, 1, 2))
    t1 = ns.elbo_terms(params, x, np.random.default_rng(0))
    t4 = ns.elbo_terms(params, np.repeat(x, 4, axis=1), np.random.default_rng(0))
    np.testing.assert_allclose(t4["C"], t1["C"], rtol=1e-12)     # not 4x
    b = ns.elbo(params, x, np.random.default_rng(0))
    np.testing.assert_allclose(b, t1["R"] - t1["C"] - t1["L"], rtol=1e-12)


# --- the bound and its gradient ---------------------------------------------------------------

@pytest.mark.parametrize("likelihood,interp", [("gaussian", True), ("bernoulli", False)])
def test_elbo_gradient_matches_finite_differences(likelihood, interp):
    params = tiny(likelihood, x_dim=3, interp=interp)
    rng = np.random.default_rng(7)
    D = rng.normal(size=(2, 4, 3)) if likelihood == "gaussian" else \
        (rng.uniform(size=(2, 4, 3)) < 0.5).astype(float)
    flat, unflatten = flatten(params)

    def f(theta, alpha=0.3):   # the same noise at every evaluation
        return ns.training_loss(unflatten(theta), D, np.random.default_rng(11), alpha)

    g = grad(f)(flat)
    for seed in range(3):
        v = np.random.default_rng(seed).standard_normal(flat.shape)
        eps = 1e-6
        fd = (f(flat + eps * v) - f(flat - eps * v)) / (2 * eps)
        np.testing.assert_allclose(g @ v, fd, rtol=1e-5, atol=1e-8)


def test_training_loss_reduces_to_the_bound_and_kl_weight_schedule():
    params = tiny()
    D = np.random.default_rng(8).normal(size=(3, 5, 2))
    loss = ns.training_loss(params, D, np.random.default_rng(0), 0.0)
    np.testing.assert_allclose(loss, -np.sum(ns.elbo(params, D, np.random.default_rng(0))) / 15)
    assert ns.kl_weight(0) == 1.0 and ns.kl_weight(3) == 0.125 and ns.kl_weight(2, 0.0) == 0
    with pytest.raises(ValueError):
        ns.kl_weight(-1)
    with pytest.raises(ValueError):
        ns.training_loss(params, D, np.random.default_rng(0), -0.5)


def test_short_training_improves_the_bound():
    rng = np.random.default_rng(9)
    data = ns.sample_family_sets(64, 20, rng)
    params = ns.init_params(rng, 1, c_dim=2, z_dim=2, hidden=16, depth=2)
    before = np.mean(ns.elbo(params, data["D"], np.random.default_rng(0)))
    params, hist = ns.fit_sets(params, lambda r, i: data["D"][r.integers(64, size=8)], 150,
                               rng, step_size=3e-3)
    after = np.mean(ns.elbo(params, data["D"], np.random.default_rng(0)))
    assert after > before + 5


# --- uses -------------------------------------------------------------------------------------

def test_summarise_is_greedy_and_returns_a_subset():
    params = tiny(interp=False)
    D = np.random.default_rng(10).normal(size=(9, 2))
    out = ns.summarise(params, D, 3)
    assert len(out["indices"]) == 3 and set(out["indices"]) <= set(range(9))
    assert len(set(out["removed"]) | set(out["indices"])) == 9
    mu_D, lv_D = ns.statistic_network(params, D[None])
    keep = list(range(9))
    for step, reported in enumerate(out["kl"]):   # brute force: the best removal at each step
        kls = []
        for j in keep:
            rest = [i for i in keep if i != j]
            mu, lv = ns.statistic_network(params, D[rest][None])
            kls.append(float(ns.gaussian_kl(mu_D, lv_D, mu, lv)[0]))
        np.testing.assert_allclose(reported, min(kls), rtol=1e-9, atol=1e-12)
        assert out["removed"][step] == keep[int(np.argmin(kls))]
        keep.remove(out["removed"][step])
    with pytest.raises(ValueError):
        ns.summarise(params, D, 10)


def test_classify_one_shot_with_queries_equal_to_support():
    params = tiny("bernoulli", x_dim=16, interp=False)
    rng = np.random.default_rng(11)
    support = (rng.uniform(size=(5, 4, 4)) < 0.5).astype(float)
    labels = np.array(["a", "b", "c", "d", "e"])
    order = rng.permutation(5)
    # a query identical to its support image has KL exactly zero to its class
    assert list(ns.classify(params, support, labels, support[order])) == list(labels[order])
    with pytest.raises(ValueError):
        ns.classify(params, support, labels[:3], support)
    with pytest.raises(ValueError):
        ns.classify(params, support, labels, support.reshape(5, -1)[:, :9])


def test_family_sets_are_standardised_the_same_way():
    rng = np.random.default_rng(12)
    data = ns.sample_family_sets(400, 4000, rng)
    x = data["D"][..., 0]
    np.testing.assert_allclose(x.mean(1), data["mean"], atol=0.1)
    np.testing.assert_allclose(x.var(1) / data["var"], 1.0, atol=0.15)
    # the true densities beat the per-set Gaussian fit (on shape alone)
    assert ns.true_family_nll(data) < ns.gaussian_fit_nll(data["D"]) - 0.1


def test_sample_conditional_shapes_and_digit_point_sets():
    rng = np.random.default_rng(13)
    pts = ns.digit_point_sets(rng, n_points=30, subset=slice(0, 4))
    assert pts["D"].shape == (4, 30, 2) and np.abs(pts["D"]).max() <= 1
    params = tiny()
    assert ns.sample_conditional(params, pts["D"], 7, rng).shape == (4, 7, 2)


# --- bad input --------------------------------------------------------------------------------

def test_bad_input_gives_clear_errors():
    params = tiny()
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="at least one item"):
        ns.elbo(params, np.zeros((2, 0, 2)), rng)
    with pytest.raises(ValueError, match="features"):
        ns.statistic_network(params, np.zeros((2, 3, 5)))
    with pytest.raises(ValueError, match=r"\(B, N, x_dim\)"):
        ns.elbo(params, np.zeros((3, 2)), rng)
    with pytest.raises(ValueError, match="NaN"):
        ns.statistic_network(params, np.full((1, 2, 2), np.nan))
    with pytest.raises(ValueError, match="Generator"):
        ns.elbo(params, np.zeros((1, 2, 2)), 0)
    with pytest.raises(ValueError):
        ns.init_params(rng, 2, likelihood="poisson")


def test_mixture_decoder_without_item_latents():
    rng = np.random.default_rng(14)
    params = ns.init_params(rng, 1, c_dim=2, n_layers=0, hidden=8, depth=2,
                            likelihood="mixture", n_components=3)
    flat, unflatten = flatten(params)
    params = unflatten(flat + 0.1 * rng.standard_normal(flat.shape))
    D = rng.normal(size=(2, 6, 1))
    t = ns.elbo_terms(params, D, np.random.default_rng(0))
    np.testing.assert_array_equal(t["L"], 0.0)                  # no item latents, no L_D
    # the mixture density integrates to one (grid check on the decoder of one context)
    from reference.neural_statistician.model import observation_decoder
    log_w, mu, lv = observation_decoder(params, [], np.zeros((1, 1, 2)))
    grid = np.linspace(-30, 30, 20001)[None, :, None]
    from reference.neural_statistician.objective import _mixture_log_likelihood
    dens = np.exp(_mixture_log_likelihood(grid, log_w, mu, lv))
    np.testing.assert_allclose(np.trapezoid(dens[0], grid[0, :, 0]), 1.0, rtol=1e-4)
    flat, unflatten = flatten(params)
    f = lambda th: ns.training_loss(unflatten(th), D, np.random.default_rng(1))  # noqa: E731
    v = rng.standard_normal(flat.shape)
    fd = (f(flat + 1e-6 * v) - f(flat - 1e-6 * v)) / 2e-6
    np.testing.assert_allclose(grad(f)(flat) @ v, fd, rtol=1e-5, atol=1e-8)


def _check_loss_gradient(params, D, rng):
    """The training loss's gradient along a random direction against central differences."""
    flat, unflatten = flatten(params)
    flat = flat + 0.1 * rng.standard_normal(flat.shape)

    def f(theta):
        return ns.training_loss(unflatten(theta), D, np.random.default_rng(3), 0.0)

    v = rng.standard_normal(flat.shape)
    fd = (f(flat + 1e-6 * v) - f(flat - 1e-6 * v)) / 2e-6
    np.testing.assert_allclose(grad(f)(flat) @ v, fd, rtol=1e-5, atol=1e-8)


def test_convolutional_encoder_order_invariance_and_gradient():
    rng = np.random.default_rng(5)
    params = ns.init_params(rng, 256, c_dim=3, z_dim=2, hidden=8, depth=2, likelihood="bernoulli",
                            conv_width=3)
    assert len(params["conv"]) == 4
    D = (rng.uniform(size=(2, 3, 256)) < 0.4).astype(float)       # 16x16 binary images
    mu, lv = ns.statistic_network(params, D)
    mu_p, lv_p = ns.statistic_network(params, D[:, ::-1])
    np.testing.assert_allclose(mu, mu_p, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(lv, lv_p, rtol=1e-10, atol=1e-12)
    assert ns.statistic_network(params, D[:, :1])[0].shape == (2, 3)
    _check_loss_gradient(params, D, rng)
    with pytest.raises(ValueError, match="conv_width"):
        ns.init_params(rng, 256, likelihood="gaussian", conv_width=3)


def test_fit_log_sees_checkpoints_without_changing_training():
    # the learning curve of the reproduce run scores the model inside `log`: that must leave
    # the training run (weights, batches, noise) exactly as without it
    images = np.random.default_rng(0).uniform(size=(6, 20, 8, 8))
    kw = {"n_steps": 3, "batch_sets": 2, "max_set_size": 2, "c_dim": 2, "z_dim": 2,
          "hidden": 8, "dtype": np.float64}
    seen = []

    def log(step, params, loss):
        seen.append((step, np.isfinite(loss)))
        ns.classify(params, images[:2, 0], np.arange(2), images[:2, 1])

    with_log, _ = ns.fit(images, np.random.default_rng(1), log=log, **kw)
    without, _ = ns.fit(images, np.random.default_rng(1), **kw)
    assert seen == [(0, True), (2, True)]
    for a, b in zip(flatten(with_log)[0], flatten(without)[0]):
        assert a == b


def test_fit_default_trains_on_sets_of_the_largest_size_only():
    # the paper's training sets all have the same size: by default min_set_size follows
    # max_set_size, so the run is bit-identical to asking for it, and differs from 1-3
    images = np.random.default_rng(0).uniform(size=(6, 20, 8, 8))
    kw = {"n_steps": 3, "batch_sets": 2, "max_set_size": 3, "c_dim": 2, "z_dim": 2,
          "hidden": 8, "dtype": np.float64}
    default, _ = ns.fit(images, np.random.default_rng(1), **kw)
    fixed, _ = ns.fit(images, np.random.default_rng(1), min_set_size=3, **kw)
    mixed, _ = ns.fit(images, np.random.default_rng(1), min_set_size=1, **kw)
    pairs = list(zip(flatten(default)[0], flatten(fixed)[0], flatten(mixed)[0]))
    assert all(np.array_equal(a, b) for a, b, _ in pairs)
    assert not all(np.array_equal(a, c) for a, _, c in pairs)
    with pytest.raises(ValueError, match="min_set_size 4 > max_set_size 3"):
        ns.fit(images, np.random.default_rng(1), min_set_size=4, **kw)


def test_deconvolutional_decoder_shapes_upsampling_and_gradient():
    from reference.nn import upsample2d

    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 3, 4, 5))
    y = upsample2d(x)
    assert y.shape == (2, 6, 8, 5)
    for p in (0, 1):
        for q in (0, 1):
            np.testing.assert_array_equal(y[:, p::2, q::2], x)     # each pixel copied 2x2
    # the gradient of an input pixel sums the upstream gradient over its 2x2 block
    g = rng.standard_normal(y.shape)
    vjp = grad(lambda a: np.sum(upsample2d(a) * g))(x)
    np.testing.assert_allclose(vjp, g.reshape(2, 3, 2, 4, 2, 5).sum(axis=(2, 4)), rtol=1e-12)

    params = ns.init_params(rng, 256, c_dim=3, z_dim=2, hidden=8, depth=2, likelihood="bernoulli",
                            deconv_width=3)
    assert params["decoder"][-1]["W"].shape[1] == 4 * 4 * 3      # a (16/4)^2 x 3 feature map
    D = (rng.uniform(size=(2, 3, 256)) < 0.4).astype(float)      # 16x16 binary images
    (logits,) = ns.observation_decoder(params, [rng.standard_normal((2, 3, 2))],
                                       rng.standard_normal((2, 1, 3)))
    assert logits.shape == (2, 3, 256)
    assert np.shape(ns.elbo(params, D, np.random.default_rng(0))) == (2,)
    _check_loss_gradient(params, D, rng)
    with pytest.raises(ValueError, match="deconv_width"):
        ns.init_params(rng, 256, likelihood="gaussian", deconv_width=3)
    with pytest.raises(ValueError, match="multiple of 4"):
        ns.init_params(rng, 100, likelihood="bernoulli", deconv_width=3)    # 10x10
