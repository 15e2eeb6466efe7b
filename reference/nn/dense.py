r"""Shared neural-network building blocks: initialisers, dense layers, MLPs, softmax, training.

These are plain building blocks, not paper equations. Parameters are nested Python containers
(lists and dicts) of float64 ``numpy`` arrays, which ``autograd`` differentiates directly and
``autograd.misc.flatten`` turns into one vector when a flat view is needed.

Training-loop convention (used by every paper module):

- the caller builds a function ``loss_grad(params, i) -> gradient`` (same structure as
  ``params``) that draws its own mini-batch from an explicit ``np.random.Generator``;
- [`train`][reference.nn.dense.train] runs ``autograd.misc.optimizers.adam`` on it, shows a
  tqdm progress bar that can be switched off, and calls ``callback(params, i, grad)`` each
  step so the caller can keep a history (loss values, measures) in a list or dict it owns.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> params = mlp_init([3, 8, 2], rng)
>>> mlp_apply(params, np.ones((5, 3))).shape
(5, 2)
"""

from __future__ import annotations

from typing import Callable, Sequence

import autograd.numpy as anp
import numpy as np
from autograd.extend import defvjp, primitive
from autograd.misc.optimizers import adam
from autograd.scipy.special import logsumexp
from tqdm.auto import tqdm

__all__ = [
    "glorot_normal", "he_normal", "dense_init", "dense_apply", "mlp_init", "mlp_apply",
    "relu", "softmax", "log_softmax", "train",
]


def _check_rng(rng):
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a np.random.Generator (got {type(rng).__name__}); "
                         "create one with np.random.default_rng(seed)")


def _check_fans(n_in, n_out):
    for name, n in (("n_in", n_in), ("n_out", n_out)):
        if int(n) != n or n < 1:
            raise ValueError(f"{name} must be a positive integer, got {n!r}")


def glorot_normal(n_in: int, n_out: int, rng: np.random.Generator) -> np.ndarray:
    r"""Glorot (Xavier) normal initialisation of an ``(n_in, n_out)`` weight matrix.

    Draws $W_{ij} \sim \mathcal N(0, 2 / (n_\mathrm{in} + n_\mathrm{out}))$.

    Parameters
    ----------
    n_in : int
        Fan-in: number of input features (positive).
    n_out : int
        Fan-out: number of output features (positive).
    rng : np.random.Generator
        Source of the random weights.

    Returns
    -------
    W : ndarray, shape (n_in, n_out), float64
        The initial weight matrix.
    """
    _check_fans(n_in, n_out)
    _check_rng(rng)
    return rng.normal(0.0, np.sqrt(2.0 / (n_in + n_out)), size=(int(n_in), int(n_out)))


def he_normal(n_in: int, n_out: int, rng: np.random.Generator) -> np.ndarray:
    r"""He normal initialisation for ReLU layers: $W_{ij} \sim \mathcal N(0, 2 / n_\mathrm{in})$.

    Parameters
    ----------
    n_in : int
        Fan-in: number of input features (positive).
    n_out : int
        Fan-out: number of output features (positive).
    rng : np.random.Generator
        Source of the random weights.

    Returns
    -------
    W : ndarray, shape (n_in, n_out), float64
        The initial weight matrix.
    """
    _check_fans(n_in, n_out)
    _check_rng(rng)
    return rng.normal(0.0, np.sqrt(2.0 / n_in), size=(int(n_in), int(n_out)))


_INITS = {"glorot": glorot_normal, "he": he_normal}


def dense_init(n_in: int, n_out: int, rng: np.random.Generator, init: str = "glorot") -> dict:
    r"""Parameters of a dense (affine) layer: ``{"W": (n_in, n_out), "b": (n_out,)}``.

    Parameters
    ----------
    n_in : int
        Fan-in: number of input features (positive).
    n_out : int
        Fan-out: number of output features (positive).
    rng : np.random.Generator
        Source of the random weights.
    init : {"glorot", "he"}
        Weight initialiser; biases start at zero.

    Returns
    -------
    dict
        ``"W"``, the weights ``(n_in, n_out)``, and ``"b"``, the biases ``(n_out,)``.
    """
    if init not in _INITS:
        raise ValueError(f"unknown init {init!r}; choose one of {sorted(_INITS)}")
    return {"W": _INITS[init](n_in, n_out, rng), "b": np.zeros(int(n_out))}


def dense_apply(layer: dict, x):
    r"""Apply a dense layer: $y = x W + b$ over the last axis.

    Parameters
    ----------
    layer : dict
        From [`dense_init`][reference.nn.dense.dense_init].
    x : array, shape (..., n_in)
        Inputs, features on the last axis, any leading batch shape.

    Returns
    -------
    y : array, shape (..., n_out)
        The affine map of ``x``, in the dtype of the inputs.
    """
    if np.shape(x)[-1] != np.shape(layer["W"])[0]:
        raise ValueError(f"input has {np.shape(x)[-1]} features but the layer expects "
                         f"{np.shape(layer['W'])[0]}")
    return anp.dot(x, layer["W"]) + layer["b"]


@primitive
def relu(x):
    r"""Rectified linear unit $\max(x, 0)$, keeping the dtype of ``x``.

    A primitive whose VJP is $g\,[x > 0]$ (zero at $x = 0$), in the dtype of ``g``: autograd's
    own ``maximum`` VJP would turn float32 gradients into float64.

    Parameters
    ----------
    x : array
        Pre-activations, any shape, float32 or float64.

    Returns
    -------
    array, shape of ``x``
        ``x`` with its negative entries set to 0, in the dtype of ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> relu(np.array([-1.0, 2.0])).tolist()
    [0.0, 2.0]
    """
    return np.maximum(x, 0)


defvjp(relu, lambda ans, x: lambda g: g * (ans > 0))


def mlp_init(sizes: Sequence[int], rng: np.random.Generator, init: str = "he") -> list:
    r"""Parameters of a multilayer perceptron with layer widths ``sizes``.

    Parameters
    ----------
    sizes : sequence of int, length >= 2
        ``[n_in, hidden_1, ..., n_out]``.
    rng : np.random.Generator
        Source of the random weights.
    init : {"he", "glorot"}
        Initialiser of the hidden layers; the output layer always uses Glorot.

    Returns
    -------
    list of dict
        One [`dense_init`][reference.nn.dense.dense_init] dict per layer.
    """
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"an MLP needs at least an input and an output size, got {sizes}")
    layers = []
    for j, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        last = j == len(sizes) - 2
        layers.append(dense_init(a, b, rng, "glorot" if last else init))
    return layers


def mlp_apply(params: list, x, activation: Callable = relu, output_activation=None):
    r"""Apply an MLP: hidden layers use ``activation``, the output layer is affine.

    Parameters
    ----------
    params : list of dict
        From [`mlp_init`][reference.nn.dense.mlp_init].
    x : array, shape (..., n_in)
        Inputs, features on the last axis, any leading batch shape.
    activation : callable
        Hidden nonlinearity (default [`relu`][reference.nn.dense.relu]).
    output_activation : callable or None
        Applied to the output layer when given.

    Returns
    -------
    y : array, shape (..., n_out)
        The network's output (after ``output_activation`` when one is given).
    """
    h = x
    for layer in params[:-1]:
        h = activation(dense_apply(layer, h))
    out = dense_apply(params[-1], h)
    return out if output_activation is None else output_activation(out)


def log_softmax(z, axis: int = -1):
    r"""Stable log-softmax: $z_i - \log \sum_j e^{z_j}$ along ``axis`` (via ``logsumexp``).

    Parameters
    ----------
    z : array
        Unnormalised log-probabilities (logits), any shape.
    axis : int
        The axis that is normalised (default the last).

    Returns
    -------
    array, shape of ``z``
        Log-probabilities: their exponentials sum to 1 along ``axis``.
    """
    return z - logsumexp(z, axis=axis, keepdims=True)


def softmax(z, axis: int = -1):
    r"""Stable softmax $e^{z_i} / \sum_j e^{z_j}$ along ``axis``.

    Parameters
    ----------
    z : array
        Unnormalised log-probabilities (logits), any shape.
    axis : int
        The axis that is normalised (default the last).

    Returns
    -------
    array, shape of ``z``
        Probabilities, non-negative and summing to 1 along ``axis``.
    """
    return anp.exp(log_softmax(z, axis=axis))


def train(loss_grad: Callable, params, num_iters: int, step_size: float = 1e-3,
          callback: Callable | None = None, progress: bool = True, desc: str = "train",
          b1: float = 0.9, b2: float = 0.999):
    r"""Run ``autograd.misc.optimizers.adam`` with a tqdm progress bar and a callback.

    Parameters
    ----------
    loss_grad : callable
        ``loss_grad(params, i) -> grad`` with the structure of ``params``. It draws its own
        mini-batch (from a Generator it closes over), so runs are reproducible from one seed.
    params : nested lists/dicts of arrays
        Initial parameters (not modified).
    num_iters : int
        Number of adam steps (positive).
    step_size : float
        Learning rate (positive).
    callback : callable or None
        ``callback(params, i, grad)`` after each step's gradient (adam's convention: called
        before the update of step ``i``); use it to append to a history.
    progress : bool
        Show a tqdm bar (switch off in tests and docs builds).
    desc : str
        Label of the bar.
    b1 : float
        Adam's decay rate of the running mean of the gradient (its first moment).
    b2 : float
        Adam's decay rate of the running mean of the squared gradient (its second moment).

    Returns
    -------
    params
        The trained parameters, same structure as the input.
    """
    if int(num_iters) != num_iters or num_iters < 1:
        raise ValueError(f"num_iters must be a positive integer, got {num_iters!r}")
    if not step_size > 0:
        raise ValueError(f"step_size must be positive, got {step_size!r}")
    bar = tqdm(total=int(num_iters), desc=desc, disable=not progress, leave=False)

    def _cb(p, i, g):
        if callback is not None:
            callback(p, i, g)
        bar.update(1)

    try:
        return adam(loss_grad, params, callback=_cb, num_iters=int(num_iters),
                    step_size=step_size, b1=b1, b2=b2)
    finally:
        bar.close()
