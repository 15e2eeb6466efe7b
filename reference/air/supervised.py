r"""A supervised counting network with AIR's image encoder (Section 3.1 of Eslami et al. 2016).

The paper compares AIR's unsupervised counts with networks trained on count labels. Here the
network reuses the guide's image embedding architecture (one ReLU layer on the flattened image),
then a softmax over the counts, trained by cross-entropy on a given number of labelled scenes.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
from autograd import grad
from autograd.misc.optimizers import adam
from autograd.scipy.special import logsumexp

from ._checks import check_images, check_positive_int
from ._layers import dense_apply, mlp_init, relu
from .data import CANVAS

__all__ = ["count_logits", "fit_supervised", "predict_counts"]


def count_logits(params, images):
    r"""Count logits from the embedding of the flattened image (Section 3.1).

    $$
    p(n \mid x) = \operatorname{softmax}\big(W_2 \max(0, W_e \operatorname{vec}(x) + b_e)
    + b_2\big)_n
    $$

    images (B, H, W) -> (B, n_classes).
    """
    flat = anp.reshape(images, (images.shape[0], -1))
    return dense_apply(params[1], relu(dense_apply(params[0], flat)))


def fit_supervised(images, counts, seed: int = 0, n_classes: int = 3, n_embed: int = 256,
                   n_iters: int = 1500, batch: int = 64, lr: float = 1e-3):
    r"""Train the counting network by cross-entropy on labelled scenes (Section 3.1).

    $$
    J = -\frac{1}{B} \sum_b \log p(n_b \mid x_b)
    $$

    Returns the parameters (a list of two dense layers).
    """
    x = check_images(images, (CANVAS, CANVAS))
    y = np.asarray(counts, dtype=int)
    if y.shape != (len(x),) or y.min() < 0 or y.max() >= n_classes:
        raise ValueError(f"counts must be (B,) integers in [0, {n_classes}), got {y[:5]}...")
    n_iters = check_positive_int("n_iters", n_iters)
    rng = np.random.default_rng(seed)
    params = mlp_init([x[0].size, n_embed, n_classes], rng)

    def loss(p, i):
        idx = rng.integers(len(x), size=min(batch, len(x)))
        z = count_logits(p, x[idx])
        return -anp.mean(z[np.arange(len(idx)), y[idx]] - logsumexp(z, axis=1))

    return adam(grad(loss), params, num_iters=n_iters, step_size=lr)


def predict_counts(params, images) -> np.ndarray:
    r"""Most probable count of each image (Section 3.1): $\hat n = \arg\max_n p(n \mid x)$."""
    x = check_images(images, (CANVAS, CANVAS))
    return np.argmax(count_logits(params, x), axis=1)
