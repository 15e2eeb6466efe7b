r"""Measurements: episode accuracy with intervals, Lake et al.'s 20 runs, and the baselines.

Section 4.1.1 of Vinyals et al. (2016) reports N-way k-shot accuracy on held-out characters;
Lake et al. (2015) score 20 fixed runs of 20-way within-alphabet one-shot classification.
Baselines (pixel nearest neighbour, a classifier's features, an exemplar linear classifier)
answer the reviewers' questions on the docs page.
"""

from __future__ import annotations

import numpy as np

from ._checks import check_positive_int, check_rng
from .episodes import sample_episode
from .training import cache_dir

__all__ = ["evaluate", "wilson_interval", "lake_accuracy", "load_images"]


def wilson_interval(correct, total, z=1.959963984540054):
    r"""The 95% Wilson score interval of an accuracy (for the tables of Section 4.1.1).

    $$ \frac{\hat p + \frac{z^2}{2n} \pm z\sqrt{\frac{\hat p(1-\hat p)}{n} + \frac{z^2}{4n^2}}}
            {1 + \frac{z^2}{n}} $$

    Parameters
    ----------
    correct : int
        Number of correct answers, ``0 <= correct <= total``.
    total : int
        Number of trials $n$ (positive).
    z : float
        Standard-normal quantile; the default, 1.96, gives the 95% interval.

    Returns
    -------
    low : float
        Lower end of the interval for the accuracy.
    high : float
        Upper end of the interval.
    """
    total = check_positive_int("total", total)
    p = correct / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * np.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return float(centre - half), float(centre + half)


def evaluate(classifier, images, *, way, shot, episodes, rng, queries=1, rotations=(0,),
             alphabets=None):
    r"""Accuracy of ``classifier`` over random N-way k-shot test episodes (Section 4.1.1).

    Each episode is drawn with
    [`sample_episode`][reference.matching_networks.episodes.sample_episode] and scored query by
    query; the interval treats the $E \cdot N \cdot q$ queries as independent trials (Wilson):

    $$ \mathrm{acc} = \frac{1}{E N q} \sum_{e, j} [\hat y_{ej} = y_{ej}] . $$

    Parameters
    ----------
    classifier : callable
        ``classifier(support, support_labels, query) -> labels``, e.g.
        ``lambda s, l, q: classify(params, s, l, q)``.
    images : array, shape (C, n, 28, 28)
        Test characters.
    way : int
        $N$, classes per episode.
    shot : int
        $k$, support examples per class.
    episodes : int
        Number of test episodes $E$ (positive).
    rng : np.random.Generator
        Draws every episode.
    queries : int
        $q$, queries per class in each episode; ``shot + queries`` must not exceed ``n``.
    rotations : sequence of int
        Quarter turns allowed as test classes (default: original orientation only).
    alphabets : sequence of str, optional
        Within-alphabet episodes.

    Returns
    -------
    dict
        ``accuracy``, ``ci_low``, ``ci_high``, ``n_queries``.
    """
    episodes = check_positive_int("episodes", episodes)
    check_rng(rng)
    correct = total = 0
    for _ in range(episodes):
        ep = sample_episode(images, way, shot, queries, rng, rotations=rotations,
                            alphabets=alphabets)
        pred = classifier(ep["support"], ep["support_labels"], ep["query"])
        correct += int(np.sum(pred == ep["query_labels"]))
        total += len(pred)
    low, high = wilson_interval(correct, total)
    return {"accuracy": correct / total, "ci_low": low, "ci_high": high, "n_queries": total}


def lake_accuracy(classifier, runs):
    r"""Accuracy on Lake et al.'s (2015) 20 one-shot runs (cited in Section 4.1.1).

    Each run gives one training image for each of 20 characters of one evaluation alphabet and
    20 test images; a test image is correct when it is matched to its own character:

    $$ \mathrm{acc} = \frac{1}{20 \cdot 20} \sum_{r=1}^{20} \sum_{t=1}^{20}
       [\hat a_{rt} = a_{rt}] . $$

    Parameters
    ----------
    classifier : callable
        ``classifier(support, support_labels, query) -> labels``.
    runs : list of dict
        From `reference.datasets.omniglot.load_lake_runs` (keys ``train``, ``test``,
        ``answer``).

    Returns
    -------
    dict
        ``accuracy``, ``ci_low``, ``ci_high``, ``per_run`` (list of 20 accuracies).
    """
    per_run = []
    for run in runs:
        pred = classifier(run["train"], np.arange(len(run["train"])), run["test"])
        per_run.append(float(np.mean(pred == run["answer"])))
    n = sum(len(r["test"]) for r in runs)
    correct = int(round(sum(a * len(r["test"]) for a, r in zip(per_run, runs))))
    low, high = wilson_interval(correct, n)
    return {"accuracy": correct / n, "ci_low": low, "ci_high": high, "per_run": per_run}


def load_images(subset, dtype=np.float32):
    r"""Omniglot images at 28x28 (Section 4.1.1), cached as ``.npz`` in the parameter cache.

    Decoding the PNGs takes several seconds; the first call stores
    ``images`` (C, 20, 28, 28), ``alphabets`` and ``characters`` under
    [`cache_dir`][reference.matching_networks.training.cache_dir] (never committed).
    ``subset="runs"`` caches Lake et al.'s runs instead (a list of dicts).

    $$ x \in [0, 1]^{28 \times 28},\ \text{ink} = 1 $$

    Parameters
    ----------
    subset : {"background", "evaluation", "background_small1", "background_small2", "runs"}
        An Omniglot set of `reference.datasets.omniglot.load_omniglot`, or ``"runs"`` for
        Lake et al.'s 20 runs.
    dtype : numpy dtype
        Floating type of the returned images.

    Returns
    -------
    dict or list of dict
        For an image set: ``images`` (C, 20, 28, 28), ``alphabets`` and ``characters``
        (lists of C str). For ``"runs"``: 20 dicts with ``train`` (20, 28, 28), ``test``
        (20, 28, 28) and ``answer`` (20,) int, the index into ``train`` of each test image.
    """
    from reference.datasets.omniglot import load_lake_runs, load_omniglot

    path = cache_dir() / f"omniglot_{subset}_28.npz"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.npz")
        if subset == "runs":
            runs = load_lake_runs()
            np.savez(tmp, train=np.stack([r["train"] for r in runs]),
                     test=np.stack([r["test"] for r in runs]),
                     answer=np.stack([r["answer"] for r in runs]))
        else:
            data = load_omniglot(subset)
            np.savez(tmp, images=data["images"], alphabets=np.array(data["alphabets"]),
                     characters=np.array(data["characters"]))
        tmp.replace(path)
    with np.load(path) as z:
        if subset == "runs":
            return [{"train": tr.astype(dtype), "test": te.astype(dtype), "answer": a}
                    for tr, te, a in zip(z["train"], z["test"], z["answer"])]
        return {"images": z["images"].astype(dtype), "alphabets": [str(a) for a in z["alphabets"]],
                "characters": [str(c) for c in z["characters"]]}
