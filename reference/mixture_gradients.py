r"""Stochastic backpropagation through Gaussian mixture samples (Graves, 2016).

Reference implementation of A. Graves, *Stochastic Backpropagation through Mixture Density
Distributions*, 2016, [arXiv:1607.05690](https://arxiv.org/abs/1607.05690).

The module reads like the paper:

1. the general result for any 1-D density with a tractable CDF (Eq. 6) and its sampling
   estimator (Eqs. 9-10);
2. the diagonal Gaussian mixture written as a product of 1-D conditional mixtures (Eq. 1) and
   sampled by the multivariate quantile transform (Eqs. 2-4);
3. the closed-form partial derivatives of one conditional (mean, scale, weights);
4. the chain rule through ancestral sampling, as a lower-triangular system, and the
   ``O(N K D)`` adjoint that never forms it; this is what ``autograd`` calls;
5. the user-facing samplers ``mixture_quantile`` and ``mixture_sample``;
6. the full-covariance extension that the paper mentions but does not derive.

Conventions. ``N`` samples, ``D`` dimensions, ``K`` components. ``logits`` ``(K,)`` are
unconstrained mixing parameters with $\pi = \mathrm{softmax}(\text{logits})$; ``mu`` and
``sigma`` are ``(K, D)``. Everything is float64 and computed in log space, so samples 40
standard deviations from every component and scales from ``1e-3`` to ``1e3`` stay finite.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
from autograd import grad
from autograd.extend import defvjp_argnums, primitive
from autograd.scipy.special import logsumexp
from autograd.tracer import getval
from scipy.special import erfc, log_ndtr, ndtri

__all__ = [
    "implicit_gradient_1d",
    "rejection_gradient",
    "mixture_log_pdf",
    "conditional_log_weights",
    "mixture_cdf_1d",
    "dx_dmu_1d",
    "dx_dsigma_1d",
    "dx_dlogits_1d",
    "ancestral_jacobian",
    "mixture_vjp",
    "mixture_quantile",
    "mixture_sample",
    "mixture_log_pdf_full",
    "mixture_vjp_full",
    "mixture_quantile_full",
    "mixture_sample_full",
]

_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)
_SQRT_HALF = np.sqrt(0.5)


# --------------------------------------------------------------------------------------------
# Input checks: every public function validates before it computes.
# --------------------------------------------------------------------------------------------
def _as_float(name, a, ndim):
    a = np.asarray(getval(a), dtype=float)
    if a.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or inf; pass finite values")
    return a


def _check_params(logits, mu, sigma):
    lg = _as_float("logits", logits, 1)
    m = _as_float("mu", mu, 2)
    s = _as_float("sigma", sigma, 2)
    K = lg.shape[0]
    if K == 0:
        raise ValueError("the mixture needs at least one component (logits has length 0)")
    if m.shape[0] != K or s.shape != m.shape:
        raise ValueError(
            f"shapes disagree: logits {lg.shape}, mu {m.shape}, sigma {s.shape}; "
            "expected logits (K,), mu (K, D), sigma (K, D)")
    if np.any(s <= 0):
        raise ValueError("sigma must be positive; got a minimum of %g" % s.min())
    return K, m.shape[1]


def _check_full(logits, mu, L):
    lg = _as_float("logits", logits, 1)
    m = _as_float("mu", mu, 2)
    Lv = _as_float("L", L, 3)
    K = lg.shape[0]
    if K == 0:
        raise ValueError("the mixture needs at least one component (logits has length 0)")
    D = m.shape[1] if m.ndim == 2 else -1
    if m.shape[0] != K or Lv.shape != (K, D, D):
        raise ValueError(
            f"shapes disagree: logits {lg.shape}, mu {m.shape}, L {Lv.shape}; "
            "expected logits (K,), mu (K, D), L (K, D, D)")
    if np.any(np.triu(Lv, 1) != 0):
        raise ValueError("L must be lower-triangular (Cholesky factors); "
                         "its upper part is not zero")
    if np.any(np.diagonal(Lv, axis1=1, axis2=2) <= 0):
        raise ValueError("the diagonal of each Cholesky factor L[k] must be positive")
    return K, D


def _check_x(name, x, D):
    xv = _as_float(name, x, 2)
    if xv.shape[1] != D:
        raise ValueError(f"{name} has shape {xv.shape} but the mixture has D = {D} dimensions")
    return xv


def _check_u(u, D):
    uv = _check_x("u", u, D)
    if np.any(uv <= 0) or np.any(uv >= 1):
        raise ValueError("u must lie strictly inside (0, 1); draw it with rng.uniform and "
                         "clip away exact 0 or 1")
    return uv


def _log_softmax(logits):
    return logits - logsumexp(logits)


# --------------------------------------------------------------------------------------------
# 1. The general result (Eq. 6) and its sampling estimator (Eqs. 9-10)
# --------------------------------------------------------------------------------------------
def implicit_gradient_1d(cdf, pdf, x_hat, theta):
    r"""Gradient of a 1-D sample with respect to its density's parameters.

    Implements Eq. (6) of Graves (2016): differentiating $F(\hat x(\theta); \theta) = u$ at
    fixed $u$ (Eq. 4) and moving the derivative inside the integral by Leibniz's rule (Eq. 5),

    $$
    \frac{\partial \hat x}{\partial \theta}
    = -\frac{1}{f(\hat x; \theta)}
      \int_{-\infty}^{\hat x} \frac{\partial f(t; \theta)}{\partial \theta}\,dt
    = -\frac{\partial F(\hat x; \theta) / \partial \theta}{f(\hat x; \theta)} .
    $$

    The right-hand side depends only on the sample $\hat x$, not on how it was drawn.

    Parameters
    ----------
    cdf, pdf : callable
        ``cdf(x, theta)`` and ``pdf(x, theta)``, written with ``autograd.numpy`` so that
        ``autograd`` can differentiate ``cdf`` in ``theta``.
    x_hat : float
        A sample of the density.
    theta : ndarray, shape (P,)
        The parameters.

    Returns
    -------
    ndarray, shape (P,)
        $\partial \hat x / \partial \theta$.

    Notes
    -----
    Works for any family with a differentiable CDF: Gaussian, Kumaraswamy, Weibull, logistic...
    For a location-scale family it reduces to the reparameterisation trick.

    Examples
    --------
    >>> import autograd.numpy as anp
    >>> from autograd.scipy.stats import norm
    >>> cdf = lambda x, th: norm.cdf(x, th[0], th[1])
    >>> pdf = lambda x, th: norm.pdf(x, th[0], th[1])
    >>> implicit_gradient_1d(cdf, pdf, 2.5, anp.array([0.5, 2.0]))  # [1, (x - mu)/sigma]
    array([1., 1.])
    """
    theta = np.asarray(theta, dtype=float)
    x_hat = float(x_hat)
    if not np.isfinite(x_hat) or not np.all(np.isfinite(theta)):
        raise ValueError("x_hat and theta must be finite")
    density = float(pdf(x_hat, theta))
    if not density > 0:
        raise ValueError(f"pdf(x_hat) = {density}: x_hat must lie where the density is positive")
    dF = grad(lambda th: cdf(x_hat, th))(theta)
    return -dF / density


def rejection_gradient(rng, x_hat, theta, log_pdf, sample, n_samples, cdf=None, max_draws=10**7):
    r"""Sampling estimate of the implicit gradient, by rejection from the truncated density.

    Implements Eqs. (9)-(10) of Graves (2016). When $\partial F / \partial \theta$ has no
    closed form, write the integral of Eq. (6) as an expectation under the density truncated
    to $t \le \hat x$ (Eq. 10), and sample it by drawing $t \sim f$ and keeping $t \le \hat x$:

    $$
    \int_{-\infty}^{\hat x} \frac{\partial f(t)}{\partial \theta}\,dt
    = F(\hat x)\, \mathbb{E}_{t \sim f(t \mid t \le \hat x)}
      \left[\frac{\partial \log f(t; \theta)}{\partial \theta}\right],
    \qquad
    \frac{\partial \hat x}{\partial \theta} \approx
    -\frac{F(\hat x)}{f(\hat x)} \frac{1}{M} \sum_{m=1}^{M}
      \frac{\partial \log f(t_m; \theta)}{\partial \theta} .
    $$

    Parameters
    ----------
    rng : numpy.random.Generator
    x_hat : float
    theta : ndarray, shape (P,)
    log_pdf : callable
        ``log_pdf(t, theta)`` for a vector ``t``, autograd-differentiable in ``theta``.
    sample : callable
        ``sample(rng, theta, n)`` returns ``n`` draws of the density.
    n_samples : int
        ``M``, the number of accepted draws to average.
    cdf : callable, optional
        ``cdf(x, theta)``. If given, $F(\hat x)$ is exact and the estimate is unbiased; if not,
        $F(\hat x)$ is estimated by the acceptance rate (a ratio estimator, consistent but
        slightly biased for small ``M``).
    max_draws : int
        Stop with a ``RuntimeError`` past this many proposals (deep left tails).

    Returns
    -------
    estimate : ndarray, shape (P,)
    info : dict
        ``draws`` (proposals made), ``accepted``, ``acceptance_rate``, ``std_error`` (per
        parameter, from the spread of the accepted scores).

    Notes
    -----
    Acceptance is $F(\hat x)$, so the expected number of proposals is $M / F(\hat x)$: cheap in
    the bulk, hopeless far in the left tail. Sampling the right tail instead (acceptance
    $1 - F$, integrand the complementary integral) does not rescue the left tail: measured in
    the gallery's rejection-sampling example, its per-draw spread there is so large that it needs
    far more proposals than Eq. (10) itself. Each tail form is only practical where its own
    tail mass is not small.
    """
    theta = np.asarray(theta, dtype=float)
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator (np.random.default_rng(seed))")
    if not (np.ndim(x_hat) == 0 and np.isfinite(x_hat)):
        raise ValueError(f"x_hat must be a finite scalar, got {x_hat!r}")
    if not np.all(np.isfinite(theta)):
        raise ValueError("theta contains NaN or inf")
    if int(n_samples) < 1:
        raise ValueError("n_samples must be at least 1")
    accepted = []
    draws = 0
    batch = max(64, int(n_samples))
    while sum(len(a) for a in accepted) < n_samples:
        if draws >= max_draws:
            raise RuntimeError(
                f"rejection sampling drew {draws} proposals and kept "
                f"{sum(len(a) for a in accepted)}; x_hat is too far in the left tail")
        t = np.asarray(sample(rng, theta, batch), dtype=float)
        draws += batch
        accepted.append(t[t <= x_hat])
        batch = min(2 * batch, 10**6)
    t = np.concatenate(accepted)[:n_samples]
    scores = _vector_scores(log_pdf, t, theta)                     # (M, P)
    F = float(cdf(x_hat, theta)) if cdf is not None else len(np.concatenate(accepted)) / draws
    log_f = float(log_pdf(np.array([x_hat]), theta)[0])
    ratio = np.exp(np.log(F) - log_f)
    estimate = -ratio * scores.mean(axis=0)
    std_error = ratio * scores.std(axis=0, ddof=1) / np.sqrt(len(t)) if len(t) > 1 else np.inf
    return estimate, {"draws": draws, "accepted": int(len(t)),
                      "acceptance_rate": len(np.concatenate(accepted)) / draws,
                      "std_error": std_error}


def _vector_scores(log_pdf, t, theta):
    """Per-sample scores d log f(t_m)/d theta, (M, *theta.shape), in O(P M).

    One forward-mode pass per parameter (P of them) gives a column for all M samples at once.
    Many of autograd's ``scipy`` functions have no forward-mode rule; then the reverse-mode
    Jacobian is taken over chunks of 256 samples (``log_pdf`` is elementwise in ``t``), which
    keeps the cost linear in M instead of the M passes over all M samples of one Jacobian.
    """
    from autograd import jacobian, make_jvp
    try:
        jvp = make_jvp(lambda th: log_pdf(t, th))(theta)
        basis = np.eye(theta.size).reshape((theta.size,) + theta.shape)
        cols = [np.asarray(jvp(e)[1], dtype=float) for e in basis]
        return np.stack(cols, axis=-1).reshape((len(t),) + theta.shape)
    except NotImplementedError:
        return np.concatenate([jacobian(lambda th: log_pdf(t[i:i + 256], th))(theta)
                               for i in range(0, len(t), 256)])


# --------------------------------------------------------------------------------------------
# 2. The diagonal Gaussian mixture as a product of 1-D conditionals (Eqs. 1-4)
# --------------------------------------------------------------------------------------------
def _log_normal(x, mu, sigma):
    z = (x - mu) / sigma
    return -0.5 * z * z - anp.log(sigma) - _LOG_SQRT_2PI


def mixture_log_pdf(x, logits, mu, sigma):
    r"""Log-density of a Gaussian mixture with diagonal covariances.

    Implements the mixture density that Eq. (1) of Graves (2016) factorises,

    $$
    \log f(\mathbf x)
      = \log \sum_{k=1}^{K} \pi_k \prod_{d=1}^{D} \mathcal N(x_d; \mu_{kd}, \sigma_{kd}^2),
    \qquad \pi = \mathrm{softmax}(\text{logits}),
    $$

    with a log-sum-exp over components, so it never underflows.

    Parameters
    ----------
    x : ndarray, shape (N, D)
    logits : ndarray, shape (K,)
    mu, sigma : ndarray, shape (K, D)

    Returns
    -------
    ndarray, shape (N,)

    Examples
    --------
    >>> mixture_log_pdf(np.zeros((1, 1)), np.zeros(1), np.zeros((1, 1)), np.ones((1, 1)))
    array([-0.91893853])
    """
    _, D = _check_params(logits, mu, sigma)
    _check_x("x", x, D)
    # (N, 1, D) against (1, K, D) -> (N, K)
    log_comp = anp.sum(_log_normal(x[:, None, :], mu[None], sigma[None]), axis=2)
    return logsumexp(_log_softmax(logits)[None, :] + log_comp, axis=1)


def conditional_log_weights(x, logits, mu, sigma):
    r"""Log mixing weights of each 1-D conditional $f(x_d \mid \mathbf x_{<d})$.

    Implements the conditional of Eq. (1) of Graves (2016): the conditional of $x_d$ given the
    earlier coordinates is again a 1-D mixture with the same component means and scales, whose
    weights are the components' posterior responsibilities for $\mathbf x_{<d}$,

    $$
    \pi_k^{(d)}(\mathbf x_{<d}) =
    \frac{\pi_k \prod_{d' < d} \mathcal N(x_{d'}; \mu_{kd'}, \sigma_{kd'}^2)}
         {\sum_j \pi_j \prod_{d' < d} \mathcal N(x_{d'}; \mu_{jd'}, \sigma_{jd'}^2)} .
    $$

    Parameters
    ----------
    x : ndarray, shape (N, D)
    logits : ndarray, shape (K,)
    mu, sigma : ndarray, shape (K, D)

    Returns
    -------
    ndarray, shape (N, D, K)
        $\log \pi_k^{(d)}$; row ``d = 0`` is $\log \pi$.
    """
    _, D = _check_params(logits, mu, sigma)
    _check_x("x", x, D)
    log_comp = _log_normal(x[:, :, None], mu.T[None], sigma.T[None])          # (N, D, K)
    # exclusive cumulative sum over d: prefix[:, d] = sum_{d' < d} log N
    prefix = anp.cumsum(log_comp, axis=1) - log_comp
    log_w = _log_softmax(logits)[None, None, :] + prefix
    return log_w - logsumexp(log_w, axis=2, keepdims=True)


def _check_1d(x, log_pi, mu, sigma):
    """Validate the arguments of the 1-D helpers; returns float arrays (x (N,), others)."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or not np.all(np.isfinite(x)):
        raise ValueError(f"x must be a finite 1-D array of shape (N,), got shape {x.shape}")
    log_pi, mu, sigma = (np.asarray(a, dtype=float) for a in (log_pi, mu, sigma))
    try:
        shape = np.broadcast_shapes(log_pi.shape, mu.shape, sigma.shape, (len(x), 1))
    except ValueError:
        raise ValueError(f"log_pi {log_pi.shape}, mu {mu.shape} and sigma {sigma.shape} must "
                         f"each be (K,) or (N, K) with N = {len(x)}") from None
    if len(shape) != 2 or any(a.ndim not in (1, 2) for a in (log_pi, mu, sigma)):
        raise ValueError("log_pi, mu and sigma must each have shape (K,) or (N, K)")
    if not (np.all(np.isfinite(mu)) and np.all(np.isfinite(sigma)) and np.all(sigma > 0)):
        raise ValueError("mu must be finite and sigma finite and > 0")
    if np.any(np.isnan(log_pi)) or np.any(log_pi == np.inf):
        raise ValueError("log_pi contains NaN or +inf")
    total = logsumexp(log_pi, axis=-1)
    if not np.allclose(total, 0.0, atol=1e-8):
        raise ValueError("the weights exp(log_pi) do not sum to 1 (log-sum-exp "
                         f"{np.max(np.abs(total)):.3g} away from 0); pass normalised log "
                         "weights, e.g. logits - logsumexp(logits)")
    return x, log_pi, mu, sigma


def mixture_cdf_1d(x, log_pi, mu, sigma):
    r"""CDF of a 1-D Gaussian mixture, one mixture per sample.

    Implements the 1-D mixture CDF used in Eq. (4) of Graves (2016),

    $$
    F(x) = \sum_{k=1}^{K} \pi_k\, \Phi\!\left(\frac{x - \mu_k}{\sigma_k}\right).
    $$

    Parameters
    ----------
    x : ndarray, shape (N,)
    log_pi : ndarray, shape (N, K) or (K,)
        Log weights (normalised), per sample or shared.
    mu, sigma : ndarray, shape (N, K) or (K,)

    Returns
    -------
    ndarray, shape (N,)
        $F(x)$, computed as $\exp \operatorname{logsumexp}_k(\log \pi_k + \log \Phi(z_k))$.

    Examples
    --------
    >>> mixture_cdf_1d(np.array([0.0]), np.log([0.5, 0.5]), np.array([-1.0, 1.0]), np.ones(2))
    array([0.5])
    """
    x, log_pi, mu, sigma = _check_1d(x, log_pi, mu, sigma)
    z = (x[:, None] - mu) / sigma
    return np.exp(logsumexp(log_pi + log_ndtr(z), axis=-1))


def _conditional_terms(x, log_w, m, s):
    """Log CDF pieces of the 1-D conditionals, all (N, D, K) or (N, D).

    x (N, D); log_w (N, D, K); m, s (N, D, K) conditional means/scales (broadcastable).
    Returns z, log_phi (standard normal log pdf), log_Phi, log_Q (upper tail), log_f (density of
    the conditional at x_d), log_F, log_Fc (1 - F), lower (bool: use the lower tail).
    """
    z = (x[:, :, None] - m) / s
    log_phi = -0.5 * z * z - _LOG_SQRT_2PI
    log_Phi = log_ndtr(z)
    log_Q = log_ndtr(-z)
    log_f = logsumexp(log_w + log_phi - np.log(s), axis=2)
    log_F = logsumexp(log_w + log_Phi, axis=2)
    log_Fc = logsumexp(log_w + log_Q, axis=2)
    lower = log_F <= log_Fc
    return z, log_phi, log_Phi, log_Q, log_f, log_F, log_Fc, lower


def _h_ratio(log_w, log_Phi, log_Q, log_f, log_F, log_Fc, lower):
    r"""h_k = pi_k^{(d)} (Phi_k - F) / f, from whichever tail keeps it accurate. (N, D, K)."""
    # Phi_k - F from the lower tail, or (1 - F) - (1 - Phi_k) from the upper tail; the
    # difference is formed in log space (sign times exp of log|a - b|), so a ratio too large
    # for float64 (a sample between modes hundreds of standard deviations apart) is +-inf,
    # never NaN.
    log_a = np.where(lower[..., None], log_Phi, log_Fc[..., None])
    log_b = np.where(lower[..., None], log_F[..., None], log_Q)
    big, small = np.maximum(log_a, log_b), np.minimum(log_a, log_b)
    with np.errstate(divide="ignore", over="ignore"):
        log_abs = big + np.log1p(-np.exp(small - big))
        mag = np.exp(log_w + log_abs - log_f[..., None])
    return np.where(log_a >= log_b, mag, -mag)


# --------------------------------------------------------------------------------------------
# 3. Closed-form partial derivatives of one conditional (the paper's 1-D results)
# --------------------------------------------------------------------------------------------
def dx_dmu_1d(x, log_pi, mu, sigma):
    r"""Derivative of a 1-D mixture sample with respect to the component means.

    Implements Eq. (6) of Graves (2016) for $\theta = \mu_k$ of a 1-D Gaussian mixture, where
    the integral is $-\pi_k \mathcal N(\hat x; \mu_k, \sigma_k^2)$, so the gradient is the
    component's responsibility for the sample:

    $$
    \frac{\partial \hat x}{\partial \mu_k}
    = \frac{\pi_k \mathcal N(\hat x; \mu_k, \sigma_k^2)}{f(\hat x)} = r_k(\hat x).
    $$

    Parameters
    ----------
    x : ndarray, shape (N,)
    log_pi, mu, sigma : ndarray, shape (K,) or (N, K)

    Returns
    -------
    ndarray, shape (N, K)
    """
    x, log_pi, mu, sigma = _check_1d(x, log_pi, mu, sigma)
    log_c = log_pi + _log_normal(x[:, None], mu, sigma)
    return np.exp(log_c - logsumexp(log_c, axis=-1, keepdims=True))


def dx_dsigma_1d(x, log_pi, mu, sigma):
    r"""Derivative of a 1-D mixture sample with respect to the component scales.

    Implements Eq. (6) of Graves (2016) for $\theta = \sigma_k$: the integral of
    $\partial \mathcal N / \partial \sigma_k$ up to $\hat x$ is
    $-\mathcal N(\hat x)(\hat x - \mu_k)/\sigma_k$, so

    $$
    \frac{\partial \hat x}{\partial \sigma_k} = r_k(\hat x)\, \frac{\hat x - \mu_k}{\sigma_k} .
    $$

    With one component this is exactly the reparameterisation trick's $\epsilon$.

    Parameters
    ----------
    x : ndarray, shape (N,)
    log_pi, mu, sigma : ndarray, shape (K,) or (N, K)

    Returns
    -------
    ndarray, shape (N, K)
    """
    x, log_pi, mu, sigma = _check_1d(x, log_pi, mu, sigma)
    return dx_dmu_1d(x, log_pi, mu, sigma) * (x[:, None] - mu) / sigma


def dx_dlogits_1d(x, log_pi, mu, sigma):
    r"""Derivative of a 1-D mixture sample with respect to the mixing logits.

    Implements Eq. (22) of Graves (2016) (the closed-form weight integral; the number is the
    one Larochelle's ShortScience review gives for it, which we could not check against the
    paper's own numbering beyond Eq. 6). For unconstrained weights the integral of
    $\partial f / \partial \pi_k$ is $\Phi_k(\hat x)$; with $\pi = \mathrm{softmax}(a)$ the chain
    rule gives

    $$
    \frac{\partial \hat x}{\partial a_k}
    = -\frac{\pi_k \left(\Phi\!\left(\frac{\hat x - \mu_k}{\sigma_k}\right)
      - F(\hat x)\right)}{f(\hat x)} .
    $$

    Parameters
    ----------
    x : ndarray, shape (N,)
    log_pi, mu, sigma : ndarray, shape (K,) or (N, K)

    Returns
    -------
    ndarray, shape (N, K)

    Notes
    -----
    Computed as a ratio of log-space quantities, from the lower tail when $F \le 1/2$ and from
    the upper tail ($\Phi_k - F = (1 - F) - (1 - \Phi_k)$) otherwise, so it neither underflows
    nor cancels. It is large where $f(\hat x)$ is small between well-separated modes: that is
    where this estimator's variance comes from.
    """
    x, log_pi, mu, sigma = _check_1d(x, log_pi, mu, sigma)
    shape = np.broadcast_shapes(np.shape(log_pi), (len(x), np.shape(mu)[-1]))      # (N, K)
    log_pi = np.broadcast_to(log_pi, shape)
    mu_, s_ = np.broadcast_to(mu, log_pi.shape), np.broadcast_to(sigma, log_pi.shape)
    terms = _conditional_terms(x[:, None], log_pi[:, None, :], mu_[:, None, :], s_[:, None, :])
    _, _, log_Phi, log_Q, log_f, log_F, log_Fc, lower = terms
    return -_h_ratio(log_pi[:, None, :], log_Phi, log_Q, log_f, log_F, log_Fc, lower)[:, 0, :]


# --------------------------------------------------------------------------------------------
# 4. The chain rule through ancestral sampling
# --------------------------------------------------------------------------------------------
def _terms_log(x, logits, mu, sigma):
    """h, r of every conditional, (N, D, K), entirely in log space (slow, never underflows)."""
    log_w = np.asarray(conditional_log_weights(x, logits, mu, sigma))                # (N, D, K)
    m, s = mu.T[None], sigma.T[None]                                                   # (1, D, K)
    z, log_phi, log_Phi, log_Q, log_f, log_F, log_Fc, lower = _conditional_terms(x, log_w, m, s)
    h = _h_ratio(log_w, log_Phi, log_Q, log_f, log_F, log_Fc, lower)
    r = np.exp(log_w + log_phi - np.log(s) - log_f[..., None])
    return h, r


#: Below this conditional density (or tail mass) a sample leaves the fast path for log space.
_TINY = 1e-250


def _terms_fast(z, lp, log_pi):
    """h, r of every conditional in linear space, and a mask of the samples where that is safe.

    Arrays are laid out (K, D, n), so that sums over components add K contiguous slabs and
    the sweep over d reads contiguous rows. ``z`` and ``lp`` hold the standardised coordinates
    and log N(x_d; mu_kd, sigma_kd). The conditional weights come from log space (their
    products underflow at once); the rest uses ordinary densities and one ``erfc`` for both
    tails. A sample is safe when every conditional density and both tail masses exceed
    ``_TINY``; the others are redone by :func:`_terms_log`.
    """
    K, D, n = z.shape
    lw = np.empty_like(lp)                           # log pi_k + sum_{e < d} log N_ek
    lw[:, 0] = log_pi[:, None]
    for d in range(1, D):
        np.add(lw[:, d - 1], lp[:, d - 1], out=lw[:, d])
    lw -= lw.max(axis=0)
    w = np.exp(lw, out=lw)
    w /= w.sum(axis=0)                               # pi_k^{(d)}
    a = np.exp(lp)
    a *= w                                           # pi_k^{(d)} N_dk
    f = a.sum(axis=0)                                # (D, n)
    # Both tails from the smaller one, Phi(-|z|) = erfc(|z|/sqrt 2)/2, accurate to full relative
    # precision; masks enter as 0/1 factors, which is faster than np.where here.
    t = erfc(np.abs(z) * _SQRT_HALF)
    t *= 0.5
    neg = (z < 0).astype(float)
    one_minus_2t = 1.0 - 2.0 * t
    Phi = t + (1.0 - neg) * one_minus_2t             # Phi(z)
    Q = t + neg * one_minus_2t                       # 1 - Phi(z)
    F = (w * Phi).sum(axis=0)
    Fc = (w * Q).sum(axis=0)
    lower = (F <= Fc).astype(float)
    # Phi_k - F from the lower tail where F <= 1/2, as (1 - F) - (1 - Phi_k) otherwise
    diff = lower * (Phi - F) + (1.0 - lower) * (Fc - Q)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        inv_f = 1.0 / f
        h = w * diff * inv_f
        r = a * inv_f
    ok = np.all((f > _TINY) & (np.minimum(F, Fc) > _TINY), axis=0)               # (n,)
    return h, r, ok


def _diag_backward(g, x, logits, mu, sigma, chunk=None):
    """O(N K D) adjoint of the diagonal quantile transform. Returns (g_logits, g_mu, g_sigma).

    Works through the samples in chunks of about 40,000 array entries, which stay in cache
    (measured: 2-4 times faster than one pass over 10,000 samples); see :func:`mixture_vjp`.
    """
    N, D = x.shape
    K = logits.shape[0]
    chunk = chunk or max(16, 40_000 // (D * K))
    log_pi = logits - logsumexp(logits)
    inv_s = (1.0 / sigma)[:, :, None]                                              # (K, D, 1)
    mu_s = mu[:, :, None] * inv_s
    c = (-np.log(sigma) - _LOG_SQRT_2PI)[:, :, None]
    g_logits, g_mu, g_sigma = np.zeros(K), np.zeros((K, D)), np.zeros((K, D))
    for lo in range(0, N, chunk):
        xc = np.ascontiguousarray(x[lo:lo + chunk].T)                                # (D, n)
        gc = np.ascontiguousarray(g[lo:lo + chunk].T)
        n = xc.shape[1]
        z = xc * inv_s - mu_s                                                      # (K, D, n)
        lp = z * z
        lp *= -0.5
        lp += c                                                        # log N(x_d; mu_kd, s_kd)
        h, r, ok = _terms_fast(z, lp, log_pi)
        if not ok.all():
            h_log, r_log = _terms_log(x[lo:lo + chunk][~ok], logits, mu, sigma)  # (m, D, K)
            h[:, :, ~ok] = h_log.transpose(2, 1, 0)
            r[:, :, ~ok] = r_log.transpose(2, 1, 0)
        score = z * -inv_s                           # d log N(x_d; mu_kd, s_kd) / d x_d
        lam = np.empty((D, n))
        C = np.empty((K, D, n))                      # C[k, d] = sum_{e > d} lam_e h_{e k}
        R = np.zeros((K, n))
        for d in range(D - 1, -1, -1):   # back-substitution of the transposed triangular system
            C[:, d] = R
            lam[d] = gc[d] - np.einsum("kn,kn->n", score[:, d], R)
            R += lam[d] * h[:, d]
        g_logits -= np.einsum("kdn,dn->k", h, lam)
        g_mu += np.einsum("kdn,dn->kd", r, lam) + np.einsum("kdn,kdn->kd", score, C)
        g_sigma += np.einsum("kdn,dn->kd", r * z, lam) \
            - np.einsum("kdn,kdn->kd", z * z - 1.0, C) * inv_s[:, :, 0]
    return g_logits, g_mu, g_sigma


def ancestral_jacobian(x, logits, mu, sigma):
    r"""Full Jacobian $d\mathbf x / d\theta$ of the quantile transform, by a triangular solve.

    Implements the chain rule through ancestral sampling of Graves (2016): Eq. (6) applied to
    every conditional of Eq. (1). Differentiating $F_d(x_d \mid \mathbf x_{<d}; \theta) = u_d$
    for every $d$ at fixed $\mathbf u$ gives a lower-triangular linear system,

    $$
    A\, \frac{d\mathbf x}{d\theta} = -\frac{\partial \mathbf F}{\partial \theta},\qquad
    A_{dd} = f_d(x_d \mid \mathbf x_{<d}),\quad
    A_{de} = \frac{\partial F_d}{\partial x_e}\ (e < d),
    $$

    solved by forward substitution: $x_d$ depends on $\theta$ directly and through $\mathbf x_{<d}$.
    Both sides are divided row by row by $f_d$ (a ratio taken in log space), so the system has
    a unit diagonal and stays finite in the tails. This is the teaching version, building
    ``O(N K D^2)`` numbers; autograd uses :func:`mixture_vjp`, which never forms it, and the
    tests check that the two agree.

    Parameters
    ----------
    x : ndarray, shape (N, D)
        Samples (from any sampler: the Jacobian depends only on the sample).
    logits : ndarray, shape (K,)
    mu, sigma : ndarray, shape (K, D)

    Returns
    -------
    dict of ndarray
        ``"logits"`` (N, D, K), ``"mu"`` (N, D, K, D), ``"sigma"`` (N, D, K, D):
        ``J[name][n, d, ...]`` is $\partial x_{nd} / \partial \theta$.
    """
    from scipy.linalg import solve_triangular
    K, D = _check_params(logits, mu, sigma)
    x = _check_x("x", x, D)
    logits, mu, sigma = (np.asarray(a, dtype=float) for a in (logits, mu, sigma))
    N = x.shape[0]
    log_w = np.asarray(conditional_log_weights(x, logits, mu, sigma))                # (N, D, K)
    z, log_phi, log_Phi, log_Q, log_f, log_F, log_Fc, lower = _conditional_terms(
        x, log_w, mu.T[None], sigma.T[None])
    h = _h_ratio(log_w, log_Phi, log_Q, log_f, log_F, log_Fc, lower)                  # (N, D, K)
    r = np.exp(log_w + log_phi - np.log(sigma.T)[None] - log_f[..., None])             # (N, D, K)
    score = -z / sigma.T[None]                                                         # (N, D, K)
    # Both sides divided row-wise by f_d (log-space ratios), so A has a unit diagonal.
    # A[n, d, e] = sum_k h[n, d, k] score[n, e, k] for e < d.
    A = np.tril(np.einsum("ndk,nek->nde", h, score), -1) + np.eye(D)[None]
    strict = np.tril(np.ones((D, D)), -1)                                              # e < d
    B_a = h                                                                            # (N, D, K)
    # B_mu[n, d, k, e]: through the weights for e < d, through Phi for e = d
    B_m = np.einsum("ndk,nek,de->ndke", h, -score, strict)
    B_s = np.einsum("ndk,nek,de->ndke", h, (z * z - 1.0) / sigma.T[None], strict)
    idx = np.arange(D)
    B_m[:, idx, :, idx] = -r.transpose(1, 0, 2)
    B_s[:, idx, :, idx] = -(r * z).transpose(1, 0, 2)
    J_a = np.empty((N, D, K))
    J_m = np.empty((N, D, K, D))
    J_s = np.empty((N, D, K, D))
    for n in range(N):     # forward substitution, one lower-triangular solve per sample
        J_a[n] = -solve_triangular(A[n], B_a[n], lower=True, unit_diagonal=True)
        J_m[n] = -solve_triangular(A[n], B_m[n].reshape(D, -1), lower=True,
                                   unit_diagonal=True).reshape(D, K, D)
        J_s[n] = -solve_triangular(A[n], B_s[n].reshape(D, -1), lower=True,
                                   unit_diagonal=True).reshape(D, K, D)
    return {"logits": J_a, "mu": J_m, "sigma": J_s}


def mixture_vjp(g, x, logits, mu, sigma):
    r"""Vector-Jacobian product $\mathbf g^\top d\mathbf x / d\theta$ in ``O(N K D)``.

    Implements the transpose of the chain rule through ancestral sampling of Graves (2016):
    Eq. (6) applied to each conditional of Eq. (1). With $A$ the lower-triangular matrix of
    :func:`ancestral_jacobian`, $\mathbf g^\top d\mathbf x/d\theta = -\boldsymbol\lambda^\top
    \partial \mathbf F/\partial \theta$ where $A^\top \boldsymbol\lambda = \mathbf g$. Writing
    $\tilde\lambda_d = f_d \lambda_d$, $h_{dk} = \pi^{(d)}_k(\Phi_{dk} - F_d)/f_d$,
    $r_{dk} = \pi^{(d)}_k \mathcal N_{dk} / f_d$, $s_{dk} = -(x_d - \mu_{kd})/\sigma_{kd}^2$ and
    $C_{dk} = \sum_{e > d} \tilde\lambda_e h_{ek}$, back-substitution reads

    $$
    \tilde\lambda_d = g_d - \sum_k s_{dk} C_{dk},\qquad
    \frac{\partial L}{\partial a_k} = -\sum_d \tilde\lambda_d h_{dk},\qquad
    \frac{\partial L}{\partial \mu_{kd}} = \tilde\lambda_d r_{dk} + s_{dk} C_{dk},\qquad
    \frac{\partial L}{\partial \sigma_{kd}} = \tilde\lambda_d r_{dk} z_{dk}
      - \frac{z_{dk}^2 - 1}{\sigma_{kd}} C_{dk},
    $$

    summed over samples, with $z_{dk} = (x_d - \mu_{kd})/\sigma_{kd}$.

    Parameters
    ----------
    g : ndarray, shape (N, D)
        Cotangent $\partial L / \partial \mathbf x$.
    x : ndarray, shape (N, D)
    logits : ndarray, shape (K,)
    mu, sigma : ndarray, shape (K, D)

    Returns
    -------
    tuple of ndarray
        Gradients for ``logits`` (K,), ``mu`` (K, D), ``sigma`` (K, D).

    Notes
    -----
    Derivation: $\partial F_e/\partial x_d = \sum_k \pi^{(e)}_k(\Phi_{ek} - F_e) s_{dk}$ for
    $d < e$ (only the weights depend on earlier coordinates), so the sum over $e > d$ needed by
    back-substitution collapses to a running sum over $K$: one reverse sweep over $d$, nothing
    of size $D^2$. Every ratio by $f_d$ is taken in log space, so the sweep stays finite at 40
    standard deviations where $f_d$ itself underflows. For $D = K = 1$ it is exactly the
    reparameterisation trick: $\partial L/\partial\mu = g$, $\partial L/\partial\sigma = g z$.
    """
    _, D = _check_params(logits, mu, sigma)
    x = _check_x("x", x, D)
    g = np.asarray(g, dtype=float)
    if g.shape != x.shape:
        raise ValueError(f"g has shape {g.shape}; it must match x {x.shape}")
    return _diag_backward(g, x, *(np.asarray(a, dtype=float) for a in (logits, mu, sigma)))


# --------------------------------------------------------------------------------------------
# 5. The samplers: quantile transform (Eqs. 2-3) and the ordinary sampler, both differentiable
# --------------------------------------------------------------------------------------------
def _solve_1d(log_u, log_uc, log_w, m, s, tol=1e-13, max_iter=200):
    """Solve F(x) = u for N 1-D mixtures: bracketed Newton in log space, vectorised.

    log_u, log_uc (N,) log u and log(1 - u); log_w, m, s (N, K). Returns x (N,).
    """
    u = np.exp(log_u)
    q = ndtri(np.clip(u, 1e-300, None))[:, None]
    q = np.where((u > 0.5)[:, None], -ndtri(np.clip(np.exp(log_uc), 1e-300, None))[:, None], q)
    comp_q = m + s * q                            # each component's u-quantile brackets F^{-1}(u)
    lo, hi = comp_q.min(axis=1), comp_q.max(axis=1)
    x = np.sum(np.exp(log_w) * comp_q, axis=1)
    x = np.clip(x, lo, hi)
    use_lower = log_u <= log_uc
    scale = np.max(s, axis=1)
    active = np.ones_like(x, dtype=bool)
    with np.errstate(over="ignore", invalid="ignore"):
        return _newton_bisect(x, lo, hi, log_u, log_uc, log_w, m, s, use_lower, scale, active,
                              tol, max_iter)


def _newton_bisect(x, lo, hi, log_u, log_uc, log_w, m, s, use_lower, scale, active, tol,
                   max_iter):
    for _ in range(max_iter):  # overflow of f/F between far-apart modes falls back to bisection
        z = (x[:, None] - m) / s
        log_f = logsumexp(log_w - 0.5 * z * z - _LOG_SQRT_2PI - np.log(s), axis=1)
        log_F = logsumexp(log_w + log_ndtr(z), axis=1)
        log_Fc = logsumexp(log_w + log_ndtr(-z), axis=1)
        # residual in log space: g = log F - log u (lower) or log u_c - log F_c (upper); both
        # increase with x, with derivative f/F and f/F_c respectively.
        resid = np.where(use_lower, log_F - log_u, log_uc - log_Fc)
        slope_inv = np.where(use_lower, np.exp(log_F - log_f), np.exp(log_Fc - log_f))
        hi = np.where(resid > 0, np.minimum(hi, x), hi)
        lo = np.where(resid < 0, np.maximum(lo, x), lo)
        step = resid * slope_inv
        x_new = np.where(resid == 0, x, x - step)
        bad = ~np.isfinite(x_new) | (x_new < lo) | (x_new > hi)
        x_new = np.where(bad, 0.5 * (lo + hi), x_new)
        converged = (np.abs(x_new - x) <= tol * (np.abs(x) + scale)) | (resid == 0)
        x = np.where(active, x_new, x)
        active &= ~converged
        if not active.any():
            break
    return x


def _diag_quantile(u, logits, mu, sigma):
    N, D = u.shape
    log_pi = logits - logsumexp(logits)
    log_u, log_uc = np.log(u), np.log1p(-u)
    x = np.empty((N, D))
    prefix = np.broadcast_to(log_pi, (N, len(log_pi))).copy()
    for d in range(D):
        log_w = prefix - logsumexp(prefix, axis=1, keepdims=True)
        m = np.broadcast_to(mu[:, d], log_w.shape)
        s = np.broadcast_to(sigma[:, d], log_w.shape)
        x[:, d] = _solve_1d(log_u[:, d], log_uc[:, d], log_w, m, s)
        prefix = prefix + _log_normal(x[:, d, None], mu[:, d], sigma[:, d])
    return x


@primitive
def _through_diag(x, logits, mu, sigma):
    """Identity on the sample ``x``; its VJP in the parameters is the implicit gradient."""
    return x


def _through_diag_vjp(argnums, ans, args, kwargs):
    x, logits, mu, sigma = args

    def vjp(g):
        grads = dict(zip((1, 2, 3), _diag_backward(np.asarray(g), x, logits, mu, sigma)))
        return tuple(grads[i] if i in grads else np.zeros_like(x) for i in argnums)
    return vjp


defvjp_argnums(_through_diag, _through_diag_vjp)


def mixture_quantile(u, logits, mu, sigma):
    r"""Multivariate quantile transform of a diagonal Gaussian mixture, differentiable.

    Implements Eqs. (2)-(3) of Graves (2016): $x_d = F_d^{-1}(u_d \mid \mathbf x_{<d})$, where
    $F_d$ is the CDF of the 1-D conditional mixture of :func:`conditional_log_weights`,

    $$
    \hat x_d = F_d^{-1}\!\left(u_d \,\middle|\, \hat{\mathbf x}_{<d}\right),\qquad
    F_d(x \mid \mathbf x_{<d})
      = \sum_k \pi_k^{(d)}\, \Phi\!\left(\frac{x - \mu_{kd}}{\sigma_{kd}}\right),
    \qquad u_d \sim U(0, 1).
    $$

    ``autograd`` differentiates the result in ``logits``, ``mu`` and ``sigma`` through the
    implicit gradient (Eq. 6 and the chain rule, :func:`mixture_vjp`), never through the solver.

    Parameters
    ----------
    u : ndarray, shape (N, D)
        Uniform noise, strictly inside (0, 1). Not differentiated.
    logits : ndarray, shape (K,)
    mu, sigma : ndarray, shape (K, D)

    Returns
    -------
    ndarray, shape (N, D)

    Notes
    -----
    Each conditional is solved by Newton's method on $\log F$ (or $\log(1 - F)$ above the
    median), safeguarded by bisection inside the bracket formed by the components' own
    $u$-quantiles (the mixture quantile lies between the smallest and largest of them). The
    relative accuracy is about ``1e-13``.

    Examples
    --------
    >>> u = np.array([[0.975]])
    >>> mixture_quantile(u, np.zeros(1), np.zeros((1, 1)), np.ones((1, 1)))  # the normal quantile
    array([[1.95996398]])
    """
    _, D = _check_params(logits, mu, sigma)
    u = _check_u(u, D)
    x = _diag_quantile(u, *(np.asarray(getval(a), dtype=float) for a in (logits, mu, sigma)))
    return _through_diag(x, logits, mu, sigma)


def mixture_sample(rng, logits, mu, sigma, n):
    r"""Ordinary sampler of a diagonal Gaussian mixture, differentiable by the implicit gradient.

    Implements the observation under Eq. (6) of Graves (2016) that the gradient depends only on
    the sample: pick a component $k \sim \mathrm{Cat}(\pi)$, draw
    $\hat{\mathbf x} = \boldsymbol\mu_k + \boldsymbol\sigma_k \odot \boldsymbol\epsilon$, and
    attach the same gradient as the quantile transform would at that $\hat{\mathbf x}$,

    $$
    \hat{\mathbf x}
      \sim \sum_k \pi_k\, \mathcal N(\boldsymbol\mu_k, \mathrm{diag}\,\boldsymbol\sigma_k^2),
    \qquad
    \frac{d\hat{\mathbf x}}{d\theta}
      = -A^{-1} \frac{\partial \mathbf F(\hat{\mathbf x})}{\partial \theta} .
    $$

    This is what goes into a variational autoencoder: no root finding, exact gradient.

    Parameters
    ----------
    rng : numpy.random.Generator
    logits : ndarray, shape (K,)
    mu, sigma : ndarray, shape (K, D)
    n : int
        Number of samples.

    Returns
    -------
    ndarray, shape (n, D)

    Examples
    --------
    >>> from autograd import grad
    >>> rng = np.random.default_rng(0)
    >>> f = lambda a: mixture_sample(rng, a, np.array([[-2.0], [2.0]]), np.ones((2, 1)), 4).sum()
    >>> grad(f)(np.zeros(2)).shape
    (2,)
    """
    K, D = _check_params(logits, mu, sigma)
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator (np.random.default_rng(seed))")
    if int(n) < 1:
        raise ValueError("n must be a positive number of samples")
    lg, m, s = (np.asarray(getval(a), dtype=float) for a in (logits, mu, sigma))
    pi = np.exp(lg - logsumexp(lg))
    k = rng.choice(K, size=int(n), p=pi / pi.sum())
    x = m[k] + s[k] * rng.standard_normal((int(n), D))
    return _through_diag(x, logits, mu, sigma)


# --------------------------------------------------------------------------------------------
# 6. Full covariances (mentioned by the paper, derived here)
# --------------------------------------------------------------------------------------------
def _full_z(x, mu, L):
    """Whitened coordinates z[n, k] = L_k^{-1}(x_n - mu_k), (N, K, D), by triangular solves."""
    from scipy.linalg import solve_triangular
    diff = x[:, None, :] - mu[None]                                        # (N, K, D)
    return np.stack([solve_triangular(L[k], diff[:, k].T, lower=True).T
                     for k in range(L.shape[0])], axis=1)


def mixture_log_pdf_full(x, logits, mu, L):
    r"""Log-density of a Gaussian mixture with full covariances $\Sigma_k = L_k L_k^\top$.

    Implements the full-covariance case of the mixture density of Eq. (1) of Graves (2016),

    $$
    \log f(\mathbf x) = \log \sum_k \pi_k\, \mathcal N(\mathbf x; \boldsymbol\mu_k, L_k L_k^\top),
    \qquad \log \mathcal N
      = -\tfrac12 \|\mathbf z_k\|^2 - \sum_d \log L_{k,dd} - \tfrac D2 \log 2\pi,
    \quad \mathbf z_k = L_k^{-1}(\mathbf x - \boldsymbol\mu_k).
    $$

    Parameters
    ----------
    x : ndarray, shape (N, D)
    logits : ndarray, shape (K,)
    mu : ndarray, shape (K, D)
    L : ndarray, shape (K, D, D)
        Lower-triangular Cholesky factors with positive diagonals.

    Returns
    -------
    ndarray, shape (N,)
    """
    _, D = _check_full(logits, mu, L)
    x = _check_x("x", x, D)
    lg, m, Lv = (np.asarray(getval(a), dtype=float) for a in (logits, mu, L))
    z = _full_z(x, m, Lv)
    log_det = np.sum(np.log(np.diagonal(Lv, axis1=1, axis2=2)), axis=1)       # (K,)
    log_comp = -0.5 * np.sum(z * z, axis=2) - log_det - D * _LOG_SQRT_2PI
    return logsumexp((lg - logsumexp(lg))[None] + log_comp, axis=1)


def _full_quantile(u, logits, mu, L):
    N, D = u.shape
    K = len(logits)
    log_pi = logits - logsumexp(logits)
    log_u, log_uc = np.log(u), np.log1p(-u)
    x = np.empty((N, D))
    z = np.zeros((N, K, D))
    prefix = np.broadcast_to(log_pi, (N, K)).copy()
    for d in range(D):
        log_w = prefix - logsumexp(prefix, axis=1, keepdims=True)
        # conditional of x_d under component k: mean mu_kd + sum_{e<d} L_kde z_ke, scale L_kdd
        m = mu[:, d] + np.einsum("ke,nke->nk", L[:, d, :d], z[:, :, :d])
        s = np.broadcast_to(L[:, d, d], (N, K))
        x[:, d] = _solve_1d(log_u[:, d], log_uc[:, d], log_w, m, s)
        z[:, :, d] = (x[:, d, None] - m) / s
        prefix = prefix - 0.5 * z[:, :, d] ** 2 - np.log(L[:, d, d]) - _LOG_SQRT_2PI
    return x


def _full_backward(g, x, logits, mu, L):
    """O(N K D^2) adjoint of the full-covariance quantile transform."""
    N, D = x.shape
    K = len(logits)
    M = np.linalg.inv(L)                                      # (K, D, D), lower-triangular
    z = _full_z(x, mu, L)                                     # (N, K, D)
    diagL = np.diagonal(L, axis1=1, axis2=2)                  # (K, D)
    log_cond = -0.5 * z * z - np.log(diagL)[None] - _LOG_SQRT_2PI      # (N, K, D)
    prefix = np.cumsum(log_cond, axis=2) - log_cond
    log_w = (logits - logsumexp(logits))[None, :, None] + prefix
    log_w = log_w - logsumexp(log_w, axis=1, keepdims=True)
    log_w = np.transpose(log_w, (0, 2, 1))                    # (N, D, K)
    zt = np.transpose(z, (0, 2, 1))                           # (N, D, K)
    log_phi = -0.5 * zt * zt - _LOG_SQRT_2PI
    log_Phi, log_Q = log_ndtr(zt), log_ndtr(-zt)
    log_f = logsumexp(log_w + log_phi - np.log(diagL.T)[None], axis=2)
    log_F = logsumexp(log_w + log_Phi, axis=2)
    log_Fc = logsumexp(log_w + log_Q, axis=2)
    lower = log_F <= log_Fc
    h = _h_ratio(log_w, log_Phi, log_Q, log_f, log_F, log_Fc, lower)          # (N, D, K)
    rho_unit = np.exp(log_w + log_phi - log_f[..., None])                     # w phi / f
    acc1 = np.zeros((N, K, D))    # sum_{e>d} rho_e M_{k,e,:}
    acc2 = np.zeros((N, K, D))    # sum_{b>=d} z_b C_b M_{k,b,:}
    R = np.zeros((N, K))
    lam = np.empty((N, D))
    zeta = np.empty((N, K, D))
    C = np.empty((N, K, D))
    for d in range(D - 1, -1, -1):
        C[:, :, d] = R
        acc2 += (zt[:, d] * R)[:, :, None] * M[None, :, d, :]
        lam[:, d] = g[:, d] - np.sum(acc1[:, :, d] - acc2[:, :, d], axis=1)
        rho = lam[:, d, None] * rho_unit[:, d]
        zeta[:, :, d] = -rho + zt[:, d] * R
        R = R + lam[:, d, None] * h[:, d]
        acc1 += rho[:, :, None] * M[None, :, d, :]
    g_logits = -np.sum(lam[..., None] * h, axis=(0, 1))
    # z_k = M_k (x - mu_k): d/dmu_k = -M_k^T zeta_k ; d/dL_k = -M_k^T zeta_k z_k^T (lower part)
    g_mu = -np.einsum("kdc,nkd->kc", M, zeta)
    Mt_zeta = np.einsum("kdc,nkd->nkc", M, zeta)
    g_L = -np.tril(np.einsum("nkc,nke->kce", Mt_zeta, z))
    # explicit dependence of the weights on log L_kdd
    g_L[:, np.arange(D), np.arange(D)] += np.sum(C, axis=0) / diagL
    return g_logits, g_mu, g_L


def mixture_vjp_full(g, x, logits, mu, L):
    r"""Vector-Jacobian product of the full-covariance quantile transform.

    Implements Eq. (6) of Graves (2016) with the chain rule of :func:`mixture_vjp`, for
    components $\mathcal N(\boldsymbol\mu_k, L_k L_k^\top)$. Under component $k$ the
    conditional of $x_d$ given $\mathbf x_{<d}$ is Gaussian with mean
    $\mu_{kd} + \sum_{e<d} L_{k,de} z_{ke}$ and scale $L_{k,dd}$, where
    $\mathbf z_k = L_k^{-1}(\mathbf x - \boldsymbol\mu_k)$; so every formula of the diagonal case
    holds with $z_{kd}$ in place of $(x_d - \mu_{kd})/\sigma_{kd}$, except that $z_{kd}$ now
    depends on all of $\mathbf x_{\le d}$ through $M_k = L_k^{-1}$:

    $$
    \frac{\partial F_e}{\partial x_d} = \sum_k \pi^{(e)}_k \phi(z_{ke}) M_{k,ed}
      - \sum_k \pi^{(e)}_k (\Phi_{ke} - F_e) \sum_{b=d}^{e-1} z_{kb} M_{k,bd}
      \quad (d \le e).
    $$

    Parameters
    ----------
    g : ndarray, shape (N, D)
    x : ndarray, shape (N, D)
    logits : ndarray, shape (K,)
    mu : ndarray, shape (K, D)
    L : ndarray, shape (K, D, D)

    Returns
    -------
    tuple of ndarray
        Gradients for ``logits`` (K,), ``mu`` (K, D), ``L`` (K, D, D) (lower-triangular).

    Notes
    -----
    Back-substitution keeps two running vectors per component (the two sums above, accumulated
    row by row of $M_k$), so it costs ``O(N K D^2)`` time and ``O(N K D)`` memory: the inherent
    price of a full covariance (the forward pass already pays it in the triangular solves),
    against ``O(N K D)`` for diagonal components. The cotangent on $\mathbf z_k$ is pulled back
    to $\boldsymbol\mu_k$ and $L_k$ by $d\mathbf z_k = -M_k(d\boldsymbol\mu_k + dL_k\,\mathbf z_k)$,
    plus the explicit $\log L_{k,dd}$ in the conditional log-densities that set the weights.
    """
    _, D = _check_full(logits, mu, L)
    x = _check_x("x", x, D)
    g = np.asarray(g, dtype=float)
    if g.shape != x.shape:
        raise ValueError(f"g has shape {g.shape}; it must match x {x.shape}")
    return _full_backward(g, x, *(np.asarray(a, dtype=float) for a in (logits, mu, L)))


@primitive
def _through_full(x, logits, mu, L):
    """Identity on the sample ``x``; its VJP is the full-covariance implicit gradient."""
    return x


def _through_full_vjp(argnums, ans, args, kwargs):
    x, logits, mu, L = args

    def vjp(g):
        grads = dict(zip((1, 2, 3), _full_backward(np.asarray(g), x, logits, mu, L)))
        return tuple(grads[i] if i in grads else np.zeros_like(x) for i in argnums)
    return vjp


defvjp_argnums(_through_full, _through_full_vjp)


def mixture_quantile_full(u, logits, mu, L):
    r"""Multivariate quantile transform of a full-covariance Gaussian mixture, differentiable.

    Implements Eqs. (2)-(3) of Graves (2016) for components
    $\mathcal N(\boldsymbol\mu_k, L_k L_k^\top)$:

    $$
    \hat x_d = F_d^{-1}(u_d \mid \hat{\mathbf x}_{<d}),\qquad
    F_d(x \mid \mathbf x_{<d}) = \sum_k \pi_k^{(d)}\,
      \Phi\!\left(\frac{x - \mu_{kd} - \sum_{e<d} L_{k,de} z_{ke}}{L_{k,dd}}\right),
    $$

    with weights $\pi_k^{(d)} \propto \pi_k \prod_{e<d} \phi(z_{ke}) / L_{k,ee}$. Gradients by
    :func:`mixture_vjp_full`.

    Parameters
    ----------
    u : ndarray, shape (N, D)
    logits : ndarray, shape (K,)
    mu : ndarray, shape (K, D)
    L : ndarray, shape (K, D, D)

    Returns
    -------
    ndarray, shape (N, D)

    Notes
    -----
    With diagonal ``L`` this equals :func:`mixture_quantile` with ``sigma = diag(L)``.
    """
    _, D = _check_full(logits, mu, L)
    u = _check_u(u, D)
    x = _full_quantile(u, *(np.asarray(getval(a), dtype=float) for a in (logits, mu, L)))
    return _through_full(x, logits, mu, L)


def mixture_sample_full(rng, logits, mu, L, n):
    r"""Ordinary sampler of a full-covariance mixture with the implicit gradient attached.

    Implements the sample-only dependence of Eq. (6) of Graves (2016) for full covariances:
    $k \sim \mathrm{Cat}(\pi)$, $\hat{\mathbf x} = \boldsymbol\mu_k + L_k \boldsymbol\epsilon$,
    and the gradient of :func:`mixture_vjp_full` at $\hat{\mathbf x}$,

    $$
    \hat{\mathbf x} \sim \sum_k \pi_k\, \mathcal N(\boldsymbol\mu_k, L_k L_k^\top).
    $$

    Parameters
    ----------
    rng : numpy.random.Generator
    logits : ndarray, shape (K,)
    mu : ndarray, shape (K, D)
    L : ndarray, shape (K, D, D)
    n : int

    Returns
    -------
    ndarray, shape (n, D)
    """
    K, D = _check_full(logits, mu, L)
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator (np.random.default_rng(seed))")
    if int(n) < 1:
        raise ValueError("n must be a positive number of samples")
    lg, m, Lv = (np.asarray(getval(a), dtype=float) for a in (logits, mu, L))
    pi = np.exp(lg - logsumexp(lg))
    k = rng.choice(K, size=int(n), p=pi / pi.sum())
    x = m[k] + np.einsum("nde,ne->nd", Lv[k], rng.standard_normal((int(n), D)))
    return _through_full(x, logits, mu, L)
