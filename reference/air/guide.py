r"""The inference network (guide) of AIR (Section 2.1 of Eslami et al. 2016).

One LSTM step per object. At step $i$ the LSTM reads an embedding of the image (for DAIR: of the
image minus what has been drawn so far) and the previous step's latents, and its state gives
the presence probability and the pose distribution; a glimpse cut out at the sampled pose by the
spatial transformer goes through an encoder that gives the appearance distribution.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np

from ._layers import dense_apply, dense_init, lstm_cell, lstm_init, mlp_apply, mlp_init
from ._layers import relu, st_glimpse
from .model import AIRConfig

__all__ = ["guide_init", "embed", "presence_and_where", "encode", "sample_z_pres",
           "gaussian_kl"]


def _sigmoid(a):
    return 0.5 * (anp.tanh(0.5 * a) + 1.0)


def _softplus(a):
    return anp.logaddexp(0.0, a)


def guide_init(config: AIRConfig, rng: np.random.Generator, pres_logit: float = 2.0):
    r"""Parameters of the guide (Section 2.1): embedding, LSTM, presence/pose head, encoder.

    The presence logit starts at ``pres_logit`` (positive: at first the guide proposes an
    object at every step, so the learning signal can see what objects are worth), one of the
    initialisations training depends on.
    """
    c2, g2 = config.canvas ** 2, config.glimpse ** 2
    n_in = config.n_embed + 3 + config.n_what + 1
    head = dense_init(config.n_hidden, 1 + 3 + 3, rng)
    head["W"] = head["W"] * 0.1
    head["b"] = np.zeros(7)
    head["b"][0] = float(pres_logit)
    return {
        "embed": mlp_init([c2, config.n_embed], rng),
        "lstm": lstm_init(n_in, config.n_hidden, rng),
        "head": head,
        "encoder": mlp_init([g2, 100, 2 * config.n_what], rng),
    }


def embed(params, image):
    r"""Image embedding fed to the LSTM: one ReLU layer on the flattened image (Section 3.1).

    $$
    e = \max(0, W_e \operatorname{vec}(x) + b_e)
    $$

    image (B, H, W) -> (B, n_embed).
    """
    flat = anp.reshape(image, (image.shape[0], -1))           # (B, H*W)
    return relu(dense_apply(params["embed"][0], flat))


def presence_and_where(params, e, prev, state, q_floor: float = 0.0):
    r"""One LSTM step and its presence and pose distributions (Section 2.1).

    $$
    h_i = R_\phi(e, z^{\text{where}}_{i-1}, z^{\text{what}}_{i-1}, z^{\text{pres}}_{i-1}; h_{i-1}),
    \quad q(z^{\text{pres}}_i = 1) = \mathrm{sigmoid}(a_i), \quad
    q(z^{\text{where}}_i) = \mathcal N(\mu^{\text{where}}_i, \sigma^{\text{where}\,2}_i)
    $$

    The pose mean is bounded: $\mu_s = 0.3 + 0.15 \tanh(\cdot)$ and $\mu_{x,y} = \tanh(\cdot)$,
    so the proposed window is always between 0.15 and 0.45 of the canvas wide and centred on it;
    the scale's standard deviation is at most 0.05 (so that $s$ stays positive).

    Parameters
    ----------
    params : dict
        Guide parameters from [`guide_init`][reference.air.guide.guide_init].
    e : array, shape (B, n_embed)
        Image embedding from [`embed`][reference.air.guide.embed] (for DAIR, of the residual).
    prev : tuple of 3 arrays
        The previous step's latents ``(z_where (B, 3), z_what (B, n_what), z_pres (B,))``.
    state : tuple of 2 arrays
        The previous LSTM state ``(h, c)``, each of shape (B, n_hidden).
    q_floor : float
        Keeps $q(z^{\text{pres}}_i = 1)$ in $[\epsilon, 1 - \epsilon]$ (``AIRConfig.q_pres_floor``).

    Returns
    -------
    q_pres : array, shape (B,)
        Probability $q(z^{\text{pres}}_i = 1)$ that step $i$ holds an object.
    mu_where : array, shape (B, 3)
        Mean of the pose distribution, $(s, x, y)$ with the bounds above.
    sd_where : array, shape (B, 3)
        Standard deviation of the pose distribution (scale entry at most about 0.05).
    state : tuple of 2 arrays
        The new LSTM state ``(h, c)``, each of shape (B, n_hidden).
    """
    z_where, z_what, z_pres = prev
    inp = anp.concatenate([e, z_where, z_what, z_pres[:, None]], axis=1)
    h, c = lstm_cell(params["lstm"], inp, *state)
    out = dense_apply(params["head"], h)                       # (B, 7)
    q_pres = q_floor + (1.0 - 2.0 * q_floor) * _sigmoid(out[:, 0])
    mu_where = anp.concatenate([0.3 + 0.15 * anp.tanh(out[:, 1:2]), anp.tanh(out[:, 2:4])],
                               axis=1)
    sd_where = anp.concatenate([0.05 * _sigmoid(out[:, 4:5] - 1.0),
                                _softplus(out[:, 5:7] - 3.0)], axis=1) + 1e-3
    return q_pres, mu_where, sd_where, (h, c)


def encode(params, image, z_where, config: AIRConfig):
    r"""Appearance distribution from the glimpse at the pose (Section 2.1).

    $$
    x^{\text{att}}_i = \mathcal T\big(x; z^{\text{where}}_i\big), \quad
    q(z^{\text{what}}_i) = \mathcal N\big(\mu^{\text{what}}(x^{\text{att}}_i),
    \sigma^{\text{what}}(x^{\text{att}}_i)^2\big)
    $$

    $\mathcal T$ is ``st_glimpse`` of the shared spatial transformer (image to window).

    Parameters
    ----------
    params : dict
        Guide parameters from [`guide_init`][reference.air.guide.guide_init].
    image : array, shape (B, H, W)
        The image the glimpse is cut from (for DAIR, the residual).
    z_where : array, shape (B, 3)
        Pose $(s, x, y)$ of the window to cut out.
    config : AIRConfig
        Supplies the glimpse side $g$ (``config.glimpse``) and ``n_what``.

    Returns
    -------
    glimpse : array, shape (B, g, g)
        The window $x^{\text{att}}_i$ read from the image at the pose.
    mu_what : array, shape (B, n_what)
        Mean of the appearance distribution.
    sd_what : array, shape (B, n_what)
        Standard deviation of the appearance distribution (positive).
    """
    g = config.glimpse
    glimpse = st_glimpse(image, z_where, (g, g))
    out = mlp_apply(params["encoder"], anp.reshape(glimpse, (-1, g * g)))
    k = config.n_what
    return glimpse, out[:, :k], _softplus(out[:, k:]) + 1e-4


def sample_z_pres(q_pres, z_pres_prev, u):
    r"""Presence bit: Bernoulli, and 0 for ever after the first 0 (Section 2.1).

    $$
    z^{\text{pres}}_i = z^{\text{pres}}_{i-1} \cdot [u_i < q(z^{\text{pres}}_i = 1)],
    \quad u_i \sim \mathcal U(0, 1)
    $$

    Not differentiable (its gradient comes from the likelihood-ratio estimator).
    """
    from autograd.tracer import getval

    return z_pres_prev * (np.asarray(u) < getval(q_pres)).astype(float)


def gaussian_kl(mu, sd, mu0, sd0):
    r"""KL divergence of diagonal Gaussians, summed over the last axis (Section 2.1).

    $$
    \mathrm{KL}\big(\mathcal N(\mu, \sigma^2) \,\|\, \mathcal N(\mu_0, \sigma_0^2)\big)
    = \sum_d \log\frac{\sigma_{0d}}{\sigma_d} + \frac{\sigma_d^2 + (\mu_d - \mu_{0d})^2}
      {2\sigma_{0d}^2} - \frac12
    $$
    """
    mu0, sd0 = np.asarray(mu0), np.asarray(sd0)
    return anp.sum(anp.log(sd0) - anp.log(sd) + (sd ** 2 + (mu - mu0) ** 2) / (2 * sd0 ** 2)
                   - 0.5, axis=-1)
