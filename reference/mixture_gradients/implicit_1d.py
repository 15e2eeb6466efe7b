r"""Implicit 1-D gradients: the general result (Eq. 6 of Graves, 2016) and its closed forms.

Fix the uniform noise $u$ and write the sample as $\hat x = F^{-1}(u; \theta)$. Differentiating
$F(\hat x(\theta); \theta) = u$ (Eq. 4) and moving the derivative inside the integral (Eq. 5)
gives Eq. (6), a gradient that depends only on the sample. For one Gaussian-mixture conditional
the integral has a closed form for the means, the scales and the mixing logits.
"""

from __future__ import annotations

import numpy as np
from autograd import grad
from scipy.special import log_ndtr

from ._checks import check_1d, check_theta
from .density import _log_normal, _log_phi, _lse

__all__ = ["implicit_gradient_1d", "dx_dmu_1d", "dx_dsigma_1d", "dx_dlogits_1d"]


def implicit_gradient_1d(cdf, pdf, x_hat, theta, log=False, upper=False):
    r"""Gradient of a 1-D sample with respect to its density's parameters.

    Implements Eq. (6) of Graves (2016): differentiating $F(\hat x(\theta); \theta) = u$ at
    fixed $u$ (Eq. 4) and moving the derivative inside the integral by Leibniz's rule (Eq. 5),

    $$
    \frac{\partial \hat x}{\partial \theta}
    = -\frac{1}{f(\hat x; \theta)}
      \int_{-\infty}^{\hat x} \frac{\partial f(t; \theta)}{\partial \theta}\,dt
    = -\frac{\partial F(\hat x; \theta) / \partial \theta}{f(\hat x; \theta)}
    = -\frac{F}{f}\,\frac{\partial \log F}{\partial \theta}
    = \frac{S}{f}\,\frac{\partial \log S}{\partial \theta},\quad S = 1 - F .
    $$

    The right-hand side depends only on the sample $\hat x$, not on how it was drawn. The last
    two forms are the log-space ones (``log=True``), for samples so far out that $f$ and
    $\partial F/\partial\theta$ underflow: $\log F$ in the left tail, $\log S$ in the right.

    Parameters
    ----------
    cdf : callable
        ``cdf(x, theta)``, the CDF $F(x; \theta)$ of the density, written with
        ``autograd.numpy`` so that ``autograd`` can differentiate it in ``theta``. With
        ``log=True`` it returns $\log F$; with ``upper=True`` it is the survival function
        $S = 1 - F$ instead (or $\log S$ when both are set).
    pdf : callable
        ``pdf(x, theta)``, the density $f(x; \theta)$ itself (its $\log f$ when ``log=True``);
        only its value at ``x_hat`` is used, it is not differentiated.
    x_hat : float
        One sample of the density (a scalar; call once per sample).
    theta : ndarray, shape (P,)
        The parameters, at least one.
    log : bool
        If true, ``cdf`` and ``pdf`` return logarithms, which keeps far tails finite.
    upper : bool
        If true, ``cdf`` returns the upper tail $S = 1 - F$ rather than $F$, for samples
        above the median where $1 - F$ would lose digits.

    Returns
    -------
    ndarray, shape (P,)
        $\partial \hat x / \partial \theta$.

    Raises
    ------
    ValueError
        If ``x_hat`` is not a finite scalar or ``theta`` is empty or not finite; if the density
        at ``x_hat`` is NaN or negative (``theta`` is then outside the family's domain, e.g. a
        negative scale); if it is 0 (``x_hat`` outside the support, or so far out that $f$
        underflows: pass ``log=True``).

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
    >>> logcdf = lambda x, th: norm.logcdf(x, th[0], th[1])
    >>> logpdf = lambda x, th: norm.logpdf(x, th[0], th[1])
    >>> implicit_gradient_1d(logcdf, logpdf, -40.0, anp.array([0.0, 1.0]), log=True)
    array([  1., -40.])
    """
    x_hat, theta = check_theta(x_hat, theta)
    density = float(pdf(x_hat, theta))
    if np.isnan(density) or (not log and density < 0):
        raise ValueError(f"pdf(x_hat, theta) = {density}: theta {theta.tolist()} is outside the "
                         "domain of the family (e.g. a scale <= 0)")
    if density == (-np.inf if log else 0.0):
        raise ValueError(f"the density at x_hat = {x_hat} is 0: x_hat is outside the support"
                         + ("" if log else ", or so far out that it underflows (pass log=True "
                            "with log F, or log S and upper=True, and log f)"))
    sign = 1.0 if upper else -1.0
    if log:
        dlogF = grad(lambda th: cdf(x_hat, th))(theta)
        return sign * np.exp(float(cdf(x_hat, theta)) - density) * dlogF
    return sign * grad(lambda th: cdf(x_hat, th))(theta) / density


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
        Samples of the 1-D mixtures, one per mixture.
    log_pi : ndarray, shape (K,) or (N, K)
        Normalised log mixing weights, shared or one row per sample.
    mu : ndarray, shape (K,) or (N, K)
        Component means, shared or one row per sample.
    sigma : ndarray, shape (K,) or (N, K)
        Component standard deviations, positive, shared or one row per sample.

    Returns
    -------
    ndarray, shape (N, K)
        $\partial \hat x_n / \partial \mu_k$ for every sample ``n`` and component ``k``.
    """
    x, log_pi, mu, sigma = check_1d(x, log_pi, mu, sigma)
    log_c = log_pi + _log_normal(x[:, None], mu, sigma)
    return np.exp(log_c - _lse(log_c, axis=-1, keepdims=True))


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
        Samples of the 1-D mixtures, one per mixture.
    log_pi : ndarray, shape (K,) or (N, K)
        Normalised log mixing weights, shared or one row per sample.
    mu : ndarray, shape (K,) or (N, K)
        Component means, shared or one row per sample.
    sigma : ndarray, shape (K,) or (N, K)
        Component standard deviations, positive, shared or one row per sample.

    Returns
    -------
    ndarray, shape (N, K)
        $\partial \hat x_n / \partial \sigma_k$ for every sample ``n`` and component ``k``.
    """
    x, log_pi, mu, sigma = check_1d(x, log_pi, mu, sigma)
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
        Samples of the 1-D mixtures, one per mixture.
    log_pi : ndarray, shape (K,) or (N, K)
        Normalised log mixing weights, shared or one row per sample.
    mu : ndarray, shape (K,) or (N, K)
        Component means, shared or one row per sample.
    sigma : ndarray, shape (K,) or (N, K)
        Component standard deviations, positive, shared or one row per sample.

    Returns
    -------
    ndarray, shape (N, K)
        $\partial \hat x_n / \partial a_k$, the derivative in the ``k``-th logit, for every
        sample ``n``.

    Notes
    -----
    Computed as a ratio of log-space quantities, from the lower tail when $F \le 1/2$ and from
    the upper tail ($\Phi_k - F = (1 - F) - (1 - \Phi_k)$) otherwise, so it neither underflows
    nor cancels. It is large where $f(\hat x)$ is small between well-separated modes: that is
    where this estimator's variance comes from.
    """
    x, log_pi, mu, sigma = check_1d(x, log_pi, mu, sigma)
    shape = np.broadcast_shapes(np.shape(log_pi), (len(x), np.shape(mu)[-1]))      # (N, K)
    log_pi = np.broadcast_to(log_pi, shape)
    mu_, s_ = np.broadcast_to(mu, log_pi.shape), np.broadcast_to(sigma, log_pi.shape)
    terms = _conditional_terms(x[:, None], log_pi[:, None, :], mu_[:, None, :], s_[:, None, :])
    _, _, log_Phi, log_Q, log_f, log_F, log_Fc, lower = terms
    return -_h_ratio(log_pi[:, None, :], log_Phi, log_Q, log_f, log_F, log_Fc, lower)[:, 0, :]


# --------------------------------------------------------------------------------------------
# Log-space pieces of the 1-D conditionals, shared with the D-dimensional VJPs
# --------------------------------------------------------------------------------------------
def _conditional_terms(x, log_w, m, s):
    """Log CDF pieces of the 1-D conditionals at x (N, D); see ``_conditional_terms_z``."""
    return _conditional_terms_z((x[:, :, None] - m) / s, log_w, s)


def _conditional_terms_z(z, log_w, s):
    """Log CDF pieces of the 1-D conditionals, all (N, D, K) or (N, D).

    z (N, D, K) standardised coordinates (x_d - m_kd) / s_kd; log_w (N, D, K) conditional log
    weights; s the conditional scales (broadcastable). Returns z, log_phi (standard normal log
    pdf), log_Phi, log_Q (upper tail), log_f (density of the conditional at x_d), log_F, log_Fc
    (1 - F), lower (bool: use the lower tail).
    """
    log_phi = _log_phi(z)
    log_Phi = log_ndtr(z)
    log_Q = log_ndtr(-z)
    log_f = _lse(log_w + log_phi - np.log(s), axis=2)
    log_F = _lse(log_w + log_Phi, axis=2)
    log_Fc = _lse(log_w + log_Q, axis=2)
    lower = log_F <= log_Fc
    return z, log_phi, log_Phi, log_Q, log_f, log_F, log_Fc, lower


def _h_ratio(log_w, log_Phi, log_Q, log_f, log_F, log_Fc, lower):
    r"""h_k = pi_k^{(d)} (Phi_k - F) / f, from whichever tail keeps it accurate. (N, D, K)."""
    # Phi_k - F from the lower tail, or (1 - F) - (1 - Phi_k) from the upper tail; the
    # difference is formed in log space (sign times exp of log|a - b|), so a ratio too large
    # for float64 (a sample between modes hundreds of standard deviations apart) is +-inf,
    # never NaN; the VJPs then raise FloatingPointError naming the sample
    # (_checks.check_vjp_result) instead of returning it.
    log_a = np.where(lower[..., None], log_Phi, log_Fc[..., None])
    log_b = np.where(lower[..., None], log_F[..., None], log_Q)
    big, small = np.maximum(log_a, log_b), np.minimum(log_a, log_b)
    with np.errstate(divide="ignore", over="ignore"):
        log_abs = big + np.log1p(-np.exp(small - big))
        mag = np.exp(log_w + log_abs - log_f[..., None])
    return np.where(log_a >= log_b, mag, -mag)

