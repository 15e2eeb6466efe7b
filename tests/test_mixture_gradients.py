"""Tests of reference.mixture_gradients: the maths of Graves (2016), checked independently.

Gradients are checked against central finite differences of the quantile transform itself
(fixed u, re-solved at theta +- eps), which shares no code with the implicit-gradient VJP:
``autograd.test_util.check_grads`` where one random direction suffices, and
``reference.testing.central_difference`` where every entry is compared.
"""

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad
from autograd.scipy.stats import norm
from autograd.test_util import check_grads
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reference import mixture_gradients as mg
from reference.mixture_gradients.chain_rule import _diag_backward
from reference.mixture_gradients.rejection import _vector_scores
from reference.testing import central_difference, random_mixture, relative_error

#: log10 range of the scales of the random mixtures of these tests.
SCALES = (-0.3, 0.3)


def fd_gradients(u, c, params, quantile, eps_rel=1e-6):
    """Central differences of sum(c * quantile(u, *params)) for every entry of every param."""
    resolve = lambda *ps: np.sum(c * quantile(u, *ps))
    # a Cholesky factor's upper triangle is not a parameter
    masks = [np.tril(np.ones(p.shape, dtype=bool)) if p.ndim == 3 else None for p in params]
    return [central_difference(resolve, params, i, step=eps_rel * np.maximum(1.0, np.abs(p)),
                               mask=masks[i]) for i, p in enumerate(params)]


def autograd_gradients(u, c, params, quantile):
    f = lambda *ps: anp.sum(c * quantile(u, *ps))
    return [grad(f, i)(*params) for i in range(len(params))]


# ---------------------------------------------------------------------------- the sampler
def test_quantile_inverts_the_conditional_cdfs(rng):
    logits, mu, sigma = random_mixture(rng, 6, 5, SCALES)
    u = rng.uniform(size=(50, 6))
    x = mg.mixture_quantile(u, logits, mu, sigma)
    log_w = mg.conditional_log_weights(x, logits, mu, sigma)
    F = np.stack([mg.mixture_cdf_1d(x[:, d], log_w[:, d], mu[:, d], sigma[:, d])
                  for d in range(6)], axis=1)
    np.testing.assert_allclose(F, u, rtol=1e-10, atol=1e-14)


def test_quantile_of_a_single_gaussian_is_the_normal_quantile():
    from scipy.stats import norm as snorm
    u = np.array([[1e-12, 0.3], [0.5, 1 - 1e-12]])
    x = mg.mixture_quantile(u, np.zeros(1), np.array([[1.0, -2.0]]), np.array([[2.0, 0.5]]))
    np.testing.assert_allclose(x, np.array([1.0, -2.0]) + np.array([2.0, 0.5]) * snorm.ppf(u),
                               rtol=1e-12)


def test_sample_distribution_matches_the_density(rng):
    """Both samplers draw from f: compare the first two moments with the mixture's."""
    logits, mu, sigma = random_mixture(rng, 2, 3, SCALES)
    pi = np.exp(logits - np.log(np.sum(np.exp(logits))))
    mean = pi @ mu
    n = 40000
    for x in (mg.mixture_sample(rng, logits, mu, sigma, n),
              mg.mixture_quantile(rng.uniform(size=(n, 2)), logits, mu, sigma)):
        var = pi @ (sigma ** 2 + mu ** 2) - mean ** 2
        se = np.sqrt(var / n)
        assert np.all(np.abs(x.mean(axis=0) - mean) < 5 * se)


def test_log_pdf_normalises_in_1d():
    logits, mu, sigma = np.array([0.3, -1.0]), np.array([[-2.0], [3.0]]), np.array([[0.5], [2.0]])
    t = np.linspace(-20, 30, 20001)[:, None]
    f = np.exp(mg.mixture_log_pdf(t, logits, mu, sigma))
    assert abs(np.trapezoid(f, t[:, 0]) - 1.0) < 1e-8


# ---------------------------------------------------------------------------- gradients vs FD
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(K=st.integers(1, 6), D=st.integers(1, 8), log_scale=st.floats(-2, 2),
       seed=st.integers(0, 2**31), tail=st.booleans())
def test_implicit_gradient_matches_finite_differences(K, D, log_scale, seed, tail):
    rng = np.random.default_rng(seed)
    logits, mu, sigma = random_mixture(rng, D, K, (log_scale - 0.3, log_scale + 0.3),
                                       spread=1.0)
    u = rng.uniform(size=(2, D))
    if tail:  # far tails on both sides
        u[0] = rng.uniform(1e-9, 1e-6, size=D)
        u[1] = 1 - rng.uniform(1e-9, 1e-6, size=D)
    c = rng.normal(size=(2, D))
    params = [logits, mu, sigma]
    auto = autograd_gradients(u, c, params, mg.mixture_quantile)
    fd = fd_gradients(u, c, params, mg.mixture_quantile)
    for a, f in zip(auto, fd):
        np.testing.assert_allclose(a, f, rtol=1e-5, atol=1e-6 * max(1.0, np.abs(f).max()))


def test_check_grads_on_a_fixed_mixture(rng):
    """autograd's own check: the VJP against a re-solved central difference, one direction."""
    logits = np.array([0.2, -0.5, 1.0])
    mu = np.array([[-2.0, 0.5], [1.0, -1.0], [3.0, 2.0]])
    sigma = np.array([[0.7, 1.2], [1.5, 0.4], [0.9, 1.0]])
    u = rng.uniform(size=(20, 2))
    check_grads(lambda *p: mg.mixture_quantile(u, *p), argnum=(0, 1, 2), modes=["rev"],
                order=1)(logits, mu, sigma)


def test_finite_differences_on_a_fixed_mixture_to_1e_6(rng):
    logits = np.array([0.2, -0.5, 1.0])
    mu = np.array([[-2.0, 0.5], [1.0, -1.0], [3.0, 2.0]])
    sigma = np.array([[0.7, 1.2], [1.5, 0.4], [0.9, 1.0]])
    u = rng.uniform(size=(20, 2))
    c = rng.normal(size=(20, 2))
    params = [logits, mu, sigma]
    for a, f in zip(autograd_gradients(u, c, params, mg.mixture_quantile),
                    fd_gradients(u, c, params, mg.mixture_quantile)):
        assert relative_error(a, f) < 1e-6


def test_triangular_solve_jacobian_equals_the_vjp(rng):
    """Two derivations: the explicit lower-triangular system and the O(NKD) back-substitution."""
    logits, mu, sigma = random_mixture(rng, 5, 4, SCALES)
    x = mg.mixture_sample(rng, logits, mu, sigma, 7)
    g = rng.normal(size=x.shape)
    J = mg.ancestral_jacobian(x, logits, mu, sigma)
    ga, gm, gs = mg.mixture_vjp(g, x, logits, mu, sigma)
    np.testing.assert_allclose(np.einsum("nd,ndk->k", g, J["logits"]), ga, atol=1e-12)
    np.testing.assert_allclose(np.einsum("nd,ndke->ke", g, J["mu"]), gm, atol=1e-12)
    np.testing.assert_allclose(np.einsum("nd,ndke->ke", g, J["sigma"]), gs, atol=1e-12)
    # shifting every mean by t shifts every sample by t
    np.testing.assert_allclose(J["mu"].sum(axis=2), np.broadcast_to(np.eye(5), (7, 5, 5)),
                               atol=1e-12)


@pytest.mark.parametrize("far", [0.0, 20.0, 45.0])
def test_fast_linear_space_vjp_equals_the_log_space_jacobian(rng, far):
    """The VJP's fast path (linear space, chunked) and its log-space fallback, per sample.

    Samples near the modes take the fast path; samples pushed ``far`` standard deviations out
    take the log-space one (their densities underflow); a batch mixing both, split across
    chunks, must agree with the explicit log-space Jacobian.
    """
    logits, mu, sigma = random_mixture(rng, 6, 4, SCALES)
    x = mg.mixture_sample(rng, logits, mu, sigma, 40)
    x[::3] += far * sigma.max() * np.sign(rng.normal(size=(14, 6)))
    g = rng.normal(size=x.shape)
    J = mg.ancestral_jacobian(x, logits, mu, sigma)
    expected = [np.einsum("nd,ndk->k", g, J["logits"]), np.einsum("nd,ndke->ke", g, J["mu"]),
                np.einsum("nd,ndke->ke", g, J["sigma"])]
    for chunk in (7, 40):
        got = _diag_backward(g, x, logits, mu, sigma, chunk=chunk)
        for a, b in zip(got, expected):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12 * np.max(np.abs(b)))


def test_sampler_gradient_equals_quantile_gradient_at_the_same_x(rng):
    logits, mu, sigma = random_mixture(rng, 3, 3, SCALES)
    x = mg.mixture_sample(np.random.default_rng(5), logits, mu, sigma, 10)
    # recover the u that produces this x, then compare the two gradients
    log_w = mg.conditional_log_weights(x, logits, mu, sigma)
    u = np.stack([mg.mixture_cdf_1d(x[:, d], log_w[:, d], mu[:, d], sigma[:, d])
                  for d in range(3)], axis=1)
    c = rng.normal(size=x.shape)
    f_s = lambda a: anp.sum(c * mg.mixture_sample(np.random.default_rng(5), a, mu, sigma, 10))
    f_q = lambda a: anp.sum(c * mg.mixture_quantile(u, a, mu, sigma))
    np.testing.assert_allclose(grad(f_s)(logits), grad(f_q)(logits), rtol=1e-7, atol=1e-10)


def test_finite_differences_through_the_component_sampler_give_zero_for_weights(rng):
    """Why the implicit gradient is needed: with fixed noise, the sample is piecewise constant
    in the logits (the component choice), so its finite difference is 0 almost surely."""
    logits, mu, sigma = random_mixture(rng, 2, 3, SCALES)
    eps = 1e-7
    xs = [mg.mixture_sample(np.random.default_rng(1), logits + d, mu, sigma, 100)
          for d in (np.array([eps, 0, 0]), np.array([-eps, 0, 0]))]
    assert np.all(xs[0] == xs[1])
    assert np.any(grad(lambda a: anp.sum(mg.mixture_sample(np.random.default_rng(1), a, mu,
                                                           sigma, 100)))(logits) != 0)


# ---------------------------------------------------------------------------- invariances
def test_permuting_components_permutes_the_gradient(rng):
    logits, mu, sigma = random_mixture(rng, 3, 4, SCALES)
    u = rng.uniform(size=(6, 3))
    c = rng.normal(size=(6, 3))
    perm = np.array([2, 0, 3, 1])
    g1 = autograd_gradients(u, c, [logits, mu, sigma], mg.mixture_quantile)
    g2 = autograd_gradients(u, c, [logits[perm], mu[perm], sigma[perm]], mg.mixture_quantile)
    np.testing.assert_allclose(mg.mixture_quantile(u, logits, mu, sigma),
                               mg.mixture_quantile(u, logits[perm], mu[perm], sigma[perm]),
                               rtol=1e-12, atol=1e-12)
    for a, b in zip(g1, g2):
        np.testing.assert_allclose(a[perm], b, rtol=1e-9, atol=1e-12)


def test_constant_added_to_logits_changes_nothing(rng):
    logits, mu, sigma = random_mixture(rng, 2, 3, SCALES)
    u = rng.uniform(size=(5, 2))
    c = rng.normal(size=(5, 2))
    g1 = autograd_gradients(u, c, [logits, mu, sigma], mg.mixture_quantile)
    g2 = autograd_gradients(u, c, [logits + 37.0, mu, sigma], mg.mixture_quantile)
    np.testing.assert_allclose(mg.mixture_quantile(u, logits, mu, sigma),
                               mg.mixture_quantile(u, logits + 37.0, mu, sigma), atol=1e-12)
    for a, b in zip(g1, g2):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    assert abs(np.sum(g1[0])) < 1e-9  # and so the logit gradient sums to zero


def test_single_gaussian_is_exactly_the_reparameterisation_trick(rng):
    mu, sigma = np.array([[0.3, -1.0, 2.0]]), np.array([[0.5, 2.0, 1e-2]])
    eps = rng.standard_normal((8, 3))
    x = mu + sigma * eps
    g = rng.normal(size=x.shape)
    ga, gm, gs = mg.mixture_vjp(g, x, np.zeros(1), mu, sigma)
    np.testing.assert_allclose(gm[0], g.sum(axis=0), rtol=1e-13)
    np.testing.assert_allclose(gs[0], (g * eps).sum(axis=0), rtol=1e-10)
    assert np.all(ga == 0)


def test_mixture_mean_gradient_is_responsibility_weighted_reparameterisation(rng):
    """In 1-D, dx/dmu_k = r_k(x) and dx/dsigma_k = r_k(x) (x - mu_k)/sigma_k."""
    logits, mu, sigma = random_mixture(rng, 1, 3, SCALES)
    x = mg.mixture_sample(rng, logits, mu, sigma, 5)
    J = mg.ancestral_jacobian(x, logits, mu, sigma)
    log_pi = logits - np.log(np.sum(np.exp(logits)))
    r = mg.dx_dmu_1d(x[:, 0], log_pi, mu[:, 0], sigma[:, 0])
    np.testing.assert_allclose(J["mu"][:, 0, :, 0], r, rtol=1e-12)
    np.testing.assert_allclose(J["sigma"][:, 0, :, 0],
                               mg.dx_dsigma_1d(x[:, 0], log_pi, mu[:, 0], sigma[:, 0]), rtol=1e-12)
    np.testing.assert_allclose(J["logits"][:, 0, :],
                               mg.dx_dlogits_1d(x[:, 0], log_pi, mu[:, 0], sigma[:, 0]),
                               rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(r.sum(axis=1), 1.0, rtol=1e-12)


# ---------------------------------------------------------------------------- extremes
def test_no_nan_or_inf_forty_standard_deviations_out():
    logits = np.array([0.0, 1.0, -1.0])
    for scale in (1e-3, 1.0, 1e3):
        mu = np.array([[0.0, 1.0], [2.0, -1.0], [-1.0, 0.5]]) * scale
        sigma = np.ones((3, 2)) * scale
        x = np.array([[-42.0, -41.0], [44.0, 43.0], [-41.0, 42.0], [43.0, -41.5]]) * scale
        for g in mg.mixture_vjp(np.ones_like(x), x, logits, mu, sigma):
            assert np.all(np.isfinite(g))
        u = np.array([[1e-300, 1 - 1e-16], [0.5, 1e-200]])
        x_q = mg.mixture_quantile(u, logits, mu, sigma)
        assert np.all(np.isfinite(x_q))
        assert np.all(np.isfinite(mg.mixture_log_pdf(x, logits, mu, sigma)))


def test_solver_accuracy_in_the_far_tails():
    from scipy.stats import norm as snorm
    u = np.array([[1e-250], [1e-100], [1 - 1e-15]])
    x = mg.mixture_quantile(u, np.zeros(1), np.zeros((1, 1)), np.ones((1, 1)) * 3.0)
    np.testing.assert_allclose(x[:, 0], 3.0 * snorm.ppf(u[:, 0]), rtol=1e-10)


# ---------------------------------------------------------------------------- full covariance
def test_full_with_diagonal_factor_equals_diagonal(rng):
    logits, mu, sigma = random_mixture(rng, 4, 3, SCALES)
    L = np.stack([np.diag(s) for s in sigma])
    u = rng.uniform(size=(9, 4))
    x = mg.mixture_quantile(u, logits, mu, sigma)
    np.testing.assert_allclose(mg.mixture_quantile_full(u, logits, mu, L), x, atol=1e-12)
    np.testing.assert_allclose(mg.mixture_log_pdf_full(x, logits, mu, L),
                               mg.mixture_log_pdf(x, logits, mu, sigma), rtol=1e-12)
    g = rng.normal(size=x.shape)
    ga, gm, gs = mg.mixture_vjp(g, x, logits, mu, sigma)
    fa, fm, fL = mg.mixture_vjp_full(g, x, logits, mu, L)
    np.testing.assert_allclose(fa, ga, atol=1e-11)
    np.testing.assert_allclose(fm, gm, atol=1e-11)
    np.testing.assert_allclose(np.diagonal(fL, axis1=1, axis2=2), gs, atol=1e-11)


def test_full_covariance_gradient_matches_finite_differences(rng):
    logits, mu, L = random_mixture(rng, 4, 3, SCALES, full=True)
    u = rng.uniform(size=(4, 4))
    c = rng.normal(size=(4, 4))
    params = [logits, mu, L]
    auto = autograd_gradients(u, c, params, mg.mixture_quantile_full)
    fd = fd_gradients(u, c, params, mg.mixture_quantile_full)
    for a, f in zip(auto, fd):
        assert relative_error(a, f) < 1e-6


def test_check_grads_full_covariance(rng):
    """check_grads perturbs every entry of L; only the lower triangle enters (via tril)."""
    logits, mu, L = random_mixture(rng, 3, 2, SCALES, full=True)
    u = rng.uniform(size=(5, 3))
    check_grads(lambda a, m, Lk: mg.mixture_quantile_full(u, a, m, anp.tril(Lk)),
                argnum=(0, 1, 2), modes=["rev"], order=1)(logits, mu, L)


def test_full_covariance_sampler_matches_its_density(rng):
    logits, mu, L = random_mixture(rng, 3, 2, SCALES, full=True)
    x = mg.mixture_sample_full(rng, logits, mu, L, 30000)
    pi = np.exp(logits) / np.exp(logits).sum()
    cov = sum(p * (Lk @ Lk.T + np.outer(m, m)) for p, Lk, m in zip(pi, L, mu)) - np.outer(
        pi @ mu, pi @ mu)
    np.testing.assert_allclose(np.cov(x.T), cov, atol=0.1 * np.abs(cov).max())


# ---------------------------------------------------------------------------- Eq. 6 in general
def kumaraswamy_cdf(x, theta):
    a, b = theta[0], theta[1]
    return 1.0 - (1.0 - x ** a) ** b


def kumaraswamy_pdf(x, theta):
    a, b = theta[0], theta[1]
    return a * b * x ** (a - 1) * (1.0 - x ** a) ** (b - 1)


def test_eq6_on_kumaraswamy_matches_finite_differences():
    theta = np.array([2.0, 3.5])
    u = 0.37
    quantile = lambda th: (1.0 - (1.0 - u) ** (1.0 / th[1])) ** (1.0 / th[0])
    x_hat = quantile(theta)
    g = mg.implicit_gradient_1d(kumaraswamy_cdf, kumaraswamy_pdf, x_hat, theta)
    eps = 1e-6
    fd = np.array([(quantile(theta + eps * e) - quantile(theta - eps * e)) / (2 * eps)
                   for e in np.eye(2)])
    np.testing.assert_allclose(g, fd, rtol=1e-8)


def test_eq6_on_a_gaussian_is_the_reparameterisation_trick():
    cdf = lambda x, th: norm.cdf(x, th[0], th[1])
    pdf = lambda x, th: norm.pdf(x, th[0], th[1])
    g = mg.implicit_gradient_1d(cdf, pdf, 2.5, np.array([0.5, 2.0]))
    np.testing.assert_allclose(g, [1.0, 1.0], rtol=1e-12)


def test_rejection_estimator_is_unbiased(rng):
    """Eqs. 9-10 against the closed form, within 4 standard errors, for a 1-D mixture."""
    mu, sigma = np.array([-1.0, 2.0]), np.array([0.8, 1.2])

    def log_pdf(t, th):
        log_pi = th - anp.log(anp.sum(anp.exp(th)))
        return anp.log(anp.sum(anp.exp(log_pi[None] + norm.logpdf(t[:, None], mu, sigma)), axis=1))

    def sample(rng_, th, n):
        pi = np.exp(th) / np.exp(th).sum()
        k = rng_.choice(2, size=n, p=pi)
        return mu[k] + sigma[k] * rng_.standard_normal(n)

    def cdf(x, th):
        pi = anp.exp(th) / anp.sum(anp.exp(th))
        return anp.sum(pi * norm.cdf(x, mu, sigma))

    theta = np.array([0.3, -0.2])
    x_hat = 0.4
    exact = mg.dx_dlogits_1d(np.array([x_hat]), theta - np.log(np.exp(theta).sum()), mu, sigma)[0]
    est, info = mg.rejection_gradient(rng, x_hat, theta, log_pdf, sample, 4000, cdf=cdf)
    assert np.all(np.abs(est - exact) < 4 * info["std_error"])
    assert 0.2 < info["acceptance_rate"] < 0.8


# ---------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs, match", [
    (dict(sigma=-np.ones((2, 3))), "sigma must be positive"),
    (dict(sigma=np.ones((2, 2))), "shapes disagree"),
    (dict(mu=np.ones((3, 3))), "shapes disagree"),
    (dict(logits=np.array([0.0, np.nan])), "NaN"),
    (dict(u=np.full((2, 3), 1.0)), "inside"),
    (dict(u=np.full((2, 3), 0.0)), "inside"),
    (dict(u=np.full((2, 4), 0.5)), "dimensions"),
    (dict(logits=np.zeros(0), mu=np.zeros((0, 3)), sigma=np.zeros((0, 3))), "at least one"),
])
def test_bad_input_raises(kwargs, match):
    args = dict(u=np.full((2, 3), 0.5), logits=np.zeros(2), mu=np.zeros((2, 3)),
                sigma=np.ones((2, 3)))
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        mg.mixture_quantile(**args)


def test_bad_full_covariance_input_raises():
    L = np.stack([np.eye(2), np.eye(2)])
    with pytest.raises(ValueError, match="lower-triangular"):
        mg.mixture_quantile_full(np.full((1, 2), 0.5), np.zeros(2), np.zeros((2, 2)),
                                 L + np.triu(np.ones((2, 2)), 1))
    with pytest.raises(ValueError, match="positive"):
        mg.mixture_quantile_full(np.full((1, 2), 0.5), np.zeros(2), np.zeros((2, 2)), -L)


def test_bad_sampler_input_raises():
    with pytest.raises(ValueError, match="Generator"):
        mg.mixture_sample(np.random.RandomState(0), np.zeros(1), np.zeros((1, 1)),
                          np.ones((1, 1)), 3)
    with pytest.raises(ValueError, match="positive"):
        mg.mixture_sample(np.random.default_rng(0), np.zeros(1), np.zeros((1, 1)),
                          np.ones((1, 1)), 0)


@pytest.mark.parametrize("fn", [mg.mixture_cdf_1d, mg.dx_dmu_1d, mg.dx_dsigma_1d,
                                mg.dx_dlogits_1d])
@pytest.mark.parametrize("args, match", [
    ((np.array([0.0]), np.log([0.5, 0.5]), np.array([0.0, 1.0]), np.array([-1.0, 1.0])),
     "sigma"),
    ((np.array([0.0]), np.log([0.3, 0.3]), np.array([0.0, 1.0]), np.ones(2)), "sum to 1"),
    ((np.array([np.nan]), np.log([0.5, 0.5]), np.zeros(2), np.ones(2)), "finite"),
    ((np.zeros(3), np.log([0.5, 0.5]), np.zeros((2, 2)), np.ones(2)), "must each be"),
])
def test_bad_input_to_the_1d_helpers_raises(fn, args, match):
    with pytest.raises(ValueError, match=match):
        fn(*args)


def test_bad_input_to_the_rejection_estimator_raises(rng):
    lp = lambda t, th: -0.5 * (t - th[0]) ** 2
    draw = lambda r, th, n: th[0] + r.standard_normal(n)
    with pytest.raises(ValueError, match="Generator"):
        mg.rejection_gradient(None, 0.0, np.zeros(1), lp, draw, 10)
    with pytest.raises(ValueError, match="x_hat"):
        mg.rejection_gradient(rng, np.nan, np.zeros(1), lp, draw, 10)


@pytest.mark.parametrize("with_jvp", [True, False])
def test_per_sample_scores_equal_the_jacobian(rng, with_jvp):
    """The linear-cost scores of the rejection estimator (forward mode where autograd has it,
    chunked reverse mode where not, e.g. autograd.scipy.stats) equal one reverse Jacobian."""
    from autograd import jacobian
    t = rng.normal(size=600)                                    # more than one chunk of 256
    if with_jvp:
        log_pdf = lambda t, th: -0.5 * ((t - th[0]) / anp.exp(th[1])) ** 2 - th[1] \
            + th[2] * anp.tanh(t)
    else:
        log_pdf = lambda t, th: norm.logpdf(t, th[0], anp.exp(th[1])) + th[2] * anp.tanh(t)
    theta = np.array([0.3, -0.2, 0.1])
    np.testing.assert_allclose(_vector_scores(log_pdf, t, theta),
                               jacobian(lambda th: log_pdf(t, th))(theta), rtol=1e-12)


# ---------------------------------------------------------------------------- issue 10
@pytest.mark.parametrize("u, expected", [(1e-305, -37.35634609), (5e-324, -38.46740562)])
def test_quantile_below_1e_300_is_solved_in_log_u(u, expected):
    """The issue's numbers: a standard normal, u far below 1e-300 (down to the smallest
    subnormal), against scipy's ndtri and a 60-digit bisection on the log-CDF (mpmath)."""
    from scipy.special import ndtri
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 60
    lo, hi, target = mpmath.mpf(-40), mpmath.mpf(-36), mpmath.log(mpmath.mpf(u))
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if mpmath.log(mpmath.ncdf(mid)) < target else (lo, mid)
    exact = float(lo)
    uu = np.array([[u]])
    for x in (mg.mixture_quantile(uu, np.zeros(1), np.zeros((1, 1)), np.ones((1, 1))),
              mg.mixture_quantile_full(uu, np.zeros(1), np.zeros((1, 1)), np.ones((1, 1, 1)))):
        assert abs(x[0, 0] - exact) < 1e-13 * abs(exact)
        assert abs(x[0, 0] - ndtri(u)) < 1e-13 * abs(exact)
    assert abs(exact - expected) < 1e-8


def test_quantile_at_the_last_float_below_one():
    from scipy.special import ndtri
    u = np.array([[1 - 2.0 ** -53, 5e-324]])
    x = mg.mixture_quantile(u, np.zeros(2), np.array([[0.0, 0.0], [0.0, 0.0]]),
                            np.array([[1.0, 1.0], [1.0, 1.0]]))
    np.testing.assert_allclose(x[0], [-ndtri(2.0 ** -53), ndtri(5e-324)], rtol=1e-13)


def overflowing_case():
    """Two components 80 sd apart in x_0: at x_0 = 0 the Jacobian in the logits is ~1e347."""
    logits, mu, sigma = np.zeros(2), np.array([[-40.0, 0.0], [40.0, 1.0]]), np.ones((2, 2))
    x = np.array([[-40.3, 0.2], [0.0, 0.3], [39.5, 1.4], [-39.0, -0.5]])
    return x, logits, mu, sigma


@pytest.mark.parametrize("full", [False, True])
def test_vjp_raises_naming_the_sample_whose_gradient_overflows(full):
    x, logits, mu, sigma = overflowing_case()
    scale = np.stack([np.diag(s) for s in sigma]) if full else sigma
    vjp = mg.mixture_vjp_full if full else mg.mixture_vjp
    with pytest.raises(FloatingPointError, match=r"sample\(s\) \[1\] overflows"):
        vjp(np.ones_like(x), x, logits, mu, scale)
    if not full:
        with pytest.raises(FloatingPointError, match=r"\[1\]"):
            mg.ancestral_jacobian(x, logits, mu, sigma)
        with pytest.raises(FloatingPointError, match=r"\[1\]"):   # the index counts over chunks
            _diag_backward(np.ones_like(x), x, logits, mu, sigma, chunk=1)
    # the other samples: finite, and the same as without the bad one in the batch
    good = np.delete(x, 1, axis=0)
    got = vjp(np.ones_like(good), good, logits, mu, scale)
    assert all(np.all(np.isfinite(a)) for a in got)
    alone = [vjp(np.ones((1, 2)), good[i:i + 1], logits, mu, scale) for i in range(3)]
    for j, a in enumerate(got):
        np.testing.assert_allclose(a, sum(al[j] for al in alone), rtol=1e-12, atol=1e-300)


def test_vjp_sixty_sd_out_is_finite_and_equals_the_jacobian():
    """Below the overflow threshold nothing is inf or NaN, far out on both sides."""
    logits, mu, sigma = np.array([0.2, -0.1]), np.array([[-3.0, 0.0], [3.0, 1.0]]), \
        np.array([[1.0, 0.5], [2.0, 1.0]])
    x = np.array([[-63.0, 30.0], [125.0, -60.0], [0.0, 0.0]])
    g = np.array([[1.0, -2.0], [0.5, 1.0], [1.0, 1.0]])
    got = mg.mixture_vjp(g, x, logits, mu, sigma)
    J = mg.ancestral_jacobian(x, logits, mu, sigma)
    assert all(np.all(np.isfinite(a)) for a in got)
    np.testing.assert_allclose(got[0], np.einsum("nd,ndk->k", g, J["logits"]), rtol=1e-10)


@pytest.mark.parametrize("full", [False, True])
def test_non_finite_cotangent_is_refused(full):
    x, logits, mu, sigma = overflowing_case()
    scale = np.stack([np.diag(s) for s in sigma]) if full else sigma
    vjp = mg.mixture_vjp_full if full else mg.mixture_vjp
    for bad in (np.nan, np.inf):
        g = np.ones_like(x)
        g[2, 1] = bad
        with pytest.raises(ValueError, match=r"g contains NaN or inf \(samples \[2\]"):
            vjp(g, x, logits, mu, scale)


@pytest.mark.parametrize("n", [2.7, 3.0, "3", True, 0, -1])
def test_sample_count_must_be_a_positive_integer(n):
    for sample, scale in ((mg.mixture_sample, np.ones((1, 1))),
                          (mg.mixture_sample_full, np.ones((1, 1, 1)))):
        with pytest.raises(ValueError, match="n must be a positive integer"):
            sample(np.random.default_rng(0), np.zeros(1), np.zeros((1, 1)), scale, n)
    assert mg.mixture_sample(np.random.default_rng(0), np.zeros(1), np.zeros((1, 1)),
                             np.ones((1, 1)), np.int64(3)).shape == (3, 1)


def normal_cdf_pdf(log=False, upper=False):
    if log:
        cdf = norm.logsf if upper else norm.logcdf
        return (lambda x, th: cdf(x, th[0], th[1])), (lambda x, th: norm.logpdf(x, th[0], th[1]))
    return (lambda x, th: norm.cdf(x, th[0], th[1])), (lambda x, th: norm.pdf(x, th[0], th[1]))


def test_eq6_bad_input_gets_clear_errors():
    cdf, pdf = normal_cdf_pdf()
    with pytest.raises(ValueError, match="one scalar sample"):
        mg.implicit_gradient_1d(cdf, pdf, np.array([0.1, 0.2]), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="theta is empty"):
        mg.implicit_gradient_1d(cdf, pdf, 0.1, np.array([]))
    with pytest.raises(ValueError, match="theta .* outside the domain"):
        with np.errstate(invalid="ignore"):
            mg.implicit_gradient_1d(cdf, pdf, 0.1, np.array([0.0, -1.0]))
    with pytest.raises(ValueError, match="underflows .* log=True"):
        mg.implicit_gradient_1d(cdf, pdf, -40.0, np.array([0.0, 1.0]))


@pytest.mark.parametrize("x_hat, upper", [(-40.0, False), (40.0, True), (-60.0, False),
                                          (1.5, False), (1.5, True)])
def test_eq6_in_log_space_forty_sd_out(x_hat, upper):
    """Log F (left tail) or log S (right tail) and log f: the reparameterisation trick,
    [1, (x - mu) / sigma], where f and dF/dtheta underflow."""
    cdf, pdf = normal_cdf_pdf(log=True, upper=upper)
    theta = np.array([0.5, 2.0])
    got = mg.implicit_gradient_1d(lambda x, th: cdf(x, th), pdf, x_hat * 2.0 + 0.5, theta,
                                  log=True, upper=upper)
    np.testing.assert_allclose(got, [1.0, x_hat], rtol=1e-9)


def test_rejection_estimator_errors_name_the_real_cause(rng):
    lp = lambda t, th: -0.5 * (t - th[0]) ** 2
    draw = lambda r, th, n: th[0] + r.standard_normal(n)
    with pytest.raises(ValueError, match="theta is empty"):
        mg.rejection_gradient(rng, 0.0, np.zeros(0), lp, draw, 10)
    with pytest.raises(ValueError, match="n_samples must be a positive integer"):
        mg.rejection_gradient(rng, 0.0, np.zeros(1), lp, draw, 2.7)
    with pytest.raises(ValueError, match=r"sample\(rng, theta, 64\) returned NaN"):
        mg.rejection_gradient(rng, 0.0, np.zeros(1), lp, lambda r, th, n: np.full(n, np.nan),
                              10)
    with pytest.raises(ValueError, match="returned shape"):
        mg.rejection_gradient(rng, 0.0, np.zeros(1), lp, lambda r, th, n: np.zeros((n, 2)), 10)
    with pytest.raises(RuntimeError, match="left tail"):
        mg.rejection_gradient(rng, -6.0, np.zeros(1), lp, draw, 10, max_draws=10**4)


def test_log_pdf_products_fall_back_to_the_direct_form_where_they_would_cancel():
    """A component whose mean is 10^7 of its scales from 0: the expansion in x^2, x, 1 loses
    digits, so those samples use the direct form; values and gradients agree with it."""
    from autograd.scipy.special import logsumexp

    from reference.mixture_gradients.density import _log_comp_direct, _log_comp_products
    from reference.nn import log_softmax
    logits, mu = np.array([0.0, 0.5]), np.array([[1e4, 0.0], [1.0, 3.0]])
    sigma = np.array([[1e-3, 1.0], [1e3, 2.0]])
    x = np.array([[1e4 + 1e-3, 0.5], [0.0, 0.0], [1e4, 40.0], [-5e3, 2.0]])

    def direct(xx, m):
        return logsumexp(log_softmax(logits)[None] + _log_comp_direct(xx, m, sigma), axis=1)

    raw = logsumexp(log_softmax(logits)[None] + _log_comp_products(x, mu, sigma)[0], axis=1)
    assert abs(raw[0] - direct(x, mu)[0]) > 1e-9           # the expansion alone would be off
    np.testing.assert_allclose(mg.mixture_log_pdf(x, logits, mu, sigma), direct(x, mu),
                               rtol=1e-13, atol=1e-12)
    for f_ours, f_ref in [(lambda m: anp.sum(mg.mixture_log_pdf(x, logits, m, sigma)),
                           lambda m: anp.sum(direct(x, m)))]:
        np.testing.assert_allclose(grad(f_ours)(mu), grad(f_ref)(mu), rtol=1e-9, atol=1e-12)
