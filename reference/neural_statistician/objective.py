r"""The per-data-set variational lower bound of Section 3 and its pieces, all in closed form.

For one data set (Eqs. (7)-(10) of the arXiv text, as we read it) the bound is

$$
\mathcal L_D = R_D - C_D - L_D ,
$$

with the reconstruction term $R_D$, the context divergence $C_D$ (counted **once per data
set**) and the item-latent divergences $L_D$ (summed over items and layers). Every KL is between
diagonal Gaussians and is computed exactly (`gaussian_kl`); only $c$ and the $z$'s are sampled.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
from autograd.scipy.special import logsumexp

from ._checks import check_gaussian, check_rng, check_sets
from .model import (_x_dim, inference_network, observation_decoder, shared_encoder,
                    statistic_network)

__all__ = [
    "gaussian_kl", "gaussian_log_likelihood", "bernoulli_log_likelihood", "elbo_terms", "elbo",
    "kl_weight", "training_loss",
]

_LOG_2PI = float(np.log(2.0 * np.pi))


def gaussian_kl(mu_q, logvar_q, mu_p=0.0, logvar_p=0.0):
    r"""Closed-form KL between diagonal Gaussians, summed over the last axis (Eqs. (9)-(10)).

    $$
    \mathrm{KL}(q \,\|\, p) = \frac12 \sum_k \left[
    \log\frac{\sigma_{p,k}^2}{\sigma_{q,k}^2}
    + \frac{\sigma_{q,k}^2 + (\mu_{q,k} - \mu_{p,k})^2}{\sigma_{p,k}^2} - 1 \right].
    $$

    The defaults $\mu_p = 0$, $\log\sigma_p^2 = 0$ give the KL to the standard normal prior
    $p(c)$ of the context divergence $C_D$.

    Parameters
    ----------
    mu_q : array, shape (..., k)
        Mean of $q$.
    logvar_q : array, shape (..., k)
        Log-variance $\log\sigma_q^2$ of $q$; must have the shape of ``mu_q``.
    mu_p : array broadcastable to (..., k), or float
        Mean of $p$ (default 0).
    logvar_p : array broadcastable to (..., k), or float
        Log-variance $\log\sigma_p^2$ of $p$ (default 0, unit variance).

    Returns
    -------
    kl : array, shape (...)
        $\mathrm{KL}(q \,\|\, p) \ge 0$ in nats, summed over the last axis (the ``k``
        dimensions).
    """
    check_gaussian(mu_q, logvar_q, "q")
    return 0.5 * anp.sum(logvar_p - logvar_q
                         + (anp.exp(logvar_q) + (mu_q - mu_p) ** 2) * anp.exp(-logvar_p) - 1.0,
                         axis=-1)


def gaussian_log_likelihood(x, mu, logvar):
    r"""Log density of a diagonal Gaussian observation model, summed over features (Eq. (8)).

    $$
    \log \mathcal N(x; \mu, \sigma^2) = -\frac12 \sum_k \left[\log 2\pi + \log\sigma_k^2
    + \frac{(x_k - \mu_k)^2}{\sigma_k^2}\right].
    $$

    Parameters
    ----------
    x : array, shape (..., d)
        Observations, d features on the last axis.
    mu : array, shape (..., d)
        Mean of the Gaussian per feature (broadcast against ``x``).
    logvar : array, shape (..., d)
        Log-variance $\log\sigma_k^2$ per feature, same shape as ``mu``.

    Returns
    -------
    log_p : array, shape (...)
        $\log \mathcal N(x; \mu, \sigma^2)$ in nats, summed over the d features.
    """
    return -0.5 * anp.sum(_LOG_2PI + logvar + (x - mu) ** 2 * anp.exp(-logvar), axis=-1)


def bernoulli_log_likelihood(x, logits):
    r"""Log-probability of binary (or grey-level) pixels under a Bernoulli decoder (Eq. (8)).

    $$
    \log p(x \mid \ell) = \sum_k \left[x_k \ell_k - \log(1 + e^{\ell_k})\right].
    $$

    Parameters
    ----------
    x : array, shape (..., d)
        Pixel values in [0, 1]: binary, or grey levels (then used as soft targets).
    logits : array, shape (..., d)
        Bernoulli logits $\ell_k$ of the pixels, $p(x_k = 1) = \operatorname{sigmoid}(\ell_k)$.

    Returns
    -------
    log_p : array, shape (...)
        $\log p(x \mid \ell)$ in nats, summed over the d pixels (at most 0 for binary ``x``).
    """
    return anp.sum(x * logits - anp.logaddexp(0.0, logits), axis=-1)


def _mixture_log_likelihood(x, log_w, mu, logvar):
    """log sum_k w_k N(x; mu_k, var_k): x (B, N, d), log_w (B, 1|N, K), mu (B, 1|N, K, d)."""
    comp = log_w + gaussian_log_likelihood(x[..., None, :], mu, logvar)   # (B, N, K)
    return logsumexp(comp, axis=-1)


def elbo_terms(params: dict, D, rng: np.random.Generator) -> dict:
    r"""The three terms of the per-data-set bound, Eqs. (8)-(10), one sample of $c$ and $z$.

    $$
    R_D = \mathbb E_{q(c, Z \mid D)} \sum_{x \in D} \log p(x \mid z_{1:L}, c), \qquad
    C_D = \mathrm{KL}\big(q(c \mid D) \,\|\, p(c)\big),
    $$

    $$
    L_D = \mathbb E_{q(c, Z \mid D)} \sum_{x \in D} \sum_{l=1}^{L}
    \mathrm{KL}\big(q(z_l \mid z_{l+1}, x, c) \,\|\, p(z_l \mid z_{l+1}, c)\big).
    $$

    $R_D$ and the expectation over $c$ and the layers above in $L_D$ use one reparameterised
    sample; each KL itself is exact.

    Parameters
    ----------
    params : dict
        From `init_params`.
    D : array, shape (B, N, x_dim)
        A batch of B data sets of N items each (float32 or float64, finite).
    rng : np.random.Generator
        Noise for $c$ and $z$ (a fresh Generator with a fixed seed gives a deterministic bound,
        as the gradient tests need).

    Returns
    -------
    dict
        ``R`` (the reconstruction term $R_D$), ``C`` (the context divergence $C_D$) and ``L``
        (the item-latent divergences $L_D$), each an array of shape (B,) in nats per data
        set, summed over its N items.
    """
    check_rng(rng)
    B, N, _ = check_sets(D, _x_dim(params))
    h = shared_encoder(params, D)
    mu_c, logvar_c = statistic_network(params, D, h)
    eps = rng.standard_normal(np.shape(mu_c)).astype(h.dtype if hasattr(h, "dtype")
                                                      else np.float64)
    c = (mu_c + anp.exp(0.5 * logvar_c) * eps)[:, None, :]           # (B, 1, c_dim)
    layers = inference_network(params, h, c, rng)
    out = observation_decoder(params, [lay["z"] for lay in layers], c)
    if len(out) == 2:
        loglik = gaussian_log_likelihood(D, *out)                        # (B, N)
    elif len(out) == 3:
        loglik = _mixture_log_likelihood(D, *out)
    else:
        loglik = bernoulli_log_likelihood(D, out[0])
    L = anp.zeros(B)
    for lay in layers:
        L = L + anp.sum(gaussian_kl(*lay["q"], *lay["p"]), axis=1)      # (B,)
    return {"R": anp.sum(loglik, axis=1), "C": gaussian_kl(mu_c, logvar_c), "L": L}


def elbo(params: dict, D, rng: np.random.Generator):
    r"""The variational lower bound of each data set, Eq. (7): $\mathcal L_D = R_D - C_D - L_D$.

    $$
    \log p(D) \ge \mathcal L_D = R_D - C_D - L_D .
    $$

    Parameters
    ----------
    params : dict
        Model parameters from `init_params`.
    D : array, shape (B, N, x_dim)
        A batch of B data sets of N items each.
    rng : np.random.Generator
        Noise for the single reparameterised sample of $c$ and $z$ (see `elbo_terms`).

    Returns
    -------
    array, shape (B,)
        One bound per data set (divide by N for nats per item).
    """
    t = elbo_terms(params, D, rng)
    return t["R"] - t["C"] - t["L"]


def kl_weight(epoch: int, alpha0: float = 1.0, decay: float = 0.5) -> float:
    r"""The re-weighting factor $\alpha$ of the training loss at a given epoch (Section 3).

    $$
    \alpha_e = \alpha_0 \, \rho^{e}, \qquad \rho = \tfrac12 \text{ by default.}
    $$

    The stored text of the paper we could reach does not describe a re-weighting; public
    re-implementations scale the reconstruction by $(1 + \alpha)$ and the divergences by
    $1/(1 + \alpha)$ with $\alpha$ starting at 1 and halved every epoch, so that early training
    favours reconstruction and the bound is recovered as $\alpha \to 0$. We implement that
    scheme as an option (``alpha0 = 0`` switches it off) and measure it, never as the default
    objective that is reported.

    Parameters
    ----------
    epoch : int (>= 0)
        The epoch $e$, counted from 0.
    alpha0 : float (>= 0)
        $\alpha_0$, the weight at epoch 0 (0 switches the re-weighting off).
    decay : float in (0, 1]
        $\rho$, the factor applied to $\alpha$ at every epoch (1 keeps it constant).

    Returns
    -------
    float
        $\alpha_e = \alpha_0 \rho^e \ge 0$.
    """
    if epoch < 0 or alpha0 < 0 or not 0 < decay <= 1:
        raise ValueError(f"need epoch >= 0, alpha0 >= 0, 0 < decay <= 1; got {epoch}, "
                         f"{alpha0}, {decay}")
    return float(alpha0 * decay ** epoch)


def training_loss(params: dict, D, rng: np.random.Generator, alpha: float = 0.0):
    r"""Negative (re-weighted) bound per item, averaged over a mini-batch of data sets (Eq. (7)).

    $$
    \ell = -\frac{1}{B N} \sum_{D \in \text{batch}}
    \left[(1 + \alpha) R_D - \frac{C_D + L_D}{1 + \alpha}\right];
    $$

    $\alpha = 0$ gives exactly $-\frac{1}{BN}\sum_D \mathcal L_D$ (see `kl_weight`).

    Parameters
    ----------
    params : dict
        Model parameters from `init_params` (the variable autograd differentiates).
    D : array, shape (B, N, x_dim)
        The mini-batch of B data sets of N items each.
    rng : np.random.Generator
        Noise for the single reparameterised sample of $c$ and $z$ (see `elbo_terms`).
    alpha : float (>= 0)
        The re-weighting factor $\alpha$ (0 = the plain bound; see `kl_weight`).

    Returns
    -------
    loss : scalar
        $\ell$, the negative re-weighted bound in nats per item, averaged over the $B N$
        items of the batch.
    """
    if alpha < 0:
        raise ValueError(f"alpha must be >= 0, got {alpha}")
    t = elbo_terms(params, D, rng)
    B, N = np.shape(D)[:2]
    w = 1.0 + alpha
    return -anp.sum(w * t["R"] - (t["C"] + t["L"]) / w) / (B * N)
