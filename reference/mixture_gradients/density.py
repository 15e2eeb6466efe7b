r"""The density and its factorisation into 1-D conditionals (Eq. 1 of Graves, 2016).

A mixture with diagonal covariances is a product of $D$ one-dimensional conditional mixtures,
each with the same component means and scales and with weights that are the components'
responsibilities for the coordinates already seen. The Gaussian log-densities that every other
file uses are defined once, at the end of this file.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
from autograd.scipy.special import logsumexp
from autograd.tracer import getval
from scipy.special import log_ndtr

from ..nn import log_softmax
from ._checks import check_1d, check_mixture, check_x

__all__ = ["mixture_log_pdf", "conditional_log_weights", "mixture_cdf_1d"]


def mixture_log_pdf(x, logits, mu, sigma):
    r"""Log-density of a Gaussian mixture with diagonal covariances.

    Implements the mixture density that Eq. (1) of Graves (2016) factorises,

    $$
    \log f(\mathbf x)
      = \log \sum_{k=1}^{K} \pi_k \prod_{d=1}^{D} \mathcal N(x_d; \mu_{kd}, \sigma_{kd}^2),
    \qquad \pi = \mathrm{softmax}(\text{logits}),
    $$

    with a log-sum-exp over components, so it never underflows. Differentiable by ``autograd``
    in every argument.

    Parameters
    ----------
    x : ndarray, shape (N, D)
        Points at which to evaluate, one per row.
    logits : ndarray, shape (K,)
        Unnormalised log mixing weights; $\pi = \mathrm{softmax}(\text{logits})$.
    mu : ndarray, shape (K, D)
        Component means, one row per component.
    sigma : ndarray, shape (K, D)
        Component standard deviations (the square roots of the diagonal covariances), all
        positive.

    Returns
    -------
    ndarray, shape (N,)
        $\log f(\mathbf x_n)$ for each row of ``x``, in nats.

    Notes
    -----
    The component log-densities are computed as two matrix products: the quadratic form
    expanded in $x_d^2$, $x_d$ and 1,

    $$
    \log \mathcal N_k(\mathbf x)
      = \sum_d x_d^2 \Bigl(-\frac{1}{2\sigma_{kd}^2}\Bigr)
      + \sum_d x_d \frac{\mu_{kd}}{\sigma_{kd}^2} + c_k,\qquad
    c_k = -\sum_d \Bigl(\frac{\mu_{kd}^2}{2\sigma_{kd}^2} + \log\sigma_{kd}\Bigr)
      - \frac D2 \log 2\pi,
    $$

    ``O(N K D)`` work in BLAS instead of an ``(N, K, D)`` temporary. The expansion loses
    digits where its terms are much larger than their sum (a sample near a component whose
    mean is many of its scales from 0). Its rounding error is bounded by
    ``8 eps`` times the sum of the terms' magnitudes; a sample whose bound, weighted by the
    components' responsibilities, exceeds ``1e-11 (1 + |log f|)`` is recomputed by the
    direct form $-\frac12 \sum_d ((x_d - \mu_{kd})/\sigma_{kd})^2 - \dots$. The tests compare
    both forms over the property-test mixtures (scales ``1e-3`` to ``1e3``, far tails).

    Examples
    --------
    >>> mixture_log_pdf(np.zeros((1, 1)), np.zeros(1), np.zeros((1, 1)), np.ones((1, 1)))
    array([-0.91893853])
    """
    _, D = check_mixture(logits, mu, sigma)
    check_x("x", x, D)
    log_pi = log_softmax(logits)[None, :]
    log_comp, bound = _log_comp_products(x, mu, sigma)                         # (N, K) each
    out = logsumexp(log_pi + log_comp, axis=1)
    # responsibility-weighted rounding bound of the expansion, on plain values
    lj, ov = getval(log_pi + log_comp), getval(out)
    err = np.sum(np.exp(lj - ov[:, None]) * bound, axis=1)
    redo = np.flatnonzero(~(err <= 1e-11 * (1.0 + np.abs(ov))))
    if redo.size == 0:
        return out
    keep = np.flatnonzero(err <= 1e-11 * (1.0 + np.abs(ov)))
    direct = logsumexp(log_pi + _log_comp_direct(x[redo], mu, sigma), axis=1)
    order = np.argsort(np.concatenate([keep, redo]))         # undo the split, (N,)
    return anp.concatenate([out[keep], direct])[order]


def _log_comp_direct(x, mu, sigma):
    """log N(x_n; mu_k, diag sigma_k^2), (N, K), by the (N, K, D) direct form."""
    return anp.sum(_log_normal(x[:, None, :], mu[None], sigma[None]), axis=2)


def _log_comp_products(x, mu, sigma):
    """log N(x_n; mu_k, diag sigma_k^2), (N, K), as two matrix products, and its error bound.

    x (N, D); mu, sigma (K, D). The bound (N, K) is 8 eps times the sum of the magnitudes of
    the three terms (plain values, not traced).
    """
    prec = sigma ** -2.0                                                       # (K, D)
    A, B = -0.5 * prec, mu * prec
    c = -0.5 * anp.sum(mu * B, axis=1) - anp.sum(anp.log(sigma), axis=1) \
        - x.shape[1] * _LOG_SQRT_2PI                                           # (K,)
    quad = anp.dot(x * x, A.T)                                                 # (N, K)
    lin = anp.dot(x, B.T)
    xv, Bv, cv, qv = (getval(a) for a in (x, B, c, quad))
    bound = 8 * np.finfo(float).eps * (-qv + np.dot(np.abs(xv), np.abs(Bv).T) + np.abs(cv)
                                       + 0.5 * np.sum(getval(mu) * Bv, axis=1))
    return quad + lin + c[None, :], bound


def conditional_log_weights(x, logits, mu, sigma):
    r"""Log mixing weights of each 1-D conditional $f_d(x_d \mid \mathbf x_{<d})$.

    Implements the conditionals of Eq. (1) of Graves (2016),
    $f(\mathbf x) = \prod_d f_d(x_d \mid \mathbf x_{<d})$: for a diagonal mixture the
    conditional of $x_d$ is again a 1-D mixture with the same component means and scales, whose
    weights are the components' posterior responsibilities for $\mathbf x_{<d}$,

    $$
    \pi_k^{(d)}(\mathbf x_{<d}) =
    \frac{\pi_k \prod_{d' < d} \mathcal N(x_{d'}; \mu_{kd'}, \sigma_{kd'}^2)}
         {\sum_j \pi_j \prod_{d' < d} \mathcal N(x_{d'}; \mu_{jd'}, \sigma_{jd'}^2)} .
    $$

    Parameters
    ----------
    x : ndarray, shape (N, D)
        Points at which to evaluate, one per row.
    logits : ndarray, shape (K,)
        Unnormalised log mixing weights; $\pi = \mathrm{softmax}(\text{logits})$.
    mu : ndarray, shape (K, D)
        Component means, one row per component.
    sigma : ndarray, shape (K, D)
        Component standard deviations (the square roots of the diagonal covariances), all
        positive.

    Returns
    -------
    ndarray, shape (N, D, K)
        $\log \pi_k^{(d)}$; row ``d = 0`` is $\log \pi$.
    """
    _, D = check_mixture(logits, mu, sigma)
    check_x("x", x, D)
    log_comp = _log_normal(x[:, :, None], mu.T[None], sigma.T[None])          # (N, D, K)
    # exclusive cumulative sum over d: prefix[:, d] = sum_{d' < d} log N. Not as cumsum minus
    # log N: a coordinate 10^6 sds out (log N ~ -5e11) would wipe out the digits of the others.
    N, _, K = log_comp.shape
    prefix = anp.concatenate([anp.zeros((N, 1, K)), anp.cumsum(log_comp[:, :-1], axis=1)], axis=1)
    log_w = log_softmax(logits)[None, None, :] + prefix
    return log_w - logsumexp(log_w, axis=2, keepdims=True)


def mixture_cdf_1d(x, log_pi, mu, sigma):
    r"""CDF of a 1-D Gaussian mixture, one mixture per sample.

    Implements the 1-D conditional CDF that Eq. (4) of Graves (2016) sets equal to $u_d$,

    $$
    F(x) = \sum_{k=1}^{K} \pi_k\, \Phi\!\left(\frac{x - \mu_k}{\sigma_k}\right).
    $$

    Parameters
    ----------
    x : ndarray, shape (N,)
        The points at which to evaluate, one per mixture.
    log_pi : ndarray, shape (N, K) or (K,)
        Log weights (normalised), per sample or shared; for the $d$-th conditional, column
        ``d`` of
        [`conditional_log_weights`][reference.mixture_gradients.density.conditional_log_weights].
    mu : ndarray, shape (N, K) or (K,)
        Component means, per sample or shared.
    sigma : ndarray, shape (N, K) or (K,)
        Component standard deviations, positive, per sample or shared.

    Returns
    -------
    ndarray, shape (N,)
        $F(x)$, computed as $\exp \operatorname{logsumexp}_k(\log \pi_k + \log \Phi(z_k))$.

    Examples
    --------
    >>> mixture_cdf_1d(np.array([0.0]), np.log([0.5, 0.5]), np.array([-1.0, 1.0]), np.ones(2))
    array([0.5])
    """
    x, log_pi, mu, sigma = check_1d(x, log_pi, mu, sigma)
    z = (x[:, None] - mu) / sigma
    return np.exp(logsumexp(log_pi + log_ndtr(z), axis=-1))


# --------------------------------------------------------------------------------------------
# Gaussian log-densities, used by every file of the package
# --------------------------------------------------------------------------------------------
_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)


def _log_normal(x, mu, sigma):
    r"""$\log \mathcal N(x; \mu, \sigma^2)$, elementwise, differentiable by autograd."""
    z = (x - mu) / sigma
    return -0.5 * z * z - anp.log(sigma) - _LOG_SQRT_2PI


def _log_phi(z):
    r"""$\log \phi(z)$, the standard normal log-density of standardised coordinates."""
    return -0.5 * z * z - _LOG_SQRT_2PI


def _lse(a, axis=-1, keepdims=False):
    """log sum exp of plain arrays along ``axis``; scipy's logsumexp without its per-call cost
    (the solvers call it thousands of times on small arrays). All -inf gives -inf."""
    top = np.max(a, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(a - top), axis=axis, keepdims=True)) + top
    return out if keepdims else np.squeeze(out, axis=axis)
