r"""Fine-tuning on the support set, for the classifier baseline and for the matching network.

Section 4.1.1 of Vinyals et al. (2016) compares the matching network with and without
fine-tuning on the support set, and fine-tunes the baselines too, without saying how. Here:

- [`finetune_head`][reference.matching_networks.finetune.finetune_head]: the features of a
  network (e.g. the ordinary classifier of `fit_classifier`) with a new linear softmax head
  trained on the support set, optionally with the last Conv-4 block trained as well;
- [`finetune_matching`][reference.matching_networks.finetune.finetune_matching]: a few Adam
  steps of the matching loss on pseudo-episodes built from the support set alone.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
from autograd import grad, value_and_grad
from autograd.misc.optimizers import adam
from autograd.scipy.special import logsumexp

from reference.nn import conv4_apply

from ._checks import check_episode, check_positive_int, check_rng
from .training import _episode_loss

__all__ = ["finetune_head", "support_episode", "finetune_matching"]


def _check_steps(steps, step_size):
    steps = check_positive_int("steps", steps)
    if not (np.isfinite(step_size) and step_size > 0):
        raise ValueError(f"step_size must be a positive number, got {step_size!r}")
    return steps


def finetune_head(conv_params, support, support_labels, query, *, steps=50, step_size=0.05,
                  last_block=False, weight_decay=1e-3, return_loss=False):
    r"""A new linear softmax head trained on the support set (fine-tuning, Section 4.1.1).

    The features $\phi(x)$ are the L2-normalised Conv-4 embeddings (support and queries
    embedded in one batch, as in `feature_nn`). A head $(W, b)$, started at zero, is trained
    by ``steps`` Adam steps on the support set's cross-entropy with a small weight decay,

    $$ \min_{W, b\,[, \theta_4]}\ -\frac{1}{M}\sum_{i=1}^{M}
       \log \operatorname{softmax}\big(W^\top \phi(x_i) + b\big)_{y_i}
       + \frac{\lambda}{2}\lVert W\rVert^2 , $$

    and a query takes the most probable class. With ``last_block=True`` the parameters
    $\theta_4$ of the fourth Conv-4 block are trained too (the first three blocks stay fixed;
    block 4 uses the support batch's statistics while training and the whole episode's at
    prediction).

    Parameters
    ----------
    conv_params : list of 4 dict
        Conv-4 parameters, e.g. ``fit_classifier(...)["conv"]`` or a matching network's
        ``params["weights"]["conv"]``.
    support : array, shape (M, 28, 28)
        Labelled support images: the head is trained on these alone.
    support_labels : int array, shape (M,)
        Label of each support image (any integers); the head has one class per distinct
        label.
    query : array, shape (Q, 28, 28)
        Images to label; they enter only the batch-norm statistics of the embedding.
    steps : int
        Adam steps on the support loss (positive).
    step_size : float
        Adam learning rate (for $\theta_4$ it is divided by 10).
    last_block : bool
        Also train the fourth Conv-4 block $\theta_4$; False trains the head alone.
    weight_decay : float
        $\lambda$.
    return_loss : bool
        Also return the support loss before and after training.

    Returns
    -------
    labels : int array, shape (Q,)
        (and ``(loss_before, loss_after)`` if ``return_loss``)
    """
    support, labels, query = check_episode(support, support_labels, query)
    steps = _check_steps(steps, step_size)
    if len(conv_params) != 4:
        raise ValueError(f"conv_params must hold the 4 Conv-4 blocks, got {len(conv_params)}")
    classes, y = np.unique(labels, return_inverse=True)
    m, width = len(support), np.shape(conv_params[0]["w"])[-1]
    dtype = conv_params[0]["w"].dtype
    both = np.concatenate([support, query]).astype(dtype)[..., None]
    # the first three blocks are fixed: their output is computed once, (M + Q, 3, 3, width)
    h3 = np.asarray(conv4_apply(conv_params[:3], both)).reshape(len(both), 3, 3, width)

    def features(theta4, h):
        e = conv4_apply([theta4], h)                          # (B, width)
        return e / anp.sqrt(anp.sum(e ** 2, axis=1, keepdims=True) + 1e-12)

    fixed = np.asarray(features(conv_params[3], h3))         # (M + Q, width)

    def loss(p, i=0):
        phi = features(p["theta4"], h3[:m]) if last_block else fixed[:m]
        z = anp.dot(phi, p["W"]) + p["b"]                     # (M, N)
        logp = z - logsumexp(z, axis=1, keepdims=True)
        return (-anp.mean(logp[np.arange(m), y])
                + 0.5 * weight_decay * anp.sum(p["W"] ** 2))

    params = {"W": np.zeros((width, len(classes)), dtype), "b": np.zeros(len(classes), dtype)}
    if last_block:
        params["theta4"] = {k: np.array(v) for k, v in conv_params[3].items()}
    before = float(loss(params))
    loss_grad = grad(loss)

    def gradient(p, i):
        d = loss_grad(p, i)
        if last_block:  # a smaller rate for the pretrained block than for the new head
            d["theta4"] = {k: 0.1 * v for k, v in d["theta4"].items()}
        return d

    params = adam(gradient, params, num_iters=steps, step_size=step_size)
    phi = np.asarray(features(params["theta4"], h3)) if last_block else fixed
    pred = classes[np.argmax(phi[m:] @ params["W"] + params["b"], axis=1)]
    return (pred, (before, float(loss(params)))) if return_loss else pred


def _shift(images, rng, max_shift):
    """Each image translated by its own random integer offset in [-max_shift, max_shift]^2."""
    s = int(max_shift)
    if s == 0:
        return np.array(images)
    n, h, w = images.shape
    padded = np.pad(images, ((0, 0), (s, s), (s, s)))        # (n, h + 2s, w + 2s)
    dy, dx = rng.integers(0, 2 * s + 1, size=(2, n))
    return np.stack([padded[i, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(n)])


def support_episode(support, support_labels, rng, *, max_shift=2):
    r"""A training episode built from the support set alone (fine-tuning, Section 4.1.1).

    For each class with $k > 1$ examples one example, drawn at random, is held out as the
    query and the other $k - 1$ stay in the pseudo-support (leave-one-out). A class with a
    single example (one-shot) keeps it in the pseudo-support and is queried with a copy of it
    translated by a random offset of up to ``max_shift`` pixels in each direction; held-out
    queries are translated the same way:

    $$ S' = S \setminus \{x_{q(n)}\}_{n: k_n > 1}, \qquad
       B' = \{\tau_n(x_{q(n)})\}_{n=1}^{N} . $$

    Parameters
    ----------
    support : array, shape (M, 28, 28)
        The support images of the task.
    support_labels : int array, shape (M,)
        Label of each support image (any integers).
    rng : np.random.Generator
        Draws the held-out example of each class and the translations.
    max_shift : int
        Largest translation of a pseudo-query along each axis, in pixels (0 for none).

    Returns
    -------
    dict
        ``support`` (M', 28, 28), ``support_labels`` (M',) in ``0..N-1``, ``query`` (N, 28, 28),
        ``query_labels`` (N,), ``classes`` (N,): the original labels.
    """
    support, labels, _ = check_episode(support, support_labels, support[:1])
    check_rng(rng)
    max_shift = check_positive_int("max_shift", max_shift, minimum=0)
    classes, y = np.unique(labels, return_inverse=True)
    keep = np.ones(len(y), dtype=bool)
    held = np.empty(len(classes), dtype=int)
    for n in range(len(classes)):
        members = np.flatnonzero(y == n)
        held[n] = rng.choice(members)
        if len(members) > 1:
            keep[held[n]] = False
    return {"support": support[keep], "support_labels": y[keep],
            "query": _shift(support[held], rng, max_shift), "query_labels": np.arange(len(held)),
            "classes": classes}


def finetune_matching(params, support, support_labels, *, rng, steps=10, step_size=2e-4,
                      max_shift=2, history=None):
    r"""Fine-tune a trained matching network on one support set (Section 4.1.1).

    Takes ``steps`` Adam steps on the episode loss of Section 2.2 (the $-\log \hat y$ of
    Eq. (1) at the true class), each on a fresh pseudo-episode from
    [`support_episode`][reference.matching_networks.finetune.support_episode], so no query
    label is ever used:

    $$ \theta \leftarrow \mathrm{Adam}\Big(\nabla_\theta\, \frac{1}{N} \sum_{(\hat x, n) \in B'}
       -\log \hat y_n(\hat x; S', \theta)\Big) . $$

    All weights (Conv-4, scale, FCE) are updated; score the queries afterwards with
    `classify(tuned, support, support_labels, query)` on the full support set.

    Parameters
    ----------
    params : dict
        From `fit` or `load_params`.
    support : array, shape (M, 28, 28)
        The labelled support set of the task.
    support_labels : int array, shape (M,)
        Label of each support image (any integers).
    rng : np.random.Generator
        Draws every pseudo-episode.
    steps : int
        Adam steps, one pseudo-episode each (positive).
    step_size : float
        Adam learning rate (training used 1e-3; a smaller one keeps the model near its
        trained state).
    max_shift : int
        Translation of the pseudo-queries, in pixels.
    history : list, optional
        Receives the loss of each step's pseudo-episode.

    Returns
    -------
    dict
        New parameters (``params`` is not modified); ``"running"`` is kept unchanged.
    """
    check_rng(rng)
    steps = _check_steps(steps, step_size)
    config = dict(params["config"])

    objective = value_and_grad(lambda w, ep: _episode_loss(w, config, ep))

    def gradient(w, i):
        ep = support_episode(support, support_labels, rng, max_shift=max_shift)
        loss, g = objective(w, ep)
        if history is not None:
            history.append(float(loss))
        return g

    weights = adam(gradient, params["weights"], num_iters=steps, step_size=step_size)
    return {"weights": weights, "config": config, "running": params.get("running")}
