r"""
The prior-interpolation ablation
================================

The paper uses a "prior-interpolation layer" in its spatial MNIST model only. We could not
check its definition in the text available to us, so the layer here is our reading of the
name (see `inference_network` on the page): each item posterior's mean and log-variance are a
learned per-unit convex combination of the inference network's output and the prior
$p(z \mid c)$. This example trains the same model with and without it, for the same number of
steps, on the digit point sets, and compares the held-out bound per point and the gates it
learns.
"""

# %%
# Train both arms
# ---------------
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
    plain = pickle.loads(path.read_bytes())
else:
    plain = ns.spatial_experiment(np.random.default_rng(0), n_steps=250)
    plain.pop("history")
    path.write_bytes(pickle.dumps(plain))
interp = ns.spatial_experiment(np.random.default_rng(0), n_steps=plain["steps"],
                               prior_interpolation=True)
for name, r in (("without", plain), ("with", interp)):
    print(f"{name:>7} prior interpolation: {r['steps']} steps, held-out bound per point "
          f"{r['elbo_per_point']:.3f} nats")

# %%
# What the gates learned
# ----------------------
# A gate near 1 means the posterior ignores the prior for that unit; near 0, it copies it.
gates = [1 / (1 + np.exp(-a)) for a in interp["params"]["interp"]]
fig, ax = plt.subplots(figsize=(6, 3))
for j, g in enumerate(gates):
    ax.plot(g, marker="o", label=f"layer {len(gates) - j} (top first)")
ax.set_xlabel("unit (means, then log-variances)"), ax.set_ylabel("gate")
ax.set_ylim(0, 1), ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %%
# Samples from each arm
# ---------------------
# Conditional samples: the context is the posterior mean of q(c|D) for a held-out digit, and
# 50 new points are drawn from each model.
rng = np.random.default_rng(2)
D = plain["test"]["D"][:4].astype(np.float32)
fig, axes = plt.subplots(3, 4, figsize=(9, 6.6))
rows = (("input", D), ("without", ns.sample_conditional(plain["params"], D, 50, rng, False)),
        ("with", ns.sample_conditional(interp["params"], D, 50, rng, False)))
for i, (name, X) in enumerate(rows):
    for j in range(4):
        ax = axes[i, j]
        ax.scatter(X[j, :, 0], X[j, :, 1], s=8)
        ax.set_xlim(-1.2, 1.2), ax.set_ylim(-1.2, 1.2), ax.set_xticks([]), ax.set_yticks([])
    axes[i, 0].set_ylabel(name)
fig.tight_layout()
plt.show()
