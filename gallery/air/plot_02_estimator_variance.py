r"""
How noisy is the presence gradient?
===================================

The presence bits $z^{\text{pres}}$ are discrete, so their gradient is a likelihood-ratio
estimate: each step's log-probability is weighted by the learning signal of the terms downstream
of it, in raw nats, minus a baseline. At the parameters trained in the first example, we draw
the estimate many times on fresh scenes and compare its total variance without a baseline, with
the trained neural baseline, and with a leave-one-out baseline over $K = 4$ samples of each scene
(each estimate uses 32 guide samples in all three cases). Then three short trainings from scratch
show what the variance does to learning.
"""

# %%
# Total variance $\operatorname{tr}\operatorname{Cov}[\hat g]$ of the score-function part of the
# guide's gradient.
import matplotlib.pyplot as plt
import numpy as np

from reference import air

path = air.cache_dir() / "gallery_air_900.pkl"
try:
    params = air.load_params(path)
except FileNotFoundError:
    params = air.fit(air.AIRConfig(), seed=0, n_iters=900)
rng = np.random.default_rng(1)
variances = {}
for b in ("none", "neural", "loo"):
    draws = air.score_gradient_samples(params, rng, b, n_draws=12, batch=32, K=4)
    variances[b] = air.total_variance(draws)
    print(f"{b:>6}: total variance {variances[b]:.3g}")
fig, ax = plt.subplots(figsize=(4.5, 3))
ax.bar(["no baseline", "neural", "leave-one-out"], list(variances.values()),
       color=["tab:red", "tab:blue", "tab:green"])
ax.set(yscale="log", ylabel="total variance of the estimate")
fig.tight_layout()

# %%
# Training speed: 150 steps of 32 scenes from the same initialisation with each baseline (the
# count prior annealed over the first 40), scored on 300 test scenes every 50 steps.
x_test, n_test, _, _ = air.test_scenes(300)
config = air.AIRConfig()
fig, ax = plt.subplots(figsize=(5, 3.2))
for b, colour in (("none", "tab:red"), ("neural", "tab:blue"), ("loo", "tab:green")):
    curve = []

    def record(p, i, info, curve=curve):
        if i % 50 == 49:
            curve.append((i + 1, air.count_accuracy(n_test, air.infer(dict(p, config=config),
                                                                       x_test)[0])))

    air.fit(config, seed=3, n_iters=150, batch=32, baseline=b, K=4, callback=record,
            anneal_prior=40)
    ax.plot(*zip(*curve), "o-", color=colour, label=b)
ax.set(xlabel="Adam step", ylabel="test count accuracy", ylim=(0, 1.02))
ax.legend()
fig.tight_layout()
