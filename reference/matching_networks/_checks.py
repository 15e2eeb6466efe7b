"""Input checks for the Matching Networks package (clear ValueErrors)."""

from __future__ import annotations

import numpy as np

SIMILARITIES = ("cosine", "dot", "neg_sqdist")


def check_rng(rng):
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a np.random.Generator (got {type(rng).__name__}); "
                         "create one with np.random.default_rng(seed)")


def check_positive_int(name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_similarity(similarity):
    if similarity not in SIMILARITIES:
        raise ValueError(f"unknown similarity {similarity!r}; choose one of {SIMILARITIES}")


def check_character_images(images):
    """``images`` (C, n, H, W) as load_omniglot returns them."""
    images = np.asarray(images)
    if images.ndim != 4 or min(images.shape) < 1:
        raise ValueError(f"images must have shape (characters, drawers, H, W) as load_omniglot "
                         f"returns them, got {images.shape}")
    if not np.isfinite(images).all():
        raise ValueError("images contain NaN or infinite values")
    return images


def check_episode(support, support_labels, query):
    """Shapes of a support set (M, H, W) with labels (M,) and queries (Q, H, W)."""
    support = np.asarray(support)
    query = np.asarray(query)
    labels = np.asarray(support_labels)
    if support.ndim != 3 or query.ndim != 3:
        raise ValueError(f"support and query images must be (M, H, W) and (Q, H, W), got "
                         f"{support.shape} and {query.shape}")
    if support.shape[1:] != query.shape[1:]:
        raise ValueError(f"support images are {support.shape[1:]} but queries are "
                         f"{query.shape[1:]}; they must have the same size")
    if labels.shape != (support.shape[0],):
        raise ValueError(f"support_labels must have shape ({support.shape[0]},) (one label per "
                         f"support image), got {labels.shape}")
    if support.shape[0] < 1 or query.shape[0] < 1:
        raise ValueError("the support set and the queries must each hold at least one image")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"support_labels must be integers, got dtype {labels.dtype}")
    if not (np.isfinite(support).all() and np.isfinite(query).all()):
        raise ValueError("images contain NaN or infinite values")
    return support, labels, query


def check_embeddings(f_x, g_s):
    """Query embeddings (Q, D) and support embeddings (M, D)."""
    if np.ndim(f_x) != 2 or np.ndim(g_s) != 2 or np.shape(f_x)[1] != np.shape(g_s)[1]:
        raise ValueError(f"embeddings must be (Q, D) and (M, D) with the same D, got "
                         f"{np.shape(f_x)} and {np.shape(g_s)}")
    if np.shape(g_s)[0] < 1:
        raise ValueError("the support set is empty")


def check_one_hot(y, m):
    y = np.asarray(y)
    if y.ndim != 2 or y.shape[0] != m:
        raise ValueError(f"support labels must be one-hot (M, N) with M = {m}, got {y.shape}")
    if not np.all((y == 0) | (y == 1)) or not np.all(y.sum(axis=1) == 1):
        raise ValueError("support labels must be one-hot: each row one 1, the rest 0")
    if not np.all(y.sum(axis=0) >= 1):
        raise ValueError("every class needs at least one support example")
    return y
