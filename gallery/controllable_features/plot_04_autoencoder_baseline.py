r"""
Baseline: a plain autoencoder
=============================

Does selectivity do anything that reconstruction alone would not? Setting $\lambda = 0$ in the
objective of [Bengio, Thomas et al. (2017)](https://arxiv.org/abs/1703.07718) leaves a plain
autoencoder with the same encoder, decoder, data and number of updates. Its features are free
to encode the agent's position in any way that reconstructs the image, so there is no reason
for them to line up with $x$ and $y$. We compare its alignment with the default setup's.

Two seeds each here, with the default setup's 3000 updates; the reproduce entry runs five seeds
of each and the docs page quotes it.
"""

# %%
# Train both
# ----------

import matplotlib.pyplot as plt
import numpy as np

from reference import controllable_features as cf
from reference.controllable_features import gap, run_arm, summarise

seeds = [0, 1]
arms = {"selectivity (λ > 0)": run_arm("default", seeds),
        "plain autoencoder (λ = 0)": run_arm("autoencoder", seeds)}
for name, records in arms.items():
    s = summarise(records)
    print(f"{name}: best |corr| x {s['corr_x_median']:.3f}, y {s['corr_y_median']:.3f} "
          f"(medians), alignment {s['align_mean']:.3f}, reconstruction {s['recon_mean']:.3f}")
g, se = gap(arms["selectivity (λ > 0)"], arms["plain autoencoder (λ = 0)"])
print(f"alignment gain over the autoencoder: {g:+.3f} ± {se:.3f} (se)")

# %%
# The autoencoder's features over the grid
# ----------------------------------------
# Compare with the ramps of the first example: reconstruction alone spreads position over the
# features in whatever way the decoder finds convenient.

params = arms["plain autoencoder (λ = 0)"][0]["params"]
F = cf.feature_grid(params)
K = F.shape[-1]
fig, axes = plt.subplots(1, K, figsize=(2.6 * K, 2.8))
for k, ax in enumerate(np.atleast_1d(axes)):
    im = ax.imshow(F[:, :, k], cmap="coolwarm")
    ax.set_title(f"AE feature {k}")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    fig.colorbar(im, ax=ax, fraction=0.046)
fig.tight_layout()

# %%
# Alignment side by side
# ----------------------
# Best absolute correlation with $x$ and with $y$, per seed.

fig, ax = plt.subplots(figsize=(5, 3))
for i, (name, records) in enumerate(arms.items()):
    for j, key in enumerate(["corr_x", "corr_y"]):
        v = [r[key] for r in records]
        ax.plot(np.full(len(v), 2 * i + j), v, "o", color=f"C{i}")
ax.set_xticks(range(4), ["x", "y", "x", "y"])
ax.set_ylim(0, 1.05)
ax.set_ylabel("best |correlation|")
ax.set_title("left: selectivity, right: plain autoencoder", fontsize=9)
fig.tight_layout()
