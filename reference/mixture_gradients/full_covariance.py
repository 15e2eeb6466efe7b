r"""Full covariances $\Sigma_k = L_k L_k^\top$: mentioned by Graves (2016), derived here.

Under component $k$ the conditional of $x_d$ given $\mathbf x_{<d}$ is Gaussian with mean
$\mu_{kd} + \sum_{e<d} L_{k,de} z_{ke}$ and scale $L_{k,dd}$, where
$\mathbf z_k = L_k^{-1}(\mathbf x - \boldsymbol\mu_k)$, so the 1-D conditionals of Eq. (1) are
again Gaussian mixtures and Eqs. (2)-(6) carry over. The samplers share the ancestral-sampling
routines of ``sampling.py`` and the implicit-gradient primitive factory of ``chain_rule.py``;
what is new is the ``O(N K D^2)`` backward pass.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_triangular

from ..nn import log_softmax
from ._checks import (
    check_mixture,
    check_sampler,
    check_u,
    check_vjp,
    check_vjp_result,
    check_x,
    values,
)
from .chain_rule import _implicit_gradient_primitive
from .density import _log_phi, _lse
from .implicit_1d import _conditional_terms_z, _h_ratio
from .sampling import _ancestral_quantile, _draw

__all__ = ["mixture_log_pdf_full", "mixture_vjp_full", "mixture_quantile_full",
           "mixture_sample_full"]


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
        Points at which to evaluate, one per row.
    logits : ndarray, shape (K,)
        Unnormalised log mixing weights; $\pi = \mathrm{softmax}(\text{logits})$.
    mu : ndarray, shape (K, D)
        Component means, one row per component.
    L : ndarray, shape (K, D, D)
        Lower-triangular Cholesky factors of the component covariances,
        $\Sigma_k = L_k L_k^\top$, with positive diagonals.

    Returns
    -------
    ndarray, shape (N,)
        $\log f(\mathbf x_n)$ for each row of ``x``, in nats.
    """
    _, D = check_mixture(logits, mu, L, "L")
    x = check_x("x", x, D)
    lg, m, Lv = values(logits, mu, L)
    z = _full_z(x, m, Lv)
    log_det = np.sum(np.log(np.diagonal(Lv, axis1=1, axis2=2)), axis=1)       # (K,)
    log_comp = np.sum(_log_phi(z), axis=2) - log_det                           # (N, K)
    return _lse(log_softmax(lg)[None] + log_comp, axis=1)


def mixture_vjp_full(g, x, logits, mu, L):
    r"""Vector-Jacobian product of the full-covariance quantile transform.

    Implements Eq. (6) of Graves (2016) with the chain rule of
    [`mixture_vjp`][reference.mixture_gradients.chain_rule.mixture_vjp], for components
    $\mathcal N(\boldsymbol\mu_k, L_k L_k^\top)$. Under component $k$ the conditional of
    $x_d$ given $\mathbf x_{<d}$ is Gaussian with mean
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
        Cotangent $\partial L / \partial \mathbf x$ of the loss with respect to the samples.
    x : ndarray, shape (N, D)
        The samples whose gradient is propagated (from either full-covariance sampler).
    logits : ndarray, shape (K,)
        Unnormalised log mixing weights; $\pi = \mathrm{softmax}(\text{logits})$.
    mu : ndarray, shape (K, D)
        Component means, one row per component.
    L : ndarray, shape (K, D, D)
        Lower-triangular Cholesky factors of the component covariances,
        $\Sigma_k = L_k L_k^\top$, with positive diagonals.

    Returns
    -------
    tuple of ndarray
        Gradients for ``logits`` (K,), ``mu`` (K, D), ``L`` (K, D, D) (lower-triangular).

    Raises
    ------
    ValueError
        On bad arguments, ``g`` with NaN or inf included.
    FloatingPointError
        If the exact Jacobian of a sample overflows float64; the contract and the message are
        those of [`mixture_vjp`][reference.mixture_gradients.chain_rule.mixture_vjp].

    Notes
    -----
    Back-substitution keeps two running vectors per component (the two sums above, accumulated
    row by row of $M_k$), so it costs ``O(N K D^2)`` time and ``O(N K D)`` memory: the inherent
    price of a full covariance (the forward pass already pays it in the triangular solves),
    against ``O(N K D)`` for diagonal components. The cotangent on $\mathbf z_k$ is pulled back
    to $\boldsymbol\mu_k$ and $L_k$ by $d\mathbf z_k = -M_k(d\boldsymbol\mu_k + dL_k\,\mathbf z_k)$,
    plus the explicit $\log L_{k,dd}$ in the conditional log-densities that set the weights.
    Every ratio here is taken in log space (there is no linear-space fast path).
    """
    return _full_backward(*check_vjp(g, x, logits, mu, L, "L"))


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
    [`mixture_vjp_full`][reference.mixture_gradients.full_covariance.mixture_vjp_full].

    Parameters
    ----------
    u : ndarray, shape (N, D)
        Uniform noise, strictly inside (0, 1); not differentiated.
    logits : ndarray, shape (K,)
        Unnormalised log mixing weights; $\pi = \mathrm{softmax}(\text{logits})$.
    mu : ndarray, shape (K, D)
        Component means, one row per component.
    L : ndarray, shape (K, D, D)
        Lower-triangular Cholesky factors of the component covariances,
        $\Sigma_k = L_k L_k^\top$, with positive diagonals.

    Returns
    -------
    ndarray, shape (N, D)
        The samples $\hat{\mathbf x} = \mathbf F^{-1}(\mathbf u)$, one row per row of ``u``.

    Notes
    -----
    With diagonal ``L`` this equals
    [`mixture_quantile`][reference.mixture_gradients.sampling.mixture_quantile] with
    ``sigma = diag(L)``.
    """
    _, D = check_mixture(logits, mu, L, "L")
    x = _ancestral_quantile(check_u(u, D), *values(logits, mu, L))
    return _through_full(x, logits, mu, L)


def mixture_sample_full(rng, logits, mu, L, n):
    r"""Ordinary sampler of a full-covariance mixture with the implicit gradient attached.

    Implements the sample-only dependence of Eq. (6) of Graves (2016) for full covariances:
    $k \sim \mathrm{Cat}(\pi)$, $\hat{\mathbf x} = \boldsymbol\mu_k + L_k \boldsymbol\epsilon$,
    and the gradient of
    [`mixture_vjp_full`][reference.mixture_gradients.full_covariance.mixture_vjp_full] at
    $\hat{\mathbf x}$,

    $$
    \hat{\mathbf x} \sim \sum_k \pi_k\, \mathcal N(\boldsymbol\mu_k, L_k L_k^\top).
    $$

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the component choices and the Gaussian noise.
    logits : ndarray, shape (K,)
        Unnormalised log mixing weights; $\pi = \mathrm{softmax}(\text{logits})$.
    mu : ndarray, shape (K, D)
        Component means, one row per component.
    L : ndarray, shape (K, D, D)
        Lower-triangular Cholesky factors of the component covariances,
        $\Sigma_k = L_k L_k^\top$, with positive diagonals.
    n : int
        Number of samples.

    Returns
    -------
    ndarray, shape (n, D)
        Independent draws from the mixture, carrying the implicit gradient.
    """
    check_mixture(logits, mu, L, "L")
    check_sampler(rng, n)
    return _through_full(_draw(rng, logits, mu, L, n), logits, mu, L)


def _full_z(x, mu, L):
    """Whitened coordinates z[n, k] = L_k^{-1}(x_n - mu_k), (N, K, D), by triangular solves."""
    diff = x[:, None, :] - mu[None]                                        # (N, K, D)
    return np.stack([solve_triangular(L[k], diff[:, k].T, lower=True).T
                     for k in range(L.shape[0])], axis=1)


def _full_backward(g, x, logits, mu, L):
    """O(N K D^2) adjoint of the full-covariance quantile transform."""
    N, D = x.shape
    K = len(logits)
    M = np.linalg.inv(L)                                      # (K, D, D), lower-triangular
    z = _full_z(x, mu, L)                                     # (N, K, D)
    diagL = np.diagonal(L, axis1=1, axis2=2)                  # (K, D)
    log_cond = _log_phi(z) - np.log(diagL)[None]             # (N, K, D)
    prefix = np.zeros_like(log_cond)                          # exclusive cumsum over d
    np.cumsum(log_cond[:, :, :-1], axis=2, out=prefix[:, :, 1:])
    log_w = log_softmax(logits)[None, :, None] + prefix
    log_w = log_w - _lse(log_w, axis=1, keepdims=True)
    log_w = np.transpose(log_w, (0, 2, 1))                    # (N, D, K)
    zt, log_phi, log_Phi, log_Q, log_f, log_F, log_Fc, lower = _conditional_terms_z(
        np.transpose(z, (0, 2, 1)), log_w, diagL.T[None])     # (N, D, K) and (N, D)
    h = _h_ratio(log_w, log_Phi, log_Q, log_f, log_F, log_Fc, lower)          # (N, D, K)
    check_vjp_result(~np.all(np.isfinite(h), axis=(1, 2)))
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


#: Identity on full-covariance samples whose VJP is the implicit gradient of ``mixture_vjp_full``.
_through_full = _implicit_gradient_primitive(_full_backward)
