r"""Scale-and-shift spatial transformer (Jaderberg et al. 2015), separable bilinear sampling.

Coordinate convention (the same for canvas and glimpse):

- normalised coordinates run over $[-1, 1]$ along each axis, $x$ to the right along the width,
  $y$ downwards along the height; $-1$ and $+1$ are the *outer edges* of the first and last
  pixel, so the centre of column $j$ of a width-$W$ image is at $X_j = (2j + 1)/W - 1$
  (and likewise for rows);
- ``z_where = (s, x, y)``: the glimpse point $(u, v) \in [-1, 1]^2$ is the canvas point
  $(s u + x,\; s v + y)$. The window's centre is at $(x, y)$ and its width (height) is $s$ times
  the canvas width (height); $s < 1$ zooms in.

Relation to AIR (Eslami et al. 2016) as coded in Pyro, whose $(s', x', y')$ maps canvas to glimpse
(the object sits at $(-x'/s', -y'/s')$ with size $1/s'$): $s = 1/s'$, $x = -x'/s'$,
$y = -y'/s'$.

Bilinear interpolation with zero padding is separable: each output row (column) is a linear
combination of at most two input rows (columns), so with row and column weight matrices
$R_y$ (h, H) and $R_x$ (w, W), ``out = R_y @ A @ R_x.T`` for each image: two small products.
One primitive, ``_transform(A, z_where, ...)``, with hand-written VJPs with respect to the
source (image or glimpse) and to ``z_where`` (through the bilinear weights' slopes and the affine
map from ``z_where`` to pixel coordinates).
"""

from __future__ import annotations

import numpy as np
from autograd.extend import defvjp_argnums, primitive
from autograd.tracer import getval

from ._checks import check_finite, check_positive, check_rank

__all__ = ["st_glimpse", "st_render"]


def _weights(c, n, dtype):
    """Bilinear weights R[b, q, j] = max(0, 1 - |c[b, q] - j|), j = 0..n-1, and dR/dc.

    Each row has at most two non-zeros, at ``j0 = floor(c)`` (weight ``1 - frac``, slope -1)
    and ``j0 + 1`` (weight ``frac``, slope +1): the slope is the one-sided (right) derivative,
    so integer coordinates get the slope of the next cell. Columns outside ``0..n-1`` are dropped
    (zero padding).
    """
    B, m = c.shape
    j0 = np.floor(c)
    frac = c - j0
    R = np.zeros((B, m, n + 2), dtype)        # two spare columns catch j = -1 and j = n
    dR = np.zeros((B, m, n + 2), dtype)
    j = np.clip(j0, -1, n).astype(np.intp) + 1
    k = np.clip(j0 + 1, -1, n).astype(np.intp) + 1
    bi, qi = np.ogrid[:B, :m]
    inside0, inside1 = (j0 >= -1) & (j0 <= n), (j0 + 1 >= -1) & (j0 + 1 <= n)
    R[bi, qi, j] = np.where(inside0, 1 - frac, 0)
    R[bi, qi, k] += np.where(inside1, frac, 0)
    dR[bi, qi, j] = np.where(inside0, -1, 0)
    dR[bi, qi, k] += np.where(inside1, 1, 0)
    return R[:, :, 1:-1], dR[:, :, 1:-1]


def _centres(n):
    """Normalised centres (2k + 1)/n - 1 of the n pixels along one axis."""
    return (2.0 * np.arange(n) + 1.0) / n - 1.0


def _coords(z, src_shape, out_shape, render):
    """Source pixel coordinates read by each output row/column, and their z_where derivatives.

    Returns ``cy (B, h), cx (B, w)`` and ``(dc/ds, dc/dx_or_y)`` for each, all float64.
    A normalised coordinate X maps to the pixel index ((X + 1) n - 1) / 2 of an n-pixel axis.
    """
    s, shift = z[:, 0:1].astype(float), (z[:, 1:2].astype(float), z[:, 2:3].astype(float))
    out = []
    for axis in (0, 1):                              # rows (y, shift[1]), columns (x, shift[0])
        n_src, n_out, t = src_shape[axis], out_shape[axis], shift[1 - axis]
        U = _centres(n_out)[None, :]                 # output pixel centres, normalised
        if render:        # canvas point U reads glimpse point (U - t) / s
            G = (U - t) / s
            c = ((G + 1.0) * n_src - 1.0) / 2.0
            out.append((c, -G / s * n_src / 2.0, -1.0 / s * n_src / 2.0))
        else:             # glimpse point U reads canvas point s U + t
            c = ((s * U + t + 1.0) * n_src - 1.0) / 2.0
            out.append((c, U * n_src / 2.0, n_src / 2.0))
    return out


@primitive
def _transform(A, z, out_shape, render, cache):
    """out[b] = Ry[b] @ A[b] @ Rx[b].T: A (B, H_src, W_src) -> (B, h, w) (module docstring).

    ``cache = _cache(z, ...)`` (weights, slopes, coordinate derivatives) is computed once from
    the value of ``z`` and passed in, so the backward pass does not rebuild it.
    """
    Ry, Rx = cache[0], cache[1]
    return Ry @ (A @ Rx.transpose(0, 2, 1))


def _cache(z, src_shape, out_shape, render, dtype):
    (cy, dcy_ds, dcy_dt), (cx, dcx_ds, dcx_dt) = _coords(z, src_shape, out_shape, render)
    Ry, dRy = _weights(cy, src_shape[0], dtype)
    Rx, dRx = _weights(cx, src_shape[1], dtype)
    return Ry, Rx, dRy, dRx, dcy_ds, dcy_dt, dcx_ds, dcx_dt


def _transform_vjp(argnums, ans, args, kwargs):
    A, z, out_shape, render, cache = args
    Ry, Rx, dRy, dRx, dcy_ds, dcy_dt, dcx_ds, dcx_dt = cache

    def vjp(g):                                      # g (B, h, w)
        out = []
        for k in argnums:
            if k == 0:
                out.append(Ry.transpose(0, 2, 1) @ g @ Rx)
            elif k == 1:
                # dL/dRy = g @ (A @ Rx.T).T (B, h, H), dL/dRx = g.T @ (Ry @ A) (B, w, W)
                gy = np.sum((g @ (Rx @ A.transpose(0, 2, 1))) * dRy, axis=2)   # dL/dcy
                gx = np.sum((g.transpose(0, 2, 1) @ (Ry @ A)) * dRx, axis=2)   # dL/dcx
                dz = np.stack([(gy * dcy_ds).sum(1) + (gx * dcx_ds).sum(1),
                               (gx * dcx_dt).sum(1), (gy * dcy_dt).sum(1)], axis=1)
                out.append(dz.astype(z.dtype))
            else:
                raise NotImplementedError("differentiated in the source and z_where only")
        return tuple(out)

    return vjp


defvjp_argnums(_transform, _transform_vjp)


def _check(name, src, z_where, out_shape, out_name):
    B = check_rank(name, src, 3, "(B, H, W)")[0]
    check_rank("z_where", z_where, 2, f"(B, 3) = ({B}, 3)")
    if np.shape(z_where) != (B, 3):
        raise ValueError(f"z_where must have shape (B, 3) = ({B}, 3) (s, x, y per {name}), "
                         f"got {np.shape(z_where)}")
    if len(out_shape) != 2 or min(out_shape) < 1:
        raise ValueError(f"{out_name} must be a pair (h, w) of positive ints, got {out_shape}")
    check_finite(name, src)
    check_finite("z_where", z_where)
    check_positive("z_where[:, 0] (scale s)", np.asarray(getval(z_where))[:, 0])
    return tuple(int(n) for n in out_shape)


def st_glimpse(image, z_where, glimpse_shape):
    r"""Read a glimpse: the window ``z_where`` of each image, resampled to ``glimpse_shape``.

    $$\mathrm{glimpse}[p, q] = \mathrm{image}\big(s\,v_p + y,\; s\,u_q + x\big)$$

    with $u_q, v_p$ the glimpse's normalised pixel centres and bilinear interpolation (zero
    outside the canvas); module docstring for the convention.

    Parameters
    ----------
    image : array, shape (B, H, W)
        Canvases to read from, one per window.
    z_where : array, shape (B, 3)
        ``(s, x, y)`` per image, ``s > 0``: the window's scale and centre in normalised
        coordinates.
    glimpse_shape : tuple (h, w)
        Height and width of the glimpse, in pixels.

    Returns
    -------
    glimpse : array, shape (B, h, w)
        The resampled windows, in the dtype of ``image``; differentiable in ``image`` and
        ``z_where``.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.zeros((1, 5, 5)); img[0, 1, 3] = 1.0     # row 1, column 3
    >>> x, y = (2 * 3 + 1) / 5 - 1, (2 * 1 + 1) / 5 - 1   # that pixel's centre
    >>> float(st_glimpse(img, np.array([[0.2, x, y]]), (1, 1))[0, 0, 0])
    1.0
    """
    h, w = _check("image", image, z_where, glimpse_shape, "glimpse_shape")
    z = np.asarray(getval(z_where))
    cache = _cache(z, np.shape(image)[1:], (h, w), False, np.result_type(image))
    return _transform(image, z_where, (h, w), False, cache)


def st_render(glimpse, z_where, canvas_shape):
    r"""Write glimpses onto canvases: the inverse map of `st_glimpse`, zero outside.

    $$\mathrm{canvas}[i, j] = \mathrm{glimpse}\Big(\frac{Y_i - y}{s},\; \frac{X_j - x}{s}\Big)$$

    with $X_j, Y_i$ the canvas's normalised pixel centres (module docstring), bilinear, zero
    outside the window.

    Parameters
    ----------
    glimpse : array, shape (B, h, w)
        The images to place, one per window.
    z_where : array, shape (B, 3)
        ``(s, x, y)`` per glimpse, ``s > 0``: where on the canvas the glimpse goes.
    canvas_shape : tuple (H, W)
        Height and width of the output canvases, in pixels.

    Returns
    -------
    canvas : array, shape (B, H, W)
        Each glimpse drawn into its window, zero elsewhere; differentiable in ``glimpse`` and
        ``z_where``.

    Examples
    --------
    >>> import numpy as np
    >>> c = st_render(np.ones((1, 4, 4)), np.array([[0.5, 0.0, 0.0]]), (8, 8))
    >>> c[0].sum(axis=0).round(2).tolist()     # window half as wide as the canvas, centred
    [0.0, 0.0, 4.0, 4.0, 4.0, 4.0, 0.0, 0.0]
    """
    H, W = _check("glimpse", glimpse, z_where, canvas_shape, "canvas_shape")
    z = np.asarray(getval(z_where))
    cache = _cache(z, np.shape(glimpse)[1:], (H, W), True, np.result_type(glimpse))
    return _transform(glimpse, z_where, (H, W), True, cache)
