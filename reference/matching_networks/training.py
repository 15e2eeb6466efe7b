r"""The full model, episodic training (``fit``), prediction (``classify``) and saved parameters.

``params`` is a dict: ``"weights"`` (the arrays that training changes: the Conv-4 blocks, the
optional log-scale of the kernel and the optional FCE LSTMs), ``"config"`` (plain values: width,
similarity, scale, fce, K, dtype) and ``"running"`` (batch-norm population statistics, estimated
after training, for the non-transductive test mode).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import autograd.numpy as anp
import numpy as np
from autograd import value_and_grad
from autograd.misc.optimizers import adam

from ._checks import (check_character_images, check_episode, check_positive_int, check_rng,
                      check_similarity)
from reference.nn import conv4_init, conv4_stats
from .attention import log_predict, one_hot, similarity
from .embedding import embed, fce_f, fce_g, fce_init, set_g, set_init
from .episodes import ROTATIONS, sample_episode

__all__ = ["init_params", "log_probs", "fit", "classify", "save_params", "load_params",
           "cache_dir"]

_BN_MODES = ("episode", "running")


def init_params(rng, *, width=32, similarity="cosine", scale=True, fce=False, K=5,
                dtype=np.float32):
    r"""Initial parameters of a matching network (Section 4.1.1 architecture, Appendix A FCE).

    Parameters
    ----------
    rng : np.random.Generator
        Source of the random Conv-4 and FCE weights.
    width : int
        Filters per Conv-4 block (64 in the paper) and so the embedding size $D$.
    similarity : {"cosine", "dot", "neg_sqdist"}
        The $c$ of Eq. (2).
    scale : bool
        Learn a scale $s = e^{\log s}$ on the similarities (initial $s = 10$ for the cosine,
        $1$ otherwise); False is the paper's kernel.
    fce : bool or "set"
        Use the Full Context Embeddings; ``"set"`` replaces the bidirectional LSTM of $g$ by
        the order-invariant [`set_g`][reference.matching_networks.embedding.set_g].
    K : int
        Attention steps of the FCE $f$.
    dtype : numpy dtype
        Floating type of every weight array (float32 halves memory and time).

    Returns
    -------
    dict
        ``"weights"``: ``"conv"`` (the 4 Conv-4 blocks), ``"log_scale"`` (a scalar array,
        if ``scale``), ``"fce"`` (if ``fce``) and ``"set"`` (if ``fce="set"``); ``"config"``:
        ``width``, ``similarity``, ``scale``, ``fce``, ``K`` and ``dtype`` (its name);
        ``"running"``: None until [`fit`][reference.matching_networks.training.fit]
        estimates the batch-norm statistics.
    """
    check_rng(rng)
    check_similarity(similarity)
    width = check_positive_int("width", width)
    K = check_positive_int("K", K)
    weights = {"conv": conv4_init(rng, in_channels=1, width=width, dtype=dtype)}
    if scale:
        weights["log_scale"] = np.asarray(np.log(10.0 if similarity == "cosine" else 1.0),
                                          dtype=dtype)
    if fce not in (False, True, "set"):
        raise ValueError(f"fce must be False, True or 'set', got {fce!r}")
    if fce:
        weights["fce"] = fce_init(width, rng, dtype=dtype)
    if fce == "set":
        weights["set"] = set_init(width, rng, dtype=dtype)
    config = {"width": width, "similarity": similarity, "scale": bool(scale), "fce": fce,
              "K": K, "dtype": np.dtype(dtype).name}
    return {"weights": weights, "config": config, "running": None}


def log_probs(weights, config, support, y_support, query, running=None):
    r"""$\log \hat y$ for each query of one episode: embeddings, Eq. (2) kernel and Eq. (1).

    $$ \log \hat y = \log \sum_i a(\hat x, x_i)\, y_i, \qquad
       a = \operatorname{softmax}_i\big(s\, c(f(\hat x, S), g(x_i, S))\big) . $$

    Support and queries go through Conv-4 in one batch, so batch normalisation uses the
    statistics of the whole episode unless ``running`` is given.

    Parameters
    ----------
    weights, config
        From [`init_params`][reference.matching_networks.training.init_params].
    support : array, shape (M, 28, 28)
        Support images, ink 1 on background 0; cast to ``config["dtype"]``.
    y_support : array, shape (M, N), one-hot
        Support labels; every class needs at least one example.
    query : array, shape (Q, 28, 28)
        Query images, embedded in one batch with the support images.
    running : list of (mean, var), optional
        Batch-norm population statistics, one pair per Conv-4 block (``params["running"]``);
        None uses the statistics of this episode.

    Returns
    -------
    array, shape (Q, N)
        $\log \hat y_n$ for each query and class; differentiable in ``weights`` with autograd.
    """
    m = np.shape(support)[0]
    both = np.concatenate([support, query]).astype(config["dtype"])
    e = embed(weights["conv"], both, running=running)   # (M + Q, D)
    g_s, f_x = e[:m], e[m:]
    if config["fce"] == "set":
        g_s = set_g(weights["set"], g_s)
        f_x = fce_f(weights["fce"], f_x, g_s, K=config["K"])
    elif config["fce"]:
        g_s = fce_g(weights["fce"], g_s)
        f_x = fce_f(weights["fce"], f_x, g_s, K=config["K"])
    logits = similarity(f_x, g_s, config["similarity"])
    if config["scale"]:
        logits = logits * anp.exp(weights["log_scale"])
    return log_predict(logits, y_support)


def _episode_loss(weights, config, ep):
    y = one_hot(ep["support_labels"], ep["classes"].shape[0]).astype(config["dtype"])
    lp = log_probs(weights, config, ep["support"], y, ep["query"])
    return -anp.mean(lp[np.arange(len(ep["query_labels"])), ep["query_labels"]])


def fit(images, *, episodes, way, shot, rng, queries=1, width=32, similarity="cosine",
        scale=True, fce=False, K=5, step_size=1e-3, dtype=np.float32, rotations=ROTATIONS,
        alphabets=None, params=None, history=None, bn_episodes=20):
    r"""Train a matching network on episodes drawn from ``images`` (Section 2.2).

    Each step draws an N-way k-shot episode with
    [`sample_episode`][reference.matching_networks.episodes.sample_episode] and takes one Adam
    step on the episode loss (the training objective of Section 2.2, with $\hat y$ of Eq. (1)).
    Afterwards, batch-norm population statistics are estimated as the mean over
    ``bn_episodes`` training episodes of each layer's batch statistics (the non-transductive
    test mode of [`classify`][reference.matching_networks.training.classify]).

    Parameters
    ----------
    images : array, shape (C, n, 28, 28)
        Training characters (ink 1), as `load_omniglot` returns them.
    episodes : int
        Number of training episodes (Adam steps).
    way, shot, queries : int
        Episode shape: classes, support examples and queries per class.
    rng : np.random.Generator
        Draws the initial weights and every episode.
    width, similarity, scale, fce, K, dtype
        Model (see [`init_params`][reference.matching_networks.training.init_params]).
    step_size : float
        Adam learning rate.
    rotations : sequence of int
        Quarter turns used as extra classes (all four by default; ``(0,)`` for none).
    alphabets : sequence of str, optional
        Train on within-alphabet episodes.
    params : dict, optional
        Continue training these parameters instead of initialising.
    history : list, optional
        Receives one ``(episode, loss, cpu_seconds)`` tuple per step.
    bn_episodes : int
        Episodes used for the batch-norm population statistics.

    Returns
    -------
    dict
        Parameters as from ``init_params``, with ``"running"`` filled in and
        ``config["episodes"]`` the total number of training episodes.
    """
    images = check_character_images(images)
    episodes = check_positive_int("episodes", episodes, minimum=0)
    check_rng(rng)
    if params is None:
        params = init_params(rng, width=width, similarity=similarity, scale=scale, fce=fce,
                             K=K, dtype=dtype)
    config = dict(params["config"])
    objective = value_and_grad(lambda w, ep: _episode_loss(w, config, ep))
    start = time.process_time()

    def gradient(w, i):
        ep = sample_episode(images, way, shot, queries, rng, rotations=rotations,
                            alphabets=alphabets)
        loss, g = objective(w, ep)
        if history is not None:
            history.append((i, float(loss), time.process_time() - start))
        return g

    weights = params["weights"]
    if episodes > 0:
        weights = adam(gradient, weights, num_iters=episodes, step_size=step_size)
    config["episodes"] = int(config.get("episodes", 0)) + episodes
    running = _population_stats(weights["conv"], images, way, shot, queries, rng, rotations,
                                alphabets, bn_episodes, config["dtype"])
    return {"weights": weights, "config": config, "running": running}


def _population_stats(conv, images, way, shot, queries, rng, rotations, alphabets, n, dtype):
    """Mean over ``n`` training episodes of each block's batch mean and variance."""
    total = None
    for _ in range(max(int(n), 1)):
        ep = sample_episode(images, way, shot, queries, rng, rotations=rotations,
                            alphabets=alphabets)
        x = np.concatenate([ep["support"], ep["query"]]).astype(dtype)[..., None]
        stats = conv4_stats(conv, x)
        total = stats if total is None else [(a + m, b + v) for (a, b), (m, v) in
                                             zip(total, stats)]
    k = max(int(n), 1)
    return [(np.asarray(a / k, dtype), np.asarray(b / k, dtype)) for a, b in total]


def classify(params, support_images, support_labels, query_images, *, bn="episode",
             return_probs=False):
    r"""Label queries by matching them to a labelled support set (Eqs. (1)-(2)).

    The predicted label is the most probable class of Eq. (1),

    $$ \hat n = \arg\max_n \hat y_n, \qquad \hat y = \sum_i a(\hat x, x_i)\, y_i ; $$

    support labels may be any integers, and the returned labels are taken from them.

    Parameters
    ----------
    params : dict
        From [`fit`][reference.matching_networks.training.fit] or
        [`load_params`][reference.matching_networks.training.load_params].
    support_images : array, shape (M, 28, 28)
        Ink 1 on background 0.
    support_labels : int array, shape (M,)
        Label of each support image: any integers, several images may share one.
    query_images : array, shape (Q, 28, 28)
        Images to label, the same size as the support images.
    bn : {"episode", "running"}
        Batch-norm statistics at test time: those of this episode (support and queries
        together: transductive) or the population statistics estimated after training.
    return_probs : bool
        Also return $\hat y$, shape (Q, N), columns in the order of ``np.unique(support_labels)``.

    Returns
    -------
    labels : int array, shape (Q,)
        Predicted label of each query, one of the values of ``support_labels``; with
        ``return_probs`` the pair ``(labels, y_hat)``.
    """
    support, labels, query = check_episode(support_images, support_labels, query_images)
    if bn not in _BN_MODES:
        raise ValueError(f"bn must be one of {_BN_MODES}, got {bn!r}")
    running = None
    if bn == "running":
        if params.get("running") is None:
            raise ValueError("these parameters have no batch-norm population statistics; use "
                             "bn='episode' or train them with fit")
        running = params["running"]
    classes, index = np.unique(labels, return_inverse=True)
    y = one_hot(index, len(classes)).astype(params["config"]["dtype"])
    lp = log_probs(params["weights"], params["config"], support, y, query, running=running)
    pred = classes[np.argmax(lp, axis=1)]
    return (pred, np.exp(lp)) if return_probs else pred


def cache_dir():
    r"""Folder for saved parameters and decoded images (never committed), Section 4.1.1 models.

    ``$MATCHING_NETWORKS_CACHE`` if set, else the project's user cache next to the Omniglot
    files: ``pooch.os_cache("paper-reference-2016") / "matching_networks"`` (on Linux
    ``~/.cache/paper-reference-2016/matching_networks``).

    Returns
    -------
    pathlib.Path
        The folder; it is not created here.
    """
    if os.environ.get("MATCHING_NETWORKS_CACHE"):
        return Path(os.environ["MATCHING_NETWORKS_CACHE"])
    import pooch

    return Path(pooch.os_cache("paper-reference-2016")) / "matching_networks"


def save_params(params, path):
    r"""Save trained parameters (Section 4.1.1 model) as one ``.npz`` file.

    Parameters
    ----------
    params : dict
        From [`fit`][reference.matching_networks.training.fit].
    path : str or os.PathLike
        Target file; its folder is created. Written atomically.
    """
    arrays = {"config": np.array(json.dumps(params["config"]))}
    w = params["weights"]
    for i, block in enumerate(w["conv"]):
        for key, value in block.items():
            arrays[f"conv{i}_{key}"] = np.asarray(value)
    if "log_scale" in w:
        arrays["log_scale"] = np.asarray(w["log_scale"])
    for group in ("fce", "set"):
        for name, layer in w.get(group, {}).items():
            for key, value in layer.items():
                arrays[f"{group}_{name}_{key}"] = np.asarray(value)
    for i, (m, v) in enumerate(params.get("running") or []):
        arrays[f"running{i}_mean"], arrays[f"running{i}_var"] = np.asarray(m), np.asarray(v)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def load_params(path):
    r"""Load parameters saved by `save_params` (the Section 4.1.1 model).

    Parameters
    ----------
    path : str or os.PathLike
        A ``.npz`` file written by `save_params`.

    Returns
    -------
    dict
        ``"weights"`` (the arrays, laid out as by `init_params`), ``"config"`` (as saved) and
        ``"running"`` (the four batch-norm (mean, var) pairs, or None if none were saved).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no saved parameters at {path}; train with fit and save_params")
    with np.load(path) as z:
        config = json.loads(str(z["config"]))
        conv = [{k: z[f"conv{i}_{k}"] for k in ("w", "b", "gamma", "beta")} for i in range(4)]
        weights = {"conv": conv}
        if "log_scale" in z:
            weights["log_scale"] = z["log_scale"]
        if config.get("fce"):
            weights["fce"] = {n: {k: z[f"fce_{n}_{k}"] for k in ("W", "b")}
                              for n in ("g_fw", "g_bw", "f")}
        if config.get("fce") == "set":
            weights["set"] = {n: {k: z[f"set_{n}_{k}"] for k in ("W", "b")}
                              for n in ("process", "mix")}
        running = ([(z[f"running{i}_mean"], z[f"running{i}_var"]) for i in range(4)]
                   if "running0_mean" in z else None)
    return {"weights": weights, "config": config, "running": running}
