r"""The generative model of AIR (Section 2 of Eslami et al. 2016).

A scene is drawn by a chain of presence bits $z^{\text{pres}}_1, z^{\text{pres}}_2, \dots$ that
stops at the first 0 (at most $N$ objects); every present object gets an appearance code
$z^{\text{what}}_i \sim \mathcal N(0, I)$ and a pose $z^{\text{where}}_i = (s, x, y)$; the decoder
turns $z^{\text{what}}_i$ into a small glimpse, the spatial transformer writes the glimpse onto
the canvas at $z^{\text{where}}_i$, the objects add, and the image is Gaussian around the sum.

**Pose convention.** $z^{\text{where}} = (s, x, y)$ is the shared spatial transformer's
convention (``reference.nn``): the object's centre is at $(x, y)$ in normalised canvas
coordinates ($[-1, 1]$, $x$ to the right, $y$ down) and its side is $s$ times the canvas side.
The paper and Pyro's reproduction use $(s', x', y')$ with the object at $(-x'/s', -y'/s')$ and
side $1/s'$, i.e. $s = 1/s'$, $x = -x'/s'$, $y = -y'/s'$.
"""

from __future__ import annotations

from dataclasses import dataclass

import autograd.numpy as anp
import numpy as np

from ._layers import mlp_apply, mlp_init, st_render

__all__ = ["AIRConfig", "log_p_pres", "count_prior", "decoder_init", "decode", "render",
           "log_likelihood"]

_LOG2PI = float(np.log(2.0 * np.pi))


@dataclass(frozen=True)
class AIRConfig:
    r"""Sizes and fixed constants of the model and guide (Section 2 and Section 3.1).

    Attributes
    ----------
    canvas : int
        Image side in pixels (32).
    glimpse : int
        Glimpse side in pixels (10).
    n_what : int
        Dimension of $z^{\text{what}}$.
    n_hidden : int
        LSTM state size of the guide.
    n_embed : int
        Width of the image embedding fed to the LSTM.
    max_steps : int
        $N$, the number of guide steps and the largest count the model can express.
    log_rho : float
        $\log \rho$, the log prior probability that another object is present; $-\log\rho$ is
        the prior's price per object in nats (7 by default).
    sigma_x : float
        Standard deviation of the Gaussian likelihood (0.3, as in the paper).
    where_mu : tuple of 3 floats
        Prior mean of $z^{\text{where}} = (s, x, y)$ (default: scale 0.3, centred).
    where_sd : tuple of 3 floats
        Prior standard deviation of $z^{\text{where}} = (s, x, y)$ (default 0.1 for the scale,
        1 for each position); every entry must be positive.
    dair : bool
        Difference-AIR: the guide sees the image minus what has been drawn so far.
    q_pres_floor : float
        $\epsilon$: the guide's presence probability is kept in $[\epsilon, 1 - \epsilon]$, so
        that a step switched off early in training is still tried now and then (a restriction
        of the guide family, not a bias of the estimator).
    """

    canvas: int = 32
    glimpse: int = 10
    n_what: int = 10
    n_hidden: int = 128
    n_embed: int = 256
    max_steps: int = 3
    log_rho: float = -7.0
    sigma_x: float = 0.3
    where_mu: tuple = (0.3, 0.0, 0.0)
    where_sd: tuple = (0.1, 1.0, 1.0)
    dair: bool = False
    q_pres_floor: float = 0.0

    def __post_init__(self):
        for name in ("canvas", "glimpse", "n_what", "n_hidden", "n_embed", "max_steps"):
            v = getattr(self, name)
            if int(v) != v or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if not self.log_rho < 0:
            raise ValueError(f"log_rho must be negative (rho in (0, 1)), got {self.log_rho}")
        if not 0 <= self.q_pres_floor < 0.5:
            raise ValueError(f"q_pres_floor must be in [0, 0.5), got {self.q_pres_floor}")
        if not self.sigma_x > 0 or min(self.where_sd) <= 0:
            raise ValueError("sigma_x and where_sd must be positive")


def log_p_pres(z_pres, config: AIRConfig):
    r"""Log prior of one presence bit given that the previous one was 1 (Section 2).

    The count prior is a geometric chain truncated at $N$ steps:

    $$
    p(z^{\text{pres}}_i = 1 \mid z^{\text{pres}}_{i-1} = 1) = \rho, \qquad
    p_N(n) = \rho^{\,n} (1 - \rho)^{[n < N]} .
    $$

    Parameters
    ----------
    z_pres : array, shape (B,), values in {0, 1}
        The presence bit of the current step for each of the B images.
    config : AIRConfig
        Supplies $\log \rho$ (``config.log_rho``).

    Returns
    -------
    array
        Shape (B,): $\log \rho$ where the bit is 1 and $\log(1 - \rho)$ where it is 0.
    """
    log_rho = config.log_rho
    log_1m_rho = np.log1p(-np.exp(log_rho))
    return z_pres * log_rho + (1.0 - z_pres) * log_1m_rho


def count_prior(config: AIRConfig) -> np.ndarray:
    r"""The truncated geometric prior $p_N(n)$ on the number of objects (Section 2).

    $$
    p_N(n) = \rho^{\,n} (1 - \rho)^{[n < N]}, \quad n = 0, \dots, N .
    $$

    Parameters
    ----------
    config : AIRConfig
        Supplies $\log \rho$ and $N$ (``config.max_steps``).

    Returns
    -------
    ndarray
        Shape (N + 1,): the probability of each count $n = 0, \dots, N$; the entries sum to 1.
    """
    rho = np.exp(config.log_rho)
    n = np.arange(config.max_steps + 1)
    return rho ** n * np.where(n < config.max_steps, 1.0 - rho, 1.0)


def decoder_init(config: AIRConfig, rng: np.random.Generator, empty_logit: float = -3.0):
    r"""Decoder MLP parameters $z^{\text{what}} \to$ glimpse logits (Section 3.1).

    The output bias starts at ``empty_logit`` so that a new object is drawn nearly empty
    ($\mathrm{sigmoid}(-3) \approx 0.05$): one of the initialisations training depends on.
    """
    g2 = config.glimpse ** 2
    params = mlp_init([config.n_what, 100, g2], rng)
    params[-1]["b"] = np.full(g2, float(empty_logit))
    return params


def decode(params, z_what, config: AIRConfig):
    r"""Glimpse of an object from its appearance code (Section 3.1, the decoder $f^{dec}$).

    $$
    y^{\text{att}}_i = \mathrm{sigmoid}\big(f^{dec}_\theta(z^{\text{what}}_i)\big)
    $$

    Parameters
    ----------
    params : list of dict
        Decoder MLP parameters from [`decoder_init`][reference.air.model.decoder_init].
    z_what : array, shape (B, n_what)
        Appearance code of one object in each of the B images.
    config : AIRConfig
        Supplies the glimpse side (``config.glimpse``).

    Returns
    -------
    array
        Shape (B, glimpse, glimpse): the decoded glimpse intensities, each in (0, 1).
    """
    logits = mlp_apply(params, z_what)                          # (B, g*g)
    g = config.glimpse
    return anp.reshape(0.5 * (anp.tanh(0.5 * logits) + 1.0), (-1, g, g))


def render(glimpse, z_where, z_pres, config: AIRConfig):
    r"""One object's contribution to the canvas: the glimpse written at its pose (Section 3.1).

    $$
    y_i = z^{\text{pres}}_i \, \mathcal T^{-1}\big(y^{\text{att}}_i; z^{\text{where}}_i\big),
    \qquad \bar x = \sum_i y_i
    $$

    $\mathcal T^{-1}$ is ``st_render`` of the shared spatial transformer, with the object's centre
    at $(x, y)$ and side $s$ (canvas units); the module docstring relates it to the paper's
    $(s', x', y')$.

    Parameters
    ----------
    glimpse : array, shape (B, g, g)
        The object's decoded glimpse $y^{\text{att}}_i$ in each image.
    z_where : array, shape (B, 3)
        The object's pose $(s, x, y)$ in the shared transformer's convention.
    z_pres : array, shape (B,)
        Presence bit; an absent object (0) contributes an all-zero canvas.
    config : AIRConfig
        Supplies the canvas side (``config.canvas``).

    Returns
    -------
    array
        Shape (B, canvas, canvas): the object's contribution $y_i$ to each canvas.
    """
    c = config.canvas
    return z_pres[:, None, None] * st_render(glimpse, z_where, (c, c))


def log_likelihood(x, canvas, config: AIRConfig):
    r"""Gaussian log likelihood of the image around the summed canvas (Section 3.1).

    $$
    \log p_\theta(x \mid z) = \sum_{\text{pixels}} \log \mathcal N(x; \bar x, \sigma_x^2)
    $$

    Parameters
    ----------
    x : array, shape (B, H, W)
        The observed images.
    canvas : array, shape (B, H, W)
        The summed object contributions $\bar x$, the mean of the Gaussian.
    config : AIRConfig
        Supplies the pixel noise $\sigma_x$ (``config.sigma_x``).

    Returns
    -------
    array
        Shape (B,): $\log p_\theta(x \mid z)$ of each image in nats, summed over pixels.
    """
    s = config.sigma_x
    r = (x - canvas) / s
    per_pixel = -0.5 * r ** 2 - np.log(s) - 0.5 * _LOG2PI
    return anp.sum(anp.reshape(per_pixel, (per_pixel.shape[0], -1)), axis=1)
