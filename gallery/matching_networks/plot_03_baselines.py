r"""
Baselines on Lake's runs
========================

Reader question: how do the baselines the reviewers asked for compare with the matching
network on Lake et al.'s 20 one-shot runs: nearest neighbour on raw pixels, nearest neighbour
on the features of the same Conv-4 trained as an ordinary classifier, and an exemplar-SVM style
linear classifier per support example?

All models here are small (width 32, a few hundred steps, background alphabets only); the
matching network is the one cached by the first example.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

import reference.matching_networks as mn

background, runs = mn.load_images("background"), mn.load_images("runs")
path = mn.cache_dir() / "gallery_plain_300.npz"
if path.is_file():
    matching = mn.load_params(path)
else:
    matching = mn.fit(background["images"], episodes=300, way=20, shot=1, width=32,
                      rng=np.random.default_rng(0))
    mn.save_params(matching, path)

# The ordinary classifier: Conv-4 + softmax over the 964 x 4 rotated background classes,
# trained on batches of 64 images (about as many images as 300 episodes of 40).
classifier = mn.fit_classifier(background["images"], steps=200, batch=64, width=32,
                               rng=np.random.default_rng(0))


def exemplar(conv):
    def classify(support, labels, query):
        e = np.asarray(mn.embed(conv, np.concatenate([support, query])))
        return mn.exemplar_linear(e[:len(support)], labels, e[len(support):])
    return classify


scores = {
    "pixels (L2)": mn.pixel_nn,
    "pixels (cosine)": lambda s, l, q: mn.pixel_nn(s, l, q, "cosine"),
    "classifier features NN": lambda s, l, q: mn.feature_nn(classifier, s, l, q),
    "exemplar linear, classifier features": exemplar(classifier["conv"]),
    "exemplar linear, matching features": exemplar(matching["weights"]["conv"]),
    "matching network": lambda s, l, q: mn.classify(matching, s, l, q),
}
acc = {name: mn.lake_accuracy(f, runs)["accuracy"] for name, f in scores.items()}
for name, a in acc.items():
    print(f"{name:40s} {a:.1%}")

# %%
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.barh(list(acc), list(acc.values()), color=["C7", "C7", "C2", "C2", "C1", "C0"])
ax.invert_yaxis()
ax.set_xlabel("accuracy on Lake's 20 runs (20-way one-shot)")
ax.set_xlim(0, 1)
plt.show()

# %%
# At this small scale the episodic training already beats both pixel baselines by a wide
# margin. Fine-tuning on the support set (for the baselines and for the matching network) is
# not measured here.
