r"""Episodes and character splits: N-way k-shot tasks drawn the same way for training and test.

Section 2.2 of Vinyals et al. (2016) trains on episodes built like the test tasks; Section 4.1.1
describes the Omniglot protocol: 1,200 characters for training, the remaining 423 for
testing, and 90-degree rotations of the training characters as extra classes. The functions
here draw such episodes from an array ``images`` of shape ``(C, n, 28, 28)`` (one row per
character, ``n`` drawers, as `reference.datasets.omniglot.load_omniglot` returns them).
"""

from __future__ import annotations

import hashlib

import numpy as np

from ._checks import check_character_images, check_positive_int, check_rng

__all__ = ["rotate", "split_characters", "sample_episode", "matching_images"]

ROTATIONS = (0, 1, 2, 3)


def rotate(images, k):
    r"""Rotate images by $k \times 90$ degrees (the class augmentation of Section 4.1.1).

    Each rotation of a character is treated as a new class, which quadruples the training
    classes (1,200 characters give 4,800 classes).

    Parameters
    ----------
    images : array, shape (..., H, W)
        Images to rotate; the rotation acts on the last two axes and keeps any leading axes.
    k : int
        Quarter turns, counter-clockwise.

    Returns
    -------
    array, shape (..., W, H)
        The rotated images (height and width swap when ``k`` is odd); a view made by
        ``np.rot90``, so copy it before writing into it.
    """
    return np.rot90(np.asarray(images), k=int(k) % 4, axes=(-2, -1))


def split_characters(names, n_train, seed):
    r"""A seeded random split of characters into training and test (Section 4.1.1).

    The paper's protocol takes 1,200 of the 1,623 Omniglot characters for training and the other
    423 for testing. The split is a permutation drawn from ``np.random.default_rng(seed)``; it is
    recorded by its seed and by the SHA-256 of the two sorted lists of names, so a results file
    names exactly which characters were held out.

    Parameters
    ----------
    names : sequence of str
        One unique name per character, e.g. ``"Alphabet/character01"``.
    n_train : int
        Characters for training (0 < n_train < len(names)).
    seed : int
        Seed of the ``np.random.default_rng`` that draws the permutation; also stored in the
        result.

    Returns
    -------
    dict
        ``train`` and ``test``: sorted int index arrays; ``seed``; ``hash``: hex SHA-256 of
        ``"train:" + "\n".join(train names) + "\ntest:" + "\n".join(test names)``.
    """
    names = [str(n) for n in names]
    if len(set(names)) != len(names):
        raise ValueError("character names must be unique (use 'Alphabet/characterNN')")
    n_train = check_positive_int("n_train", n_train)
    if n_train >= len(names):
        raise ValueError(f"n_train = {n_train} leaves no test characters out of {len(names)}")
    order = np.random.default_rng(seed).permutation(len(names))
    train, test = np.sort(order[:n_train]), np.sort(order[n_train:])
    text = "train:" + "\n".join(sorted(names[i] for i in train)) + "\ntest:" + "\n".join(
        sorted(names[i] for i in test))
    return {"train": train, "test": test, "seed": int(seed),
            "hash": hashlib.sha256(text.encode()).hexdigest()}


def sample_episode(images, way, shot, queries, rng, *, rotations=ROTATIONS, alphabets=None):
    r"""Draw one N-way k-shot episode: a support set $S$ and a batch $B$ of queries.

    Section 2.2 of Vinyals et al. (2016): pick $N$ (``way``) classes, then $k$ (``shot``)
    labelled examples of each for $S$ and ``queries`` further examples of each for $B$, all from
    different drawers. A class is a character in one of the allowed ``rotations``; two
    rotations of the same character can both appear (they are different classes). With
    ``alphabets`` given, all $N$ characters come from one alphabet (within-alphabet episodes, as
    in Lake et al.'s benchmark). The support set and the queries are each shuffled, so no
    model can rely on their order.

    Parameters
    ----------
    images : array, shape (C, n, H, W)
        Character images: ``C`` characters drawn by ``n`` drawers each, as `load_omniglot`
        returns them; finite values.
    way, shot, queries : int
        $N \ge 1$, $k \ge 1$, queries per class $\ge 1$; ``shot + queries <= n``.
    rng : np.random.Generator
        Draws the classes, the drawers and the two shuffles.
    rotations : sequence of int
        Quarter turns allowed as classes; ``(0,)`` for the original orientation only.
    alphabets : sequence of str, optional
        One alphabet name per character; when given, episodes are within one alphabet.

    Returns
    -------
    dict
        ``support`` (N k, H, W), ``support_labels`` (N k,) in ``0..N-1``, ``query`` (N q, H, W),
        ``query_labels`` (N q,), ``classes`` (N, 2) int: (character index, rotation).
    """
    images = check_character_images(images)
    check_rng(rng)
    way = check_positive_int("way", way)
    shot = check_positive_int("shot", shot)
    queries = check_positive_int("queries", queries)
    n_chars, n_drawers = images.shape[:2]
    if shot + queries > n_drawers:
        raise ValueError(f"shot + queries = {shot} + {queries} exceeds the {n_drawers} drawers "
                         f"available per character; lower shot or queries")
    rotations = tuple(int(r) % 4 for r in rotations)
    if not rotations or len(set(rotations)) != len(rotations):
        raise ValueError(f"rotations must be distinct quarter turns, got {rotations}")
    if alphabets is None:
        pool = np.arange(n_chars)
    else:
        if len(alphabets) != n_chars:
            raise ValueError(f"alphabets has {len(alphabets)} names for {n_chars} characters")
        names = np.asarray(alphabets)
        uniq, counts = np.unique(names, return_counts=True)
        ok = uniq[counts * len(rotations) >= way]
        if ok.size == 0:
            raise ValueError(f"no alphabet has {way} classes for a within-alphabet episode "
                             f"(largest: {counts.max() * len(rotations)})")
        pool = np.flatnonzero(names == ok[rng.integers(ok.size)])
    n_classes = pool.size * len(rotations)
    if way > n_classes:
        raise ValueError(f"way = {way} exceeds the {n_classes} classes available")
    chosen = rng.choice(n_classes, size=way, replace=False)
    chars, rots = pool[chosen // len(rotations)], np.asarray(rotations)[chosen % len(rotations)]
    support, query = [], []
    for char, rot in zip(chars, rots):
        drawers = rng.choice(n_drawers, size=shot + queries, replace=False)
        picked = rotate(images[char, drawers], rot)
        support.append(picked[:shot])
        query.append(picked[shot:])
    s_order = rng.permutation(way * shot)
    q_order = rng.permutation(way * queries)
    return {
        "support": np.concatenate(support)[s_order],
        "support_labels": np.repeat(np.arange(way), shot)[s_order],
        "query": np.concatenate(query)[q_order],
        "query_labels": np.repeat(np.arange(way), queries)[q_order],
        "classes": np.stack([chars, rots], axis=1),
    }


def matching_images(a, b):
    r"""Which images of ``a`` are pixel-for-pixel identical to some image of ``b``.

    The leakage check behind Section 4.1.1's split: Lake et al.'s 20 one-shot runs are drawn
    from the evaluation alphabets, and at 28x28 many of their images equal evaluation-set
    images, so a model scored on the runs must not have trained on any of them. Exact equality
    is tested through a hash of each image's bytes, then confirmed element-wise:

    $$ \mathrm{match}_j = \exists\, l:\ a_j = b_l . $$

    Parameters
    ----------
    a : array, shape (..., H, W)
        Images to look up, with any leading axes.
    b : array, shape (..., H, W)
        Images to search, with any leading axes and the same H and W as ``a``.

    Returns
    -------
    bool array, shape a.shape[:-2]
        True where that image of ``a`` equals some image of ``b`` exactly (compared as
        float64).
    """
    a, b = np.asarray(a), np.asarray(b)
    if a.shape[-2:] != b.shape[-2:]:
        raise ValueError(f"images differ in size: {a.shape[-2:]} and {b.shape[-2:]}")
    flat_a = np.ascontiguousarray(a.reshape(-1, *a.shape[-2:]), dtype=np.float64)
    flat_b = np.ascontiguousarray(b.reshape(-1, *b.shape[-2:]), dtype=np.float64)
    index = {}
    for j, img in enumerate(flat_b):
        index.setdefault(hashlib.sha1(img.tobytes()).digest(), []).append(j)
    out = np.zeros(len(flat_a), dtype=bool)
    for j, img in enumerate(flat_a):
        hits = index.get(hashlib.sha1(img.tobytes()).digest(), ())
        out[j] = any(np.array_equal(img, flat_b[h]) for h in hits)
    return out.reshape(a.shape[:-2])
