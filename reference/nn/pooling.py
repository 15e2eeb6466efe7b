r"""2x2 max-pooling with stride 2 (floor on odd sizes, a hand-written VJP) and 2x upsampling."""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
from autograd.extend import defvjp, primitive
from autograd.tracer import getval

from ._checks import check_finite, check_rank

__all__ = ["max_pool2d", "upsample2d"]


def _corners(x):
    """The four strided views of the 2x2 windows, in row-major window order (cropped to even)."""
    Ho, Wo = x.shape[1] // 2, x.shape[2] // 2
    e = x[:, :2 * Ho, :2 * Wo]
    return e[:, 0::2, 0::2], e[:, 0::2, 1::2], e[:, 1::2, 0::2], e[:, 1::2, 1::2]


@primitive
def _max_pool2d(x):
    a, b, c, d = _corners(x)
    return np.maximum(np.maximum(a, b), np.maximum(c, d))


def _max_pool2d_vjp(ans, x):
    def vjp(g):
        dx = np.zeros(x.shape, g.dtype)
        free = None                                  # windows whose winner is not yet chosen
        for v, dv in zip(_corners(x), _corners(dx)):
            win = v == ans                               # first maximum in row-major order wins
            if free is None:
                free = ~win
            else:
                win &= free
                free &= ~win
            np.multiply(g, win, out=dv)
        return dx

    return vjp


defvjp(_max_pool2d, _max_pool2d_vjp)


def max_pool2d(x):
    r"""2x2 max-pooling, stride 2: $y_{n,i,j,c} = \max_{p,q \in \{0,1\}} x_{n,2i+p,2j+q,c}$.

    Odd sizes are floored: the last row/column is dropped (28 -> 14 -> 7 -> 3 -> 1), and gets
    zero gradient.

    Parameters
    ----------
    x : array, shape (N, H, W, C)
        Feature maps, channels last, with ``H`` and ``W`` at least 2.

    Returns
    -------
    y : array, shape (N, H // 2, W // 2, C)
        The maximum of each non-overlapping 2x2 window, in the dtype of ``x``.

    Notes
    -----
    Ties: the gradient of each window goes to one element only, the first maximum in
    row-major window order ``(0,0), (0,1), (1,0), (1,1)``; the others get zero. (So the
    gradient sums to the upstream gradient, as for a subgradient choice; a ReLU before the pool
    makes ties among zeros common.)

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> max_pool2d(x)[0, :, :, 0]
    array([[ 5.,  7.],
           [13., 15.]])
    """
    check_rank("x", x, 4, "(N, H, W, C)")
    if np.shape(x)[1] < 2 or np.shape(x)[2] < 2:
        raise ValueError(f"x must have shape (N, H, W, C) with H, W >= 2, got {np.shape(x)}")
    check_finite("x", x)
    return _max_pool2d(x)


def upsample2d(x):
    r"""Nearest 2x upsampling: $y_{n,i,j,c} = x_{n,\lfloor i/2 \rfloor,\lfloor j/2 \rfloor,c}$.

    Each pixel becomes a 2x2 block of copies (the inverse of `max_pool2d`'s shape change, as
    the decoders of convolutional autoencoders use it). Written with broadcasting and a
    reshape, so autograd differentiates it exactly: the gradient of each input pixel is the
    sum of the upstream gradient over its 2x2 block.

    Parameters
    ----------
    x : array, shape (N, H, W, C)
        Feature maps, channels last.

    Returns
    -------
    y : array, shape (N, 2 H, 2 W, C)
        The upsampled maps, in the dtype of ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> upsample2d(np.array([[1.0, 2.0]]).reshape(1, 1, 2, 1))[0, :, :, 0]
    array([[1., 1., 2., 2.],
           [1., 1., 2., 2.]])
    """
    check_rank("x", x, 4, "(N, H, W, C)")
    N, H, W, C = np.shape(x)
    copies = np.ones((1, 1, 2, 1, 2, 1), dtype=np.asarray(getval(x)).dtype)
    y = anp.reshape(x, (N, H, 1, W, 1, C)) * copies           # (N, H, 2, W, 2, C)
    return anp.reshape(y, (N, 2 * H, 2 * W, C))
