r"""The model of Section 3: the generative model, the statistic network and the inference network.

A data set $D = (x_1, \dots, x_N)$ has one context $c$ and each item $x_i$ has $L$ stochastic
layers $z_i = (z_{i,1}, \dots, z_{i,L})$, generated top-down (Eq. (5) of the arXiv text, as we
read it):

$$
p(D, Z, c) = p(c) \prod_{i=1}^{N} p(z_{i,L} \mid c)
\prod_{l=1}^{L-1} p(z_{i,l} \mid z_{i,l+1}, c)\; p(x_i \mid z_{i,1:L}, c),
$$

and the approximate posterior has the same structure (Eq. (6)):
$q(c \mid D) \prod_i q(z_{i,L} \mid x_i, c) \prod_{l<L} q(z_{i,l} \mid z_{i,l+1}, x_i, c)$.
Every conditional is a diagonal Gaussian (or Bernoulli for binary images) whose parameters are
the output of a small network fed with the concatenation of its parents; each $z_l$ feeds the
observation decoder directly (the skip connections of the paper's Figure 1).

Parameters are a dict of lists of ``reference.nn`` dense layers; the configuration (dimensions,
number of layers, likelihood, prior interpolation) is read back from the array shapes, so a
trained ``params`` is all that the uses (few-shot, summarisation, generation) need.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
from autograd.scipy.special import logsumexp
from autograd.tracer import getval

from reference.nn import conv4_init, mlp_apply, mlp_init, relu

from ._checks import check_positive_int, check_rng, check_sets
from .convolutional import conv_features, deconv_init, deconv_logits

__all__ = [
    "init_params", "shared_encoder", "statistic_network", "latent_decoder",
    "inference_network", "observation_decoder",
]


def _mlp_multi(layers, inputs):
    r"""An MLP whose first layer reads several inputs without concatenating them.

    The first weight matrix is split by rows, one block per input, and the products are summed
    with broadcasting, so a per-set input of shape (B, 1, k) meets per-item inputs (B, N, j)
    without being copied N times. Hidden layers use ReLU; the output layer is affine.
    """
    W, b = layers[0]["W"], layers[0]["b"]
    h, start = b, 0
    for x in inputs:
        k = np.shape(x)[-1]
        h = h + anp.dot(x, W[start:start + k])
        start += k
    if start != np.shape(W)[0]:
        raise ValueError(f"network expects {np.shape(W)[0]} input features, got {start}")
    if len(layers) == 1:
        return h
    return mlp_apply(layers[1:], relu(h))


def _split(out):
    """Split a network output (..., 2k) into a Gaussian's mean and log-variance (..., k)."""
    k = np.shape(out)[-1] // 2
    return out[..., :k], anp.clip(out[..., k:], -12.0, 8.0)


def _cast(tree, dtype):
    if isinstance(tree, dict):
        return {k: _cast(v, dtype) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_cast(v, dtype) for v in tree]
    return np.asarray(tree, dtype=dtype)


def init_params(rng: np.random.Generator, x_dim: int, *, c_dim: int = 3, z_dim: int = 16,
                n_layers: int = 1, hidden: int = 128, depth: int = 3,
                likelihood: str = "gaussian", prior_interpolation: bool = False,
                n_components: int = 5, conv_width: int = 0, deconv_width: int = 0,
                dtype=np.float64) -> dict:
    r"""Initial parameters of the full model of Section 3 (Figure 1, right).

    Networks (each an MLP of ``depth`` dense layers, ReLU between them):

    - ``encoder``: the shared per-item encoder $h_i = E(x_i)$ (Section 3.4), used by both the
      statistic network and the inference network;
    - ``post_pool``: pooled encoding $\to$ mean and log-variance of $q(c \mid D)$;
    - ``q_z[j]``: $q(z_l \mid z_{l+1}, x, c)$ for $l = L - j$ (top layer first);
    - ``p_z[j]``: $p(z_l \mid z_{l+1}, c)$, same order;
    - ``decoder``: $p(x \mid z_{1:L}, c)$, a diagonal Gaussian (mean and log-variance per
      feature), a Bernoulli (logits), or (``"mixture"``, our addition for the 1-D families)
      a mixture of ``n_components`` diagonal Gaussians;
    - ``interp`` (only with ``prior_interpolation``): one gate vector per layer, see
      `inference_network`;
    - ``conv`` (only with ``conv_width > 0``, square binary images): four 3x3 convolution,
      ReLU, 2x2 max-pool blocks in front of ``encoder`` (Section 5.3 uses a convolutional
      shared encoder), so a 28x28 image reaches the MLP as ``conv_width`` features;
    - ``deconv`` (only with ``deconv_width > 0``, square binary images): the decoder MLP then
      outputs a (side/4) x (side/4) x ``deconv_width`` feature map that two upsampling and
      convolution steps turn into the logits (Section 5.3's decoder is deconvolutional; see
      `reference.neural_statistician.convolutional`).

    Parameters
    ----------
    rng : np.random.Generator
        Source of the random initial weights of every network (and of the convolution
        blocks).
    x_dim : int
        Features per item (pixels per image, ``side**2``, for images).
    c_dim : int
        Dimension of the context $c$.
    z_dim : int
        Dimension of each stochastic layer $z_l$.
    n_layers : int
        $L$, the number of stochastic layers per item. 0 is allowed (no item latents:
        $p(D \mid c) = \prod_i p(x_i \mid c)$), a deviation from the paper for ablations.
    hidden : int
        Width of the hidden layers of every network, and of the encoding $h_i$ that the
        shared encoder outputs.
    depth : int
        Number of dense layers of every network (``depth - 1`` hidden layers of width
        ``hidden``).
    likelihood : {"gaussian", "bernoulli", "mixture"}
        The observation model $p(x \mid z_{1:L}, c)$: a diagonal Gaussian (mean and
        log-variance per feature), a Bernoulli per feature (logits, for binary images), or a
        mixture of ``n_components`` diagonal Gaussians (our addition for the 1-D families).
    prior_interpolation : bool
        Add the gates of the prior-interpolation layer (our reading, see `inference_network`).
    n_components : int
        Mixture components (``"mixture"`` only).
    conv_width : int
        Filters per convolution block of the shared encoder (0 = an MLP encoder). Needs the
        Bernoulli likelihood and square images of at least 16x16 pixels (``x_dim = side**2``).
    deconv_width : int
        Channels of the decoder's feature map (0 = an MLP decoder with one output per pixel).
        Needs the Bernoulli likelihood and square images whose side is a multiple of 4, at
        least 8.
    dtype : numpy dtype
        float64 (gradient checks) or float32 (faster training).

    Returns
    -------
    dict
        The networks listed above: ``encoder``, ``post_pool`` and ``decoder`` (each a list of
        ``reference.nn`` dense layers ``{"W", "b"}``), ``q_z`` and ``p_z`` (lists of
        ``n_layers`` such networks, top layer first), and, when requested, ``interp``
        (``n_layers`` gate-logit vectors of length ``2 * z_dim``, all 2.0 at the start) and
        ``conv`` (four ``{"w", "b"}`` blocks) and ``deconv`` (two ``{"w", "b"}`` blocks).
        Every array has dtype ``dtype``.
    """
    check_rng(rng)
    for name, v in (("x_dim", x_dim), ("c_dim", c_dim), ("z_dim", z_dim), ("hidden", hidden),
                    ("depth", depth), ("n_components", n_components)):
        check_positive_int(name, v)
    check_positive_int("n_layers", n_layers, minimum=0)
    if likelihood not in ("gaussian", "bernoulli", "mixture"):
        raise ValueError("likelihood must be 'gaussian', 'bernoulli' or 'mixture', "
                         f"got {likelihood!r}")
    side_px = int(round(np.sqrt(x_dim)))
    for name, width in (("conv_width", conv_width), ("deconv_width", deconv_width)):
        check_positive_int(name, width, minimum=0)
        if width and (likelihood != "bernoulli" or side_px ** 2 != x_dim):
            raise ValueError(f"{name} > 0 needs likelihood 'bernoulli' and square images, "
                             f"got {likelihood!r} and x_dim {x_dim}")
    if deconv_width and (side_px % 4 or side_px < 8):
        raise ValueError("deconv_width > 0 needs images whose side is a multiple of 4 and at "
                         f"least 8 (two 2x upsamplings), got {side_px}x{side_px}")
    side = int(round(np.sqrt(x_dim))) // 16          # after four 2x2 poolings (28 -> 1)
    if conv_width and side < 1:
        raise ValueError(f"conv_width > 0 needs images of at least 16x16, got x_dim {x_dim}")
    H, inner = hidden, [hidden] * (depth - 1)
    out_x = {"gaussian": 2 * x_dim, "bernoulli": x_dim,
             "mixture": n_components * (1 + 2 * x_dim)}[likelihood]
    if deconv_width:                              # a (side/4, side/4, W) map, flattened
        out_x = (side_px // 4) ** 2 * deconv_width
    params = {
        "encoder": mlp_init([conv_width * side ** 2 or x_dim] + inner + [H], rng),
        "post_pool": mlp_init([H] + inner + [2 * c_dim], rng),
        "q_z": [mlp_init([H + c_dim + (z_dim if j else 0)] + inner + [2 * z_dim], rng)
                for j in range(n_layers)],
        "p_z": [mlp_init([c_dim + (z_dim if j else 0)] + inner + [2 * z_dim], rng)
                for j in range(n_layers)],
        "decoder": mlp_init([n_layers * z_dim + c_dim] + inner + [out_x], rng),
    }
    if prior_interpolation:
        # gate logits start at 2: the posterior starts 88% data-driven, 12% prior
        params["interp"] = [np.full(2 * z_dim, 2.0) for _ in range(n_layers)]
    if conv_width:
        # no batch norm (a set of one image at test time has no batch to normalise over)
        params["conv"] = [{"w": p["w"], "b": p["b"]} for p in conv4_init(rng, 1, conv_width)]
    if deconv_width:
        params["deconv"] = deconv_init(rng, deconv_width)
    return _cast(params, dtype)


def _x_dim(params) -> int:
    if "conv" not in params:                  # an MLP encoder reads the pixels
        return int(np.shape(params["encoder"][0]["W"])[0])
    width = int(np.shape(params["decoder"][-1]["W"])[1])
    if "deconv" in params:                    # a (side/4)^2 x W map becomes side^2 logits
        return 16 * width // int(np.shape(params["deconv"][0]["w"])[2])
    return width                              # Bernoulli only: one logit per pixel


def shared_encoder(params: dict, D):
    r"""The shared per-item encoder of Section 3.4: $h_i = E(x_i)$, applied to every item.

    Parameters
    ----------
    params : dict
        From `init_params`.
    D : array, shape (B, N, x_dim)
        A batch of B data sets of N items each.

    Returns
    -------
    h : array, shape (B, N, hidden)
        The encoding $E(x_i)$ of every item (after a final ReLU, so non-negative); with
        ``conv`` parameters the images first pass through the convolution blocks.
    """
    check_sets(D, _x_dim(params))
    if "conv" in params:
        D = conv_features(params["conv"], D)
    return relu(mlp_apply(params["encoder"], D))


def statistic_network(params: dict, D, h=None):
    r"""The statistic network $q(c \mid D)$ of Section 3.4: encode, mean-pool, post-pool.

    $$
    q(c \mid D) = \mathcal N\big(c;\ \mu_c(\bar h),\ \operatorname{diag}\sigma_c^2(\bar h)\big),
    \qquad \bar h = \frac{1}{N} \sum_{i=1}^{N} E(x_i).
    $$

    Mean pooling makes $q(c \mid D)$ exactly invariant to the order of the items and defined
    for any $N \ge 1$ (a single item is a set of size one, as the few-shot use needs).

    Parameters
    ----------
    params : dict
        Model parameters from `init_params` (reads ``encoder``, ``conv`` when present, and
        ``post_pool``).
    D : array, shape (B, N, x_dim)
        A batch of B data sets of N items each (any $N \ge 1$); not read when ``h`` is given.
    h : array, shape (B, N, hidden), optional
        Precomputed `shared_encoder` output (to share it with the inference network).

    Returns
    -------
    mu_c : array, shape (B, c_dim)
        Mean of $q(c \mid D)$ for each set.
    logvar_c : array, shape (B, c_dim)
        Log-variance $\log\sigma_c^2$ of $q(c \mid D)$ for each set, clipped to [-12, 8].
    """
    if h is None:
        h = shared_encoder(params, D)
    pooled = anp.mean(h, axis=1)                              # (B, hidden), already >= 0
    return _split(mlp_apply(params["post_pool"], pooled))


def latent_decoder(params: dict, layer: int, c, z_above=None):
    r"""The prior of one stochastic layer, $p(z_l \mid z_{l+1}, c)$ (Eq. (5)).

    $$
    p(z_l \mid z_{l+1}, c) = \mathcal N\big(z_l;\ \mu_l(z_{l+1}, c),\
    \operatorname{diag}\sigma_l^2(z_{l+1}, c)\big).
    $$

    For the top layer ($l = L$, ``layer=0``) the only parent is the context:
    $p(z_L \mid c)$; below it the layer above is a parent too.

    Parameters
    ----------
    params : dict
        Model parameters from `init_params` (reads the prior network ``p_z[layer]``).
    layer : int
        Position from the top: 0 is $z_L$, ``L - 1`` is $z_1$.
    c : array, shape (B, 1, c_dim)
        The context, one per set (broadcast over items).
    z_above : array, shape (B, N, z_dim) or None
        The sample of the layer above (None for the top layer).

    Returns
    -------
    mu : array, shape (B, 1 or N, z_dim)
        Mean of $p(z_l \mid z_{l+1}, c)$: shape (B, 1, z_dim) for the top layer, which
        depends on the set's context only, (B, N, z_dim) below it.
    logvar : array, shape (B, 1 or N, z_dim)
        Log-variance of the same prior, clipped to [-12, 8]; same shape as ``mu``.
    """
    inputs = [c] if z_above is None else [c, z_above]
    return _split(_mlp_multi(params["p_z"][layer], inputs))


def _gaussian_sample(mu, logvar, rng):
    eps = rng.standard_normal(np.shape(mu)).astype(np.asarray(getval(mu)).dtype)
    return mu + anp.exp(0.5 * logvar) * eps


def inference_network(params: dict, h, c, rng: np.random.Generator):
    r"""Top-down posterior and prior of the item latents (Eqs. (5)-(6)), one ancestral pass.

    For $l = L, \dots, 1$: $q(z_l \mid z_{l+1}, x, c)$ reads the item's encoding $h = E(x)$,
    the context and the sample of the layer above; its sample is reparameterised,
    $z_l = \mu + \sigma \odot \epsilon$, and fed to the prior $p(z_{l-1} \mid z_l, c)$ and to
    the posterior of the layer below.

    **Prior interpolation** (only when ``params`` has ``"interp"``). The stored text of the
    paper we could reach does not give this layer's definition, so this is our reading of the
    name, not a transcription: the posterior's parameters are a learned per-unit convex
    combination of the network's output and the prior's parameters,

    $$
    (\mu_q, \log\sigma_q^2) = \lambda \odot (\mu_\text{net}, \log\sigma_\text{net}^2)
    + (1 - \lambda) \odot (\mu_p, \log\sigma_p^2), \qquad \lambda = \operatorname{sigmoid}(a),
    $$

    so that items the network is unsure about fall back towards $p(z \mid c)$.

    Parameters
    ----------
    params : dict
        Model parameters from `init_params` (reads ``q_z``, ``p_z`` and, when present,
        ``interp``); the number of layers $L$ is ``len(params["q_z"])``.
    h : array, shape (B, N, hidden)
        `shared_encoder` output.
    c : array, shape (B, 1, c_dim)
        A context sample per set.
    rng : np.random.Generator
        Noise of the reparameterised samples.

    Returns
    -------
    list of L dicts, top layer first
        Each with ``q`` = (mu, logvar) (B, N, z_dim), ``p`` = (mu, logvar) (B, 1 or N, z_dim)
        and ``z`` the sample (B, N, z_dim).
    """
    check_rng(rng)
    layers, z = [], None
    for j in range(len(params["q_z"])):
        inputs = [h, c] if z is None else [h, c, z]
        mu_q, logvar_q = _split(_mlp_multi(params["q_z"][j], inputs))
        mu_p, logvar_p = latent_decoder(params, j, c, z)
        if "interp" in params:
            lam = 1.0 / (1.0 + anp.exp(-params["interp"][j]))
            k = np.shape(mu_q)[-1]
            mu_q = lam[:k] * mu_q + (1.0 - lam[:k]) * mu_p
            logvar_q = lam[k:] * logvar_q + (1.0 - lam[k:]) * logvar_p
        z = _gaussian_sample(mu_q, logvar_q, rng)
        layers.append({"q": (mu_q, logvar_q), "p": (mu_p, logvar_p), "z": z})
    return layers


def observation_decoder(params: dict, zs, c):
    r"""The observation model $p(x \mid z_{1:L}, c)$ of Eq. (5), fed by every layer.

    $$
    p(x \mid z_{1:L}, c) = \mathcal N\big(x;\ \mu_x(z_{1:L}, c),\
    \operatorname{diag}\sigma_x^2(z_{1:L}, c)\big) \ \text{or}\
    \prod_k \operatorname{Bernoulli}\big(x_k;\ \operatorname{sigmoid}\ell_k(z_{1:L}, c)\big).
    $$

    Parameters
    ----------
    params : dict
        Model parameters from `init_params` (reads ``decoder``, and ``deconv`` when present:
        the MLP's output then goes through `deconv_logits`); the likelihood is read back from
        the width of its output layer.
    zs : list of L arrays, shape (B, N, z_dim)
        The sample of every stochastic layer, top layer first (the ``z`` of each
        `inference_network` layer); an empty list for a model with ``n_layers = 0``.
    c : array, shape (B, 1, c_dim)
        The context sample of each set, broadcast over its N items.

    Returns
    -------
    tuple
        Gaussian: ``(mu, logvar)``, each (B, N, x_dim); Bernoulli: ``(logits,)``; mixture:
        ``(log_weights (..., K), mu (..., K, x_dim), logvar (..., K, x_dim))``.
    """
    out = _mlp_multi(params["decoder"], list(zs) + [c])
    if "deconv" in params:
        return (deconv_logits(params["deconv"], out),)
    d, width = _x_dim(params), np.shape(out)[-1]
    if width == 2 * d:
        return _split(out)
    if width == d:
        return (out,)
    K = width // (1 + 2 * d)                  # a mixture: K (1 + 2d) never equals d or 2d
    logits = out[..., :K]
    log_w = logits - logsumexp(logits, axis=-1, keepdims=True)
    rest = anp.reshape(out[..., K:K + 2 * K * d], np.shape(out)[:-1] + (K, 2 * d))
    mu, logvar = _split(rest)
    return log_w, mu, logvar
