r"""Reproduce the grid-world experiments of Bengio, Thomas et al. (2017), arXiv:1703.07718.

``python -m reference.reproduce controllable_features [--quick] [--seed N]`` trains the model of
`reference.controllable_features` for each arm of its `ARMS` (see
`reference/controllable_features/experiments.py`), on five seeds (``seed .. seed + 4``), except
the two one-departure-at-a-time arms (`THREE_SEEDS_ARMS`), on three, to keep the run short:

- ``default``: the package's default ``Config`` ($\lambda = 100$, directed selectivity, the
  exact sum over actions, state-independent policies, i.i.d. states, 3000 updates of 64 states);
  an ablation that builds in one move per feature;
- ``authors``: the authors' released code as closely as dense layers allow (state-dependent
  policies on the encoder's hidden layer, tanh features, $K = 6$, $\lambda = 30$, Adam 5e-4,
  one uniform action per state scored without REINFORCE, 10,000 updates);
  ``authors_reinforce``: the same with Algorithm 1's REINFORCE;
- ``paper``: Algorithm 1 as written on our default network: policies $\pi_k(a \mid s)$ that
  see the state, one sampled action per feature and REINFORCE (same $\lambda$ and updates);
- ``exact_state`` and ``reinforce_stateless``: one of the two departures at a time;
- ``trajectory`` and ``replay``: states taken along one random walk, consecutively or from a
  replay buffer over it, with the same number of transitions per update (reader question 2);
- the sensitivity arms, at ``SHORT_STEPS`` = 1500 updates to fit the run into about 15
  minutes: ``short`` (the default at that length), ``lam_low``, ``lam_high`` ($\lambda$
  divided and multiplied by 10), ``k2`` and ``k8`` (2 and 8 features, reader question 3),
  ``abs``, ``positive``, ``log``, ``log1p``, ``abs_log`` (the other forms of the objective)
  and ``noise`` (action noise 0.1);
- ``autoencoder``: $\lambda = 0$, the plain autoencoder baseline.

Runs are spread over `WORKERS` processes, longest first; every run has its own
``np.random.default_rng(seed)``, so the numbers do not depend on the number of processes. This
module only runs the arms and collects the metrics; the experiment code (`run_seed`,
`summarise`, `gap`) lives in the paper package, where the gallery examples use it too.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from ..controllable_features import ARMS, Config, gap, run_seed, summarise

__all__ = ["FULL_SEEDS_ARMS", "THREE_SEEDS_ARMS", "QUICK_STEPS", "WORKERS", "run", "TABLE"]

#: Arms run on three seeds (to fit the run into about 15 minutes on 2 cores).
THREE_SEEDS_ARMS = ("exact_state", "reinforce_stateless")
#: Arms run on five seeds: all the others.
FULL_SEEDS_ARMS = tuple(name for name in ARMS if name not in THREE_SEEDS_ARMS)

#: Number of updates per run with ``--quick``.
QUICK_STEPS = 300
#: Worker processes of `run` (at most the number of CPUs).
WORKERS = max(1, min(2, os.cpu_count() or 1))


def _job(args):
    arm, seed, steps = args
    return run_seed(seed, steps, **ARMS[arm])


def _report(arm, seed, r):
    print(f"  {arm!s:<20} seed {seed}: corr_x {r['corr_x']:.3f} corr_y {r['corr_y']:.3f} "
          f"sel {r['selectivity_mean']:.3f} ({r['seconds']:.1f} s)", flush=True)


def run(quick: bool = False, seed: int = 0) -> dict:
    """Run every arm (see the module doc) and return the flat metrics dict."""
    steps = QUICK_STEPS if quick else None
    jobs = [(name, s, steps) for name in ARMS
            for s in range(seed, seed + (5 if name in FULL_SEEDS_ARMS else 3))]
    # longest runs first, so that no long run is left alone at the end
    jobs.sort(key=lambda job: -Config(**ARMS[job[0]]).steps)
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
    a = summarise(arms["authors"])
    out = {
        "authors_corr_x": a["corr_x_median"],
        "authors_corr_y": a["corr_y_median"],
        "authors_seeds_aligned": a["seeds_aligned"],
        "authors_reinforce_seeds_aligned": summarise(arms["authors_reinforce"])["seeds_aligned"],
        "abs_log_corr": summarise(arms["abs_log"])["align_mean"],
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
    g, se = gap(arms["authors"], arms["authors_reinforce"])
    out.update(authors_vs_reinforce_gap=g, authors_vs_reinforce_gap_se=se)
    for name, records in arms.items():
        out.update(summarise(records, prefix=f"{name}_"))
    out["steps"] = int(Config(**({"steps": steps} if steps else {})).steps)
    out["short_steps"] = int(steps or Config(**ARMS["short"]).steps)
    out["authors_steps"] = int(steps or Config(**ARMS["authors"]).steps)
    out["lam"] = float(Config().lam)
    out["workers"] = WORKERS
    out["runs"] = len(jobs)
    out["seconds_per_run"] = float(np.mean([r["seconds"] for rs in arms.values() for r in rs]))
    return out


TABLE = [
    ("authors_corr_x", "best |corr| with x, the authors' code's method (state-dependent "
     "policies, median of 5 seeds)", "features track x (figure only)"),
    ("authors_corr_y", "best |corr| with y, the authors' code's method (median of 5 seeds)",
     "features track y (figure only)"),
    ("authors_seeds_aligned", "seeds (of 5) with both best |corr| >= 0.9, the authors' code's "
     "method", "—"),
    ("authors_reinforce_seeds_aligned", "seeds (of 5) aligned, the same with REINFORCE", "—"),
    ("paper_corr_x", "best |corr| with x, Algorithm 1 as written on our default network "
     "(median of 5 seeds)", "—"),
    ("paper_corr_y", "best |corr| with y, Algorithm 1 as written on our default network "
     "(median of 5 seeds)", "—"),
    ("paper_seeds_aligned", "seeds (of 5) aligned, Algorithm 1 as written on our default "
     "network", "—"),
    ("corr_x", "ablation, state-independent policies (builds in one move per feature): "
     "best |corr| with x (median of 5 seeds)", "—"),
    ("corr_y", "ablation, state-independent policies: best |corr| with y (median of 5 seeds)",
     "—"),
    ("seeds_aligned", "ablation, state-independent policies: seeds (of 5) aligned", "—"),
    ("selectivity_mean", "mean selectivity of the policies, the ablation", "—"),
    ("selectivity_ceiling", "ceiling set by the walls (unblocked fraction)", "—"),
    ("paper_selectivity_mean", "mean selectivity of the policies, Algorithm 1 as written", "—"),
    ("autoencoder_align_mean", "plain autoencoder (λ = 0): mean alignment", "—"),
    ("iid_vs_trajectory_gap", "alignment, i.i.d. minus trajectory states", "—"),
    ("iid_vs_trajectory_gap_se", "standard error of that gap", "—"),
    ("iid_vs_replay_gap", "alignment, i.i.d. minus replay-buffer states", "—"),
    ("exact_state_align_mean", "exact sum, state-dependent policies on our default network: "
     "mean alignment (3 seeds)", "—"),
    ("reinforce_stateless_align_mean",
     "REINFORCE, state-independent policies: mean alignment (3 seeds)", "—"),
    ("short_align_mean", "the ablation at 1500 updates, the sensitivity arms' length: mean "
     "alignment (5 seeds)", "—"),
    ("k2_align_mean", "K = 2 features: mean alignment (5 seeds, 1500 updates)", "—"),
    ("k8_align_mean", "K = 8 features: mean alignment (5 seeds, 1500 updates)", "—"),
    ("abs_align_mean", "absolute-value selectivity: mean alignment (5 seeds, 1500 updates)", "—"),
    ("abs_selectivity_native_mean",
     "absolute-value selectivity: its own mean selectivity (5 seeds, 1500 updates)", "—"),
    ("log_align_mean",
     "log of selectivity in the objective: mean alignment (5 seeds, 1500 updates)", "—"),
    ("abs_log_corr", "absolute value and log together (arXiv v1's form): mean alignment "
     "(5 seeds, 1500 updates)", "—"),
    ("noise_align_mean", "action noise 0.1: mean alignment (5 seeds, 1500 updates)", "—"),
]
