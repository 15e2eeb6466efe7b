r"""
Samples conditioned on a few characters
=======================================

Conditional generation (Sections 5.2-5.3 of the paper): set the context to the posterior mean
of $q(c \mid D)$ for five drawings of a character never seen in training, draw the item latent
from $p(z \mid c)$, and show the decoder's pixel probabilities. The model is the small one
trained in the few-shot example (cached; trained here if missing) for under half a minute, so
the samples show the mechanism, not the paper's quality: after so little training they are
blurred blobs of ink whose size and darkness follow the inputs more than their strokes do.
"""

# %%
# Inputs and samples
# ------------------
import pickle
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import reference.neural_statistician as ns
from reference.testing import source_key
from reference.datasets.omniglot import load_omniglot

path = (Path(tempfile.gettempdir()) / "neural_statistician_gallery"
        / f"omniglot_small1_700_{source_key(ns)}.pkl")   # keyed by the code
if path.exists():
    params = pickle.loads(path.read_bytes())
else:
    train_images = load_omniglot("background_small1")["images"].astype(np.float32)
    params, _ = ns.fit(train_images, np.random.default_rng(0), n_steps=700,
                       batch_sets=16, hidden=128)
test_images = load_omniglot("background_small2")["images"]
rng = np.random.default_rng(3)
chars = rng.choice(len(test_images), 6, replace=False)
D = test_images[chars, :5].reshape(6, 5, -1).astype(np.float32)
samples = ns.sample_conditional(params, D, 5, rng)

fig, axes = plt.subplots(6, 11, figsize=(11, 6.4))
for i in range(6):
    for j in range(11):
        ax = axes[i, j]
        ax.axis("off")
        if j < 5:
            ax.imshow(D[i, j].reshape(28, 28), cmap="gray_r", vmin=0, vmax=1)
        elif j > 5:
            ax.imshow(samples[i, j - 6].reshape(28, 28), cmap="gray_r", vmin=0, vmax=1)
axes[0, 2].set_title("inputs (one character per row)")
axes[0, 8].set_title("samples")
fig.tight_layout()
plt.show()
