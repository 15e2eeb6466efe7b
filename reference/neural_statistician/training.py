r"""Training by stochastic gradient on mini-batches of data sets (Section 3).

The bound is a sum over data sets, so an unbiased gradient uses a few sets at a time; inside
each set every item is used (the context divergence needs the whole set).
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np
from autograd import grad
from autograd.misc.optimizers import adam

from ._checks import check_positive_int, check_rng
from .objective import kl_weight, training_loss

__all__ = ["fit_sets"]


def fit_sets(params: dict, sample_batch: Callable, n_steps: int, rng: np.random.Generator, *,
             step_size: float = 1e-3, alpha0: float = 0.0, steps_per_epoch: int = 500,
             log_every: int = 0, log: Callable | None = None, time_limit: float | None = None):
    r"""Maximise the bound of Eq. (7) with Adam over mini-batches of data sets (Section 3).

    $$
    \theta, \phi \leftarrow \mathrm{Adam}\Big(\nabla_{\theta,\phi}\, \ell(\theta, \phi;
    \text{batch}, \alpha_e)\Big),
    $$

    with $\ell$ the per-item loss of `training_loss` and $\alpha_e$ = `kl_weight` (epoch)
    when ``alpha0 > 0`` (an epoch is ``steps_per_epoch`` steps; with ``alpha0 = 0`` the plain
    bound is optimised).

    Parameters
    ----------
    params : dict
        Initial parameters (`init_params`); not modified.
    sample_batch : callable
        ``sample_batch(rng, step) -> D`` of shape (B, N, x_dim): the mini-batch of data sets.
    n_steps : int
        Number of Adam steps, one mini-batch each.
    rng : np.random.Generator
        Drives the batches and the reparameterisation noise.
    step_size : float
        Adam's learning rate.
    alpha0 : float
        Initial re-weighting (0 = off).
    steps_per_epoch : int
        Length of an epoch of the re-weighting schedule: step ``i`` uses
        $\alpha$ = ``kl_weight(i // steps_per_epoch, alpha0)``.
    log_every : int
        Call ``log(step, params, loss)`` every this many steps (0 = never).
    log : callable or None
        ``log(step, params, loss)``, called at each logged step with the loss of that step's
        batch; None only records the loss in ``history``.
    time_limit : float or None
        Optional: stop early (at the next step) once this many seconds of wall time have
        passed. The default None runs exactly ``n_steps`` steps (reproducible on any machine).

    Returns
    -------
    params : dict
        The trained parameters.
    history : dict
        ``step`` and ``loss`` lists (logged every ``log_every`` steps), ``steps_done`` and
        ``seconds``.
    """
    check_rng(rng)
    n_steps = check_positive_int("n_steps", n_steps)
    steps_per_epoch = check_positive_int("steps_per_epoch", steps_per_epoch)
    history = {"step": [], "loss": [], "seconds": 0.0, "steps_done": 0}
    loss_grad = grad(training_loss)
    start = time.perf_counter()

    class _Stop(Exception):
        pass

    state = {"params": params}

    def objective_grad(p, i):
        if time_limit is not None and time.perf_counter() - start > time_limit:
            state["params"] = p
            raise _Stop
        history["steps_done"] = i + 1
        D = sample_batch(rng, i)
        alpha = kl_weight(i // steps_per_epoch, alpha0) if alpha0 > 0 else 0.0
        state["D"], state["alpha"] = D, alpha
        return loss_grad(p, D, rng, alpha)

    def callback(p, i, g):
        if log_every and (i % log_every == 0 or i == n_steps - 1):
            loss = float(training_loss(p, state["D"], np.random.default_rng(i), state["alpha"]))
            history["step"].append(i)
            history["loss"].append(loss)
            if log is not None:
                log(i, p, loss)

    try:
        params = adam(objective_grad, params, callback=callback, num_iters=n_steps,
                      step_size=step_size)
    except _Stop:
        params = state["params"]
    history["seconds"] = time.perf_counter() - start
    return params, history
