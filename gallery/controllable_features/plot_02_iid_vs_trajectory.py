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
sum over actions, $\lambda = 100$). This page runs two seeds per arm with half the updates of
the default setup to stay near a minute, so its features are less aligned than after the full
3000 updates; the reproduce entry (`python -m reference.reproduce controllable_features`) runs
five seeds of the full setup, and the docs page quotes it.
"""

# %%
# Run the three arms
# ------------------
# `run_arm` and `summarise` come from the package's experiments, which the reproduce command
# also runs, so this page and the results table run the same code. Alignment is the mean of
# the best absolute correlations with $x$ and $y$.

import matplotlib.pyplot as plt
import numpy as np

from reference.controllable_features import GALLERY_STEPS, gap, run_arm, summarise

seeds = [0, 1]
arms = {name: run_arm(name, seeds, GALLERY_STEPS) for name in ["default", "trajectory", "replay"]}
labels = {"default": "iid", "trajectory": "trajectory", "replay": "replay"}

for name, records in arms.items():
    s = summarise(records)
    print(f"{labels[name]:<10}: alignment {s['align_mean']:.3f} ± {s['align_std']:.3f} (sd), "
          f"selectivity {s['selectivity_mean']:.3f} ± {s['selectivity_std']:.3f}, "
          f"seeds aligned {s['seeds_aligned']}/{len(seeds)}")

# %%
# Per-seed results
# ----------------
# Each dot is one seed; the bar is the mean over seeds.

fig, axes = plt.subplots(1, 2, figsize=(8, 3))
for ax, key, title in zip(axes, ["align", "selectivity_mean"],
                          ["alignment with (x, y)", "mean policy selectivity"]):
    for i, (name, records) in enumerate(arms.items()):
        v = np.array([r[key] for r in records])
        ax.bar(i, v.mean(), 0.6, alpha=0.4)
        ax.plot(np.full(len(v), i), v, "ko", ms=4)
    ax.set_xticks(range(3), [labels[n] for n in arms])
    ax.set_ylim(0, 1.05)
    ax.set_title(title)
fig.tight_layout()

# %%
# Is there a difference?
# ----------------------
# The difference of mean alignment between arms, with its standard error
# $\sqrt{s_a^2/n_a + s_b^2/n_b}$. A difference within about two standard errors is not a
# detectable effect at this number of seeds.

for other in ["trajectory", "replay"]:
    g, se = gap(arms["default"], arms[other])
    verdict = "no detectable difference" if abs(g) < 2 * se else "a detectable difference"
    print(f"iid minus {other}: {g:+.3f} ± {se:.3f} (se) -> {verdict}")
