r"""
Do the features become the agent's coordinates?
===============================================

The main claim of [Bengio, Thomas et al. (2017)](https://arxiv.org/abs/1703.07718) on their grid
world: training an autoencoder together with one policy per feature, rewarded by selectivity,
makes each feature follow something the agent can change on its own, here the agent's $x$ or
$y$ position.

We train two setups of `reference.controllable_features` on the same seed:

- **default**: the package's defaults, an ablation that departs from the paper in two ways:
  each policy is one learned distribution over the four moves, the same in every state (which
  builds in one move per feature), and the gradient of the expected selectivity is the exact
  sum over the four actions;
- **paper**: Algorithm 1 as written: policies $\pi_k(a \mid s)$ that see the state, one
  sampled action per feature and REINFORCE with a baseline.

Both use $K = 4$ features, the directed selectivity and $\lambda = 100$. This page trains seed 0
of each for its pictures, with half the default number of updates (`GALLERY_STEPS` = 1500) to
stay well under a minute. The last section adds the five-seed numbers of
`python -m reference.reproduce controllable_features`, read from its results file: both arms at
their full 3000 updates, the default also at 1500, and the two `authors` arms, which follow the
authors' released code (state-dependent policies on the encoder's hidden layer, with the code's
one uniformly drawn action per state or with REINFORCE, 10,000 updates: too long to train on
this page).
"""

# %%
# Train
# -----
# `run_seed` (from the package's experiments, shared with the other examples and the reproduce
# command) trains one model from `np.random.default_rng(seed)` and measures it on all 121
# agent positions. `cached_runs` keeps each result in a file named by the arm, the number of
# updates, the seed and a hash of the code (`source_key`), so the next examples reuse the
# default model instead of training it again.

import tempfile
from functools import partial
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from reference import controllable_features as cf
from reference import nn
from reference.controllable_features import ARMS, GALLERY_STEPS, run_seed
from reference.testing import cached_runs, results_record, source_key

CACHE = Path(tempfile.gettempdir()) / "controllable_features_gallery"
TAG = f"seed0_{source_key(cf)}{source_key(nn)}"                      # the seed and the code
arms = ["default", "paper"]
live = cached_runs({f"{arm}_{GALLERY_STEPS}": partial(run_seed, 0, GALLERY_STEPS, **ARMS[arm])
                    for arm in arms}, CACHE, TAG)
runs = dict(zip(arms, live.values()))
for name, r in runs.items():
    print(f"{name:<8}: best |corr| with x = {r['corr_x']:.3f}, with y = {r['corr_y']:.3f}, "
          f"aligned (both >= 0.9): {r['aligned']}, mean selectivity "
          f"{r['selectivity_mean']:.3f} ({GALLERY_STEPS} updates, {r['seconds']:.0f} s)")
K = runs["default"]["corr"].shape[0]

# %%
# The features over the grid
# --------------------------
# Each panel shows one feature $f_k(s)$ with the agent at each of the $11 \times 11$ positions
# (row = $y$, column = $x$). A feature that tracks $x$ is a left-to-right ramp; one that tracks
# $y$ is a top-to-bottom ramp. With the directed form a $\pm$ pair (one feature rising to the
# right, another to the left) is as good as a single feature per coordinate. Top row: default
# setup; bottom row: the paper's Algorithm 1. After half the default updates the default's
# ramps can still have a kink or two; the last section shows how the five seeds of the full
# run end up.

fig, axes = plt.subplots(2, K, figsize=(2.6 * K, 5.4))
for row, (name, r) in enumerate(runs.items()):
    F = cf.feature_grid(r["params"])
    for k in range(K):
        ax = axes[row, k]
        im = ax.imshow(F[:, :, k], cmap="coolwarm")
        ax.set_title(f"{name}: feature {k}", fontsize=9)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        fig.colorbar(im, ax=ax, fraction=0.046)
fig.tight_layout()

# %%
# Correlation with the true coordinates
# -------------------------------------
# The absolute Pearson correlation $|\rho(f_k, c)|$ of each feature with $x$ and $y$.
# Ideally each row has one entry near 1: a permutation, counting a $\pm$ pair as one factor.
# The correlation ratio $\eta$ (1 when the feature is any function of that coordinate alone,
# monotone or not) is printed below.

fig, axes = plt.subplots(1, 2, figsize=(6.5, 0.6 * K + 1.6))
for ax, (name, r) in zip(axes, runs.items()):
    ax.imshow(r["corr"], vmin=0, vmax=1, cmap="viridis")
    for k in range(K):
        for j in range(2):
            ax.text(j, k, f"{r['corr'][k, j]:.2f}", ha="center", va="center", color="w")
    ax.set_xticks([0, 1], ["x", "y"])
    ax.set_yticks(range(K), [f"f{k}" for k in range(K)])
    ax.set_title(f"{name}: |correlation|", fontsize=10)
fig.tight_layout()
for name, r in runs.items():
    print(f"{name:<8}: best correlation ratio with x = {r['eta_x']:.3f}, "
          f"with y = {r['eta_y']:.3f}")

# %%
# Which way does each policy move?
# --------------------------------
# An arrow per state in the direction of the most likely action of $\pi_k(\cdot \mid s)$.
# A policy that controls "$x$ increases" should point right everywhere. The default setup's
# policies do not see the state, so each of its panels is one direction repeated.

pos = cf.all_positions()
fig, axes = plt.subplots(2, K, figsize=(2.6 * K, 5.4))
for row, (name, r) in enumerate(runs.items()):
    a_star = np.argmax(cf.policy_log_probs(r["params"], cf.render(pos)), axis=-1)   # (121, K)
    for k in range(K):
        ax = axes[row, k]
        d = cf.MOVES[a_star[:, k]]                                    # (row, col) steps
        ax.quiver(pos[:, 1], pos[:, 0], d[:, 1], -d[:, 0], angles="xy", scale_units="xy",
                  scale=1.4, width=0.012)
        ax.set_xlim(-1, cf.N_POS)
        ax.set_ylim(cf.N_POS, -1)
        ax.set_aspect("equal")
        ax.set_title(f"{name}: policy {k}", fontsize=9)
fig.tight_layout()
for name, r in runs.items():
    for k in range(K):
        share = ", ".join(f"{a} {v:.2f}" for a, v in zip(cf.ACTIONS, r["directions"][k]))
        print(f"{name:<8} policy {k}: fraction of states preferring {share}")

# %%
# Selectivity against its ceiling
# -------------------------------
# A move into a wall changes nothing, and selectivity is 0 there, so a policy cannot score 1
# in every state. The ceiling of policy $k$ is the fraction of states in which its preferred
# action is not blocked; a policy that always moves one way has ceiling $110/121 \approx 0.909$.
# The bars show the policy's expected selectivity $\sum_a \pi_k(a \mid s)\,\mathrm{sel}$ averaged
# over states (measured with the bounded "positive" form), the best single action's, and the
# ceiling. High selectivity alone does not mean aligned features: compare the two setups.

x = np.arange(K)
fig, axes = plt.subplots(1, 2, figsize=(9, 3), sharey=True)
for ax, (name, r) in zip(axes, runs.items()):
    ax.bar(x - 0.25, r["sel_policy"], 0.25, label="policy")
    ax.bar(x, r["sel_best"], 0.25, label="best action")
    ax.bar(x + 0.25, r["ceiling"], 0.25, label="ceiling (walls)")
    ax.set_xticks(x, [f"f{k}" for k in range(K)])
    ax.set_ylim(0, 1.05)
    ax.set_title(name)
axes[0].set_ylabel("mean selectivity")
axes[0].legend(loc="lower right", fontsize=8)
fig.tight_layout()
for name, r in runs.items():
    print(f"{name:<8}: " + ", ".join(
        f"f{k} {r['sel_policy'][k]:.3f}/{r['ceiling'][k]:.3f}" for k in range(K))
        + "  (policy selectivity / ceiling)")

# %%
# Five seeds, from the reproduce run
# ----------------------------------
# One seed shows the mechanism, not how often it works. The bars are the mean alignment (the
# mean of the best absolute correlations with $x$ and $y$) over the seeds of the full run
# `python -m reference.reproduce controllable_features`, read from its results file
# `docs/results/controllable_features.json`, with one standard deviation, at the number of
# updates under each bar. The dots are the seed 0 models trained above, at 1500 updates: the
# default's sits on the bar of the same length, the paper arm's on its 3000-update bar (the
# reproduce run does not train that arm at 1500). The `authors` arms are not trained on this
# page.

record = results_record("controllable_features")
m = record["metrics"]
print(f"results file: {record['command']} at commit {record['commit'][:10]}, "
      f"{record['date'][:10]}")
bars = {"short": "default", "default": "default", "paper": "paper", "authors": "authors",
        "authors_reinforce": "authors_reinforce"}                   # results-file arm: label
updates = {"short": m["short_steps"], "default": m["steps"], "paper": m["steps"],
           "authors": m["authors_steps"], "authors_reinforce": m["authors_steps"]}
dots = {"short": "default", "paper": "paper"}                       # bar: model trained above
fig, ax = plt.subplots(figsize=(7.5, 3.2))
ax.bar(range(len(bars)), [m[f"{a}_align_mean"] for a in bars], 0.6,
       yerr=[m[f"{a}_align_std"] for a in bars], capsize=4, alpha=0.5, label="reproduce run")
for i, a in enumerate(bars):
    if a in dots:
        ax.plot(i, runs[dots[a]]["align"], "ko", ms=5,
                label=f"seed 0, this page ({GALLERY_STEPS} updates)" if i == 0 else None)
    print(f"{bars[a]:<18} {updates[a]:>6} updates: alignment {m[f'{a}_align_mean']:.3f} ± "
          f"{m[f'{a}_align_std']:.3f} (sd), {m[f'{a}_seeds_aligned']} of {m[f'{a}_n_seeds']} "
          f"seeds aligned")
for name, r in runs.items():
    print(f"{name:<18} {GALLERY_STEPS:>6} updates: alignment {r['align']:.3f} (seed 0, this page)")
ax.set_xticks(range(len(bars)), [f"{bars[a]}\n{updates[a]} updates" for a in bars], fontsize=8)
ax.set_ylim(0, 1.05)
ax.set_ylabel("alignment with (x, y)")
ax.legend(fontsize=8, loc="lower left")
fig.tight_layout()
