r"""The model of Section 2: an autoencoder ($f$, $g$) and one policy $\pi_k$ per feature.

The encoder $h = f(s) \in \mathbb R^K$ and the decoder $\hat s = g(h)$ are MLPs; the $K$
policies $\pi_k(a \mid s)$ share a trunk on the image and each has a linear head and a softmax
over the four actions. Our default setup replaces them by $K$ state-independent distributions
$\pi_k(a)$ (``policy_input="none"``). `Config` holds the hyperparameters of one run.
"""

from __future__ import annotations

from dataclasses import dataclass

import autograd.numpy as anp
import numpy as np

from .. import nn
from . import _checks
from .grid_world import GRID

__all__ = ["Config", "init_params", "encode", "decode", "policy_log_probs", "autoencoder_loss"]


@dataclass
class Config:
    r"""Hyperparameters of one run of Algorithm 1 (defaults: our tuned grid-world setup).

    The defaults depart from the paper in three documented ways: state-independent policies
    (``policy_input="none"``), the exact sum over actions instead of REINFORCE
    (``estimator="exact"``), and a large $\lambda$, which makes the autoencoder term a weak
    regulariser. Set ``policy_input="state"`` and ``estimator="reinforce"`` for the paper's
    Algorithm 1 as written.

    Attributes
    ----------
    n_features : int
        $K$, the number of features and policies.
    lam : float
        $\lambda \ge 0$, the weight of selectivity in the objective ($0$: a plain autoencoder).
    variant : {"abs", "directed", "positive"}
        Selectivity variant (see
        [`selectivity`][reference.controllable_features.objectives.selectivity]).
    transform : {"none", "log", "log1p"}
        Transform of selectivity inside the objective.
    estimator : {"reinforce", "exact"}
        Algorithm 1 samples one action per feature and uses REINFORCE; "exact" sums over the
        four actions (our addition: the action set is tiny).
    sampling : {"iid", "trajectory", "replay"}
        Where states come from (see
        [`StateSampler`][reference.controllable_features.training.StateSampler]).
    behaviour : {"random", "policies"}
        Behaviour policy for the trajectory and replay samplings.
    noise : float
        Action noise probability in [0, 1].
    steps, batch : int
        Number of updates and states per update.
    lr : float
        Adam step size.
    hidden : tuple of int
        Hidden widths of the encoder (``()``: a linear encoder).
    decoder_hidden : tuple of int
        Hidden widths of the decoder.
    policy_hidden : tuple of int
        Hidden widths of the policies' shared trunk.
    policy_input : {"state", "none"}
        ``"state"``: $\pi_k(a \mid s)$ as in the paper; ``"none"``: each policy is one
        learned distribution over actions, the same in every state (our ablation).
    warmup : int
        Updates over which $\lambda$ ramps linearly from 0 to ``lam`` (0: no ramp); the
        first updates are then autoencoder training. Our addition, not in the paper.
    baseline_decay : float
        Decay of the per-feature running-mean REINFORCE baseline.
    buffer_size : int
        Replay-buffer capacity.
    eps : float
        Denominator guard of selectivity.
    """

    n_features: int = 4
    lam: float = 100.0
    variant: str = "directed"
    transform: str = "none"
    estimator: str = "exact"
    sampling: str = "iid"
    behaviour: str = "random"
    noise: float = 0.0
    steps: int = 3000
    batch: int = 64
    lr: float = 3e-3
    hidden: tuple = (64,)
    decoder_hidden: tuple = (64,)
    policy_hidden: tuple = (32,)
    policy_input: str = "none"
    warmup: int = 0
    baseline_decay: float = 0.9
    buffer_size: int = 1000
    eps: float = 1e-8

    def __post_init__(self):
        _checks.config(self)


def init_params(config: Config, rng: np.random.Generator) -> dict:
    r"""Initial parameters of the encoder, decoder and policies of Section 2.

    The encoder $f$ maps the 144-pixel image to $K$ features, the decoder $g$ maps them back;
    the $K$ policies share a trunk on the image and each has a linear head with a softmax over
    the four actions. With ``policy_input="none"`` the heads read a constant input of 1 and
    start at zero, so every policy starts uniform.

    Parameters
    ----------
    config : Config
    rng : np.random.Generator

    Returns
    -------
    params : dict
        ``{"f": mlp, "g": mlp, "pi_trunk": mlp, "pi_heads": dense}`` (lists/dicts of arrays).
    """
    if not isinstance(config, Config):
        raise ValueError("config must be a Config")
    d, k = GRID * GRID, config.n_features
    ph = list(config.policy_hidden) if config.policy_input == "state" else []
    # draw order (trunk, f, g, heads) fixes what a seed gives; keep it
    trunk = nn.mlp_init([d] + ph, rng) if ph else []
    f = nn.mlp_init([d] + list(config.hidden) + [k], rng)
    g = nn.mlp_init([k] + list(config.decoder_hidden) + [d], rng)
    if config.policy_input == "none":
        heads = {"W": np.zeros((1, 4 * k)), "b": np.zeros(4 * k)}
    else:
        heads = nn.dense_init(ph[-1] if ph else d, 4 * k, rng)
    return {"f": f, "g": g, "pi_trunk": trunk, "pi_heads": heads}


def encode(params: dict, s):
    r"""The encoder $h = f(s)$ of Section 2: an MLP with a linear output.

    Parameters
    ----------
    params : dict
        From [`init_params`][reference.controllable_features.model.init_params].
    s : array, shape (B, 144)

    Returns
    -------
    h : array, shape (B, K)
    """
    _checks.states(s, GRID * GRID)
    return nn.mlp_apply(params["f"], s)


def decode(params: dict, h):
    r"""The decoder $\hat s = g(h)$ of Section 2: an MLP with a linear output.

    Parameters
    ----------
    params : dict
    h : array, shape (B, K)

    Returns
    -------
    s_hat : array, shape (B, 144)
    """
    return nn.mlp_apply(params["g"], h)


def policy_log_probs(params: dict, s):
    r"""Log-probabilities $\log \pi_k(a \mid s)$ of the $K$ policies of Section 2.

    A shared ReLU trunk, then one linear head per feature and a softmax over the four actions.
    (Heads with a single input row are state-independent policies: ``policy_input="none"``.)

    Parameters
    ----------
    params : dict
    s : array, shape (B, 144)

    Returns
    -------
    log_pi : array, shape (B, K, 4)
    """
    _checks.states(s, GRID * GRID)
    h = s if np.shape(params["pi_heads"]["W"])[0] != 1 else np.ones((np.shape(s)[0], 1))
    for layer in params["pi_trunk"]:
        h = nn.relu(nn.dense_apply(layer, h))
    z = nn.dense_apply(params["pi_heads"], h)                         # (B, 4K)
    k = np.shape(params["pi_heads"]["b"])[0] // 4
    return nn.log_softmax(anp.reshape(z, (np.shape(s)[0], k, 4)), axis=-1)


def autoencoder_loss(params: dict, s):
    r"""The reconstruction term of Eq. (2), averaged over the batch.

    $$
    \mathcal L_\mathrm{AE} = \mathbb E_s\big[\tfrac12 \lVert s - g(f(s)) \rVert^2\big]
    $$

    Parameters
    ----------
    params : dict
    s : array, shape (B, 144)

    Returns
    -------
    loss : float
    """
    r = s - decode(params, encode(params, s))
    return 0.5 * anp.mean(anp.sum(r * r, axis=-1))
