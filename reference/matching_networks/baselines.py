r"""Baselines the reviewers asked for: pixel and feature nearest neighbour, exemplar classifiers.

Section 4.1.1 of Vinyals et al. (2016) compares matching networks with pixel nearest neighbour
and with nearest neighbour on the features of a network trained as an ordinary classifier; an
exemplar-SVM style linear classifier per support example is added here.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
from autograd import grad
from autograd.misc.optimizers import adam
from autograd.scipy.special import logsumexp

from reference.nn import conv4_init, dense_init

from ._checks import check_character_images, check_episode, check_positive_int, check_rng
from .embedding import embed
from .episodes import ROTATIONS, rotate

__all__ = ["pixel_nn", "exemplar_linear", "fit_classifier", "feature_nn"]


def pixel_nn(support, support_labels, query, metric="l2"):
    r"""Nearest neighbour on raw pixels: the simplest baseline of Section 4.1.1's table.

    $$ \hat y(\hat x) = y_{i^*}, \qquad i^* = \arg\min_i \lVert \hat x - x_i \rVert_2
       \quad (\text{or } \arg\max_i \cos(\hat x, x_i)) . $$

    Parameters
    ----------
    support : array, shape (M, H, W)
        Labelled support images.
    support_labels : int array, shape (M,)
        Label of each support image (any integers).
    query : array, shape (Q, H, W)
        Images to label, the same H and W as ``support``.
    metric : {"l2", "cosine"}
        Nearest by Euclidean distance, or most similar by cosine, of the flattened pixels.

    Returns
    -------
    int array, shape (Q,)
        Label of each query's nearest support image, taken from ``support_labels``.
    """
    support, labels, query = check_episode(support, support_labels, query)
    s = support.reshape(len(support), -1)
    q = query.reshape(len(query), -1)
    if metric == "l2":
        score = 2 * q @ s.T - (s ** 2).sum(1)[None]
    elif metric == "cosine":
        score = (q @ s.T) / (np.linalg.norm(q, axis=1)[:, None] * np.linalg.norm(s, axis=1)
                             + 1e-12)
    else:
        raise ValueError(f"metric must be 'l2' or 'cosine', got {metric!r}")
    return labels[np.argmax(score, axis=1)]


def exemplar_linear(features_support, support_labels, features_query, C=1.0, steps=200):
    r"""Exemplar-SVM style baseline: one linear classifier per support example (Section 4.1.1).

    For each support example $i$, a linear score $w_i^\top x + b_i$ is fitted on the support
    features with the example as the only positive and every other class's examples as
    negatives, minimising the squared hinge loss

    $$ \frac{1}{2}\lVert w_i\rVert^2 + C \sum_j \max(0, 1 - t_{ij}(w_i^\top x_j + b_i))^2 ,
       \qquad t_{ij} = \pm 1 , $$

    by gradient descent; a query takes the label of the example whose classifier scores it
    highest (Malisiewicz et al., 2011, on features rather than HOG).

    Parameters
    ----------
    features_support : array, shape (M, D)
        Features of the support examples; each feature is standardised with the support
        mean and standard deviation (the queries with the same ones).
    support_labels : int array, shape (M,)
        Label of each support example; examples that share a label are not negatives of
        each other's classifiers.
    features_query : array, shape (Q, D)
        Features of the queries, the same D.
    C : float
        Weight of the squared hinge loss against the $\frac{1}{2}\lVert w_i\rVert^2$
        penalty (positive).
    steps : int
        Full-batch gradient-descent steps (the step size is set from ``C`` and the data).

    Returns
    -------
    int array, shape (Q,)
        Label of the support example whose classifier scores each query highest.
    """
    xs = np.asarray(features_support, dtype=np.float64)
    xq = np.asarray(features_query, dtype=np.float64)
    labels = np.asarray(support_labels)
    mu, sd = xs.mean(0), xs.std(0) + 1e-6
    xs, xq = (xs - mu) / sd, (xq - mu) / sd
    m, d = xs.shape
    t = -np.ones((m, m))
    t[np.arange(m), np.arange(m)] = 1.0                    # (M classifiers, M examples)
    keep = (labels[None, :] != labels[:, None]) | np.eye(m, dtype=bool)
    w, b = np.zeros((m, d)), np.zeros(m)
    lr = 1.0 / (1.0 + 2 * C * m * (1 + (xs ** 2).sum(1).max()))
    for _ in range(int(steps)):
        margin = 1 - t * (w @ xs.T + b[:, None])           # (M, M)
        active = np.where(keep, np.maximum(margin, 0.0), 0.0)
        coeff = -2 * C * active * t
        w -= lr * (w + coeff @ xs)
        b -= lr * coeff.sum(1)
    return labels[np.argmax(xq @ w.T + b[None], axis=1)]


def fit_classifier(images, *, steps, rng, batch=64, width=32, step_size=1e-3,
                   rotations=ROTATIONS, dtype=np.float32):
    r"""Train Conv-4 as an ordinary classifier over all training classes (Section 4.1.1 baseline).

    The same embedding as the matching network, followed by a softmax layer over the
    $C \times |\mathrm{rotations}|$ training classes, trained on random mini-batches with the
    cross-entropy

    $$ -\frac{1}{B}\sum_{b} \log \operatorname{softmax}\big(W^\top f'(x_b) + c\big)_{y_b} . $$

    Its Conv-4 features are then used by
    [`feature_nn`][reference.matching_networks.baselines.feature_nn].

    Parameters
    ----------
    images : array, shape (C, n, 28, 28)
        Training characters (ink 1), as `load_omniglot` returns them; each character in each
        rotation is one class.
    steps : int
        Adam steps, one mini-batch each (positive).
    rng : np.random.Generator
        Draws the initial weights and every mini-batch.
    batch : int
        Images per mini-batch, each of a random class and drawer (with replacement).
    width : int
        Filters per Conv-4 block, and so the feature size.
    step_size : float
        Adam learning rate.
    rotations : sequence of int
        Quarter turns used as extra classes (all four by default).
    dtype : numpy dtype
        Floating type of the parameters and the mini-batches.

    Returns
    -------
    dict
        ``"conv"``: the trained Conv-4 parameters (list of 4 dict, for `feature_nn` or
        `finetune_head`); ``"out"``: the softmax layer ``{"W": (width, C * len(rotations)),
        "b": (C * len(rotations),)}``.
    """
    images = check_character_images(images)
    check_rng(rng)
    steps = check_positive_int("steps", steps)
    n_chars, n_drawers = images.shape[:2]
    rotations = tuple(rotations)
    n_classes = n_chars * len(rotations)
    out = dense_init(width, n_classes, rng)
    params = {"conv": conv4_init(rng, 1, width, dtype=dtype),
              "out": {"W": out["W"].astype(dtype), "b": out["b"].astype(dtype)}}

    def loss(p, i):
        cls = rng.integers(n_classes, size=batch)
        drawer = rng.integers(n_drawers, size=batch)
        x = np.stack([rotate(images[c // len(rotations), d], rotations[c % len(rotations)])
                      for c, d in zip(cls, drawer)]).astype(dtype)
        z = anp.dot(embed(p["conv"], x), p["out"]["W"]) + p["out"]["b"]
        logp = z - logsumexp(z, axis=1, keepdims=True)
        return -anp.mean(logp[np.arange(batch), cls])

    return adam(grad(loss), params, num_iters=steps, step_size=step_size)


def feature_nn(classifier_params, support, support_labels, query, metric="cosine"):
    r"""Nearest neighbour on the features of an ordinary classifier (Section 4.1.1 baseline).

    $$ \hat y(\hat x) = y_{i^*}, \qquad i^* = \arg\max_i \cos\big(f'(\hat x), f'(x_i)\big) , $$

    with $f'$ the Conv-4 of [`fit_classifier`][reference.matching_networks.baselines.fit_classifier]
    (batch statistics of this episode).

    Parameters
    ----------
    classifier_params : dict
        From [`fit_classifier`][reference.matching_networks.baselines.fit_classifier]; only
        its ``"conv"`` entry is used, and its dtype is the images'.
    support : array, shape (M, 28, 28)
        Labelled support images.
    support_labels : int array, shape (M,)
        Label of each support image (any integers).
    query : array, shape (Q, 28, 28)
        Images to label, embedded in one batch with the support images.
    metric : {"cosine", "l2"}
        Similarity of the features, as in `pixel_nn`.

    Returns
    -------
    int array, shape (Q,)
        Label of each query's nearest support example in feature space.
    """
    support, labels, query = check_episode(support, support_labels, query)
    dtype = classifier_params["conv"][0]["w"].dtype
    e = np.asarray(embed(classifier_params["conv"], np.concatenate([support, query]).astype(dtype)))
    es, eq = e[:len(support)], e[len(support):]
    return pixel_nn(es[:, :, None], labels, eq[:, :, None], metric=metric)
