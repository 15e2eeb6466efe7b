"""Input checks of the Graves (2016) package: every public function validates before it computes.

Private: the reading path starts in ``density.py``. Each check raises a ``ValueError`` that says
what was wrong and how to fix it, and returns what the caller needs (sizes or float arrays).
"""

from __future__ import annotations

import operator

import numpy as np
from autograd.scipy.special import logsumexp
from autograd.tracer import getval


def as_float(name, a, ndim):
    """``a`` as a float64 array with ``ndim`` dimensions and finite entries (traced or not)."""
    a = np.asarray(getval(a), dtype=float)
    if a.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or inf; pass finite values")
    return a


def values(*arrays):
    """Plain float64 copies of possibly traced arrays (forward passes are not differentiated)."""
    return tuple(np.asarray(getval(a), dtype=float) for a in arrays)


def check_mixture(logits, mu, scale, name="sigma"):
    """Check a mixture's parameters; ``scale`` is ``sigma`` (K, D) or, for ``name="L"``, the
    Cholesky factors (K, D, D). Returns ``(K, D)``."""
    full = name == "L"
    lg = as_float("logits", logits, 1)
    m = as_float("mu", mu, 2)
    s = as_float(name, scale, 3 if full else 2)
    K = lg.shape[0]
    if K == 0:
        raise ValueError("the mixture needs at least one component (logits has length 0)")
    D = m.shape[1]
    if m.shape[0] != K or s.shape != ((K, D, D) if full else (K, D)):
        raise ValueError(
            f"shapes disagree: logits {lg.shape}, mu {m.shape}, {name} {s.shape}; expected "
            f"logits (K,), mu (K, D), {name} {'(K, D, D)' if full else '(K, D)'}")
    if full:
        if np.any(np.triu(s, 1) != 0):
            raise ValueError("L must be lower-triangular (Cholesky factors); "
                             "its upper part is not zero")
        if np.any(np.diagonal(s, axis1=1, axis2=2) <= 0):
            raise ValueError("the diagonal of each Cholesky factor L[k] must be positive")
    elif np.any(s <= 0):
        raise ValueError("sigma must be positive; got a minimum of %g" % s.min())
    return K, D


def check_x(name, x, D):
    """Samples ``x`` of shape (N, D) as a float array."""
    xv = as_float(name, x, 2)
    if xv.shape[1] != D:
        raise ValueError(f"{name} has shape {xv.shape} but the mixture has D = {D} dimensions")
    return xv


def check_u(u, D):
    """Uniform noise of shape (N, D), strictly inside (0, 1)."""
    uv = check_x("u", u, D)
    if np.any(uv <= 0) or np.any(uv >= 1):
        raise ValueError("u must lie strictly inside (0, 1); draw it with rng.uniform and "
                         "clip away exact 0 or 1")
    return uv


def check_rng(rng):
    """An explicit ``numpy.random.Generator``."""
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator (np.random.default_rng(seed))")


def count(name, n):
    """``n`` as a positive Python int; floats such as 2.7 (or 3.0) and bools are refused."""
    try:
        if isinstance(n, bool):
            raise TypeError
        value = operator.index(n)
    except TypeError:
        raise ValueError(f"{name} must be a positive integer, got {n!r}") from None
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value}")
    return value


def check_sampler(rng, n):
    """A generator and a positive integer number of samples; returns ``n`` as an int."""
    check_rng(rng)
    return count("n", n)


def check_vjp(g, x, logits, mu, scale, name="sigma"):
    """Arguments of a VJP: the cotangent ``g`` must match ``x``. Returns float arrays."""
    _, D = check_mixture(logits, mu, scale, name)
    x = check_x("x", x, D)
    g = np.asarray(g, dtype=float)
    if g.shape != x.shape:
        raise ValueError(f"g has shape {g.shape}; it must match x {x.shape}")
    if not np.all(np.isfinite(g)):
        bad = np.flatnonzero(~np.all(np.isfinite(g), axis=1))
        raise ValueError(f"g contains NaN or inf (samples {bad[:10].tolist()}); the cotangent "
                         "of a VJP must be finite")
    return (g, x) + tuple(np.asarray(a, dtype=float) for a in (logits, mu, scale))


def check_vjp_result(bad, offset=0):
    """Raise the VJP's overflow error if any sample of a chunk is flagged in ``bad`` (n,).

    The contract of ``mixture_vjp`` and ``mixture_vjp_full``: where the exact Jacobian of a
    sample overflows float64, no gradient is returned at all (no NaN, no inf), and the error
    names the samples, counted from 0 over the whole batch.
    """
    if np.any(bad):
        idx = (offset + np.flatnonzero(bad)).tolist()
        raise FloatingPointError(
            f"the implicit gradient of sample(s) {idx[:10]}{' ...' if len(idx) > 10 else ''} "
            "overflows float64: such a sample sits between components so far apart (hundreds "
            "of standard deviations) that moving a weight or mean moves it by more than 1e308. "
            "Drop or resample it; the gradient of the other samples is unaffected")


def check_1d(x, log_pi, mu, sigma):
    """Arguments of the 1-D helpers; returns float arrays (x (N,), the others (K,) or (N, K))."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or not np.all(np.isfinite(x)):
        raise ValueError(f"x must be a finite 1-D array of shape (N,), got shape {x.shape}")
    log_pi, mu, sigma = (np.asarray(a, dtype=float) for a in (log_pi, mu, sigma))
    try:
        shape = np.broadcast_shapes(log_pi.shape, mu.shape, sigma.shape, (len(x), 1))
    except ValueError:
        raise ValueError(f"log_pi {log_pi.shape}, mu {mu.shape} and sigma {sigma.shape} must "
                         f"each be (K,) or (N, K) with N = {len(x)}") from None
    if len(shape) != 2 or any(a.ndim not in (1, 2) for a in (log_pi, mu, sigma)):
        raise ValueError("log_pi, mu and sigma must each have shape (K,) or (N, K)")
    if not (np.all(np.isfinite(mu)) and np.all(np.isfinite(sigma)) and np.all(sigma > 0)):
        raise ValueError("mu must be finite and sigma finite and > 0")
    if np.any(np.isnan(log_pi)) or np.any(log_pi == np.inf):
        raise ValueError("log_pi contains NaN or +inf")
    total = logsumexp(log_pi, axis=-1)
    if not np.allclose(total, 0.0, atol=1e-8):
        raise ValueError("the weights exp(log_pi) do not sum to 1 (log-sum-exp "
                         f"{np.max(np.abs(total)):.3g} away from 0); pass normalised log "
                         "weights, e.g. logits - logsumexp(logits)")
    return x, log_pi, mu, sigma


def check_theta(x_hat, theta):
    """A finite scalar sample and a non-empty finite parameter array; returns both as floats."""
    if np.ndim(x_hat) != 0:
        raise ValueError(f"x_hat must be one scalar sample, got shape {np.shape(x_hat)}; call "
                         "once per sample")
    x_hat = float(x_hat)
    if not np.isfinite(x_hat):
        raise ValueError(f"x_hat must be a finite scalar, got {x_hat!r}")
    theta = np.asarray(theta, dtype=float)
    if theta.size == 0:
        raise ValueError("theta is empty: there is no parameter to differentiate")
    if not np.all(np.isfinite(theta)):
        raise ValueError("theta contains NaN or inf")
    return x_hat, theta


def check_rejection(rng, x_hat, theta, n_samples):
    """Arguments of the rejection estimator; returns ``(x_hat, theta, n_samples)``."""
    check_rng(rng)
    x_hat, theta = check_theta(x_hat, theta)
    return x_hat, theta, count("n_samples", n_samples)


def check_draws(t, n):
    """Draws ``t`` returned by a user's ``sample(rng, theta, n)``: n finite numbers."""
    t = np.asarray(t, dtype=float)
    if t.shape != (n,):
        raise ValueError(f"sample(rng, theta, {n}) returned shape {t.shape}; expected ({n},)")
    if not np.all(np.isfinite(t)):
        raise ValueError(f"sample(rng, theta, {n}) returned NaN or inf "
                         f"({int(np.sum(~np.isfinite(t)))} of {n} draws); check the sampler")
    return t
