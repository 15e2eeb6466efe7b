r"""Section 5.2: summarising a data set by a few of its own items, and spatial point sets.

**Summarisation.** Start from $S = D$ and repeatedly remove the item whose removal keeps the
context posterior of what is left closest to that of the whole set,

$$
i^\* = \arg\min_{i \in S} \mathrm{KL}\big(q(c \mid D) \,\|\, q(c \mid S \setminus \{i\})\big),
\qquad S \leftarrow S \setminus \{i^\*\},
$$

until $|S| = k$. The paper's spatial MNIST experiment summarises digits given as sets of 2-D
points; `digit_point_sets` builds such sets from scikit-learn's bundled 8x8 digits.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
from scipy import ndimage

from reference.nn import mlp_apply

from ._checks import check_positive_int, check_rng, check_sets
from .model import _split, _x_dim, shared_encoder
from .objective import gaussian_kl

__all__ = ["summarise", "digit_point_sets"]


def summarise(params: dict, D, k: int) -> dict:
    r"""Greedy summarisation of one data set by $k$ of its items (Section 5.2).

    $$
    S_{t+1} = S_t \setminus \{i^\*_t\}, \quad
    i^\*_t = \arg\min_{i \in S_t} \mathrm{KL}\big(q(c \mid D) \,\|\, q(c \mid S_t \setminus
    \{i\})\big).
    $$

    The per-item encodings are computed once; each candidate removal only re-pools them
    (mean pooling makes that exact) and re-runs the post-pooling network.

    Parameters
    ----------
    params : dict
        A trained model (`init_params` layout); reads the shared encoder and ``post_pool``.
    D : array, shape (N, x_dim)
        One data set.
    k : int
        Summary size, 1 <= k <= N.

    Returns
    -------
    dict
        ``indices``: (k,) sorted indices of the kept items; ``removed``: indices in removal
        order; ``kl``: the KL after each removal (length N - k), each the minimum over that
        step's candidates; ``candidates``: for each step, the KL of every candidate.
    """
    D = np.asarray(D)
    if D.ndim != 2:
        raise ValueError(f"D must be one data set of shape (N, x_dim), got shape {D.shape}")
    N = check_sets(D[None], _x_dim(params))[1]
    k = check_positive_int("k", k)
    if k > N:
        raise ValueError(f"cannot summarise {N} items by {k}")
    h = np.asarray(shared_encoder(params, D[None]))[0]              # (N, hidden)

    def context(pooled):                                           # (M, hidden) -> 2 x (M, c)
        return _split(mlp_apply(params["post_pool"], pooled))

    mu_D, lv_D = context(h.mean(axis=0, keepdims=True))
    keep = list(range(N))
    removed, kls, candidates = [], [], []
    while len(keep) > k:
        hs = h[keep]                                                # (M, hidden)
        M = len(keep)
        pooled = (hs.sum(axis=0, keepdims=True) - hs) / (M - 1)     # row j: S without keep[j]
        mu, lv = context(pooled)
        kl = np.asarray(gaussian_kl(anp.broadcast_to(mu_D, mu.shape),
                                    anp.broadcast_to(lv_D, lv.shape), mu, lv))
        j = int(np.argmin(kl))
        candidates.append(kl)
        kls.append(float(kl[j]))
        removed.append(keep.pop(j))
    return {"indices": np.array(sorted(keep)), "removed": np.array(removed, int),
            "kl": np.array(kls), "candidates": candidates}


def digit_point_sets(rng: np.random.Generator, n_points: int = 50, upsample: int = 4,
                     subset: slice | None = None) -> dict:
    r"""Spatial point sets from scikit-learn's 8x8 digits, after the spatial MNIST of Section 5.2.

    Each digit image is upsampled (bilinear, factor ``upsample``), its ink is normalised to a
    distribution over pixels, ``n_points`` pixels are drawn from it, and each point is jittered
    uniformly within its pixel. Coordinates are mapped to $[-1, 1]^2$ with $y$ pointing up.

    $$
    (u, v) \sim \frac{I(u, v)}{\sum I}, \qquad x = \big(\tfrac{2(u + \epsilon_1)}{W} - 1,\;
    1 - \tfrac{2(v + \epsilon_2)}{H}\big), \quad \epsilon \sim U(0, 1)^2 .
    $$

    Parameters
    ----------
    rng : np.random.Generator
        Draws the pixels and their jitter.
    n_points : int
        Points per set (50 in the paper's spatial MNIST).
    upsample : int
        Bilinear upsampling factor of the 8x8 images before sampling (4 gives 32x32 pixels).
    subset : slice or None
        Which digits (in the order of ``sklearn.datasets.load_digits``; None = all 1,797).

    Returns
    -------
    dict
        ``D``: (n_digits, n_points, 2) float64, the $(x, y)$ coordinates of each digit's
        points in $[-1, 1]^2$; ``labels``: (n_digits,) int, the digit 0-9 of each set.
    """
    from sklearn.datasets import load_digits

    check_rng(rng)
    n_points = check_positive_int("n_points", n_points)
    digits = load_digits()
    images, labels = digits.images, digits.target
    if subset is not None:
        images, labels = images[subset], labels[subset]
    big = np.clip(ndimage.zoom(images, (1, upsample, upsample), order=1), 0, None)
    n, H, W = big.shape
    p = big.reshape(n, -1)
    p = p / p.sum(axis=1, keepdims=True)
    cdf = np.cumsum(p, axis=1)
    u = rng.uniform(size=(n, n_points)) * cdf[:, -1:]
    idx = np.minimum(np.array([np.searchsorted(cdf[i], u[i]) for i in range(n)]), H * W - 1)
    rows, cols = np.divmod(idx, W)
    jitter = rng.uniform(size=(n, n_points, 2))
    x = 2 * (cols + jitter[..., 0]) / W - 1
    y = 1 - 2 * (rows + jitter[..., 1]) / H
    return {"D": np.stack([x, y], axis=-1), "labels": labels}
