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
estimator. The authors' released code does neither: it draws one action per state uniformly
and differentiates $\pi_k(a \mid s)\,\mathrm{sel}(s, a, k)$ directly (our "uniform"
estimator), a one-sample form of the exact sum. Each estimator here returns one update's loss,
gradient and mean selectivity.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
from autograd import value_and_grad
from autograd.tracer import getval

from . import _checks
from .grid_world import ACTIONS, N_POS, render, step
from .model import Config, autoencoder_loss, encode, policy_log_probs
from .objectives import _objective_and_J, selectivity, transition_selectivity

__all__ = ["sample_actions", "sampled_selectivity", "reinforce_surrogate", "uniform_surrogate",
           "exact_gradient", "reinforce_gradient", "uniform_gradient"]

#: Number of actions $|\mathcal A|$ (4).
N_ACTIONS = len(ACTIONS)
#: Index of the last action. Inverse-CDF sampling counts the cumulative probabilities below a
#: uniform draw; when rounding leaves the last cumulative sum just under 1, a draw above it
#: would give the index ``N_ACTIONS``, so the count is clamped to this.
LAST_ACTION = N_ACTIONS - 1


def sample_actions(params: dict, positions, rng: np.random.Generator) -> np.ndarray:
    r"""One action $a_{bk} \sim \pi_k(\cdot \mid s_b)$ per state and policy (Algorithm 1).

    Inverse-CDF sampling with one uniform number per state and policy.

    Parameters
    ----------
    params : dict
        From [`init_params`][reference.controllable_features.model.init_params].
    positions : array_like of int, shape (B, 2)
        The batch of states $s_b$, as the agent's ``(row, col)``.
    rng : np.random.Generator
        Source of the uniform numbers, one per state and policy.

    Returns
    -------
    actions : ndarray, shape (B, K), int
        ``actions[b, k]`` is the action of policy $\pi_k$ in state $s_b$, an index into
        `ACTIONS`.
    """
    pi = np.exp(policy_log_probs(params, render(positions)))          # (B, K, 4)
    cum = np.cumsum(pi, axis=-1)
    return np.minimum((rng.random(pi.shape[:2])[..., None] > cum).sum(-1), LAST_ACTION)


def sampled_selectivity(params: dict, positions, actions, next_positions,
                        config: Config) -> np.ndarray:
    r"""The reward of Algorithm 1: $T(\mathrm{sel}(s_b, a_{bk}, k))$ for the sampled actions.

    Plain numpy (no gradient): the value that the baseline tracks and the advantage uses.

    Parameters
    ----------
    params : dict
        From [`init_params`][reference.controllable_features.model.init_params].
    positions : array_like of int, shape (B, 2)
        The batch of states $s_b$, as the agent's ``(row, col)``.
    actions : array_like of int, shape (B, K)
        The action $a_{bk}$ taken by policy $k$ in state $s_b$, e.g. from
        [`sample_actions`][reference.controllable_features.estimators.sample_actions].
    next_positions : array_like of int, shape (B, K, 2)
        $s'_{bk}$ reached by action ``actions[b, k]`` from ``positions[b]``.
    config : Config
        Supplies ``variant``, ``transform`` and ``eps``.

    Returns
    -------
    sel : ndarray, shape (B, K)
        The reward $T(\mathrm{sel}(s_b, a_{bk}, k))$: feature $k$'s selectivity for the
        action its own policy took.
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
        From [`init_params`][reference.controllable_features.model.init_params].
    positions : array_like of int, shape (B, 2)
        The batch of states $s_b$, as the agent's ``(row, col)``.
    actions : array_like of int, shape (B, K)
        The action $a_{bk}$ taken by policy $k$ in state $s_b$.
    next_positions : array_like of int, shape (B, K, 2)
        $s'_{bk}$, the state that action ``actions[b, k]`` led to from ``positions[b]``.
    advantage : ndarray, shape (B, K)
        Constant (no gradient): selectivity minus baseline.
    config : Config
        The run's settings; the loss uses ``lam``, ``variant``, ``transform`` and ``eps``.
    lam : float or None
        Overrides ``config.lam``.

    Returns
    -------
    loss : float
        The value of the surrogate loss; only its gradient in ``params`` is meaningful.
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


def uniform_surrogate(params: dict, positions, actions, next_positions, config: Config,
                      lam: float | None = None):
    r"""The loss of the authors' code: one uniformly drawn action per state, no REINFORCE.

    With $a_b \sim \mathcal U\{1..4\}$ (the same action scored for every feature) and
    $s'_b$ its successor,

    $$
    \tilde{\mathcal L} = \mathcal L_\mathrm{AE} - \frac{\lambda |\mathcal A|}{B}
      \sum_{b,k} \pi_k(a_b \mid s_b)\, T(\mathrm{sel}(s_b, a_b, k)),
    $$

    differentiated directly (through $\pi$ and through $f(s)$, $f(s')$). Since
    $\mathbb E_{a \sim \mathcal U}[|\mathcal A|\, \pi_k(a \mid s)\, T] =
    \sum_a \pi_k(a \mid s)\, T$, it is an unbiased one-sample estimate of the
    [`objective`][reference.controllable_features.objectives.objective] of Eq. (2) and of its
    gradient; the factor $|\mathcal A| = 4$ keeps $\lambda$ in the same units.

    Parameters
    ----------
    params : dict
        From [`init_params`][reference.controllable_features.model.init_params].
    positions : array_like of int, shape (B, 2)
        The batch of states $s_b$, as the agent's ``(row, col)``.
    actions : array_like of int, shape (B,)
        One uniformly drawn action $a_b$ per state, shared by every policy.
    next_positions : array_like of int, shape (B, 2)
        $s'_b$, the state that ``actions[b]`` led to from ``positions[b]``.
    config : Config
        The run's settings; the loss uses ``lam``, ``variant``, ``transform`` and ``eps``.
    lam : float or None
        Overrides ``config.lam``.

    Returns
    -------
    loss : float
        The value of the surrogate loss; only its gradient in ``params`` is meaningful.
    """
    return _uniform_and_J(params, positions, actions, next_positions, config, lam)[0]


def _uniform_and_J(params, positions, actions, next_positions, config, lam=None):
    """`uniform_surrogate` and its estimate of $J$ (B, K) from the same pass."""
    positions = _checks.positions(positions, N_POS)
    next_positions = _checks.positions(next_positions, N_POS)
    _checks.transitions(positions, np.asarray(actions)[:, None], next_positions[:, None])
    lam = config.lam if lam is None else lam
    s = render(positions)                                             # (B, 144)
    ae = autoencoder_loss(params, s)
    if config.lam == 0:                 # a plain autoencoder: no selectivity to record
        return ae, None
    sel = transition_selectivity(params, positions, next_positions[:, None], config.variant,
                                 config.transform, config.eps)[:, 0]  # (B, K)
    pi = anp.exp(policy_log_probs(params, s))                         # (B, K, 4)
    pi_a = anp.sum(pi * np.eye(N_ACTIONS)[np.asarray(actions)][:, None, :], axis=-1)  # (B, K)
    J_hat = N_ACTIONS * pi_a * sel                                    # (B, K)
    return ae - lam * anp.sum(anp.mean(J_hat, axis=0)), J_hat


def _value_grad_and_J(parts, params, *args):
    """Value and gradient of ``parts(params, *args)[0]``, and the batch mean of its $J$."""
    recorded = {}

    def loss(p):
        value, J = parts(p, *args)
        recorded["J"] = None if J is None else np.mean(getval(J), axis=0)
        return value

    value, g = value_and_grad(loss)(params)
    return value, g, recorded["J"]


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
        From [`init_params`][reference.controllable_features.model.init_params].
    positions : ndarray of int, shape (B, 2)
        The batch of states $s_b$, as the agent's ``(row, col)``.
    config : Config
        The run's settings (``variant``, ``transform``, ``eps``, ``noise``).
    lam : float
        This update's $\lambda$ (after the warm-up ramp).
    rng : np.random.Generator or None
        Needed when ``config.noise > 0``.

    Returns
    -------
    loss : float
        The value of the objective of Eq. (2) at ``params`` for this batch.
    grad : dict
        Same structure as ``params``.
    J_mean : ndarray, shape (K,), or None
        Mean over the batch of $J_k(s)$, read from the same forward pass as the gradient;
        ``None`` when ``config.lam == 0``.
    """
    return _value_grad_and_J(_objective_and_J, params, positions, config, rng, lam)


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
        From [`init_params`][reference.controllable_features.model.init_params].
    positions : ndarray of int, shape (B, 2)
        The batch of states $s_b$, as the agent's ``(row, col)``.
    config : Config
        The run's settings; also supplies ``noise`` for the transitions and
        ``baseline_decay``.
    lam : float
        This update's $\lambda$.
    rng : np.random.Generator
        Source of the sampled actions and of the action noise.
    baseline : ndarray, shape (K,), or None
        The running baseline; ``None`` on the first update.

    Returns
    -------
    loss : float
        The value of the surrogate loss; only its gradient in ``params`` is meaningful.
    grad : dict
        The REINFORCE gradient estimate, with the same structure as ``params``.
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


def uniform_gradient(params: dict, positions, config: Config, lam: float,
                     rng: np.random.Generator):
    r"""One update of Algorithm 1 as the authors' code runs it: a uniform action, no REINFORCE.

    Draws $a_b \sim \mathcal U\{1..4\}$, steps the world and takes the gradient of
    [`uniform_surrogate`][reference.controllable_features.estimators.uniform_surrogate].

    Parameters
    ----------
    params : dict
        From [`init_params`][reference.controllable_features.model.init_params].
    positions : ndarray of int, shape (B, 2)
        The batch of states $s_b$, as the agent's ``(row, col)``.
    config : Config
        The run's settings (``variant``, ``transform``, ``eps``, ``noise``).
    lam : float
        This update's $\lambda$.
    rng : np.random.Generator
        Source of the uniform actions and of the action noise.

    Returns
    -------
    loss : float
        The value of the surrogate loss; only its gradient in ``params`` is meaningful.
    grad : dict
        The gradient estimate, with the same structure as ``params``.
    J_hat : ndarray, shape (K,), or None
        ``None`` when ``config.lam == 0``; else the batch's estimate
        $\tfrac{|\mathcal A|}{B} \sum_b \pi_k(a_b \mid s_b)\, T(\mathrm{sel}(s_b, a_b, k))$
        of the mean expected selectivity.
    """
    acts = rng.integers(0, N_ACTIONS, size=len(positions))            # (B,)
    nxt = step(positions, acts, rng, config.noise)                    # (B, 2)
    return _value_grad_and_J(_uniform_and_J, params, positions, acts, nxt, config, lam)
