r"""
Do the features become the agent's coordinates?
===============================================

The main claim of [Bengio, Thomas et al. (2017)](https://arxiv.org/abs/1703.07718) on their grid
world: training an autoencoder together with one policy per feature, rewarded by selectivity,
makes each feature follow something the agent can change on its own, here the agent's $x$ or
$y$ position.

We train two setups of `reference.controllable_features` on the same seed, each for the full
3000 updates:

- **default**: the package's defaults, an ablation that departs from the paper in two ways:
  each policy is one learned distribution over the four moves, the same in every state (which
  builds in one move per feature), and the gradient of the expected selectivity is the exact
  sum over the four actions;
- **paper**: Algorithm 1 as written: policies $\pi_k(a \mid s)$ that see the state, one
  sampled action per feature and REINFORCE with a baseline.

Both use $K = 4$ features, the directed selectivity and $\lambda = 100$. One seed each keeps the
page near a minute; `python -m reference.reproduce controllable_features` runs five seeds of
each, and also the `authors` arm, which follows the authors' released code (state-dependent
policies on the encoder's hidden layer, 10,000 updates: too long for this page); the docs page
quotes that run.
"""

# %%
# Train
# -----
# `run_seed` (from the package's experiments, shared with the other examples and the reproduce
# command) trains one model from `np.random.default_rng(seed)` and measures it on all 121
# agent positions.

import matplotlib.pyplot as plt
import numpy as np

from reference import controllable_features as cf
from reference.controllable_features import ARMS, run_seed

runs = {name: run_seed(0, **ARMS[name]) for name in ["default", "paper"]}
for name, r in runs.items():
    print(f"{name:<8}: best |corr| with x = {r['corr_x']:.3f}, with y = {r['corr_y']:.3f}, "
          f"aligned (both >= 0.9): {r['aligned']}, mean selectivity "
          f"{r['selectivity_mean']:.3f} ({r['seconds']:.0f} s)")
K = runs["default"]["corr"].shape[0]

# %%
# The features over the grid
# --------------------------
# Each panel shows one feature $f_k(s)$ with the agent at each of the $11 \times 11$ positions
# (row = $y$, column = $x$). A feature that tracks $x$ is a left-to-right ramp; one that tracks
# $y$ is a top-to-bottom ramp. With the directed form a $\pm$ pair (one feature rising to the
# right, another to the left) is as good as a single feature per coordinate. Top row: default
# setup; bottom row: the paper's Algorithm 1.

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
