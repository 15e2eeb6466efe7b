r"""2x2 max-pooling with stride 2 (floor on odd sizes), channels-last, with a hand-written VJP."""

from __future__ import annotations

import numpy as np
from autograd.extend import defvjp, primitive

from ._checks import check_finite, check_rank

__all__ = ["max_pool2d"]


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
