r"""
Independent states or a stream of states?
=========================================

Algorithm 1 of [Bengio, Thomas et al. (2017)](https://arxiv.org/abs/1703.07718) draws every
training state independently, as if the agent could be reset anywhere before each action. An
agent living in the world instead sees one dependent stream of states. Does that matter?

We compare three ways to fill each update's batch, with the same number of transitions per
update (`StateSampler` in `reference.controllable_features`):

- **iid**: each state a fresh uniformly random position (Algorithm 1);
- **trajectory**: the next `batch` consecutive states of one random walk;
- **replay**: the same walk fills a buffer of its last states, and each batch is drawn
  uniformly from the buffer.

All three arms use the package's default setup otherwise (state-independent policies, the exact
sum over actions, $\lambda = 100$). The page first shows what each sampler puts into one
update, then trains seed 0 of the iid and trajectory arms with half the default updates to show
the training signal each gives. Whether the final features differ is a question for several
seeds at the full 3000 updates: that comparison, five seeds of all three arms, is read from the
results file of `python -m reference.reproduce controllable_features`.
"""

# %%
# What goes into one update
# -------------------------
# One batch of 64 states from each sampler, after 200 batches (so that the replay buffer is
# full), counted per position of the $11 \times 11$ grid. A trajectory batch is a short
# stretch of one walk: it covers few positions, in one region. The replay batch is spread
# over the positions the walk visited recently.

import tempfile
from functools import partial
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from reference import controllable_features as cf
from reference import nn
from reference.controllable_features import ARMS, GALLERY_STEPS, run_seed
from reference.testing import cached_runs, results_record, source_key

labels = {"default": "iid", "trajectory": "trajectory", "replay": "replay"}   # arm: sampling
fig, axes = plt.subplots(1, 3, figsize=(9, 3.2))
for ax, (arm, sampling) in zip(axes, labels.items()):
    rng, sampler = np.random.default_rng(0), cf.StateSampler(sampling, batch=64)
    distinct = []
    for _ in range(200):
        pos = sampler.sample(rng)                                     # (64, 2) (row, col)
        distinct.append(len(np.unique(pos[:, 0] * cf.N_POS + pos[:, 1])))
    counts = np.zeros((cf.N_POS, cf.N_POS))
    np.add.at(counts, (pos[:, 0], pos[:, 1]), 1)
    ax.imshow(counts, cmap="Greys")
    ax.set_title(f"{labels[arm]}: one batch", fontsize=10)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    print(f"{labels[arm]:<10}: {np.mean(distinct):.1f} distinct positions per batch of 64 "
          f"(mean of 200 batches; the grid has {cf.N_POS ** 2})")
fig.tight_layout()

# %%
# Train on i.i.d. states and on a trajectory
# ------------------------------------------
# `run_seed` (from the package's experiments, which the reproduce command also runs) trains
# one model from `np.random.default_rng(0)` and measures it on all 121 positions; here with
# `GALLERY_STEPS` updates, half the default. `cached_runs` keeps each result in a file named by
# the arm, the number of updates, the seed and a hash of the code (`source_key`): the iid arm is
# the default setup, whose model the first example trained, and is read back when that file is
# there. Alignment is the mean of the best absolute correlations with $x$ and $y$. One seed at
# half the updates says little about which arm ends up better aligned; the five seeds below
# answer that.

CACHE = Path(tempfile.gettempdir()) / "controllable_features_gallery"
TAG = f"seed0_{source_key(cf)}{source_key(nn)}"                      # the seed and the code
arms = ["default", "trajectory"]
live = cached_runs({f"{arm}_{GALLERY_STEPS}": partial(run_seed, 0, GALLERY_STEPS, **ARMS[arm])
                    for arm in arms}, CACHE, TAG)
live = dict(zip(arms, live.values()))
for arm, r in live.items():
    print(f"{labels[arm]:<10}: alignment {r['align']:.3f}, best |corr| x {r['corr_x']:.3f}, "
          f"y {r['corr_y']:.3f}, selectivity {r['selectivity_mean']:.3f} "
          f"({GALLERY_STEPS} updates, seed 0, trained on this page)")

# %%
# The training signal
# -------------------
# Left: the mean expected selectivity of the policies on each update's own batch, in the
# directed form they are trained with (light), and its running mean over 50 updates (dark).
# The trajectory's batch sits in one part of the grid, so its signal swings more from one
# update to the next. Right: the features of the two models at the end, as in the first
# example (row = $y$, column = $x$).

fig = plt.figure(figsize=(12, 4.2))
grid = fig.add_gridspec(2, 6, width_ratios=[2.2, 2.2, 1, 1, 1, 1])
ax = fig.add_subplot(grid[:, :2])
for i, (arm, r) in enumerate(live.items()):
    sel = r["history"]["sel"].mean(axis=1)                            # (steps,)
    smooth = np.convolve(sel, np.ones(50) / 50, mode="valid")
    ax.plot(sel, color=f"C{i}", alpha=0.25, lw=0.5)
    ax.plot(np.arange(49, len(sel)), smooth, color=f"C{i}", label=labels[arm])
ax.set_ylim(-0.3, 1)                                                  # the first updates dip lower
ax.set_xlabel("update")
ax.set_ylabel("mean selectivity on the batch")
ax.legend(fontsize=8)
for row, (arm, r) in enumerate(live.items()):
    F = cf.feature_grid(r["params"])
    for k in range(F.shape[-1]):
        a = fig.add_subplot(grid[row, 2 + k])
        a.imshow(F[:, :, k], cmap="coolwarm")
        a.set_title(f"{labels[arm]}: f{k}", fontsize=8)
        a.set_xticks([])
        a.set_yticks([])
fig.tight_layout()
for arm, r in live.items():
    sel = r["history"]["sel"].mean(axis=1)
    print(f"{labels[arm]:<10}: sd of the change of the batch selectivity from one update to "
          f"the next, last 500 updates: {np.std(np.diff(sel[-500:])):.3f}")

# %%
# Five seeds at the full length, from the reproduce run
# -----------------------------------------------------
# The numbers below are not trained on this page: they are read from
# `docs/results/controllable_features.json`, written by
# `python -m reference.reproduce controllable_features` (five seeds per arm, the default 3000
# updates). Bars: mean over seeds, with one standard deviation.

record = results_record("controllable_features")
m = record["metrics"]
print(f"results file: {record['command']} at commit {record['commit'][:10]}, "
      f"{record['date'][:10]}; {m['steps']} updates")
fig, axes = plt.subplots(1, 2, figsize=(8, 3))
for ax, key, title in zip(axes, ["align", "selectivity"],
                          ["alignment with (x, y)", "mean policy selectivity"]):
    ax.bar(range(3), [m[f"{a}_{key}_mean"] for a in labels], 0.6,
           yerr=[m[f"{a}_{key}_std"] for a in labels], capsize=4, alpha=0.6)
    ax.set_xticks(range(3), list(labels.values()))
    ax.set_ylim(0, 1.05)
    ax.set_title(f"{title}, {m['default_n_seeds']} seeds", fontsize=10)
fig.tight_layout()
for arm, name in labels.items():
    print(f"{name:<10}: alignment {m[f'{arm}_align_mean']:.3f} ± {m[f'{arm}_align_std']:.3f} "
          f"(sd), selectivity {m[f'{arm}_selectivity_mean']:.3f} ± "
          f"{m[f'{arm}_selectivity_std']:.3f}, seeds aligned {m[f'{arm}_seeds_aligned']}/"
          f"{m[f'{arm}_n_seeds']}")

# %%
# Is there a difference?
# ----------------------
# The difference of mean alignment between arms, with its standard error
# $\sqrt{s_a^2/n_a + s_b^2/n_b}$ (the package's `gap`, computed by the reproduce run). A
# difference within about two standard errors is not a detectable effect at five seeds.

for other in ["trajectory", "replay"]:
    g, se = m[f"iid_vs_{other}_gap"], m[f"iid_vs_{other}_gap_se"]
    verdict = "no detectable difference" if abs(g) < 2 * se else "a detectable difference"
    print(f"iid minus {other}: {g:+.3f} ± {se:.3f} (se) -> {verdict}")
