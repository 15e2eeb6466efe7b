r"""Variational inference with a mixture posterior, the use Graves (2016) proposes for Eq. (6).

A Gaussian-mixture $q$ is fitted to a normalised target $p$ by stochastic ascent on the
evidence lower bound, with samples from
[`mixture_sample`][reference.mixture_gradients.sampling.mixture_sample], so that autograd
differentiates every parameter of $q$, the mixing weights included, through the implicit
gradient. A second surrogate keeps the reparameterisation gradient for means and scales but
gives the weights a score-function (REINFORCE) gradient, for comparison.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
from autograd import grad
from autograd.misc.optimizers import adam
from autograd.tracer import getval

from ..nn import log_softmax
from .density import mixture_log_pdf
from .sampling import mixture_sample

__all__ = ["TARGET", "target_log_pdf", "elbo", "fit_vi"]

#: The target: an equal mixture of four isotropic Gaussians at the corners of a square.
TARGET = {"logits": np.zeros(4),
          "mu": np.array([[-2.0, -2.0], [-2.0, 2.0], [2.0, -2.0], [2.0, 2.0]]),
          "sigma": np.full((4, 2), 0.6)}


def target_log_pdf(x):
    r"""Normalised log-density of the four-mode target ``TARGET``, a diagonal mixture (Eq. (1)).

    $$
    \log p(\mathbf x) = \log \sum_{k=1}^{4} \tfrac14\,
      \mathcal N\!\left(\mathbf x; \boldsymbol\mu_k, 0.6^2 I\right),
    \qquad \boldsymbol\mu_k \in \{-2, 2\}^2 .
    $$

    Because $p$ is normalised, the ELBO is $-\mathrm{KL}(q \,\|\, p) \le 0$, with optimum 0.

    Parameters
    ----------
    x : ndarray, shape (N, 2)
        Points of the plane at which to evaluate the target.

    Returns
    -------
    ndarray, shape (N,)
        $\log p(\mathbf x_n)$ under the target mixture, in nats.
    """
    return mixture_log_pdf(x, TARGET["logits"], TARGET["mu"], TARGET["sigma"])


def _unpack(params):
    return params["logits"], params["mu"], anp.exp(params["log_sigma"])


def elbo(params, rng: np.random.Generator, n: int = 20_000) -> float:
    r"""Monte Carlo estimate of the evidence lower bound of a mixture $q$ (no gradient).

    The objective that Eq. (6) of Graves (2016) makes differentiable for a mixture $q$,

    $$
    \mathcal L(q) = \mathbb E_{\mathbf x \sim q}\left[\log p(\mathbf x) - \log q(\mathbf x)\right]
    \approx \frac1n \sum_{i=1}^{n} \log p(\hat{\mathbf x}_i) - \log q(\hat{\mathbf x}_i),
    $$

    here only evaluated, with fresh samples from ``rng``.

    Parameters
    ----------
    params : dict
        ``logits`` (K,), ``mu`` (K, 2), ``log_sigma`` (K, 2).
    rng : numpy.random.Generator
        Source of the samples from $q$.
    n : int
        Number of samples.

    Returns
    -------
    float
        The Monte Carlo ELBO estimate, in nats; higher is better, 0 only when $q = p$.
    """
    lg, m, s = (np.asarray(getval(a)) for a in _unpack(params))
    x = mixture_sample(rng, lg, m, s, n)
    return float(np.mean(target_log_pdf(x) - mixture_log_pdf(x, lg, m, s)))


def _surrogate_implicit(params, rng, n):
    """Negative ELBO estimate whose gradient is Graves' implicit gradient for every parameter."""
    lg, m, s = _unpack(params)
    x = mixture_sample(rng, lg, m, s, n)                    # implicit gradient for all params
    return -anp.mean(target_log_pdf(x) - mixture_log_pdf(x, lg, m, s))


def _surrogate_score(params, rng, n):
    """Means and scales by per-component reparameterisation, weights by the score function."""
    lg, m, s = _unpack(params)
    log_pi = log_softmax(lg)
    pi = np.exp(getval(log_pi))
    k = rng.choice(len(pi), size=n, p=pi / pi.sum())
    x = m[k] + s[k] * rng.standard_normal((n, m.shape[1]))
    f = target_log_pdf(x) - mixture_log_pdf(x, lg, m, s)
    fv = getval(f)
    baseline = (fv.sum() - fv) / (n - 1)                     # leave-one-out mean
    return -anp.mean(f + (fv - baseline) * log_pi[k])


#: Fractions of the updates and step-size factors of the three stages of ``fit_vi`` (Adam's
#: moments restart at each stage).
_SCHEDULE = ((0.6, 1.0), (0.25, 1 / 3), (0.15, 1 / 10))


def fit_vi(rng: np.random.Generator, K: int, weights: str = "implicit", steps: int = 1500,
           n: int = 64, step_size: float = 0.03, record_every: int = 50):
    r"""Fit a $K$-component diagonal mixture $q$ to the target by stochastic ELBO ascent.

    Maximises the ELBO of [`elbo`][reference.mixture_gradients.variational.elbo] with Adam,
    the gradient of each step estimated from ``n`` samples. With ``weights="implicit"`` every
    gradient is the implicit one of Eq. (6) of Graves (2016); with ``weights="score"`` the
    weights get the score-function gradient with a leave-one-out baseline $b_i$,

    $$
    \nabla_{a} \mathcal L \approx \frac1n \sum_{i=1}^{n}
      \bigl(\ell(\hat{\mathbf x}_i) - b_i\bigr)\, \nabla_{a} \log \pi_{k_i},
    \qquad \ell = \log p - \log q,\quad
    b_i = \frac{1}{n - 1} \sum_{j \ne i} \ell(\hat{\mathbf x}_j),
    $$

    plus the pathwise term, with means and scales reparameterised within the drawn component.

    Parameters
    ----------
    rng : numpy.random.Generator
        Initialisation (means drawn around the origin with scale 2, unit scales, equal weights)
        and sampling.
    K : int
        Number of components of $q$ ($K = 1$: a single Gaussian).
    weights : {"implicit", "score"}
        Gradient of the mixing weights: ``"implicit"`` differentiates every parameter through
        the sample (Graves' implicit gradient); ``"score"`` uses the score-function estimator
        above for the weights and reparameterises means and scales within the drawn component.
    steps : int
        Number of Adam updates.
    n : int
        Samples from $q$ per update.
    step_size : float
        Adam learning rate. It is divided by 3 after 60% of the updates and by 10 after 85%
        (Adam restarts at each stage), so that the final ELBO reflects the optimum rather than
        the noise of the last steps.
    record_every : int
        An ELBO estimate (2,000 samples, from a generator seeded by ``rng``) is recorded every
        ``record_every`` updates.

    Returns
    -------
    params : dict
        ``logits`` (K,), ``mu`` (K, 2), ``log_sigma`` (K, 2).
    history : dict
        ``step`` and ``elbo`` arrays.
    """
    if weights not in ("implicit", "score"):
        raise ValueError(f"weights must be 'implicit' or 'score', got {weights!r}")
    init = {"logits": np.zeros(K), "mu": rng.normal(size=(K, 2)) * 2.0,
            "log_sigma": np.zeros((K, 2))}
    surrogate = _surrogate_implicit if weights == "implicit" else _surrogate_score
    objective = lambda p, i: surrogate(p, rng, n)
    eval_rng = np.random.default_rng(rng.integers(2**32))
    history = {"step": [], "elbo": []}

    def callback(p, i, g):
        if i % record_every == 0:
            history["step"].append(i)
            history["elbo"].append(elbo(p, eval_rng, 2000))

    params, done = init, 0
    for frac, scale in _SCHEDULE:                # step size divided by 3, then by 10, at the end
        n_iters = int(round(frac * steps))
        offset = done
        params = adam(grad(lambda p, i: objective(p, i + offset)), params,
                      step_size=step_size * scale, num_iters=n_iters,
                      callback=lambda p, i, g: callback(p, i + offset, g))
        done += n_iters
    return params, {k: np.array(v) for k, v in history.items()}
