r"""The chain rule through ancestral sampling, in $D$ dimensions (Eqs. 1-6 of Graves, 2016).

Eq. (6) applied to every conditional of Eq. (1): $x_d$ depends on the parameters directly and
through $\mathbf x_{<d}$, which sets the weights of its conditional. Differentiating all $D$
identities $F_d(x_d \mid \mathbf x_{<d}) = u_d$ gives a lower-triangular system.
[`ancestral_jacobian`][reference.mixture_gradients.chain_rule.ancestral_jacobian] builds and
solves it (the teaching version);
[`mixture_vjp`][reference.mixture_gradients.chain_rule.mixture_vjp] is the ``O(N K D)``
transpose solve that ``autograd`` calls, through the primitive that the factory at the end of
this file attaches to the samplers.
"""

from __future__ import annotations

import numpy as np
from autograd.extend import defvjp_argnums, primitive
from scipy.linalg import solve_triangular
from scipy.special import erfc

from ..nn import log_softmax
from ._checks import check_mixture, check_vjp, check_vjp_result, check_x
from .density import _LOG_SQRT_2PI, conditional_log_weights
from .implicit_1d import _conditional_terms, _h_ratio

__all__ = ["ancestral_jacobian", "mixture_vjp"]

_SQRT_HALF = np.sqrt(0.5)


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
    ``O(N K D^2)`` numbers; autograd uses
    [`mixture_vjp`][reference.mixture_gradients.chain_rule.mixture_vjp], which never forms it,
    and the
    tests check that the two agree.

    Parameters
    ----------
    x : ndarray, shape (N, D)
        Samples (from any sampler: the Jacobian depends only on the sample).
    logits : ndarray, shape (K,)
        Unnormalised log mixing weights; $\pi = \mathrm{softmax}(\text{logits})$.
    mu : ndarray, shape (K, D)
        Component means, one row per component.
    sigma : ndarray, shape (K, D)
        Component standard deviations (diagonal covariances), all positive.

    Returns
    -------
    dict of ndarray
        ``"logits"`` (N, D, K), ``"mu"`` (N, D, K, D), ``"sigma"`` (N, D, K, D):
        ``J[name][n, d, ...]`` is $\partial x_{nd} / \partial \theta$.

    Raises
    ------
    FloatingPointError
        If the Jacobian of a sample overflows float64 (as in
        [`mixture_vjp`][reference.mixture_gradients.chain_rule.mixture_vjp]).
    """
    K, D = check_mixture(logits, mu, sigma)
    x = check_x("x", x, D)
    logits, mu, sigma = (np.asarray(a, dtype=float) for a in (logits, mu, sigma))
    N = x.shape[0]
    z, h, r = _terms_log(x, logits, mu, sigma)                                       # (N, D, K)
    check_vjp_result(~np.all(np.isfinite(h), axis=(1, 2)))
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
    [`ancestral_jacobian`][reference.mixture_gradients.chain_rule.ancestral_jacobian],
    $\mathbf g^\top d\mathbf x/d\theta = -\boldsymbol\lambda^\top
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
        The samples whose gradient is propagated (from either sampler).
    logits : ndarray, shape (K,)
        Unnormalised log mixing weights; $\pi = \mathrm{softmax}(\text{logits})$.
    mu : ndarray, shape (K, D)
        Component means, one row per component.
    sigma : ndarray, shape (K, D)
        Component standard deviations (diagonal covariances), all positive.

    Returns
    -------
    tuple of ndarray
        Gradients for ``logits`` (K,), ``mu`` (K, D), ``sigma`` (K, D).

    Raises
    ------
    ValueError
        On bad arguments, ``g`` with NaN or inf included.
    FloatingPointError
        If the exact Jacobian of any sample overflows float64 (some $|h_{dk}| > 10^{308}$: a
        sample between components hundreds of standard deviations apart, where $f_d$ is far
        below the tail masses). The message names the samples; nothing is returned, so such a
        sample can never turn the summed gradient of the others into NaN or inf unnoticed.
        Below that threshold every entry is finite (up to 60 standard deviations out in the
        tests).

    Notes
    -----
    Derivation: $\partial F_e/\partial x_d = \sum_k \pi^{(e)}_k(\Phi_{ek} - F_e) s_{dk}$ for
    $d < e$ (only the weights depend on earlier coordinates), so the sum over $e > d$ needed by
    back-substitution collapses to a running sum over $K$: one reverse sweep over $d$, nothing
    of size $D^2$. For $D = K = 1$ it is exactly the reparameterisation trick:
    $\partial L/\partial\mu = g$, $\partial L/\partial\sigma = g z$.

    Precision: the ratios $h$ and $r$ are first formed in linear space (densities, ``erfc``
    tails, the weights from log space), which is fast; a sample for which any conditional
    density $f_d$ or tail mass $\min(F_d, 1 - F_d)$ is below ``1e-250`` is redone entirely
    in log space, so the sweep stays finite 40 standard deviations out where $f_d$ underflows.
    """
    return _diag_backward(*check_vjp(g, x, logits, mu, sigma))


# --------------------------------------------------------------------------------------------
# The backward pass: a fast linear-space path and its log-space fallback
# --------------------------------------------------------------------------------------------
def _terms_log(x, logits, mu, sigma):
    """z, h, r of every conditional, (N, D, K), entirely in log space (slow, never underflows)."""
    log_w = np.asarray(conditional_log_weights(x, logits, mu, sigma))                # (N, D, K)
    m, s = mu.T[None], sigma.T[None]                                                   # (1, D, K)
    z, log_phi, log_Phi, log_Q, log_f, log_F, log_Fc, lower = _conditional_terms(x, log_w, m, s)
    h = _h_ratio(log_w, log_Phi, log_Q, log_f, log_F, log_Fc, lower)
    r = np.exp(log_w + log_phi - np.log(s) - log_f[..., None])
    return z, h, r


#: Below this conditional density (or tail mass) a sample leaves the fast path for log space.
_TINY = 1e-250


def _terms_fast(z, lp, log_pi):
    """h, r of every conditional in linear space, and a mask of the samples where that is safe.

    Arrays are laid out (K, D, n), so that sums over components add K contiguous slabs and
    the sweep over d reads contiguous rows. ``z`` and ``lp`` hold the standardised coordinates
    and log N(x_d; mu_kd, sigma_kd). The conditional weights come from log space (their
    products underflow at once); the rest uses ordinary densities and one ``erfc`` for both
    tails. A sample is safe when every conditional density and both tail masses exceed
    ``_TINY``; the others are redone by ``_terms_log``.
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

    Works through the samples in chunks of about 40,000 array entries (K * D * n), a size
    chosen to stay in cache; the maths is in ``mixture_vjp``.
    """
    N, D = x.shape
    K = logits.shape[0]
    chunk = chunk or max(16, 40_000 // (D * K))
    log_pi = log_softmax(logits)
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
        lp += c                  # log N(x_d; mu_kd, s_kd), as density._log_normal, in place
        h, r, ok = _terms_fast(z, lp, log_pi)
        if not ok.all():
            _, h_log, r_log = _terms_log(x[lo:lo + chunk][~ok], logits, mu, sigma)  # (m, D, K)
            h[:, :, ~ok] = h_log.transpose(2, 1, 0)
            r[:, :, ~ok] = r_log.transpose(2, 1, 0)
            check_vjp_result(~np.all(np.isfinite(h), axis=(0, 1)), lo)
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


# --------------------------------------------------------------------------------------------
# The implicit-gradient primitive, shared by the diagonal and full-covariance samplers
# --------------------------------------------------------------------------------------------
def _implicit_gradient_primitive(backward):
    """An autograd primitive ``through(x, logits, mu, scale) -> x`` whose VJP is ``backward``.

    The primitive is the identity on the sample ``x``; ``backward(g, x, logits, mu, scale)``
    returns the cotangents of ``(logits, mu, scale)``, so autograd never differentiates the
    sampler or the root finder, only the sample's implicit gradient (Eq. 6 and the chain rule).
    The diagonal samplers use it with ``_diag_backward``, the full-covariance ones with the
    ``O(N K D^2)`` backward pass of ``full_covariance.py``.
    """
    @primitive
    def through(x, logits, mu, scale):
        return x

    def vjp_maker(argnums, ans, args, kwargs):
        x, logits, mu, scale = args

        def vjp(g):
            grads = dict(zip((1, 2, 3), backward(np.asarray(g), x, logits, mu, scale)))
            return tuple(grads[i] if i in grads else np.zeros_like(x) for i in argnums)
        return vjp

    defvjp_argnums(through, vjp_maker)
    return through


#: Identity on diagonal-mixture samples whose VJP is the implicit gradient of ``mixture_vjp``.
_through_diag = _implicit_gradient_primitive(_diag_backward)
