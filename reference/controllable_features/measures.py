r"""The measures of Section 3: are the features the agent's coordinates, are the policies selective?

Every measure runs over all 121 agent positions of the noise-free grid world.
"""

from __future__ import annotations

import numpy as np

from .grid_world import N_POS, all_positions, render, step
from .model import autoencoder_loss, encode, policy_log_probs
from .objectives import expected_selectivity

#: Total variance (sum of squares over the 121 states) below which a feature counts as
#: constant: its correlation ratio is then 0 instead of 0/0 (float64 rounding of an exactly
#: constant feature leaves sums of squares near 1e-30, far below this).
CONSTANT_SS = 1e-12

__all__ = ["feature_grid", "alignment", "policy_selectivity", "policy_directions",
           "selectivity_ceiling", "evaluate"]


def feature_grid(params: dict) -> np.ndarray:
    r"""The features $f(s)$ at every agent position, as plotted in Section 3's figures.

    Parameters
    ----------
    params : dict
        Trained (or initial) model parameters, from
        [`init_params`][reference.controllable_features.model.init_params] or
        [`train`][reference.controllable_features.training.train].

    Returns
    -------
    F : ndarray, shape (N_POS, N_POS, K)
        ``F[row, col, k]`` is feature $k$ with the agent at ``(row, col)``.
    """
    h = encode(params, render(all_positions()))                       # (121, K)
    return h.reshape(N_POS, N_POS, -1)


def alignment(params: dict) -> dict:
    r"""How well the features track the agent's coordinates (Section 3), over all 121 states.

    Reports the absolute Pearson correlation $|\rho(f_k, c)|$ of each feature with each true
    coordinate $c \in \{x, y\}$ ($x$ = column, $y$ = row), and the correlation ratio

    $$
    \eta^2(f_k \mid c) = \frac{\sum_v n_v (\bar f_{k \mid c = v} - \bar f_k)^2}
                              {\sum_s (f_k(s) - \bar f_k)^2},
    $$

    which is 1 when $f_k$ is any function of $c$ alone (monotone or not). A constant feature
    has correlation and correlation ratio 0.

    Parameters
    ----------
    params : dict
        Trained (or initial) model parameters, from
        [`init_params`][reference.controllable_features.model.init_params] or
        [`train`][reference.controllable_features.training.train].

    Returns
    -------
    dict
        ``"corr"`` (K, 2) absolute correlations with (x, y); ``"eta"`` (K, 2) correlation
        ratios; ``"corr_x"``, ``"corr_y"`` the best absolute correlation over features per
        coordinate; ``"eta_x"``, ``"eta_y"`` likewise for $\eta$.
    """
    F = feature_grid(params).reshape(N_POS * N_POS, -1)               # (121, K)
    k = F.shape[1]
    pos = all_positions()
    xy = np.stack([pos[:, 1], pos[:, 0]], axis=1).astype(float)      # (121, 2): (x, y)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.corrcoef(F, xy, rowvar=False)[:k, k:]                # (K, 2)
    corr = np.abs(np.nan_to_num(rho, nan=0.0))
    eta = np.zeros_like(corr)
    Fc = F - F.mean(0)
    tot = (Fc * Fc).sum(0)                                            # (K,)
    for j in range(2):
        means = np.stack([F[xy[:, j] == v].mean(0) for v in range(N_POS)])   # (N_POS, K)
        between = (N_POS * (means - F.mean(0)) ** 2).sum(0)
        varies = tot > CONSTANT_SS
        eta[:, j] = np.sqrt(np.where(varies, between / np.where(varies, tot, 1), 0))
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
        Trained (or initial) model parameters, from
        [`init_params`][reference.controllable_features.model.init_params] or
        [`train`][reference.controllable_features.training.train].
    variant : str
        Selectivity variant, as in
        [`selectivity`][reference.controllable_features.objectives.selectivity].

    Returns
    -------
    dict
        ``"policy"`` (K,) and ``"best"`` (K,).
    """
    J, sel = expected_selectivity(params, all_positions(), variant)   # (121, K), (121, 4, K)
    return {"policy": np.asarray(J).mean(0), "best": np.asarray(sel).max(axis=1).mean(0)}


def policy_directions(params: dict) -> np.ndarray:
    r"""Which way each policy moves (Section 3's policy figure), averaged over all states.

    $$
    D_{ka} = \frac{1}{121} \sum_s \mathbb 1\big[a = \arg\max_{a'} \pi_k(a' \mid s)\big]
    $$

    Parameters
    ----------
    params : dict
        Trained (or initial) model parameters, from
        [`init_params`][reference.controllable_features.model.init_params] or
        [`train`][reference.controllable_features.training.train].

    Returns
    -------
    D : ndarray, shape (K, 4)
        Fraction of states where each action (up, down, left, right) is the most likely.
    """
    log_pi = policy_log_probs(params, render(all_positions()))       # (121, K, 4)
    return np.eye(4)[np.argmax(log_pi, axis=-1)].mean(0)


def selectivity_ceiling(params: dict) -> np.ndarray:
    r"""Upper bound on each policy's mean selectivity set by the walls (Section 3).

    A move into a wall leaves the state, hence every feature, unchanged, so its selectivity is
    0 (see [`selectivity`][reference.controllable_features.objectives.selectivity]). If each
    policy $\pi_k$ takes its most likely action $a^\ast_k(s)$, the best it can score is the
    fraction of states in which that action is not blocked:

    $$
    \bar J_k \le \frac{1}{121} \sum_s \mathbb 1\big[s'(s, a^\ast_k(s)) \ne s\big].
    $$

    A policy that always moves one way (as a directed feature needs) has ceiling
    $110/121 \approx 0.909$.

    Parameters
    ----------
    params : dict
        Trained (or initial) model parameters, from
        [`init_params`][reference.controllable_features.model.init_params] or
        [`train`][reference.controllable_features.training.train].

    Returns
    -------
    ceiling : ndarray, shape (K,)
        For each policy, the fraction of the 121 states in which its most likely action is
        not blocked by a wall: a value in [0, 1].
    """
    pos = all_positions()                                             # (121, 2)
    log_pi = policy_log_probs(params, render(pos))                    # (121, K, 4)
    best = np.argmax(log_pi, axis=-1)                                 # (121, K)
    nxt = step(np.broadcast_to(pos[:, None, :], best.shape + (2,)), best)   # (121, K, 2)
    return np.any(nxt != pos[:, None, :], axis=-1).mean(axis=0)


def evaluate(params: dict, variant: str = "positive") -> dict:
    r"""All measures of Section 3 for one trained model.

    Combines [`alignment`][reference.controllable_features.measures.alignment],
    [`policy_selectivity`][reference.controllable_features.measures.policy_selectivity] and
    [`policy_directions`][reference.controllable_features.measures.policy_directions], plus
    the reconstruction error over all states (the autoencoder term of Eq. (2)):

    $$
    \mathcal L_\mathrm{AE} = \tfrac{1}{121} \sum_s \tfrac12 \lVert s - g(f(s)) \rVert^2
    $$

    Parameters
    ----------
    params : dict
        Trained (or initial) model parameters, from
        [`init_params`][reference.controllable_features.model.init_params] or
        [`train`][reference.controllable_features.training.train].
    variant : str
        Selectivity variant used for the selectivity measures. The default "positive" is
        bounded in $[0, 1]$ and equals "directed" wherever the chosen move does not decrease
        $f_k$; [`train`][reference.controllable_features.training.train] reports "abs" for
        models trained with "abs", else "positive".

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
