"""Input checks shared by the layers: each failure is a ValueError naming the argument and shape."""

from __future__ import annotations

import numpy as np
from autograd.tracer import getval


def check_rank(name: str, x, rank: int, expected: str):
    """Raise unless ``x`` has ``rank`` axes; ``expected`` spells the shape, e.g. "(N, H, W, C)"."""
    shape = np.shape(x)
    if len(shape) != rank:
        raise ValueError(f"{name} must have shape {expected} ({rank} axes), got shape {shape}")
    return shape


def check_finite(name: str, x):
    """Raise if ``x`` holds NaN or infinity (autograd boxes are unwrapped first)."""
    v = np.asarray(getval(x))
    # one cheap reduction first; the exact elementwise test only when the sum is not finite
    if not np.isfinite(v.sum()) and not np.all(np.isfinite(v)):
        raise ValueError(f"{name} (shape {v.shape}) contains NaN or infinite values")


def check_float(name: str, x):
    """Raise unless ``x`` is a floating-point array (float32 or float64)."""
    dt = np.asarray(getval(x)).dtype
    if dt not in (np.float32, np.float64):
        raise ValueError(f"{name} must be float32 or float64, got dtype {dt}")


def check_dim(name: str, got: int, want: int, what: str, expected: str):
    """Raise unless a size matches, e.g. the channels of an input and of its weights."""
    if got != want:
        raise ValueError(f"{name} has {got} {what} but {want} are expected: "
                         f"shape {expected} required")


def check_positive(name: str, x):
    """Raise unless every entry of ``x`` is strictly positive."""
    v = np.asarray(getval(x))
    if not np.all(v > 0):
        raise ValueError(f"{name} (shape {v.shape}) must be strictly positive, "
                         f"got minimum {v.min() if v.size else 'n/a'}")
