r"""Independently Controllable Features (Bengio, Thomas, Pineau, Precup & Bengio, 2017).

arXiv:1703.07718. An autoencoder (encoder $f$, decoder $g$) is trained together with one policy
$\pi_k(a \mid s)$ per feature $f_k$; a *selectivity* reward pays policy $k$ for changing feature
$k$ while leaving the others alone, so that each feature comes to measure something the agent
can change on its own. On a grid world the hope is that the features become the agent's $x$ and
$y$ coordinates.

The module reads like the paper: the grid world, the model ($f$, $g$, $\pi$), the autoencoder
loss, selectivity and its variants, the objective, Algorithm 1 (REINFORCE) and its exact
expectation variant, the training loop, and the measures used on the documentation page.

Sources and how we read them
----------------------------
- The paper (arXiv v1) defines selectivity with absolute values and the objective with
  $\log \mathrm{sel}$; the review on ShortScience.org restates that form.
- The first author's thesis draft ("Independently Controllable Factors") drops the log.
- A *directed* variant drops the absolute value from the numerator, so only changes in one
  direction are rewarded, and (paper) scores it through $\log(1 + \mathrm{sel})$. The authors'
  released grid-world code (Theano), as the project's issue reads it, puts the sum of the
  positive parts of the changes in the denominator. With that denominator a pair of features
  $(+x, -x)$ can both reach selectivity 1, so $\pm$ pairs are optimal; with absolute values in
  the denominator a $\pm$ pair would cap each other at 1/2.

What we found (numbers on the documentation page, from ``python -m reference.reproduce
controllable_features``): with policies that see the state (Algorithm 1 as written, with
REINFORCE or with the exact sum over actions) the policies become selective but the features
only partly follow $x$ and $y$ (in no seed both best correlations reach 0.9); with one
state-independent action distribution per feature and the directed variant the features
become $\pm x$, $\pm y$ in every seed, with either estimator. That ablation is our default.

Equation numbers below are our reading of arXiv v1 (Eq. (1): selectivity; Eq. (2): the
objective); the grid world is the paper's first experiment (Section 3).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import autograd.numpy as anp
import numpy as np
from autograd import value_and_grad

from . import nn

__all__ = [
    "GRID", "AGENT", "N_POS", "ACTIONS", "MOVES", "VARIANTS", "TRANSFORMS",
    "all_positions", "sample_positions", "render", "step", "step_all_actions", "rollout",
    "StateSampler", "Config", "init_params", "encode", "decode", "policy_log_probs",
    "autoencoder_loss", "selectivity", "expected_selectivity", "objective",
    "reinforce_surrogate", "train", "feature_grid", "alignment", "policy_selectivity",
    "policy_directions", "evaluate",
]

#: Side of the square image, in pixels.
GRID = 12
#: Side of the square agent, in pixels.
AGENT = 2
#: Number of agent positions along each axis (the agent's top-left pixel): 0 .. N_POS - 1.
N_POS = GRID - AGENT + 1
#: Action names, in the order of the action index.
ACTIONS = ("up", "down", "left", "right")
#: Position change (row, col) of each action; row grows downwards, col grows to the right.
MOVES = np.array([[-1, 0], [1, 0], [0, -1], [0, 1]], dtype=np.int64)
#: Selectivity variants (see :func:`selectivity`).
VARIANTS = ("abs", "directed", "positive")
_ALIASES = {"signed": "directed"}
#: Transforms of the selectivity inside the objective (see :func:`selectivity`).
TRANSFORMS = ("none", "log", "log1p")

_SAMPLINGS = ("iid", "trajectory", "replay")
_ESTIMATORS = ("reinforce", "exact")
_BEHAVIOURS = ("random", "policies")


# --------------------------------------------------------------------------------------------
# The grid world (Section 3)
# --------------------------------------------------------------------------------------------

def _check_positions(positions):
    positions = np.asarray(positions)
    if positions.ndim < 1 or positions.shape[-1] != 2:
        raise ValueError(f"positions must have shape (..., 2) (row, col), got {positions.shape}")
    if not np.issubdtype(positions.dtype, np.integer):
        if not np.all(np.equal(np.mod(positions, 1), 0)):
            raise ValueError("positions must be integers")
        positions = positions.astype(np.int64)
    if positions.size and (positions.min() < 0 or positions.max() > N_POS - 1):
        raise ValueError(f"positions must lie in [0, {N_POS - 1}] (the agent's top-left pixel "
                         f"on a {GRID}x{GRID} image), got range "
                         f"[{positions.min()}, {positions.max()}]")
    return positions


def _check_noise(noise):
    if not (np.isscalar(noise) and 0.0 <= noise <= 1.0):
        raise ValueError(f"action noise must be a probability in [0, 1], got {noise!r}")


def all_positions() -> np.ndarray:
    r"""Every agent position of the grid world of Section 3, row-major.

    Returns
    -------
    positions : ndarray, shape (N_POS**2, 2), int64
        ``(row, col)`` of the agent's top-left pixel; ``N_POS = 11`` for a 2x2 agent on a
        12x12 image, so 121 positions.
    """
    r, c = np.meshgrid(np.arange(N_POS), np.arange(N_POS), indexing="ij")
    return np.stack([r.ravel(), c.ravel()], axis=1)


def sample_positions(n: int, rng: np.random.Generator) -> np.ndarray:
    r"""Draw ``n`` agent positions uniformly at random (i.i.d. states of Algorithm 1).

    Parameters
    ----------
    n : int
        Number of positions (positive).
    rng : np.random.Generator

    Returns
    -------
    positions : ndarray, shape (n, 2), int64
    """
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    return rng.integers(0, N_POS, size=(int(n), 2))


def render(positions) -> np.ndarray:
    r"""Render agent positions to flattened images (Section 3): a 2x2 block of ones on zeros.

    Parameters
    ----------
    positions : array_like of int, shape (..., 2)
        ``(row, col)`` in ``[0, N_POS - 1]``.

    Returns
    -------
    s : ndarray, shape (..., GRID * GRID), float64
        Row-major flattened 12x12 images.

    Examples
    --------
    >>> render([[0, 0]]).reshape(12, 12)[:3, :3]
    array([[1., 1., 0.],
           [1., 1., 0.],
           [0., 0., 0.]])
    """
    positions = _check_positions(positions)
    lead = positions.shape[:-1]
    p = positions.reshape(-1, 2)
    img = np.zeros((p.shape[0], GRID, GRID))
    idx = np.arange(p.shape[0])
    for dr in range(AGENT):
        for dc in range(AGENT):
            img[idx, p[:, 0] + dr, p[:, 1] + dc] = 1.0
    return img.reshape(lead + (GRID * GRID,))


def step(positions, actions, rng: np.random.Generator | None = None,
         noise: float = 0.0) -> np.ndarray:
    r"""The grid world's transition $s' \sim P(s' \mid s, a)$ of Section 3, vectorised.

    A move into a wall leaves the position unchanged. With probability ``noise`` the chosen
    action is replaced by one drawn uniformly from the four (possibly the same one).

    Parameters
    ----------
    positions : array_like of int, shape (..., 2)
    actions : array_like of int, shape (...)
        Indices into :data:`ACTIONS` (0 up, 1 down, 2 left, 3 right).
    rng : np.random.Generator or None
        Needed only when ``noise > 0``.
    noise : float in [0, 1]
        Probability of replacing the action by a uniformly random one.

    Returns
    -------
    next_positions : ndarray, shape (..., 2), int64

    Examples
    --------
    >>> step([[0, 0], [5, 5]], [0, 3]).tolist()   # up at the top wall stays; right moves
    [[0, 0], [5, 6]]
    """
    positions = _check_positions(positions)
    actions = np.asarray(actions)
    if actions.shape != positions.shape[:-1]:
        raise ValueError(f"actions must have shape {positions.shape[:-1]} (one per position), "
                         f"got {actions.shape}")
    if actions.size and (not np.issubdtype(actions.dtype, np.integer)
                         or actions.min() < 0 or actions.max() > 3):
        raise ValueError("actions must be integers in {0, 1, 2, 3} (up, down, left, right)")
    _check_noise(noise)
    if noise > 0:
        if rng is None:
            raise ValueError("step with noise > 0 needs an rng")
        replace = rng.random(actions.shape) < noise
        actions = np.where(replace, rng.integers(0, 4, size=actions.shape), actions)
    return np.clip(positions + MOVES[actions], 0, N_POS - 1)


def step_all_actions(positions, rng: np.random.Generator | None = None,
                     noise: float = 0.0) -> np.ndarray:
    r"""One next position for each of the four actions from each position (Section 3).

    Used by the exact-expectation estimator, which needs $s'$ for every $a$.

    Parameters
    ----------
    positions : array_like of int, shape (B, 2)
    rng, noise
        As in :func:`step`.

    Returns
    -------
    next_positions : ndarray, shape (B, 4, 2), int64
    """
    positions = _check_positions(positions)
    if positions.ndim != 2:
        raise ValueError(f"positions must have shape (B, 2), got {positions.shape}")
    b = positions.shape[0]
    rep = np.broadcast_to(positions[:, None, :], (b, 4, 2))
    return step(rep, np.broadcast_to(np.arange(4), (b, 4)).copy(), rng, noise)


def rollout(start, n_steps: int, rng: np.random.Generator, noise: float = 0.0,
            action_probs=None) -> tuple[np.ndarray, np.ndarray]:
    r"""A trajectory of the grid world: the stream of dependent states of Section 3.

    Parameters
    ----------
    start : array_like of int, shape (2,)
        Initial position.
    n_steps : int
        Number of transitions (positive).
    rng : np.random.Generator
    noise : float
        Action noise, as in :func:`step`.
    action_probs : callable or None
        ``action_probs(position (2,)) -> (4,)`` probabilities of the behaviour policy;
        ``None`` for uniformly random actions.

    Returns
    -------
    positions : ndarray, shape (n_steps + 1, 2)
        Visited positions including ``start``.
    actions : ndarray, shape (n_steps,)
        Chosen actions (before noise).
    """
    if int(n_steps) != n_steps or n_steps < 1:
        raise ValueError(f"n_steps must be a positive integer, got {n_steps!r}")
    p = _check_positions(np.asarray(start).reshape(2))
    out = np.empty((int(n_steps) + 1, 2), dtype=np.int64)
    acts = np.empty(int(n_steps), dtype=np.int64)
    out[0] = p
    for t in range(int(n_steps)):
        a = rng.integers(4) if action_probs is None else rng.choice(4, p=action_probs(out[t]))
        acts[t] = a
        out[t + 1] = step(out[t][None], np.array([a]), rng, noise)[0]
    return out, acts


class StateSampler:
    r"""Where the states of each update of Algorithm 1 come from.

    ``"iid"``: each state is a fresh uniformly random position (a reset per state), as in
    Algorithm 1. ``"trajectory"``: one agent walks on, and each update takes the next
    ``batch`` consecutive states of its stream (same number of transitions as i.i.d.).
    ``"replay"``: the same walk fills a buffer of the last ``buffer_size`` states and each
    update draws ``batch`` states uniformly from it.

    Parameters
    ----------
    sampling : {"iid", "trajectory", "replay"}
    batch : int
        States per update.
    noise : float
        Action noise of the walk.
    behaviour : {"random", "policies"}
        Behaviour policy of the walk: uniformly random actions, or at each step the policy
        $\pi_k$ of a feature $k$ drawn uniformly (needs ``params`` in :meth:`sample`).
    buffer_size : int
        Capacity of the replay buffer.
    """

    def __init__(self, sampling: str = "iid", batch: int = 64, noise: float = 0.0,
                 behaviour: str = "random", buffer_size: int = 1000):
        if sampling not in _SAMPLINGS:
            raise ValueError(f"unknown sampling {sampling!r}; choose one of {_SAMPLINGS}")
        if behaviour not in _BEHAVIOURS:
            raise ValueError(f"unknown behaviour {behaviour!r}; choose one of {_BEHAVIOURS}")
        if int(batch) != batch or batch < 1:
            raise ValueError(f"batch must be a positive integer, got {batch!r}")
        if int(buffer_size) != buffer_size or buffer_size < batch:
            raise ValueError(f"buffer_size must be an integer >= batch, got {buffer_size!r}")
        _check_noise(noise)
        self.sampling, self.batch, self.noise = sampling, int(batch), float(noise)
        self.behaviour, self.buffer_size = behaviour, int(buffer_size)
        self.position = None
        self.buffer = np.empty((0, 2), dtype=np.int64)

    def _walk(self, n, params, rng):
        if self.position is None:
            self.position = sample_positions(1, rng)[0]
        out = np.empty((n, 2), dtype=np.int64)
        p = self.position
        if self.behaviour == "policies":
            if params is None:
                raise ValueError("behaviour='policies' needs params")
            probs = np.exp(policy_log_probs(params, render(all_positions())))  # (121, K, 4)
            k = probs.shape[1]
        for t in range(n):
            out[t] = p
            if self.behaviour == "random":
                a = rng.integers(4)
            else:
                pr = probs[p[0] * N_POS + p[1], rng.integers(k)]
                a = rng.choice(4, p=pr / pr.sum())
            p = step(p[None], np.array([a]), rng, self.noise)[0]
        self.position = p
        return out

    def sample(self, rng: np.random.Generator, params=None) -> np.ndarray:
        r"""The positions of the next update (Algorithm 1, "sample states").

        Parameters
        ----------
        rng : np.random.Generator
        params : dict or None
            Model parameters, needed only for ``behaviour="policies"``.

        Returns
        -------
        positions : ndarray, shape (batch, 2), int64
        """
        if self.sampling == "iid":
            return sample_positions(self.batch, rng)
        new = self._walk(self.batch, params, rng)
        if self.sampling == "trajectory":
            return new
        self.buffer = np.concatenate([self.buffer, new])[-self.buffer_size:]
        return self.buffer[rng.integers(0, len(self.buffer), size=self.batch)]


# --------------------------------------------------------------------------------------------
# Configuration and model
# --------------------------------------------------------------------------------------------

@dataclass
class Config:
    r"""Hyperparameters of one run of Algorithm 1 (defaults: our tuned grid-world setup).

    The defaults reached best absolute correlations of at least 0.9 with both coordinates
    in 5 of 5 seeds (about 25 s per run on one core). They depart from the paper in three
    documented ways: state-independent policies (``policy_input="none"``), the exact sum
    over actions instead of REINFORCE (``estimator="exact"``), and a large $\lambda$, which
    makes the autoencoder term a weak regulariser. Set ``policy_input="state"`` and
    ``estimator="reinforce"`` for the paper's Algorithm 1 as written.

    Attributes
    ----------
    n_features : int
        $K$, the number of features and policies.
    lam : float
        $\lambda \ge 0$, the weight of selectivity in the objective ($0$: a plain autoencoder).
    variant : {"abs", "directed", "positive"}
        Selectivity variant (see :func:`selectivity`).
    transform : {"none", "log", "log1p"}
        Transform of selectivity inside the objective.
    estimator : {"reinforce", "exact"}
        Algorithm 1 samples one action per feature and uses REINFORCE; "exact" sums over the
        four actions (our addition: the action set is tiny).
    sampling : {"iid", "trajectory", "replay"}
        Where states come from (see :class:`StateSampler`).
    behaviour : {"random", "policies"}
        Behaviour policy for the trajectory and replay samplings.
    noise : float
        Action noise probability in [0, 1].
    steps, batch : int
        Number of updates and states per update.
    lr : float
        Adam step size.
    hidden : tuple of int
        Hidden widths of the encoder ``()``: a linear encoder.
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
        if int(self.n_features) != self.n_features or self.n_features < 1:
            raise ValueError(f"n_features must be a positive integer, got {self.n_features!r}")
        if not (np.isfinite(self.lam) and self.lam >= 0):
            raise ValueError(f"lam must be a finite number >= 0, got {self.lam!r}")
        self.variant = _ALIASES.get(self.variant, self.variant)
        if self.variant not in VARIANTS:
            raise ValueError(f"unknown variant {self.variant!r}; choose one of {VARIANTS}")
        if self.transform not in TRANSFORMS:
            raise ValueError(f"unknown transform {self.transform!r}; choose one of {TRANSFORMS}")
        if self.estimator not in _ESTIMATORS:
            raise ValueError(f"unknown estimator {self.estimator!r}; choose one of {_ESTIMATORS}")
        if self.sampling not in _SAMPLINGS:
            raise ValueError(f"unknown sampling {self.sampling!r}; choose one of {_SAMPLINGS}")
        if self.behaviour not in _BEHAVIOURS:
            raise ValueError(f"unknown behaviour {self.behaviour!r}; choose one of {_BEHAVIOURS}")
        _check_noise(self.noise)
        if self.policy_input not in ("state", "none"):
            raise ValueError(f"policy_input must be 'state' or 'none', got {self.policy_input!r}")
        if int(self.warmup) != self.warmup or self.warmup < 0:
            raise ValueError(f"warmup must be an integer >= 0, got {self.warmup!r}")
        for name in ("steps", "batch", "buffer_size"):
            v = getattr(self, name)
            if int(v) != v or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr!r}")
        if not 0 <= self.baseline_decay < 1:
            raise ValueError(f"baseline_decay must be in [0, 1), got {self.baseline_decay!r}")
        if not self.eps > 0:
            raise ValueError(f"eps must be positive, got {self.eps!r}")
        self.hidden, self.policy_hidden = tuple(self.hidden), tuple(self.policy_hidden)
        self.decoder_hidden = tuple(self.decoder_hidden)


def init_params(config: Config, rng: np.random.Generator) -> dict:
    r"""Initial parameters of the encoder, decoder and policies of Section 2.

    The encoder $f$ maps the 144-pixel image to $K$ features, the decoder $g$ maps them back;
    the $K$ policies share a trunk on the image and each has a linear head with a softmax over
    the four actions.

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
    h = list(config.hidden)
    ph = list(config.policy_hidden)
    if config.policy_input == "none":
        return {"f": nn.mlp_init([d] + h + [k], rng),
                "g": nn.mlp_init([k] + list(config.decoder_hidden) + [d], rng),
                "pi_trunk": [], "pi_heads": {"W": np.zeros((1, 4 * k)), "b": np.zeros(4 * k)}}
    trunk = nn.mlp_init([d] + ph, rng) if ph else []
    return {
        "f": nn.mlp_init([d] + h + [k], rng),
        "g": nn.mlp_init([k] + list(config.decoder_hidden) + [d], rng),
        "pi_trunk": trunk,
        "pi_heads": nn.dense_init(ph[-1] if ph else d, 4 * k, rng),
    }


def _check_states(s):
    if np.ndim(s) != 2 or np.shape(s)[1] != GRID * GRID:
        raise ValueError(f"states must have shape (B, {GRID * GRID}) (flattened images), "
                         f"got {np.shape(s)}")


def encode(params: dict, s):
    r"""The encoder $h = f(s)$ of Section 2: an MLP with a linear output.

    Parameters
    ----------
    params : dict
        From :func:`init_params`.
    s : array, shape (B, 144)

    Returns
    -------
    h : array, shape (B, K)
    """
    _check_states(s)
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
    _check_states(s)
    h = s if np.shape(params["pi_heads"]["W"])[0] != 1 else np.ones((np.shape(s)[0], 1))
    for layer in params["pi_trunk"]:
        h = nn.relu(nn.dense_apply(layer, h))
    z = nn.dense_apply(params["pi_heads"], h)
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


# --------------------------------------------------------------------------------------------
# Selectivity (Eq. (1)) and the objective (Eq. (2))
# --------------------------------------------------------------------------------------------

def selectivity(f_s, f_s_next, k=None, variant: str = "directed", transform: str = "none",
                eps: float = 1e-8):
    r"""Selectivity of feature $k$ for one transition $s \to s'$: Eq. (1) and its variants.

    With $\Delta f = f(s') - f(s)$, the three variants are

    $$
    \mathrm{sel}_\mathrm{abs} = \frac{|\Delta f_k|}{\sum_{k'} |\Delta f_{k'}|}, \qquad
    \mathrm{sel}_\mathrm{directed} = \frac{\Delta f_k}{\sum_{k'} [\Delta f_{k'}]_+}, \qquad
    \mathrm{sel}_\mathrm{positive} = \frac{[\Delta f_k]_+}{\sum_{k'} [\Delta f_{k'}]_+},
    $$

    with $[x]_+ = \max(x, 0)$. Eq. (1) takes the expectation over $s' \sim P(s' \mid s, a)$;
    this function scores one sampled $s'$ (exact when the dynamics are deterministic).

    Parameters
    ----------
    f_s : array, shape (..., K)
        Features of the states $s$.
    f_s_next : array, shape (..., K)
        Features of the next states $s'$ (broadcast against ``f_s``).
    k : int or None
        The feature; ``None`` returns all $K$.
    variant : {"abs", "directed", "positive"}
        ``"abs"``: Eq. (1) of the paper and the review. ``"directed"`` (default; ``"signed"``
        is accepted as an alias): the absolute value dropped from the numerator as in the
        paper's directed variant, with the code's denominator of positive parts; a decrease
        of feature $k$ is penalised (values in $(-\infty, 1]$), and $+x$, $-x$ can both
        reach 1, each with its own action. ``"positive"``: our variant with the positive
        part in the numerator too (values in $[0, 1]$); its gradient vanishes wherever the
        chosen action decreases $f_k$, and in our runs it aligned a little worse.
    transform : {"none", "log", "log1p"}
        ``"none"``: the thesis's objective; ``"log"``: $\log \mathrm{sel}$ of the paper's
        Eq. (2) (floored at $10^{-6}$ so that $\mathrm{sel}=0$ gives $\log 10^{-6}$, not
        $-\infty$); ``"log1p"``: $\log(1 + \mathrm{sel})$ of the earlier directed variant
        (argument floored at $10^{-6}$).
    eps : float
        Where the denominator is at most ``eps`` (no feature changed, e.g. a move into a
        wall) selectivity is defined as 0; the guard sits inside a ``where`` so that both
        the value and its gradient stay finite.

    Returns
    -------
    sel : array, shape (...) if ``k`` is given, else (..., K)

    Examples
    --------
    >>> float(selectivity([0., 0.], [1., 0.], k=0, variant="abs"))
    1.0
    >>> float(selectivity([0., 0.], [1., -1.], k=0, variant="directed"))  # a +/- pair
    1.0
    """
    variant = _ALIASES.get(variant, variant)
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose one of {VARIANTS}")
    if transform not in TRANSFORMS:
        raise ValueError(f"unknown transform {transform!r}; choose one of {TRANSFORMS}")
    if np.ndim(f_s) < 1 or np.ndim(f_s_next) < 1:
        raise ValueError("f_s and f_s_next must have a trailing feature axis of size K")
    if np.shape(f_s)[-1] != np.shape(f_s_next)[-1]:
        raise ValueError(f"f_s and f_s_next must have the same number of features, got "
                         f"{np.shape(f_s)[-1]} and {np.shape(f_s_next)[-1]}")
    n_feat = np.shape(f_s)[-1]
    if k is not None and not (int(k) == k and 0 <= k < n_feat):
        raise ValueError(f"k must be an integer in [0, {n_feat - 1}], got {k!r}")
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps!r}")
    if isinstance(f_s, (list, tuple)):
        f_s = np.asarray(f_s, dtype=float)
    if isinstance(f_s_next, (list, tuple)):
        f_s_next = np.asarray(f_s_next, dtype=float)
    d = f_s_next - f_s
    if variant == "abs":
        num = anp.abs(d)
        den = anp.sum(num, axis=-1, keepdims=True)
    else:
        pos = anp.maximum(d, 0.0)
        num = pos if variant == "positive" else d
        den = anp.sum(pos, axis=-1, keepdims=True)
    ok = den > eps
    sel = anp.where(ok, num / anp.where(ok, den, 1.0), 0.0)
    if transform == "log":
        sel = anp.log(anp.maximum(sel, 1e-6))
    elif transform == "log1p":
        sel = anp.log(anp.maximum(1.0 + sel, 1e-6))
    if k is not None:
        return sel[..., int(k)]
    return sel


def expected_selectivity(params: dict, positions, variant: str = "directed",
                         transform: str = "none", rng: np.random.Generator | None = None,
                         noise: float = 0.0, eps: float = 1e-8):
    r"""The policy's expected selectivity, summed exactly over the four actions (Eq. (2)).

    $$
    J_k(s) = \sum_a \pi_k(a \mid s)\, \mathrm{sel}(s, a, k)
    $$

    Parameters
    ----------
    params : dict
    positions : array_like of int, shape (B, 2)
    variant, transform, eps
        As in :func:`selectivity`.
    rng, noise
        Action noise of the transitions (one $s'$ per action when ``noise > 0``).

    Returns
    -------
    J : array, shape (B, K)
        Differentiable in ``params`` (through $\pi$ and through $f(s)$, $f(s')$).
    sel : array, shape (B, 4, K)
        Selectivity of every feature for every action.
    """
    positions = _check_positions(positions)
    nxt = step_all_actions(positions, rng, noise)                    # (B, 4, 2)
    b = positions.shape[0]
    s = render(positions)                                             # (B, 144)
    h_all = encode(params, anp.concatenate([s, render(nxt).reshape(4 * b, -1)], axis=0))
    h, h_next = h_all[:b], anp.reshape(h_all[b:], (b, 4, -1))         # (B, K), (B, 4, K)
    sel = selectivity(h[:, None, :], h_next, None, variant, transform, eps)   # (B, 4, K)
    pi = anp.exp(policy_log_probs(params, s))                        # (B, K, 4)
    return anp.einsum("bka,bak->bk", pi, sel), sel


def objective(params: dict, positions, config: Config, rng: np.random.Generator | None = None,
              lam: float | None = None):
    r"""The objective of Eq. (2) with the exact sum over actions (our "exact" estimator).

    $$
    \mathcal L = \mathbb E_s\big[\tfrac12 \lVert s - g(f(s)) \rVert^2\big]
      - \lambda \sum_k \mathbb E_s\Big[\sum_a \pi_k(a \mid s)\, T(\mathrm{sel}(s, a, k))\Big]
    $$

    with $T$ the identity, $\log$ or $\log(1 + \cdot)$ (``config.transform``). Its gradient
    flows into $\pi$ directly and into $f$ through $f(s)$ and $f(s')$.

    Parameters
    ----------
    params : dict
    positions : array_like of int, shape (B, 2)
    config : Config
    rng : np.random.Generator or None
        Needed when ``config.noise > 0``.
    lam : float or None
        Overrides ``config.lam`` (the warm-up ramp of :func:`train`).

    Returns
    -------
    loss : float
    """
    lam = config.lam if lam is None else lam
    s = render(positions)
    ae = autoencoder_loss(params, s)
    if lam == 0:
        return ae
    J, _ = expected_selectivity(params, positions, config.variant, config.transform, rng,
                                config.noise, config.eps)
    return ae - lam * anp.sum(anp.mean(J, axis=0))


def reinforce_surrogate(params: dict, positions, actions, next_positions, advantage,
                        config: Config, lam: float | None = None):
    r"""Surrogate loss whose gradient is Algorithm 1's REINFORCE estimate of Eq. (2)'s.

    For each state $s_b$ and feature $k$ one action $a_{bk} \sim \pi_k(\cdot \mid s_b)$ was
    taken, leading to $s'_{bk}$. With a baseline $b_k$ and the advantage
    $A_{bk} = T(\mathrm{sel}(s_b, a_{bk}, k)) - b_k$ held constant,

    $$
    \tilde{\mathcal L} = \mathcal L_\mathrm{AE} - \frac{\lambda}{B} \sum_{b,k}
      \Big[T(\mathrm{sel}(s_b, a_{bk}, k)) + A_{bk} \log \pi_k(a_{bk} \mid s_b)\Big],
    $$

    whose gradient is an unbiased estimate of the gradient of Eq. (2): the score-function
    term trains the policies, the pathwise term trains the encoder through $f(s)$, $f(s')$.

    Parameters
    ----------
    params : dict
    positions : array_like of int, shape (B, 2)
    actions : array_like of int, shape (B, K)
    next_positions : array_like of int, shape (B, K, 2)
    advantage : ndarray, shape (B, K)
        Constant (no gradient): selectivity minus baseline.
    config : Config
    lam : float or None
        Overrides ``config.lam``.

    Returns
    -------
    loss : float
    """
    positions = _check_positions(positions)
    next_positions = _check_positions(next_positions)
    b, k = np.shape(actions)
    if positions.shape != (b, 2) or next_positions.shape != (b, k, 2):
        raise ValueError("positions, actions, next_positions must have shapes (B, 2), (B, K), "
                         f"(B, K, 2); got {positions.shape}, {np.shape(actions)}, "
                         f"{next_positions.shape}")
    lam = config.lam if lam is None else lam
    s = render(positions)
    ae = autoencoder_loss(params, s)
    if lam == 0:
        return ae
    h_all = encode(params, anp.concatenate([s, render(next_positions).reshape(b * k, -1)]))
    h, h_next = h_all[:b], anp.reshape(h_all[b:], (b, k, k))        # h_next[b, j] = f(s'_bj)
    sel = selectivity(h[:, None, :], h_next, None, config.variant, config.transform,
                      config.eps)                                    # (B, K, K)
    sel_own = anp.sum(sel * np.eye(k), axis=-1)                       # sel(s_b, a_bk, k)
    log_pi = policy_log_probs(params, s)                              # (B, K, 4)
    log_pi_a = anp.sum(log_pi * np.eye(4)[np.asarray(actions)], axis=-1)   # (B, K)
    return ae - lam * anp.sum(anp.mean(sel_own + advantage * log_pi_a, axis=0))


def _sampled_selectivity(params, positions, actions, next_positions, config):
    """Plain-numpy T(sel(s, a_k, k)) for the sampled actions: (B, K)."""
    b, k = actions.shape
    h = encode(params, render(positions))
    h_next = encode(params, render(next_positions).reshape(b * k, -1)).reshape(b, k, k)
    sel = selectivity(h[:, None, :], h_next, None, config.variant, config.transform, config.eps)
    return np.einsum("bkk->bk", sel)


# --------------------------------------------------------------------------------------------
# Algorithm 1: training
# --------------------------------------------------------------------------------------------

def train(config: Config, rng: np.random.Generator, progress: bool = False,
          callback=None, eval_every: int = 0, params=None):
    r"""Algorithm 1: train the autoencoder and the $K$ policies together.

    Each update: sample ``batch`` states (:class:`StateSampler`); with the "reinforce"
    estimator (Algorithm 1) act once with every $\pi_k$ from every state, observe $s'$, and
    step on :func:`reinforce_surrogate` with a per-feature running-mean baseline; with
    "exact" (our addition for four actions) step on :func:`objective`, which sums over all
    actions. The paper alternates an autoencoder step and a selectivity step; we take one
    Adam step on their sum, which moves along the same combined gradient.

    Parameters
    ----------
    config : Config
    rng : np.random.Generator
        The only source of randomness (initialisation, states, actions, noise).
    progress : bool
        Show a tqdm bar.
    callback : callable or None
        ``callback(params, i, history)`` after each update's gradient.
    eval_every : int
        When positive, record :func:`evaluate` every that many updates in
        ``history["evals"]``.
    params : dict or None
        Start from these parameters instead of a fresh :func:`init_params`.

    Returns
    -------
    params : dict
    history : dict
        ``"loss"`` (per update), ``"sel"`` (mean sampled/expected selectivity per update,
        shape (steps, K)), ``"evals"`` (list of ``(step, evaluate(...))``), ``"final"``
        (:func:`evaluate` of the result) and ``"config"``.
    """
    if not isinstance(config, Config):
        raise ValueError("config must be a Config")
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a np.random.Generator")
    if params is None:
        params = init_params(config, rng)
    sampler = StateSampler(config.sampling, config.batch, config.noise, config.behaviour,
                           config.buffer_size)
    k = config.n_features
    history = {"loss": [], "sel": [], "evals": [], "config": asdict(config)}
    baseline = np.zeros(k)
    state = {"first": True}
    vg_exact = value_and_grad(objective)
    vg_reinf = value_and_grad(reinforce_surrogate)

    def loss_grad(p, i):
        nonlocal baseline
        lam = config.lam * min(1.0, i / config.warmup) if config.warmup else config.lam
        pos = sampler.sample(rng, p)
        if config.estimator == "exact" or config.lam == 0:
            value, g = vg_exact(p, pos, config, rng, lam)
            if config.lam > 0:
                J, _ = expected_selectivity(p, pos, config.variant, config.transform, rng,
                                            config.noise, config.eps)
                history["sel"].append(np.mean(J, axis=0))
        else:
            pi = np.exp(policy_log_probs(p, render(pos)))             # (B, K, 4)
            cum = np.cumsum(pi, axis=-1)
            acts = np.minimum((rng.random(pi.shape[:2])[..., None] > cum).sum(-1), 3)
            nxt = step(np.broadcast_to(pos[:, None, :], acts.shape + (2,)), acts, rng,
                       config.noise)
            sel = _sampled_selectivity(p, pos, acts, nxt, config)     # (B, K)
            if state["first"]:
                baseline = sel.mean(axis=0)
                state["first"] = False
            adv = sel - baseline
            baseline = config.baseline_decay * baseline + (1 - config.baseline_decay) * \
                sel.mean(axis=0)
            value, g = vg_reinf(p, pos, acts, nxt, adv, config, lam)
            history["sel"].append(sel.mean(axis=0))
        history["loss"].append(float(value))
        return g

    def cb(p, i, g):
        if eval_every and (i + 1) % eval_every == 0:
            history["evals"].append((i + 1, evaluate(p)))
        if callback is not None:
            callback(p, i, history)

    params = nn.train(loss_grad, params, config.steps, config.lr, cb, progress,
                      desc="controllable features")
    history["sel"] = np.array(history["sel"]) if history["sel"] else np.zeros((0, k))
    history["loss"] = np.array(history["loss"])
    history["final"] = evaluate(params, "abs" if config.variant == "abs" else "positive")
    return params, history


# --------------------------------------------------------------------------------------------
# Measures (Section 3: are the features the agent's coordinates?)
# --------------------------------------------------------------------------------------------

def feature_grid(params: dict) -> np.ndarray:
    r"""The features $f(s)$ at every agent position, as plotted in Section 3's figures.

    Parameters
    ----------
    params : dict

    Returns
    -------
    F : ndarray, shape (N_POS, N_POS, K)
        ``F[row, col, k]`` is feature $k$ with the agent at ``(row, col)``.
    """
    h = encode(params, render(all_positions()))
    return h.reshape(N_POS, N_POS, -1)


def _corr(a, b):
    a = a - a.mean(0)
    b = b - b.mean(0)
    den = np.sqrt((a * a).sum(0)[:, None] * (b * b).sum(0)[None, :])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 1e-12, a.T @ b / np.where(den > 1e-12, den, 1.0), 0.0)


def alignment(params: dict) -> dict:
    r"""How well the features track the agent's coordinates (Section 3), over all 121 states.

    Reports the absolute Pearson correlation $|\rho(f_k, c)|$ of each feature with each true
    coordinate $c \in \{x, y\}$ ($x$ = column, $y$ = row), and the correlation ratio

    $$
    \eta^2(f_k \mid c) = \frac{\sum_v n_v (\bar f_{k \mid c = v} - \bar f_k)^2}
                              {\sum_s (f_k(s) - \bar f_k)^2},
    $$

    which is 1 when $f_k$ is any function of $c$ alone (monotone or not).

    Parameters
    ----------
    params : dict

    Returns
    -------
    dict
        ``"corr"`` (K, 2) absolute correlations with (x, y); ``"eta"`` (K, 2) correlation
        ratios; ``"corr_x"``, ``"corr_y"`` the best absolute correlation over features per
        coordinate; ``"eta_x"``, ``"eta_y"`` likewise for $\eta$.
    """
    F = feature_grid(params).reshape(N_POS * N_POS, -1)
    pos = all_positions()
    xy = np.stack([pos[:, 1], pos[:, 0]], axis=1).astype(float)      # (x, y)
    corr = np.abs(_corr(F, xy))                                       # (K, 2)
    eta = np.zeros_like(corr)
    Fc = F - F.mean(0)
    tot = (Fc * Fc).sum(0)
    for j in range(2):
        means = np.stack([F[xy[:, j] == v].mean(0) for v in range(N_POS)])   # (N_POS, K)
        between = (N_POS * (means - F.mean(0)) ** 2).sum(0)
        eta[:, j] = np.sqrt(np.where(tot > 1e-12, between / np.where(tot > 1e-12, tot, 1), 0))
    return {"corr": corr, "eta": eta, "corr_x": float(corr[:, 0].max()),
            "corr_y": float(corr[:, 1].max()), "eta_x": float(eta[:, 0].max()),
            "eta_y": float(eta[:, 1].max())}


def policy_selectivity(params: dict, variant: str = "positive") -> dict:
    r"""Per-feature selectivity of each policy and of its best action (Eq. (1)), all states.

    $$
    \bar J_k = \frac{1}{121} \sum_s \sum_a \pi_k(a \mid s)\,\mathrm{sel}(s, a, k), \qquad
    \bar J^\ast_k = \frac{1}{121} \sum_s \max_a \mathrm{sel}(s, a, k)
    $$

    on the noise-free dynamics. For "positive" (and "directed"), a move into a wall changes
    nothing, so a feature that only one direction increases has ceiling
    $110/121 \approx 0.909$.

    Parameters
    ----------
    params : dict
    variant : str
        Selectivity variant, as in :func:`selectivity`.

    Returns
    -------
    dict
        ``"policy"`` (K,) and ``"best"`` (K,).
    """
    J, sel = expected_selectivity(params, all_positions(), variant)
    return {"policy": np.asarray(J).mean(0), "best": np.asarray(sel).max(axis=1).mean(0)}


def policy_directions(params: dict) -> np.ndarray:
    r"""Which way each policy moves (Section 3's policy figure), averaged over all states.

    $$
    D_{ka} = \frac{1}{121} \sum_s \mathbb 1\big[a = \arg\max_{a'} \pi_k(a' \mid s)\big]
    $$

    Parameters
    ----------
    params : dict

    Returns
    -------
    D : ndarray, shape (K, 4)
        Fraction of states where each action (up, down, left, right) is the most likely.
    """
    log_pi = policy_log_probs(params, render(all_positions()))       # (121, K, 4)
    return np.eye(4)[np.argmax(log_pi, axis=-1)].mean(0)


def evaluate(params: dict, variant: str = "positive") -> dict:
    r"""All measures of Section 3 for one trained model.

    Combines :func:`alignment`, :func:`policy_selectivity` and :func:`policy_directions`,
    plus the reconstruction error over all states (the autoencoder term of Eq. (2)):

    $$
    \mathcal L_\mathrm{AE} = \tfrac{1}{121} \sum_s \tfrac12 \lVert s - g(f(s)) \rVert^2
    $$

    Parameters
    ----------
    params : dict
    variant : str
        Selectivity variant used for the selectivity measures. The default "positive" is
        bounded in $[0, 1]$ and equals "directed" wherever the chosen move does not decrease
        $f_k$; :func:`train` reports "abs" for models trained with "abs", else "positive".

    Returns
    -------
    dict
        ``corr``, ``eta``, ``corr_x``, ``corr_y``, ``eta_x``, ``eta_y``, ``aligned``
        (both best correlations at least 0.9), ``sel_policy`` (K,), ``sel_best`` (K,),
        ``selectivity_mean`` (mean of ``sel_policy``), ``directions`` (K, 4), ``recon``.
    """
    out = alignment(params)
    ps = policy_selectivity(params, variant)
    out.update(aligned=bool(out["corr_x"] >= 0.9 and out["corr_y"] >= 0.9),
               sel_policy=ps["policy"], sel_best=ps["best"],
               selectivity_mean=float(np.mean(ps["policy"])),
               directions=policy_directions(params),
               recon=float(autoencoder_loss(params, render(all_positions()))))
    return out

