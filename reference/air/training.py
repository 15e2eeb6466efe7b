r"""Training and inference for AIR (Sections 2.2 and 3.1 of Eslami et al. 2016).

``fit`` trains the model, the guide and the baseline jointly with Adam on freshly composed scenes
(a new batch every step); the baseline has its own, larger learning rate. ``infer`` runs the
trained guide deterministically on new images.
"""

from __future__ import annotations

import os
import pickle
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
from autograd import grad
from autograd.misc.flatten import flatten
from autograd.misc.optimizers import adam

from ._checks import check_images, check_positive_int, check_rng
from .data import make_scenes
from .model import AIRConfig, decoder_init
from .guide import guide_init
from .objective import air_pass, baseline_init, draw_noise, surrogate_loss

__all__ = ["init_params", "fit", "infer", "cache_dir", "save_params", "load_params"]


def init_params(config: AIRConfig, rng: np.random.Generator):
    r"""Initial parameters of model, guide and baseline (Section 3.1).

    Decoder output bias $-3$ (objects start nearly empty), presence logit $+2$ (the guide starts
    by proposing objects), baseline output starting at 0 nats.
    """
    check_rng(rng)
    return {"model": {"decoder": decoder_init(config, rng)}, "guide": guide_init(config, rng),
            "baseline": baseline_init(config, rng)}


def _step_sizes(params, lr, lr_baseline):
    """Flat per-parameter step sizes: ``lr_baseline`` for the baseline, ``lr`` elsewhere.

    ``autograd.misc.flatten`` walks dict keys in sorted order, so the groups are laid out in
    that order; Adam's ``step_size`` broadcasts against the flat parameter vector.
    """
    return np.concatenate([np.full(flatten(params[k])[0].size,
                                   lr_baseline if k == "baseline" else lr)
                           for k in sorted(params)])


def fit(config: AIRConfig = AIRConfig(), seed: int = 0, n_iters: int = 2000, batch: int = 64,
        lr: float = 1e-3, lr_baseline: float = 1e-2, baseline: str = "neural", K: int = 1,
        callback=None, params=None, anneal_prior: int = 600):
    r"""Train AIR on 0-2 digit scenes with the estimator of Section 2.2; returns the parameters.

    Parameters
    ----------
    config : AIRConfig
        Model and guide sizes and constants (default: the paper-like ``AIRConfig()``).
    seed : int
        Seeds the initialisation, the scenes and the guide's noise.
    n_iters : int
        Adam steps, each on a fresh batch of training-pool scenes.
    batch : int
        Scenes per step.
    lr : float
        Adam step size of the model and guide parameters.
    lr_baseline : float
        Adam step size of the baseline network (larger than ``lr`` by default).
    baseline : {"neural", "loo", "none"}
        Variance reduction for the $z^{\text{pres}}$ gradient. ``"loo"`` draws ``K`` guide samples
        per scene (the batch then holds ``batch // K`` scenes).
    callback : callable or None
        ``callback(params, i, info)`` after each step (``info`` has the batch ELBO).
    params : dict or None
        Start from these instead of a fresh initialisation.
    anneal_prior : int
        If positive, $\log\rho$ moves linearly from $\log\frac12$ to ``config.log_rho`` over
        the first ``anneal_prior`` steps (a weak count prior at first, as Pyro's reproduction
        anneals it), so that the guide learns to use its later steps before extra objects
        become expensive; 0 uses ``config.log_rho`` throughout.

    Returns
    -------
    dict
        ``{"model", "guide", "baseline", "config"}``; pass it to
        [`infer`][reference.air.training.infer].
    """
    n_iters = check_positive_int("n_iters", n_iters)
    batch = check_positive_int("batch", batch)
    if baseline == "loo" and (K < 2 or batch % K):
        raise ValueError(f"baseline='loo' needs K >= 2 dividing batch, got K={K}, batch={batch}")
    rng = np.random.default_rng(seed)
    p0 = init_params(config, rng) if params is None else {k: params[k] for k in
                                                          ("model", "guide", "baseline")}
    n_scenes = batch // K if baseline == "loo" else batch
    info = {}

    def objective(p, i):
        cfg = config
        if anneal_prior > 0 and i < anneal_prior:
            frac = i / anneal_prior
            cfg = replace(config, log_rho=float((1 - frac) * np.log(0.5) + frac * config.log_rho))
        x = make_scenes(n_scenes, rng)[0]
        if baseline == "loo":
            x = np.tile(x, (K, 1, 1))
        noise = draw_noise(rng, x.shape[0], cfg)
        loss, inf = surrogate_loss(p, x, noise, cfg, baseline=baseline, K=K)
        info["elbo"] = inf["elbo"]
        return loss

    def cb(p, i, g):
        if callback is not None:
            callback(p, i, dict(info))

    steps = _step_sizes(p0, lr, lr_baseline)
    out = adam(grad(objective), p0, callback=cb, num_iters=n_iters, step_size=steps)
    out["config"] = config
    return out


def infer(params, images, max_steps: int | None = None):
    r"""Counts and poses of new images from the trained guide (Section 3.1).

    Counts come from **thresholded** presence probabilities, not from samples: step $i$ is
    present when $q(z^{\text{pres}}_i = 1) \ge 1/2$ and every earlier step was present; poses are
    the guide's means.

    Parameters
    ----------
    params : dict
        From [`fit`][reference.air.training.fit].
    images : array, shape (B, canvas, canvas)
        Scenes to count, with the training configuration's canvas side.
    max_steps : int or None
        Guide steps to run (default: the training configuration's $N$); the largest count it can
        report.

    Returns
    -------
    counts : ndarray, shape (B,), int
        Number of steps judged present in each image.
    z_where : ndarray, shape (B, max_steps, 3)
        $(s, x, y)$ of each step in the shared transformer's convention; NaN for absent steps.
    """
    config = params["config"]
    x = check_images(images, (config.canvas, config.canvas))
    if max_steps is not None:
        config = replace(config, max_steps=check_positive_int("max_steps", max_steps))
    res = air_pass(params, x, None, config, deterministic=True)
    z_pres = np.asarray(res["z_pres"]).T                       # (B, N)
    z_where = np.transpose(np.asarray(res["z_where"]), (1, 0, 2)).copy()
    z_where[z_pres < 0.5] = np.nan
    return z_pres.sum(axis=1).astype(int), z_where


def cache_dir() -> Path:
    r"""Folder for saved parameters (never committed), used by the Section 3.1 examples.

    ``$AIR_CACHE`` if set, else ``$XDG_CACHE_HOME/paper-reference/air`` (default
    ``~/.cache/paper-reference/air``).
    """
    if os.environ.get("AIR_CACHE"):
        return Path(os.environ["AIR_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "paper-reference" / "air"


def save_params(params, path) -> None:
    r"""Save parameters from [`fit`][reference.air.training.fit] (Section 3.1 models)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {k: params[k] for k in ("model", "guide", "baseline")}
    data["config"] = asdict(params["config"])
    with open(path, "wb") as fh:
        pickle.dump(data, fh)


def load_params(path):
    r"""Load parameters saved by [`save_params`][reference.air.training.save_params] (Section 3.1).

    Raises ``FileNotFoundError`` when the file does not exist.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no saved AIR parameters at {path}; train with fit() first")
    with open(path, "rb") as fh:
        data = pickle.load(fh)
    data["config"] = AIRConfig(**data["config"])
    return data
