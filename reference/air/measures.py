r"""Measures of a trained AIR model (Section 3.1 of Eslami et al. 2016).

Count accuracy alone can be faked by a counting network; the localisation error (inferred
against true digit centres, matched) and the reconstruction error check that the model found
the digits themselves.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy.optimize import linear_sum_assignment

from ._checks import check_images
from .objective import air_pass
from .training import infer

__all__ = ["count_accuracy", "confusion_matrix", "where_to_pixels", "localisation_error",
           "reconstruct", "reconstruction_mse", "evaluate_counting"]


def count_accuracy(counts_true, counts_pred) -> float:
    r"""Fraction of scenes whose inferred count equals the true count (Section 3.1, Figure 3).

    $$
    \mathrm{acc} = \frac{1}{M} \sum_{m} [\hat n_m = n_m]
    $$
    """
    a, b = np.asarray(counts_true), np.asarray(counts_pred)
    if a.shape != b.shape or a.size == 0:
        raise ValueError(f"counts must be two non-empty arrays of one shape, got {a.shape}, "
                         f"{b.shape}")
    return float(np.mean(a == b))


def confusion_matrix(counts_true, counts_pred, n_max: int) -> np.ndarray:
    r"""Confusion matrix of true (rows) against inferred (columns) counts 0..n_max (Section 3.1).

    Returns an int array of shape (n_max + 1, n_max + 1).
    """
    M = np.zeros((n_max + 1, n_max + 1), dtype=int)
    np.add.at(M, (np.clip(counts_true, 0, n_max), np.clip(counts_pred, 0, n_max)), 1)
    return M


def where_to_pixels(z_where, canvas: int) -> np.ndarray:
    r"""Object centres in pixel coordinates from $z^{\text{where}} = (s, x, y)$ (Section 3.1).

    Pixel centres at integer positions (column, row), matching the scene generator:

    $$
    (c, r) = \big((x + 1) W/2 - 1/2,\; (y + 1) H/2 - 1/2\big)
    $$

    ``z_where`` (..., 3) -> (..., 2).
    """
    z = np.asarray(z_where)
    return (z[..., 1:3] + 1.0) * canvas / 2.0 - 0.5


def localisation_error(centres_true, z_where, canvas: int) -> float:
    r"""Mean distance in pixels between true and inferred centres, optimally matched (Section 3.1).

    In each scene, the $\min(n, \hat n)$ pairs of true and inferred objects are matched by the
    Hungarian algorithm on the Euclidean distance; the error is the mean distance of all
    matched pairs (NaN when no scene has a pair).

    Parameters
    ----------
    centres_true : array, shape (B, M, 2)
        True digit centres as pixel (x, y), NaN for absent digits.
    z_where : array, shape (B, N, 3)
        Inferred poses from [`infer`][reference.air.training.infer], NaN for absent steps.
    canvas : int
        Canvas side in pixels, used to convert poses to pixel centres.

    Returns
    -------
    float
        Mean matched distance in pixels, or NaN when no scene has a matched pair.
    """
    inferred = where_to_pixels(z_where, canvas)
    dists = []
    for t, p in zip(np.asarray(centres_true), inferred):
        t = t[~np.isnan(t[:, 0])]
        p = p[~np.isnan(p[:, 0])]
        if len(t) and len(p):
            D = np.linalg.norm(t[:, None, :] - p[None, :, :], axis=2)
            r, c = linear_sum_assignment(D)
            dists.extend(D[r, c])
    return float(np.mean(dists)) if dists else float("nan")


def reconstruct(params, images, max_steps: int | None = None) -> np.ndarray:
    r"""The model's canvas $\bar x = \sum_i y_i$ at the guide's deterministic latents (Section 3.1).

    images (B, H, W) -> (B, H, W).
    """
    config = params["config"]
    x = check_images(images, (config.canvas, config.canvas))
    if max_steps is not None:
        config = replace(config, max_steps=int(max_steps))
    return np.asarray(air_pass(params, x, None, config, deterministic=True)["canvas"])


def reconstruction_mse(params, images) -> float:
    r"""Mean squared pixel error of the reconstruction (Section 3.1).

    $$
    \mathrm{MSE} = \frac{1}{BHW} \sum_{b, h, w} (x_{bhw} - \bar x_{bhw})^2
    $$
    """
    x = check_images(images)
    return float(np.mean((x - reconstruct(params, x)) ** 2))


def evaluate_counting(params, images, counts, centres, max_steps: int | None = None) -> dict:
    r"""All counting measures of Section 3.1 on one test set, as a flat dict.

    Keys: ``count_accuracy``, ``count_accuracy_n{k}`` (per true count), ``localisation_error_px``,
    ``reconstruction_mse``, and ``confusion`` (the matrix as nested lists).
    """
    pred, z_where = infer(params, images, max_steps=max_steps)
    n_max = max(int(np.max(counts)), int(np.max(pred)), 1)
    out = {"count_accuracy": count_accuracy(counts, pred),
           "localisation_error_px": localisation_error(centres, z_where, images.shape[1]),
           "reconstruction_mse": float(np.mean((images - reconstruct(params, images,
                                                                     max_steps)) ** 2)),
           "confusion": confusion_matrix(counts, pred, n_max).tolist()}
    for k in np.unique(counts):
        out[f"count_accuracy_n{int(k)}"] = float(np.mean(pred[counts == k] == k))
    return out
