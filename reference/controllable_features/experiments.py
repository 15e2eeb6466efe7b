r"""The grid-world experiments of Section 3: named arms, seeded runs and their summaries.

An *arm* is a set of overrides of the default `Config`; `ARMS` names the ones the
documentation page reports (`PAPER` gives the paper's Algorithm 1 as written, `AUTHORS` the
authors' released code). The reproduce
command and the gallery examples both run arms through
[`run_seed`][reference.controllable_features.experiments.run_seed] and
[`run_arm`][reference.controllable_features.experiments.run_arm], so the experiments are
written once.
"""

from __future__ import annotations

import time

import numpy as np

from .measures import policy_selectivity, selectivity_ceiling
from .model import Config
from .training import train

__all__ = ["PAPER", "AUTHORS", "ARMS", "SHORT_STEPS", "GALLERY_STEPS", "run_seed", "run_arm",
           "summarise", "gap"]

_LAM = Config().lam

#: Overrides of `Config` that give the paper's Algorithm 1 as written: state-dependent
#: policies and the REINFORCE estimator.
PAPER: dict = {"policy_input": "state", "estimator": "reinforce"}

#: Overrides of `Config` that follow the authors' released code (bengioe/implementations,
#: DL/ICF_simple/main.py) as closely as dense layers allow: state-dependent policies as a linear
#: head on the encoder's last hidden layer, tanh features, a decoder reading the encoder's first
#: hidden layer, one uniformly drawn action per state scored without REINFORCE, K = 6, the
#: code's reconstruction weight 0.1 (lambda = 30 in our units), Adam 5e-4 and 20 x 500 updates.
AUTHORS: dict = {"policy_input": "encoder", "feature_activation": "tanh",
                 "decoder_input": "encoder", "estimator": "uniform", "n_features": 6,
                 "lam": 30.0, "lr": 5e-4, "steps": 10000, "hidden": (64, 32),
                 "decoder_hidden": (64,)}

#: Number of updates of the sensitivity arms (half the default), so that the reproduce run,
#: with the authors' arms at their 10,000 updates, fits in about 15 minutes on 2 cores.
SHORT_STEPS = 1500

#: Overrides of the default `Config` for each arm.
ARMS: dict = {
    "default": {},
    "authors": dict(AUTHORS),
    "authors_reinforce": dict(AUTHORS, estimator="reinforce"),
    "paper": dict(PAPER),
    "exact_state": {"policy_input": "state"},
    "reinforce_stateless": {"estimator": "reinforce"},
    "trajectory": {"sampling": "trajectory"},
    "replay": {"sampling": "replay"},
    # sensitivity arms, at SHORT_STEPS updates; "short" is the default at the same length
    "short": {"steps": SHORT_STEPS},
    "lam_low": {"lam": 0.1 * _LAM, "steps": SHORT_STEPS},
    "lam_high": {"lam": 10.0 * _LAM, "steps": SHORT_STEPS},
    "k2": {"n_features": 2, "steps": SHORT_STEPS},
    "k8": {"n_features": 8, "steps": SHORT_STEPS},
    "abs": {"variant": "abs", "steps": SHORT_STEPS},
    "positive": {"variant": "positive", "steps": SHORT_STEPS},
    "log": {"transform": "log", "steps": SHORT_STEPS},
    "log1p": {"transform": "log1p", "steps": SHORT_STEPS},
    "abs_log": {"variant": "abs", "transform": "log", "steps": SHORT_STEPS},
    "noise": {"noise": 0.1, "steps": SHORT_STEPS},
    "autoencoder": {"lam": 0.0},
}

#: Number of updates per run in the gallery examples that train many models (half the default).
GALLERY_STEPS = SHORT_STEPS


def run_seed(seed: int, steps: int | None = None, /, **overrides) -> dict:
    r"""Train one model by Algorithm 1 (seeded ``np.random.default_rng(seed)``) and measure it.

    The measures are those of Section 3, on all 121 states, plus the mean alignment
    $\tfrac12(\max_k |\rho(f_k, x)| + \max_k |\rho(f_k, y)|)$.

    Parameters
    ----------
    seed : int
        Seed of the run's only generator, ``np.random.default_rng(seed)``.
    steps : int or None
        Number of updates; overrides a ``steps`` in ``overrides`` (``None``: the arm's or the
        configuration's default).
    **overrides
        Fields of [`Config`][reference.controllable_features.model.Config].

    Returns
    -------
    dict
        [`evaluate`][reference.controllable_features.measures.evaluate] of the result (with
        ``sel_policy``, ``sel_best`` and ``selectivity_mean`` measured with the bounded
        "positive" form whatever the training form, so that arms compare; the training
        form's own mean is ``selectivity_native``) plus ``align`` (mean of the best absolute
        correlations with $x$ and $y$), ``ceiling`` (K,), ``params``, ``history`` and
        ``seconds`` (wall time of training and measuring).
    """
    kw = dict(overrides)
    if steps is not None:
        kw["steps"] = int(steps)
    config = Config(**kw)
    start = time.perf_counter()
    params, history = train(config, np.random.default_rng(seed))
    out = dict(history["final"])
    native = policy_selectivity(params, config.variant)
    positive = policy_selectivity(params, "positive")
    out.update(selectivity_native=float(np.mean(native["policy"])),
               sel_policy=positive["policy"], sel_best=positive["best"],
               selectivity_mean=float(np.mean(positive["policy"])))
    out.update(align=0.5 * (out["corr_x"] + out["corr_y"]), ceiling=selectivity_ceiling(params),
               params=params, history=history, seconds=time.perf_counter() - start)
    return out


def run_arm(arm: str | dict, seeds, steps: int | None = None, verbose: bool = False) -> list:
    r"""Run one arm of Section 3's experiment over several seeds.

    Parameters
    ----------
    arm : str or dict
        A name in `ARMS` or a dict of overrides of
        [`Config`][reference.controllable_features.model.Config].
    seeds : iterable of int
        One independent run per seed, each passed to
        [`run_seed`][reference.controllable_features.experiments.run_seed].
    steps : int or None
        Number of updates per run (``None``: the configuration's default).
    verbose : bool
        Print one line per seed.

    Returns
    -------
    list of dict
        One [`run_seed`][reference.controllable_features.experiments.run_seed] record per
        seed.
    """
    overrides = ARMS[arm] if isinstance(arm, str) else dict(arm)
    records = []
    for s in seeds:
        r = run_seed(int(s), steps, **overrides)
        records.append(r)
        if verbose:
            print(f"  {arm!s:<20} seed {s}: corr_x {r['corr_x']:.3f} corr_y {r['corr_y']:.3f} "
                  f"sel {r['selectivity_mean']:.3f} ({r['seconds']:.1f} s)", flush=True)
    return records


def summarise(records: list, prefix: str = "") -> dict:
    r"""Means, standard deviations and medians over seeds of one arm's Section 3 measures.

    Standard deviations use $n - 1$ (0 for a single seed).

    Parameters
    ----------
    records : list of dict
        [`run_seed`][reference.controllable_features.experiments.run_seed] records.
    prefix : str
        Put before every key.

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
    r"""Difference of mean alignment between two arms of Section 3's experiment, with its error.

    $$
    \Delta = \bar a - \bar b, \qquad \mathrm{se} = \sqrt{s_a^2 / n_a + s_b^2 / n_b}
    $$

    Parameters
    ----------
    a : list of dict
        [`run_seed`][reference.controllable_features.experiments.run_seed] records of the
        first arm (at least two).
    b : list of dict
        [`run_seed`][reference.controllable_features.experiments.run_seed] records of the
        second arm (at least two).

    Returns
    -------
    gap : float
        $\Delta$, the first arm's mean alignment minus the second's.
    se : float
        The standard error of $\Delta$ (Welch's, from the two sample variances).
    """
    xa = np.array([r["align"] for r in a])
    xb = np.array([r["align"] for r in b])
    se = np.sqrt(xa.var(ddof=1) / len(xa) + xb.var(ddof=1) / len(xb))
    return float(xa.mean() - xb.mean()), float(se)
