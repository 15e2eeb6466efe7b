r"""
Baseline: a plain autoencoder
=============================

Does selectivity do anything that reconstruction alone would not? Setting $\lambda = 0$ in the
objective of [Bengio, Thomas et al. (2017)](https://arxiv.org/abs/1703.07718) leaves a plain
autoencoder with the same encoder, decoder, data and number of updates. Its features are free
to encode the agent's position in any way that reconstructs the image, so there is no reason
for them to line up with $x$ and $y$. We compare its alignment with the default setup's.

This page trains seed 0 of each with half the default number of updates (`GALLERY_STEPS` =
1500; the default model is the one the first example trained, read back from its cache when it
is there) to show their features. The comparison over five seeds of each, at the full 3000
updates, is read from the results file of `python -m reference.reproduce controllable_features`.
"""

# %%
# Train both on seed 0
# --------------------
# `run_seed` (shared with the reproduce command) trains one model from
# `np.random.default_rng(0)`. `cached_runs` keeps each result in a file named by the arm, the
# number of updates, the seed and a hash of the code (`source_key`), and trains only the ones
# whose file is missing.

import tempfile
from functools import partial
from pathlib import Path

import matplotlib.pyplot as plt

from reference import controllable_features as cf
from reference import nn
from reference.controllable_features import ARMS, GALLERY_STEPS, run_seed
from reference.testing import cached_runs, results_record, source_key

CACHE = Path(tempfile.gettempdir()) / "controllable_features_gallery"
TAG = f"seed0_{source_key(cf)}{source_key(nn)}"                      # the seed and the code
arms = ["default", "autoencoder"]
live = cached_runs({f"{arm}_{GALLERY_STEPS}": partial(run_seed, 0, GALLERY_STEPS, **ARMS[arm])
                    for arm in arms}, CACHE, TAG)
live = dict(zip(arms, live.values()))
labels = {"default": "selectivity (λ > 0)", "autoencoder": "plain autoencoder (λ = 0)"}
for arm, r in live.items():
    print(f"{labels[arm]}: best |corr| x {r['corr_x']:.3f}, y {r['corr_y']:.3f}, alignment "
          f"{r['align']:.3f}, reconstruction {r['recon']:.3f} (seed 0, {GALLERY_STEPS} updates, "
          f"this page)")

# %%
# The features over the grid
# --------------------------
# Top: the plain autoencoder; bottom: the default setup, as in the first example
# (row = $y$, column = $x$). Reconstruction alone spreads position over the features in
# whatever way the decoder finds convenient; selectivity turns them into ramps along $x$ and
# $y$.

K = cf.feature_grid(live["autoencoder"]["params"]).shape[-1]
fig, axes = plt.subplots(2, K, figsize=(2.6 * K, 5.4))
for row, arm in enumerate(["autoencoder", "default"]):
    F = cf.feature_grid(live[arm]["params"])
    for k in range(K):
        ax = axes[row, k]
        im = ax.imshow(F[:, :, k], cmap="coolwarm")
        ax.set_title(f"{'AE' if arm == 'autoencoder' else 'selectivity'}: feature {k}",
                     fontsize=9)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        fig.colorbar(im, ax=ax, fraction=0.046)
fig.tight_layout()

# %%
# Five seeds, from the reproduce run
# ----------------------------------
# These numbers are not trained on this page: they are read from
# `docs/results/controllable_features.json`, written by
# `python -m reference.reproduce controllable_features` (five seeds per arm, 3000 updates).
# Bars: mean alignment over the seeds, with one standard deviation; dots: the seed 0 models
# above, with half as many updates (the reproduce run trains the autoencoder only at 3000).
# The gap is the package's `gap`, with its standard error
# $\sqrt{s_a^2/n_a + s_b^2/n_b}$.

record = results_record("controllable_features")
m = record["metrics"]
print(f"results file: {record['command']} at commit {record['commit'][:10]}, "
      f"{record['date'][:10]}; {m['steps']} updates")
for arm, name in labels.items():
    print(f"{name}: best |corr| x {m[f'{arm}_corr_x_median']:.3f}, "
          f"y {m[f'{arm}_corr_y_median']:.3f} (medians), alignment "
          f"{m[f'{arm}_align_mean']:.3f} ± {m[f'{arm}_align_std']:.3f} (sd), reconstruction "
          f"{m[f'{arm}_recon_mean']:.3f}, seeds aligned {m[f'{arm}_seeds_aligned']}/"
          f"{m[f'{arm}_n_seeds']}")
print(f"alignment gain over the autoencoder: {m['method_vs_autoencoder_gap']:+.3f} ± "
      f"{m['method_vs_autoencoder_gap_se']:.3f} (se)")

fig, ax = plt.subplots(figsize=(5, 3))
ax.bar(range(2), [m[f"{a}_align_mean"] for a in labels], 0.6, alpha=0.6,
       yerr=[m[f"{a}_align_std"] for a in labels], capsize=4, label="reproduce run")
ax.plot(range(2), [live[a]["align"] for a in labels], "ko", ms=5,
        label=f"seed 0, this page ({GALLERY_STEPS} updates)")
ax.set_xticks(range(2), list(labels.values()), fontsize=9)
ax.set_ylim(0, 1.05)
ax.set_ylabel("alignment with (x, y)")
ax.legend(fontsize=8, loc="upper right")
fig.tight_layout()
