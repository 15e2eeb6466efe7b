r"""Two estimators of the gradient of Eq. (2): the exact sum over actions, and REINFORCE.

Algorithm 1 samples one action $a_k \sim \pi_k(\cdot \mid s)$ per feature, observes $s'$, and
trains the policies by REINFORCE with a baseline $b_k$ and the encoder through selectivity:

$$
\nabla \mathcal L \approx \nabla \mathcal L_\mathrm{AE} - \frac{\lambda}{B} \sum_{b,k}
  \Big[\nabla T(\mathrm{sel}(s_b, a_{bk}, k))
  + \big(T(\mathrm{sel}(s_b, a_{bk}, k)) - b_k\big) \nabla \log \pi_k(a_{bk} \mid s_b)\Big].
$$

With four actions the expectation over $a$ can also be summed exactly
([`objective`][reference.controllable_features.objectives.objective]); that is our "exact"
estimator. Each estimator here returns one update's loss, gradient and mean selectivity.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
from autograd import value_and_grad

from . import _checks
from .grid_world import N_POS, render, step
from .model import Config, autoencoder_loss, encode, policy_log_probs
from .objectives import expected_selectivity, objective, selectivity, transition_selectivity

__all__ = ["sample_actions", "sampled_selectivity", "reinforce_surrogate", "exact_gradient",
           "reinforce_gradient"]


def sample_actions(params: dict, positions, rng: np.random.Generator) -> np.ndarray:
    r"""One action $a_{bk} \sim \pi_k(\cdot \mid s_b)$ per state and policy (Algorithm 1).

    Inverse-CDF sampling with one uniform number per state and policy.

    Parameters
    ----------
    params : dict
    positions : array_like of int, shape (B, 2)
    rng : np.random.Generator

    Returns
    -------
    actions : ndarray, shape (B, K), int
    """
    pi = np.exp(policy_log_probs(params, render(positions)))          # (B, K, 4)
    cum = np.cumsum(pi, axis=-1)
    return np.minimum((rng.random(pi.shape[:2])[..., None] > cum).sum(-1), 3)


def sampled_selectivity(params: dict, positions, actions, next_positions,
                        config: Config) -> np.ndarray:
    r"""The reward of Algorithm 1: $T(\mathrm{sel}(s_b, a_{bk}, k))$ for the sampled actions.

    Plain numpy (no gradient): the value that the baseline tracks and the advantage uses.

    Parameters
    ----------
    params : dict
    positions : array_like of int, shape (B, 2)
    actions : array_like of int, shape (B, K)
    next_positions : array_like of int, shape (B, K, 2)
        $s'_{bk}$ reached by action ``actions[b, k]`` from ``positions[b]``.
    config : Config
        Supplies ``variant``, ``transform`` and ``eps``.

    Returns
    -------
    sel : ndarray, shape (B, K)
    """
    b, k = np.shape(actions)
    h = encode(params, render(positions))                            # (B, K)
    h_next = encode(params, render(next_positions).reshape(b * k, -1)).reshape(b, k, k)
    sel = selectivity(h[:, None, :], h_next, None, config.variant, config.transform,
                      config.eps)                                     # (B, K, K)
    return np.einsum("bkk->bk", sel)                                  # sel[b, k, k]


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
    positions = _checks.positions(positions, N_POS)
    next_positions = _checks.positions(next_positions, N_POS)
    _checks.transitions(positions, actions, next_positions)
    k = np.shape(actions)[1]
    lam = config.lam if lam is None else lam
    s = render(positions)                                             # (B, 144)
    ae = autoencoder_loss(params, s)
    if lam == 0:
        return ae
    sel = transition_selectivity(params, positions, next_positions, config.variant,
                                 config.transform, config.eps)        # (B, K, K)
    sel_own = anp.sum(sel * np.eye(k), axis=-1)                       # sel(s_b, a_bk, k)
    log_pi = policy_log_probs(params, s)                              # (B, K, 4)
    log_pi_a = anp.sum(log_pi * np.eye(4)[np.asarray(actions)], axis=-1)   # (B, K)
    return ae - lam * anp.sum(anp.mean(sel_own + advantage * log_pi_a, axis=0))


_objective_and_grad = value_and_grad(objective)
_surrogate_and_grad = value_and_grad(reinforce_surrogate)


def exact_gradient(params: dict, positions, config: Config, lam: float,
                   rng: np.random.Generator | None = None):
    r"""One update of the "exact" estimator: Eq. (2) and its gradient, summed over actions.

    $$
    \nabla \mathcal L = \nabla \mathcal L_\mathrm{AE}
      - \lambda \sum_k \nabla\, \mathbb E_s\Big[\sum_a \pi_k(a \mid s)\, T(\mathrm{sel})\Big]
    $$

    Parameters
    ----------
    params : dict
    positions : ndarray of int, shape (B, 2)
    config : Config
    lam : float
        This update's $\lambda$ (after the warm-up ramp).
    rng : np.random.Generator or None
        Needed when ``config.noise > 0``; the recorded $J$ then uses fresh noise draws.

    Returns
    -------
    loss : float
    grad : dict
        Same structure as ``params``.
    J_mean : ndarray, shape (K,), or None
        Mean over the batch of $J_k(s)$; ``None`` when ``config.lam == 0``.
    """
    value, g = _objective_and_grad(params, positions, config, rng, lam)
    if config.lam == 0:
        return value, g, None
    J, _ = expected_selectivity(params, positions, config.variant, config.transform, rng,
                                config.noise, config.eps)
    return value, g, np.mean(J, axis=0)


def reinforce_gradient(params: dict, positions, config: Config, lam: float,
                       rng: np.random.Generator, baseline=None):
    r"""One update of Algorithm 1's REINFORCE estimator, with a running-mean baseline.

    Samples $a_{bk} \sim \pi_k(\cdot \mid s_b)$, steps the world, scores
    $r_{bk} = T(\mathrm{sel}(s_b, a_{bk}, k))$ and takes the gradient of
    [`reinforce_surrogate`][reference.controllable_features.estimators.reinforce_surrogate]
    with advantage $A_{bk} = r_{bk} - b_k$. The baseline starts at the first batch's mean
    reward and then follows

    $$
    b_k \leftarrow \beta\, b_k + (1 - \beta)\, \tfrac1B \textstyle\sum_b r_{bk},
    $$

    with $\beta$ = ``config.baseline_decay``, updated after the advantage is taken.

    Parameters
    ----------
    params : dict
    positions : ndarray of int, shape (B, 2)
    config : Config
    lam : float
        This update's $\lambda$.
    rng : np.random.Generator
    baseline : ndarray, shape (K,), or None
        The running baseline; ``None`` on the first update.

    Returns
    -------
    loss : float
    grad : dict
    r_mean : ndarray, shape (K,)
        Mean sampled reward per feature.
    baseline : ndarray, shape (K,)
        The updated baseline, to pass to the next call.
    """
    acts = sample_actions(params, positions, rng)                     # (B, K)
    nxt = step(np.broadcast_to(positions[:, None, :], acts.shape + (2,)), acts, rng,
               config.noise)                                          # (B, K, 2)
    r = sampled_selectivity(params, positions, acts, nxt, config)     # (B, K)
    if baseline is None:
        baseline = r.mean(axis=0)
    adv = r - baseline
    baseline = config.baseline_decay * baseline + (1 - config.baseline_decay) * r.mean(axis=0)
    value, g = _surrogate_and_grad(params, positions, acts, nxt, adv, config, lam)
    return value, g, r.mean(axis=0), baseline
