r"""The model of Section 2: an autoencoder ($f$, $g$) and one policy $\pi_k$ per feature.

The encoder $h = f(s) \in \mathbb R^K$ and the decoder $\hat s = g(h)$ are MLPs; the $K$
policies $\pi_k(a \mid s)$ share a trunk on the image and each has a linear head and a softmax
over the four actions. Our default setup replaces them by $K$ state-independent distributions
$\pi_k(a)$ (``policy_input="none"``). `Config` holds the hyperparameters of one run.

The authors' released code builds the model differently, and ``Config`` can follow it: tanh
features (``feature_activation="tanh"``), policies as a linear head on the encoder's last
hidden layer (``policy_input="encoder"``) and a decoder that reads the encoder's first hidden
layer instead of the features (``decoder_input="encoder"``).

The architecture is explicit in the keys of the parameter dict (never guessed from array
shapes): ``"f"`` (linear features) or ``"f_tanh"``; ``"g"`` (decoder on the features) or
``"g_enc"``; and one of ``"pi_heads"`` (with the trunk ``"pi_trunk"``), ``"pi_const"``
(state-independent) or ``"pi_enc"`` (head on the encoder's hidden layer).
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
    estimator : {"reinforce", "exact", "uniform"}
        Algorithm 1 samples one action per feature and uses REINFORCE; "exact" sums over the
        four actions (our addition: the action set is tiny); "uniform" draws one action per
        state uniformly and differentiates $\pi_k(a \mid s)\,\mathrm{sel}$ directly, as the
        authors' code does.
    sampling : {"iid", "trajectory", "replay"}
        Where states come from (see
        [`StateSampler`][reference.controllable_features.training.StateSampler]).
    behaviour : {"random", "policies"}
        Behaviour policy for the trajectory and replay samplings.
    noise : float
        Action noise probability in [0, 1].
    steps : int
        Number of updates.
    batch : int
        Number of states per update.
    lr : float
        Adam step size.
    hidden : tuple of int
        Hidden widths of the encoder (``()``: a linear encoder).
    decoder_hidden : tuple of int
        Hidden widths of the decoder.
    policy_hidden : tuple of int
        Hidden widths of the policies' shared trunk.
    policy_input : {"state", "none", "encoder"}
        ``"state"``: $\pi_k(a \mid s)$ on its own trunk; ``"encoder"``: $\pi_k(a \mid s)$
        as a linear head on the encoder's last hidden layer, as in the authors' code;
        ``"none"``: each policy is one learned distribution over actions, the same in every
        state (our ablation).
    feature_activation : {"linear", "tanh"}
        Output nonlinearity of the encoder (the authors' code: tanh).
    decoder_input : {"features", "encoder"}
        What the decoder reads: the features $f(s)$ (Eq. (2)), or the encoder's first hidden
        layer, as the authors' code reconstructs from its convolutional maps.
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
    feature_activation: str = "linear"
    decoder_input: str = "features"
    warmup: int = 0
    baseline_decay: float = 0.9
    buffer_size: int = 1000
    eps: float = 1e-8

    def __post_init__(self):
        _checks.config(self)


def init_params(config: Config, rng: np.random.Generator) -> dict:
    r"""Initial parameters of the encoder, decoder and policies of Section 2.

    The encoder $f$ maps the 144-pixel image to $K$ features, the decoder $g$ maps them (or
    the encoder's first hidden layer) back; the $K$ policies have a linear head each with a
    softmax over the four actions, on their own trunk or on the encoder's last hidden layer.
    With ``policy_input="none"`` the heads read a constant input of 1 and start at zero, so
    every policy starts uniform.

    Parameters
    ----------
    config : Config
        The architecture: number of features, layer widths, policy input, feature activation
        and decoder input.
    rng : np.random.Generator
        Source of the random initial weights.

    Returns
    -------
    params : dict
        Encoder ``"f"`` or ``"f_tanh"``, decoder ``"g"`` or ``"g_enc"``, ``"pi_trunk"`` and
        one of ``"pi_heads"``, ``"pi_const"``, ``"pi_enc"`` (see the module doc).
    """
    if not isinstance(config, Config):
        raise ValueError("config must be a Config")
    d, k = GRID * GRID, config.n_features
    ph = list(config.policy_hidden) if config.policy_input == "state" else []
    # draw order (trunk, f, g, heads) fixes what a seed gives; keep it
    trunk = nn.mlp_init([d] + ph, rng) if ph else []
    f = nn.mlp_init([d] + list(config.hidden) + [k], rng)
    g_in = config.hidden[0] if config.decoder_input == "encoder" else k
    g = nn.mlp_init([g_in] + list(config.decoder_hidden) + [d], rng)
    params = {"f_tanh" if config.feature_activation == "tanh" else "f": f,
              "g_enc" if config.decoder_input == "encoder" else "g": g, "pi_trunk": trunk}
    if config.policy_input == "none":
        params["pi_const"] = {"W": np.zeros((1, 4 * k)), "b": np.zeros(4 * k)}
    elif config.policy_input == "encoder":
        params["pi_enc"] = nn.dense_init(config.hidden[-1], 4 * k, rng)
    else:
        params["pi_heads"] = nn.dense_init(ph[-1] if ph else d, 4 * k, rng)
    return params


def _encoder_pass(params: dict, s):
    """Encoder hidden activations (first, last; ``s`` itself for a linear encoder) and $f(s)$."""
    tanh = "f_tanh" in params
    layers = params["f_tanh" if tanh else "f"]
    hid = [s]
    for layer in layers[:-1]:
        hid.append(nn.relu(nn.dense_apply(layer, hid[-1])))
    h = nn.dense_apply(layers[-1], hid[-1])
    return hid[min(1, len(hid) - 1)], hid[-1], (anp.tanh(h) if tanh else h)


def encode(params: dict, s):
    r"""The encoder $h = f(s)$ of Section 2: an MLP with a linear (or tanh) output.

    Parameters
    ----------
    params : dict
        From [`init_params`][reference.controllable_features.model.init_params].
    s : array, shape (B, 144)
        A batch of states, flattened 12x12 images from
        [`render`][reference.controllable_features.grid_world.render].

    Returns
    -------
    h : array, shape (B, K)
        The $K$ features $f_k(s)$ of each state.
    """
    _checks.states(s, GRID * GRID)
    return _encoder_pass(params, s)[2]


def decode(params: dict, h):
    r"""The decoder $\hat s = g(h)$ of Section 2: an MLP with a linear output.

    Parameters
    ----------
    params : dict
        From [`init_params`][reference.controllable_features.model.init_params].
    h : array, shape (B, K)
        The features; with a ``"g_enc"`` decoder (``decoder_input="encoder"``), the encoder's
        first hidden layer, shape (B, hidden[0]).

    Returns
    -------
    s_hat : array, shape (B, 144)
        The reconstructed states $g(h)$, flattened 12x12 images.
    """
    return nn.mlp_apply(params["g_enc"] if "g_enc" in params else params["g"], h)


def policy_log_probs(params: dict, s):
    r"""Log-probabilities $\log \pi_k(a \mid s)$ of the $K$ policies of Section 2.

    A shared ReLU trunk (``"pi_heads"``) or the encoder's last hidden layer (``"pi_enc"``),
    then one linear head per feature and a softmax over the four actions; ``"pi_const"`` heads
    read a constant 1 (state-independent policies, ``policy_input="none"``).

    Parameters
    ----------
    params : dict
        From [`init_params`][reference.controllable_features.model.init_params].
    s : array, shape (B, 144)
        A batch of states, flattened 12x12 images from
        [`render`][reference.controllable_features.grid_world.render].

    Returns
    -------
    log_pi : array, shape (B, K, 4)
        ``log_pi[b, k, a]`` is $\log \pi_k(a \mid s_b)$; each ``(b, k)`` row normalises over
        the four actions.
    """
    _checks.states(s, GRID * GRID)
    b = np.shape(s)[0]
    if "pi_const" in params:
        heads, h = params["pi_const"], np.ones((b, 1))
    elif "pi_enc" in params:
        heads, h = params["pi_enc"], _encoder_pass(params, s)[1]
    else:
        heads, h = params["pi_heads"], s
        for layer in params["pi_trunk"]:
            h = nn.relu(nn.dense_apply(layer, h))
    z = nn.dense_apply(heads, h)                                      # (B, 4K)
    k = np.shape(heads["b"])[0] // 4
    return nn.log_softmax(anp.reshape(z, (b, k, 4)), axis=-1)


def autoencoder_loss(params: dict, s):
    r"""The reconstruction term of Eq. (2), averaged over the batch.

    $$
    \mathcal L_\mathrm{AE} = \mathbb E_s\big[\tfrac12 \lVert s - g(f(s)) \rVert^2\big]
    $$

    Parameters
    ----------
    params : dict
        From [`init_params`][reference.controllable_features.model.init_params].
    s : array, shape (B, 144)
        A batch of states, flattened 12x12 images from
        [`render`][reference.controllable_features.grid_world.render].

    Returns
    -------
    loss : float
        $\mathcal L_\mathrm{AE}$, half the squared reconstruction error summed over pixels and
        averaged over the batch (differentiable by autograd in ``params``).
    """
    _checks.states(s, GRID * GRID)
    first, _, h = _encoder_pass(params, s)
    r = s - decode(params, first if "g_enc" in params else h)
    return 0.5 * anp.mean(anp.sum(r * r, axis=-1))
