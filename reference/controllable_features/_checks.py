"""Input checks of the controllable-features package (private: not on the reading path).

Each function raises a ``ValueError`` that says what was wrong and how to fix it, and returns
the value in the form the caller uses (integer positions, a canonical option name). The allowed
option names live here, once, so that ``Config`` and the functions that take the same options
check them the same way.
"""

from __future__ import annotations

import numpy as np

#: Selectivity variants (``selectivity``); "signed" is an alias of "directed".
VARIANTS = ("abs", "directed", "positive")
ALIASES = {"signed": "directed"}
#: Transforms of the selectivity inside the objective.
TRANSFORMS = ("none", "log", "log1p")
SAMPLINGS = ("iid", "trajectory", "replay")
ESTIMATORS = ("reinforce", "exact", "uniform")
BEHAVIOURS = ("random", "policies")
POLICY_INPUTS = ("state", "none", "encoder")
FEATURE_ACTIVATIONS = ("linear", "tanh")
DECODER_INPUTS = ("features", "encoder")


def choice(name: str, value, choices, what: str | None = None):
    """``value`` if it is one of ``choices``, else a ValueError naming them."""
    if value not in choices:
        raise ValueError(f"unknown {what or name} {value!r}; choose one of {choices}")
    return value


def variant(value) -> str:
    """The canonical selectivity variant (aliases resolved)."""
    return choice("variant", ALIASES.get(value, value), VARIANTS)


def positive_int(name: str, value) -> int:
    if int(value) != value or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def positions(positions, n_pos: int) -> np.ndarray:
    """Agent positions as an int64 array of shape (..., 2) with entries in [0, n_pos - 1]."""
    positions = np.asarray(positions)
    if positions.ndim < 1 or positions.shape[-1] != 2:
        raise ValueError(f"positions must have shape (..., 2) (row, col), got {positions.shape}")
    if not np.issubdtype(positions.dtype, np.integer):
        if not np.all(np.equal(np.mod(positions, 1), 0)):
            raise ValueError("positions must be integers")
        positions = positions.astype(np.int64)
    if positions.size and (positions.min() < 0 or positions.max() > n_pos - 1):
        raise ValueError(f"positions must lie in [0, {n_pos - 1}] (the agent's top-left pixel), "
                         f"got range [{positions.min()}, {positions.max()}]")
    return positions


def actions(actions, shape) -> np.ndarray:
    """Action indices of the given shape, integers in {0, 1, 2, 3}."""
    actions = np.asarray(actions)
    if actions.shape != shape:
        raise ValueError(f"actions must have shape {shape} (one per position), "
                         f"got {actions.shape}")
    if actions.size and (not np.issubdtype(actions.dtype, np.integer)
                         or actions.min() < 0 or actions.max() > 3):
        raise ValueError("actions must be integers in {0, 1, 2, 3} (up, down, left, right)")
    return actions


def noise(noise) -> None:
    if not (np.isscalar(noise) and 0.0 <= noise <= 1.0):
        raise ValueError(f"action noise must be a probability in [0, 1], got {noise!r}")


def states(s, d: int) -> None:
    if np.ndim(s) != 2 or np.shape(s)[1] != d:
        raise ValueError(f"states must have shape (B, {d}) (flattened images), got {np.shape(s)}")


def rng(rng) -> None:
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a np.random.Generator")


def feature_pair(f_s, f_s_next, k, eps) -> None:
    """The arguments of ``selectivity``: two feature arrays with the same last axis K."""
    if np.ndim(f_s) < 1 or np.ndim(f_s_next) < 1:
        raise ValueError("f_s and f_s_next must have a trailing feature axis of size K")
    if np.shape(f_s)[-1] != np.shape(f_s_next)[-1]:
        raise ValueError(f"f_s and f_s_next must have the same number of features, got "
                         f"{np.shape(f_s)[-1]} and {np.shape(f_s_next)[-1]}")
    n_feat = np.shape(f_s)[-1]
    if k is not None and not (int(k) == k and 0 <= k < n_feat):
        raise ValueError(f"k must be an integer in [0, {n_feat - 1}], got {k!r}")
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps!r}")


def transitions(positions, actions, next_positions) -> None:
    """Shapes (B, 2), (B, K), (B, K, 2) of one sampled transition per state and feature."""
    b, k = np.shape(actions)
    if positions.shape != (b, 2) or next_positions.shape != (b, k, 2):
        raise ValueError("positions, actions, next_positions must have shapes (B, 2), (B, K), "
                         f"(B, K, 2); got {positions.shape}, {np.shape(actions)}, "
                         f"{next_positions.shape}")


def config(c) -> None:
    """Check every field of a ``Config`` and normalise the variant alias and the tuples."""
    positive_int("n_features", c.n_features)
    if not (np.isfinite(c.lam) and c.lam >= 0):
        raise ValueError(f"lam must be a finite number >= 0, got {c.lam!r}")
    c.variant = variant(c.variant)
    choice("transform", c.transform, TRANSFORMS)
    choice("estimator", c.estimator, ESTIMATORS)
    choice("sampling", c.sampling, SAMPLINGS)
    choice("behaviour", c.behaviour, BEHAVIOURS)
    noise(c.noise)
    choice("policy_input", c.policy_input, POLICY_INPUTS)
    choice("feature_activation", c.feature_activation, FEATURE_ACTIVATIONS)
    choice("decoder_input", c.decoder_input, DECODER_INPUTS)
    if (c.policy_input == "encoder" or c.decoder_input == "encoder") and not tuple(c.hidden):
        raise ValueError("policy_input='encoder' and decoder_input='encoder' read the "
                         "encoder's hidden layer: give hidden at least one width")
    if int(c.warmup) != c.warmup or c.warmup < 0:
        raise ValueError(f"warmup must be an integer >= 0, got {c.warmup!r}")
    for name in ("steps", "batch", "buffer_size"):
        positive_int(name, getattr(c, name))
    if not c.lr > 0:
        raise ValueError(f"lr must be positive, got {c.lr!r}")
    if not 0 <= c.baseline_decay < 1:
        raise ValueError(f"baseline_decay must be in [0, 1), got {c.baseline_decay!r}")
    if not c.eps > 0:
        raise ValueError(f"eps must be positive, got {c.eps!r}")
    c.hidden, c.policy_hidden = tuple(c.hidden), tuple(c.policy_hidden)
    c.decoder_hidden = tuple(c.decoder_hidden)


def sampler(sampling, batch, noise_, behaviour, buffer_size) -> None:
    """The arguments of ``StateSampler``."""
    choice("sampling", sampling, SAMPLINGS)
    choice("behaviour", behaviour, BEHAVIOURS)
    positive_int("batch", batch)
    if int(buffer_size) != buffer_size or buffer_size < batch:
        raise ValueError(f"buffer_size must be an integer >= batch, got {buffer_size!r}")
    noise(noise_)
