r"""
Learning to count without labels
================================

AIR is trained on scenes of 0, 1 or 2 small digits (scikit-learn's 8x8 digits, 9-12 px, on a
32x32 canvas) without ever seeing a count. Every 100 steps the guide is run on a fixed test set
of 1,000 scenes built from digit images never used in training. Counts are **thresholded**: a
step counts as an object when its presence probability is at least 1/2 and every earlier step
counted. The count prior is annealed from $\rho = 1/2$ to its final $e^{-7}$ over the first
600 steps, so the early accuracy reflects a model that is still allowed to over-count. The trained
parameters are cached for the later examples.
"""

# %%
# Training, with the test count accuracy recorded along the way.
import time

import matplotlib.pyplot as plt
import numpy as np

from reference import air

N_ITERS = 900
config = air.AIRConfig()
x_test, n_test, centres, _ = air.test_scenes(1000)
path = air.cache_dir() / f"gallery_air_{N_ITERS}.pkl"
history = []


def record(p, i, info):
    if i % 100 == 0 or i == N_ITERS - 1:
        counts, _ = air.infer(dict(p, config=config), x_test)
        history.append((i, air.count_accuracy(n_test, counts), info["elbo"]))


start = time.process_time()
params = air.fit(config, seed=0, n_iters=N_ITERS, callback=record)
air.save_params(params, path)
print(f"trained {N_ITERS} steps in {time.process_time() - start:.0f} s of CPU")

steps, accs, elbos = map(np.array, zip(*history))
fig, ax = plt.subplots(1, 2, figsize=(9, 3.2))
ax[0].plot(steps, accs, "o-")
ax[0].axhline(1 / 3, color="grey", ls=":", label="always one digit")
ax[0].set(xlabel="Adam step", ylabel="test count accuracy", ylim=(0, 1.02))
ax[0].legend(loc="lower right")
ax[1].plot(steps, elbos, "o-")
ax[1].set(xlabel="Adam step", ylabel="training ELBO (nats)")
fig.tight_layout()

# %%
# The confusion matrix of true against inferred counts on the test set, and the other
# measures: the distance between inferred and true digit centres (matched), and the pixel error
# of the reconstruction.
counts, z_where = air.infer(params, x_test)
M = air.confusion_matrix(n_test, counts, 3)
fig, ax = plt.subplots(figsize=(3.6, 3.2))
ax.imshow(M, cmap="Blues")
for (r, c), v in np.ndenumerate(M):
    ax.text(c, r, str(v), ha="center", va="center", color="black" if v < M.max() / 2 else "white")
ax.set(xlabel="inferred count", ylabel="true count", xticks=range(4), yticks=range(4))
fig.tight_layout()
print(f"count accuracy {air.count_accuracy(n_test, counts):.3f}; "
      f"localisation error {air.localisation_error(centres, z_where, 32):.2f} px; "
      f"reconstruction MSE {air.reconstruction_mse(params, x_test):.4f}")

# %%
# Test scenes (top) with the inferred windows drawn from $z^{\text{where}}$, and the model's
# reconstructions (bottom).
recon = air.reconstruct(params, x_test[:8])
fig, axes = plt.subplots(2, 8, figsize=(10, 2.8))
colours = ["tab:red", "tab:green", "tab:orange"]
for j in range(8):
    axes[0, j].imshow(x_test[j], cmap="gray", vmin=0, vmax=1)
    axes[1, j].imshow(recon[j], cmap="gray", vmin=0, vmax=1)
    for i, (s, x, y) in enumerate(z_where[j]):
        if np.isnan(s):
            continue
        side = s * 32
        cx, cy = (x + 1) * 16 - 0.5, (y + 1) * 16 - 0.5
        axes[0, j].add_patch(plt.Rectangle((cx - side / 2, cy - side / 2), side, side,
                                           fill=False, color=colours[i], lw=1.5))
    axes[0, j].set_title(f"{n_test[j]} -> {counts[j]}", fontsize=8)
for a in axes.ravel():
    a.set(xticks=[], yticks=[])
fig.tight_layout()
