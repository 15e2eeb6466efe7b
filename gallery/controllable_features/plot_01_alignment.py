r"""
Do the features become the agent's coordinates?
===============================================

The main claim of [Bengio, Thomas et al. (2017)](https://arxiv.org/abs/1703.07718) on their grid
world: training an autoencoder together with one policy per feature, rewarded by selectivity,
makes each feature follow something the agent can change on its own, here the agent's $x$ or
$y$ position. We train the default setup of `reference.controllable_features` (four features,
the authors' directed selectivity, REINFORCE, i.i.d. states) and look at what it learned.

This page trains fewer seeds than `python -m reference.reproduce controllable_features` (which
runs five seeds of every arm) so that it finishes in about a minute; the docs page's results
table quotes the full run.
"""

# %%
# Train
# -----
# `run_seed` (from the reproduce entry, shared with the other examples) trains one model from
# `np.random.default_rng(seed)` and measures it on all 121 agent positions.

import matplotlib.pyplot as plt
import numpy as np

from reference import controllable_features as cf
from reference.reproduce.controllable_features import run_arm

records = run_arm("default", seeds=[0, 1], verbose=True)
best = max(records, key=lambda r: r["align"])
params = best["params"]
K = best["corr"].shape[0]

# %%
# The features over the grid
# --------------------------
# Each panel shows one feature $f_k(s)$ with the agent at each of the $11 \times 11$ positions
# (row = $y$, column = $x$). A feature that tracks $x$ is a left-to-right ramp; one that tracks
# $y$ is a top-to-bottom ramp. With the directed form a $\pm$ pair (one feature rising to the
# right, another to the left) is as good as a single feature per coordinate.

F = cf.feature_grid(params)
fig, axes = plt.subplots(1, K, figsize=(2.6 * K, 2.8))
for k, ax in enumerate(np.atleast_1d(axes)):
    im = ax.imshow(F[:, :, k], cmap="coolwarm")
    ax.set_title(f"feature {k}")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    fig.colorbar(im, ax=ax, fraction=0.046)
fig.tight_layout()

# %%
# Correlation with the true coordinates
# -------------------------------------
# The absolute Pearson correlation $|\rho(f_k, c)|$ of each feature with $x$ and $y$, and the
# correlation ratio $\eta$ (1 when the feature is any function of that coordinate alone).
# Ideally each row has one entry near 1: a permutation, counting a $\pm$ pair as one factor.

fig, axes = plt.subplots(1, 2, figsize=(6.5, 0.6 * K + 1.6))
for ax, key, title in zip(axes, ["corr", "eta"], ["|correlation|", "correlation ratio"]):
    ax.imshow(best[key], vmin=0, vmax=1, cmap="viridis")
    for k in range(K):
        for j in range(2):
            ax.text(j, k, f"{best[key][k, j]:.2f}", ha="center", va="center", color="w")
    ax.set_xticks([0, 1], ["x", "y"])
    ax.set_yticks(range(K), [f"f{k}" for k in range(K)])
    ax.set_title(title)
fig.tight_layout()

for i, r in enumerate(records):
    print(f"seed {i}: best |corr| with x = {r['corr_x']:.3f}, with y = {r['corr_y']:.3f}, "
          f"aligned (both >= 0.9): {r['aligned']}")

# %%
# Which way does each policy move?
# --------------------------------
# An arrow per state in the direction of the most likely action of $\pi_k(\cdot \mid s)$.
# A policy that controls "$x$ increases" should point right everywhere.

pos = cf.all_positions()
log_pi = cf.policy_log_probs(params, cf.render(pos))                  # (121, K, 4)
a_star = np.argmax(log_pi, axis=-1)                                   # (121, K)
fig, axes = plt.subplots(1, K, figsize=(2.6 * K, 2.8))
for k, ax in enumerate(np.atleast_1d(axes)):
    d = cf.MOVES[a_star[:, k]]                                        # (row, col) steps
    ax.quiver(pos[:, 1], pos[:, 0], d[:, 1], -d[:, 0], angles="xy", scale_units="xy",
              scale=1.4, width=0.012)
    ax.set_xlim(-1, cf.N_POS)
    ax.set_ylim(cf.N_POS, -1)
    ax.set_aspect("equal")
    ax.set_title(f"policy {k}")
fig.tight_layout()
for k in range(K):
    share = ", ".join(f"{a} {v:.2f}" for a, v in zip(cf.ACTIONS, best["directions"][k]))
    print(f"policy {k}: fraction of states preferring {share}")

# %%
# Selectivity against its ceiling
# -------------------------------
# A move into a wall changes nothing, and selectivity is 0 there, so a policy cannot score 1
# in every state. The ceiling of policy $k$ is the fraction of states in which its preferred
# action is not blocked; a policy that always moves one way has ceiling $110/121 \approx 0.909$.
# The bars show the policy's expected selectivity $\sum_a \pi_k(a \mid s)\,\mathrm{sel}$ averaged
# over states, the best single action's, and the ceiling.

x = np.arange(K)
fig, ax = plt.subplots(figsize=(5, 3))
ax.bar(x - 0.25, best["sel_policy"], 0.25, label="policy")
ax.bar(x, best["sel_best"], 0.25, label="best action")
ax.bar(x + 0.25, best["ceiling"], 0.25, label="ceiling (walls)")
ax.set_xticks(x, [f"f{k}" for k in range(K)])
ax.set_ylim(0, 1.05)
ax.set_ylabel("mean selectivity")
ax.legend(loc="lower right", fontsize=8)
fig.tight_layout()
for k in range(K):
    print(f"feature {k}: policy selectivity {best['sel_policy'][k]:.3f}, "
          f"ceiling {best['ceiling'][k]:.3f}")
