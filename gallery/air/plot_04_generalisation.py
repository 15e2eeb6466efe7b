r"""
More digits than in training, and labels
========================================

The AIR model of the first example was trained on 0-2 digits with 3 guide steps, so a count of
3 is expressible. Here it meets 3-digit scenes. Beside it, a supervised counter with the same
image encoder (one ReLU layer on the flattened image, then a softmax over 0, 1, 2) is trained
on a growing number of labelled scenes. The DAIR variant and the 3-seed numbers come from the
reproduction run (see the page).
"""

# %%
# AIR's counts on 3-digit scenes: the confusion row of true count 3.
import matplotlib.pyplot as plt
import numpy as np

from reference import air

path = air.cache_dir() / "gallery_air_900.pkl"
try:
    params = air.load_params(path)
except FileNotFoundError:
    params = air.fit(air.AIRConfig(), seed=0, n_iters=900)
x3, n3, _, _ = air.test_scenes(500, counts=(3,), seed=air.TEST_SEED + 3)
counts3, z3 = air.infer(params, x3)
hist = np.bincount(counts3, minlength=4)
print(f"3-digit accuracy {air.count_accuracy(n3, counts3):.3f}; inferred counts {hist.tolist()}")
fig, axes = plt.subplots(1, 2, figsize=(8, 3), gridspec_kw={"width_ratios": [1, 2]})
axes[0].bar(range(4), hist / hist.sum())
axes[0].set(xlabel="inferred count", ylabel="fraction of 3-digit scenes", xticks=range(4))
recon = air.reconstruct(params, x3[:4])
axes[1].imshow(np.concatenate([np.concatenate(x3[:4], 1), np.concatenate(recon, 1)], 0),
               cmap="gray", vmin=0, vmax=1)
axes[1].set(xticks=[], yticks=[], title="3-digit scenes (top) and reconstructions")
fig.tight_layout()

# %%
# The supervised counter against the number of labelled training scenes, on the 0-2 digit test
# set; AIR's unsupervised accuracy is the dashed line.
x_test, n_test, _, _ = air.test_scenes(1000)
air_acc = air.count_accuracy(n_test, air.infer(params, x_test)[0])
sizes = [30, 100, 300, 1000]
accs = []
for n in sizes:
    xs, cs, _, _ = air.make_scenes(n, np.random.default_rng(n))
    p = air.fit_supervised(xs, cs, seed=0, n_iters=400)
    accs.append(air.count_accuracy(n_test, air.predict_counts(p, x_test)))
fig, ax = plt.subplots(figsize=(5, 3.2))
ax.semilogx(sizes, accs, "o-", label="supervised counter")
ax.axhline(air_acc, color="tab:red", ls="--", label="AIR, no labels")
ax.set(xlabel="labelled training scenes", ylabel="test count accuracy", ylim=(0, 1.02))
ax.legend()
fig.tight_layout()
print(dict(zip(sizes, np.round(accs, 3))))
