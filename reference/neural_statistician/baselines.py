r"""Baselines for the few-shot comparison of Section 5.3: nearest neighbour on pixels and on a
plain autoencoder's code.

Both classify a query by its nearest support image (Euclidean distance), in pixel space or in
the code space of an ordinary (deterministic) autoencoder trained on the same background
characters as the Neural Statistician, but one image at a time: it knows nothing of sets.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
from autograd import grad
from autograd.misc.optimizers import adam

from reference.nn import mlp_apply, mlp_init, relu

from ._checks import check_positive_int, check_rng
from .objective import bernoulli_log_likelihood

__all__ = ["nearest_neighbour", "fit_autoencoder", "encode", "autoencoder_classifier"]


def nearest_neighbour(support_images, support_labels, query_images, features=None):
    r"""1-nearest-neighbour classification (the pixel baseline of Section 5.3).

    $$
    \hat y(x') = y_{s^\*}, \qquad s^\* = \arg\min_s \lVert f(x') - f(x_s) \rVert_2 .
    $$

    Parameters
    ----------
    support_images : array, shape (S, ...)
        The S labelled support images (S >= 1), flattened to vectors.
    support_labels : array, shape (S,)
        The label of each support image.
    query_images : array, shape (Q, ...)
        The Q images to classify, with as many pixels as the support images.
    features : callable or None
        Feature map $f$ of flattened images (None: the pixels).

    Returns
    -------
    labels : ndarray, shape (Q,)
        The label of each query's nearest support image in feature space.
    """
    xs = np.asarray(support_images, float).reshape(len(support_images), -1)
    xq = np.asarray(query_images, float).reshape(len(query_images), -1)
    if xs.shape[1] != xq.shape[1] or len(xs) != len(support_labels) or len(xs) == 0:
        raise ValueError(f"bad shapes: support {xs.shape}, labels {np.shape(support_labels)}, "
                         f"queries {xq.shape}")
    if features is not None:
        xs, xq = features(xs), features(xq)
    d = (xq ** 2).sum(1)[:, None] - 2 * xq @ xs.T + (xs ** 2).sum(1)[None]
    return np.asarray(support_labels)[np.argmin(d, axis=1)]


def fit_autoencoder(images, rng: np.random.Generator, *, n_steps: int = 2000,
                    code_dim: int = 64, hidden: int = 256, batch: int = 128,
                    step_size: float = 1e-3, dtype=np.float32) -> dict:
    r"""Train a plain autoencoder on single images (the code baseline of Section 5.3).

    Encoder $784 \to$ hidden $\to$ code, decoder code $\to$ hidden $\to 784$ Bernoulli
    logits; trained by maximising the Bernoulli log-likelihood of dynamically binarised
    images.

    $$
    \max_{\psi} \; \mathbb E_x \log p\big(x \mid g_\psi(f_\psi(x))\big).
    $$

    Parameters
    ----------
    images : array, shape (C, 20, H, W)
        Training characters, ink 1; every drawing is one training image.
    rng : np.random.Generator
        Drives the initial weights, the mini-batches and the binarisation.
    n_steps : int
        Number of Adam steps.
    code_dim : int
        Width of the code $f_\psi(x)$.
    hidden : int
        Width of the one hidden layer of the encoder and of the decoder.
    batch : int
        Images per mini-batch, drawn with replacement.
    step_size : float
        Adam's learning rate.
    dtype : numpy dtype
        dtype of the parameters and of the images (float32 by default).

    Returns
    -------
    dict
        ``enc``: the encoder MLP (H*W, hidden, code_dim); ``dec``: the decoder MLP
        (code_dim, hidden, H*W), which outputs Bernoulli logits. Each is a list of
        ``reference.nn`` dense layers, for `encode`.
    """
    check_rng(rng)
    n_steps = check_positive_int("n_steps", n_steps)
    flat = np.asarray(images, dtype).reshape(-1, np.prod(np.shape(images)[2:]))
    d = flat.shape[1]
    cast = lambda layers: [{k: v.astype(dtype) for k, v in lay.items()} for lay in layers]  # noqa
    params = {"enc": cast(mlp_init([d, hidden, code_dim], rng)),
              "dec": cast(mlp_init([code_dim, hidden, d], rng))}

    def loss(p, i):
        x = flat[rng.integers(len(flat), size=batch)]
        x = (rng.uniform(size=x.shape) < x).astype(dtype)
        logits = mlp_apply(p["dec"], relu(mlp_apply(p["enc"], x)))
        return -anp.mean(bernoulli_log_likelihood(x, logits))

    return adam(grad(loss), params, num_iters=n_steps, step_size=step_size)


def encode(ae: dict, images) -> np.ndarray:
    r"""The autoencoder's code $f_\psi(x)$ of flattened images (Section 5.3 baseline).

    $$
    f_\psi(x) = \mathrm{ReLU}\big(\mathrm{MLP}_\psi(x)\big).
    $$

    Parameters
    ----------
    ae : dict
        From `fit_autoencoder`.
    images : array, shape (Q, ...)
        Q images, flattened to vectors of the autoencoder's input width.

    Returns
    -------
    codes : ndarray, shape (Q, code_dim)
        The ReLU code of each image, float64.
    """
    x = np.asarray(images, np.asarray(ae["enc"][0]["W"]).dtype).reshape(len(images), -1)
    return np.asarray(relu(mlp_apply(ae["enc"], x)), float)


def autoencoder_classifier(ae: dict):
    r"""A nearest-neighbour classifier in the autoencoder's code space (Section 5.3 baseline).

    $$
    \hat y(x') = y_{s^\*}, \quad s^\* = \arg\min_s \lVert f_\psi(x') - f_\psi(x_s)\rVert_2 .
    $$

    Parameters
    ----------
    ae : dict
        From `fit_autoencoder`.

    Returns
    -------
    classifier : callable
        ``classifier(support_images, support_labels, query_images) -> labels``:
        `nearest_neighbour` on the codes of `encode`, as `episode_accuracy` and
        `lake_accuracy` expect.
    """
    def classifier(support_images, support_labels, query_images):
        return nearest_neighbour(support_images, support_labels, query_images,
                                 features=lambda x: encode(ae, x))
    return classifier
