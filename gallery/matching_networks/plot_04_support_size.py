r"""
Larger support sets
===================

Reader question: training uses a fixed support size. Does a model trained on 20-way one-shot
episodes still work with much larger support sets at test time, with and without FCE?

We reuse the two models of the first example and test them on the evaluation alphabets with
N-way one-shot episodes up to N = 100, and 20-way k-shot episodes up to k = 10 (200 support
examples).
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

import reference.matching_networks as mn
from reference.testing import source_key

background, evaluation = mn.load_images("background"), mn.load_images("evaluation")
models = {}
for name, options in (("plain", {}), ("fce", {"fce": True})):
    path = mn.cache_dir() / f"gallery_{name}_300_{source_key(mn)}.npz"   # keyed by the code
    if path.is_file():
        models[name] = mn.load_params(path)
    else:
        models[name] = mn.fit(background["images"], episodes=300, way=20, shot=1, width=32,
                              rng=np.random.default_rng(0), **options)
        mn.save_params(models[name], path)


def accuracy(params, way, shot, episodes):
    return mn.evaluate(lambda s, l, q: mn.classify(params, s, l, q), evaluation["images"],
                       way=way, shot=shot, episodes=episodes,
                       rng=np.random.default_rng(2))["accuracy"]


ways, shots = [5, 20, 50, 100], [1, 2, 5, 10]
by_way = {n: [accuracy(p, w, 1, 2000 // w) for w in ways] for n, p in models.items()}
by_shot = {n: [accuracy(p, 20, k, 15) for k in shots] for n, p in models.items()}
for n in models:
    print(n, "N-way 1-shot:", [f"{a:.1%}" for a in by_way[n]],
          " 20-way k-shot:", [f"{a:.1%}" for a in by_shot[n]])

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
for n, label in (("plain", "without FCE"), ("fce", "with FCE")):
    ax1.plot(ways, by_way[n], "o-", label=label)
    ax2.plot(shots, by_shot[n], "o-", label=label)
ax1.set_xscale("log")
ax1.set_xlabel("classes N (one shot each)")
ax2.set_xlabel("shots k per class (20 classes)")
ax1.set_ylabel("accuracy, evaluation alphabets")
ax2.legend()
plt.show()

# %%
# Accuracy falls with the number of classes, as for any classifier, but gracefully, and more
# shots per class help although training only ever saw one: the attention simply has more
# examples to vote. The FCE model has only been trained on 20-long support sequences, and its
# LSTM sees sequences of up to 200 here.
