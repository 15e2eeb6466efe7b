r"""Algorithm 1: where each update's states come from, and the training loop.

Each update samples a batch of states, estimates the gradient of Eq. (2) (exactly, or by
Algorithm 1's REINFORCE) and takes one Adam step on the encoder, decoder and policies.
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np

from .. import nn
from . import _checks
from .estimators import exact_gradient, reinforce_gradient, uniform_gradient
from .grid_world import N_POS, all_positions, render, rollout, sample_positions
from .measures import evaluate
from .model import Config, init_params, policy_log_probs

__all__ = ["StateSampler", "train"]


class StateSampler:
    r"""Where the states of each update of Algorithm 1 come from.

    ``"iid"``: each state is a fresh uniformly random position (a reset per state), as in
    Algorithm 1. ``"trajectory"``: one agent walks on, and each update takes the next
    ``batch`` consecutive states of its stream (same number of transitions as i.i.d.).
    ``"replay"``: the same walk fills a buffer of the last ``buffer_size`` states and each
    update draws ``batch`` states uniformly from it. The walk is one
    [`rollout`][reference.controllable_features.grid_world.rollout] continued across updates.

    Parameters
    ----------
    sampling : {"iid", "trajectory", "replay"}
        Where states come from: fresh uniform positions, consecutive states of one walk, or
        uniform draws from a replay buffer of that walk (see above).
    batch : int
        States per update.
    noise : float
        Action noise of the walk.
    behaviour : {"random", "policies"}
        Behaviour policy of the walk: uniformly random actions, or at each step the policy
        $\pi_k$ of a feature $k$ drawn uniformly, i.e. the mixture $\tfrac1K \sum_k \pi_k$
        (needs ``params`` in
        [`sample`][reference.controllable_features.training.StateSampler.sample]).
    buffer_size : int
        Capacity of the replay buffer.
    """

    def __init__(self, sampling: str = "iid", batch: int = 64, noise: float = 0.0,
                 behaviour: str = "random", buffer_size: int = 1000):
        _checks.sampler(sampling, batch, noise, behaviour, buffer_size)
        self.sampling, self.batch, self.noise = sampling, int(batch), float(noise)
        self.behaviour, self.buffer_size = behaviour, int(buffer_size)
        self.position = None
        self.buffer = np.empty((0, 2), dtype=np.int64)

    def _walk(self, n, params, rng):
        """The next ``n`` states of the agent's walk (one `rollout`), resuming where it stopped."""
        if self.position is None:
            self.position = sample_positions(1, rng)[0]
        probs = None
        if self.behaviour == "policies":
            if params is None:
                raise ValueError("behaviour='policies' needs params")
            # a feature k drawn uniformly, then a ~ pi_k: the mixture of the K policies
            mix = np.exp(policy_log_probs(params, render(all_positions()))).mean(1)  # (121, 4)

            def probs(p):
                return mix[p[0] * N_POS + p[1]] / mix[p[0] * N_POS + p[1]].sum()
        visited, _ = rollout(self.position, n, rng, self.noise, probs)    # (n + 1, 2)
        self.position = visited[-1]
        return visited[:-1]

    def sample(self, rng: np.random.Generator, params=None) -> np.ndarray:
        r"""The positions of the next update (Algorithm 1, "sample states").

        Parameters
        ----------
        rng : np.random.Generator
            Source of the positions, of the walk's actions and noise, and of the replay
            draws.
        params : dict or None
            Model parameters, needed only for ``behaviour="policies"``.

        Returns
        -------
        positions : ndarray, shape (batch, 2), int64
            The ``batch`` states of the next update, as the agent's ``(row, col)``.
        """
        if self.sampling == "iid":
            return sample_positions(self.batch, rng)
        new = self._walk(self.batch, params, rng)
        if self.sampling == "trajectory":
            return new
        self.buffer = np.concatenate([self.buffer, new])[-self.buffer_size:]
        return self.buffer[rng.integers(0, len(self.buffer), size=self.batch)]


def train(config: Config, rng: np.random.Generator, progress: bool = False,
          callback=None, eval_every: int = 0, params=None):
    r"""Algorithm 1: train the autoencoder and the $K$ policies together.

    Each update: sample ``batch`` states
    ([`StateSampler`][reference.controllable_features.training.StateSampler]); with the
    "reinforce" estimator (Algorithm 1) act once with every $\pi_k$ from every state, observe
    $s'$, and step on the REINFORCE surrogate with a per-feature running-mean baseline
    ([`reinforce_gradient`][reference.controllable_features.estimators.reinforce_gradient]);
    with "exact" (our addition for four actions) step on the objective, which sums over all
    actions ([`exact_gradient`][reference.controllable_features.estimators.exact_gradient]);
    with "uniform" (the authors' code) score one uniformly drawn action per state
    ([`uniform_gradient`][reference.controllable_features.estimators.uniform_gradient]).
    The paper alternates an autoencoder step and a selectivity step; we take one Adam step on
    their sum, which moves along the same combined gradient. With ``config.warmup > 0``,
    $\lambda$ ramps as $\lambda_i = \lambda \min(1, i / \mathrm{warmup})$.

    Parameters
    ----------
    config : Config
        Every setting of the run: architecture, objective (``lam``, ``variant``,
        ``transform``), estimator, state sampling, ``steps``, ``batch``, ``lr`` and
        ``warmup``.
    rng : np.random.Generator
        The only source of randomness (initialisation, states, actions, noise).
    progress : bool
        Show a tqdm bar.
    callback : callable or None
        ``callback(params, i, history)`` after each update's gradient.
    eval_every : int
        When positive, record
        [`evaluate`][reference.controllable_features.measures.evaluate] every that many
        updates in ``history["evals"]``.
    params : dict or None
        Start from these parameters instead of a fresh
        [`init_params`][reference.controllable_features.model.init_params].

    Returns
    -------
    params : dict
        The trained parameters, with the structure of
        [`init_params`][reference.controllable_features.model.init_params].
    history : dict
        ``"loss"`` (per update), ``"sel"`` (mean sampled/expected selectivity per update,
        shape (steps, K)), ``"evals"`` (list of ``(step, evaluate(...))``), ``"final"``
        (``evaluate`` of the result) and ``"config"``.
    """
    if not isinstance(config, Config):
        raise ValueError("config must be a Config")
    _checks.rng(rng)
    if params is None:
        params = init_params(config, rng)
    sampler = StateSampler(config.sampling, config.batch, config.noise, config.behaviour,
                           config.buffer_size)
    history = {"loss": [], "sel": [], "evals": [], "config": asdict(config)}
    baseline = None                                                   # REINFORCE's b_k

    def loss_grad(p, i):
        nonlocal baseline
        lam = config.lam * min(1.0, i / config.warmup) if config.warmup else config.lam
        pos = sampler.sample(rng, p)                                  # (B, 2)
        if config.estimator == "exact" or config.lam == 0:
            value, g, sel = exact_gradient(p, pos, config, lam, rng)
        elif config.estimator == "uniform":
            value, g, sel = uniform_gradient(p, pos, config, lam, rng)
        else:
            value, g, sel, baseline = reinforce_gradient(p, pos, config, lam, rng, baseline)
        if sel is not None:
            history["sel"].append(sel)
        history["loss"].append(float(value))
        return g

    def cb(p, i, g):
        if eval_every and (i + 1) % eval_every == 0:
            history["evals"].append((i + 1, evaluate(p)))
        if callback is not None:
            callback(p, i, history)

    params = nn.train(loss_grad, params, config.steps, config.lr, cb, progress,
                      desc="controllable features")
    k = config.n_features
    history["sel"] = np.array(history["sel"]) if history["sel"] else np.zeros((0, k))
    history["loss"] = np.array(history["loss"])
    history["final"] = evaluate(params, "abs" if config.variant == "abs" else "positive")
    return params, history
