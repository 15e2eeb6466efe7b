r"""Variance of the likelihood-ratio gradient for $z^{\text{pres}}$ (Section 2.2 of Eslami et al.).

At fixed parameters, the score-function part of the estimator,

$$
\hat g = \nabla_\phi \frac{1}{B}\sum_b \sum_i z^{\text{pres}}_{i-1}
\operatorname{sg}[\ell_i - b_i] \log q_\phi(z^{\text{pres}}_i),
$$

is drawn many times on fresh scenes and noise, and its total variance
$\operatorname{tr}\operatorname{Cov}[\hat g]$ is compared across baselines: none, the neural
baseline, and a leave-one-out baseline over $K$ samples per scene (same number of guide samples
per estimate).
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
from autograd import grad
from autograd.misc.flatten import flatten
from autograd.tracer import getval

from .data import make_scenes
from .objective import (air_pass, draw_noise, learning_signals, leave_one_out_baseline,
                        neural_baseline)

__all__ = ["score_gradient", "score_gradient_samples", "total_variance"]


def score_gradient(params, x, noise, baseline: str = "neural", K: int = 1) -> np.ndarray:
    r"""One draw of the $z^{\text{pres}}$ score-function gradient w.r.t. the guide (Section 2.2).

    $$
    \hat g = \nabla_\phi \overline{\textstyle\sum_i z^{\text{pres}}_{i-1}
    \operatorname{sg}[\ell_i - b_i] \log q_\phi(z^{\text{pres}}_i)}
    $$

    Returns the flattened gradient, shape (n_guide_params,).
    """
    config = params["config"]

    def part(guide):
        p = {"model": params["model"], "guide": guide, "baseline": params["baseline"]}
        res = air_pass(p, x, noise, config)
        ell = learning_signals(res)
        if baseline == "neural":
            b = getval(neural_baseline(params["baseline"], x, res))
        elif baseline == "loo":
            b = leave_one_out_baseline(ell, K)
        elif baseline == "none":
            b = 0.0
        else:
            raise ValueError(f"baseline must be 'neural', 'loo' or 'none', got {baseline!r}")
        return anp.mean(anp.sum((ell - b) * res["log_q_pres"], axis=0))

    return flatten(grad(part)(params["guide"]))[0]


def score_gradient_samples(params, rng: np.random.Generator, baseline: str, n_draws: int = 20,
                           batch: int = 32, K: int = 4) -> np.ndarray:
    r"""Independent draws of the score-function gradient (Section 2.2).

    See [`score_gradient`][reference.air.variance.score_gradient].

    Each draw uses ``batch`` guide samples: ``batch`` scenes, or ``batch // K`` scenes times
    ``K`` samples for ``"loo"``. Returns (n_draws, n_guide_params).
    """
    config = params["config"]
    out = []
    for _ in range(n_draws):
        if baseline == "loo":
            x = np.tile(make_scenes(batch // K, rng)[0], (K, 1, 1))
        else:
            x = make_scenes(batch, rng)[0]
        out.append(score_gradient(params, x, draw_noise(rng, len(x), config), baseline, K))
    return np.stack(out)


def total_variance(draws) -> float:
    r"""Total variance of gradient draws: the trace of their covariance (Section 2.2).

    $$
    \operatorname{tr}\operatorname{Cov}[\hat g] = \sum_j \operatorname{Var}[\hat g_j]
    $$
    """
    d = np.asarray(draws)
    if d.ndim != 2 or d.shape[0] < 2:
        raise ValueError("need at least two gradient draws of shape (n_draws, n_params)")
    return float(np.sum(np.var(d, axis=0, ddof=1)))
