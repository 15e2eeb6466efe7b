r"""Sampling: the multivariate quantile transform and ancestral sampling (Eqs. 2-4 of Graves, 2016).

Draw $\mathbf u \sim U(0, 1)^D$ and solve $F_d(x_d \mid \mathbf x_{<d}) = u_d$ for one
coordinate after the other (Eqs. 2-3; Eq. 4 is the identity that Eq. 6 differentiates). The
ordinary sampler (pick a component, add Gaussian noise) draws from the same density, and because
the implicit gradient depends only on the sample it gets the same gradient. Both samplers
return their samples through the implicit-gradient primitive of ``chain_rule.py``; the routines
below are shared with the full-covariance samplers of ``full_covariance.py``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import log_ndtr, ndtri_exp

from ..nn import log_softmax
from ._checks import check_mixture, check_sampler, check_u, values
from .chain_rule import _through_diag
from .density import _LOG_SQRT_2PI, _log_normal, _lse

__all__ = ["mixture_quantile", "mixture_sample"]


def mixture_quantile(u, logits, mu, sigma):
    r"""Multivariate quantile transform of a diagonal Gaussian mixture, differentiable.

    Implements Eqs. (2)-(3) of Graves (2016): $x_d = F_d^{-1}(u_d \mid \mathbf x_{<d})$, where
    $F_d$ is the CDF of the 1-D conditional mixture of
    [`conditional_log_weights`][reference.mixture_gradients.density.conditional_log_weights],

    $$
    \hat x_d = F_d^{-1}\!\left(u_d \,\middle|\, \hat{\mathbf x}_{<d}\right),\qquad
    F_d(x \mid \mathbf x_{<d})
      = \sum_k \pi_k^{(d)}\, \Phi\!\left(\frac{x - \mu_{kd}}{\sigma_{kd}}\right),
    \qquad u_d \sim U(0, 1).
    $$

    ``autograd`` differentiates the result in ``logits``, ``mu`` and ``sigma`` through the
    implicit gradient (Eq. 6 and the chain rule,
    [`mixture_vjp`][reference.mixture_gradients.chain_rule.mixture_vjp]), never through the solver.

    Parameters
    ----------
    u : ndarray, shape (N, D)
        Uniform noise, strictly inside (0, 1): every float64 there is accepted and solved, from
        the smallest subnormal ``5e-324`` up to ``1 - 2**-53``. Not differentiated.
    logits : ndarray, shape (K,)
        Unnormalised log mixing weights; $\pi = \mathrm{softmax}(\text{logits})$.
    mu : ndarray, shape (K, D)
        Component means, one row per component.
    sigma : ndarray, shape (K, D)
        Component standard deviations (diagonal covariances), all positive.

    Returns
    -------
    ndarray, shape (N, D)
        The samples $\hat{\mathbf x} = \mathbf F^{-1}(\mathbf u)$, one row per row of ``u``.

    Notes
    -----
    Each conditional is solved by Newton's method on $\log F - \log u$ (or on
    $\log(1 - u) - \log(1 - F)$ above the median), safeguarded by bisection inside the
    bracket formed by the components' own $u$-quantiles (the mixture quantile lies between the
    smallest and largest of them). Only $\log u$ and $\log(1 - u)$ enter, and the bracket comes
    from ``scipy.special.ndtri_exp``, so nothing is clipped: $u = 10^{-305}$ gives
    $\Phi^{-1}(u) = -37.356$ and $u = 5 \cdot 10^{-324}$ gives $-38.467$ for a standard normal.
    It stops when a step is below ``1e-13`` relative to $|x|$ plus the largest component scale.

    Examples
    --------
    >>> u = np.array([[0.975]])
    >>> mixture_quantile(u, np.zeros(1), np.zeros((1, 1)), np.ones((1, 1)))  # the normal quantile
    array([[1.95996398]])
    """
    _, D = check_mixture(logits, mu, sigma)
    x = _ancestral_quantile(check_u(u, D), *values(logits, mu, sigma))
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
        Source of the component choices and the Gaussian noise.
    logits : ndarray, shape (K,)
        Unnormalised log mixing weights; $\pi = \mathrm{softmax}(\text{logits})$.
    mu : ndarray, shape (K, D)
        Component means, one row per component.
    sigma : ndarray, shape (K, D)
        Component standard deviations (diagonal covariances), all positive.
    n : int
        Number of samples.

    Returns
    -------
    ndarray, shape (n, D)
        Independent draws from the mixture, carrying the implicit gradient.

    Examples
    --------
    >>> from autograd import grad
    >>> rng = np.random.default_rng(0)
    >>> f = lambda a: mixture_sample(rng, a, np.array([[-2.0], [2.0]]), np.ones((2, 1)), 4).sum()
    >>> grad(f)(np.zeros(2)).shape
    (2,)
    """
    check_mixture(logits, mu, sigma)
    check_sampler(rng, n)
    return _through_diag(_draw(rng, logits, mu, sigma, n), logits, mu, sigma)


# --------------------------------------------------------------------------------------------
# Shared by the diagonal and full-covariance samplers
# --------------------------------------------------------------------------------------------
def _component_conditional(d, mu, scale, z):
    """Mean (N, K) or (K,) and scale (K,) of x_d under each component, given x_{<d}.

    ``scale`` is sigma (K, D) for diagonal components, whose conditionals do not depend on the
    earlier coordinates, or the Cholesky factors L (K, D, D): then the conditional of x_d under
    component k has mean mu_kd + sum_{e<d} L_k,de z_ke and scale L_k,dd, with z (N, K, D) the
    whitened coordinates z_k = L_k^{-1} (x - mu_k) of the coordinates drawn so far.
    """
    if scale.ndim == 2:
        return mu[:, d], scale[:, d]
    return mu[:, d] + np.einsum("ke,nke->nk", scale[:, d, :d], z[:, :, :d]), scale[:, d, d]


def _ancestral_quantile(u, logits, mu, scale):
    """x (N, D) = F^{-1}(u) by ancestral sampling: one 1-D mixture quantile per coordinate.

    u (N, D) in (0, 1); logits (K,); mu (K, D); scale sigma (K, D) or L (K, D, D). The weights
    of the d-th conditional are the components' log responsibilities for x_{<d} (``prefix``).
    """
    N, D = u.shape
    log_pi = log_softmax(logits)
    log_u, log_uc = np.log(u), np.log1p(-u)
    x = np.empty((N, D))
    z = np.zeros((N, len(log_pi), D))                  # standardised x_d under each component
    prefix = np.broadcast_to(log_pi, (N, len(log_pi))).copy()
    for d in range(D):
        log_w = prefix - _lse(prefix, axis=1, keepdims=True)                      # (N, K)
        m, s = _component_conditional(d, mu, scale, z)
        m, s = np.broadcast_to(m, log_w.shape), np.broadcast_to(s, log_w.shape)
        x[:, d] = _solve_1d(log_u[:, d], log_uc[:, d], log_w, m, s)
        prefix = prefix + _log_normal(x[:, d, None], m, s)
        z[:, :, d] = (x[:, d, None] - m) / s
    return x


def _draw(rng, logits, mu, scale, n):
    """Ordinary sampling, (n, D): k ~ Cat(pi), then mu_k + sigma_k * eps or mu_k + L_k eps."""
    lg, m, s = values(logits, mu, scale)
    pi = np.exp(log_softmax(lg))
    k = rng.choice(len(lg), size=int(n), p=pi / pi.sum())
    eps = rng.standard_normal((int(n), m.shape[1]))
    if s.ndim == 3:
        return m[k] + np.einsum("nde,ne->nd", s[k], eps)
    return m[k] + s[k] * eps


def _solve_1d(log_u, log_uc, log_w, m, s, tol=1e-13, max_iter=200):
    """Solve F(x) = u for N 1-D mixtures: bracketed Newton in log space, vectorised.

    log_u, log_uc (N,) log u and log(1 - u); log_w, m, s (N, K). Returns x (N,).
    """
    # the components' standard u-quantiles, from log u or log(1 - u): exact for every float u
    # in (0, 1), the smallest subnormal 5e-324 and 1 - 2^-53 included (no clipping)
    q = np.where(log_u <= log_uc, ndtri_exp(log_u), -ndtri_exp(log_uc))[:, None]
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
        # log f(x): the Gaussian log-density of density._log_normal written out, because the
        # order of its operations sets the solver's last bits (and so the recorded results)
        log_f = _lse(log_w - 0.5 * z * z - _LOG_SQRT_2PI - np.log(s), axis=1)
        # log G: log F (lower) or log F_c = log(1 - F) (upper), the one tail each sample uses
        log_G = _lse(log_w + log_ndtr(np.where(use_lower[:, None], z, -z)), axis=1)
        # residual in log space: g = log F - log u (lower) or log u_c - log F_c (upper); both
        # increase with x, with derivative f/F and f/F_c respectively.
        resid = np.where(use_lower, log_G - log_u, log_uc - log_G)
        slope_inv = np.exp(log_G - log_f)
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
