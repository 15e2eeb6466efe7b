r"""The embedding functions f and g: the Conv-4 network and the Full Context Embeddings.

The image embedding $f' = g'$ is the Conv-4 network of Section 4.1.1 of Vinyals et al. (2016),
taken from the shared layers (`reference.nn.conv4_apply`). The Full Context Embeddings (FCE) of
Appendix A make the embeddings depend on the whole support set $S$: $g$ with a bidirectional
LSTM (Appendix A.2), $f$ with an LSTM that attends over $g(S)$ for $K$ steps (Appendix A.1).
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
from autograd.scipy.special import logsumexp

from ._checks import check_embeddings, check_positive_int, check_rng
from reference.nn import bilstm, conv4_apply, dense_apply, dense_init, lstm_cell, lstm_init

__all__ = ["embed", "fce_init", "fce_g", "fce_f", "set_init", "set_g"]


def embed(conv_params, images, running=None):
    r"""The image embedding $f'(x) = g'(x)$: Conv-4 on 28x28 images.

    Section 4.1.1 of Vinyals et al. (2016): four blocks of 3x3 convolution (64 filters in the
    paper; ``width`` here), batch normalisation, ReLU and 2x2 max-pooling. With floor pooling
    the spatial size goes 28 -> 14 -> 7 -> 3 -> 1, so the output is $1 \times 1 \times$ width,
    flattened:

    $$ f'(x) = \mathrm{flatten}\big(B_4(B_3(B_2(B_1(x))))\big) \in \mathbb R^{\mathrm{width}} . $$

    Parameters
    ----------
    conv_params : list of 4 dict
        From `reference.nn.conv4_init`.
    images : array, shape (B, 28, 28)
        Ink 1 on background 0.
    running : list of 4 (mean, var) pairs, optional
        Batch-norm statistics to use; None uses the statistics of this batch (at test time the
        transductive "episode statistics": support and queries embedded together).

    Returns
    -------
    array, shape (B, width)
        One embedding per image: the flattened $1 \times 1 \times$ width output of the
        fourth block (non-negative, as it follows a ReLU).
    """
    if np.ndim(images) != 3:
        raise ValueError(f"images must be (B, H, W), got shape {np.shape(images)}")
    return conv4_apply(conv_params, images[..., None], running=running)


def fce_init(dim, rng, dtype=np.float64):
    r"""Parameters of the Full Context Embeddings of Appendix A of Vinyals et al. (2016).

    Three LSTMs with hidden size ``dim`` (the embedding size, so the additive skips of
    Appendix A add like to like): the forward and backward LSTMs of $g$ (Appendix A.2) and the
    attention LSTM of $f$ (Appendix A.1), whose input is $[f'(\hat x), r_{k-1}]$ of size
    $2\,\mathrm{dim}$.

    Parameters
    ----------
    dim : int
        Embedding size $D$ (the Conv-4 ``width``) and hidden size of all three LSTMs; positive.
    rng : np.random.Generator
        Source of the random LSTM weights.
    dtype : numpy dtype
        Floating type of every parameter array.

    Returns
    -------
    dict
        ``"g_fw"`` and ``"g_bw"``: the forward and backward LSTMs of $g$ (input size ``dim``);
        ``"f"``: the attention LSTM of $f$ (input size ``2 * dim``); each a ``{"W", "b"}``
        dict as `reference.nn.lstm_init` returns it.
    """
    dim = check_positive_int("dim", dim)
    check_rng(rng)
    return {"g_fw": lstm_init(dim, dim, rng, dtype=dtype),
            "g_bw": lstm_init(dim, dim, rng, dtype=dtype),
            "f": lstm_init(2 * dim, dim, rng, dtype=dtype)}


def fce_g(fce_params, g_prime):
    r"""The support-set embedding $g(x_i, S)$: a bidirectional LSTM with an additive skip.

    Appendix A.2 of Vinyals et al. (2016): the support embeddings $g'(x_1), \dots, g'(x_k)$ are
    read as a sequence, forwards and backwards, and

    $$ g(x_i, S) = \vec h_i + \overleftarrow h_i + g'(x_i) , $$

    where $\vec h_i$ is the forward LSTM's output after reading $g'(x_1..x_i)$ and
    $\overleftarrow h_i$ the backward LSTM's after reading $g'(x_k..x_i)$. The result depends on
    the order of $S$ (see the gallery on permutations).

    Parameters
    ----------
    fce_params : dict
        From [`fce_init`][reference.matching_networks.embedding.fce_init].
    g_prime : array, shape (M, D)
        Conv-4 embeddings $g'(x_i)$ of the support set, in the order the LSTMs read them;
        $D$ is the ``dim`` of ``fce_params``.

    Returns
    -------
    array, shape (M, D)
        $g(x_i, S)$ for each support example, in the order of ``g_prime``.
    """
    if np.ndim(g_prime) != 2:
        raise ValueError(f"g_prime must be (M, D), got shape {np.shape(g_prime)}")
    hs_fw, hs_bw = bilstm(fce_params["g_fw"], fce_params["g_bw"], g_prime[:, None, :])
    return hs_fw[:, 0, :] + hs_bw[:, 0, :] + g_prime


def fce_f(fce_params, f_prime, g_s, K=5):
    r"""The query embedding $f(\hat x, S)$: an LSTM attending over $g(S)$ for $K$ steps.

    Implements Eqs. (3)-(6) of Appendix A.1 of Vinyals et al. (2016). For $k = 1 \dots K$,

    $$
    \begin{aligned}
    \hat h_k, c_k &= \mathrm{LSTM}\big(f'(\hat x), [h_{k-1}, r_{k-1}], c_{k-1}\big), \\
    h_k &= \hat h_k + f'(\hat x), \\
    r_k &= \sum_{i=1}^{|S|} a(h_k, g(x_i))\, g(x_i), \qquad
    a(h_k, g(x_i)) = \operatorname{softmax}_i\big(h_k^\top g(x_i)\big),
    \end{aligned}
    $$

    and $f(\hat x, S) = h_K$. The paper prints the left side of Eq. (5) as $r_{k-1}$; the
    read-out made from $h_k$ is $r_k$, the one fed to step $k+1$.

    Notes
    -----
    Where the paper is silent we chose: $h_0 = c_0 = r_0 = 0$ (the first step sees only
    $f'(\hat x)$); $K = 5$ by default; the read-out similarity is the plain dot product of
    Eq. (6), not the cosine of Eq. (2). The LSTM of the shared layers takes an input and a
    state of the same size as its output, so the paper's concatenated state
    $[h_{k-1}, r_{k-1}]$ is passed as $h_{k-1}$ with $r_{k-1}$ appended to the input: the gates
    see the same vector $[f'(\hat x), h_{k-1}, r_{k-1}]$ and the products are identical.

    Parameters
    ----------
    fce_params : dict
        From [`fce_init`][reference.matching_networks.embedding.fce_init].
    f_prime : array, shape (Q, D)
        Conv-4 embeddings of the queries.
    g_s : array, shape (M, D)
        Support embeddings $g(x_i, S)$ from [`fce_g`][reference.matching_networks.embedding.fce_g].
    K : int
        Number of attention steps ("reads").

    Returns
    -------
    array, shape (Q, D)
        $f(\hat x, S) = h_K$ for each query, in the order of ``f_prime``.
    """
    K = check_positive_int("K", K)
    check_embeddings(f_prime, g_s)
    h = anp.zeros(np.shape(f_prime), dtype=np.result_type(f_prime))
    c = h
    r = h
    for _ in range(K):
        h_hat, c = lstm_cell(fce_params["f"], anp.concatenate([f_prime, r], axis=1), h, c)
        h = h_hat + f_prime                                          # Eq. (4)
        logits = anp.dot(h, g_s.T)                                   # Eq. (6), (Q, M)
        a = anp.exp(logits - logsumexp(logits, axis=1, keepdims=True))
        r = anp.dot(a, g_s)                                          # Eq. (5), r_k, (Q, D)
    return h


def set_init(dim, rng, dtype=np.float64):
    r"""Parameters of the order-invariant alternative to $g$ (the "process" block, Section 4.2).

    An LSTM with state size ``dim`` that reads the support set by attention (Section 4.2 of
    Vinyals, Bengio and Kudlur, 2016, "Order Matters") and a dense layer from
    $[g'(x_i), r_T]$ (size $2\,\mathrm{dim}$) to ``dim``.

    Parameters
    ----------
    dim : int
        Embedding size $D$: state size of the process LSTM and output size of the dense
        layer; positive.
    rng : np.random.Generator
        Source of the random weights.
    dtype : numpy dtype
        Floating type of every parameter array.

    Returns
    -------
    dict
        ``"process"``: the LSTM ``{"W", "b"}`` of `reference.nn.lstm_init`, input and state
        size ``dim``; ``"mix"``: the dense layer ``{"W": (2 dim, dim), "b": (dim,)}``, its
        Glorot weights scaled by 0.1 so the $\tanh$ term starts small.
    """
    dim = check_positive_int("dim", dim)
    check_rng(rng)
    mix = dense_init(2 * dim, dim, rng)
    return {"process": lstm_init(dim, dim, rng, dtype=dtype),
            "mix": {"W": (0.1 * mix["W"]).astype(dtype), "b": mix["b"].astype(dtype)}}


def set_g(set_params, g_prime, T=3):
    r"""An order-invariant support embedding: attention over the set instead of a BiLSTM.

    The "process" block of Section 4.2 of Vinyals, Bengio and Kudlur (2016) summarises a set
    $m_i = g'(x_i)$ with an LSTM that has no input of its own and reads the set by content
    attention for $T$ steps,

    $$
    \begin{aligned}
    q_t, c_t &= \mathrm{LSTM}(r_{t-1}, q_{t-1}, c_{t-1}), \qquad
    r_t = \sum_i \operatorname{softmax}_i(q_t^\top m_i)\, m_i , \\
    g(x_i, S) &= g'(x_i) + \tanh\big([g'(x_i), r_T]\, W + b\big) ,
    \end{aligned}
    $$

    with $q_0 = c_0 = r_0 = 0$. Every step is a function of the set, so $g(x_i, S)$ does not
    depend on the order of $S$ (a test checks it), unlike
    [`fce_g`][reference.matching_networks.embedding.fce_g]. Used with
    [`fce_f`][reference.matching_networks.embedding.fce_f] for the queries.

    Parameters
    ----------
    set_params : dict
        From [`set_init`][reference.matching_networks.embedding.set_init].
    g_prime : array, shape (M, D)
        Conv-4 embeddings $m_i = g'(x_i)$ of the support set, in any order; $D$ is the
        ``dim`` of ``set_params``.
    T : int
        Processing steps.

    Returns
    -------
    array, shape (M, D)
        $g(x_i, S)$ for each support example, in the order of ``g_prime``: permuting the
        rows of ``g_prime`` permutes the output rows the same way.
    """
    T = check_positive_int("T", T)
    if np.ndim(g_prime) != 2:
        raise ValueError(f"g_prime must be (M, D), got shape {np.shape(g_prime)}")
    q = anp.zeros((1, np.shape(g_prime)[1]), dtype=np.result_type(g_prime))
    c = r = q
    for _ in range(T):
        q, c = lstm_cell(set_params["process"], r, q, c)
        logits = anp.dot(q, g_prime.T)                               # (1, M)
        a = anp.exp(logits - logsumexp(logits, axis=1, keepdims=True))
        r = anp.dot(a, g_prime)                                      # (1, D)
    both = anp.concatenate([g_prime, anp.repeat(r, np.shape(g_prime)[0], axis=0)], axis=1)
    return g_prime + anp.tanh(dense_apply(set_params["mix"], both))
