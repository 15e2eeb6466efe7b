r"""Selectivity (Eq. (1)), its variants, and the objective (Eq. (2)).

Selectivity scores one transition $s \xrightarrow{a} s'$ for feature $k$: the share of the change
in the representation $f$ that falls on $f_k$. The objective trades the policies' expected
selectivity against reconstruction. Equation numbers are our reading of arXiv v1.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np

from . import _checks
from ._checks import TRANSFORMS, VARIANTS
from .grid_world import N_POS, render, step_all_actions
from .model import Config, autoencoder_loss, encode, policy_log_probs

__all__ = ["VARIANTS", "TRANSFORMS", "selectivity", "transition_selectivity",
           "expected_selectivity", "objective"]


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
        chosen action decreases $f_k$.
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
        The selectivity of feature ``k`` (or of every feature) for each transition, after
        ``transform``.

    Examples
    --------
    >>> float(selectivity([0., 0.], [1., 0.], k=0, variant="abs"))
    1.0
    >>> float(selectivity([0., 0.], [1., -1.], k=0, variant="directed"))  # a +/- pair
    1.0
    """
    variant = _checks.variant(variant)
    _checks.choice("transform", transform, TRANSFORMS)
    _checks.feature_pair(f_s, f_s_next, k, eps)
    if isinstance(f_s, (list, tuple)):
        f_s = np.asarray(f_s, dtype=float)
    if isinstance(f_s_next, (list, tuple)):
        f_s_next = np.asarray(f_s_next, dtype=float)
    d = f_s_next - f_s                                                # Delta f, (..., K)
    if variant == "abs":
        num = anp.abs(d)
        den = anp.sum(num, axis=-1, keepdims=True)
    else:
        pos = anp.maximum(d, 0.0)                                     # [Delta f]_+
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


def transition_selectivity(params: dict, positions, next_positions, variant: str = "directed",
                           transform: str = "none", eps: float = 1e-8):
    r"""Eq. (1) for $M$ transitions out of each of $B$ states, every feature at once.

    $$
    \mathrm{sel}_{bmk} = T\big(\mathrm{sel}_k(f(s_b), f(s'_{bm}))\big)
    $$

    The states and their successors go through the encoder in one pass. $M = 4$ (one $s'$
    per action) for the exact sum over actions; $M = K$ (one sampled action per policy) for
    REINFORCE.

    Parameters
    ----------
    params : dict
        From [`init_params`][reference.controllable_features.model.init_params].
    positions : array_like of int, shape (B, 2)
        The batch of states $s$, as the agent's ``(row, col)``.
    next_positions : array_like of int, shape (B, M, 2)
        ``M`` next states $s'$ for each state, e.g. one per action.
    variant : {"abs", "directed", "positive"}
        Which selectivity, as in
        [`selectivity`][reference.controllable_features.objectives.selectivity].
    transform : {"none", "log", "log1p"}
        The transform $T$ applied to each selectivity, as in
        [`selectivity`][reference.controllable_features.objectives.selectivity].
    eps : float
        Denominator guard, as in
        [`selectivity`][reference.controllable_features.objectives.selectivity].

    Returns
    -------
    sel : array, shape (B, M, K)
        Differentiable in ``params`` through $f(s)$ and $f(s')$.
    """
    b, m = np.shape(next_positions)[:2]
    s = render(positions)                                             # (B, 144)
    h_all = encode(params, anp.concatenate([s, render(next_positions).reshape(m * b, -1)],
                                           axis=0))                   # (B + B M, K)
    h, h_next = h_all[:b], anp.reshape(h_all[b:], (b, m, -1))         # (B, K), (B, M, K)
    return selectivity(h[:, None, :], h_next, None, variant, transform, eps)


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
        From [`init_params`][reference.controllable_features.model.init_params].
    positions : array_like of int, shape (B, 2)
        The batch of states $s$, as the agent's ``(row, col)``.
    variant : {"abs", "directed", "positive"}
        Which selectivity, as in
        [`selectivity`][reference.controllable_features.objectives.selectivity].
    transform : {"none", "log", "log1p"}
        The transform $T$ applied to each selectivity, as in
        [`selectivity`][reference.controllable_features.objectives.selectivity].
    eps : float
        Denominator guard, as in
        [`selectivity`][reference.controllable_features.objectives.selectivity].
    rng : np.random.Generator or None
        Source of the action noise; needed only when ``noise > 0``.
    noise : float
        Probability that a transition replaces the action by a uniformly random one,
        as in [`step`][reference.controllable_features.grid_world.step]; with ``noise > 0`` one
        $s'$ is drawn per action.

    Returns
    -------
    J : array, shape (B, K)
        Differentiable in ``params`` (through $\pi$ and through $f(s)$, $f(s')$).
    sel : array, shape (B, 4, K)
        Selectivity of every feature for every action.
    """
    positions = _checks.positions(positions, N_POS)
    nxt = step_all_actions(positions, rng, noise)                     # (B, 4, 2)
    sel = transition_selectivity(params, positions, nxt, variant, transform, eps)  # (B, 4, K)
    pi = anp.exp(policy_log_probs(params, render(positions)))        # (B, K, 4)
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
        From [`init_params`][reference.controllable_features.model.init_params].
    positions : array_like of int, shape (B, 2)
        The batch of states $s$, as the agent's ``(row, col)``.
    config : Config
        The run's settings; the objective uses ``lam``, ``variant``, ``transform``,
        ``noise`` and ``eps``.
    rng : np.random.Generator or None
        Needed when ``config.noise > 0``.
    lam : float or None
        Overrides ``config.lam`` (the warm-up ramp of
        [`train`][reference.controllable_features.training.train]).

    Returns
    -------
    loss : float
        The scalar to minimise (differentiable by autograd in ``params``).
    """
    return _objective_and_J(params, positions, config, rng, lam)[0]


def _objective_and_J(params, positions, config, rng=None, lam=None):
    """`objective` and the batch's $J$ (B, K) from the same pass (``None`` if config.lam is 0)."""
    lam = config.lam if lam is None else lam
    ae = autoencoder_loss(params, render(positions))
    if config.lam == 0:                 # a plain autoencoder: no selectivity to record
        return ae, None
    J, _ = expected_selectivity(params, positions, config.variant, config.transform, rng,
                                config.noise, config.eps)
    return ae - lam * anp.sum(anp.mean(J, axis=0)), J
