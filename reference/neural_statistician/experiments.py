r"""Experiment drivers: train a model on the 1-D families (Section 5.1) and score it.

These glue the model, the bound and the probes together so that the reproduce command, the
gallery and the tests run the same code.
"""

from __future__ import annotations

import numpy as np

from ._checks import check_rng
from .model import init_params, statistic_network
from .objective import elbo
from .summarise import digit_point_sets
from .synthetic import (family_probe, gaussian_fit_nll, sample_family_sets,
                        standardised_moments, true_family_nll)
from .training import fit_sets

__all__ = ["context_means", "families_experiment", "spatial_experiment"]


def context_means(params: dict, D, batch: int = 256) -> np.ndarray:
    r"""Posterior means of the context, $\mathbb E_{q(c \mid D)}[c]$, for many sets (Figure 2).

    $$
    \mu_c(D) = \mu_c\Big(\tfrac1N \textstyle\sum_i E(x_i)\Big).
    $$

    Parameters
    ----------
    params : dict
        Model parameters (`init_params` layout); ``D`` is cast to their dtype.
    D : array, shape (B, N, x_dim)
        The B data sets of N items each.
    batch : int
        Sets per forward pass.

    Returns
    -------
    mu_c : ndarray, shape (B, c_dim), float64
        The mean of $q(c \mid D)$ of each set.
    """
    dtype = np.asarray(params["encoder"][0]["W"]).dtype
    out = [statistic_network(params, np.asarray(D[i:i + batch], dtype))[0]
           for i in range(0, len(D), batch)]
    return np.concatenate(out).astype(np.float64)


def families_experiment(rng: np.random.Generator, *, n_steps: int = 4000, set_size: int = 200,
                        train_set_size: int | None = None, batch_sets: int = 16,
                        n_train_sets: int = 10000, n_test_sets: int = 1000,
                        alpha0: float = 0.0, step_size: float = 1e-3, time_limit=None,
                        model_kwargs=None, dtype=np.float32) -> dict:
    r"""Section 5.1 end to end: train on family sets, probe the context of held-out sets.

    The training sets are a fixed pool of ``n_train_sets`` (10,000 in the paper as we read it),
    cycled in random mini-batches; an epoch is one pass over the pool, which is also the unit
    of the optional re-weighting schedule (`kl_weight`).

    $$
    \text{probe accuracy} = \Pr[\hat k(\mu_c(D)) = k], \qquad
    \text{bound per item} = \mathcal L_D / N .
    $$

    Parameters
    ----------
    rng : np.random.Generator
        Drives everything: the initial weights, the training pool and the held-out sets,
        the mini-batches and the reparameterisation noise.
    n_steps : int
        Number of Adam steps.
    set_size : int
        Items per set of the training pool and of the held-out sets.
    train_set_size : int or None
        Items per set during training (a random subset of each pool set, drawn afresh every
        step; None = all ``set_size``). The probes always use full held-out sets.
    batch_sets : int
        Data sets per mini-batch.
    n_train_sets : int
        Size of the fixed training pool; the probes are fitted on the contexts of its first
        4,000 sets.
    n_test_sets : int
        Held-out sets on which the probes and the bound are scored.
    alpha0 : float
        Re-weighting at epoch 0 (0 = the plain bound).
    step_size : float
        Adam's learning rate.
    time_limit : float or None
        Optional wall-clock cap in seconds (default None: run all ``n_steps``; the reproduce
        run and the gallery never set it, so their results do not depend on the machine).
    model_kwargs : dict or None
        Passed to `init_params` (defaults: c_dim 3, z_dim 16, one stochastic layer,
        hidden 64, depth 3).
    dtype : numpy dtype
        dtype of the parameters and of the training sets (float32 by default, for speed).

    Returns
    -------
    dict
        ``params``, ``history``, the probe accuracies (``knn5``, ``logistic``), the ceiling
        ``moments_knn5`` / ``moments_logistic``, ``elbo_per_item`` on held-out sets,
        ``gaussian_nll`` and ``true_nll`` per item, ``steps`` and ``seconds``, and the test
        ``contexts`` and ``test`` data (for figures).
    """
    check_rng(rng)
    kw = {"c_dim": 3, "z_dim": 16, "n_layers": 1, "hidden": 64, "depth": 3}
    kw.update(model_kwargs or {})
    params = init_params(rng, 1, dtype=dtype, **kw)
    pool = sample_family_sets(n_train_sets, set_size, rng)
    test = sample_family_sets(n_test_sets, set_size, rng)
    Dpool = pool["D"].astype(dtype)
    steps_per_epoch = max(1, n_train_sets // batch_sets)

    n_sub = set_size if train_set_size is None else int(train_set_size)

    def sample_batch(r, i):
        sets = Dpool[r.integers(n_train_sets, size=batch_sets)]
        if n_sub == set_size:
            return sets
        # a random subset of each set: the items of a set are iid, so it is a smaller set
        idx = np.argsort(r.uniform(size=(batch_sets, set_size)), axis=1)[:, :n_sub]
        return np.take_along_axis(sets, idx[..., None], axis=1)

    params, history = fit_sets(params, sample_batch, n_steps, rng, step_size=step_size,
                               alpha0=alpha0, steps_per_epoch=steps_per_epoch,
                               time_limit=time_limit, log_every=250)
    ctx_train = context_means(params, pool["D"][:4000])
    ctx_test = context_means(params, test["D"])
    probe = family_probe(ctx_train, pool["family"][:4000], ctx_test, test["family"])
    ceiling = family_probe(standardised_moments(pool["D"][:4000]), pool["family"][:4000],
                           standardised_moments(test["D"]), test["family"])
    Dt = test["D"].astype(dtype)
    bounds = np.concatenate([elbo(params, Dt[i:i + 100], np.random.default_rng(i))
                             for i in range(0, len(Dt), 100)])
    return {
        "params": params, "history": history, "contexts": ctx_test, "test": test,
        "knn5": probe["knn5"], "logistic": probe["logistic"],
        "moments_knn5": ceiling["knn5"], "moments_logistic": ceiling["logistic"],
        "elbo_per_item": float(np.mean(bounds) / set_size),
        "gaussian_nll": gaussian_fit_nll(test["D"]), "true_nll": true_family_nll(test),
        "steps": history["steps_done"], "seconds": history["seconds"],
    }


def spatial_experiment(rng: np.random.Generator, *, prior_interpolation: bool = False,
                       n_steps: int = 3000, n_points: int = 50, batch_sets: int = 16,
                       n_train: int = 1400, step_size: float = 1e-3, alpha0: float = 0.0,
                       time_limit=None, model_kwargs=None, dtype=np.float32) -> dict:
    r"""Section 5.2 on scikit-learn's digits: train on point sets, score held-out digits.

    Training digits are re-sampled as fresh point sets at every step (`digit_point_sets`);
    the held-out digits (the last ``1797 - n_train``) get one fixed draw. The model defaults
    follow the paper's spatial MNIST in spirit (several small stochastic layers), at CPU
    size: c_dim 16, three layers of z_dim 2, hidden 64.

    $$
    \text{bound per point} = \frac{1}{|T|\,N} \sum_{D \in T} \mathcal L_D .
    $$

    Parameters
    ----------
    rng : np.random.Generator
        Drives the initial weights, the training point sets and the reparameterisation noise
        (the held-out point sets use their own fixed seed).
    prior_interpolation : bool
        Train with the prior-interpolation gates (see `inference_network`).
    n_steps : int
        Number of Adam steps.
    n_points : int
        Points per digit, for training and held-out sets (50 in the paper's spatial MNIST).
    batch_sets : int
        Digits per mini-batch: a run of consecutive training digits from a random start.
    n_train : int
        The first ``n_train`` digits of ``load_digits`` are for training, the rest held out.
    step_size : float
        Adam's learning rate.
    alpha0 : float
        Re-weighting at epoch 0 (0 = the plain bound); an epoch is ``n_train // batch_sets``
        steps.
    time_limit : float or None
        Optional wall-clock cap in seconds (default None: run all ``n_steps``).
    model_kwargs : dict or None
        Passed to `init_params`, over the defaults above (c_dim 16, z_dim 2, three stochastic
        layers, hidden 64, depth 3).
    dtype : numpy dtype
        dtype of the parameters and of the point sets (float32 by default, for speed).

    Returns
    -------
    dict
        ``params`` and ``history`` (from `fit_sets`), ``elbo_per_point`` (the mean bound per
        point on the held-out digits, nats), ``test`` (the held-out point sets and labels,
        from `digit_point_sets`), ``steps`` (steps done) and ``seconds`` (training time).
    """
    check_rng(rng)
    kw = {"c_dim": 16, "z_dim": 2, "n_layers": 3, "hidden": 64, "depth": 3}
    kw.update(model_kwargs or {})
    params = init_params(rng, 2, prior_interpolation=prior_interpolation, dtype=dtype, **kw)
    from sklearn.datasets import load_digits
    n_all = len(load_digits().target)
    test = digit_point_sets(np.random.default_rng(12345), n_points, subset=slice(n_train, n_all))

    def sample_batch(r, i):
        start = int(r.integers(n_train - batch_sets))
        sets = digit_point_sets(r, n_points, subset=slice(start, start + batch_sets))
        return sets["D"].astype(dtype)

    params, history = fit_sets(params, sample_batch, n_steps, rng, step_size=step_size,
                               alpha0=alpha0, steps_per_epoch=max(1, n_train // batch_sets),
                               time_limit=time_limit, log_every=250)
    Dt = test["D"].astype(dtype)
    bounds = np.concatenate([elbo(params, Dt[i:i + 100], np.random.default_rng(i))
                             for i in range(0, len(Dt), 100)])
    return {"params": params, "history": history, "test": test,
            "elbo_per_point": float(np.mean(bounds) / n_points),
            "steps": history["steps_done"], "seconds": history["seconds"]}
