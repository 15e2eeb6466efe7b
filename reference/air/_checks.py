"""Input checks shared by the AIR package (private)."""

from __future__ import annotations

import numpy as np
from autograd.tracer import getval


def check_rng(rng):
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a np.random.Generator (got {type(rng).__name__}); "
                         "create one with np.random.default_rng(seed)")


def check_images(images, canvas=None):
    """Images must be a finite float array of shape (B, H, W)."""
    x = np.asarray(getval(images))
    if x.ndim != 3:
        raise ValueError(f"images must have shape (B, H, W), got shape {x.shape}")
    if x.shape[0] == 0:
        raise ValueError("images is empty: pass at least one image")
    if canvas is not None and tuple(x.shape[1:]) != tuple(canvas):
        raise ValueError(f"images are {x.shape[1:]} but the model was built for {tuple(canvas)}")
    if not np.all(np.isfinite(x)):
        raise ValueError("images contain NaN or infinite values")
    return x


def check_positive_int(name, value, minimum=1):
    if int(value) != value or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_z_where(z_where):
    z = np.asarray(getval(z_where))
    if z.ndim != 2 or z.shape[1] != 3:
        raise ValueError(f"z_where must have shape (B, 3) = (s, x, y), got {z.shape}")
    if np.any(z[:, 0] <= 0):
        raise ValueError("the scale s of z_where must be positive")
