"""Input checks for the Neural Statistician package (each failure is a clear ValueError)."""

from __future__ import annotations

import numpy as np
from autograd.tracer import getval


def check_rng(rng):
    """Raise unless ``rng`` is a ``np.random.Generator``."""
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a np.random.Generator (got {type(rng).__name__}); "
                         "create one with np.random.default_rng(seed)")


def check_sets(D, x_dim: int | None = None, name: str = "D"):
    """Check a batch of data sets of shape (B, N, x_dim): non-empty, finite, float.

    Returns ``(B, N, x_dim)``.
    """
    shape = np.shape(D)
    if len(shape) != 3:
        raise ValueError(f"{name} must be a batch of data sets of shape (B, N, x_dim), "
                         f"got shape {shape}; wrap one set as D[None]")
    B, N, d = shape
    if B == 0 or N == 0:
        raise ValueError(f"{name} has shape {shape}: every data set needs at least one item "
                         "and the batch at least one set")
    if x_dim is not None and d != x_dim:
        raise ValueError(f"{name} items have {d} features but the model expects {x_dim}")
    v = np.asarray(getval(D))
    if v.dtype not in (np.float32, np.float64):
        raise ValueError(f"{name} must be float32 or float64, got dtype {v.dtype}")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return B, N, d


def check_gaussian(mu, logvar, name: str):
    """Check that a diagonal Gaussian's mean and log-variance have the same shape."""
    if np.shape(mu) != np.shape(logvar):
        raise ValueError(f"{name}: mean shape {np.shape(mu)} and log-variance shape "
                         f"{np.shape(logvar)} differ")


def check_positive_int(name: str, value, minimum: int = 1) -> int:
    """Return ``value`` as an int, raising unless it is an integer >= ``minimum``."""
    if int(value) != value or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)
