r"""
Sensitivity to λ, to the number of features, and to the form of selectivity
===========================================================================

Three knobs of [Bengio, Thomas et al. (2017)](https://arxiv.org/abs/1703.07718) that the paper
does not explore on its grid world:

- $\lambda$, the weight of selectivity against reconstruction (default 100);
- $K$, the number of features, against the world's two true factors ($x$ and $y$): with
  $K = 2$ the directed form cannot hold a $\pm$ pair per coordinate, with $K = 8$ there are
  more features than independently controllable directions (four);
- the form of the objective: the absolute-value selectivity of the paper's Eq. (1), alone and
  with a log, the directed form (default), the bounded "positive" form, and the log or
  $\log(1 + \cdot)$ of the directed selectivity inside the objective.

Each setting changes one knob of the package's default setup and is trained with half the
default number of updates. The comparison of all settings, five seeds each, is read from the
results file of `python -m reference.reproduce controllable_features`, which trains them at the
same number of updates; this page trains seed 0 of $K = 2$, $K = 4$ (the default) and $K = 8$
to show what their features look like.
"""

# %%
# Every setting, from the reproduce run
# -------------------------------------
# Each arm is a set of overrides of `Config` (see `ARMS` in the package's experiments). These
# numbers are not trained on this page: they are read from
# `docs/results/controllable_features.json` (five seeds per arm; mean ± standard deviation).
# Its arm `short` is the default setup at the sensitivity arms' length. Alignment is the mean
# of the best absolute correlations of a feature with $x$ and with $y$; selectivity is the
# policies' mean expected selectivity, always measured with the bounded "positive" form so
# that the settings compare.

import tempfile
from functools import partial
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from reference import controllable_features as cf
from reference import nn
from reference.controllable_features import ARMS, GALLERY_STEPS, run_seed
from reference.testing import cached_runs, results_record, source_key

groups = {
    "λ": ["lam_low", "short", "lam_high"],
    "K": ["k2", "short", "k8"],
    "form": ["abs", "abs_log", "short", "positive", "log", "log1p"],
}
lam = cf.Config().lam
names = {"short": "default", "lam_low": f"λ={lam / 10:g}", "lam_high": f"λ={lam * 10:g}",
         "k2": "K=2", "k8": "K=8", "abs": "abs", "abs_log": "abs+log", "positive": "positive",
         "log": "log", "log1p": "log1p"}
record = results_record("controllable_features")
m = record["metrics"]
print(f"results file: {record['command']} at commit {record['commit'][:10]}, "
      f"{record['date'][:10]}; {m['short_steps']} updates per run (this page: {GALLERY_STEPS})")
for arm in names:
    print(f"{names[arm]:<8}: alignment {m[f'{arm}_align_mean']:.3f} ± "
          f"{m[f'{arm}_align_std']:.3f}, medians of the best |corr| x "
          f"{m[f'{arm}_corr_x_median']:.3f}, y {m[f'{arm}_corr_y_median']:.3f}, selectivity "
          f"{m[f'{arm}_selectivity_mean']:.3f}, seeds aligned {m[f'{arm}_seeds_aligned']}/"
          f"{m[f'{arm}_n_seeds']}")

# %%
# Train K = 2, 4 and 8 on seed 0
# ------------------------------
# `run_seed` (shared with the reproduce command) trains one model from
# `np.random.default_rng(0)`, with `GALLERY_STEPS` updates. `cached_runs` keeps each result in
# a file named by the arm, the number of updates, the seed and a hash of the code
# (`source_key`); the default model was trained by the first example, and is read back when
# that file is there.

CACHE = Path(tempfile.gettempdir()) / "controllable_features_gallery"
TAG = f"seed0_{source_key(cf)}{source_key(nn)}"                      # the seed and the code
arms = ["k2", "k8", "default"]
live = cached_runs({f"{arm}_{GALLERY_STEPS}": partial(run_seed, 0, GALLERY_STEPS, **ARMS[arm])
                    for arm in arms}, CACHE, TAG)
# the default at this length is the results file's arm `short`
live = dict(zip(["k2", "k8", "short"], live.values()))
for arm, r in live.items():
    print(f"{names[arm]:<8}: alignment {r['align']:.3f}, best |corr| x {r['corr_x']:.3f}, "
          f"y {r['corr_y']:.3f}, selectivity {r['selectivity_mean']:.3f} (seed 0, this page)")

# %%
# Alignment and selectivity per setting
# -------------------------------------
# Bars: the reproduce run's mean over five seeds, with one standard deviation. Dots: the
# seed 0 models trained above.

fig, axes = plt.subplots(2, 3, figsize=(11, 5), sharey="row",
                         gridspec_kw={"width_ratios": [3, 3, 6]})
for col, (title, arms) in enumerate(groups.items()):
    i = np.arange(len(arms))
    for row, (key, live_key) in enumerate([("align", "align"),
                                           ("selectivity", "selectivity_mean")]):
        ax = axes[row, col]
        ax.bar(i, [m[f"{a}_{key}_mean"] for a in arms], 0.6, color=f"C{row}", alpha=0.6,
               yerr=[m[f"{a}_{key}_std"] for a in arms], capsize=3)
        for j, a in enumerate(arms):
            if a in live:
                ax.plot(j, live[a][live_key], "ko", ms=4)
        ax.set_xticks(i, [names[a] for a in arms], fontsize=8)
        ax.set_ylim(0, 1.05)
    axes[0, col].set_title(title)
axes[0, 0].set_ylabel("alignment")
axes[1, 0].set_ylabel("selectivity")
fig.tight_layout()

# %%
# What the K = 2, 4 and 8 features look like
# ------------------------------------------
# With two features the directed form rewards a policy for raising its feature and does not
# mind lowering the other, so nothing pins the features to the axes; with four, each
# coordinate can get a $\pm$ pair; with eight, several features must share the four moves.

fig, axes = plt.subplots(3, 8, figsize=(16, 6.4))
for row, arm in enumerate(["k2", "short", "k8"]):
    F = cf.feature_grid(live[arm]["params"])
    for k in range(8):
        ax = axes[row, k]
        ax.set_xticks([])
        ax.set_yticks([])
        if k < F.shape[-1]:
            ax.imshow(F[:, :, k], cmap="coolwarm")
            ax.set_title(f"{names[arm].replace('default', 'K=4')}: f{k}", fontsize=9)
        else:
            ax.axis("off")
fig.tight_layout()
