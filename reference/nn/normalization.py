r"""Batch normalisation over all axes but the last (channels-last), and its running averages.

Three modes, chosen by the caller (few-shot papers rarely say which one they evaluated with):

1. **training**: statistics of the current batch (``mean=var=None``);
2. **evaluation with running averages**: pass ``mean, var`` kept by
   [`update_running`][reference.nn.normalization.update_running] during training (the usual
   inductive test-time mode);
3. **evaluation with episode statistics**: ``mean=var=None`` again at test time, so the
   statistics are those of the episode being classified (support and query together). This is
   transductive: a query's embedding depends on the other queries in the episode.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
from autograd.extend import defvjp_argnums, primitive
from autograd.tracer import getval

from ._checks import check_finite, check_positive

__all__ = ["batch_norm", "batch_stats", "update_running"]


def _moments(x2):
    """Per-channel mean and biased variance of x2 (M, C), two-pass (stable in float32)."""
    ones = np.ones(x2.shape[0], x2.dtype)
    mean = (ones @ x2) / x2.shape[0]                 # column sums as one BLAS product
    xc = x2 - mean
    return mean, np.einsum("ij,ij->j", xc, xc) / x2.shape[0], xc


@primitive
def _batch_norm_batch(x, gamma, beta, eps, mean, var):
    """Normalise x (..., C) with its own statistics; ``mean, var`` are passed in as a cache."""
    C = x.shape[-1]
    scale = gamma / np.sqrt(var + eps)
    y = x.reshape(-1, C) * scale
    y += beta - mean * scale
    return y.reshape(x.shape)


def _batch_norm_batch_vjp(argnums, ans, args, kwargs):
    x, gamma, beta, eps, mean, var = args
    C = x.shape[-1]

    def vjp(g):
        x2, g2 = x.reshape(-1, C), g.reshape(-1, C)
        M = x2.shape[0]
        inv = 1.0 / np.sqrt(var + eps)
        dbeta = np.ones(M, g2.dtype) @ g2           # column sums as one BLAS product
        # sum of g * x_hat, with x_hat = (x - mean) inv, from one product over x and g
        dgamma = (np.einsum("ij,ij->j", g2, x2) - mean * dbeta) * inv
        out = []
        for k in argnums:
            if k == 0:
                # dx = gamma inv (g - mean(g) - x_hat mean(g x_hat)): per channel a g + b x + c
                a = gamma * inv
                bx = -a * inv * dgamma / M
                dx = g2 * a
                dx += x2 * bx
                dx += -a * dbeta / M - bx * mean
                out.append(dx.reshape(x.shape))
            elif k == 1:
                out.append(dgamma.astype(np.result_type(gamma), copy=False))
            elif k == 2:
                out.append(dbeta.astype(np.result_type(beta), copy=False))
            else:
                raise NotImplementedError("batch_norm is differentiated in x, gamma, beta only")
        return tuple(out)

    return vjp


defvjp_argnums(_batch_norm_batch, _batch_norm_batch_vjp)


def batch_stats(x):
    r"""Mean and (biased) variance over all axes but the last.

    $$\mu_c = \frac1M\sum_m x_{m,c}, \qquad \sigma^2_c = \frac1M\sum_m (x_{m,c}-\mu_c)^2$$

    Parameters
    ----------
    x : array, shape (..., C)
        Features on the last axis; the statistics pool every other axis.

    Returns
    -------
    mean : array, shape (C,)
        Per-channel mean $\mu_c$.
    var : array, shape (C,)
        Per-channel biased variance $\sigma^2_c$ (divided by $M$, not $M - 1$).

    Examples
    --------
    >>> import numpy as np
    >>> m, v = batch_stats(np.array([[0.0, 1.0], [2.0, 1.0]]))
    >>> m.tolist(), v.tolist()
    ([1.0, 1.0], [1.0, 0.0])
    """
    axes = tuple(range(np.ndim(x) - 1))
    mean = anp.mean(x, axis=axes)
    return mean, anp.mean((x - mean) ** 2, axis=axes)


def update_running(running, stats, momentum: float = 0.1):
    r"""Exponential running average of batch statistics, for evaluation mode 2.

    $$\bar\mu \leftarrow (1-m)\,\bar\mu + m\,\mu, \qquad
      \bar\sigma^2 \leftarrow (1-m)\,\bar\sigma^2 + m\,\sigma^2$$

    Parameters
    ----------
    running : tuple (mean, var) of arrays (C,), or None
        Current averages; ``None`` starts them at ``stats``.
    stats : tuple (mean, var) of arrays (C,)
        From [`batch_stats`][reference.nn.normalization.batch_stats] (values only; nothing is
        differentiated here).
    momentum : float in (0, 1]
        Weight of the new statistics: ``new = (1 - momentum) * running + momentum * stats``;
        1 keeps only the latest batch.

    Returns
    -------
    tuple of ndarray
        The updated ``(mean, var)``, each of shape ``(C,)``.

    Examples
    --------
    >>> import numpy as np
    >>> update_running((np.zeros(2), np.ones(2)), (np.ones(2), np.ones(2)), 0.5)[0].tolist()
    [0.5, 0.5]
    """
    if not 0 < momentum <= 1:
        raise ValueError(f"momentum must be in (0, 1], got {momentum!r}")
    mean, var = (np.asarray(getval(s)) for s in stats)
    if running is None:
        return mean.copy(), var.copy()
    rm, rv = running
    return (1 - momentum) * rm + momentum * mean, (1 - momentum) * rv + momentum * var


def batch_norm(x, gamma, beta, *, mean=None, var=None, eps: float = 1e-5):
    r"""Batch normalisation of the last axis, with batch statistics or given ones.

    $$y = \gamma\,\frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}} + \beta$$

    Modes (module docstring): ``mean=var=None`` uses the statistics of ``x`` itself over all
    axes but the last (1. training, or 3. the transductive episode-statistics evaluation);
    given ``mean, var`` (2. running averages at evaluation) are used as they are.

    Parameters
    ----------
    x : array, shape (..., C)
        E.g. (N, H, W, C) feature maps or (N, C) features; float32 or float64.
    gamma : array, shape (C,)
        Per-channel scale $\gamma$, applied after normalising.
    beta : array, shape (C,)
        Per-channel shift $\beta$, added last.
    mean : array, shape (C,), optional
        Fixed per-channel mean; give both ``mean`` and ``var`` or neither (then the batch
        statistics of ``x`` are used).
    var : array, shape (C,), optional
        Fixed per-channel variance, with ``mean``.
    eps : float
        Added to the variance (positive).

    Returns
    -------
    y : array, shape of ``x``
        The normalised, scaled and shifted features, in the dtype of ``x``.

    Notes
    -----
    The batch-statistics mode is a primitive with a hand-written VJP (the usual
    $\partial x = \frac{\gamma}{\sigma}(g - \bar g - \hat x\,\overline{g \hat x})$); with one
    example the statistics are still over the remaining axes (for (1, H, W, C), over H W
    positions); a batch of a single feature vector (1, C) normalises to ``beta``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(3.0, 2.0, size=(500, 2))
    >>> y = batch_norm(x, np.ones(2), np.zeros(2))
    >>> np.allclose(y.mean(0), 0), np.allclose(y.std(0), 1, atol=1e-3)
    (True, True)
    """
    if np.ndim(x) < 2:
        raise ValueError(f"x must have shape (..., C) with at least 2 axes, got {np.shape(x)}")
    C = np.shape(x)[-1]
    for name, p in (("gamma", gamma), ("beta", beta)):
        if np.shape(p) != (C,):
            raise ValueError(f"{name} must have shape ({C},) (channels of x), "
                             f"got {np.shape(p)}")
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps!r}")
    check_finite("x", x)
    if (mean is None) != (var is None):
        raise ValueError("give both mean and var (running averages) or neither (batch stats)")
    if mean is None:
        x_val = np.asarray(getval(x))
        m, v, _ = _moments(x_val.reshape(-1, C))     # values only: the VJP accounts for them
        return _batch_norm_batch(x, gamma, beta, eps, m, v)
    for name, p in (("mean", mean), ("var", var)):
        if np.shape(p) != (C,):
            raise ValueError(f"{name} must have shape ({C},) (channels of x), "
                             f"got {np.shape(p)}")
    check_positive("var + eps", getval(var) + eps)
    scale = gamma / anp.sqrt(var + eps)
    return x * scale + (beta - mean * scale)
