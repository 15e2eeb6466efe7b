r"""Reproduce the grid-world experiments of Bengio, Thomas et al. (2017), arXiv:1703.07718.

``python -m reference.reproduce controllable_features [--quick] [--seed N]`` trains the model of
:mod:`reference.controllable_features` for each arm below, on five seeds (``seed .. seed + 4``)
for the arms of the main result, of reader question 2 and of the baseline, and on three seeds
for the sensitivity arms of reader question 3 (to keep the run near 20 minutes on two cores):

- ``default``: the module's default :class:`~reference.controllable_features.Config`
  ($\lambda = 100$, directed selectivity, the exact sum over actions, state-independent
  policies, i.i.d. states, 3000 updates of 64 states);
- ``paper``: Algorithm 1 as written: policies $\pi_k(a \mid s)$ that see the state, one
  sampled action per feature and REINFORCE (same $\lambda$ and updates);
- ``exact_state`` and ``reinforce_stateless``: one of the two departures at a time;
- ``trajectory`` and ``replay``: states taken along one random walk, consecutively or from a
  replay buffer over it, with the same number of transitions per update (reader question 2);
- ``lam_low``, ``lam_high``: $\lambda$ divided and multiplied by 10; ``k2`` and ``k8``: 2 and 8
  features (reader question 3);
- ``abs``, ``positive``, ``log``, ``log1p``: the other forms of the objective;
- ``autoencoder``: $\lambda = 0$, the plain autoencoder baseline.

Runs are spread over :data:`WORKERS` processes; every run has its own
``np.random.default_rng(seed)``, so the numbers do not depend on the number of processes.
The helpers :func:`run_seed`, :func:`run_arm`, :func:`summarise`, :func:`gap` and
:func:`selectivity_ceiling` are shared with the gallery examples in
``gallery/controllable_features/``, so the experiments are written once.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from .. import controllable_features as cf

__all__ = ["PAPER", "ARMS", "FULL_SEEDS_ARMS", "QUICK_STEPS", "GALLERY_STEPS", "WORKERS", "gap",
           "selectivity_ceiling", "run_seed", "run_arm", "summarise", "run", "TABLE"]

_LAM = cf.Config().lam

#: Overrides of :class:`reference.controllable_features.Config` that give the paper's
#: Algorithm 1 as written: state-dependent policies and the REINFORCE estimator.
PAPER: dict = {"policy_input": "state", "estimator": "reinforce"}

#: Overrides of the module's default ``Config`` for each arm.
ARMS: dict = {
    "default": {},
    "paper": dict(PAPER),
    "exact_state": {"policy_input": "state"},
    "reinforce_stateless": {"estimator": "reinforce"},
    "trajectory": {"sampling": "trajectory"},
    "replay": {"sampling": "replay"},
    "lam_low": {"lam": 0.1 * _LAM},
    "lam_high": {"lam": 10.0 * _LAM},
    "k2": {"n_features": 2},
    "k8": {"n_features": 8},
    "abs": {"variant": "abs"},
    "positive": {"variant": "positive"},
    "log": {"transform": "log"},
    "log1p": {"transform": "log1p"},
    "autoencoder": {"lam": 0.0},
}

#: Arms run on five seeds; the others on three.
FULL_SEEDS_ARMS = ("default", "paper", "trajectory", "replay", "autoencoder")

#: Number of updates per run with ``--quick``.
QUICK_STEPS = 300
#: Number of updates per run in the gallery examples that train many models (about a minute).
GALLERY_STEPS = 1500
#: Worker processes of :func:`run` (at most the number of CPUs).
WORKERS = max(1, min(2, os.cpu_count() or 1))


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
        Fields of :class:`reference.controllable_features.Config`.

    Returns
    -------
    dict
        :func:`reference.controllable_features.evaluate` of the result (with ``sel_policy``,
        ``sel_best`` and ``selectivity_mean`` measured with the bounded "positive" form
        whatever the training form, so that arms compare; the training form's own mean is
        ``selectivity_native``) plus ``align`` (mean of the best absolute correlations with
        $x$ and $y$), ``ceiling`` (K,), ``params``, ``history`` and ``seconds``.
    """
    kw = dict(overrides)
    if steps is not None:
        kw["steps"] = int(steps)
    config = cf.Config(**kw)
    start = time.perf_counter()
    params, history = cf.train(config, np.random.default_rng(seed))
    out = dict(history["final"])
    native = cf.policy_selectivity(params, config.variant)
    positive = cf.policy_selectivity(params, "positive")
    out.update(selectivity_native=float(np.mean(native["policy"])),
               sel_policy=positive["policy"], sel_best=positive["best"],
               selectivity_mean=float(np.mean(positive["policy"])))
    out.update(align=0.5 * (out["corr_x"] + out["corr_y"]), ceiling=selectivity_ceiling(params),
               params=params, history=history, seconds=time.perf_counter() - start)
    return out


def _job(args):
    arm, seed, steps = args
    return run_seed(seed, steps, **ARMS[arm])


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
            _report(arm, s, r)
    return records


def _report(arm, seed, r):
    print(f"  {arm!s:<20} seed {seed}: corr_x {r['corr_x']:.3f} corr_y {r['corr_y']:.3f} "
          f"sel {r['selectivity_mean']:.3f} ({r['seconds']:.1f} s)", flush=True)


def summarise(records: list, prefix: str = "") -> dict:
    r"""Means, standard deviations and medians over seeds of one arm's measures.

    Returns
    -------
    dict
        ``{prefix}corr_x_median``, ``{prefix}corr_y_median``, ``{prefix}align_mean``,
        ``{prefix}align_std``, ``{prefix}eta_mean`` (mean over seeds of the mean of the best
        correlation ratios with $x$ and $y$), ``{prefix}selectivity_mean``,
        ``{prefix}selectivity_std``, ``{prefix}selectivity_native_mean`` (measured with the
        arm's own training form), ``{prefix}ceiling_mean``, ``{prefix}seeds_aligned``
        (both best correlations at least 0.9), ``{prefix}recon_mean``,
        ``{prefix}seconds_mean`` and ``{prefix}n_seeds``.
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
        f"{prefix}selectivity_native_mean": float(arr("selectivity_native").mean()),
        f"{prefix}ceiling_mean": float(np.mean([np.mean(r["ceiling"]) for r in records])),
        f"{prefix}seeds_aligned": int(sum(bool(r["aligned"]) for r in records)),
        f"{prefix}recon_mean": float(arr("recon").mean()),
        f"{prefix}seconds_mean": float(arr("seconds").mean()),
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
    """Run every arm (see the module doc) and return the flat metrics dict."""
    steps = QUICK_STEPS if quick else None
    jobs = [(name, s, steps) for name in ARMS
            for s in range(seed, seed + (5 if name in FULL_SEEDS_ARMS else 3))]
    print(f"{len(jobs)} runs on {WORKERS} processes", flush=True)
    arms = {name: [] for name in ARMS}
    ctx = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    with ProcessPoolExecutor(WORKERS, mp_context=ctx) as pool:
        for (name, s, _), r in zip(jobs, pool.map(_job, jobs)):
            r.pop("history")
            arms[name].append(r)
            _report(name, s, r)
    d = summarise(arms["default"])
    p = summarise(arms["paper"])
    out = {
        "corr_x": d["corr_x_median"],
        "corr_y": d["corr_y_median"],
        "seeds_aligned": d["seeds_aligned"],
        "selectivity_mean": d["selectivity_mean"],
        "selectivity_ceiling": d["ceiling_mean"],
        "selectivity_best": float(np.mean([np.mean(r["sel_best"]) for r in arms["default"]])),
        "paper_corr_x": p["corr_x_median"],
        "paper_corr_y": p["corr_y_median"],
    }
    g, se = gap(arms["default"], arms["trajectory"])
    out.update(iid_vs_trajectory_gap=g, iid_vs_trajectory_gap_se=se)
    g, se = gap(arms["default"], arms["replay"])
    out.update(iid_vs_replay_gap=g, iid_vs_replay_gap_se=se)
    g, se = gap(arms["default"], arms["autoencoder"])
    out.update(method_vs_autoencoder_gap=g, method_vs_autoencoder_gap_se=se)
    g, se = gap(arms["default"], arms["paper"])
    out.update(default_vs_paper_gap=g, default_vs_paper_gap_se=se)
    for name, records in arms.items():
        out.update(summarise(records, prefix=f"{name}_"))
    out["steps"] = int(cf.Config(**({"steps": steps} if steps else {})).steps)
    out["lam"] = float(_LAM)
    out["workers"] = WORKERS
    out["runs"] = len(jobs)
    out["seconds_per_run"] = float(np.mean([r["seconds"] for rs in arms.values() for r in rs]))
    return out


TABLE = [
    ("corr_x", "best |corr| of a feature with the agent's x (default setup, median of 5 seeds)",
     "features track x (figure only)"),
    ("corr_y", "best |corr| of a feature with the agent's y (default setup, median of 5 seeds)",
     "features track y (figure only)"),
    ("seeds_aligned", "seeds (of 5) with both best |corr| >= 0.9, default setup", "—"),
    ("paper_corr_x", "best |corr| with x, Algorithm 1 as written (median of 5 seeds)", "—"),
    ("paper_corr_y", "best |corr| with y, Algorithm 1 as written (median of 5 seeds)", "—"),
    ("paper_seeds_aligned", "seeds (of 5) aligned, Algorithm 1 as written", "—"),
    ("selectivity_mean", "mean selectivity of the policies, default setup", "—"),
    ("selectivity_ceiling", "ceiling set by the walls (unblocked fraction)", "—"),
    ("paper_selectivity_mean", "mean selectivity of the policies, Algorithm 1 as written", "—"),
    ("autoencoder_align_mean", "plain autoencoder (λ = 0): mean alignment", "—"),
    ("iid_vs_trajectory_gap", "alignment, i.i.d. minus trajectory states", "—"),
    ("iid_vs_trajectory_gap_se", "standard error of that gap", "—"),
    ("iid_vs_replay_gap", "alignment, i.i.d. minus replay-buffer states", "—"),
    ("exact_state_align_mean", "exact sum, state-dependent policies: mean alignment (3 seeds)",
     "—"),
    ("reinforce_stateless_align_mean",
     "REINFORCE, state-independent policies: mean alignment (3 seeds)", "—"),
    ("k2_align_mean", "K = 2 features: mean alignment (3 seeds)", "—"),
    ("k8_align_mean", "K = 8 features: mean alignment (3 seeds)", "—"),
    ("abs_align_mean", "absolute-value selectivity: mean alignment (3 seeds)", "—"),
    ("abs_selectivity_native_mean",
     "absolute-value selectivity: its own mean selectivity (3 seeds)",
     "—"),
    ("log_align_mean", "log of selectivity in the objective: mean alignment (3 seeds)", "—"),
]
