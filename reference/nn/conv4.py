r"""The Conv-4 embedding of Matching Networks (Vinyals et al. 2016): four conv-BN-ReLU-pool blocks.

Each block: 3x3 convolution ('same', ``width`` filters), batch normalisation, ReLU, 2x2
max-pooling. A 28x28 Omniglot image becomes 14, 7, 3 and finally 1x1 with ``width`` channels, so
the embedding is a ``width``-vector.
"""

from __future__ import annotations

import numpy as np
from autograd.tracer import getval

from .normalization import batch_norm, batch_stats
from .conv import conv2d
from .dense import _check_rng, relu
from .pooling import max_pool2d

__all__ = ["conv4_init", "conv4_apply", "conv4_stats"]


def conv4_init(rng: np.random.Generator, in_channels: int = 1, width: int = 64,
               dtype=np.float64, n_blocks: int = 4) -> list:
    r"""Parameters of the Conv-4 embedding: He-normal 3x3 kernels, zero biases, BN (1, 0).

    Kernels are drawn $w \sim \mathcal N(0, 2 / (9\,C_\mathrm{in}))$ (He et al. 2015, fan-in
    $3 \cdot 3 \cdot C_\mathrm{in}$).

    Parameters
    ----------
    rng : np.random.Generator
        Source of the random kernels.
    in_channels : int
        Channels of the input images (1 for Omniglot).
    width : int
        Filters per block (64 in the paper).
    dtype : np.float64 or np.float32
        Floating type of every parameter array (float32 halves memory and time).
    n_blocks : int
        Number of blocks (4 in the paper).

    Returns
    -------
    list of dict
        One dict per block with ``w`` (3, 3, C_in, width), ``b``, ``gamma``, ``beta`` (width,).

    Examples
    --------
    >>> import numpy as np
    >>> p = conv4_init(np.random.default_rng(0), dtype=np.float32)
    >>> len(p), p[1]["w"].shape, p[1]["w"].dtype
    (4, (3, 3, 64, 64), dtype('float32'))
    """
    _check_rng(rng)
    for name, n in (("in_channels", in_channels), ("width", width), ("n_blocks", n_blocks)):
        if int(n) != n or n < 1:
            raise ValueError(f"{name} must be a positive integer, got {n!r}")
    if np.dtype(dtype) not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dtype!r}")
    params, c = [], int(in_channels)
    for _ in range(int(n_blocks)):
        w = rng.normal(0.0, np.sqrt(2.0 / (9 * c)), size=(3, 3, c, int(width)))
        params.append({"w": w.astype(dtype), "b": np.zeros(width, dtype),
                       "gamma": np.ones(width, dtype), "beta": np.zeros(width, dtype)})
        c = int(width)
    return params


def _as_nhwc(params, x):
    """Accept (N, H, W) for one-channel inputs; check the channels against the first kernel."""
    c_in = np.shape(params[0]["w"])[2]
    if np.ndim(x) == 3 and c_in == 1:
        x = x[..., None]
    if np.ndim(x) != 4:
        raise ValueError(f"x must have shape (N, H, W, {c_in}) (or (N, H, W) when C_in = 1), "
                         f"got {np.shape(x)}")
    return x


def _block(p, h, stats=None):
    if stats is None:
        # with batch statistics the conv bias cancels exactly (BN subtracts the batch mean), so
        # it is left out: same values, and its gradient is exactly zero instead of round-off
        h = batch_norm(conv2d(h, p["w"]), p["gamma"], p["beta"])
    else:
        h = batch_norm(conv2d(h, p["w"], p["b"]), p["gamma"], p["beta"],
                       mean=stats[0], var=stats[1])
    # relu and the 2x2 max commute (relu is monotone), so pool first: 4x fewer relu entries
    return relu(max_pool2d(h))


def conv4_apply(params: list, x, *, running=None):
    r"""Embed images with Conv-4: ``(N, 28, 28, C)`` -> ``(N, width)``.

    Parameters
    ----------
    params : list of dict
        From [`conv4_init`][reference.nn.conv4.conv4_init].
    x : array, shape (N, H, W, C_in) or (N, H, W) when C_in = 1
        Images; use the dtype of the parameters.
    running : list of (mean, var) pairs or None
        ``None``: batch norm with the statistics of ``x`` (training, or the transductive episode
        statistics at evaluation: embed the whole episode in one call); else one pair per block
        (running averages, see [`update_running`][reference.nn.normalization.update_running]).

    Returns
    -------
    embedding : array, shape (N, H_4 W_4 width)
        ``(N, width)`` for 28x28 inputs (after 14, 7, 3, 1).

    Notes
    -----
    Block order is conv, BN, ReLU, pool as in the paper; the code pools before the ReLU, which
    gives the same values and gradients because ReLU is monotone.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> p = conv4_init(rng)
    >>> conv4_apply(p, rng.normal(size=(5, 28, 28, 1))).shape
    (5, 64)
    """
    h = _as_nhwc(params, x)
    if running is not None and len(running) != len(params):
        raise ValueError(f"running must hold {len(params)} (mean, var) pairs, "
                         f"got {len(running)}")
    for k, p in enumerate(params):
        h = _block(p, h, None if running is None else running[k])
    return h.reshape(h.shape[0], -1)


def conv4_stats(params: list, x) -> list:
    r"""Batch statistics of each block's convolution output, to update running averages.

    Parameters
    ----------
    params : list of dict
        From [`conv4_init`][reference.nn.conv4.conv4_init].
    x : array, shape (N, H, W, C_in)
        A batch of images, in the dtype of the parameters.

    Returns
    -------
    list of tuple
        One ``(mean, var)`` pair per block, each an array of shape ``(width,)``: the batch
        statistics of that block's convolution output (plain values, not differentiated).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> stats = conv4_stats(conv4_init(rng), rng.normal(size=(4, 28, 28, 1)))
    >>> len(stats), stats[0][0].shape
    (4, (64,))
    """
    h = _as_nhwc(params, x)
    out = []
    for p in params:
        z = conv2d(h, p["w"], p["b"])
        out.append(tuple(np.asarray(getval(s)) for s in batch_stats(z)))
        h = relu(max_pool2d(batch_norm(z, p["gamma"], p["beta"])))
    return out
