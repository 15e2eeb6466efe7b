r"""
Few-shot classification by context
==================================

Section 5.3 of the paper classifies a query image by comparing contexts: the few support
images of each class form a data set $D_k$, the query is a set of one, and the query goes to
the class whose $q(c \mid D_k)$ is closest in KL to $q(c \mid x')$. Are the contexts better
than simple baselines? Here they are compared with nearest neighbour on pixels and on the code
of an ordinary autoencoder trained on the same images.

To fit the documentation build, the models train for a few hundred steps on the five alphabets of
Omniglot's "background small 1" set and are tested on the five different alphabets of
"background small 2"; the reproduce run trains on all 30 background alphabets and tests on the
20 evaluation alphabets and Lake et al.'s runs.
"""

# %%
# Data and training
# -----------------
import pickle
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import reference.neural_statistician as ns
from reference.testing import source_key
from reference.datasets.omniglot import load_omniglot

train_images = load_omniglot("background_small1")["images"].astype(np.float32)
test_images = load_omniglot("background_small2")["images"]
params, history = ns.fit(train_images, np.random.default_rng(0), n_steps=700,
                         batch_sets=16, hidden=128)
print(f"{history['steps_done']} training steps on sets of 5 drawings")
# the conditional-samples example reuses this model (it runs next in the build)
cache = Path(tempfile.gettempdir()) / "neural_statistician_gallery"
cache.mkdir(exist_ok=True)
(cache / f"omniglot_small1_700_{source_key(ns)}.pkl").write_bytes(pickle.dumps(params))
ae = ns.fit_autoencoder(train_images, np.random.default_rng(1), n_steps=300)

# %%
# Accuracy on held-out alphabets
# ------------------------------
# The same episodes (same seed) for every method.
methods = {"context KL": lambda s, y, q: ns.classify(params, s, y, q),
           "pixels": ns.nearest_neighbour, "autoencoder code": ns.autoencoder_classifier(ae)}
tasks = [(5, 1), (5, 5), (20, 1)]
acc = {name: [ns.episode_accuracy(clf, test_images, n, k, 40, np.random.default_rng(n + k))
              for n, k in tasks] for name, clf in methods.items()}
for name, a in acc.items():
    print(f"{name:>16}: " + ", ".join(f"{n}-way {k}-shot {x:.2f}" for (n, k), x in zip(tasks, a)))

fig, ax = plt.subplots(figsize=(7, 3.5))
width = 0.25
for j, (name, a) in enumerate(acc.items()):
    ax.bar(np.arange(len(tasks)) + (j - 1) * width, a, width, label=name)
ax.set_xticks(range(len(tasks)), [f"{n}-way {k}-shot" for n, k in tasks])
ax.set_ylabel("accuracy"), ax.set_ylim(0, 1), ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
