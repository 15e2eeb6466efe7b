r"""Reproduce the grid-world experiments of Bengio, Thomas et al. (2017), arXiv:1703.07718.

``python -m reference.reproduce controllable_features [--quick] [--seed N]`` trains the model of
:mod:`reference.controllable_features` on five seeds (``seed .. seed + 4``) for each arm:

- ``default``: the module's default setup (i.i.d. states, directed selectivity, REINFORCE);
- ``trajectory`` and ``replay``: states taken along one random walk, consecutively or from a
  replay buffer over it, with the same number of transitions per update (reader question 2);
- ``exact``: the exact sum over the four actions instead of REINFORCE; ``exact_stateless``: the
  same with state-independent policies (one distribution over actions per feature);
- ``lam_low``, ``lam_high``: $\lambda$ divided and multiplied by 10; ``k2`` and ``k8``: 2 and 8
  features (reader question 3);
- ``abs``, ``signed``, ``log``, ``log1p``: the other forms of the objective;
- ``autoencoder``: $\lambda = 0$, the plain autoencoder baseline.

The helpers :func:`run_arm`, :func:`summarise` and :func:`selectivity_ceiling` are shared with the
gallery examples in ``gallery/controllable_features/``, so the experiments are written once.
"""

from __future__ import annotations

import time

import numpy as np

from .. import controllable_features as cf

__all__ = ["BASE", "ARMS", "QUICK_STEPS", "GALLERY_STEPS", "gap", "selectivity_ceiling",
           "run_seed", "run_arm", "summarise", "run", "TABLE"]

#: Overrides of :class:`reference.controllable_features.Config` for the default setup: a larger
#: $\lambda$ and more updates than the module's defaults, which in our short sweeps (2 seeds
#: each, not recorded here) aligned the features better with $x$ and $y$.
BASE: dict = {"lam": 10.0, "steps": 3000}

_LAM = cf.Config(**BASE).lam

#: Overrides of each arm, applied on top of :data:`BASE` (``lam_low``/``lam_high``: the default
#: $\lambda$ divided or multiplied by 10).
ARMS: dict = {
    "default": {},
    "trajectory": {"sampling": "trajectory"},
    "replay": {"sampling": "replay"},
    "exact": {"estimator": "exact"},
    "exact_stateless": {"estimator": "exact", "policy_input": "none"},
    "lam_low": {"lam": 0.1 * _LAM},
    "lam_high": {"lam": 10.0 * _LAM},
    "k2": {"n_features": 2},
    "k8": {"n_features": 8},
    "abs": {"variant": "abs"},
    "signed": {"variant": "signed"},
    "log": {"transform": "log"},
    "log1p": {"transform": "log1p"},
    "autoencoder": {"lam": 0.0},
}

#: Number of updates per run with ``--quick``.
QUICK_STEPS = 300
#: Number of updates per run in the gallery examples that train many models (about a minute).
GALLERY_STEPS = 1500


def selectivity_ceiling(params) -> np.ndarray:
    r"""Upper bound on each policy's mean selectivity set by the walls.

    A move into a wall leaves the state, hence every feature, unchanged, so its selectivity is
    0 (see :func:`reference.controllable_features.selectivity`). If each policy $\pi_k$ takes
    its most likely action $a^\ast_k(s)$, the best it can score is the fraction of states in
    which that action is not blocked:

    $$
    \bar J_k \le \frac{1}{121} \sum_s \mathbb 1\big[s'(s, a^\ast_k(s)) \ne s\big].
    $$

    A policy that always moves one way (as a directed feature needs) has ceiling
    $110/121 \approx 0.909$.

    Parameters
    ----------
    params : dict
        Trained parameters.

    Returns
    -------
    ceiling : ndarray, shape (K,)
    """
    pos = cf.all_positions()                                              # (121, 2)
    log_pi = cf.policy_log_probs(params, cf.render(pos))                  # (121, K, 4)
    best = np.argmax(log_pi, axis=-1)                                     # (121, K)
    nxt = cf.step(np.broadcast_to(pos[:, None, :], best.shape + (2,)), best)
    return np.any(nxt != pos[:, None, :], axis=-1).mean(axis=0)


def run_seed(seed: int, steps: int | None = None, **overrides) -> dict:
    r"""Train one model (seeded ``np.random.default_rng(seed)``) and measure it.

    Parameters
    ----------
    seed : int
    steps : int or None
        Number of updates (``None``: the configuration's default).
    **overrides
        Fields of :class:`reference.controllable_features.Config`, on top of :data:`BASE`.

    Returns
    -------
    dict
        :func:`reference.controllable_features.evaluate` of the result (with ``sel_policy``,
        ``sel_best`` and ``selectivity_mean`` measured with the directed form whatever the
        training form; the training form's mean is ``selectivity_native``) plus ``align`` (mean of
        the best absolute correlations with $x$ and $y$), ``ceiling`` (K,), ``params``,
        ``history`` and ``seconds``.
    """
    kw = {**BASE, **overrides}
    if steps is not None:
        kw["steps"] = int(steps)
    config = cf.Config(**kw)
    start = time.perf_counter()
    params, history = cf.train(config, np.random.default_rng(seed))
    out = dict(history["final"])
    # selectivity always measured with the directed form, so arms with other forms compare
    directed = cf.policy_selectivity(params, "directed")
    out.update(selectivity_native=out["selectivity_mean"], sel_policy=directed["policy"],
               sel_best=directed["best"], selectivity_mean=float(np.mean(directed["policy"])))
    out.update(align=0.5 * (out["corr_x"] + out["corr_y"]), ceiling=selectivity_ceiling(params),
               params=params, history=history, seconds=time.perf_counter() - start)
    return out


def run_arm(arm: str | dict, seeds, steps: int | None = None, verbose: bool = False) -> list:
    r"""Run one arm (a name in :data:`ARMS` or a dict of overrides) over several seeds.

    Returns
    -------
    list of dict
        One :func:`run_seed` record per seed.
    """
    overrides = ARMS[arm] if isinstance(arm, str) else dict(arm)
    records = []
    for s in seeds:
        r = run_seed(int(s), steps, **overrides)
        records.append(r)
        if verbose:
            print(f"  {arm!s:<12} seed {s}: corr_x {r['corr_x']:.3f} corr_y {r['corr_y']:.3f} "
                  f"sel {r['selectivity_mean']:.3f} ({r['seconds']:.1f} s)", flush=True)
    return records


def summarise(records: list, prefix: str = "") -> dict:
    r"""Means, standard deviations and medians over seeds of one arm's measures.

    Returns
    -------
    dict
        ``{prefix}corr_x_median``, ``{prefix}corr_y_median``, ``{prefix}align_mean``,
        ``{prefix}align_std``, ``{prefix}eta_mean`` (mean over seeds of the mean of the best
        correlation ratios with $x$ and $y$), ``{prefix}selectivity_mean``,
        ``{prefix}selectivity_std``, ``{prefix}ceiling_mean``, ``{prefix}seeds_aligned``
        (both best correlations at least 0.9), ``{prefix}recon_mean`` and ``{prefix}n_seeds``.
    """
    def arr(key):
        return np.array([r[key] for r in records], dtype=float)

    align, sel = arr("align"), arr("selectivity_mean")
    return {
        f"{prefix}corr_x_median": float(np.median(arr("corr_x"))),
        f"{prefix}corr_y_median": float(np.median(arr("corr_y"))),
        f"{prefix}align_mean": float(align.mean()),
        f"{prefix}align_std": float(align.std(ddof=1)) if len(align) > 1 else 0.0,
        f"{prefix}eta_mean": float(np.mean(0.5 * (arr("eta_x") + arr("eta_y")))),
        f"{prefix}selectivity_mean": float(sel.mean()),
        f"{prefix}selectivity_std": float(sel.std(ddof=1)) if len(sel) > 1 else 0.0,
        f"{prefix}ceiling_mean": float(np.mean([np.mean(r["ceiling"]) for r in records])),
        f"{prefix}seeds_aligned": int(sum(bool(r["aligned"]) for r in records)),
        f"{prefix}recon_mean": float(arr("recon").mean()),
        f"{prefix}n_seeds": len(records),
    }


def gap(a: list, b: list) -> tuple[float, float]:
    r"""Difference of mean alignment between two arms and its standard error.

    $$
    \Delta = \bar a - \bar b, \qquad \mathrm{se} = \sqrt{s_a^2 / n_a + s_b^2 / n_b}
    $$
    """
    xa = np.array([r["align"] for r in a])
    xb = np.array([r["align"] for r in b])
    se = np.sqrt(xa.var(ddof=1) / len(xa) + xb.var(ddof=1) / len(xb))
    return float(xa.mean() - xb.mean()), float(se)


def run(quick: bool = False, seed: int = 0) -> dict:
    """Run every arm on five seeds and return the flat metrics dict (see the module doc)."""
    seeds = range(seed, seed + 5)
    steps = QUICK_STEPS if quick else None
    arms = {}
    for name in ARMS:
        print(f"arm {name}", flush=True)
        arms[name] = run_arm(name, seeds, steps, verbose=True)
    d = summarise(arms["default"])
    out = {
        "corr_x": d["corr_x_median"],
        "corr_y": d["corr_y_median"],
        "seeds_aligned": d["seeds_aligned"],
        "selectivity_mean": d["selectivity_mean"],
        "selectivity_ceiling": d["ceiling_mean"],
        "selectivity_best": float(np.mean([np.mean(r["sel_best"]) for r in arms["default"]])),
    }
    g, se = gap(arms["default"], arms["trajectory"])
    out.update(iid_vs_trajectory_gap=g, iid_vs_trajectory_gap_se=se)
    g, se = gap(arms["default"], arms["replay"])
    out.update(iid_vs_replay_gap=g, iid_vs_replay_gap_se=se)
    g, se = gap(arms["default"], arms["autoencoder"])
    out.update(method_vs_autoencoder_gap=g, method_vs_autoencoder_gap_se=se)
    for name, records in arms.items():
        out.update(summarise(records, prefix=f"{name}_"))
    out["steps"] = int(cf.Config(**{**BASE, **({"steps": steps} if steps else {})}).steps)
    out["seconds_per_run"] = float(np.mean([r["seconds"] for rs in arms.values() for r in rs]))
    return out


TABLE = [
    ("corr_x", "best |corr| of a feature with the agent's x (median of 5 seeds)",
     "features track x (qualitative)"),
    ("corr_y", "best |corr| of a feature with the agent's y (median of 5 seeds)",
     "features track y (qualitative)"),
    ("seeds_aligned", "seeds (of 5) with both best |corr| >= 0.9", "—"),
    ("selectivity_mean", "mean selectivity of the policies (directed form)", "—"),
    ("selectivity_ceiling", "ceiling set by the walls (unblocked fraction)", "—"),
    ("autoencoder_align_mean", "plain autoencoder (λ = 0): mean alignment", "—"),
    ("iid_vs_trajectory_gap", "alignment, i.i.d. minus trajectory states", "—"),
    ("iid_vs_trajectory_gap_se", "standard error of that gap", "—"),
    ("iid_vs_replay_gap", "alignment, i.i.d. minus replay-buffer states", "—"),
    ("exact_align_mean", "exact expectation over actions: mean alignment", "—"),
    ("exact_stateless_align_mean", "exact, state-independent policies: mean alignment", "—"),
    ("k2_align_mean", "K = 2 features: mean alignment", "—"),
    ("k8_align_mean", "K = 8 features: mean alignment", "—"),
    ("abs_align_mean", "absolute-value selectivity: mean alignment", "—"),
    ("log_align_mean", "log of selectivity in the objective: mean alignment", "—"),
]
