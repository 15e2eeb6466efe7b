r"""Conditional generation (Section 5.2, Section 5.3): new items like those of a data set."""

from __future__ import annotations

import numpy as np

from ._checks import check_positive_int, check_rng
from .model import _gaussian_sample, latent_decoder, observation_decoder, statistic_network

__all__ = ["sample_conditional"]


def sample_conditional(params: dict, D, n: int, rng: np.random.Generator,
                       mean_field: bool = True):
    r"""Conditional generation (Section 5.2, Section 5.3): new items like those of a data set.

    Set $c$ to the posterior mean of $q(c \mid D)$, draw $z_L \sim p(z_L \mid c)$ and the
    layers below, then return the mean of $p(x \mid z, c)$ (pixel probabilities for a
    Bernoulli model) or a sample from it.

    $$
    c = \mathbb E_{q(c \mid D)}[c], \quad z_{1:L} \sim p(z_{1:L} \mid c), \quad
    \hat x = \mathbb E_{p(x \mid z, c)}[x].
    $$

    Parameters
    ----------
    params : dict
        A trained model (`init_params` layout, e.g. from `fit_sets`).
    D : array, shape (B, N, x_dim)
        The B data sets to imitate; only the posterior mean of $q(c \mid D)$ is used.
    n : int
        Items to generate per set.
    rng : np.random.Generator
        Noise for the latent samples $z_{1:L}$ and, with ``mean_field=False``, for the
        sample of $x$.
    mean_field : bool
        Return the decoder's mean (True) or a sample from it (False).

    Returns
    -------
    x : ndarray, shape (B, n, x_dim)
        The ``n`` new items of each set: the mean of $p(x \mid z, c)$ (pixel probabilities in
        [0, 1] for a Bernoulli model, the weighted mean of the components for a mixture) or
        a sample from it (binary pixels for a Bernoulli model). A Gaussian or Bernoulli model
        with ``n_layers = 0`` has nothing to vary between items and returns shape
        (B, 1, x_dim).
    """
    check_rng(rng)
    n = check_positive_int("n", n)
    mu_c, _ = statistic_network(params, D)
    c = mu_c[:, None, :]
    B = np.shape(D)[0]
    zs, z = [], None
    for j in range(len(params["p_z"])):
        mu, logvar = latent_decoder(params, j, c, z)
        mu = np.broadcast_to(mu, (B, n, np.shape(mu)[-1]))
        logvar = np.broadcast_to(logvar, mu.shape)
        z = _gaussian_sample(mu, logvar, rng)
        zs.append(z)
    out = observation_decoder(params, zs, c)
    if len(out) == 3:
        log_w, mu, logvar = (np.broadcast_to(a, (B, n) + np.shape(a)[2:]) for a in out)
        if mean_field:
            return np.sum(np.exp(log_w)[..., None] * mu, axis=-2)
        u = rng.uniform(size=(B, n, 1))
        k = np.minimum((np.cumsum(np.exp(log_w), axis=-1) < u).sum(-1), log_w.shape[-1] - 1)
        m = np.take_along_axis(mu, k[..., None, None], axis=-2)[..., 0, :]
        lv = np.take_along_axis(logvar, k[..., None, None], axis=-2)[..., 0, :]
        return m + np.exp(0.5 * lv) * rng.standard_normal(m.shape)
    if len(out) == 1:
        p = 1.0 / (1.0 + np.exp(-out[0]))
        return p if mean_field else (rng.uniform(size=p.shape) < p).astype(p.dtype)
    mu, logvar = out
    return mu if mean_field else mu + np.exp(0.5 * logvar) * rng.standard_normal(mu.shape)
