r"""
Summarising a point set
=======================

Section 5.2 of the paper treats a digit as a set of 2-D points and summarises it by a few of
its own points: starting from the whole set, it greedily removes the point whose removal keeps
$\mathrm{KL}(q(c \mid D) \,\|\, q(c \mid S))$ smallest. This is a use of a trained statistic
network, not learning: the question is which points it keeps and whether they look like a
sketch of the digit.

The point sets come from scikit-learn's 8x8 digits (upsampled, 50 points drawn from the ink).
A small model trains for 250 steps; its parameters are cached for the ablation example.
"""

# %%
# Train on point sets
# -------------------
import pickle
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import reference.neural_statistician as ns
from reference.testing import source_key

cache = Path(tempfile.gettempdir()) / "neural_statistician_gallery"
cache.mkdir(exist_ok=True)
path = cache / f"spatial_plain_250_{source_key(ns)}.pkl"   # keyed by the code
if path.exists():
    result = pickle.loads(path.read_bytes())
else:
    result = ns.spatial_experiment(np.random.default_rng(0), n_steps=250)
    result.pop("history")
    path.write_bytes(pickle.dumps(result))
params, test = result["params"], result["test"]
print(f"held-out bound per point: {result['elbo_per_point']:.3f} nats")

# %%
# Six points chosen from fifty
# ----------------------------
# Grey: the digit's 50 points; red: the 6 the greedy summary keeps.
fig, axes = plt.subplots(2, 5, figsize=(11, 4.6))
summaries = []
for ax, D, label in zip(axes.ravel(), test["D"][:10], test["labels"][:10]):
    s = ns.summarise(params, D.astype(np.float32), 6)
    summaries.append(s)
    ax.scatter(D[:, 0], D[:, 1], s=8, c="0.7")
    ax.scatter(D[s["indices"], 0], D[s["indices"], 1], s=40, c="tab:red")
    ax.set_title(f"digit {label}")
    ax.set_xlim(-1, 1), ax.set_ylim(-1, 1), ax.set_xticks([]), ax.set_yticks([])
fig.tight_layout()
plt.show()

# %%
# Greedy against random subsets
# -----------------------------
# How close does the greedy summary stay to the whole set's context, compared with random
# subsets of the same size? The curve shows the KL after each removal for one digit.
rng = np.random.default_rng(1)
greedy, random = [], []
for D in test["D"][:30].astype(np.float32):
    mu_D, lv_D = ns.statistic_network(params, D[None])
    greedy.append(ns.summarise(params, D, 6)["kl"][-1])
    for _ in range(10):
        mu, lv = ns.statistic_network(params, D[rng.choice(50, 6, replace=False)][None])
        random.append(float(ns.gaussian_kl(mu_D, lv_D, mu, lv)[0]))
print(f"KL at 6 points: greedy {np.mean(greedy):.3f}, random {np.mean(random):.3f} "
      f"(median {np.median(random):.3f})")
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(np.arange(49, 5, -1), summaries[0]["kl"], marker=".")
ax.set_xlabel("points kept"), ax.set_ylabel("KL(q(c|D) || q(c|S))"), ax.invert_xaxis()
ax.set_yscale("log")
fig.tight_layout()
plt.show()
