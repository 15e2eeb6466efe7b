r"""Convolutional networks for images (Section 5.3): the shared encoder's blocks and a decoder.

The paper's Omniglot model uses a convolutional shared encoder and a deconvolutional
observation decoder. The stored text of the paper we could search does not reach their layer
lists, so these are small networks of our choosing (not the paper's), built from the shared
layers of ``reference.nn``:

- encoder blocks (``conv`` parameters): four 3x3 convolution, ReLU, 2x2 max-pool blocks,
  28x28 -> 14 -> 7 -> 3 -> 1 (no batch norm: a set of one image at test time has no batch to
  normalise over);
- decoder head (``deconv`` parameters): the decoder MLP's output is read as a
  (side/4) x (side/4) x W feature map, then ReLU, 2x nearest upsampling, a 3x3 convolution
  W -> W, ReLU, upsampling and a 3x3 convolution W -> 1 giving one Bernoulli logit per pixel.
  Upsampling followed by a convolution stands in for a transposed convolution (the same
  receptive field without its checkerboard artefacts).

Both work on flattened square images of shape (B, N, side**2), the layout of the rest of the
package.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np

from reference.nn import conv2d, conv4_init, max_pool2d, relu, upsample2d

__all__ = ["conv_features", "deconv_init", "deconv_logits"]


def conv_features(blocks, D):
    r"""The shared encoder's convolution blocks (Section 5.3): (B, N, H*W) images to features.

    $$
    a^{(k+1)} = \operatorname{maxpool}\big(\operatorname{relu}(w^{(k)} * a^{(k)} + b^{(k)})\big),
    \qquad a^{(0)} = x \text{ as an } H \times W \text{ image}.
    $$

    Parameters
    ----------
    blocks : list of dict
        The ``conv`` parameters of `init_params`: ``w`` (3, 3, C_in, width) and ``b`` (width,)
        per block.
    D : array, shape (B, N, H*W)
        Sets of flattened square images.

    Returns
    -------
    array, shape (B, N, F)
        The last block's feature map, flattened (F = width for 28x28 images).
    """
    B, N, d = np.shape(D)
    side = int(round(np.sqrt(d)))
    h = anp.reshape(D, (B * N, side, side, 1))                 # (B N, H, W, 1)
    for p in blocks:
        h = relu(max_pool2d(conv2d(h, p["w"], p["b"])))       # relu and max-pool commute
    return anp.reshape(h, (B, N, -1))                          # (B, N, F)


def deconv_init(rng: np.random.Generator, width: int, dtype=np.float64) -> list:
    r"""Parameters of the decoder head of Section 5.3: two 3x3 convolutions, W -> W and W -> 1.

    Parameters
    ----------
    rng : np.random.Generator
        Source of the He-normal kernels (biases start at zero).
    width : int
        W, the channels of the feature map the decoder MLP outputs.
    dtype : numpy dtype
        dtype of every array.

    Returns
    -------
    list of 2 dicts
        ``w`` (3, 3, W, W) and ``b`` (W,), then ``w`` (3, 3, W, 1) and ``b`` (1,).
    """
    hidden = conv4_init(rng, width, width, dtype=dtype, n_blocks=1)[0]
    out = conv4_init(rng, width, 1, dtype=dtype, n_blocks=1)[0]
    return [{"w": p["w"], "b": p["b"]} for p in (hidden, out)]


def deconv_logits(blocks, features):
    r"""The decoder head of Section 5.3: MLP features to one Bernoulli logit per pixel.

    $$
    \ell = w^{(2)} * \operatorname{up}\Big(\operatorname{relu}\big(w^{(1)} *
    \operatorname{up}(\operatorname{relu}(u)) + b^{(1)}\big)\Big) + b^{(2)},
    $$

    with $u$ the features read as a (side/4) x (side/4) x W map and up the nearest 2x
    upsampling (`reference.nn.upsample2d`).

    Parameters
    ----------
    blocks : list of 2 dicts
        The ``deconv`` parameters (`deconv_init`).
    features : array, shape (..., (side/4)**2 * W)
        The decoder MLP's output for each item (any leading axes).

    Returns
    -------
    logits : array, shape (..., side**2)
        One logit per pixel of the side x side image, flattened row by row.
    """
    lead, F = np.shape(features)[:-1], np.shape(features)[-1]
    W = np.shape(blocks[0]["w"])[2]
    s = int(round(np.sqrt(F // W)))                           # side / 4
    if s * s * W != F:
        raise ValueError(f"decoder output of {F} features is not a square map of {W} channels")
    u = anp.reshape(features, (-1, s, s, W))                  # (M, s, s, W), M = prod(lead)
    h = relu(conv2d(upsample2d(relu(u)), blocks[0]["w"], blocks[0]["b"]))   # (M, 2s, 2s, W)
    logits = conv2d(upsample2d(h), blocks[1]["w"], blocks[1]["b"])         # (M, 4s, 4s, 1)
    return anp.reshape(logits, tuple(lead) + (16 * s * s,))
