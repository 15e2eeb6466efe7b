r"""The grid world of Section 3: a small square agent on an image, four moves and walls.

A state $s$ is a $12 \times 12$ image with a $2 \times 2$ block of ones where the agent is, so
there are $11 \times 11 = 121$ agent positions (the agent's top-left pixel). The four actions
move it one pixel up, down, left or right; a move into a wall leaves the state unchanged.
Optional action noise replaces the chosen action by a uniformly random one.
"""

from __future__ import annotations

import numpy as np

from . import _checks

__all__ = ["GRID", "AGENT", "N_POS", "ACTIONS", "MOVES", "render", "step", "step_all_actions",
           "all_positions", "sample_positions", "rollout"]

#: Side of the square image, in pixels.
GRID = 12
#: Side of the square agent, in pixels.
AGENT = 2
#: Number of agent positions along each axis (the agent's top-left pixel): 0 .. N_POS - 1.
N_POS = GRID - AGENT + 1
#: Action names, in the order of the action index.
ACTIONS = ("up", "down", "left", "right")
#: Position change (row, col) of each action; row grows downwards, col grows to the right.
MOVES = np.array([[-1, 0], [1, 0], [0, -1], [0, 1]], dtype=np.int64)


def render(positions) -> np.ndarray:
    r"""The state $s$ of Section 3's grid world: a 2x2 block of ones on a 12x12 image of zeros.

    Parameters
    ----------
    positions : array_like of int, shape (..., 2)
        ``(row, col)`` of the agent's top-left pixel, in ``[0, N_POS - 1]``.

    Returns
    -------
    s : ndarray, shape (..., GRID * GRID), float64
        Row-major flattened 12x12 images.

    Examples
    --------
    >>> render([[0, 0]]).reshape(12, 12)[:3, :3]
    array([[1., 1., 0.],
           [1., 1., 0.],
           [0., 0., 0.]])
    """
    positions = _checks.positions(positions, N_POS)
    lead = positions.shape[:-1]
    p = positions.reshape(-1, 2)                                      # (N, 2)
    img = np.zeros((p.shape[0], GRID, GRID))
    idx = np.arange(p.shape[0])
    for dr in range(AGENT):
        for dc in range(AGENT):
            img[idx, p[:, 0] + dr, p[:, 1] + dc] = 1.0
    return img.reshape(lead + (GRID * GRID,))


def step(positions, actions, rng: np.random.Generator | None = None,
         noise: float = 0.0) -> np.ndarray:
    r"""The grid world's transition $s' \sim P(s' \mid s, a)$ of Section 3, vectorised.

    A move into a wall leaves the position unchanged. With probability ``noise`` the chosen
    action is replaced by one drawn uniformly from the four (possibly the same one).

    Parameters
    ----------
    positions : array_like of int, shape (..., 2)
        ``(row, col)`` of the agent's top-left pixel, one per state.
    actions : array_like of int, shape (...)
        Indices into `ACTIONS` (0 up, 1 down, 2 left, 3 right).
    rng : np.random.Generator or None
        Needed only when ``noise > 0``.
    noise : float in [0, 1]
        Probability of replacing the action by a uniformly random one.

    Returns
    -------
    next_positions : ndarray, shape (..., 2), int64
        The positions after the (possibly replaced) actions, clipped at the walls.

    Examples
    --------
    >>> step([[0, 0], [5, 5]], [0, 3]).tolist()   # up at the top wall stays; right moves
    [[0, 0], [5, 6]]
    """
    positions = _checks.positions(positions, N_POS)
    actions = _checks.actions(actions, positions.shape[:-1])
    _checks.noise(noise)
    if noise > 0:
        if rng is None:
            raise ValueError("step with noise > 0 needs an rng")
        replace = rng.random(actions.shape) < noise
        actions = np.where(replace, rng.integers(0, 4, size=actions.shape), actions)
    return np.clip(positions + MOVES[actions], 0, N_POS - 1)


def step_all_actions(positions, rng: np.random.Generator | None = None,
                     noise: float = 0.0) -> np.ndarray:
    r"""One next position for each of the four actions from each position (Section 3).

    Used by the exact sum over actions, which needs $s'$ for every $a$.

    Parameters
    ----------
    positions : array_like of int, shape (B, 2)
        ``(row, col)`` of the agent's top-left pixel, one per state.
    rng : np.random.Generator or None
        Needed only when ``noise > 0``, as in
        [`step`][reference.controllable_features.grid_world.step].
    noise : float in [0, 1]
        Probability of replacing each action by a uniformly random one, as in
        [`step`][reference.controllable_features.grid_world.step].

    Returns
    -------
    next_positions : ndarray, shape (B, 4, 2), int64
        ``next_positions[b, a]`` is where action ``a`` (in the order of `ACTIONS`) leads from
        ``positions[b]``.
    """
    positions = _checks.positions(positions, N_POS)
    if positions.ndim != 2:
        raise ValueError(f"positions must have shape (B, 2), got {positions.shape}")
    b = positions.shape[0]
    rep = np.broadcast_to(positions[:, None, :], (b, 4, 2))
    return step(rep, np.broadcast_to(np.arange(4), (b, 4)).copy(), rng, noise)


def all_positions() -> np.ndarray:
    r"""Every agent position of the grid world of Section 3, row-major.

    Returns
    -------
    positions : ndarray, shape (N_POS**2, 2), int64
        ``(row, col)`` of the agent's top-left pixel; ``N_POS = 11`` for a 2x2 agent on a
        12x12 image, so 121 positions.
    """
    r, c = np.meshgrid(np.arange(N_POS), np.arange(N_POS), indexing="ij")
    return np.stack([r.ravel(), c.ravel()], axis=1)


def sample_positions(n: int, rng: np.random.Generator) -> np.ndarray:
    r"""Draw ``n`` agent positions uniformly at random (the i.i.d. states of Algorithm 1).

    Parameters
    ----------
    n : int
        Number of positions (positive).
    rng : np.random.Generator
        Source of the positions.

    Returns
    -------
    positions : ndarray, shape (n, 2), int64
        ``(row, col)`` of the agent's top-left pixel, each coordinate uniform on
        ``0 .. N_POS - 1``.
    """
    n = _checks.positive_int("n", n)
    return rng.integers(0, N_POS, size=(n, 2))


def rollout(start, n_steps: int, rng: np.random.Generator, noise: float = 0.0,
            action_probs=None) -> tuple[np.ndarray, np.ndarray]:
    r"""A trajectory of the grid world: the stream of dependent states of Section 3.

    Parameters
    ----------
    start : array_like of int, shape (2,)
        Initial position.
    n_steps : int
        Number of transitions (positive).
    rng : np.random.Generator
        Source of the actions and of the action noise.
    noise : float
        Action noise, as in [`step`][reference.controllable_features.grid_world.step].
    action_probs : callable or None
        ``action_probs(position (2,)) -> (4,)`` probabilities of the behaviour policy;
        ``None`` for uniformly random actions.

    Returns
    -------
    positions : ndarray, shape (n_steps + 1, 2)
        Visited positions including ``start``.
    actions : ndarray, shape (n_steps,)
        Chosen actions (before noise).
    """
    n_steps = _checks.positive_int("n_steps", n_steps)
    p = _checks.positions(np.asarray(start).reshape(2), N_POS)
    out = np.empty((n_steps + 1, 2), dtype=np.int64)
    acts = np.empty(n_steps, dtype=np.int64)
    out[0] = p
    for t in range(n_steps):
        a = rng.integers(4) if action_probs is None else rng.choice(4, p=action_probs(out[t]))
        acts[t] = a
        out[t + 1] = step(out[t][None], np.array([a]), rng, noise)[0]
    return out, acts
