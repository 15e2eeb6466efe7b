r"""Multi-digit scenes from scikit-learn's bundled 8x8 digits (Section 3.1 of Eslami et al. 2016).

The paper places 0, 1 or 2 MNIST digits on a 50x50 canvas. Here, at a scale a laptop trains in a
minute, scikit-learn's 1,797 bundled 8x8 digits are resized to 9-12 px squares and placed, without
overlap, on a 32x32 canvas. The digit images are split once into disjoint training and test pools,
so that test scenes never reuse a digit image seen in training.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.ndimage import zoom

from ._checks import check_positive_int, check_rng

__all__ = ["CANVAS", "TEST_SEED", "digit_pool", "make_scenes", "test_scenes"]

#: Canvas side in pixels.
CANVAS = 32
#: Seed of the fixed test set (independent of every training seed).
TEST_SEED = 20160318
_SPLIT_SEED = 1603
_N_TEST_DIGITS = 500


def digit_pool(split: str) -> np.ndarray:
    r"""The 8x8 digit images of one split, scaled to [0, 1] (Section 3.1).

    A fixed permutation of scikit-learn's 1,797 digits gives 1,297 training and 500 test images;
    the two pools are disjoint.

    Parameters
    ----------
    split : {"train", "test"}
        Which pool to return: 1,297 training or 500 test digit images.

    Returns
    -------
    ndarray
        Shape (n, 8, 8), float64 intensities in [0, 1]; a fresh copy, so editing it leaves the
        cached pool untouched.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    return _pool(split).copy()


@lru_cache(maxsize=None)
def _pool(split):
    from sklearn.datasets import load_digits

    images = load_digits().images / 16.0
    order = np.random.default_rng(_SPLIT_SEED).permutation(len(images))
    idx = order[_N_TEST_DIGITS:] if split == "train" else order[:_N_TEST_DIGITS]
    return images[idx]


@lru_cache(maxsize=None)
def _resized(split, k):
    """The split's digits bilinearly resized to k x k and clipped to [0, 1], (n, k, k)."""
    glyphs = np.stack([zoom(g, k / 8.0, order=1)[:k, :k] for g in _pool(split)])
    return np.clip(glyphs, 0.0, 1.0)


def _place(rng, sizes, canvas, tries):
    """Top-left corners of non-overlapping squares, or None after ``tries`` attempts."""
    for _ in range(tries):
        corners = [(int(rng.integers(0, canvas - k + 1)), int(rng.integers(0, canvas - k + 1)))
                   for k in sizes]
        ok = True
        for a in range(len(sizes)):
            for b in range(a):
                (ya, xa), (yb, xb), ka, kb = corners[a], corners[b], sizes[a], sizes[b]
                if ya < yb + kb and yb < ya + ka and xa < xb + kb and xb < xa + ka:
                    ok = False
        if ok:
            return corners
    return None


def make_scenes(n: int, rng: np.random.Generator, counts=(0, 1, 2), split: str = "train",
                size_range=(9, 12), canvas: int = CANVAS, tries: int = 1000):
    r"""Scenes of non-overlapping digits, with exactly the drawn number of digits (Section 3.1).

    Each scene draws its count uniformly from ``counts``, then for each digit an image from the
    split's pool and a side length uniform in ``size_range`` (inclusive, pixels), and places the
    squares so that no two overlap (rejection sampling of the corners).

    Parameters
    ----------
    n : int
        Number of scenes.
    rng : np.random.Generator
        Source of the counts, digit choices, sizes and placements.
    counts : sequence of int
        Allowed digit counts, drawn uniformly.
    split : {"train", "test"}
        Digit pool the images come from (default the training pool).
    size_range : (int, int)
        Smallest and largest digit side in pixels.
    canvas : int
        Canvas side in pixels.
    tries : int
        Placement attempts per scene before giving up.

    Returns
    -------
    images : ndarray, shape (n, canvas, canvas), values in [0, 1]
        The scenes, zero background with the resized digits pasted in.
    counts : ndarray, shape (n,), int
        Number of digits drawn in each scene.
    centres : ndarray, shape (n, max(counts), 2)
        (x, y) pixel coordinates of each digit's centre (column, row; pixel centres at integers),
        NaN for absent digits.
    sizes : ndarray, shape (n, max(counts))
        Side lengths in pixels, NaN for absent digits.

    Raises
    ------
    ValueError
        If a scene cannot hold its digits without overlap after ``tries`` attempts; the generator
        never returns a scene with fewer digits than drawn.
    """
    n = check_positive_int("n", n)
    check_rng(rng)
    counts = np.asarray(counts, dtype=int)
    lo, hi = int(size_range[0]), int(size_range[1])
    if counts.size == 0 or counts.min() < 0:
        raise ValueError(f"counts must be non-negative integers, got {counts.tolist()}")
    if not 1 <= lo <= hi <= canvas:
        raise ValueError(f"size_range must satisfy 1 <= lo <= hi <= canvas, got {size_range}")
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    n_pool = len(_pool(split))
    m = max(int(counts.max()), 1)
    images = np.zeros((n, canvas, canvas))
    centres = np.full((n, m, 2), np.nan)
    sizes = np.full((n, m), np.nan)
    k_of = rng.choice(counts, size=n)
    for i in range(n):
        side = rng.integers(lo, hi + 1, size=k_of[i])
        corners = _place(rng, side, canvas, tries)
        if corners is None:
            raise ValueError(f"could not place {k_of[i]} digits of sides {side.tolist()} on a "
                             f"{canvas}x{canvas} canvas without overlap in {tries} tries; use "
                             "fewer or smaller digits or a larger canvas")
        for j, ((r, c), k) in enumerate(zip(corners, side)):
            images[i, r:r + k, c:c + k] = _resized(split, int(k))[rng.integers(n_pool)]
            centres[i, j] = (c + (k - 1) / 2.0, r + (k - 1) / 2.0)
            sizes[i, j] = k
    return images, k_of, centres, sizes


def test_scenes(n: int = 1000, counts=(0, 1, 2), seed: int = TEST_SEED):
    r"""The fixed test set: ``n`` scenes of test-pool digits from their own seed (Section 3.1).

    Returns the same four arrays as [`make_scenes`][reference.air.data.make_scenes]; the same
    arguments always give the same scenes.
    """
    return make_scenes(n, np.random.default_rng(seed), counts=counts, split="test")
