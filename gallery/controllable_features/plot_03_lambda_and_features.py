r"""
Sensitivity to λ, to the number of features, and to the form of selectivity
===========================================================================

Three knobs of [Bengio, Thomas et al. (2017)](https://arxiv.org/abs/1703.07718) that the paper
does not explore on its grid world:

- $\lambda$, the weight of selectivity against reconstruction (default 100);
- $K$, the number of features, against the world's two true factors ($x$ and $y$): with
  $K = 2$ the directed form cannot hold a $\pm$ pair per coordinate, with $K = 8$ there are
  more features than independently controllable directions (four);
- the form of the objective: the absolute-value selectivity of the paper's Eq. (1), the
  directed form (default), and the log of selectivity inside the objective.

Each setting changes one knob of the package's default setup and is trained on one seed with
half the default number of updates, to keep the page near a minute: read it as "which
settings learn fast", not as a final verdict.
`python -m reference.reproduce controllable_features` runs five seeds of each setting at the
same number of updates (and also the $\log(1 + \cdot)$, "positive" and absolute value + log
forms, and action noise); the docs page quotes it.
"""

# %%
# Run the grid of settings
# ------------------------
# Each arm is a set of overrides of `Config` (see `ARMS` in the package's experiments).

import matplotlib.pyplot as plt
import numpy as np

from reference import controllable_features as cf
from reference.controllable_features import GALLERY_STEPS, run_arm

groups = {
    "λ": ["lam_low", "default", "lam_high"],
    "K": ["k2", "default", "k8"],
    "form": ["abs", "default", "log"],
}
lam = cf.Config().lam
names = {"default": "default", "lam_low": f"λ={lam / 10:g}", "lam_high": f"λ={lam * 10:g}",
         "k2": "K=2", "k8": "K=8", "abs": "abs", "log": "log"}
results = {}
for arms in groups.values():
    for arm in arms:
        if arm not in results:
            results[arm] = r = run_arm(arm, [0], GALLERY_STEPS)[0]
            print(f"{names[arm]:<8}: best |corr| x {r['corr_x']:.3f}, y {r['corr_y']:.3f}, "
                  f"selectivity {r['selectivity_mean']:.3f} ({r['seconds']:.0f} s)")

# %%
# Alignment and selectivity per setting
# -------------------------------------
# Top: the best absolute correlation of a feature with $x$ and with $y$. Bottom: the
# policies' mean expected selectivity, always measured with the bounded "positive" form so
# that the settings compare.

fig, axes = plt.subplots(2, 3, figsize=(10, 5), sharey="row")
for col, (title, arms) in enumerate(groups.items()):
    i = np.arange(len(arms))
    ax = axes[0, col]
    ax.bar(i - 0.2, [results[a]["corr_x"] for a in arms], 0.4, label="x")
    ax.bar(i + 0.2, [results[a]["corr_y"] for a in arms], 0.4, label="y")
    ax.set_title(title)
    ax = axes[1, col]
    ax.bar(i, [results[a]["selectivity_mean"] for a in arms], 0.5, color="C2")
    for row in range(2):
        axes[row, col].set_xticks(i, [names[a] for a in arms], fontsize=8)
        axes[row, col].set_ylim(0, 1.05)
axes[0, 0].set_ylabel("best |correlation|")
axes[1, 0].set_ylabel("selectivity")
axes[0, 0].legend(fontsize=8)
fig.tight_layout()

# %%
# What the K = 2 and K = 8 features look like
# -------------------------------------------
# With two features the directed form rewards a policy for raising its feature and does not
# mind lowering the other, so nothing pins the features to the axes; with eight, several
# features must share the four moves.

fig, axes = plt.subplots(2, 8, figsize=(16, 4.4))
for row, arm in enumerate(["k2", "k8"]):
    F = cf.feature_grid(results[arm]["params"])
    for k in range(8):
        ax = axes[row, k]
        ax.set_xticks([])
        ax.set_yticks([])
        if k < F.shape[-1]:
            ax.imshow(F[:, :, k], cmap="coolwarm")
            ax.set_title(f"{names[arm]}: f{k}", fontsize=9)
        else:
            ax.axis("off")
fig.tight_layout()
