r"""The matching-network classifier: Eq. (1), the attention kernel of Eq. (2) and the loss.

Everything here works on embeddings: query embeddings $f(\hat x)$, shape ``(Q, D)``, and support
embeddings $g(x_i)$, shape ``(M, D)``, with one-hot support labels $y_i$, shape ``(M, N)``.
The embedding networks are in `reference.matching_networks.embedding`.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
from autograd.scipy.special import logsumexp

from ._checks import check_embeddings, check_one_hot, check_similarity

__all__ = ["predict", "attention", "similarity", "log_predict", "episode_loss", "one_hot"]

_EPS = 1e-8          # guards the cosine against a zero-length embedding
_NEG = -1e30         # log 0 for the class masks (finite, so no inf - inf)
_MAX_ELEMENTS = 2 ** 24   # largest (queries, N, M) block built at once (64 MiB in float32)


def predict(a, y_support):
    r"""The label distribution of each query: an attention-weighted vote of the support labels.

    Implements Eq. (1) of Vinyals et al. (2016):

    $$ \hat y = \sum_{i=1}^{k} a(\hat x, x_i)\, y_i . $$

    Because each row of ``a`` is a distribution over the support set and the $y_i$ are one-hot,
    $\hat y$ is already a distribution over the $N$ classes: no second softmax is applied.

    Parameters
    ----------
    a : array, shape (Q, M)
        Attention of each query over the $M$ support examples (rows sum to one), from
        [`attention`][reference.matching_networks.attention.attention].
    y_support : array, shape (M, N)
        One-hot labels of the support set.

    Returns
    -------
    y_hat : array, shape (Q, N), rows sum to one
        Predicted class distribution of each query: ``y_hat[j, n]`` is the attention mass
        query $j$ puts on the support examples of class $n$.

    Examples
    --------
    >>> a = np.array([[0.7, 0.2, 0.1]])
    >>> predict(a, np.eye(3)[[0, 1, 1]]).round(2)
    array([[0.7, 0.3, 0. ]])
    """
    check_one_hot(y_support, np.shape(a)[-1])
    return anp.dot(a, y_support)


def similarity(f_x, g_s, kind="cosine"):
    r"""Pairwise similarity $c(f(\hat x), g(x_i))$ between queries and support examples.

    The kernel of Eq. (2) of Vinyals et al. (2016) uses the cosine,

    $$ c(u, v) = \frac{u^\top v}{\lVert u \rVert\, \lVert v \rVert} ; $$

    ``kind="dot"`` gives $u^\top v$ and ``kind="neg_sqdist"`` gives $-\lVert u - v\rVert^2$, the two
    alternatives compared in the gallery.

    Parameters
    ----------
    f_x : array, shape (Q, D)
        Query embeddings $f(\hat x)$, one row per query.
    g_s : array, shape (M, D)
        Support embeddings $g(x_i)$, one row per support example, with the same $D$ as ``f_x``.
    kind : {"cosine", "dot", "neg_sqdist"}
        The similarity: the cosine of Eq. (2) (in $[-1, 1]$; 0 for an all-zero embedding),
        the dot product $u^\top v$, or the negative squared distance $-\lVert u - v\rVert^2$
        (at most 0).

    Returns
    -------
    c : array, shape (Q, M)
        ``c[j, i]`` is the similarity of query $j$ to support example $i$: the logits of
        Eq. (2) before any scale.
    """
    check_similarity(kind)
    check_embeddings(f_x, g_s)
    dots = anp.dot(f_x, g_s.T)  # (Q, M)
    if kind == "dot":
        return dots
    f_sq = anp.sum(f_x ** 2, axis=1, keepdims=True)   # (Q, 1)
    g_sq = anp.sum(g_s ** 2, axis=1)[None, :]          # (1, M)
    if kind == "neg_sqdist":
        return 2.0 * dots - f_sq - g_sq
    # eps inside the root: sqrt's derivative is infinite at 0, and a ReLU embedding can be all 0
    return dots / anp.sqrt(f_sq * g_sq + _EPS ** 2)


def _logits(f_x, g_s, kind, scale):
    c = similarity(f_x, g_s, kind)
    return c if scale is None else c * scale


def attention(f_x, g_s, kind="cosine", scale=None):
    r"""The attention kernel: a softmax over the support set of the similarities.

    Implements Eq. (2) of Vinyals et al. (2016):

    $$ a(\hat x, x_i) = \frac{e^{c(f(\hat x), g(x_i))}}
           {\sum_{j=1}^{k} e^{c(f(\hat x), g(x_j))}} . $$

    With ``scale`` $s$ the exponent is $s\, c(\cdot, \cdot)$. The paper has no such temperature;
    because the cosine lies in $[-1, 1]$, without it a one-shot 20-way query can put at most
    $e / (e + 19 e^{-1}) \approx 0.28$ on the right class, so the loss cannot approach zero.
    The learned scale is our documented deviation.

    Parameters
    ----------
    f_x : array, shape (Q, D)
        Query embeddings.
    g_s : array, shape (M, D)
        Support embeddings.
    kind : {"cosine", "dot", "neg_sqdist"}
        The similarity $c$ (see [`similarity`][reference.matching_networks.attention.similarity]).
    scale : float or scalar array, optional
        Multiplies the similarities (a learned temperature); None is the paper's kernel.

    Returns
    -------
    a : array, shape (Q, M), each row sums to one
        ``a[j, i]`` is $a(\hat x_j, x_i)$, the weight query $j$ puts on support example $i$.
    """
    logits = _logits(f_x, g_s, kind, scale)
    return anp.exp(logits - logsumexp(logits, axis=1, keepdims=True))


def log_predict(logits, y_support):
    r"""$\log \hat y$ of Eq. (1) computed stably from the kernel's logits.

    With $a = \operatorname{softmax}(\ell)$ (Eq. (2)) and one-hot $y_i$, the probability of class
    $n$ in Eq. (1) is a ratio of sums of exponentials, so

    $$ \log \hat y_n = \log \sum_{i:\, y_i = n} e^{\ell_i} - \log \sum_{j} e^{\ell_j} , $$

    two log-sum-exps, exact even where $\hat y_n$ underflows.

    Parameters
    ----------
    logits : array, shape (Q, M)
        $\ell_i = s\, c(f(\hat x), g(x_i))$.
    y_support : array, shape (M, N), one-hot
        Labels of the support set, one row per support example; every class needs at least
        one example.

    Returns
    -------
    log_y_hat : array, shape (Q, N)
        $\log \hat y_n$ for each query and class (at most 0; the exponentials of each row sum
        to one).
    """
    y_support = check_one_hot(y_support, np.shape(logits)[1])
    if np.all(y_support.sum(axis=0) == 1):
        # one example per class: the class sum has a single term, its logit (exact, no (Q, N, M))
        per_class = logits[:, np.argmax(y_support, axis=0)]                      # (Q, N)
    else:
        mask = np.where(y_support.T > 0, 0.0, _NEG).astype(np.result_type(logits))  # (N, M)
        q, (m, n) = np.shape(logits)[0], y_support.shape
        chunk = max(1, _MAX_ELEMENTS // (m * n))      # queries per (chunk, N, M) block
        per_class = anp.concatenate([
            logsumexp(logits[j:j + chunk, None, :] + mask[None, :, :], axis=2)  # (chunk, N)
            for j in range(0, q, chunk)])
    return per_class - logsumexp(logits, axis=1, keepdims=True)


def episode_loss(f_x, g_s, y_support, query_labels, kind="cosine", scale=None):
    r"""The episode loss: the mean negative log-probability of each query's true class.

    The training objective of Section 2.2 of Vinyals et al. (2016) maximises, over episodes
    (a label set $L$, a support set $S$ and a batch $B$ drawn from $L$),

    $$ \mathbb E_{L}\Big[\mathbb E_{S, B \sim L}\Big[\sum_{(x, y) \in B}
       \log P_\theta(y \mid x, S)\Big]\Big] ; $$

    this function returns $-\frac{1}{|B|}\sum_{(x,y) \in B} \log \hat y_y$ for one episode, with
    $\hat y$ from Eq. (1) (no second softmax).

    Parameters
    ----------
    f_x : array, shape (Q, D)
        Query embeddings $f(\hat x)$ of the batch $B$.
    g_s : array, shape (M, D)
        Support embeddings $g(x_i)$ of the support set $S$.
    y_support : array, shape (M, N), one-hot
        Labels of the support set; every class needs at least one example.
    query_labels : int array, shape (Q,)
        True class of each query, in ``0 .. N-1`` (a column of ``y_support``).
    kind, scale
        As in [`attention`][reference.matching_networks.attention.attention].

    Returns
    -------
    loss : scalar
        Mean over the $Q$ queries of $-\log \hat y_y$, in nats ($\ge 0$); differentiable with
        autograd in ``f_x``, ``g_s`` and ``scale``.
    """
    query_labels = np.asarray(query_labels)
    if query_labels.shape != (np.shape(f_x)[0],):
        raise ValueError(f"query_labels must have shape ({np.shape(f_x)[0]},), got "
                         f"{query_labels.shape}")
    log_y = log_predict(_logits(f_x, g_s, kind, scale), y_support)
    return -anp.mean(log_y[np.arange(len(query_labels)), query_labels])


def one_hot(labels, n_classes=None):
    r"""One-hot rows $y_i$ for integer labels (the label encoding used by Eq. (1)).

    $$ (y_i)_n = [\,\mathrm{label}_i = n\,] $$

    Parameters
    ----------
    labels : int array, shape (M,), values in ``0 .. N-1``
        Class index of each example (non-negative, below ``n_classes``).
    n_classes : int, optional
        $N$; default ``labels.max() + 1``.

    Returns
    -------
    y : float64 array, shape (M, N)
        Row $i$ has a 1 in column ``labels[i]`` and 0 elsewhere.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer) or (labels < 0).any():
        raise ValueError(f"labels must be a 1-D array of non-negative integers, got {labels!r}")
    n = int(labels.max()) + 1 if n_classes is None else int(n_classes)
    if labels.size and labels.max() >= n:
        raise ValueError(f"label {labels.max()} does not fit in {n} classes")
    return np.eye(n)[labels]
