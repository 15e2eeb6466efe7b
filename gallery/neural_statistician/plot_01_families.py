r"""
Contexts of one-dimensional families
====================================

The first experiment of the paper (Section 5.1): every data set is 200 draws from an
exponential, Gaussian, uniform or Laplace distribution with a random mean and variance, and the
model is trained without labels. If the context $c$ has learned what the set's distribution
is, the posterior means $\mu_c(D)$ of held-out sets should fall into clusters by family.

Here two small models train for 1,000 and 1,500 steps (the reproduce run trains longer), with
sets of 50 items during training and full sets of 200 at test time. All four families are mapped
to the same mean and variance the same way, so only their shape tells them apart.
"""

# %%
# The ceiling: how separable are the families at all?
# ---------------------------------------------------
# A classifier on each set's standardised moments (skewness, kurtosis and two higher ones)
# shows how much the sets themselves reveal about their family.
import matplotlib.pyplot as plt
import numpy as np

import reference.neural_statistician as ns

rng = np.random.default_rng(0)
train = ns.sample_family_sets(2000, 200, rng)
test = ns.sample_family_sets(600, 200, rng)
ceiling = ns.family_probe(ns.standardised_moments(train["D"]), train["family"],
                          ns.standardised_moments(test["D"]), test["family"])
print("moments ceiling:", ceiling)

# %%
# Train, then probe the context
# -----------------------------
# The model here follows the paper (one stochastic layer per item, a Gaussian decoder).
# A 5-nearest-neighbour and a logistic-regression probe on the context means of held-out sets
# measure what the context knows about the family; the bound per item is compared with the
# cost of fitting one Gaussian to each set (a model at that level has not learned shape).
result = ns.families_experiment(np.random.default_rng(1), n_steps=1000,
                                train_set_size=50, n_train_sets=2000, n_test_sets=600,
                                model_kwargs={"hidden": 32, "z_dim": 4})
print(f"steps {result['steps']}: 5-NN {result['knn5']:.3f}, logistic {result['logistic']:.3f}")
print(f"bound per item {result['elbo_per_item']:.3f} nats; one Gaussian per set "
      f"{-result['gaussian_nll']:.3f}; true densities {-result['true_nll']:.3f}")

# %%
# Context means coloured by family, by mean and by variance
# ---------------------------------------------------------
# After this little training the context typically orders the sets smoothly by their mean
# and their variance (middle and right), while the families still overlap (left): location
# and scale are learned first, shape comes late.
c, t = result["contexts"], result["test"]
fig = plt.figure(figsize=(12, 4))
colour_sets = [(t["family"], "family", "tab10"), (t["mean"], "mean", "viridis"),
               (t["var"], "variance", "magma")]
for j, (colour, name, cmap) in enumerate(colour_sets):
    ax = fig.add_subplot(1, 3, j + 1, projection="3d")
    sc = ax.scatter(c[:, 0], c[:, 1], c[:, 2], c=colour, cmap=cmap, s=6,
                    vmin=0 if name == "family" else None, vmax=9 if name == "family" else None)
    ax.set_title(f"coloured by {name}")
    if name == "family":
        for k, fam in enumerate(ns.FAMILIES):
            ax.scatter([], [], [], color=plt.get_cmap("tab10")(k), label=fam)
        ax.legend(loc="upper left", fontsize=7)
fig.tight_layout()
plt.show()

# %%
# A different decoder family
# --------------------------
# Our ablation, not the paper's model: no item latent and a 5-component Gaussian mixture
# decoder $p(x \mid c)$, so the context alone must describe the set's shape. Similar CPU time.
mix = ns.families_experiment(np.random.default_rng(1), n_steps=1500,
                             train_set_size=50, n_train_sets=2000, n_test_sets=600,
                             step_size=3e-3,
                             model_kwargs={"hidden": 32, "n_layers": 0, "likelihood": "mixture",
                                           "n_components": 5})
print(f"mixture decoder, steps {mix['steps']}: 5-NN {mix['knn5']:.3f}, "
      f"logistic {mix['logistic']:.3f}, bound per item {mix['elbo_per_item']:.3f} nats")
fig = plt.figure(figsize=(5, 4.5))
ax = fig.add_subplot(projection="3d")
cm = mix["contexts"]
for k, fam in enumerate(ns.FAMILIES):
    sel = mix["test"]["family"] == k
    ax.scatter(cm[sel, 0], cm[sel, 1], cm[sel, 2], s=6, color=plt.get_cmap("tab10")(k),
               label=fam)
ax.legend(loc="upper left", fontsize=7)
ax.set_title("mixture decoder, no item latent")
fig.tight_layout()
plt.show()
