r"""2-D convolution (cross-correlation), channels-last, as im2col plus one BLAS matrix product.

Layout: images ``(N, H, W, C)`` (NHWC) and weights ``(kh, kw, C_in, C_out)``, the TensorFlow
layout DeepMind's papers used. With channels last, the patch matrix ("im2col") of a strided
window view is one copy and one reshape, and the weights reshape to ``(kh kw C_in, C_out)`` with
no transpose, so the whole layer is one matrix product.

One primitive with hand-written VJPs for ``x``, ``w`` and ``b``:

- forward: ``cols = im2col(x)`` (a ``sliding_window_view`` copied once to
  ``(N H' W', kh kw C_in)``), then ``cols @ w.reshape(kh kw C_in, C_out) + b``;
- ``w``: ``cols.T @ g`` (the forward's patch matrix is handed to the primitive as a
  non-differentiated argument, so it is built once);
- ``x``: the 'full' correlation of ``g`` with the kernel flipped in space and transposed in
  channels, i.e. im2col of the padded ``g`` and one product (no scatter-add);
- ``b``: ``g`` summed over all but the channel axis.

autograd calls only the VJPs it needs, so the input gradient of the first layer is never built.
"""

from __future__ import annotations

import numpy as np
from autograd.extend import defvjp_argnums, primitive
from autograd.tracer import getval
from numpy.lib.stride_tricks import sliding_window_view

from ._checks import check_dim, check_finite, check_float, check_rank

__all__ = ["conv2d", "conv_output_size"]


def _pads(kh: int, kw: int, padding: str):
    """Rows/columns of zeros added (before, after); 'same' puts the odd one after (as TF)."""
    if padding == "same":
        return ((kh - 1) // 2, kh // 2), ((kw - 1) // 2, kw // 2)
    if padding == "valid":
        return (0, 0), (0, 0)
    raise ValueError(f"padding must be 'same' or 'valid', got {padding!r}")


def conv_output_size(H: int, W: int, kh: int, kw: int, padding: str = "same"):
    r"""Spatial output size ``(H', W')`` of [`conv2d`][reference.nn.conv.conv2d] (stride 1).

    ``'same'``: ``(H, W)``; ``'valid'``: ``(H - kh + 1, W - kw + 1)``.

    Parameters
    ----------
    H : int
        Input height, in pixels.
    W : int
        Input width, in pixels.
    kh : int
        Kernel height.
    kw : int
        Kernel width.
    padding : {"same", "valid"}
        Zero padding that keeps the input size, or none.

    Returns
    -------
    tuple of int
        ``(H', W')``, the height and width of the output maps.

    Examples
    --------
    >>> conv_output_size(28, 28, 3, 3, "valid")
    (26, 26)
    """
    (pt, pb), (pl, pr) = _pads(kh, kw, padding)
    return H + pt + pb - kh + 1, W + pl + pr - kw + 1


def _im2col(x, kh, kw, pad_h, pad_w):
    """Patch matrix (N H' W', kh kw C): row (n, i, j) is the window at output pixel (i, j)."""
    N, H, W, C = x.shape
    if pad_h != (0, 0) or pad_w != (0, 0):
        xp = np.zeros((N, H + sum(pad_h), W + sum(pad_w), C), x.dtype)
        xp[:, pad_h[0]:pad_h[0] + H, pad_w[0]:pad_w[0] + W] = x
    else:
        xp = x
    Ho, Wo = xp.shape[1] - kh + 1, xp.shape[2] - kw + 1
    v = sliding_window_view(xp, (kh, kw), axis=(1, 2))      # (N, H', W', C, kh, kw), a view
    cols = np.ascontiguousarray(v.transpose(0, 1, 2, 4, 5, 3))  # (N, H', W', kh, kw, C), copy
    return cols.reshape(N * Ho * Wo, kh * kw * C)


@primitive
def _conv2d(x, w, b, pad_h, pad_w, cols):
    """x (N, H, W, C) * w (kh, kw, C, O) + b; ``cols = _im2col(x)`` is passed in as a cache."""
    kh, kw, C, O = w.shape
    Ho, Wo = x.shape[1] + sum(pad_h) - kh + 1, x.shape[2] + sum(pad_w) - kw + 1
    y = cols @ w.reshape(kh * kw * C, O)                      # (N H' W', O), one BLAS call
    y += b
    return y.reshape(x.shape[0], Ho, Wo, O)


def _conv2d_vjp(argnums, ans, args, kwargs):
    x, w, b, pad_h, pad_w, cols = args
    kh, kw, C, O = w.shape

    def vjp(g):                                               # g (N, H', W', O)
        g2 = g.reshape(-1, O)
        out = []
        for k in argnums:
            if k == 0:
                # dx is the 'full' correlation of g with the flipped, transposed kernel:
                # pad g by (k - 1 - pad) on each side, im2col, one product
                gh = (kh - 1 - pad_h[0], kh - 1 - pad_h[1])
                gw = (kw - 1 - pad_w[0], kw - 1 - pad_w[1])
                w_t = w[::-1, ::-1].transpose(0, 1, 3, 2).reshape(kh * kw * O, C)
                dx = _im2col(g, kh, kw, gh, gw) @ w_t         # (N H W, C)
                out.append(dx.reshape(x.shape))
            elif k == 1:
                out.append((cols.T @ g2).reshape(w.shape))
            elif k == 2:
                out.append(g2.sum(axis=0))
            else:
                raise NotImplementedError("conv2d is differentiated in x, w and b only")
        return tuple(out)

    return vjp


defvjp_argnums(_conv2d, _conv2d_vjp)


def conv2d(x, w, b=None, *, padding: str = "same"):
    r"""2-D convolution (cross-correlation, as in every deep-learning library), stride 1.

    $$y_{n,i,j,o} = b_o + \sum_{p,q,c} x_{n,\,i+p-t,\,j+q-l,\,c}\; w_{p,q,c,o}$$

    where $t, l$ are the zero rows/columns padded above and left (0 for ``'valid'``;
    ``(kh-1)//2`` and ``(kw-1)//2`` for ``'same'``, the odd extra row/column of an even kernel
    going below/right, as in TensorFlow).

    Parameters
    ----------
    x : array, shape (N, H, W, C_in)
        Images, channels last, float32 or float64.
    w : array, shape (kh, kw, C_in, C_out)
        Kernels (TensorFlow layout).
    b : array, shape (C_out,), optional
        Bias; zero when omitted.
    padding : {"same", "valid"}
        ``'same'`` keeps ``H, W``; ``'valid'`` gives ``H - kh + 1, W - kw + 1``.

    Returns
    -------
    y : array, shape (N, H', W', C_out)
        Same dtype as ``x`` (when ``w`` has it too).

    Notes
    -----
    A primitive with hand-written VJPs (module docstring):
    $\partial W = \mathrm{cols}^\top g$, $\partial b = \sum g$, and $\partial x$ the full
    correlation of $g$ with the flipped kernel.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.ones((2, 5, 5, 3)); w = np.ones((3, 3, 3, 4))
    >>> y = conv2d(x, w, np.zeros(4))
    >>> y.shape, float(y[0, 2, 2, 0]), float(y[0, 0, 0, 0])
    ((2, 5, 5, 4), 27.0, 12.0)
    """
    N, H, W, C = check_rank("x", x, 4, "(N, H, W, C_in)")
    kh, kw, c_in, c_out = check_rank("w", w, 4, "(kh, kw, C_in, C_out)")
    check_dim("x", C, c_in, "channels (last axis)", f"(N, H, W, {c_in}) to match w")
    check_float("x", x)
    check_finite("x", x)
    check_finite("w", w)
    pad_h, pad_w = _pads(kh, kw, padding)
    Ho, Wo = conv_output_size(H, W, kh, kw, padding)
    if Ho < 1 or Wo < 1:
        raise ValueError(f"x of shape {np.shape(x)} is smaller than the kernel ({kh}, {kw}) "
                         "with 'valid' padding")
    if b is None:
        b = np.zeros(c_out, np.result_type(x, w))
    elif np.shape(b) != (c_out,):
        raise ValueError(f"b must have shape ({c_out},) (C_out of w), got {np.shape(b)}")
    cols = _im2col(np.asarray(getval(x)), kh, kw, pad_h, pad_w)   # (N H' W', kh kw C_in)
    return _conv2d(x, w, b, pad_h, pad_w, cols)
